// SPDX-License-Identifier: MIT
/* wghealth failover IFACE: fast failover for anycast peers, until stopped
 * (wgnl_health_failover_run() every --interval). */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "argparse.h"
#include "err.h"
#include "exitcodes.h"
#include "wghealth.h"
#include "wgkit/wgnl_health.h"

static volatile sig_atomic_t fo_stop;

static void fo_on_signal(int sig)
{
	(void)sig;
	fo_stop = 1;
}

static int64_t fo_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const char fo_usage[] =
	"Usage: wghealth failover IFACE [--interval D] [--stall D] [--holdoff D]\n"
	"                         [--min-tx BYTES] [--quiet]\n"
	"Watch IFACE's peers that have an endpoint every --interval (default\n"
	"200ms); when one's rx stays flat for --stall (default 1.5s) while its tx\n"
	"grows by more than --min-tx bytes (default 100), set the peer again so\n"
	"the next packet starts a fresh handshake (with whichever anycast node\n"
	"holds the address now). At most one kick per peer per --holdoff\n"
	"(default: --stall). Durations take ms, s, m suffixes. Runs until\n"
	"SIGTERM/SIGINT; one line per kick on stdout. See wghealth(8).\n";

/* A duration: a decimal number of seconds ("1.5", "2s"), or with "ms" or
 * "m". 0 < result <= 1 hour. */
static int fo_duration(const char *arg, uint32_t *out)
{
	char *end;
	double d;

	errno = 0;
	d = strtod(arg, &end);
	if (errno || end == arg || d != d)
		return -EINVAL;
	if (!strcmp(end, "ms"))
		d /= 1000;
	else if (!strcmp(end, "m"))
		d *= 60;
	else if (*end && strcmp(end, "s"))
		return -EINVAL;
	if (d < 0.001 || d > 3600)
		return -EINVAL;
	*out = (uint32_t)(d * 1000 + 0.5);
	return 0;
}

static void fo_print(const struct wgnl_health_failover_kick *k, void *arg)
{
	const char *ifname = arg;
	wgnl_key_b64 b64;

	wgnl_key_to_base64(b64, k->public_key);
	if (k->error)
		printf("%s: peer %s: rx flat %.1f s while tx grew %llu bytes: set again failed: "
		       "%s\n",
		       ifname, b64, k->stalled_ms / 1000.0, (unsigned long long)k->tx_grown,
		       strerror(-k->error));
	else
		printf("%s: peer %s: rx flat %.1f s while tx grew %llu bytes: set again for a "
		       "fresh handshake\n",
		       ifname, b64, k->stalled_ms / 1000.0, (unsigned long long)k->tx_grown);
	fflush(stdout);
}

int cmd_failover(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "interval", required_argument, NULL, 'I' },
		{ "stall", required_argument, NULL, 's' },
		{ "holdoff", required_argument, NULL, 'o' },
		{ "min-tx", required_argument, NULL, 't' },
		{ "quiet", no_argument, NULL, 'q' },
		WGK_OPT_HELP,
		WGK_OPT_END,
	};
	struct wgnl_health_failover_settings s;
	struct wgnl_health_failover *f = NULL;
	struct wgnl_ctx *ctx = NULL;
	uint32_t interval_ms = 200, v;
	bool holdoff_set = false, quiet = false;
	const char *ifname;
	struct sigaction sa;
	int c, r, rc = WGK_EXIT_OK, last_err = 0;

	wgnl_health_failover_settings_default(&s);
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'I':
		case 's':
		case 'o':
			if (fo_duration(optarg, &v) < 0 || !v) {
				wgk_error("failover: invalid duration '%s'", wgk_q(optarg));
				return WGK_EXIT_USAGE;
			}
			if (c == 'I')
				interval_ms = v;
			else if (c == 's')
				s.stall_ms = v;
			else
				s.holdoff_ms = v, holdoff_set = true;
			break;
		case 't':
			if (wgk_parse_u32(optarg, 0, UINT32_MAX, &v) < 0) {
				wgk_error("failover: invalid --min-tx '%s'", wgk_q(optarg));
				return WGK_EXIT_USAGE;
			}
			s.min_tx_bytes = v;
			break;
		case 'q':
			quiet = true;
			break;
		case 'h':
			fputs(fo_usage, stdout);
			return WGK_EXIT_OK;
		default:
			fputs(fo_usage, stderr);
			return WGK_EXIT_USAGE;
		}
	}
	if (optind + 1 != argc || strlen(argv[optind]) >= WGNL_IFNAMSIZ || !argv[optind][0]) {
		fputs(fo_usage, stderr);
		return WGK_EXIT_USAGE;
	}
	ifname = argv[optind];
	if (!holdoff_set)
		s.holdoff_ms = s.stall_ms;
	if (sodium_init() < 0 || wgnl_ctx_open(&ctx) < 0 || wgnl_health_failover_new(&s, &f) < 0) {
		wgk_error("failover: cannot initialise");
		wgnl_ctx_close(ctx);
		return WGK_EXIT_SYSTEM;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = fo_on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	wgk_note(
		"failover: watching %s every %u ms (stall %u ms, holdoff %u ms, min tx %llu bytes)",
		ifname, interval_ms, s.stall_ms, s.holdoff_ms, (unsigned long long)s.min_tx_bytes);
	while (!fo_stop) {
		int64_t until = fo_mono_ms() + interval_ms;

		r = wgnl_health_failover_run(ctx, f, ifname, fo_mono_ms(), quiet ? NULL : fo_print,
					     (void *)ifname);
		/* A missing interface is waited for (wg-quick may be bringing it
		 * up), reported once per change of error. */
		if (r < 0 && r != last_err)
			wgk_warn("failover: cannot read '%s': %s", wgk_q(ifname), strerror(-r));
		last_err = r < 0 ? r : 0;
		while (!fo_stop && fo_mono_ms() < until) {
			int64_t left = until - fo_mono_ms();
			struct timespec ts = { .tv_sec = 0,
					       .tv_nsec = (left > 100 ? 100 : left) * 1000000 };

			nanosleep(&ts, NULL);
		}
	}
	wgnl_health_failover_free(f);
	wgnl_ctx_close(ctx);
	return rc;
}
