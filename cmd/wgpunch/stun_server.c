// SPDX-License-Identifier: MIT
/* wgpunch stun-server: run the io_uring STUN server until SIGINT/SIGTERM or
 * --duration, then print its counters. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "argparse.h"
#include "err.h"
#include "exitcodes.h"
#include "json.h"
#include "wgkit/wgnl_stun.h"
#include "wgpunch.h"

/* --duration's bound: a year, in seconds. */
#define MAX_DURATION (86400U * 365)

static struct wgnl_stun_server *running;
static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
	(void)sig;
	stopping = 1;
	if (running)
		wgnl_stun_server_stop(running);
}

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Serve for @duration seconds (0: until a signal). The milliseconds are
 * computed in 64 bits and handed to the library in slices that fit its
 * int, so a long duration neither wraps to "forever" nor to a short run. */
static int serve(struct wgnl_stun_server *srv, uint32_t duration)
{
	if (!duration)
		return wgnl_stun_server_run(srv, -1);
	uint64_t end = now_ms() + (uint64_t)duration * 1000;
	int r = 0;
	while (!stopping && r >= 0) {
		uint64_t now = now_ms();
		if (now >= end)
			break;
		uint64_t left = end - now;
		r = wgnl_stun_server_run(srv, left > INT_MAX ? INT_MAX : (int)left);
	}
	return r;
}

static void help(FILE *f)
{
	fprintf(f,
		"Usage: wgpunch stun-server [--listen ADDR[:PORT]] [--alt-address ADDR --alt-port PORT]\n"
		"         [--software TEXT] [--rate N [--burst N]] [--duration SEC] [--user NAME]\n"
		"         [--json]\n"
		"Answer STUN Binding requests. --listen defaults to 0.0.0.0:3478; with\n"
		"--alt-address and --alt-port (and a specific --listen address) the server\n"
		"supports RFC 5780 (OTHER-ADDRESS, CHANGE-REQUEST, RESPONSE-ORIGIN).\n"
		"--rate limits each source (IPv4 address, IPv6 /64) to N requests per second\n"
		"(default %u, burst --burst, default N) and each IPv4 /24 and IPv6 /48 to %u\n"
		"times that; --rate 0 turns the limit off (benchmarks only). --user drops\n"
		"privileges after binding. Counters go to stdout at exit.\n",
		WGNL_STUN_RATE_DEFAULT, WGNL_STUN_RATE_PREFIX_FACTOR);
}

static void print_stats(const struct wgnl_stun_server_stats *st, bool json)
{
	if (json) {
		struct wgk_json j;
		wgk_json_init(&j, stdout, false);
		wgk_json_object_begin(&j);
		wgk_json_kv_uint(&j, "rx", st->rx);
		wgk_json_kv_uint(&j, "answered", st->answered);
		wgk_json_kv_uint(&j, "errors_sent", st->errors_sent);
		wgk_json_kv_uint(&j, "drop_not_stun", st->drop_not_stun);
		wgk_json_kv_uint(&j, "drop_size", st->drop_size);
		wgk_json_kv_uint(&j, "drop_malformed", st->drop_malformed);
		wgk_json_kv_uint(&j, "drop_class", st->drop_class);
		wgk_json_kv_uint(&j, "drop_ratelimit", st->drop_ratelimit);
		wgk_json_kv_uint(&j, "drop_nospace", st->drop_nospace);
		wgk_json_kv_uint(&j, "send_errors", st->send_errors);
		wgk_json_kv_uint(&j, "submits", st->submits);
		wgk_json_object_end(&j);
		wgk_json_finish(&j);
	} else {
		printf("stun-server: rx=%llu answered=%llu errors_sent=%llu drop_not_stun=%llu "
		       "drop_size=%llu drop_malformed=%llu drop_class=%llu drop_ratelimit=%llu "
		       "drop_nospace=%llu send_errors=%llu submits=%llu\n",
		       (unsigned long long)st->rx, (unsigned long long)st->answered,
		       (unsigned long long)st->errors_sent, (unsigned long long)st->drop_not_stun,
		       (unsigned long long)st->drop_size, (unsigned long long)st->drop_malformed,
		       (unsigned long long)st->drop_class, (unsigned long long)st->drop_ratelimit,
		       (unsigned long long)st->drop_nospace, (unsigned long long)st->send_errors,
		       (unsigned long long)st->submits);
	}
	fflush(stdout);
}

static int drop_privileges(const char *user)
{
	struct passwd *pw = getpwnam(user);
	if (!pw)
		return -ENOENT;
	if (setgroups(0, NULL) < 0 || setgid(pw->pw_gid) < 0 || setuid(pw->pw_uid) < 0)
		return -errno;
	return 0;
}

/* What the command line asked for. */
struct server_args {
	struct wgnl_stun_server_config cfg;
	const char *user;
	uint32_t duration;
	bool json;
};

/* Returns -1 to go on, or the exit code to leave with. */
static int parse_args(int argc, char **argv, struct server_args *a)
{
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "alt-address", required_argument, NULL, 'a' },
		{ "alt-port", required_argument, NULL, 'p' },
		{ "software", required_argument, NULL, 's' },
		{ "rate", required_argument, NULL, 'r' },
		{ "burst", required_argument, NULL, 'b' },
		{ "duration", required_argument, NULL, 'd' },
		{ "user", required_argument, NULL, 'u' },
		WGK_OPT_JSON,
		WGK_OPT_HELP,
		WGK_OPT_END,
	};
	struct wgnl_stun_server_config *cfg = &a->cfg;
	uint32_t v;
	int c;

	memset(a, 0, sizeof(*a));
	cfg->size = sizeof(*cfg);
	wgpunch_parse_ep(&cfg->addr, "0.0.0.0", WGNL_STUN_PORT);
	cfg->software = "wgkit " WGKIT_VERSION;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'l':
			if (wgpunch_parse_ep(&cfg->addr, optarg, WGNL_STUN_PORT) < 0) {
				wgk_error("invalid listen address '%s'", wgk_q(optarg));
				return WGK_EXIT_USAGE;
			}
			break;
		case 'a':
			if (wgpunch_parse_ep(&cfg->alt_addr, optarg, 0) < 0) {
				wgk_error("invalid alternate address '%s'", wgk_q(optarg));
				return WGK_EXIT_USAGE;
			}
			break;
		case 'p':
			if (wgk_parse_u32(optarg, 1, 65535, &v) < 0) {
				wgk_error("invalid alternate port '%s'", wgk_q(optarg));
				return WGK_EXIT_USAGE;
			}
			cfg->alt_port = (uint16_t)v;
			break;
		case 's':
			cfg->software = *optarg ? optarg : NULL;
			break;
		case 'r':
		case 'b':
			/* Bounded so the per-prefix buckets (factor 10) and
			 * their milli-tokens stay far from overflow. */
			if (wgk_parse_u32(optarg, c == 'r' ? 0 : 1, 1000000, &v) < 0) {
				wgk_error("invalid %s '%s'", c == 'r' ? "rate" : "burst",
					  wgk_q(optarg));
				return WGK_EXIT_USAGE;
			}
			if (c == 'r')
				cfg->rate_limit = v ? v : WGNL_STUN_RATE_UNLIMITED;
			else
				cfg->rate_burst = v;
			break;
		case 'd':
			if (wgk_parse_u32(optarg, 1, MAX_DURATION, &a->duration) < 0) {
				wgk_error("invalid duration '%s'", wgk_q(optarg));
				return WGK_EXIT_USAGE;
			}
			break;
		case 'u':
			a->user = optarg;
			break;
		case 'j':
			a->json = true;
			break;
		case 'h':
			help(stdout);
			return WGK_EXIT_OK;
		default:
			help(stderr);
			return WGK_EXIT_USAGE;
		}
	}
	if (optind != argc) {
		wgk_error("unexpected argument '%s'", wgk_q(argv[optind]));
		return WGK_EXIT_USAGE;
	}
	return -1;
}

/* The note on stderr naming the address (with the port actually bound)
 * and the RFC 5780 alternate. */
static void announce(const struct wgnl_stun_server *srv, const struct wgnl_stun_server_config *cfg)
{
	char b1[64], b2[64];
	union wgnl_endpoint shown = cfg->addr, alt = cfg->alt_addr;

	if (shown.addr.sa_family == AF_INET6)
		shown.addr6.sin6_port = htons(wgnl_stun_server_port(srv));
	else
		shown.addr4.sin_port = htons(wgnl_stun_server_port(srv));
	if (alt.addr.sa_family == AF_INET6)
		alt.addr6.sin6_port = htons(cfg->alt_port);
	else
		alt.addr4.sin_port = htons(cfg->alt_port);
	if (cfg->alt_port)
		wgk_note("STUN server on %s, RFC 5780 alternate %s",
			 wgnl_endpoint_format(&shown, b1, sizeof(b1)),
			 wgnl_endpoint_format(&alt, b2, sizeof(b2)));
	else
		wgk_note("STUN server on %s", wgnl_endpoint_format(&shown, b1, sizeof(b1)));
}

int cmd_stun_server(int argc, char **argv)
{
	struct server_args a;
	struct wgnl_stun_server *srv = NULL;
	struct wgnl_stun_server_stats st;
	struct sigaction sa;
	char b1[64];
	int r;

	if ((r = parse_args(argc, argv, &a)) >= 0)
		return r;
	r = wgnl_stun_server_new(&a.cfg, &srv);
	if (r < 0) {
		wgk_error("cannot start STUN server on %s: %s",
			  wgnl_endpoint_format(&a.cfg.addr, b1, sizeof(b1)), strerror(-r));
		return r == -EINVAL ? WGK_EXIT_USAGE : wgk_exit_for_errno(r);
	}
	if (a.user && (r = drop_privileges(a.user)) < 0) {
		wgk_error("cannot drop privileges to user '%s': %s", wgk_q(a.user), strerror(-r));
		wgnl_stun_server_free(srv);
		return WGK_EXIT_SYSTEM;
	}
	running = srv;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	announce(srv, &a.cfg);
	r = serve(srv, a.duration);
	running = NULL;
	wgnl_stun_server_get_stats(srv, &st);
	print_stats(&st, a.json);
	wgnl_stun_server_free(srv);
	if (r < 0) {
		wgk_error("STUN server failed: %s", strerror(-r));
		return WGK_EXIT_SYSTEM;
	}
	return WGK_EXIT_OK;
}
