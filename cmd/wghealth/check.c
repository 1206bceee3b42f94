// SPDX-License-Identifier: MIT
/* wghealth check / daemon: observe a tunnel (link, peers, ping through it,
 * the underlay URL), let the library judge it and decide, act (remedies,
 * underlay down/up), record the story in the history, save the state, and
 * report (text, --json, Prometheus textfile, monitoring-plugin exit code). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <sodium.h>

#include "err.h"
#include "exitcodes.h"
#include "json.h"
#include "wghealth.h"
#include "wgkit/wgnl_health.h"
#include "wgkit/wgnl_probe.h"

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
	const char *wgctl;
	uint32_t interval_ms;
	struct kv set[64];
	size_t n_set;
};

/* What one check produced, for the report. */
struct remedy_log {
	char name[24];
	bool ok;
	bool skipped; /* not applicable here: nothing done */
	char detail[256];
};

struct check {
	char ifname[WGNL_IFNAMSIZ];
	struct wgnl_health_settings s;
	struct wgnl_health_state st;
	struct wgnl_health_obs obs;
	struct wgnl_health_peer_obs *pobs;
	struct wgnl_health_result res;
	struct wgnl_health_decision d;
	int64_t now_ms;
	char underlay_why[96]; /* why the URL check failed */
	bool unknown;	       /* could not check */
	char unknown_why[256];
	bool state_corrupt;
	bool maintenance; /* STATE_DIR/IF.maintenance exists: left alone */
	char maint_path[PATH_MAX];
	bool never_existed; /* missing, no state, nothing to create it: nothing kept */
	uint16_t listen_port;
	struct remedy_log rem[4];
	size_t n_rem;
	struct wgnl_device *dev; /* as observed */
};

static volatile sig_atomic_t stop_flag;

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

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
		"         [--db PATH] [--textfile PATH [--textfile-peers]] [--wgctl PATH]\n"
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
			o->wgctl = optarg;
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

/* ---------------------------------------------------------- observing */

static void probe_ping(struct check *c)
{
	struct wgnl_probe *p;
	struct wgnl_probe_opts po;
	uint32_t n = c->s.ping_count;
	union wgnl_endpoint ep;
	struct wgnl_prefix pf;

	if (!c->s.ping[0] || wgnl_prefix_parse(&pf, c->s.ping) < 0)
		return;
	memset(&ep, 0, sizeof(ep));
	if (pf.family == AF_INET) {
		ep.addr4.sin_family = AF_INET;
		ep.addr4.sin_addr = pf.ip4;
	} else {
		ep.addr6.sin6_family = AF_INET6;
		ep.addr6.sin6_addr = pf.ip6;
	}
	p = calloc(n, sizeof(*p));
	if (!p)
		return;
	for (uint32_t i = 0; i < n; i++) {
		p[i].kind = WGNL_PROBE_ICMP;
		p[i].target = ep;
		p[i].timeout_ms = c->s.ping_timeout_ms;
	}
	memset(&po, 0, sizeof(po));
	po.size = sizeof(po);
	po.timeout_ms = c->s.ping_timeout_ms;
	int r = wgnl_probe_run(p, n, &po, NULL);
	c->obs.ping_sent = n;
	if (r < 0) {
		wgk_warn("%s: ping %s: %s", c->ifname, c->s.ping, strerror(-r));
	} else {
		uint64_t sum = 0;
		for (uint32_t i = 0; i < n; i++)
			if (p[i].status == 0) {
				c->obs.ping_received++;
				sum += p[i].rtt_ns;
			}
		if (c->obs.ping_received)
			c->obs.ping_rtt_ns = sum / c->obs.ping_received;
	}
	free(p);
}

static void probe_url(struct check *c)
{
	struct wgnl_probe p;
	struct wgnl_probe_opts po;

	c->obs.underlay = -1;
	if (!c->s.url[0])
		return;
	memset(&p, 0, sizeof(p));
	memset(&po, 0, sizeof(po));
	po.size = sizeof(po);
	p.kind = WGNL_PROBE_HTTP;
	p.url = c->s.url;
	p.timeout_ms = c->s.url_timeout_ms;
	po.timeout_ms = c->s.url_timeout_ms;
	int r = wgnl_probe_run(&p, 1, &po, NULL);
	/* Any HTTP answer proves the network under the tunnel works. */
	c->obs.underlay = r == 1 && p.status == 0 ? 1 : 0;
	if (!c->obs.underlay)
		snprintf(c->underlay_why, sizeof(c->underlay_why), "%s",
			 r < 0 ? strerror(-r) : strerror(-p.status));
}

/* Returns 0, or -errno when the tunnel could not be looked at. */
static int observe(struct wgnl_ctx *ctx, struct check *c)
{
	struct wgnl_link link;
	int r;

	probe_url(c);
	r = wgnl_link_get(ctx, c->ifname, &link);
	if (r == -ENODEV)
		return 0;
	if (r < 0)
		return r;
	c->obs.present = true;
	c->obs.up = link.up;
	r = wgnl_device_get(ctx, c->ifname, &c->dev);
	if (r == -ENODEV || r == -EPROTONOSUPPORT || r == -ENOENT) {
		/* A link that is not (or no longer) a WireGuard device. */
		c->obs.present = false;
		return 0;
	}
	if (r < 0)
		return r;
	c->listen_port = c->dev->listen_port;
	if (c->dev->n_peers) {
		c->pobs = calloc(c->dev->n_peers, sizeof(*c->pobs));
		if (!c->pobs)
			return -ENOMEM;
	}
	for (size_t i = 0; i < c->dev->n_peers; i++) {
		const struct wgnl_peer *p = &c->dev->peers[i];
		struct wgnl_health_peer_obs *o = &c->pobs[i];

		memcpy(o->public_key, p->public_key, WGNL_KEY_LEN);
		o->last_handshake_ms = wgnl_health_time_ms(&p->last_handshake);
		o->rx_bytes = p->rx_bytes;
		o->tx_bytes = p->tx_bytes;
		o->keepalive = p->persistent_keepalive;
	}
	c->obs.peers = c->pobs;
	c->obs.n_peers = c->dev->n_peers;
	if (c->obs.up && c->obs.underlay != 0)
		probe_ping(c);
	return 0;
}

/* ---------------------------------------------------------- acting */

static const char *wgctl_path(const struct opts *o)
{
	static char buf[PATH_MAX];
	char self[PATH_MAX];
	ssize_t n;

	if (o->wgctl)
		return o->wgctl;
	/* wgctl next to wghealth (build tree, /usr/sbin), else $PATH. */
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = 0;
		char *slash = strrchr(self, '/');
		if (slash) {
			*slash = 0;
			snprintf(buf, sizeof(buf), "%.*s/wgctl", (int)(sizeof(buf) - 8), self);
			if (access(buf, X_OK) == 0)
				return buf;
		}
	}
	return "wgctl";
}

/* Run argv (or "sh -c CMD" when argv[0] is NULL and @cmd set); its stdout
 * goes to our stderr so --json output stays clean. True on exit 0. */
static bool run(const char *cmd, char *const argv[])
{
	pid_t pid;
	int status;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0)
		return false;
	if (pid == 0) {
		dup2(2, 1);
		if (cmd)
			execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		else
			execvp(argv[0], argv);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return false;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static bool wgctl_run(const struct opts *o, const char *verb, const char *conf)
{
	char *argv[] = { (char *)wgctl_path(o), (char *)verb, (char *)conf, NULL };
	return run(NULL, argv);
}

static void log_remedy(struct check *c, enum wgnl_health_remedy r, bool ok, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void log_remedy(struct check *c, enum wgnl_health_remedy r, bool ok, const char *fmt, ...)
{
	va_list ap;

	if (c->n_rem == sizeof(c->rem) / sizeof(c->rem[0]))
		return;
	struct remedy_log *l = &c->rem[c->n_rem++];
	snprintf(l->name, sizeof(l->name), "%s", wgnl_health_remedy_name(r));
	l->ok = ok;
	va_start(ap, fmt);
	vsnprintf(l->detail, sizeof(l->detail), fmt, ap);
	va_end(ap);
}

/* Peer @i of the observed device, if it has an endpoint and is not healthy
 * (@only_decided: the policy chose it for a per-peer remedy). The verdicts
 * are in the order of the observation, which is the device's (observe()):
 * peer i is verdict i. */
static bool peer_wants_fix(const struct check *c, size_t i, bool only_decided)
{
	const struct wgnl_peer *p = &c->dev->peers[i];

	if (!(p->flags & WGNL_PEER_HAS_ENDPOINT) || p->endpoint.addr.sa_family == AF_UNSPEC)
		return false;
	if (i < c->res.n_peers &&
	    !memcmp(c->res.peers[i].public_key, p->public_key, WGNL_KEY_LEN)) {
		if (only_decided)
			return c->res.peers[i].action == WGNL_HEALTH_ACT_REMEDY;
		return c->res.peers[i].verdict != WGNL_HEALTH_HEALTHY &&
		       c->res.peers[i].verdict != WGNL_HEALTH_IDLE;
	}
	/* No per-peer verdict (probe loss only): every peer. */
	return !only_decided;
}

/* Re-resolve endpoint names from the wg-quick config; set those that
 * changed. Returns the number changed (0: nothing to do) or -errno. */
static int do_reresolve(struct wgnl_ctx *ctx, struct check *c, char *detail, size_t dlen)
{
	struct wgnl_reresolve_stats st;
	struct wgnl_config *cfg = NULL;
	struct wgnl_config_error e;
	int r;

	snprintf(detail, dlen, "no endpoint names (no wg_config)");
	if (!c->s.wg_config[0] || !c->dev)
		return 0;
	r = wgnl_config_parse_file(c->s.wg_config, WGNL_CONFIG_QUICK, &cfg, &e);
	if (r < 0) {
		snprintf(detail, dlen, "cannot read '%.120s': %.100s", c->s.wg_config, e.message);
		return r;
	}
	/* The same pass as `wgctl reresolve --all`: every name, whatever the
	 * handshake's age, since this remedy runs only for a broken tunnel. */
	r = wgnl_device_reresolve(ctx, c->ifname, cfg->dev, c->dev, time(NULL), 0, &st);
	if (r < 0)
		snprintf(detail, dlen, "set: %s", strerror(-r));
	else
		snprintf(detail, dlen, "%u name(s), %u changed", st.names, st.changed);
	wgnl_config_free(cfg);
	return r;
}

static int do_reset_endpoints(struct wgnl_ctx *ctx, struct check *c, bool only_decided,
			      char *detail, size_t dlen)
{
	struct wgnl_device *chg = wgnl_device_new(c->ifname);
	int n = 0, r = 0;

	if (!chg)
		return -ENOMEM;
	for (size_t i = 0; c->dev && i < c->dev->n_peers; i++) {
		const struct wgnl_peer *p = &c->dev->peers[i];
		struct wgnl_peer *np;

		if (!peer_wants_fix(c, i, only_decided) ||
		    wgnl_device_add_peer(chg, p->public_key, &np) < 0)
			continue;
		np->flags |= WGNL_PEER_HAS_ENDPOINT | WGNL_PEER_UPDATE_ONLY;
		np->endpoint = p->endpoint;
		n++;
	}
	if (n)
		r = wgnl_device_set(ctx, chg);
	snprintf(detail, dlen, r < 0 ? "set: %s" : "%s", r < 0 ? strerror(-r) : "");
	if (r >= 0)
		snprintf(detail, dlen, "%d endpoint(s) set again", n);
	wgnl_device_free(chg);
	return r < 0 ? r : n;
}

/* 1: moved, 0: not allowed here (detail says why), -errno. */
static int do_move_port(struct wgnl_ctx *ctx, struct check *c, char *detail, size_t dlen)
{
	struct wgnl_config *cfg = NULL;
	struct wgnl_config_error e;
	const char *why = NULL;
	bool may;

	if (c->s.wg_config[0] &&
	    wgnl_config_parse_file(c->s.wg_config, WGNL_CONFIG_QUICK, &cfg, &e) < 0) {
		snprintf(detail, dlen, "cannot read '%.120s': %.100s", c->s.wg_config, e.message);
		return 0;
	}
	may = wgnl_health_may_move_port(cfg ? cfg->dev : NULL, &why);
	wgnl_config_free(cfg);
	if (!may) {
		snprintf(detail, dlen, "listen port %u kept: %s", c->listen_port, why);
		return 0;
	}
	struct wgnl_device *chg = wgnl_device_new(c->ifname);
	uint32_t span = (uint32_t)c->s.port_max - c->s.port_min + 1;
	uint16_t port = c->listen_port;
	int r;

	if (!chg)
		return -ENOMEM;
	for (int i = 0; i < 8 && port == c->listen_port; i++)
		port = (uint16_t)(c->s.port_min + randombytes_uniform(span));
	chg->flags |= WGNL_DEV_HAS_LISTEN_PORT;
	chg->listen_port = port;
	r = wgnl_device_set(ctx, chg);
	if (r < 0)
		snprintf(detail, dlen, "listen port %u -> %u: %s", c->listen_port, port,
			 strerror(-r));
	else
		snprintf(detail, dlen, "listen port %u -> %u", c->listen_port, port);
	wgnl_device_free(chg);
	return r < 0 ? r : 1;
}

static bool link_updown(struct wgnl_ctx *ctx, const char *ifname, bool up, char *detail,
			size_t dlen)
{
	int r = wgnl_link_set_up(ctx, ifname, up);

	snprintf(detail, dlen, "link %s%s%s", up ? "up" : "down", r < 0 ? ": " : "",
		 r < 0 ? strerror(-r) : "");
	return r == 0;
}

static bool do_tunnel(struct wgnl_ctx *ctx, const struct opts *o, struct check *c, bool up,
		      char *detail, size_t dlen)
{
	const char *cmd = up ? c->s.up_command : c->s.down_command;

	if (cmd[0]) {
		bool ok = run(cmd, NULL);
		snprintf(detail, dlen, "%s_command %s", up ? "up" : "down", ok ? "ok" : "failed");
		return ok;
	}
	if (c->s.wg_config[0]) {
		bool ok = wgctl_run(o, up ? "up" : "down", c->s.wg_config);
		snprintf(detail, dlen, "wgctl %s %.120s: %s", up ? "up" : "down", c->s.wg_config,
			 ok ? "ok" : "failed");
		/* Down of a tunnel that is already gone is not a failure. */
		return ok || (!up && !c->obs.present);
	}
	return link_updown(ctx, c->ifname, up, detail, dlen);
}

static bool do_restart(struct wgnl_ctx *ctx, const struct opts *o, struct check *c, char *detail,
		       size_t dlen)
{
	char d1[128], d2[128];

	if (c->s.restart_command[0]) {
		bool ok = run(c->s.restart_command, NULL);
		snprintf(detail, dlen, "restart_command %s", ok ? "ok" : "failed");
		return ok;
	}
	if (!c->s.wg_config[0] && !c->s.down_command[0] && !c->obs.present) {
		snprintf(detail, dlen,
			 "interface missing and no wg_config, restart_command or "
			 "up_command to recreate it");
		return false;
	}
	do_tunnel(ctx, o, c, false, d1, sizeof(d1));
	bool ok = do_tunnel(ctx, o, c, true, d2, sizeof(d2));
	snprintf(detail, dlen, "%.120s; %.120s", d1, d2);
	return ok;
}

static bool act(struct wgnl_ctx *ctx, const struct opts *o, struct check *c)
{
	char detail[256];
	enum wgnl_health_remedy rm = c->d.remedy;
	bool ok = false;
	int r;

	switch (rm) {
	case WGNL_HEALTH_REMEDY_RERESOLVE:
		r = do_reresolve(ctx, c, detail, sizeof(detail));
		log_remedy(c, rm, r >= 0, "%s", detail);
		if (r > 0)
			return true;
		/* Nothing changed: set the endpoints again anyway. */
		rm = WGNL_HEALTH_REMEDY_RESET_ENDPOINT;
		/* fall through */
	case WGNL_HEALTH_REMEDY_RESET_ENDPOINT:
		r = do_reset_endpoints(ctx, c, false, detail, sizeof(detail));
		ok = r >= 0;
		break;
	case WGNL_HEALTH_REMEDY_MOVE_PORT:
		r = do_move_port(ctx, c, detail, sizeof(detail));
		if (r == 0) {
			/* Not this interface's remedy: set the endpoints again. */
			log_remedy(c, rm, true, "%s", detail);
			c->rem[c->n_rem - 1].skipped = true;
			rm = WGNL_HEALTH_REMEDY_RESET_ENDPOINT;
			r = do_reset_endpoints(ctx, c, false, detail, sizeof(detail));
		}
		ok = r >= 0;
		break;
	case WGNL_HEALTH_REMEDY_RESTART:
		ok = do_restart(ctx, o, c, detail, sizeof(detail));
		break;
	case WGNL_HEALTH_REMEDY_TUNNEL_DOWN:
		ok = do_tunnel(ctx, o, c, false, detail, sizeof(detail));
		break;
	case WGNL_HEALTH_REMEDY_TUNNEL_UP:
		ok = do_tunnel(ctx, o, c, true, detail, sizeof(detail));
		break;
	case WGNL_HEALTH_REMEDY_LINK_UP:
		ok = link_updown(ctx, c->ifname, true, detail, sizeof(detail));
		break;
	default:
		return true;
	}
	log_remedy(c, rm, ok, "%s", detail);
	return ok;
}

/* The per-peer remedies the policy chose: set those peers' endpoints
 * again, nothing else on the interface. */
static void act_peers(struct wgnl_ctx *ctx, struct check *c)
{
	char detail[256];
	int r;

	if (!c->d.n_peer_remedies || !c->dev)
		return;
	r = do_reset_endpoints(ctx, c, true, detail, sizeof(detail));
	log_remedy(c, WGNL_HEALTH_REMEDY_RESET_ENDPOINT, r >= 0, "per peer: %s", detail);
}

/* ---------------------------------------------------------- reporting */

static void record_history(struct wh_history *h, const struct check *c)
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
		char detail[300];
		snprintf(detail, sizeof(detail), "attempt %u: %s", c->d.attempt, c->rem[i].detail);
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

static void print_json(struct wgk_json *j, const struct check *c)
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
		wgk_json_object_end(j);
	}
	wgk_json_array_end(j);
	wgk_json_kv_bool(j, "state_replaced", c->state_corrupt);
	wgk_json_object_end(j);
}

static void print_text(const struct check *c)
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
		printf("  remedy %s (attempt %u/%u): %s: %s\n", c->rem[i].name, c->d.attempt,
		       c->s.max_retries,
		       c->rem[i].skipped ? "skipped" :
		       c->rem[i].ok	 ? "ok" :
					   "failed",
		       c->rem[i].detail);
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
static bool judged(const struct check *c)
{
	return !c->unknown && !c->maintenance;
}

/* Prometheus node_exporter textfile, written atomically. */
static void write_textfile(const struct opts *o, struct check *const *cs, size_t n)
{
	struct wgnl_file_tmp *t;
	FILE *f;
	int fd, r;

	if (!o->textfile)
		return;
	/* node_exporter textfile directories are often writable by others: the
	 * writer's fresh temporary file (O_EXCL) is never a planted symlink,
	 * and one at the textfile is replaced, not followed. Readable by the
	 * node_exporter user, like the file it replaces. */
	r = wgnl_file_tmp_open(o->textfile, WGNL_FILE_PUBLIC | WGNL_FILE_SYNC, &t);
	if (r < 0) {
		wgk_warn("cannot write '%s': %s", wgk_q(o->textfile), strerror(-r));
		return;
	}
	fd = dup(wgnl_file_tmp_fd(t));
	if (fd < 0 || !(f = fdopen(fd, "w"))) {
		wgk_warn("cannot write '%s': %s", wgk_q(o->textfile), strerror(errno));
		if (fd >= 0)
			close(fd);
		wgnl_file_tmp_abort(t);
		return;
	}
	/* One series per verdict, 1 for the current one: an alert on
	 * verdict="disconnected" == 1 does not fire on an idle tunnel, as a
	 * "> 0" on a coded value did. */
	static const char *const vnames[] = { "healthy", "degraded", "disconnected",
					      "unknown", "idle",     "maintenance" };
	fprintf(f, "# HELP wghealth_verdict Tunnel verdict: 1 for the current one, 0 for the "
		   "others.\n# TYPE wghealth_verdict gauge\n");
	for (size_t i = 0; i < n; i++) {
		const char *cur = cs[i]->maintenance ? "maintenance" :
				  cs[i]->unknown     ? "unknown" :
						       wgnl_health_verdict_name(cs[i]->res.verdict);
		for (size_t k = 0; k < sizeof(vnames) / sizeof(vnames[0]); k++)
			fprintf(f, "wghealth_verdict{interface=\"%s\",verdict=\"%s\"} %d\n",
				cs[i]->ifname, vnames[k], !strcmp(cur, vnames[k]));
	}
	fprintf(f, "# HELP wghealth_handshake_age_seconds Age of the newest handshake of any peer "
		   "(-1 never).\n# TYPE wghealth_handshake_age_seconds gauge\n");
	for (size_t i = 0; i < n; i++)
		if (judged(cs[i]))
			fprintf(f, "wghealth_handshake_age_seconds{interface=\"%s\"} %.3f\n",
				cs[i]->ifname,
				cs[i]->res.newest_handshake_ms ?
					(double)(cs[i]->now_ms - cs[i]->res.newest_handshake_ms) /
						1000 :
					-1.0);
	static const char *const dir[2] = { "rx", "tx" };
	for (int d = 0; d < 2; d++) {
		fprintf(f,
			"# HELP wghealth_%s_bytes Bytes %s over all peers.\n"
			"# TYPE wghealth_%s_bytes counter\n",
			dir[d], d ? "sent" : "received", dir[d]);
		for (size_t i = 0; i < n; i++) {
			uint64_t sum = 0;
			for (size_t k = 0; k < cs[i]->obs.n_peers; k++)
				sum += d ? cs[i]->obs.peers[k].tx_bytes :
					   cs[i]->obs.peers[k].rx_bytes;
			if (judged(cs[i]))
				fprintf(f, "wghealth_%s_bytes{interface=\"%s\"} %" PRIu64 "\n",
					dir[d], cs[i]->ifname, sum);
		}
	}
	fprintf(f, "# HELP wghealth_probe_rtt_seconds Mean ping RTT through the tunnel.\n"
		   "# TYPE wghealth_probe_rtt_seconds gauge\n");
	for (size_t i = 0; i < n; i++)
		if (cs[i]->obs.ping_received)
			fprintf(f, "wghealth_probe_rtt_seconds{interface=\"%s\"} %.6f\n",
				cs[i]->ifname, (double)cs[i]->obs.ping_rtt_ns / 1e9);
	fprintf(f, "# HELP wghealth_probe_loss_ratio Ping loss through the tunnel.\n"
		   "# TYPE wghealth_probe_loss_ratio gauge\n");
	for (size_t i = 0; i < n; i++)
		if (cs[i]->obs.ping_sent)
			fprintf(f, "wghealth_probe_loss_ratio{interface=\"%s\"} %.3f\n",
				cs[i]->ifname,
				1.0 - (double)cs[i]->obs.ping_received / cs[i]->obs.ping_sent);
	fprintf(f, "# HELP wghealth_remedies_total Remedies attempted.\n"
		   "# TYPE wghealth_remedies_total counter\n");
	for (size_t i = 0; i < n; i++)
		if (judged(cs[i]))
			fprintf(f, "wghealth_remedies_total{interface=\"%s\"} %" PRIu64 "\n",
				cs[i]->ifname, cs[i]->st.remedies_total);
	fprintf(f, "# HELP wghealth_consecutive_failures Checks in a row that were not healthy.\n"
		   "# TYPE wghealth_consecutive_failures gauge\n");
	for (size_t i = 0; i < n; i++)
		if (judged(cs[i]))
			fprintf(f, "wghealth_consecutive_failures{interface=\"%s\"} %u\n",
				cs[i]->ifname, cs[i]->st.consecutive_bad);
	fprintf(f, "# HELP wghealth_last_check_timestamp_seconds When the check ran.\n"
		   "# TYPE wghealth_last_check_timestamp_seconds gauge\n");
	for (size_t i = 0; i < n; i++)
		fprintf(f, "wghealth_last_check_timestamp_seconds{interface=\"%s\"} %.3f\n",
			cs[i]->ifname, (double)cs[i]->now_ms / 1000);
	if (o->textfile_peers) {
		fprintf(f,
			"# HELP wghealth_peer_verdict Peer verdict (codes as wghealth_verdict).\n"
			"# TYPE wghealth_peer_verdict gauge\n");
		for (size_t i = 0; i < n; i++)
			for (size_t k = 0; k < cs[i]->res.n_peers; k++) {
				wgnl_key_b64 b;
				wgnl_key_to_base64(b, cs[i]->res.peers[k].public_key);
				fprintf(f,
					"wghealth_peer_verdict{interface=\"%s\",peer=\"%s\"} %d\n",
					cs[i]->ifname, b, (int)cs[i]->res.peers[k].verdict);
			}
		fprintf(f,
			"# HELP wghealth_peer_handshake_age_seconds Peer handshake age (-1 never).\n"
			"# TYPE wghealth_peer_handshake_age_seconds gauge\n");
		for (size_t i = 0; i < n; i++)
			for (size_t k = 0; k < cs[i]->res.n_peers; k++) {
				wgnl_key_b64 b;
				int64_t a = cs[i]->res.peers[k].handshake_age_ms;
				wgnl_key_to_base64(b, cs[i]->res.peers[k].public_key);
				fprintf(f,
					"wghealth_peer_handshake_age_seconds{interface=\"%s\",peer=\"%s\"} "
					"%.3f\n",
					cs[i]->ifname, b, a < 0 ? -1.0 : (double)a / 1000);
			}
	}
	r = fflush(f) != 0 ? -errno : 0;
	if (fclose(f) != 0 && !r)
		r = -errno;
	if (r < 0) {
		wgk_warn("cannot write '%s': %s", wgk_q(o->textfile), strerror(-r));
		wgnl_file_tmp_abort(t);
		return;
	}
	r = wgnl_file_tmp_commit(t);
	if (r < 0)
		wgk_warn("cannot write '%s': %s", wgk_q(o->textfile), strerror(-r));
}

/* ---------------------------------------------------------- one check */

static void check_free(struct check *c)
{
	if (!c)
		return;
	wgnl_health_state_clear(&c->st);
	wgnl_health_result_clear(&c->res);
	free(c->pobs);
	wgnl_device_free(c->dev);
	free(c);
}

static int ensure_dir(const char *dir)
{
	if (mkdir(dir, 0700) == 0 || errno == EEXIST)
		return 0;
	return -errno;
}

/* Check @ifname once: lock, load state, observe, judge, decide, act,
 * record, save. Returns the check (NULL only when out of memory). */
static struct check *check_one(struct wgnl_ctx *ctx, const struct opts *o, struct wh_history *h,
			       const char *ifname)
{
	struct check *c = calloc(1, sizeof(*c));
	char path[PATH_MAX], lockpath[PATH_MAX];
	int lockfd = -1, r, r_load;

	if (!c)
		return NULL;
	snprintf(c->ifname, sizeof(c->ifname), "%s", ifname);
	c->obs.underlay = -1;
	if (load_settings(o, ifname, &c->s) < 0) {
		c->unknown = true;
		snprintf(c->unknown_why, sizeof(c->unknown_why), "bad settings");
		return c;
	}
	snprintf(path, sizeof(path), "%s/%s.state", o->state_dir, ifname);
	snprintf(lockpath, sizeof(lockpath), "%s/%s.lock", o->state_dir, ifname);
	/* An interface in maintenance (taken down on purpose, being worked
	 * on) is neither judged nor touched: no lock, no remedy, no state. */
	snprintf(c->maint_path, sizeof(c->maint_path), "%s/%s.maintenance", o->state_dir, ifname);
	if (access(c->maint_path, F_OK) == 0) {
		c->maintenance = true;
		c->now_ms = now_ms();
		return c;
	}
	if (!o->dry_run) {
		r = ensure_dir(o->state_dir);
		/* Overlapping runs (the timer's and a manual one) take turns: wait
		 * for the lock, but only so long. */
		int64_t give_up = mono_ms() + o->lock_wait_ms;
		while (r == 0 && (r = wgnl_health_lock(lockpath, &lockfd)) == -EWOULDBLOCK &&
		       mono_ms() < give_up) {
			struct timespec ts = { .tv_sec = 0, .tv_nsec = 50 * 1000000 };
			nanosleep(&ts, NULL);
			r = 0;
		}
		if (r < 0) {
			c->unknown = true;
			if (r == -EWOULDBLOCK)
				snprintf(c->unknown_why, sizeof(c->unknown_why),
					 "another wghealth run holds the lock (waited %.1f s; "
					 "monitoring: use --read-only)",
					 o->lock_wait_ms / 1000.0);
			else
				snprintf(c->unknown_why, sizeof(c->unknown_why), "%s",
					 strerror(-r));
			if (r != -EWOULDBLOCK)
				wgk_error("cannot lock '%s': %s", wgk_q(lockpath), strerror(-r));
			return c;
		}
	}
	r = r_load = wgnl_health_state_load(path, &c->st);
	if (r == -EBADMSG) {
		wgk_warn("state file '%s' is corrupt: starting afresh and replacing it",
			 wgk_q(path));
		c->state_corrupt = true;
	} else if (r < 0 && r != -ENOENT) {
		wgk_warn("cannot read the state file '%s': %s; starting afresh", wgk_q(path),
			 strerror(-r));
	}
	c->now_ms = now_ms();
	r = observe(ctx, c);
	if (r < 0) {
		const char *why = wgnl_ctx_last_error(ctx);

		c->unknown = true;
		snprintf(c->unknown_why, sizeof(c->unknown_why), "cannot read '%s': %s%s%.160s",
			 ifname, strerror(-r), why && why[0] ? ": " : "", why ? why : "");
		goto out;
	}
	if (wgnl_health_evaluate(&c->s, &c->st, &c->obs, c->now_ms, &c->res) < 0 ||
	    wgnl_health_decide(&c->s, &c->st, &c->res, &c->obs, c->now_ms, randombytes_random(),
			       &c->d) < 0) {
		c->unknown = true;
		snprintf(c->unknown_why, sizeof(c->unknown_why), "out of memory");
		goto out;
	}
	if (o->dry_run)
		goto out;
	/* An interface that is not there, was never seen (no state) and that
	 * nothing could create (no wg_config, up or restart command): a typo.
	 * Report it, but leave no state or history behind. */
	if (!c->obs.present && r_load == -ENOENT && !c->s.wg_config[0] && !c->s.up_command[0] &&
	    !c->s.restart_command[0]) {
		c->never_existed = true;
		goto out;
	}
	if (c->d.action == WGNL_HEALTH_ACT_REMEDY) {
		bool ok = act(ctx, o, c);
		wgnl_health_remedy_done(&c->st, &c->d, ok);
	}
	act_peers(ctx, c);
	record_history(h, c);
	r = wgnl_health_state_save(path, &c->st);
	if (r < 0)
		wgk_warn("cannot save the state file '%s': %s", wgk_q(path), strerror(-r));
out:
	if (c->never_existed)
		unlink(lockpath);
	if (lockfd >= 0)
		close(lockfd);
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
	struct check *c = check_one(ctx, &o, h, ifname);
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
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	struct wh_history *h = open_history(&o);
	struct check **cs = calloc((size_t)n_ifs, sizeof(*cs));
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
