// SPDX-License-Identifier: MIT
/* A desired peer set kept in memory by a daemon: upsert and remove by public
 * key, the changes since the last delta collected as one device for
 * wgnl_device_set(), mark-and-sweep for full re-reads, and the digest kept
 * up to date peer by peer (a sum, so a change costs one peer's hash). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "wgkit/wgnl_sync.h"

/* What a pending change was before this batch: new, or changed/removed. */
enum {
	PEND_NEW = 1,
	PEND_EXISTED = 2
};

struct wgnl_peerset {
	struct wgnl_device *want; /* the desired device */
	uint8_t *seen;		  /* per want->peers position: seen since mark */
	size_t cap_seen;
	bool marking;
	struct wgnl_device *pend; /* changes since the last delta (append-only) */
	uint8_t *pend_kind;	  /* per pend->peers position */
	size_t cap_kind;
	struct wgnl_sync_digest sum; /* of want's peers */
};

int wgnl_peerset_new(const char *ifname, struct wgnl_peerset **ret)
{
	struct wgnl_peerset *s = calloc(1, sizeof(*s));

	*ret = NULL;
	if (!s)
		return -ENOMEM;
	s->want = wgnl_device_new(ifname);
	s->pend = wgnl_device_new(ifname);
	if (!s->want || !s->pend) {
		wgnl_peerset_free(s);
		return -ENOMEM;
	}
	*ret = s;
	return 0;
}

void wgnl_peerset_free(struct wgnl_peerset *s)
{
	if (!s)
		return;
	wgnl_device_free(s->want);
	wgnl_device_free(s->pend);
	free(s->seen);
	free(s->pend_kind);
	free(s);
}

struct wgnl_device *wgnl_peerset_device(struct wgnl_peerset *s)
{
	return s->want;
}

size_t wgnl_peerset_count(const struct wgnl_peerset *s)
{
	return s->want->n_peers;
}

size_t wgnl_peerset_pending(const struct wgnl_peerset *s)
{
	return s->pend->n_peers;
}

/* One peer's share of the digest. */
static int share(const struct wgnl_peer *p, struct wgnl_sync_digest *out)
{
	out->a = out->b = 0;
	return wgnl_sync_digest_add(out, p);
}

/* @dst := @src as the set keeps it: key, canonical allowed IPs, preshared
 * key and keepalive (HAS_* set, zero meaning none), nothing else (no
 * endpoint: a running endpoint is never touched). */
static int canon(struct wgnl_peer *dst, const struct wgnl_peer *src)
{
	struct wgnl_prefix small[WGI_SMALL_IPS], *heap, *v;
	ssize_t n = wgi_peer_canonical_ips(src, small, &heap, &v);
	int r = 0;

	memset(dst, 0, sizeof(*dst));
	if (n < 0)
		return (int)n;
	memcpy(dst->public_key, src->public_key, WGNL_KEY_LEN);
	dst->flags = WGNL_PEER_HAS_PUBLIC_KEY | WGNL_PEER_HAS_PRESHARED_KEY |
		     WGNL_PEER_HAS_KEEPALIVE | WGNL_PEER_REPLACE_ALLOWEDIPS;
	if (src->flags & WGNL_PEER_HAS_PRESHARED_KEY)
		memcpy(dst->preshared_key, src->preshared_key, WGNL_KEY_LEN);
	if (src->flags & WGNL_PEER_HAS_KEEPALIVE)
		dst->persistent_keepalive = src->persistent_keepalive;
	if (n) {
		dst->allowedips = malloc((size_t)n * sizeof(*v));
		if (!dst->allowedips) {
			r = -ENOMEM;
			goto out;
		}
		memcpy(dst->allowedips, v, (size_t)n * sizeof(*v));
		dst->n_allowedips = dst->cap_allowedips = (size_t)n;
	}
out:
	free(heap);
	return r;
}

static bool same(const struct wgnl_peer *a, const struct wgnl_peer *b)
{
	if (!wgnl_key_equal(a->preshared_key, b->preshared_key) ||
	    a->persistent_keepalive != b->persistent_keepalive ||
	    a->n_allowedips != b->n_allowedips)
		return false;
	for (size_t i = 0; i < a->n_allowedips; i++)
		if (wgnl_prefix_cmp(&a->allowedips[i], &b->allowedips[i]))
			return false;
	return true;
}

/* Move @src's contents into *@dst (freeing what @dst held). */
static void move_peer(struct wgnl_peer *dst, struct wgnl_peer *src)
{
	wgi_peer_clear(dst);
	*dst = *src;
	memset(src, 0, sizeof(*src));
}

static int copy_peer(struct wgnl_peer *dst, const struct wgnl_peer *src)
{
	struct wgnl_peer tmp;
	int r = canon(&tmp, src);

	if (r < 0)
		return r;
	move_peer(dst, &tmp);
	return 0;
}

/* Queue @p (the new desired peer, or only its key with @remove). */
static int queue(struct wgnl_peerset *s, const struct wgnl_peer *p, bool remove, bool existed)
{
	struct wgnl_peer *q;
	size_t pos;
	int r;

	r = wgnl_device_add_peer(s->pend, p->public_key, &q);
	if (r == -EEXIST) {
		pos = (size_t)(q - s->pend->peers);
	} else if (r < 0) {
		return r;
	} else {
		pos = s->pend->n_peers - 1;
		r = wgi_grow((void **)&s->pend_kind, &s->cap_kind, s->pend->n_peers, 1);
		if (r < 0) {
			wgnl_device_remove_peer(s->pend, p->public_key);
			return r;
		}
		s->pend_kind[pos] = existed ? PEND_EXISTED : PEND_NEW;
	}
	if (remove) {
		struct wgnl_peer gone = { .flags = WGNL_PEER_HAS_PUBLIC_KEY | WGNL_PEER_REMOVE };

		memcpy(gone.public_key, p->public_key, WGNL_KEY_LEN);
		move_peer(q, &gone);
		return 0;
	}
	return copy_peer(q, p);
}

int wgnl_peerset_upsert(struct wgnl_peerset *s, const struct wgnl_peer *p)
{
	struct wgnl_sync_digest old = { 0, 0 }, now;
	struct wgnl_peer c, *w;
	size_t pos;
	int r;

	if (!(p->flags & WGNL_PEER_HAS_PUBLIC_KEY) || (p->flags & WGNL_PEER_REMOVE))
		return -EINVAL;
	for (size_t i = 0; i < p->n_allowedips; i++)
		if ((p->allowedips[i].family != AF_INET && p->allowedips[i].family != AF_INET6) ||
		    p->allowedips[i].cidr > (p->allowedips[i].family == AF_INET ? 32 : 128))
			return -EINVAL;
	r = canon(&c, p);
	if (r < 0)
		return r;
	w = wgnl_device_find_peer(s->want, p->public_key);
	if (w) {
		pos = (size_t)(w - s->want->peers);
		if (s->marking)
			s->seen[pos] = 1;
		if (same(w, &c)) {
			wgi_peer_clear(&c);
			return 0;
		}
		r = share(w, &old);
	}
	if (r == 0)
		r = share(&c, &now);
	if (r == 0)
		r = queue(s, &c, false, w != NULL);
	if (r < 0)
		goto out;
	if (!w) {
		r = wgi_grow((void **)&s->seen, &s->cap_seen, s->want->n_peers + 1, 1);
		if (r == 0)
			r = wgnl_device_add_peer(s->want, c.public_key, &w);
		if (r < 0)
			goto out; /* the queued add stays: harmless, the next delta sends it */
		s->seen[s->want->n_peers - 1] = 1;
	}
	move_peer(w, &c);
	s->sum.a += now.a - old.a;
	s->sum.b += now.b - old.b;
	return 1;
out:
	wgi_peer_clear(&c);
	return r;
}

int wgnl_peerset_remove(struct wgnl_peerset *s, const wgnl_key pub)
{
	struct wgnl_peer *w = wgnl_device_find_peer(s->want, pub);
	struct wgnl_sync_digest old;
	size_t pos, last;
	int r;

	if (!w)
		return 0;
	r = share(w, &old);
	if (r == 0)
		r = queue(s, w, true, true);
	if (r < 0)
		return r;
	pos = (size_t)(w - s->want->peers);
	last = s->want->n_peers - 1;
	/* wgnl_device_remove_peer() moves the last peer into the hole: its
	 * mark goes with it. */
	s->seen[pos] = s->seen[last];
	wgnl_device_remove_peer(s->want, pub);
	s->sum.a -= old.a;
	s->sum.b -= old.b;
	return 1;
}

void wgnl_peerset_mark(struct wgnl_peerset *s)
{
	if (s->want->n_peers)
		memset(s->seen, 0, s->want->n_peers);
	s->marking = true;
}

void wgnl_peerset_unmark(struct wgnl_peerset *s)
{
	s->marking = false;
}

ssize_t wgnl_peerset_sweep(struct wgnl_peerset *s)
{
	ssize_t n = 0;
	size_t i = 0;
	int r;

	if (!s->marking)
		return 0;
	s->marking = false;
	while (i < s->want->n_peers) {
		if (s->seen[i]) {
			i++;
			continue;
		}
		wgnl_key pub;

		memcpy(pub, s->want->peers[i].public_key, WGNL_KEY_LEN);
		r = wgnl_peerset_remove(s, pub);
		if (r < 0)
			return r;
		n++;
	}
	return n;
}

int wgnl_peerset_delta(struct wgnl_peerset *s, struct wgnl_device **ret,
		       struct wgnl_peerset_counts *counts)
{
	struct wgnl_device *d = wgnl_device_new(s->want->name);

	*ret = NULL;
	if (!d)
		return -ENOMEM;
	if (counts) {
		memset(counts, 0, sizeof(*counts));
		for (size_t i = 0; i < s->pend->n_peers; i++) {
			const struct wgnl_peer *p = &s->pend->peers[i];

			if (p->flags & WGNL_PEER_REMOVE) {
				if (s->pend_kind[i] == PEND_EXISTED)
					counts->removed++;
			} else if (s->pend_kind[i] == PEND_NEW) {
				counts->added++;
			} else {
				counts->updated++;
			}
		}
	}
	/* Hand the pending device over; start an empty one. */
	*ret = s->pend;
	s->pend = d;
	return 0;
}

void wgnl_peerset_forget_pending(struct wgnl_peerset *s)
{
	struct wgnl_device *d = wgnl_device_new(s->want->name);

	if (!d) {
		/* Out of memory: empty the old one instead. */
		while (s->pend->n_peers)
			wgnl_device_remove_peer(s->pend, s->pend->peers[0].public_key);
		return;
	}
	wgnl_device_free(s->pend);
	s->pend = d;
}

void wgnl_peerset_digest(const struct wgnl_peerset *s, const struct wgnl_device *running,
			 struct wgnl_sync_digest *out)
{
	struct wgnl_device own = { 0 };
	struct wgnl_sync_digest sum = s->sum;
	const struct wgnl_device *w = s->want;

	/* The device's own fields as they will be: the key and port the set
	 * asks for (when it does), the rest as @running has them. */
	own.flags = w->flags & (WGNL_DEV_HAS_PRIVATE_KEY | WGNL_DEV_HAS_PUBLIC_KEY);
	memcpy(own.private_key, w->private_key, WGNL_KEY_LEN);
	memcpy(own.public_key, w->public_key, WGNL_KEY_LEN);
	if (!(own.flags & (WGNL_DEV_HAS_PRIVATE_KEY | WGNL_DEV_HAS_PUBLIC_KEY)) && running) {
		own.flags = running->flags & WGNL_DEV_HAS_PUBLIC_KEY;
		memcpy(own.public_key, running->public_key, WGNL_KEY_LEN);
	}
	own.listen_port = (w->flags & WGNL_DEV_HAS_LISTEN_PORT) || !running ? w->listen_port :
									      running->listen_port;
	own.fwmark = (w->flags & WGNL_DEV_HAS_FWMARK) || !running ? w->fwmark : running->fwmark;
	wgnl_sync_digest_finish(&sum, w->n_peers, &own);
	wgnl_wipe(own.private_key, sizeof(own.private_key));
	*out = sum;
}

/* ------------------------------------------------ the running digest */

struct run_digest {
	struct wgnl_sync_digest sum;
	size_t n;
	wgnl_peer_cb cb;
	void *data;
};

static int run_digest_cb(const struct wgnl_device *dev, const struct wgnl_peer *peer, void *data)
{
	struct run_digest *rd = data;

	int r;

	if (!peer) {
		/* The dump restarts: so does the sum. */
		rd->sum.a = rd->sum.b = 0;
		rd->n = 0;
		return rd->cb ? rd->cb(dev, peer, rd->data) : 0;
	}
	rd->n++;
	r = wgnl_sync_digest_add(&rd->sum, peer);
	if (r == 0 && rd->cb)
		r = rd->cb(dev, peer, rd->data);
	return r;
}

int wgnl_sync_digest_running(struct wgnl_ctx *ctx, const char *ifname, wgnl_peer_cb cb, void *data,
			     struct wgnl_sync_digest *out, struct wgnl_device **running)
{
	struct run_digest rd = { .cb = cb, .data = data };
	struct wgnl_device *info = NULL;
	int r;

	if (running)
		*running = NULL;
	r = wgnl_device_get_stream(ctx, ifname, run_digest_cb, &rd, &info);
	if (r < 0)
		return r;
	wgnl_sync_digest_finish(&rd.sum, rd.n, info);
	*out = rd.sum;
	if (running)
		*running = info;
	else
		wgnl_device_free(info);
	return 0;
}
