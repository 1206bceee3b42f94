// SPDX-License-Identifier: MIT
/* STUN in the daemon: the library's io_uring server (wgnl_stun_server_*) on
 * each [Stun] Listen, each in its own thread; replies leave from the
 * address a request came to (a wildcard listener answers a request to the
 * anycast address from the anycast address). A prober thread asks every
 * listener with the library's client every GW_STUN_PROBE_MS; gw_stun_ok()
 * is true while one answered within GW_STUN_OK_MS (readiness). */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "edge.h"
#include "wgkit/wgnl_stun.h"

#define GW_STUN_PROBE_MS 2000

struct stun_one {
	struct gw_stun *st;
	struct wgnl_stun_server_config cfg;
	/* Created, run and freed by its own thread (the ring is single
	 * issuer: io_uring_enter from another thread fails with EEXIST);
	 * others only call wgnl_stun_server_stop() on it. */
	struct wgnl_stun_server *srv; /* set under st->lock */
	int start_err;		      /* 1 until the thread reports, then 0 or -errno */
	pthread_t thread;
	bool started;
	union wgnl_endpoint probe_to;	     /* the listener, a wildcard made loopback */
	struct wgnl_stun_server_stats stats; /* guarded by st->lock */
};

struct gw_stun {
	struct gw *gw;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool quit;	    /* guarded by lock */
	int64_t last_ok_ms; /* guarded by lock */
	pthread_t prober;
	bool prober_started;
	size_t n;
	struct stun_one one[GW_MAX_STUN];
};

static bool quitting(struct gw_stun *st)
{
	bool q;

	pthread_mutex_lock(&st->lock);
	q = st->quit;
	pthread_mutex_unlock(&st->lock);
	return q;
}

/* Sum the servers' counters (under st->lock) and write them into the
 * metrics snapshot (under its lock); the main loop's publish keeps them. */
static void publish_counters(struct gw_stun *st)
{
	uint64_t req = 0, ans = 0, drop = 0;

	pthread_mutex_lock(&st->lock);
	for (size_t i = 0; i < st->n; i++) {
		const struct wgnl_stun_server_stats *s = &st->one[i].stats;

		req += s->rx;
		ans += s->answered;
		drop += s->drop_not_stun + s->drop_size + s->drop_malformed + s->drop_class +
			s->drop_ratelimit + s->drop_nospace;
	}
	pthread_mutex_unlock(&st->lock);
	pthread_mutex_lock(&st->gw->metrics.lock);
	st->gw->metrics.s.stun_requests_total = req;
	st->gw->metrics.s.stun_answered_total = ans;
	st->gw->metrics.s.stun_dropped_total = drop;
	pthread_mutex_unlock(&st->gw->metrics.lock);
}

static void *serve(void *arg)
{
	struct stun_one *o = arg;
	struct wgnl_stun_server_stats stats;
	struct wgnl_stun_server *srv = NULL;
	int r = wgnl_stun_server_new(&o->cfg, &srv);

	pthread_mutex_lock(&o->st->lock);
	o->srv = srv;
	o->start_err = r < 0 ? r : 0;
	pthread_cond_broadcast(&o->st->cond);
	pthread_mutex_unlock(&o->st->lock);
	if (r < 0)
		return NULL;

	/* Short runs: the counters are published between them, by this
	 * thread (the server's statistics are not meant to be read while it
	 * runs). */
	while (!quitting(o->st)) {
		r = wgnl_stun_server_run(srv, 500);
		wgnl_stun_server_get_stats(srv, &stats);
		pthread_mutex_lock(&o->st->lock);
		o->stats = stats;
		pthread_mutex_unlock(&o->st->lock);
		publish_counters(o->st);
		if (r < 0) {
			/* The self-probe stops being answered: not ready. */
			gw_log("error", "stun: server stopped: %s", strerror(-r));
			break;
		}
	}
	pthread_mutex_lock(&o->st->lock);
	o->srv = NULL;
	pthread_mutex_unlock(&o->st->lock);
	wgnl_stun_server_free(srv);
	return NULL;
}

static int probe_all(struct gw_stun *st)
{
	struct wgnl_stun_client_opts opts = {
		.size = sizeof(opts), .rto_ms = 200, .max_tries = 3, .timeout_ms = 1500
	};
	int answered = 0;

	for (size_t i = 0; i < st->n; i++) {
		struct wgnl_stun_client *c = NULL;
		struct wgnl_stun_query q = { .server = st->one[i].probe_to };

		if (wgnl_stun_client_new(&opts, q.server.addr.sa_family, &c) < 0)
			continue;
		if (wgnl_stun_client_query(c, &q, 1) == 1 && q.status == 0)
			answered++;
		wgnl_stun_client_free(c);
	}
	return answered;
}

static void *prober(void *arg)
{
	struct gw_stun *st = arg;

	for (;;) {
		struct timespec until;
		int ok = probe_all(st);

		pthread_mutex_lock(&st->lock);
		/* Every listener must answer: one dead listener is a node that
		 * does not serve part of its clients. */
		if (ok == (int)st->n)
			st->last_ok_ms = gw_now_ms();
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += GW_STUN_PROBE_MS / 1000;
		while (!st->quit &&
		       pthread_cond_timedwait(&st->cond, &st->lock, &until) != ETIMEDOUT)
			;
		if (st->quit) {
			pthread_mutex_unlock(&st->lock);
			return NULL;
		}
		pthread_mutex_unlock(&st->lock);
	}
}

/* Where the self-probe goes: the listener itself, a wildcard made
 * loopback. */
static void probe_target(const union wgnl_endpoint *l, union wgnl_endpoint *to)
{
	*to = *l;
	if (l->addr.sa_family == AF_INET && l->addr4.sin_addr.s_addr == htonl(INADDR_ANY))
		to->addr4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (l->addr.sa_family == AF_INET6 && IN6_IS_ADDR_UNSPECIFIED(&l->addr6.sin6_addr))
		to->addr6.sin6_addr = in6addr_loopback;
}

void gw_stun_stop(struct gw *gw)
{
	struct gw_stun *st = gw->stun;

	if (!st)
		return;
	pthread_mutex_lock(&st->lock);
	st->quit = true;
	pthread_cond_broadcast(&st->cond);
	pthread_mutex_unlock(&st->lock);
	for (size_t i = 0; i < st->n; i++) {
		if (!st->one[i].started)
			continue;
		/* Under the lock: the thread frees its server only after
		 * clearing the pointer under it. */
		pthread_mutex_lock(&st->lock);
		if (st->one[i].srv)
			wgnl_stun_server_stop(st->one[i].srv);
		pthread_mutex_unlock(&st->lock);
		pthread_join(st->one[i].thread, NULL);
	}
	if (st->prober_started)
		pthread_join(st->prober, NULL);
	pthread_cond_destroy(&st->cond);
	pthread_mutex_destroy(&st->lock);
	free(st);
	gw->stun = NULL;
}

static int cond_init_monotonic(pthread_cond_t *c)
{
	pthread_condattr_t a;
	int r;

	pthread_condattr_init(&a);
	pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	r = pthread_cond_init(c, &a);
	pthread_condattr_destroy(&a);
	return -r;
}

int gw_stun_start(struct gw *gw)
{
	const struct gw_conf *c = &gw->conf;
	struct gw_stun *st;
	int r;

	if (!c->n_stun)
		return 0;
	st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	pthread_mutex_init(&st->lock, NULL);
	r = cond_init_monotonic(&st->cond);
	if (r < 0) {
		pthread_mutex_destroy(&st->lock);
		free(st);
		return r;
	}
	gw->stun = st;
	st->gw = gw;
	for (size_t i = 0; i < c->n_stun; i++) {
		struct stun_one *o = &st->one[i];

		o->st = st;
		o->cfg.size = sizeof(o->cfg);
		o->cfg.addr = c->stun_ep[i];
		o->cfg.software = "wg-gatewayd";
		o->start_err = 1;
		probe_target(&c->stun_ep[i], &o->probe_to);
		st->n = i + 1;
		r = -pthread_create(&o->thread, NULL, serve, o);
		if (r < 0)
			goto fail;
		o->started = true;
		pthread_mutex_lock(&st->lock);
		while (o->start_err == 1)
			pthread_cond_wait(&st->cond, &st->lock);
		r = o->start_err;
		pthread_mutex_unlock(&st->lock);
		if (r < 0) {
			gw_log("error", "stun: cannot listen on %s: %s", c->stun_listen[i],
			       strerror(-r));
			goto fail;
		}
		gw_log("info", "stun: listening on %s", c->stun_listen[i]);
	}
	r = -pthread_create(&st->prober, NULL, prober, st);
	if (r < 0)
		goto fail;
	st->prober_started = true;
	return 0;
fail:
	gw_stun_stop(gw);
	return r;
}

bool gw_stun_ok(struct gw *gw)
{
	struct gw_stun *st = gw->stun;
	int64_t last;

	if (!gw->conf.n_stun)
		return true;
	if (!st)
		return false;
	pthread_mutex_lock(&st->lock);
	last = st->last_ok_ms;
	pthread_mutex_unlock(&st->lock);
	return last && gw_now_ms() - last <= GW_STUN_OK_MS;
}

bool gw_stun_never(struct gw *gw)
{
	struct gw_stun *st = gw->stun;
	bool never;

	if (!st)
		return true;
	pthread_mutex_lock(&st->lock);
	never = !st->last_ok_ms;
	pthread_mutex_unlock(&st->lock);
	return never;
}
