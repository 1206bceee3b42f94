// SPDX-License-Identifier: MIT
/* wghealth check / daemon: observe a tunnel (link, peers, ping through it,
 * the underlay URL), let the library judge it and decide, act (remedies,
 * underlay down/up), record the story in the history, save the state, and
 * report (text, --json, Prometheus textfile, monitoring-plugin exit code). */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifndef _WIN32
#include <sys/wait.h>
#endif
#include <time.h>
#include "core/compat.h"
#include <sodium.h>

#include "err.h"
#include "exitcodes.h"
#include "json.h"
#include "quick.h"
#include "wghealth.h"
#include "wgkit/wgnl_health.h"
#include "wgkit/wgnl_prom.h"

/* The check's own "could not check" exit code (monitoring-plugin UNKNOWN). */
#define EXIT_UNKNOWN 3

struct kv {
	const char *key, *value;
};

struct opts {
	const char *conf;
	bool conf_given;
	const char *state_dir;
	const char *db;
	const char *textfile;
	bool textfile_peers;
	bool json;
	bool dry_run; /* --read-only / --dry-run */
	uint32_t lock_wait_ms;
	uint32_t interval_ms;
	struct kv set[64];
	size_t n_set;
};

static volatile sig_atomic_t stop_flag;

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---------------------------------------------------------- options */

static void help(FILE *f, const char *cmd)
{
	fprintf(f,
		"Usage: wghealth %s %s [--json] [--read-only] [--config FILE] [--state-dir DIR]\n"
		"         [--db PATH] [--textfile PATH [--textfile-peers]]\n"
		"         [--lock-wait D]\n"
		"         [--set KEY=VALUE]... [--handshake-timeout D] [--disconnect-after N]\n"
		"         [--reconnect-timeout D] [--max-retries N] [--retry-interval D]\n"
		"         [--backoff-max D] [--jitter PCT] [--cooldown D] [--ping ADDR]\n"
		"         [--ping-count N] [--ping-timeout D] [--url URL] [--url-timeout D]\n"
		"         [--wg-config FILE] [--restart-command CMD] [--down-command CMD]\n"
		"         [--up-command CMD] [--no-remedies]%s\n"
		"\n"
		"This REPAIRS by default: a disconnected tunnel gets remedies (endpoints set\n"
		"again, link up, a new port for a client, restart), and the state and history\n"
		"are written. For monitoring (Nagios, Icinga) use --read-only (same as\n"
		"--dry-run): judge and report only, no remedies, no lock, nothing written.\n"
		"--no-remedies records state and history but never acts. An interface with\n"
		"STATE_DIR/IF.maintenance is left alone.\n"
		"A run that finds another holding the interface's lock waits up to --lock-wait\n"
		"(default 5 s), then exits 3.\n"
		"Durations D: 10, 10s, 500ms, 5m, 1h. Settings also come from %s\n"
		"([defaults] and [IF] sections); flags win. Exit: 0 healthy or idle,\n"
		"1 degraded, 2 disconnected, 3 unknown (could not check). See wghealth(8).\n",
		cmd, !strcmp(cmd, "daemon") ? "[IF...]" : "IF",
		!strcmp(cmd, "daemon") ? " [--interval D]" : "", WH_CONF);
}

static const struct option long_opts[] = {
	{ "json", no_argument, NULL, 'j' },
	{ "dry-run", no_argument, NULL, 'n' },
	{ "read-only", no_argument, NULL, 'n' },
	{ "lock-wait", required_argument, NULL, 'L' },
	{ "config", required_argument, NULL, 'c' },
	{ "state-dir", required_argument, NULL, 'S' },
	{ "db", required_argument, NULL, 'D' },
	{ "textfile", required_argument, NULL, 'T' },
	{ "textfile-peers", no_argument, NULL, 'P' },
	{ "wgctl", required_argument, NULL, 'W' },
	{ "interval", required_argument, NULL, 'I' },
	{ "set", required_argument, NULL, 's' },
	{ "no-remedies", no_argument, NULL, 'R' },
	{ "help", no_argument, NULL, 'h' },
	/* Settings by name: the value goes to wgnl_health_settings_set(). */
	{ "handshake-timeout", required_argument, NULL, 0 },
	{ "disconnect-after", required_argument, NULL, 0 },
	{ "reconnect-timeout", required_argument, NULL, 0 },
	{ "max-retries", required_argument, NULL, 0 },
	{ "retry-interval", required_argument, NULL, 0 },
	{ "backoff-max", required_argument, NULL, 0 },
	{ "jitter", required_argument, NULL, 0 },
	{ "cooldown", required_argument, NULL, 0 },
	{ "ping", required_argument, NULL, 0 },
	{ "ping-count", required_argument, NULL, 0 },
	{ "ping-timeout", required_argument, NULL, 0 },
	{ "ping-max-loss", required_argument, NULL, 0 },
	{ "url", required_argument, NULL, 0 },
	{ "url-timeout", required_argument, NULL, 0 },
	{ "wg-config", required_argument, NULL, 0 },
	{ "restart-command", required_argument, NULL, 0 },
	{ "down-command", required_argument, NULL, 0 },
	{ "up-command", required_argument, NULL, 0 },
	{ "port-range", required_argument, NULL, 0 },
	{ NULL, 0, NULL, 0 },
};

/* "handshake-timeout" -> "handshake_timeout" in a static pool. */
static const char *flag_key(const char *name)
{
	static char pool[64][32];
	static size_t used;
	char *k = pool[used++ % 64];

	snprintf(k, 32, "%s", name);
	for (char *p = k; *p; p++)
		if (*p == '-')
			*p = '_';
	return k;
}

/* Parse options; returns -1 to go on, else an exit code. */
static int parse_opts(const char *cmd, int argc, char **argv, struct opts *o, int usage_exit)
{
	int c, idx;

	memset(o, 0, sizeof(*o));
	o->conf = WH_CONF;
	o->state_dir = WH_STATE_DIR;
	o->interval_ms = 15000;
	o->lock_wait_ms = 5000;
	optind = 1;
	while ((c = getopt_long(argc, argv, "hjn", long_opts, &idx)) != -1) {
		const char *key = NULL;
		switch (c) {
		case 0:
			key = flag_key(long_opts[idx].name);
			break;
		case 'j':
			o->json = true;
			break;
		case 'n':
			o->dry_run = true;
			break;
		case 'c':
			o->conf = optarg;
			o->conf_given = true;
			break;
		case 'S':
			o->state_dir = optarg;
			break;
		case 'D':
			o->db = optarg;
			break;
		case 'T':
			o->textfile = optarg;
			break;
		case 'P':
			o->textfile_peers = true;
			break;
		case 'W':
			/* --wgctl PATH: the restart runs in-process now;
			 * accepted and ignored, so old units still start. */
			break;
		case 'R':
			key = "remedies";
			optarg = (char *)"no";
			break;
		case 'L': {
			struct wgnl_health_settings tmp;
			wgnl_health_settings_default(&tmp);
			/* "0" is allowed: do not wait. */
			if (strcmp(optarg, "0") &&
			    wgnl_health_settings_set(&tmp, "retry_interval", optarg) < 0) {
				wgk_error("%s: invalid --lock-wait '%s'", cmd, wgk_q(optarg));
				return usage_exit;
			}
			o->lock_wait_ms = strcmp(optarg, "0") ? tmp.retry_interval_ms : 0;
			break;
		}
		case 'I': {
			struct wgnl_health_settings tmp;
			wgnl_health_settings_default(&tmp);
			if (wgnl_health_settings_set(&tmp, "retry_interval", optarg) < 0) {
				wgk_error("%s: invalid --interval '%s'", cmd, wgk_q(optarg));
				return usage_exit;
			}
			o->interval_ms = tmp.retry_interval_ms;
			break;
		}
		case 's': {
			char *eq = strchr(optarg, '=');
			if (!eq) {
				wgk_error("%s: --set wants KEY=VALUE, not '%s'", cmd,
					  wgk_q(optarg));
				return usage_exit;
			}
			*eq = 0;
			key = optarg;
			optarg = eq + 1;
			break;
		}
		case 'h':
			help(stdout, cmd);
			return WGK_EXIT_OK;
		default:
			help(stderr, cmd);
			return usage_exit;
		}
		if (key) {
			struct wgnl_health_settings tmp;
			wgnl_health_settings_default(&tmp);
			int r = wgnl_health_settings_set(&tmp, key, optarg);
			if (r < 0) {
				wgk_error("%s: %s setting '%s' = '%s'", cmd,
					  r == -ENOENT ? "unknown" : "invalid", wgk_q(key),
					  wgk_q(optarg));
				return usage_exit;
			}
			if (o->n_set == sizeof(o->set) / sizeof(o->set[0])) {
				wgk_error("%s: too many settings on the command line", cmd);
				return usage_exit;
			}
			o->set[o->n_set++] = (struct kv){ key, optarg };
		}
	}
	return -1;
}

/* Settings for @ifname: defaults, the config file, the flags. Returns 0 or
 * prints why and returns -1. */
static int load_settings(const struct opts *o, const char *ifname, struct wgnl_health_settings *s)
{
	struct wgnl_config_error e;
	int r;

	wgnl_health_settings_default(s);
	memset(&e, 0, sizeof(e));
	r = wgnl_health_conf_parse_file(o->conf, ifname, s, &e);
	if (r == -ENOENT && !o->conf_given) {
		r = 0; /* no /etc/wgkit/wghealth.conf: defaults and flags */
	} else if (r < 0) {
		if (e.line)
			wgk_error("%s:%u: %s%s%s", wgk_q(e.file), e.line,
				  e.key[0] ? wgk_q(e.key) : "", e.key[0] ? ": " : "", e.message);
		else
			wgk_error("cannot read '%s': %s", wgk_q(o->conf), strerror(-r));
		return -1;
	}
	for (size_t i = 0; i < o->n_set; i++)
		wgnl_health_settings_set(s, o->set[i].key,
					 o->set[i].value); /* checked in parse_opts */
	return 0;
}

static bool valid_ifname(const char *n)
{
	size_t len = strlen(n);

	return len > 0 && len < WGNL_IFNAMSIZ && !strpbrk(n, "/ \t\n:") && strcmp(n, ".") &&
	       strcmp(n, "..");
}

/* ---------------------------------------------------------- acting */

/* Run "sh -c CMD"; its stdout goes to our stderr so --json output stays
 * clean. True on exit 0. */
static bool run(const char *cmd)
{
#ifdef _WIN32
	/* No sh on Windows: a command remedy fails (docs/windows.md). */
	return false;
#else
	pid_t pid;
	int status;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0)
		return false;
	if (pid == 0) {
		dup2(2, 1);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return false;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
#endif
}

/* What a check step calls back into (struct wgnl_health_step_opts.arg). */
struct step_arg {
	const struct opts *o;
	struct wh_history *h;
};

/* The step's command callback: restart_command, down_command, up_command. */
static int run_command(const char *cmd, void *arg)
{
	(void)arg;
	return run(cmd) ? 0 : -1;
}

/* The step's restart callback: what `wgctl down|up CONF` does, in-process
 * (quick_run_down/up(), cmd/common/quickrun.c): wgctl's interface lock
 * (/run/wgkit/IF.lock, not our health lock; released before the return, and
 * the hooks see $WGCTL_LOCK_HELD, so a PostUp that runs `wgctl set %i` does
 * not wait for it), the hooks, DNS, wireguard-go where the kernel has no
 * WireGuard, and the records. Their lines go to stderr as wgctl's did: the
 * hooks' stdout too (fd 1 points at stderr meanwhile), so that --json stays
 * clean. The interface is the file's (as wgctl's), not @ifname. */
static int restart_quick(struct wgnl_ctx *ctx, const char *ifname, const char *conf, bool up,
			 void *arg)
{
	struct quick_target t;
	int rc, out;

	(void)ctx;
	(void)ifname;
	(void)arg;
	fflush(stdout);
	fflush(stderr);
	/* Close-on-exec: a wireguard-go started meanwhile must not keep our
	 * stdout (a caller's pipe) open. */
#ifdef _WIN32
	out = dup(STDOUT_FILENO); /* nothing is exec'd on Windows */
#else
	out = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 0);
#endif
	if (out < 0 || dup2(STDERR_FILENO, STDOUT_FILENO) < 0) {
		if (out >= 0)
			close(out);
		return -1;
	}
	if (up) {
		rc = quick_target("up", conf, &t);
		if (!rc)
			rc = quick_run_up(&t, false, NULL, WGK_IF_LOCK_WAIT);
	} else {
		rc = quick_down_target("down", conf, &t);
		if (!rc)
			rc = quick_run_down(&t, WGK_IF_LOCK_WAIT, stderr);
	}
	fflush(stdout);
	dup2(out, STDOUT_FILENO);
	close(out);
	return rc ? -1 : 0;
}

/* ---------------------------------------------------------- reporting */

static void record_history(struct wh_history *h, const struct wgnl_health_check *c)
{
	char reasons[512];
	const char *verdict = wgnl_health_verdict_name(c->res.verdict);
	struct wh_event e = { .ts_ms = c->now_ms, .ifname = c->ifname, .verdict = verdict };

	wgnl_health_reasons_format(c->res.reasons, reasons, sizeof(reasons));
	e.reason = reasons;
	if (c->d.changed || c->d.recovered) {
		char detail[128];
		snprintf(detail, sizeof(detail), "from %s",
			 wgnl_health_verdict_name(c->d.prev_verdict));
		e.kind = c->d.recovered && (c->res.verdict == WGNL_HEALTH_HEALTHY ||
					    c->res.verdict == WGNL_HEALTH_IDLE) ?
				 "recovered" :
				 "transition";
		e.detail = detail;
		wh_history_add(h, &e);
	}
	/* Per peer: each verdict change (a peer seen for the first time only
	 * when it is not fine), so a flapping roaming client is on record
	 * without the tunnel changing. */
	for (size_t i = 0; i < c->res.n_peers; i++) {
		const struct wgnl_health_peer_result *p = &c->res.peers[i];
		char detail[128], pr[256];
		wgnl_key_b64 k;
		bool fine = p->verdict == WGNL_HEALTH_HEALTHY || p->verdict == WGNL_HEALTH_IDLE;

		if (p->verdict == p->prev_verdict ||
		    (p->prev_verdict == WGNL_HEALTH_UNKNOWN && fine))
			continue;
		wgnl_key_to_base64(k, p->public_key);
		wgnl_health_reasons_format(p->reasons, pr, sizeof(pr));
		snprintf(detail, sizeof(detail), "peer %s from %s", k,
			 wgnl_health_verdict_name(p->prev_verdict));
		struct wh_event pe = { .ts_ms = c->now_ms,
				       .ifname = c->ifname,
				       .kind = "peer",
				       .verdict = wgnl_health_verdict_name(p->verdict),
				       .reason = pr,
				       .detail = detail };
		wh_history_add(h, &pe);
	}
	for (size_t i = 0; i < c->n_rem; i++) {
		char detail[300], rr[sizeof(reasons) + WGNL_HEALTH_ERROR_LEN + 1];
		snprintf(detail, sizeof(detail), "attempt %u: %s", c->d.attempt, c->rem[i].detail);
		/* The remedy's failure code (the tunnel service's) joins the
		 * check's reasons. */
		snprintf(rr, sizeof(rr), "%s%s%s", reasons,
			 reasons[0] && c->rem[i].error[0] ? "," : "", c->rem[i].error);
		e.reason = rr;
		e.kind = "remedy";
		e.action = c->rem[i].name;
		e.result = c->rem[i].skipped ? "skipped" : c->rem[i].ok ? "ok" : "failed";
		e.detail = detail;
		wh_history_add(h, &e);
	}
	if (c->d.entered_cooldown) {
		char detail[128];
		snprintf(detail, sizeof(detail), "%u remedies spent; next try in %u s",
			 c->s.max_retries, c->s.cooldown_ms / 1000);
		e.kind = "cooldown";
		e.reason = reasons;
		e.action = "";
		e.result = "";
		e.detail = detail;
		wh_history_add(h, &e);
	}
}

static const char *action_name(enum wgnl_health_action a)
{
	switch (a) {
	case WGNL_HEALTH_ACT_REMEDY:
		return "remedy";
	case WGNL_HEALTH_ACT_WAIT:
		return "wait";
	case WGNL_HEALTH_ACT_COOLDOWN:
		return "cooldown";
	default:
		return "none";
	}
}

static void json_reasons(struct wgk_json *j, const char *key, uint32_t mask)
{
	wgk_json_key(j, key);
	wgk_json_array_begin(j);
	for (unsigned i = 0; i < WGNL_HEALTH_N_REASONS; i++)
		if (mask & (1U << i))
			wgk_json_string(j, wgnl_health_reason_name(1U << i));
	wgk_json_array_end(j);
}

static void print_json(struct wgk_json *j, const struct wgnl_health_check *c)
{
	wgk_json_object_begin(j);
	wgk_json_kv_string(j, "interface", c->ifname);
	if (c->maintenance) {
		wgk_json_kv_string(j, "verdict", "maintenance");
		wgk_json_kv_uint(j, "exit", 0);
		wgk_json_kv_string(j, "maintenance_file", c->maint_path);
		wgk_json_object_end(j);
		return;
	}
	enum wgnl_health_verdict v = c->unknown ? WGNL_HEALTH_UNKNOWN : c->res.verdict;
	wgk_json_kv_string(j, "verdict", wgnl_health_verdict_name(v));
	wgk_json_kv_uint(j, "exit", (uint64_t)wgnl_health_verdict_exit(v));
	if (c->unknown) {
		wgk_json_kv_string(j, "error", c->unknown_why);
		wgk_json_object_end(j);
		return;
	}
	json_reasons(j, "reasons", c->res.reasons);
	wgk_json_key(j, "checked_at_ms");
	wgk_json_int(j, c->now_ms);
	wgk_json_kv_bool(j, "present", c->obs.present);
	wgk_json_kv_bool(j, "up", c->obs.up);
	wgk_json_key(j, "underlay");
	if (c->obs.underlay < 0)
		wgk_json_null(j);
	else
		wgk_json_string(j, c->obs.underlay ? "up" : "down");
	if (c->underlay_why[0])
		wgk_json_kv_string(j, "underlay_error", c->underlay_why);
	wgk_json_key(j, "ping");
	if (!c->obs.ping_sent) {
		wgk_json_null(j);
	} else {
		wgk_json_object_begin(j);
		wgk_json_kv_string(j, "address", c->s.ping);
		wgk_json_kv_uint(j, "sent", c->obs.ping_sent);
		wgk_json_kv_uint(j, "received", c->obs.ping_received);
		wgk_json_kv_uint(j, "rtt_us", c->obs.ping_rtt_ns / 1000);
		wgk_json_object_end(j);
	}
	wgk_json_kv_uint(j, "peers_healthy", c->res.n_healthy);
	wgk_json_kv_uint(j, "peers_unhealthy", c->res.n_unhealthy);
	wgk_json_kv_uint(j, "peers_idle", c->res.n_idle);
	wgk_json_key(j, "peers");
	wgk_json_array_begin(j);
	for (size_t i = 0; i < c->res.n_peers; i++) {
		const struct wgnl_health_peer_result *p = &c->res.peers[i];
		wgnl_key_b64 k;
		wgnl_key_to_base64(k, p->public_key);
		wgk_json_object_begin(j);
		wgk_json_kv_string(j, "public_key", k);
		wgk_json_kv_string(j, "verdict", wgnl_health_verdict_name(p->verdict));
		json_reasons(j, "reasons", p->reasons);
		wgk_json_kv_bool(j, "critical", p->critical);
		wgk_json_kv_string(j, "action", action_name((enum wgnl_health_action)p->action));
		wgk_json_kv_uint(j, "attempt", p->attempt);
		wgk_json_key(j, "handshake_age_s");
		if (p->handshake_age_ms < 0)
			wgk_json_null(j);
		else
			wgk_json_uint(j, (uint64_t)p->handshake_age_ms / 1000);
		wgk_json_key(j, "rx_delta");
		if (p->have_delta)
			wgk_json_uint(j, p->rx_delta);
		else
			wgk_json_null(j);
		wgk_json_key(j, "tx_delta");
		if (p->have_delta)
			wgk_json_uint(j, p->tx_delta);
		else
			wgk_json_null(j);
		wgk_json_object_end(j);
	}
	wgk_json_array_end(j);
	wgk_json_key(j, "policy");
	wgk_json_object_begin(j);
	wgk_json_kv_string(j, "action", action_name(c->d.action));
	wgk_json_kv_uint(j, "consecutive_bad", c->st.consecutive_bad);
	wgk_json_kv_uint(j, "attempt", c->st.attempt);
	wgk_json_kv_uint(j, "max_retries", c->s.max_retries);
	wgk_json_key(j, "next_attempt_ms");
	wgk_json_int(j, c->st.next_attempt_ms);
	wgk_json_key(j, "cooldown_until_ms");
	wgk_json_int(j, c->st.cooldown_until_ms);
	wgk_json_kv_bool(j, "entered_cooldown", c->d.entered_cooldown);
	wgk_json_kv_bool(j, "recovered", c->d.recovered);
	wgk_json_kv_bool(j, "underlay_down", c->st.underlay_down);
	wgk_json_kv_uint(j, "remedies_total", c->st.remedies_total);
	wgk_json_object_end(j);
	wgk_json_key(j, "remedies");
	wgk_json_array_begin(j);
	for (size_t i = 0; i < c->n_rem; i++) {
		wgk_json_object_begin(j);
		wgk_json_kv_string(j, "remedy", c->rem[i].name);
		wgk_json_kv_uint(j, "attempt", c->d.attempt);
		wgk_json_kv_string(j, "result",
				   c->rem[i].skipped ? "skipped" :
				   c->rem[i].ok	     ? "ok" :
						       "failed");
		wgk_json_kv_string(j, "detail", c->rem[i].detail);
		if (c->rem[i].error[0])
			wgk_json_kv_string(j, "error", c->rem[i].error);
		wgk_json_object_end(j);
	}
	wgk_json_array_end(j);
	wgk_json_kv_bool(j, "state_replaced", c->state_corrupt);
	wgk_json_object_end(j);
}

static void print_text(const struct wgnl_health_check *c)
{
	char reasons[512];

	if (c->maintenance) {
		printf("%s: maintenance (%s exists: not checked, not repaired)\n", c->ifname,
		       c->maint_path);
		return;
	}
	if (c->unknown) {
		printf("%s: unknown (%s)\n", c->ifname, c->unknown_why);
		return;
	}
	wgnl_health_reasons_format(c->res.reasons, reasons, sizeof(reasons));
	printf("%s: %s%s%s%s", c->ifname, wgnl_health_verdict_name(c->res.verdict),
	       reasons[0] ? " (" : "", reasons, reasons[0] ? ")" : "");
	if (c->obs.ping_sent)
		printf(", ping %u/%u", c->obs.ping_received, c->obs.ping_sent);
	if (c->obs.underlay >= 0)
		printf(", underlay %s", c->obs.underlay ? "up" : "down");
	/* Monitoring-plugin performance data: everything after the first '|'
	 * of the first line. */
	printf(" |");
	if (c->res.newest_handshake_ms)
		printf(" handshake_age=%.0fs",
		       (double)(c->now_ms - c->res.newest_handshake_ms) / 1000);
	printf(" peers_healthy=%zu peers_unhealthy=%zu peers_idle=%zu", c->res.n_healthy,
	       c->res.n_unhealthy, c->res.n_idle);
	if (c->obs.ping_sent)
		printf(" ping_loss=%.0f%%",
		       100.0 * (c->obs.ping_sent - c->obs.ping_received) / c->obs.ping_sent);
	if (c->obs.ping_received)
		printf(" rtt=%.3fms", (double)c->obs.ping_rtt_ns / 1e6);
	printf("\n");
	for (size_t i = 0; i < c->res.n_peers; i++) {
		const struct wgnl_health_peer_result *p = &c->res.peers[i];
		wgnl_key_b64 k;
		char age[32];
		wgnl_key_to_base64(k, p->public_key);
		wgnl_health_reasons_format(p->reasons, reasons, sizeof(reasons));
		if (p->handshake_age_ms < 0)
			snprintf(age, sizeof(age), "never");
		else
			snprintf(age, sizeof(age), "%" PRId64 " s ago", p->handshake_age_ms / 1000);
		printf("  peer %s: %s%s%s%s, handshake %s", k, wgnl_health_verdict_name(p->verdict),
		       reasons[0] ? " (" : "", reasons, reasons[0] ? ")" : "", age);
		if (p->have_delta)
			printf(", rx +%" PRIu64 " B, tx +%" PRIu64 " B", p->rx_delta, p->tx_delta);
		printf("\n");
	}
	for (size_t i = 0; i < c->n_rem; i++)
		printf("  remedy %s (attempt %u/%u): %s%s%s: %s\n", c->rem[i].name, c->d.attempt,
		       c->s.max_retries,
		       c->rem[i].skipped ? "skipped" :
		       c->rem[i].ok	 ? "ok" :
					   "failed",
		       c->rem[i].error[0] ? " " : "", c->rem[i].error, c->rem[i].detail);
	if (c->d.action == WGNL_HEALTH_ACT_WAIT)
		printf("  backing off: next remedy in %.1f s\n",
		       (double)(c->d.next_attempt_ms - c->now_ms) / 1000);
	if (c->d.action == WGNL_HEALTH_ACT_COOLDOWN)
		printf("  cooldown%s: remedies resume in %.1f s\n",
		       c->d.entered_cooldown ? " entered" : "",
		       (double)(c->d.next_attempt_ms - c->now_ms) / 1000);
	if (c->d.recovered)
		printf("  recovered\n");
}

/* Observed, judged and with state: not unknown, not in maintenance. */
static bool judged(const struct wgnl_health_check *c)
{
	return !c->unknown && !c->maintenance;
}

/* The interface label of check @c. */
#define IFLABEL(c)                       \
	{                                \
		"interface", (c)->ifname \
	}

/* One series per verdict, 1 for the current one: an alert on
 * verdict="disconnected" == 1 does not fire on an idle tunnel, as a "> 0"
 * on a coded value did. */
static void prom_verdicts(struct wgnl_prom *p, struct wgnl_health_check *const *cs, size_t n)
{
	static const char *const vnames[] = { "healthy", "degraded", "disconnected",
					      "unknown", "idle",     "maintenance" };

	wgnl_prom_family_begin(p, "wghealth_verdict", WGNL_PROM_GAUGE,
			       "Tunnel verdict: 1 for the current one, 0 for the others.");
	for (size_t i = 0; i < n; i++) {
		const char *cur = cs[i]->maintenance ? "maintenance" :
				  cs[i]->unknown     ? "unknown" :
						       wgnl_health_verdict_name(cs[i]->res.verdict);
		for (size_t k = 0; k < sizeof(vnames) / sizeof(vnames[0]); k++) {
			struct wgnl_prom_label l[] = { IFLABEL(cs[i]), { "verdict", vnames[k] } };
			wgnl_prom_put_u64(p, "wghealth_verdict", l, 2, !strcmp(cur, vnames[k]));
		}
	}
}

static void prom_traffic(struct wgnl_prom *p, struct wgnl_health_check *const *cs, size_t n)
{
	static const char *const name[2] = { "wghealth_rx_bytes", "wghealth_tx_bytes" };
	static const char *const help[2] = { "Bytes received over all peers.",
					     "Bytes sent over all peers." };

	for (int d = 0; d < 2; d++) {
		wgnl_prom_family_begin(p, name[d], WGNL_PROM_COUNTER, help[d]);
		for (size_t i = 0; i < n; i++) {
			struct wgnl_prom_label l[] = { IFLABEL(cs[i]) };
			uint64_t sum = 0;
			for (size_t k = 0; k < cs[i]->obs.n_peers; k++)
				sum += d ? cs[i]->obs.peers[k].tx_bytes :
					   cs[i]->obs.peers[k].rx_bytes;
			if (judged(cs[i]))
				wgnl_prom_put_u64(p, name[d], l, 1, sum);
		}
	}
}

static void prom_probes(struct wgnl_prom *p, struct wgnl_health_check *const *cs, size_t n)
{
	wgnl_prom_family_begin(p, "wghealth_probe_rtt_seconds", WGNL_PROM_GAUGE,
			       "Mean ping RTT through the tunnel.");
	for (size_t i = 0; i < n; i++) {
		struct wgnl_prom_label l[] = { IFLABEL(cs[i]) };
		if (cs[i]->obs.ping_received)
			wgnl_prom_put_double(p, "wghealth_probe_rtt_seconds", l, 1,
					     (double)cs[i]->obs.ping_rtt_ns / 1e9, 6);
	}
	wgnl_prom_family_begin(p, "wghealth_probe_loss_ratio", WGNL_PROM_GAUGE,
			       "Ping loss through the tunnel.");
	for (size_t i = 0; i < n; i++) {
		struct wgnl_prom_label l[] = { IFLABEL(cs[i]) };
		if (cs[i]->obs.ping_sent)
			wgnl_prom_put_double(
				p, "wghealth_probe_loss_ratio", l, 1,
				1.0 - (double)cs[i]->obs.ping_received / cs[i]->obs.ping_sent, 3);
	}
}

static void prom_policy(struct wgnl_prom *p, struct wgnl_health_check *const *cs, size_t n)
{
	wgnl_prom_family_begin(p, "wghealth_remedies_total", WGNL_PROM_COUNTER,
			       "Remedies attempted.");
	for (size_t i = 0; i < n; i++) {
		struct wgnl_prom_label l[] = { IFLABEL(cs[i]) };
		if (judged(cs[i]))
			wgnl_prom_put_u64(p, "wghealth_remedies_total", l, 1,
					  cs[i]->st.remedies_total);
	}
	wgnl_prom_family_begin(p, "wghealth_consecutive_failures", WGNL_PROM_GAUGE,
			       "Checks in a row that were not healthy.");
	for (size_t i = 0; i < n; i++) {
		struct wgnl_prom_label l[] = { IFLABEL(cs[i]) };
		if (judged(cs[i]))
			wgnl_prom_put_u64(p, "wghealth_consecutive_failures", l, 1,
					  cs[i]->st.consecutive_bad);
	}
	wgnl_prom_family_begin(p, "wghealth_last_check_timestamp_seconds", WGNL_PROM_GAUGE,
			       "When the check ran.");
	for (size_t i = 0; i < n; i++) {
		struct wgnl_prom_label l[] = { IFLABEL(cs[i]) };
		wgnl_prom_put_double(p, "wghealth_last_check_timestamp_seconds", l, 1,
				     (double)cs[i]->now_ms / 1000, 3);
	}
}

/* --textfile-peers: a series per peer (many peers: many series). */
static void prom_peers(struct wgnl_prom *p, struct wgnl_health_check *const *cs, size_t n)
{
	wgnl_prom_family_begin(p, "wghealth_peer_verdict", WGNL_PROM_GAUGE,
			       "Peer verdict (codes as wghealth_verdict).");
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < cs[i]->res.n_peers; k++) {
			wgnl_key_b64 b;
			wgnl_key_to_base64(b, cs[i]->res.peers[k].public_key);
			struct wgnl_prom_label l[] = { IFLABEL(cs[i]), { "peer", b } };
			wgnl_prom_put_u64(p, "wghealth_peer_verdict", l, 2,
					  (uint64_t)cs[i]->res.peers[k].verdict);
		}
	wgnl_prom_family_begin(p, "wghealth_peer_handshake_age_seconds", WGNL_PROM_GAUGE,
			       "Peer handshake age (-1 never).");
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < cs[i]->res.n_peers; k++) {
			wgnl_key_b64 b;
			int64_t a = cs[i]->res.peers[k].handshake_age_ms;
			wgnl_key_to_base64(b, cs[i]->res.peers[k].public_key);
			struct wgnl_prom_label l[] = { IFLABEL(cs[i]), { "peer", b } };
			wgnl_prom_put_double(p, "wghealth_peer_handshake_age_seconds", l, 2,
					     a < 0 ? -1.0 : (double)a / 1000, 3);
		}
}

/* The textfile's text for the checks @cs (errors are sticky in @p). */
static void textfile_text(struct wgnl_prom *p, bool peers, struct wgnl_health_check *const *cs,
			  size_t n)
{
	prom_verdicts(p, cs, n);
	wgnl_prom_family_begin(p, "wghealth_handshake_age_seconds", WGNL_PROM_GAUGE,
			       "Age of the newest handshake of any peer (-1 never).");
	for (size_t i = 0; i < n; i++) {
		struct wgnl_prom_label l[] = { IFLABEL(cs[i]) };
		if (judged(cs[i]))
			wgnl_prom_put_double(
				p, "wghealth_handshake_age_seconds", l, 1,
				cs[i]->res.newest_handshake_ms ?
					(double)(cs[i]->now_ms - cs[i]->res.newest_handshake_ms) /
						1000 :
					-1.0,
				3);
	}
	prom_traffic(p, cs, n);
	prom_probes(p, cs, n);
	prom_policy(p, cs, n);
	if (peers)
		prom_peers(p, cs, n);
}

/* Prometheus node_exporter textfile, written atomically. node_exporter
 * textfile directories are often writable by others: the writer's fresh
 * temporary file (O_EXCL) is never a planted symlink, and one at the
 * textfile is replaced, not followed. Readable by the node_exporter user,
 * like the file it replaces. */
static void write_textfile(const struct opts *o, struct wgnl_health_check *const *cs, size_t n)
{
	struct wgnl_prom *p = NULL;
	const char *text;
	struct iovec v;
	int r;

	if (!o->textfile)
		return;
	r = wgnl_prom_new(&p);
	if (r == 0) {
		textfile_text(p, o->textfile_peers, cs, n);
		r = wgnl_prom_text(p, &text, &v.iov_len);
	}
	if (r == 0) {
		v.iov_base = (void *)text;
		r = wgnl_file_write_atomic(o->textfile, &v, 1, WGNL_FILE_PUBLIC | WGNL_FILE_SYNC);
	}
	if (r < 0)
		wgk_warn("cannot write '%s': %s", wgk_q(o->textfile), strerror(-r));
	wgnl_prom_free(p);
}

/* ---------------------------------------------------------- one check */

static void check_free(struct wgnl_health_check *c)
{
	wgnl_health_check_clear(c);
	free(c);
}

static int ensure_dir(const char *dir)
{
	if (mkdir(dir, 0700) == 0 || errno == EEXIST)
		return 0;
	return -errno;
}

static void record_cb(const struct wgnl_health_check *c, void *arg)
{
	const struct step_arg *a = arg;

	record_history(a->h, c);
}

/* What the library's check left for people: the lock, the state file and
 * the ping that could not be done. */
static void report_problems(const struct opts *o, const struct wgnl_health_check *c)
{
	char path[PATH_MAX];

	if (c->lock_error && c->lock_error != -EWOULDBLOCK) {
		snprintf(path, sizeof(path), "%s/%s.lock", o->state_dir, c->ifname);
		wgk_error("cannot lock '%s': %s", wgk_q(path), strerror(-c->lock_error));
	}
	snprintf(path, sizeof(path), "%s/%s.state", o->state_dir, c->ifname);
	if (c->state_load == -EBADMSG)
		wgk_warn("state file '%s' is corrupt: starting afresh and replacing it",
			 wgk_q(path));
	else if (c->state_load < 0 && c->state_load != -ENOENT)
		wgk_warn("cannot read the state file '%s': %s; starting afresh", wgk_q(path),
			 strerror(-c->state_load));
	if (c->ping_error)
		wgk_warn("%s: ping %s: %s", c->ifname, c->s.ping, strerror(-c->ping_error));
	if (c->state_save < 0)
		wgk_warn("cannot save the state file '%s': %s", wgk_q(path),
			 strerror(-c->state_save));
}

/* Check @ifname once (wgnl_health_check_step(): lock, load state, observe,
 * judge, decide, act, record, save). Returns the check (NULL only when out
 * of memory). */
static struct wgnl_health_check *check_one(struct wgnl_ctx *ctx, const struct opts *o,
					   struct wh_history *h, const char *ifname)
{
	struct wgnl_health_check *c = calloc(1, sizeof(*c));
	struct wgnl_health_settings s;
	struct step_arg a = { .o = o, .h = h };
	struct wgnl_health_step_opts so = {
		.size = sizeof(so),
		.settings = &s,
		.state_dir = o->state_dir,
		.read_only = o->dry_run,
		.lock_wait_ms = o->lock_wait_ms,
		.command = run_command,
		.restart = restart_quick,
		.record = record_cb,
		.arg = &a,
#ifdef _WIN32
		/* The tunnel is WireGuard for Windows' WireGuardTunnel$IF. */
		.service = wh_service_remedy,
#endif
	};

	if (!c)
		return NULL;
	if (load_settings(o, ifname, &s) < 0) {
		snprintf(c->ifname, sizeof(c->ifname), "%s", ifname);
		c->obs.underlay = -1;
		c->unknown = true;
		snprintf(c->unknown_why, sizeof(c->unknown_why), "bad settings");
		return c;
	}
	if (wgnl_health_check_step(ctx, ifname, &so, c) < 0) {
		free(c);
		return NULL;
	}
	report_problems(o, c);
	return c;
}

static struct wh_history *open_history(const struct opts *o)
{
	struct wh_history *h = NULL;

	if (o->dry_run || ensure_dir(o->state_dir) < 0)
		return NULL;
	if (wh_history_open(o->db ? o->db : wh_history_default(o->state_dir), true, &h) < 0)
		wgk_warn("the history will not be recorded");
	return h;
}

int cmd_check(int argc, char **argv)
{
	struct opts o;
	struct wgnl_ctx *ctx = NULL;
	int rc = parse_opts("check", argc, argv, &o, EXIT_UNKNOWN);

	if (rc >= 0)
		return rc;
	if (optind != argc - 1) {
		wgk_error("check: expected one interface name (see wghealth check --help)");
		return EXIT_UNKNOWN;
	}
	const char *ifname = argv[optind];
	if (!valid_ifname(ifname)) {
		wgk_error("check: invalid interface name '%s'", wgk_q(ifname));
		return EXIT_UNKNOWN;
	}
	if (sodium_init() < 0 || wgnl_ctx_open(&ctx) < 0) {
		wgk_error("check: cannot initialise");
		return EXIT_UNKNOWN;
	}
	struct wh_history *h = open_history(&o);
	struct wgnl_health_check *c = check_one(ctx, &o, h, ifname);
	if (!c) {
		wgk_error("check: out of memory");
		rc = EXIT_UNKNOWN;
	} else {
		if (o.json) {
			struct wgk_json j;
			wgk_json_init(&j, stdout, false);
			print_json(&j, c);
			wgk_json_finish(&j);
		} else {
			print_text(c);
		}
		write_textfile(&o, &c, 1);
		rc = c->maintenance ? 0 :
				      wgnl_health_verdict_exit(c->unknown ? WGNL_HEALTH_UNKNOWN :
									    c->res.verdict);
	}
	check_free(c);
	wh_history_close(h);
	wgnl_ctx_close(ctx);
	return rc;
}

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

void wh_daemon_stop(void)
{
	stop_flag = 1;
}

int cmd_daemon(int argc, char **argv)
{
	struct opts o;
	struct wgnl_ctx *ctx = NULL;
	char **ifs = NULL;
	int n_ifs, rc = parse_opts("daemon", argc, argv, &o, WGK_EXIT_USAGE);

	if (rc >= 0)
		return rc;
	if (optind < argc) {
		n_ifs = argc - optind;
		ifs = calloc((size_t)n_ifs + 1, sizeof(*ifs));
		for (int i = 0; ifs && i < n_ifs; i++)
			ifs[i] = strdup(argv[optind + i]);
	} else {
		struct wgnl_config_error e;
		n_ifs = wgnl_health_conf_sections(o.conf, &ifs, &e);
		if (n_ifs < 0) {
			wgk_error("daemon: no interfaces given and cannot read '%s': %s",
				  wgk_q(o.conf), e.message);
			return WGK_EXIT_INPUT;
		}
	}
	if (!ifs) {
		wgk_error("daemon: out of memory");
		return WGK_EXIT_SYSTEM;
	}
	if (n_ifs == 0) {
		wgk_error("daemon: no interfaces (name them, or add [IF] sections to '%s')",
			  wgk_q(o.conf));
		wgnl_strv_free(ifs);
		return WGK_EXIT_USAGE;
	}
	for (int i = 0; i < n_ifs; i++) {
		struct wgnl_health_settings s;
		if (!ifs[i] || !valid_ifname(ifs[i])) {
			wgk_error("daemon: invalid interface name '%s'", wgk_q(ifs[i]));
			wgnl_strv_free(ifs);
			return WGK_EXIT_USAGE;
		}
		/* Bad settings stop the daemon at start, not at the first check. */
		if (load_settings(&o, ifs[i], &s) < 0) {
			wgnl_strv_free(ifs);
			return WGK_EXIT_INPUT;
		}
	}
	if (sodium_init() < 0 || wgnl_ctx_open(&ctx) < 0) {
		wgk_error("daemon: cannot initialise");
		wgnl_strv_free(ifs);
		return WGK_EXIT_SYSTEM;
	}
#ifdef _WIN32
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
#else
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
#endif
	struct wh_history *h = open_history(&o);
	struct wgnl_health_check **cs = calloc((size_t)n_ifs, sizeof(*cs));
	if (!cs) {
		wgk_error("daemon: out of memory");
		rc = WGK_EXIT_SYSTEM;
		goto out;
	}
	wgk_note("daemon: checking %d interface(s) every %.1f s", n_ifs, o.interval_ms / 1000.0);
	while (!stop_flag) {
		for (int i = 0; i < n_ifs && !stop_flag; i++) {
			cs[i] = check_one(ctx, &o, h, ifs[i]);
			if (!cs[i])
				continue;
			if (o.json) {
				struct wgk_json j;
				wgk_json_init(&j, stdout, false);
				print_json(&j, cs[i]);
				wgk_json_finish(&j);
			} else if (cs[i]->d.changed || cs[i]->n_rem || cs[i]->unknown) {
				print_text(cs[i]);
			}
			fflush(stdout);
		}
		size_t done_n = 0;
		for (int i = 0; i < n_ifs; i++)
			if (cs[i])
				cs[done_n++] = cs[i];
		write_textfile(&o, cs, done_n);
		for (size_t i = 0; i < done_n; i++) {
			check_free(cs[i]);
			cs[i] = NULL;
		}
		/* Sleep in short steps so a signal ends the wait at once; on the
		 * monotonic clock, so a wall-clock step neither stalls nor
		 * hurries the checks. */
		int64_t until = mono_ms() + o.interval_ms;
		while (!stop_flag && mono_ms() < until) {
			int64_t left = until - mono_ms();
			struct timespec ts = { .tv_sec = 0,
					       .tv_nsec = (left > 200 ? 200 : left) * 1000000 };
			nanosleep(&ts, NULL);
		}
	}
	rc = WGK_EXIT_OK;
out:
	free(cs);
	wh_history_close(h);
	wgnl_ctx_close(ctx);
	wgnl_strv_free(ifs);
	return rc;
}
