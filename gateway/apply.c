// SPDX-License-Identifier: MIT
/* The apply engine: the sink the sources write rows into, over the library's
 * desired peer set (wgnl_peerset_*). Rows only change the set; the main loop
 * calls gw_apply_flush() once the source has handed over every row it has
 * now, and that sends ONE set of only the changed peers (never a dump). The
 * first flush plans against the running device instead (one streamed dump),
 * so a restart over a device already in step sends nothing at all. */
#include <errno.h>
#include <inttypes.h>
#include <malloc.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gw.h"
#include "wgkit/wgnl_sync.h"

struct gw_apply {
	struct gw *gw;
	struct gw_sink sink;
	struct wgnl_peerset *set;
	bool known;		   /* a full read completed: the desired state is known */
	bool started;		   /* the start-up plan was applied */
	bool need_plan;		   /* a set failed: plan against the device next time */
	int64_t retry_ms;	   /* a failed plan is tried again from then on */
	int64_t batch_id;	   /* the highest change id of the rows in this batch */
	struct prefetch *prefetch; /* the start-up read, while it runs */
	/* Started from the state file: its content and digest stand in for
	 * the set until the source's first full read (full_ends moves). */
	bool assumed;
	struct gw_state as;
	uint64_t full_ends, as_full_ends;
	struct gw_state saved; /* the state file as last written */
	bool saved_ok;
	/* MaxShrinkPercent refused a batch: nothing is planned again before
	 * the source hands over something new (seq moves). */
	bool held;
	uint64_t seq, held_seq;
};

static struct gw_apply *of(struct gw_sink *s)
{
	return (struct gw_apply *)((char *)s - offsetof(struct gw_apply, sink));
}

static void seen_id(struct gw_apply *a, int64_t id)
{
	a->seq++;
	if (id > a->batch_id)
		a->batch_id = id;
	if (id > a->gw->now.change_id_known)
		a->gw->now.change_id_known = id;
}

static void sink_bad(struct gw_sink *s, int64_t id, const char *why)
{
	struct gw_apply *a = of(s);

	a->gw->now.bad_rows_total++;
	gw_log("warning", "bad row id=%" PRId64 ": %s", id, why);
}

static void sink_row(struct gw_sink *s, const struct gw_row *row)
{
	struct gw_apply *a = of(s);
	int r;

	if (row->removed)
		r = wgnl_peerset_remove(a->set, row->peer->public_key);
	else
		r = wgnl_peerset_upsert(a->set, row->peer);
	if (r == -EINVAL)
		sink_bad(s, row->id, "not a valid peer (key or allowed IP)");
	else if (r < 0)
		gw_log("error", "row id=%" PRId64 ": %s", row->id, strerror(-r));
	seen_id(a, row->change_id);
}

static void sink_full_begin(struct gw_sink *s)
{
	wgnl_peerset_mark(of(s)->set);
}

static void sink_full_end(struct gw_sink *s, int64_t change_id)
{
	struct gw_apply *a = of(s);
	ssize_t n = wgnl_peerset_sweep(a->set);

	if (n < 0) {
		gw_log("error", "full read: %s", strerror((int)-n));
	} else {
		a->known = true;
		a->full_ends++;
	}
	seen_id(a, change_id);
}

static void sink_keep(struct gw_sink *s, const uint8_t *pub)
{
	wgnl_peerset_keep(of(s)->set, pub);
}

static bool sink_has(struct gw_sink *s, const uint8_t *pub)
{
	return wgnl_peerset_has(of(s)->set, pub);
}

static void sink_flush(struct gw_sink *s)
{
	(void)gw_apply_flush(of(s));
}

static void sink_full_abort(struct gw_sink *s)
{
	wgnl_peerset_unmark(of(s)->set);
}

static void sink_position(struct gw_sink *s, int64_t change_id_known)
{
	struct gw_apply *a = of(s);

	/* Every change up to here was handed over (a bad row, skipped, too):
	 * applied once this batch is flushed. Only a position past the last
	 * is news: a refused batch is planned again when the registry
	 * changes, not at every heartbeat that finds nothing new. */
	if (change_id_known > a->batch_id)
		seen_id(a, change_id_known);
}

int gw_apply_new(struct gw *gw, struct gw_apply **ret)
{
	struct gw_apply *a = calloc(1, sizeof(*a));
	struct wgnl_device *d;
	int r;

	*ret = NULL;
	if (!a)
		return -ENOMEM;
	r = wgnl_peerset_new(gw->conf.ifname, &a->set);
	if (r < 0) {
		free(a);
		return r;
	}
	/* The device's own fields the daemon owns: key and port. */
	d = wgnl_peerset_device(a->set);
	memcpy(d->private_key, gw->conf.private_key, WGNL_KEY_LEN);
	d->listen_port = gw->conf.listen_port;
	d->flags |= WGNL_DEV_HAS_PRIVATE_KEY | WGNL_DEV_HAS_LISTEN_PORT;
	a->gw = gw;
	a->sink = (struct gw_sink){
		.row = sink_row,
		.bad = sink_bad,
		.full_begin = sink_full_begin,
		.full_end = sink_full_end,
		.position = sink_position,
		.full_abort = sink_full_abort,
		.keep = sink_keep,
		.has = sink_has,
		.flush = sink_flush,
	};
	*ret = a;
	return 0;
}

static bool prefetch_in_step(struct gw_apply *a);

void gw_apply_free(struct gw_apply *a)
{
	if (!a)
		return;
	prefetch_in_step(a); /* joins a start-up read still running */
	wgnl_peerset_free(a->set);
	free(a);
}

struct gw_sink *gw_apply_sink(struct gw_apply *a)
{
	return &a->sink;
}

static void observe(struct gw_snapshot *s, double secs)
{
	size_t i = 0;

	while (i < GW_APPLY_BUCKETS && secs > gw_apply_bounds[i])
		i++;
	s->apply_counts[i]++;
	s->apply_sum += secs;
	s->apply_count++;
}

struct drift_count {
	time_t now;
	uint64_t recent;
};

/* Peers with a handshake within 180 s, counted from the drift check's dump. */
static int count_recent(const struct wgnl_device *dev, const struct wgnl_peer *p, void *data)
{
	struct drift_count *dc = data;

	(void)dev;
	if (!p) {
		dc->recent = 0;
		return 0;
	}
	if (p->last_handshake.tv_sec && dc->now - p->last_handshake.tv_sec <= 180)
		dc->recent++;
	return 0;
}

/* The start-up read of the running device, in a thread of its own while
 * the main thread reads the source: a restart over a device in step then
 * costs the longer of the two, not their sum, and sends nothing. The
 * thread has its own context; the main thread does not touch the device
 * before gw_apply_flush() joined it. */
struct prefetch {
	pthread_t th;
	struct gw *gw;
	int r;
	struct wgnl_sync_digest got;
	struct wgnl_device *info;
	struct drift_count dc;
	int64_t t_ms; /* when it started */
};

static void *prefetch_run(void *arg)
{
	struct prefetch *p = arg;
	const struct gw_conf *c = &p->gw->conf;
	struct wgnl_ctx *ctx = NULL;

	p->r = wgnl_ctx_open(&ctx);
	if (p->r < 0)
		return NULL;
	if (!c->backend_auto)
		wgnl_ctx_set_backend(ctx, c->backend);
	p->r = wgnl_sync_digest_running(ctx, c->ifname, count_recent, &p->dc, &p->got, &p->info);
	wgnl_ctx_close(ctx);
	return NULL;
}

void gw_apply_prefetch(struct gw_apply *a)
{
	struct prefetch *p = calloc(1, sizeof(*p));

	if (!p)
		return;
	p->gw = a->gw;
	p->dc.now = time(NULL);
	p->t_ms = gw_now_ms();
	if (pthread_create(&p->th, NULL, prefetch_run, p) != 0) {
		free(p);
		return;
	}
	a->prefetch = p;
}

/* Join the start-up read. True when the running device already is the
 * desired one: same peers (digest), private key and listen port. */
static bool prefetch_in_step(struct gw_apply *a)
{
	struct prefetch *p = a->prefetch;
	const struct gw_conf *c = &a->gw->conf;
	struct wgnl_sync_digest want;
	bool same = false;

	if (!p)
		return false;
	pthread_join(p->th, NULL);
	a->prefetch = NULL;
	/* A read older than a few seconds (the registry was down at start-up)
	 * says nothing reliable about the device now: plan instead. */
	if (p->r == 0 && gw_now_ms() - p->t_ms < 5000 && p->info &&
	    (p->info->flags & WGNL_DEV_HAS_PRIVATE_KEY) &&
	    wgnl_key_equal(p->info->private_key, c->private_key) &&
	    p->info->listen_port == c->listen_port) {
		if (a->assumed)
			wgnl_peerset_digest_as(a->set, &a->as.sum, a->as.n, p->info, &want);
		else
			wgnl_peerset_digest(a->set, p->info, &want);
		same = want.a == p->got.a && want.b == p->got.b;
		a->gw->now.peers_handshake_recent = p->dc.recent;
	}
	wgnl_device_free(p->info);
	free(p);
	return same;
}

/* MaxShrinkPercent: a batch that would leave the device with fewer peers
 * than it holds (@before) by more than that share (and by more than
 * GW_REMOVE_FLOOR) is refused: a truncated file or a wiped table must not
 * empty a gateway, while churn (as many added as removed) and growth pass.
 * The device is kept as it is (the node keeps serving it), the refusal
 * logged and counted, and nothing is tried again until the source hands
 * over something new; then a plan against the device. */
static bool refuse(struct gw_apply *a, size_t removed, size_t added, size_t before)
{
	const struct gw_conf *c = &a->gw->conf;
	size_t shrink = removed > added ? removed - added : 0;

	if (c->max_shrink_pct >= 100 || shrink <= GW_REMOVE_FLOOR ||
	    shrink * 100 <= (size_t)c->max_shrink_pct * before)
		return false;
	a->held = a->need_plan = true;
	a->held_seq = a->seq;
	a->gw->now.apply_held = true;
	a->gw->now.apply_refused_total++;
	gw_log("error",
	       "apply: refused: it would take %s from %zu to %zu peers (remove %zu, add %zu; "
	       "MaxShrinkPercent=%u); the device is kept as it is until the registry changes",
	       c->ifname, before, before - shrink, removed, added, c->max_shrink_pct);
	return true;
}

/* Plan against the running device (one streamed dump) and apply it: at
 * start-up, after a failed set, and to repair drift. Fills the counts.
 * -ECANCELED: refused (refuse()), nothing sent. */
static int plan_apply(struct gw_apply *a, struct wgnl_peerset_counts *c, bool *device_changed)
{
	struct gw *gw = a->gw;
	struct wgnl_plan *plan = NULL;
	struct wgnl_device *want;
	unsigned flags = wgnl_sync_plan_flags(gw->ctx, gw->conf.ifname, 0);
	int r;

	r = wgnl_peerset_build(a->set, &want);
	if (r < 0)
		return r;
	r = wgnl_sync_plan_stream(gw->ctx, want, NULL, flags, &plan, NULL);
	wgnl_device_free(want);
	if (r < 0)
		return r;
	c->added = plan->n_add;
	c->updated = plan->n_update;
	c->removed = plan->n_remove;
	*device_changed = plan->device_changed;
	if (refuse(a, plan->n_remove, plan->n_add,
		   wgnl_peerset_count(a->set) + plan->n_remove - plan->n_add)) {
		wgnl_plan_free(plan);
		return -ECANCELED;
	}
	r = wgnl_sync_apply(gw->ctx, plan);
	wgnl_plan_free(plan);
	if (r == 0)
		wgnl_peerset_forget_pending(a->set);
	/* The full model and the plan were big and are gone: give the memory
	 * back rather than keep it mapped. */
	malloc_trim(0);
	return r;
}

static void set_counts(struct gw_apply *a)
{
	uint64_t n = a->assumed ? a->as.n : wgnl_peerset_count(a->set);

	a->gw->now.desired_peers = n;
	a->gw->now.applied_peers = n;
}

bool gw_apply_assume(struct gw_apply *a)
{
	const struct gw *gw = a->gw;
	struct gw_state st;
	uint64_t id[2];

	/* The state file first: without one, the files are not hashed for
	 * nothing before the full read hashes them again. */
	if (a->started || !gw->src_ops->content_id || gw_state_load(gw->conf.ifname, &st) < 0 ||
	    gw->src_ops->content_id(gw->src, true, id) < 0 || st.id[0] != id[0] ||
	    st.id[1] != id[1])
		return false;
	a->assumed = a->known = true;
	a->as = st;
	a->as_full_ends = a->full_ends;
	a->saved = st;
	a->saved_ok = true;
	return true;
}

bool gw_apply_assumed(const struct gw_apply *a)
{
	return a->assumed;
}

/* The first flush of an assumed start: in step when the device has the
 * state file's digest; else the assumption goes and the source is read. */
static int assumed_start(struct gw_apply *a, const struct timespec *t0)
{
	if (prefetch_in_step(a)) {
		a->started = true;
		a->gw->now.applied_once = true;
		set_counts(a);
		gw_log("info",
		       "start: device in step, 0 set peers=%" PRIu64
		       " ms=%.3f (as the state file says; the registry is read next)",
		       a->as.n, gw_elapsed_ms(t0));
		return 0;
	}
	gw_log("info", "start: the device is not as the state file says: reading the registry");
	a->assumed = a->known = false;
	a->saved_ok = false;
	return -EAGAIN;
}

/* The source's first full read after an assumed start: the set it gave is
 * what the device holds when its digest is the state file's (nothing to
 * send); else a plan against the device sends the difference. */
static void assumed_end(struct gw_apply *a)
{
	struct wgnl_sync_digest sum;
	size_t n;

	wgnl_peerset_peers_digest(a->set, &sum, &n);
	a->assumed = false;
	if (sum.a == a->as.sum.a && sum.b == a->as.sum.b && n == a->as.n) {
		wgnl_peerset_forget_pending(a->set);
		gw_log("info", "start: registry read: as the state file said, 0 set peers=%zu", n);
		return;
	}
	a->need_plan = true;
	a->retry_ms = 0;
	a->saved_ok = false;
	gw_log("warning", "start: registry read: not as the state file said, planning against %s",
	       a->gw->conf.ifname);
}

void gw_apply_save_state(struct gw_apply *a)
{
	const struct gw *gw = a->gw;
	struct gw_state st = { 0 };
	size_t n;
	int r;

	if (!a->started || a->assumed || !a->known || a->need_plan ||
	    wgnl_peerset_pending(a->set) || !gw->src_ops->content_id ||
	    gw->src_ops->content_id(gw->src, false, st.id) < 0)
		return;
	wgnl_peerset_peers_digest(a->set, &st.sum, &n);
	st.n = n;
	if (a->saved_ok && !memcmp(&st, &a->saved, sizeof(st)))
		return;
	r = gw_state_save(a->gw->conf.ifname, &st);
	if (r < 0) {
		gw_log("warning", "state file: cannot write it: %s", strerror(-r));
		return;
	}
	a->saved = st;
	a->saved_ok = true;
}

int gw_apply_flush(struct gw_apply *a)
{
	struct gw *gw = a->gw;
	struct wgnl_peerset_counts c = { 0 };
	struct wgnl_device *d = NULL;
	struct timespec t0;
	bool dev_changed = false;
	const char *err;
	double secs;
	int r;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	gw->now.desired_peers = a->assumed ? a->as.n : wgnl_peerset_count(a->set);
	/* Until one full read completed (a registry down at start-up), the
	 * desired state is unknown, not empty: the device is left as it is,
	 * and the node is not ready. */
	if (!a->known)
		return -EAGAIN;
	if (a->assumed && !a->started)
		return assumed_start(a, &t0);
	if (a->assumed) {
		if (a->full_ends == a->as_full_ends)
			goto done; /* the source not read yet: nothing to send */
		assumed_end(a);
	}
	if (!a->started || a->need_plan) {
		/* A failing device (gone, refusing) is asked again once a
		 * second, not on every turn of the loop. */
		if (gw_now_ms() < a->retry_ms)
			return -EAGAIN;
		if (a->held && a->seq == a->held_seq)
			goto done; /* refused, and nothing new since */
		if (!a->started && prefetch_in_step(a)) {
			wgnl_peerset_forget_pending(a->set);
			r = 0;
		} else {
			r = plan_apply(a, &c, &dev_changed);
		}
		if (r == -ECANCELED) {
			a->started = true;
			goto done;
		}
		if (r < 0) {
			a->retry_ms = gw_now_ms() + 1000;
			goto fail;
		}
		secs = gw_elapsed_ms(&t0) / 1e3;
		if (!c.added && !c.updated && !c.removed && !dev_changed)
			gw_log("info", "%s: device in step, 0 set peers=%zu ms=%.3f",
			       a->started ? "replan" : "start", wgnl_peerset_count(a->set),
			       secs * 1e3);
		else
			gw_log("info",
			       "%s: add=%zu update=%zu remove=%zu device=%d peers=%zu ms=%.3f",
			       a->started ? "replan" : "start", c.added, c.updated, c.removed,
			       dev_changed, wgnl_peerset_count(a->set), secs * 1e3);
		a->started = true;
		a->need_plan = a->held = gw->now.apply_held = false;
	} else {
		if (!wgnl_peerset_pending(a->set))
			goto done;
		r = wgnl_peerset_delta(a->set, &d, &c);
		if (r < 0)
			goto fail;
		if (refuse(a, c.removed, c.added,
			   wgnl_peerset_count(a->set) + c.removed - c.added)) {
			wgnl_device_free(d);
			goto done;
		}
		r = d->n_peers ? wgnl_device_set(gw->ctx, d) : 0;
		wgnl_device_free(d);
		if (r < 0) {
			/* Part of it may be applied: only a plan can tell. */
			a->need_plan = true;
			a->retry_ms = gw_now_ms() + 1000;
			goto fail;
		}
		secs = gw_elapsed_ms(&t0) / 1e3;
		observe(&gw->now, secs);
		gw_log("info", "apply: add=%zu update=%zu remove=%zu ms=%.3f change_id=%" PRId64,
		       c.added, c.updated, c.removed, secs * 1e3, a->batch_id);
	}
done:
	gw->now.applied_once = true;
	if (a->batch_id > gw->now.change_id_applied)
		gw->now.change_id_applied = a->batch_id;
	set_counts(a);
	return 0;
fail:
	err = wgnl_ctx_last_error(gw->ctx);
	gw_log("error", "apply: %s%s%s", strerror(-r), err ? ": " : "", err ? err : "");
	return r;
}

void gw_apply_replan(struct gw_apply *a)
{
	a->need_plan = true;
	a->retry_ms = 0;
}

int gw_apply_drift_check(struct gw_apply *a)
{
	struct gw *gw = a->gw;
	struct wgnl_sync_digest want, got;
	struct wgnl_peerset_counts c = { 0 };
	struct drift_count dc = { time(NULL), 0 };
	struct wgnl_device *info = NULL;
	bool dev_changed = false;
	int r;

	if (!a->started || a->assumed || a->need_plan || wgnl_peerset_pending(a->set))
		return 0; /* the next flush plans or sends anyway */
	r = wgnl_sync_digest_running(gw->ctx, gw->conf.ifname, count_recent, &dc, &got, &info);
	if (r < 0) {
		gw_log("error", "drift: cannot read %s: %s", gw->conf.ifname, strerror(-r));
		return r;
	}
	gw->now.peers_handshake_recent = dc.recent;
	wgnl_peerset_digest(a->set, info, &want);
	wgnl_device_free(info);
	if (want.a == got.a && want.b == got.b)
		return 0;
	r = plan_apply(a, &c, &dev_changed);
	if (r < 0) {
		a->need_plan = true;
		a->retry_ms = gw_now_ms() + 1000;
		gw_log("error", "drift: repair failed: %s", strerror(-r));
		return r;
	}
	if (!c.added && !c.updated && !c.removed && !dev_changed) {
		/* Digests differ where a plan sees nothing to send (an allowed
		 * IP two desired peers claim): not a repair. */
		gw_log("info", "drift: digest differs, nothing to send");
		return 0;
	}
	gw->now.drift_repairs_total++;
	gw_log("warning", "drift: repaired add=%zu update=%zu remove=%zu device=%d", c.added,
	       c.updated, c.removed, dev_changed);
	return 1;
}
