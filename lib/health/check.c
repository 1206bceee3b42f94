// SPDX-License-Identifier: MIT
/* One health check of a tunnel: observe it (link, peers, a ping through it,
 * the underlay URL), let the policy (health.c) judge it and decide, run the
 * remedies, keep the state. What runs commands or wg-quick down/up is the
 * caller's (callbacks): the library neither forks nor prints. */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sodium.h>

#include "core/compat.h"
#include "core/internal.h"
#include "core/opts.h"
#include "wgkit/wgnl_health.h"
#include "wgkit/wgnl_quick.h"
#include "wgkit/wgnl_probe.h"
#include "settings.h"

static int64_t clock_ms(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---------------------------------------------------------- observing */

static void probe_ping(struct wgnl_health_check *c)
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
		c->ping_error = r;
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

static void probe_url(struct wgnl_health_check *c)
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

int wgnl_health_observe(struct wgnl_ctx *ctx, struct wgnl_health_check *c)
{
	struct wgnl_link link;
	int r;

	if (!c || !wgi_health_settings_ok(&c->s))
		return -EINVAL;
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

static struct wgnl_health_remedy_log *
log_remedy(struct wgnl_health_check *c, enum wgnl_health_remedy r, bool ok, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static struct wgnl_health_remedy_log *
log_remedy(struct wgnl_health_check *c, enum wgnl_health_remedy r, bool ok, const char *fmt, ...)
{
	struct wgnl_health_remedy_log *l;
	va_list ap;

	if (c->n_rem == WGNL_HEALTH_MAX_REMEDY_LOG)
		return NULL;
	l = &c->rem[c->n_rem++];
	snprintf(l->name, sizeof(l->name), "%s", wgnl_health_remedy_name(r));
	l->ok = ok;
	va_start(ap, fmt);
	vsnprintf(l->detail, sizeof(l->detail), fmt, ap);
	va_end(ap);
	return l;
}

/* Peer @i of the observed device, if it has an endpoint and is not healthy
 * (@only_decided: the policy chose it for a per-peer remedy). The verdicts
 * are in the order of the observation, which is the device's (observe):
 * peer i is verdict i. */
static bool peer_wants_fix(const struct wgnl_health_check *c, size_t i, bool only_decided)
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
static int do_reresolve(struct wgnl_ctx *ctx, struct wgnl_health_check *c, char *detail,
			size_t dlen)
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

static int do_reset_endpoints(struct wgnl_ctx *ctx, struct wgnl_health_check *c, bool only_decided,
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
static int do_move_port(struct wgnl_ctx *ctx, struct wgnl_health_check *c, char *detail,
			size_t dlen)
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

static bool run_command(const struct wgnl_health_step_opts *o, const char *cmd)
{
	return o->command && o->command(cmd, o->arg) == 0;
}

/* The tunnel service (o->service): its detail, and its failure code in
 * @err (WGNL_HEALTH_ERROR_LEN bytes). */
static bool do_service(const struct wgnl_health_step_opts *o, struct wgnl_health_check *c,
		       enum wgnl_health_remedy what, char *detail, size_t dlen, char *err)
{
	struct wgnl_health_remedy_log l;

	memset(&l, 0, sizeof(l));
	bool ok = o->service(c->ifname, what, &c->s, &l, o->arg) == 0;
	snprintf(detail, dlen, "%s", l.detail);
	memcpy(err, l.error, sizeof(l.error));
	err[sizeof(l.error) - 1] = 0;
	if (!ok && !err[0])
		snprintf(err, sizeof(l.error), "%s",
			 what == WGNL_HEALTH_REMEDY_TUNNEL_UP ? "reconnect_start_failed" :
								"reconnect_stop_failed");
	return ok;
}

static bool do_tunnel(struct wgnl_ctx *ctx, const struct wgnl_health_step_opts *o,
		      struct wgnl_health_check *c, bool up, char *detail, size_t dlen, char *err)
{
	const char *cmd = up ? c->s.up_command : c->s.down_command;

	if (!cmd[0] && o->service)
		return do_service(
			o, c, up ? WGNL_HEALTH_REMEDY_TUNNEL_UP : WGNL_HEALTH_REMEDY_TUNNEL_DOWN,
			detail, dlen, err);
	if (cmd[0]) {
		bool ok = run_command(o, cmd);
		snprintf(detail, dlen, "%s_command %s", up ? "up" : "down", ok ? "ok" : "failed");
		return ok;
	}
	if (c->s.wg_config[0]) {
		bool ok = o->restart && o->restart(ctx, c->ifname, c->s.wg_config, up, o->arg) == 0;
		snprintf(detail, dlen, "wgctl %s %.120s: %s", up ? "up" : "down", c->s.wg_config,
			 ok ? "ok" : "failed");
		/* Down of a tunnel that is already gone is not a failure. */
		return ok || (!up && !c->obs.present);
	}
	return link_updown(ctx, c->ifname, up, detail, dlen);
}

static bool do_restart(struct wgnl_ctx *ctx, const struct wgnl_health_step_opts *o,
		       struct wgnl_health_check *c, char *detail, size_t dlen, char *err)
{
	char d1[128], d2[128];

	if (c->s.restart_command[0]) {
		bool ok = run_command(o, c->s.restart_command);
		snprintf(detail, dlen, "restart_command %s", ok ? "ok" : "failed");
		return ok;
	}
	if (o->service && !c->s.down_command[0] && !c->s.up_command[0])
		return do_service(o, c, WGNL_HEALTH_REMEDY_RESTART, detail, dlen, err);
	if (!c->s.wg_config[0] && !c->s.down_command[0] && !c->obs.present) {
		snprintf(detail, dlen,
			 "interface missing and no wg_config, restart_command or "
			 "up_command to recreate it");
		return false;
	}
	char e1[WGNL_HEALTH_ERROR_LEN] = "";
	bool down_ok = do_tunnel(ctx, o, c, false, d1, sizeof(d1), e1);
	bool ok = do_tunnel(ctx, o, c, true, d2, sizeof(d2), err);
	if (!down_ok && e1[0] && !err[0])
		memcpy(err, e1, sizeof(e1));
	snprintf(detail, dlen, "%.120s; %.120s", d1, d2);
	return ok;
}

/* The remedy of an ACT_REMEDY decision. True when it worked. */
static bool act(struct wgnl_ctx *ctx, const struct wgnl_health_step_opts *o,
		struct wgnl_health_check *c)
{
	struct wgnl_health_remedy_log *l;
	char detail[256], err[WGNL_HEALTH_ERROR_LEN] = "";
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
			l = log_remedy(c, rm, true, "%s", detail);
			if (l)
				l->skipped = true;
			rm = WGNL_HEALTH_REMEDY_RESET_ENDPOINT;
			r = do_reset_endpoints(ctx, c, false, detail, sizeof(detail));
		}
		ok = r >= 0;
		break;
	case WGNL_HEALTH_REMEDY_RESTART:
		ok = do_restart(ctx, o, c, detail, sizeof(detail), err);
		break;
	case WGNL_HEALTH_REMEDY_TUNNEL_DOWN:
		ok = do_tunnel(ctx, o, c, false, detail, sizeof(detail), err);
		break;
	case WGNL_HEALTH_REMEDY_TUNNEL_UP:
		ok = do_tunnel(ctx, o, c, true, detail, sizeof(detail), err);
		break;
	case WGNL_HEALTH_REMEDY_LINK_UP:
		ok = link_updown(ctx, c->ifname, true, detail, sizeof(detail));
		break;
	default:
		return true;
	}
	l = log_remedy(c, rm, ok, "%s", detail);
	if (l && !ok)
		memcpy(l->error, err, sizeof(err));
	return ok;
}

/* The per-peer remedies the policy chose: set those peers' endpoints
 * again, nothing else on the interface. */
static void act_peers(struct wgnl_ctx *ctx, struct wgnl_health_check *c)
{
	char detail[256];
	int r;

	if (!c->d.n_peer_remedies || !c->dev)
		return;
	r = do_reset_endpoints(ctx, c, true, detail, sizeof(detail));
	log_remedy(c, WGNL_HEALTH_REMEDY_RESET_ENDPOINT, r >= 0, "per peer: %s", detail);
}

/* The caller's options in the struct this library knows. */
static int step_opts(struct wgnl_health_step_opts *so, const struct wgnl_health_step_opts *o)
{
	if (!o ||
	    wgi_opts_copy(so, sizeof(*so), o, WGI_SIZE_0_1(struct wgnl_health_step_opts, arg)) < 0)
		return -EINVAL;
	return 0;
}

int wgnl_health_remedy_run(struct wgnl_ctx *ctx, struct wgnl_health_check *c,
			   const struct wgnl_health_step_opts *o)
{
	struct wgnl_health_step_opts so;

	if (!c || step_opts(&so, o) < 0)
		return -EINVAL;
	if (c->d.action == WGNL_HEALTH_ACT_REMEDY) {
		bool ok = act(ctx, &so, c);
		wgnl_health_remedy_done(&c->st, &c->d, ok);
	}
	act_peers(ctx, c);
	return 0;
}

/* ---------------------------------------------------------- one check */

static int ensure_dir(const char *dir)
{
	if (mkdir(dir, 0700) == 0 || errno == EEXIST)
		return 0;
	return -errno;
}

/* Overlapping runs (a timer's and a manual one) take turns: wait for the
 * lock, but only so long. Returns 0 with *fd, or -errno. */
static int lock_wait(const char *dir, const char *path, uint32_t wait_ms, int *fd)
{
	int64_t give_up = clock_ms(CLOCK_MONOTONIC) + wait_ms;
	int r = ensure_dir(dir);

	while (r == 0 && (r = wgnl_health_lock(path, fd)) == -EWOULDBLOCK &&
	       clock_ms(CLOCK_MONOTONIC) < give_up) {
		struct timespec ts = { .tv_sec = 0, .tv_nsec = 50 * 1000000 };
		nanosleep(&ts, NULL);
		r = 0;
	}
	return r;
}

/* Observe, judge, decide: the part a read-only check also does. */
static void judge(struct wgnl_ctx *ctx, struct wgnl_health_check *c)
{
	int r = wgnl_health_observe(ctx, c);

	if (r < 0) {
		const char *why = wgnl_ctx_last_error(ctx);

		c->unknown = true;
		snprintf(c->unknown_why, sizeof(c->unknown_why), "cannot read '%s': %s%s%.160s",
			 c->ifname, strerror(-r), why && why[0] ? ": " : "", why ? why : "");
		return;
	}
	if (wgnl_health_evaluate(&c->s, &c->st, &c->obs, c->now_ms, &c->res) < 0 ||
	    wgnl_health_decide(&c->s, &c->st, &c->res, &c->obs, c->now_ms, randombytes_random(),
			       &c->d) < 0) {
		c->unknown = true;
		snprintf(c->unknown_why, sizeof(c->unknown_why), "out of memory");
	}
}

/* Where the OS has no policy routing (Windows; the network ops have
 * bypass_add), a full tunnel's endpoint bypass routes that a media-sense flap
 * of the LAN adapter took away come back at every check of a wg-quick
 * tunnel that is there: best effort, the verdict is the handshakes'. */
static void repair_bypass(struct wgnl_ctx *ctx, const struct wgnl_health_check *c)
{
	struct wgnl_config_error e;
	struct wgnl_config *cfg = NULL;

	if (!ctx->net->bypass_add || !c->obs.present || !c->s.wg_config[0] ||
	    wgnl_config_parse_file(c->s.wg_config, WGNL_CONFIG_QUICK, &cfg, &e) < 0)
		return;
	wgnl_quick_bypass_repair(ctx, c->ifname, cfg, NULL);
	wgnl_config_free(cfg);
	wgi_clear_error(ctx);
}

int wgnl_health_check_step(struct wgnl_ctx *ctx, const char *ifname,
			   const struct wgnl_health_step_opts *o, struct wgnl_health_check *c)
{
	struct wgnl_health_step_opts so;
	char path[PATH_MAX], lockpath[PATH_MAX];
	int lockfd = -1, r;

	if (!c || !ifname || step_opts(&so, o) < 0 || !wgi_health_settings_ok(so.settings) ||
	    !so.state_dir || !ifname[0] || strlen(ifname) >= WGNL_IFNAMSIZ)
		return -EINVAL;
	memset(c, 0, sizeof(*c));
	snprintf(c->ifname, sizeof(c->ifname), "%s", ifname);
	c->s = *so.settings;
	c->obs.underlay = -1;
	snprintf(path, sizeof(path), "%s/%s.state", so.state_dir, ifname);
	snprintf(lockpath, sizeof(lockpath), "%s/%s.lock", so.state_dir, ifname);
	/* An interface in maintenance (taken down on purpose, being worked
	 * on) is neither judged nor touched: no lock, no remedy, no state. */
	snprintf(c->maint_path, sizeof(c->maint_path), "%s/%s.maintenance", so.state_dir, ifname);
	if (access(c->maint_path, F_OK) == 0) {
		c->maintenance = true;
		c->now_ms = clock_ms(CLOCK_REALTIME);
		return 0;
	}
	if (!so.read_only) {
		r = lock_wait(so.state_dir, lockpath, so.lock_wait_ms, &lockfd);
		if (r < 0) {
			c->unknown = true;
			c->lock_error = r;
			if (r == -EWOULDBLOCK)
				snprintf(c->unknown_why, sizeof(c->unknown_why),
					 "another wghealth run holds the lock (waited %.1f s; "
					 "monitoring: use --read-only)",
					 so.lock_wait_ms / 1000.0);
			else
				snprintf(c->unknown_why, sizeof(c->unknown_why), "%s",
					 strerror(-r));
			return 0;
		}
	}
	c->state_load = wgnl_health_state_load(path, &c->st);
	c->state_corrupt = c->state_load == -EBADMSG;
	c->now_ms = clock_ms(CLOCK_REALTIME);
	judge(ctx, c);
	if (c->unknown || so.read_only)
		goto out;
	repair_bypass(ctx, c);
	/* An interface that is not there, was never seen (no state) and that
	 * nothing could create (no wg_config, up or restart command): a typo.
	 * Report it, but leave no state or history behind. */
	if (!c->obs.present && c->state_load == -ENOENT && !c->s.wg_config[0] &&
	    !c->s.up_command[0] && !c->s.restart_command[0] && !so.service) {
		c->never_existed = true;
		goto out;
	}
	wgnl_health_remedy_run(ctx, c, &so);
	if (so.record)
		so.record(c, so.arg);
	c->state_save = wgnl_health_state_save(path, &c->st);
out:
	if (c->never_existed)
		unlink(lockpath);
	if (lockfd >= 0)
		close(lockfd);
	return 0;
}

void wgnl_health_check_clear(struct wgnl_health_check *c)
{
	if (!c)
		return;
	wgnl_health_state_clear(&c->st);
	wgnl_health_result_clear(&c->res);
	free(c->pobs);
	wgnl_device_free(c->dev);
	memset(c, 0, sizeof(*c));
}
