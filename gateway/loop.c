// SPDX-License-Identifier: MIT
/* The daemon's main loop: one thread polls the source's fd, a signalfd and
 * a timerfd. Every turn it applies what the source handed over (one set),
 * evaluates readiness, refreshes the anycast addresses only while ready
 * (a daemon that is killed, stopped or hung stops refreshing, and the kernel
 * removes them after LifetimeSeconds), pings the systemd watchdog and
 * publishes the metrics snapshot. SIGHUP: full re-read. SIGTERM/SIGINT:
 * withdraw now, keep serving DrainSeconds, exit 0. */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/prctl.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "err.h"
#include "exitcodes.h"
#include "gw.h"
#include "iflock.h"
#include "quick.h"

/* Housekeeping tick: link state, readiness, anycast, watchdog. */
#define TICK_MS 100
#define LINK_CHECK_MS 1000

struct loop {
	struct gw *gw;
	int sfd, tfd;
	int lockfd;	/* the interface's lock (/run/wgkit/IF.lock), held while running */
	bool need_full; /* the last full read failed: retry */
	bool deferred;	/* started from the state file: the full read comes next */
	bool started;	/* the first apply succeeded */
	bool notified;	/* READY=1 sent (at the first apply, or after StartWaitSeconds) */
	bool was_ready;
	int64_t next_full, next_drift, next_link, next_refresh, next_watchdog;
	int64_t watchdog_ms;
	int64_t drain_until; /* 0: not draining */
	int64_t start_ms;
	char status_sent[160]; /* the last STATUS= */
};

/* The WireGuard device: there already (kernel or userspace), else created
 * (a kernel link; without WireGuard in the kernel, or with Backend =
 * userspace, the userspace implementation as `wgctl up` starts it), up. */
static int ensure_device(struct gw *gw)
{
	const struct gw_conf *c = &gw->conf;
	struct wgnl_link link;
	int r;

	if (!c->backend_auto)
		wgnl_ctx_set_backend(gw->ctx, c->backend);
	r = wgnl_link_get(gw->ctx, c->ifname, &link);
	if (r == -ENODEV) {
		r = -EOPNOTSUPP;
		if (c->backend_auto || c->backend == WGNL_BACKEND_KERNEL)
			r = wgnl_link_add(gw->ctx, c->ifname, "wireguard");
		if (r == 0) {
			gw_log("info", "device: created %s (kernel)", c->ifname);
		} else if (r == -EOPNOTSUPP &&
			   (c->backend_auto || c->backend == WGNL_BACKEND_UAPI)) {
			const char *prog = quick_userspace_prog(NULL);

			if (quick_userspace_start("device", gw->ctx, prog, c->ifname))
				return -EIO;
			gw_log("info", "device: created %s (userspace: %s)", c->ifname, prog);
			r = 0;
		}
		if (r < 0) {
			gw_log("error", "device: cannot create %s: %s", c->ifname, strerror(-r));
			return r;
		}
	} else if (r < 0) {
		gw_log("error", "device: cannot read link %s: %s", c->ifname, strerror(-r));
		return r;
	} else {
		gw_log("info", "device: %s exists (%s)", c->ifname, link.kind[0] ? link.kind : "?");
	}
	r = wgnl_link_set_up(gw->ctx, c->ifname, true);
	if (r < 0)
		gw_log("error", "device: cannot set %s up: %s", c->ifname, strerror(-r));
	return r;
}

static int setup_fds(struct loop *l)
{
	struct itimerspec its = {
		.it_interval = { 0, TICK_MS * 1000000L },
		.it_value = { 0, TICK_MS * 1000000L },
	};
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -errno;
	signal(SIGPIPE, SIG_IGN);
	l->sfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (l->sfd < 0)
		return -errno;
	l->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (l->tfd < 0 || timerfd_settime(l->tfd, 0, &its, NULL) < 0)
		return -errno;
	return 0;
}

/* Copy the main loop's state into the snapshot the other threads read; the
 * STUN counters are the STUN side's (written under the lock). */
static void publish(struct gw *gw)
{
	struct gw_metrics *m = &gw->metrics;
	uint64_t req, ans, drop;

	pthread_mutex_lock(&m->lock);
	req = m->s.stun_requests_total;
	ans = m->s.stun_answered_total;
	drop = m->s.stun_dropped_total;
	m->s = gw->now;
	m->s.stun_requests_total = req;
	m->s.stun_answered_total = ans;
	m->s.stun_dropped_total = drop;
	pthread_mutex_unlock(&m->lock);
}

static void full_read(struct loop *l, const char *why)
{
	struct gw *gw = l->gw;
	int r;

	r = gw->src_ops->full(gw->src, gw_apply_sink(gw->apply));
	l->need_full = r < 0;
	if (r < 0)
		gw_log("error", "source: full read (%s) failed: %s", why, strerror(-r));
	l->next_full = gw_now_ms() + (int64_t)gw->conf.full_reread_s * 1000;
}

/* The link up? A device deleted behind the daemon is made again (its peers
 * follow: a failed set or the drift check asks for a plan). */
static void check_link(struct gw *gw)
{
	struct wgnl_link link;
	int r = wgnl_link_get(gw->ctx, gw->conf.ifname, &link);

	if (r == -ENODEV) {
		gw_log("warning", "device: %s is gone, creating it again", gw->conf.ifname);
		if (ensure_device(gw) == 0) {
			gw_apply_replan(gw->apply);
			r = wgnl_link_get(gw->ctx, gw->conf.ifname, &link);
		}
	}
	gw->now.link_up = r == 0 && link.up;
}

/* STATUS= for systemd, sent when it changes. */
static void status(struct loop *l)
{
	struct gw *gw = l->gw;
	char buf[sizeof(l->status_sent)];

	if (!l->started)
		snprintf(
			buf, sizeof(buf),
			"STATUS=waiting for the first registry read (%s); the device is left as it is",
			gw->now.registry_up ? "reading" : "registry unreachable");
	else
		snprintf(buf, sizeof(buf), "STATUS=peers=%" PRIu64 " change_id=%" PRId64 "%s",
			 gw->now.applied_peers, gw->now.change_id_applied,
			 gw->draining ? " draining" : "");
	if (!strcmp(buf, l->status_sent))
		return;
	memcpy(l->status_sent, buf, sizeof(buf));
	gw_notify(buf);
}

/* A registry that cannot be read at start (PostgreSQL not up yet after a
 * power cut): after StartWaitSeconds the unit is started for systemd
 * anyway, rather than failing its start timeout and restarting in a loop.
 * Nothing else changes: not ready, nothing announced, the device left as
 * it is until the first read is applied. */
static void start_wait(struct loop *l, int64_t now)
{
	struct gw *gw = l->gw;

	if (l->notified || !gw->conf.start_wait_s ||
	    now - l->start_ms < (int64_t)gw->conf.start_wait_s * 1000)
		return;
	l->notified = true;
	gw_notify("READY=1");
	gw_log("warning",
	       "start: no registry read applied after %u s (StartWaitSeconds): started for "
	       "systemd, not ready to serve; %s is left as it is until the first read",
	       gw->conf.start_wait_s, gw->conf.ifname);
}

/* Readiness and the anycast addresses; only ever from this thread. */
static void announce(struct loop *l, int64_t now)
{
	struct gw *gw = l->gw;
	int64_t every = (int64_t)gw->conf.lifetime_s * 1000 / 3;

	gw->now.registry_up = gw->src_ops->connected(gw->src);
	gw->now.registry_last_ok_ms = gw->src_ops->last_ok_ms(gw->src);
	if (gw->src_ops->reconnects)
		gw->now.registry_reconnects_total = gw->src_ops->reconnects(gw->src);
	gw_ready_eval(gw, now);
	if (gw->now.ready != l->was_ready) {
		if (gw->now.ready) {
			gw_log("info", "ready: yes");
		} else {
			char one[sizeof(gw->now.not_ready)];
			char *nl;

			snprintf(one, sizeof(one), "%s", gw->now.not_ready);
			for (nl = strchr(one, '\n'); nl; nl = strchr(nl, '\n'))
				*nl = nl[1] ? ';' : '\0';
			gw_log("warning", "ready: no: %s", one);
		}
		l->was_ready = gw->now.ready;
	}
	if (!gw->now.ready || gw->draining) {
		if (gw->now.announced) {
			gw_anycast_withdraw(gw);
			gw->now.announced = false;
			gw_log("info", "anycast: withdrawn");
		}
		return;
	}
	if (!gw->conf.n_anycast || now < l->next_refresh)
		return;
	l->next_refresh = now + (every > 0 ? every : 1000);
	if (gw_anycast_refresh(gw) == 0) {
		if (!gw->now.announced)
			gw_log("info", "anycast: announced");
		gw->now.announced = true;
	} else if (gw->now.announced) {
		gw->now.announced = false;
		gw_log("warning", "anycast: refresh failed");
	}
}

static void start_drain(struct loop *l, int64_t now, int sig)
{
	struct gw *gw = l->gw;

	if (gw->draining) {
		gw_log("info", "drain: second %s, exit now", strsignal(sig));
		l->drain_until = now;
		return;
	}
	gw->draining = true;
	gw_notify("STOPPING=1");
	gw_anycast_withdraw(gw);
	gw->now.announced = false;
	l->drain_until = now + (int64_t)gw->conf.drain_s * 1000;
	gw_log("info", "drain: %s: anycast withdrawn, serving %u s more", strsignal(sig),
	       gw->conf.drain_s);
}

static void read_signals(struct loop *l, int64_t now)
{
	struct signalfd_siginfo si;

	while (read(l->sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGHUP) {
			gw_log("info", "signal: SIGHUP, full re-read");
			full_read(l, "SIGHUP");
		} else {
			start_drain(l, now, (int)si.ssi_signo);
		}
	}
}

/* Apply what the source handed over; the first success makes the node
 * ready; each one that leaves the device in step updates the state file. */
static void flush(struct loop *l)
{
	struct gw *gw = l->gw;

	if (gw_apply_flush(gw->apply) < 0)
		return;
	if (!l->started) {
		l->started = true;
		if (!l->notified)
			gw_notify("READY=1");
		l->notified = true;
		gw_log("info", "start: ready to serve peers=%" PRIu64 " change_id=%" PRId64,
		       gw->now.applied_peers, gw->now.change_id_applied);
	}
	gw_apply_save_state(gw->apply);
}

static void turn(struct loop *l, int64_t now)
{
	struct gw *gw = l->gw;

	if (l->need_full && now >= l->next_full - (int64_t)gw->conf.full_reread_s * 1000 + 1000)
		full_read(l, "retry");
	else if (now >= l->next_full)
		full_read(l, "timer");
	flush(l);
	/* A start from the state file: the source is read in full now that
	 * the node serves (or at once, when the device was not as it said). */
	if (l->deferred && (l->started || !gw_apply_assumed(gw->apply))) {
		l->deferred = false;
		full_read(l, "start");
		flush(l);
	}
	if (now >= l->next_link) {
		check_link(gw);
		l->next_link = now + LINK_CHECK_MS;
	}
	if (gw->conf.drift_check_s && now >= l->next_drift) {
		gw_apply_drift_check(gw->apply);
		l->next_drift = now + (int64_t)gw->conf.drift_check_s * 1000;
	}
	announce(l, now);
	start_wait(l, now);
	if (l->watchdog_ms && now >= l->next_watchdog) {
		gw_notify("WATCHDOG=1");
		l->next_watchdog = now + l->watchdog_ms;
	}
	status(l);
	gw->now.loop_ms = now;
	publish(gw);
}

static int run_loop(struct loop *l)
{
	struct gw *gw = l->gw;
	struct pollfd pfd[3];
	int64_t now = gw_now_ms();
	uint64_t ticks;
	int timeout, wake;

	l->start_ms = now;
	l->next_full = now + (int64_t)gw->conf.full_reread_s * 1000;
	l->next_drift = now + (int64_t)gw->conf.drift_check_s * 1000;
	l->watchdog_ms = gw_watchdog_interval_ms();
	gw_apply_prefetch(gw->apply);
	/* The source's content as the state file knew it: no read before
	 * the device is checked (the read comes right after); else now. */
	if (gw_apply_assume(gw->apply))
		l->deferred = true;
	else
		full_read(l, "start");
	turn(l, gw_now_ms());
	for (;;) {
		now = gw_now_ms();
		if (l->drain_until && now >= l->drain_until)
			break;
		timeout = -1;
		wake = gw->src_ops->tick ?
			       gw->src_ops->tick(gw->src, gw_apply_sink(gw->apply), now) :
			       -1;
		if (wake >= 0)
			timeout = wake;
		/* What that tick handed over goes out now, not after the
		 * next wake-up (up to a timer tick later). */
		flush(l);
		pfd[0] = (struct pollfd){ .fd = l->sfd, .events = POLLIN };
		pfd[1] = (struct pollfd){ .fd = l->tfd, .events = POLLIN };
		pfd[2] = (struct pollfd){ .fd = gw->src_ops->fd ? gw->src_ops->fd(gw->src) : -1,
					  .events = POLLIN };
		if (poll(pfd, 3, timeout) < 0 && errno != EINTR) {
			gw_log("error", "poll: %s", strerror(errno));
			return WGK_EXIT_SYSTEM;
		}
		now = gw_now_ms();
		if (pfd[0].revents & POLLIN)
			read_signals(l, now);
		if (pfd[1].revents & POLLIN)
			while (read(l->tfd, &ticks, sizeof(ticks)) == (ssize_t)sizeof(ticks))
				;
		if (pfd[2].fd >= 0 && (pfd[2].revents & (POLLIN | POLLERR | POLLHUP)))
			gw->src_ops->poll(gw->src, gw_apply_sink(gw->apply));
		/* The clock again: what the poll just armed is due now. */
		now = gw_now_ms();
		if (gw->src_ops->tick)
			gw->src_ops->tick(gw->src, gw_apply_sink(gw->apply), now);
		turn(l, now);
	}
	gw_log("info", "drain: done, exit");
	return WGK_EXIT_OK;
}

int gw_run(const char *conf_path)
{
	struct gw *gw = calloc(1, sizeof(*gw));
	struct loop l = { .gw = NULL, .sfd = -1, .tfd = -1, .lockfd = -1 };
	char err[512];
	int r, rc = WGK_EXIT_SYSTEM;

	if (!gw) {
		wgk_error("out of memory");
		return WGK_EXIT_SYSTEM;
	}
	l.gw = gw;
	/* No transparent huge pages: the start's peak (about 1 KB a peer)
	 * leaves a sparse heap after malloc_trim(), and with THP "always"
	 * (Debian's default) khugepaged fills it back in 2 MiB pages seconds
	 * later: 100,000 peers went from 16 to 25, then 36 MB, with nothing
	 * allocated. The daemon walks its memory rarely; huge pages gain it
	 * nothing. Set before the registry is read; inherited by nothing (the
	 * daemon execs nothing). */
	if (prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0) < 0)
		gw_log("warning",
		       "start: cannot turn transparent huge pages off (%s); RSS may grow "
		       "after a big apply",
		       strerror(errno));
	r = gw_conf_parse(&gw->conf, conf_path, err, sizeof(err));
	if (r < 0) {
		wgk_error("%s", err);
		free(gw);
		return (r == -EPERM || r == -EACCES) ? WGK_EXIT_PERM : WGK_EXIT_INPUT;
	}
	pthread_mutex_init(&gw->metrics.lock, NULL);
	gw_log("info", "start: wg-gatewayd %s config=%s interface=%s source=%s", WGKIT_VERSION,
	       conf_path, gw->conf.ifname, gw->conf.source_name);
	/* The device is this daemon's while it runs: a second wg-gatewayd, or
	 * a wgctl sync/up/down/set of the same interface, is refused rather
	 * than left to fight it (the lock wgctl and wghealth take). */
	rc = wgk_if_lock("wg-gatewayd", gw->conf.ifname, 0, &l.lockfd);
	if (rc != WGK_EXIT_OK)
		goto out;
	rc = WGK_EXIT_SYSTEM;
	gw->src_ops = gw_source_find(gw->conf.source_name);
	if (!gw->src_ops) {
		wgk_error("%s: Source: '%s' is not built in", conf_path, gw->conf.source_name);
		rc = WGK_EXIT_INPUT;
		goto out;
	}
	/* The source (libpq for PostgreSQL) and libmicrohttpd load before the
	 * device is touched: a node missing one exits 5 having changed nothing. */
	r = gw->src_ops->open(&gw->src, &gw->conf, err, sizeof(err));
	if (r < 0) {
		wgk_error("%s", err);
		rc = r == -EOPNOTSUPP || r == -ELIBACC ? WGK_EXIT_SYSTEM :
							 wgk_exit_for_file_errno(r);
		goto out;
	}
	r = gw_http_load(gw, err, sizeof(err));
	if (r < 0) {
		wgk_error("%s", err);
		goto out;
	}
	r = setup_fds(&l);
	if (r < 0) {
		wgk_error("cannot set up signals and timers: %s", strerror(-r));
		goto out;
	}
	r = wgnl_ctx_open(&gw->ctx);
	if (r < 0) {
		wgk_error("cannot open a netlink context: %s", strerror(-r));
		goto out;
	}
	r = ensure_device(gw);
	if (r < 0) {
		rc = wgk_exit_for_errno(r);
		goto out;
	}
	r = gw_apply_new(gw, &gw->apply);
	if (r < 0) {
		wgk_error("cannot start the apply engine: %s", strerror(-r));
		goto out;
	}
	r = gw_stun_start(gw);
	if (r == 0)
		r = gw_http_start(gw);
	if (r < 0) {
		wgk_error("cannot start the STUN or HTTP server: %s", strerror(-r));
		goto out;
	}
	rc = run_loop(&l);
out:
	gw_notify("STOPPING=1");
	if (gw->now.announced)
		gw_anycast_withdraw(gw);
	gw_http_stop(gw);
	gw_stun_stop(gw);
	if (gw->src)
		gw->src_ops->close(gw->src);
	gw_apply_free(gw->apply);
	wgnl_ctx_close(gw->ctx);
	if (l.sfd >= 0)
		close(l.sfd);
	if (l.tfd >= 0)
		close(l.tfd);
	wgk_if_unlock(l.lockfd);
	gw_conf_clear(&gw->conf);
	pthread_mutex_destroy(&gw->metrics.lock);
	free(gw);
	return rc;
}
