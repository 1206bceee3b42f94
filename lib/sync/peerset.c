// SPDX-License-Identifier: MIT
/* A desired peer set kept in memory by a daemon: upsert and remove by public
 * key, the changes since the last delta collected as one device for
 * wgnl_device_set(), mark-and-sweep for full re-reads, and the digest kept
 * up to date peer by peer (a sum, so a change costs one peer's hash). */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "core/internal.h"
#include "wgkit/wgnl_sync.h"

/* What a pending change was before this batch: new, or changed/removed. */
enum {
	PEND_NEW = 1,
	PEND_EXISTED = 2
};

/* One desired peer, compact: at 100k peers the set is most of a gateway's
 * memory, so no struct wgnl_peer (168 bytes, plus an allocation per
 * allowed-IP list) is kept; one allowed IP (the common case) lives inline. */
struct entry {
	wgnl_key pub;
	uint8_t (*psk)[WGNL_KEY_LEN]; /* NULL: none */
	union {
		struct wgnl_prefix one;	  /* n_ips == 1 */
		struct wgnl_prefix *many; /* n_ips > 1, sorted, masked, unique */
	} ip;
	uint32_t n_ips;
	uint16_t ka;
	uint8_t seen; /* since the mark */
};

#define NO_SLOT UINT32_MAX

struct wgnl_peerset {
	struct wgnl_device *own; /* the device's own fields; no peers */
	struct entry *e;	 /* n entries */
	size_t n, cap;
	uint32_t *slot; /* open addressing (linear probing) -> entry index */
	size_t mask;	/* slots - 1 */
	bool marking;
	struct wgnl_device *pend; /* changes since the last delta (append-only) */
	uint8_t *pend_kind;	  /* per pend->peers position */
	size_t cap_kind;
	struct wgnl_sync_digest sum; /* of the entries */
};

static unsigned char hash_key[crypto_shorthash_KEYBYTES];
static pthread_once_t hash_once = PTHREAD_ONCE_INIT;

static void hash_init(void)
{
	if (sodium_init() < 0)
		memset(hash_key, 0x3c, sizeof(hash_key));
	else
		randombytes_buf(hash_key, sizeof(hash_key));
}

static size_t hash(const wgnl_key k)
{
	uint64_t h;

	pthread_once(&hash_once, hash_init);
	crypto_shorthash((unsigned char *)&h, k, WGNL_KEY_LEN, hash_key);
	return (size_t)h;
}

/* The slot holding @pub, or the empty slot where it would go. */
static size_t probe(const struct wgnl_peerset *s, const wgnl_key pub)
{
	size_t i = hash(pub) & s->mask;

	while (s->slot[i] != NO_SLOT && memcmp(s->e[s->slot[i]].pub, pub, WGNL_KEY_LEN))
		i = (i + 1) & s->mask;
	return i;
}

static struct entry *find(const struct wgnl_peerset *s, const wgnl_key pub)
{
	size_t i = probe(s, pub);

	return s->slot[i] == NO_SLOT ? NULL : &s->e[s->slot[i]];
}

/* Room for one more entry and a load of at most one half. */
static int reserve_one(struct wgnl_peerset *s)
{
	if (s->n == s->cap) {
		/* 1.5x: the array is most of the set. */
		size_t ncap = s->cap < 16 ? 16 : s->cap + s->cap / 2;
		struct entry *ne = realloc(s->e, ncap * sizeof(*ne));

		if (!ne)
			return -ENOMEM;
		s->e = ne;
		s->cap = ncap;
	}
	if ((s->n + 1) * 2 > s->mask + 1) {
		size_t nslots = (s->mask + 1) * 2;
		uint32_t *ns = malloc(nslots * sizeof(*ns)), *old = s->slot;

		if (!ns)
			return -ENOMEM;
		memset(ns, 0xff, nslots * sizeof(*ns));
		s->slot = ns;
		s->mask = nslots - 1;
		for (size_t i = 0; i < s->n; i++)
			s->slot[probe(s, s->e[i].pub)] = (uint32_t)i;
		free(old);
	}
	return 0;
}

/* Take slot @i out, shifting the probe chain behind it back. */
static void slot_delete(struct wgnl_peerset *s, size_t i)
{
	size_t j = i;

	for (;;) {
		size_t home;

		s->slot[i] = NO_SLOT;
		for (;;) {
			j = (j + 1) & s->mask;
			if (s->slot[j] == NO_SLOT)
				return;
			home = hash(s->e[s->slot[j]].pub) & s->mask;
			/* It moves into the hole unless its home lies
			 * cyclically in (i, j]. */
			if (i <= j ? (home <= i || home > j) : (home <= i && home > j))
				break;
		}
		s->slot[i] = s->slot[j];
		i = j;
	}
}

static const struct wgnl_prefix *ips_of(const struct entry *e)
{
	return e->n_ips == 1 ? &e->ip.one : e->ip.many;
}

static void entry_clear(struct entry *e)
{
	if (e->psk) {
		wgnl_wipe(e->psk, WGNL_KEY_LEN);
		free(e->psk);
	}
	if (e->n_ips > 1)
		free(e->ip.many);
	memset(e, 0, sizeof(*e));
}

/* @e as a peer (borrowing its allowed IPs; never freed). */
static void as_peer(const struct entry *e, struct wgnl_peer *p)
{
	memset(p, 0, sizeof(*p));
	memcpy(p->public_key, e->pub, WGNL_KEY_LEN);
	p->flags = WGNL_PEER_HAS_PUBLIC_KEY | WGNL_PEER_HAS_PRESHARED_KEY |
		   WGNL_PEER_HAS_KEEPALIVE | WGNL_PEER_REPLACE_ALLOWEDIPS;
	if (e->psk)
		memcpy(p->preshared_key, e->psk, WGNL_KEY_LEN);
	p->persistent_keepalive = e->ka;
	p->allowedips = (struct wgnl_prefix *)ips_of(e);
	p->n_allowedips = p->cap_allowedips = e->n_ips;
}

/* @p as an entry: canonical allowed IPs, a preshared key only when set. */
static int make_entry(struct entry *e, const struct wgnl_peer *p)
{
	struct wgnl_prefix small[WGI_SMALL_IPS], *heap, *v;
	ssize_t n = wgi_peer_canonical_ips(p, small, &heap, &v);

	memset(e, 0, sizeof(*e));
	if (n < 0)
		return (int)n;
	memcpy(e->pub, p->public_key, WGNL_KEY_LEN);
	e->ka = (p->flags & WGNL_PEER_HAS_KEEPALIVE) ? p->persistent_keepalive : 0;
	e->n_ips = (uint32_t)n;
	if (n == 1) {
		e->ip.one = v[0];
	} else if (n > 1) {
		e->ip.many = malloc((size_t)n * sizeof(*v));
		if (!e->ip.many)
			goto nomem;
		memcpy(e->ip.many, v, (size_t)n * sizeof(*v));
	}
	if ((p->flags & WGNL_PEER_HAS_PRESHARED_KEY) && !wgnl_key_is_zero(p->preshared_key)) {
		e->psk = malloc(WGNL_KEY_LEN);
		if (!e->psk)
			goto nomem;
		memcpy(e->psk, p->preshared_key, WGNL_KEY_LEN);
	}
	free(heap);
	return 0;
nomem:
	free(heap);
	entry_clear(e);
	return -ENOMEM;
}

static bool same(const struct entry *a, const struct entry *b)
{
	const struct wgnl_prefix *x = ips_of(a), *y = ips_of(b);

	if (a->ka != b->ka || a->n_ips != b->n_ips || !a->psk != !b->psk ||
	    (a->psk && !wgnl_key_equal(*a->psk, *b->psk)))
		return false;
	for (size_t i = 0; i < a->n_ips; i++)
		if (wgnl_prefix_cmp(&x[i], &y[i]))
			return false;
	return true;
}

int wgnl_peerset_new(const char *ifname, struct wgnl_peerset **ret)
{
	struct wgnl_peerset *s = calloc(1, sizeof(*s));

	*ret = NULL;
	if (!s)
		return -ENOMEM;
	s->own = wgnl_device_new(ifname);
	s->pend = wgnl_device_new(ifname);
	s->slot = malloc(16 * sizeof(*s->slot));
	if (!s->own || !s->pend || !s->slot) {
		wgnl_peerset_free(s);
		return -ENOMEM;
	}
	memset(s->slot, 0xff, 16 * sizeof(*s->slot));
	s->mask = 15;
	*ret = s;
	return 0;
}

void wgnl_peerset_free(struct wgnl_peerset *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++)
		entry_clear(&s->e[i]);
	free(s->e);
	free(s->slot);
	wgnl_device_free(s->own);
	wgnl_device_free(s->pend);
	free(s->pend_kind);
	free(s);
}

struct wgnl_device *wgnl_peerset_device(struct wgnl_peerset *s)
{
	return s->own;
}

size_t wgnl_peerset_count(const struct wgnl_peerset *s)
{
	return s->n;
}

size_t wgnl_peerset_pending(const struct wgnl_peerset *s)
{
	return s->pend->n_peers;
}

/* One peer's share of the digest. */
static int share(const struct entry *e, struct wgnl_sync_digest *out)
{
	struct wgnl_peer p;

	as_peer(e, &p);
	out->a = out->b = 0;
	return wgnl_sync_digest_add(out, &p);
}

/* Queue the change to @e (its new state, or only its key with @remove). */
static int queue(struct wgnl_peerset *s, const struct entry *e, bool remove, bool existed)
{
	struct wgnl_peer *q, tmp;
	size_t pos;
	int r;

	r = wgnl_device_add_peer(s->pend, e->pub, &q);
	if (r == -EEXIST) {
		pos = (size_t)(q - s->pend->peers);
	} else if (r < 0) {
		return r;
	} else {
		pos = s->pend->n_peers - 1;
		r = wgi_grow((void **)&s->pend_kind, &s->cap_kind, s->pend->n_peers, 1);
		if (r < 0) {
			wgnl_device_remove_peer(s->pend, e->pub);
			return r;
		}
		s->pend_kind[pos] = existed ? PEND_EXISTED : PEND_NEW;
	}
	q->n_allowedips = 0;
	if (remove) {
		q->flags = WGNL_PEER_HAS_PUBLIC_KEY | WGNL_PEER_REMOVE;
		memset(q->preshared_key, 0, WGNL_KEY_LEN);
		q->persistent_keepalive = 0;
		return 0;
	}
	as_peer(e, &tmp);
	q->flags = tmp.flags;
	memcpy(q->preshared_key, tmp.preshared_key, WGNL_KEY_LEN);
	wgnl_wipe(tmp.preshared_key, WGNL_KEY_LEN);
	q->persistent_keepalive = tmp.persistent_keepalive;
	for (size_t i = 0; i < tmp.n_allowedips; i++) {
		r = wgnl_peer_add_allowedip(q, &tmp.allowedips[i]);
		if (r < 0)
			return r;
	}
	return 0;
}

int wgnl_peerset_upsert(struct wgnl_peerset *s, const struct wgnl_peer *p)
{
	struct wgnl_sync_digest old = { 0, 0 }, now;
	struct entry ne, *e;
	int r;

	if (!(p->flags & WGNL_PEER_HAS_PUBLIC_KEY) || (p->flags & WGNL_PEER_REMOVE))
		return -EINVAL;
	for (size_t i = 0; i < p->n_allowedips; i++)
		if ((p->allowedips[i].family != AF_INET && p->allowedips[i].family != AF_INET6) ||
		    p->allowedips[i].cidr > (p->allowedips[i].family == AF_INET ? 32 : 128))
			return -EINVAL;
	r = make_entry(&ne, p);
	if (r < 0)
		return r;
	e = find(s, p->public_key);
	if (e) {
		if (s->marking)
			e->seen = 1;
		if (same(e, &ne)) {
			entry_clear(&ne);
			return 0;
		}
		r = share(e, &old);
	} else {
		r = reserve_one(s);
	}
	if (r == 0)
		r = share(&ne, &now);
	if (r == 0)
		r = queue(s, &ne, false, e != NULL);
	if (r < 0) {
		entry_clear(&ne);
		return r;
	}
	ne.seen = 1;
	if (e) {
		entry_clear(e);
		*e = ne;
	} else {
		s->slot[probe(s, ne.pub)] = (uint32_t)s->n;
		s->e[s->n++] = ne;
	}
	s->sum.a += now.a - old.a;
	s->sum.b += now.b - old.b;
	return 1;
}

int wgnl_peerset_remove(struct wgnl_peerset *s, const wgnl_key pub)
{
	struct wgnl_sync_digest old;
	size_t i = probe(s, pub), idx, last;
	int r;

	if (s->slot[i] == NO_SLOT)
		return 0;
	idx = s->slot[i];
	r = share(&s->e[idx], &old);
	if (r == 0)
		r = queue(s, &s->e[idx], true, true);
	if (r < 0)
		return r;
	entry_clear(&s->e[idx]);
	slot_delete(s, i);
	/* The last entry moves into the hole: its slot follows. */
	last = s->n - 1;
	if (idx != last) {
		s->slot[probe(s, s->e[last].pub)] = (uint32_t)idx;
		s->e[idx] = s->e[last];
	}
	s->n--;
	s->sum.a -= old.a;
	s->sum.b -= old.b;
	return 1;
}

bool wgnl_peerset_has(const struct wgnl_peerset *s, const wgnl_key pub)
{
	return find(s, pub) != NULL;
}

int wgnl_peerset_keep(struct wgnl_peerset *s, const wgnl_key pub)
{
	struct entry *e = find(s, pub);

	if (!e)
		return 0;
	if (s->marking)
		e->seen = 1;
	return 1;
}

void wgnl_peerset_mark(struct wgnl_peerset *s)
{
	for (size_t i = 0; i < s->n; i++)
		s->e[i].seen = 0;
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
	while (i < s->n) {
		wgnl_key pub;

		if (s->e[i].seen) {
			i++;
			continue;
		}
		memcpy(pub, s->e[i].pub, WGNL_KEY_LEN);
		r = wgnl_peerset_remove(s, pub); /* the last entry moves to i */
		if (r < 0)
			return r;
		n++;
	}
	return n;
}

int wgnl_peerset_build(const struct wgnl_peerset *s, struct wgnl_device **ret)
{
	struct wgnl_device *d = wgnl_device_new(s->own->name);
	int r;

	*ret = NULL;
	if (!d)
		return -ENOMEM;
	d->flags = s->own->flags & ~(uint32_t)WGNL_DEV_REPLACE_PEERS;
	memcpy(d->private_key, s->own->private_key, WGNL_KEY_LEN);
	memcpy(d->public_key, s->own->public_key, WGNL_KEY_LEN);
	d->listen_port = s->own->listen_port;
	d->fwmark = s->own->fwmark;
	r = wgnl_device_reserve(d, s->n);
	for (size_t i = 0; i < s->n && r == 0; i++) {
		struct wgnl_peer *p, tmp;

		r = wgnl_device_add_peer(d, s->e[i].pub, &p);
		if (r < 0)
			break;
		as_peer(&s->e[i], &tmp);
		p->flags = tmp.flags;
		memcpy(p->preshared_key, tmp.preshared_key, WGNL_KEY_LEN);
		wgnl_wipe(tmp.preshared_key, WGNL_KEY_LEN);
		p->persistent_keepalive = tmp.persistent_keepalive;
		for (size_t k = 0; k < tmp.n_allowedips && r == 0; k++)
			r = wgnl_peer_add_allowedip(p, &tmp.allowedips[k]);
	}
	if (r < 0) {
		wgnl_device_free(d);
		return r;
	}
	*ret = d;
	return 0;
}

int wgnl_peerset_delta(struct wgnl_peerset *s, struct wgnl_device **ret,
		       struct wgnl_peerset_counts *counts)
{
	struct wgnl_device *d = wgnl_device_new(s->own->name);

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
	struct wgnl_device *d = wgnl_device_new(s->own->name);

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
	wgnl_peerset_digest_as(s, &s->sum, s->n, running, out);
}

void wgnl_peerset_peers_digest(const struct wgnl_peerset *s, struct wgnl_sync_digest *sum,
			       size_t *n)
{
	*sum = s->sum;
	*n = s->n;
}

void wgnl_peerset_digest_as(const struct wgnl_peerset *s, const struct wgnl_sync_digest *peers,
			    size_t n, const struct wgnl_device *running,
			    struct wgnl_sync_digest *out)
{
	struct wgnl_device own = { 0 };
	struct wgnl_sync_digest sum = *peers;
	const struct wgnl_device *w = s->own;

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
	wgnl_sync_digest_finish(&sum, n, &own);
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
