// SPDX-License-Identifier: MIT
/* The sync's incremental path, as data: what changed in a config file since
 * the version 2 record (the [Peer] sections that differ, parsed: the new ones
 * from the file, the old ones from the record), a running device digested as
 * its dump streams in, and the plan between the changed sections when the
 * digest proves the old ones stand for the running peers. Anything in doubt
 * is -EAGAIN: the caller takes the full path. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "record.h"

struct run_peer {
	wgnl_key key;
	struct wgnl_sync_digest h;
};

/* A running allowed IP: a hash of the masked prefix, and its peer. */
struct run_aip {
	uint64_t h;
	size_t peer;
};

/* Every running peer's key and digest, and their sum; every allowed IP. */
struct wgnl_sync_dump {
	struct wgnl_sync_digest sum;
	struct run_peer *v;
	size_t n, cap;
	struct run_aip *aip;
	size_t n_aip, cap_aip;
};

static uint64_t prefix_hash(const struct wgnl_prefix *p)
{
	struct wgnl_prefix m = *p;
	uint64_t w[2] = { 0, 0 };

	m.flags = 0;
	wgnl_prefix_mask(&m);
	memcpy(w, &m.ip6, m.family == AF_INET ? 4 : 16);
	return wgi_sync_mix64(wgi_sync_mix64(w[0] ^ ((uint64_t)m.cidr << 8 | m.family)) ^ w[1]);
}

/* @v (an array of *@cap elements of @size bytes) with room for one more at
 * @n: @v itself, or a larger copy (doubling from 4096), or NULL with @v
 * untouched when memory runs out. */
static void *grow_for_one(void *v, size_t *cap, size_t n, size_t size)
{
	size_t ncap;

	if (n < *cap)
		return v;
	ncap = *cap ? *cap * 2 : 4096;
	v = realloc(v, ncap * size);
	if (v)
		*cap = ncap;
	return v;
}

int wgnl_sync_dump_peer(const struct wgnl_device *dev, const struct wgnl_peer *peer, void *data)
{
	struct wgnl_sync_dump *a = data;
	struct run_peer *rp;

	(void)dev;
	if (!peer) {
		memset(&a->sum, 0, sizeof(a->sum));
		a->n = 0;
		a->n_aip = 0;
		return 0;
	}
	for (size_t k = 0; k < peer->n_allowedips; k++) {
		struct run_aip *nv = grow_for_one(a->aip, &a->cap_aip, a->n_aip, sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		a->aip = nv;
		a->aip[a->n_aip++] = (struct run_aip){ prefix_hash(&peer->allowedips[k]), a->n };
	}
	rp = grow_for_one(a->v, &a->cap, a->n, sizeof(*rp));
	if (!rp)
		return -ENOMEM;
	a->v = rp;
	rp = &a->v[a->n];
	memset(&rp->h, 0, sizeof(rp->h));
	if (wgnl_sync_digest_add(&rp->h, peer) < 0)
		return -ENOMEM;
	memcpy(rp->key, peer->public_key, WGNL_KEY_LEN);
	a->sum.a += rp->h.a;
	a->sum.b += rp->h.b;
	a->n++;
	return 0;
}

static char *gather(const char *text, const struct wgnl_sync_section *sec, size_t n, const bool *m,
		    size_t *len)
{
	size_t total = 0, off = 0;
	char *buf;

	for (size_t i = 0; i < n; i++)
		if (!m[i])
			total += sec[i].orig_len;
	buf = malloc(total + 1);
	if (!buf)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (m[i])
			continue;
		memcpy(buf + off, text + sec[i].orig_off, sec[i].orig_len);
		off += sec[i].orig_len;
	}
	buf[off] = '\0';
	*len = off;
	return buf;
}

/* Parse sections gathered by gather(); NULL when they do not parse or name
 * an endpoint by host name (both left to the full path). */
bool wgi_sync_has_names(const struct wgnl_config *cfg)
{
	for (size_t i = 0; i < cfg->dev->n_peers; i++)
		if (cfg->dev->peers[i].endpoint_name)
			return true;
	return false;
}

static struct wgnl_config *inc_parse(const char *text, size_t len, const char *ifname)
{
	struct wgnl_config *c = NULL;
	struct wgnl_config_error e;

	memset(&e, 0, sizeof(e));
	if (wgnl_config_parse(text, len, "", 0, &c, &e) < 0)
		return NULL;
	if (wgi_sync_has_names(c) || c->dev->flags) {
		wgnl_config_free(c);
		return NULL;
	}
	snprintf(c->dev->name, sizeof(c->dev->name), "%s", ifname);
	return c;
}

/* A set of the changed sections' keys: bit 1 old, bit 2 new. Probed once
 * per running peer, so no keyed hash: the keys' own first bytes. */
struct keyset {
	struct {
		const uint8_t *key;
		unsigned side;
	} * slot;
	size_t mask;
};

static size_t keyset_pos(const struct keyset *ks, const uint8_t *key)
{
	uint64_t w;
	size_t i;

	memcpy(&w, key, sizeof(w));
	for (i = (size_t)wgi_sync_mix64(w) & ks->mask; ks->slot[i].key; i = (i + 1) & ks->mask)
		if (!memcmp(ks->slot[i].key, key, WGNL_KEY_LEN))
			break;
	return i;
}

static int keyset_init(struct keyset *ks, const struct wgnl_device *old,
		       const struct wgnl_device *now)
{
	size_t size = 16;

	while (size < 2 * (old->n_peers + now->n_peers))
		size *= 2;
	ks->mask = size - 1;
	ks->slot = calloc(size, sizeof(*ks->slot));
	if (!ks->slot)
		return -ENOMEM;
	for (int side = 1; side <= 2; side++) {
		const struct wgnl_device *d = side == 1 ? old : now;

		for (size_t i = 0; i < d->n_peers; i++) {
			size_t p = keyset_pos(ks, d->peers[i].public_key);

			ks->slot[p].key = d->peers[i].public_key;
			ks->slot[p].side |= (unsigned)side;
		}
	}
	return 0;
}

static unsigned keyset_side(const struct keyset *ks, const uint8_t *key)
{
	size_t p = keyset_pos(ks, key);

	return ks->slot[p].key ? ks->slot[p].side : 0;
}

/* Would the changed sections put an allowed IP under two peers (two new
 * sections, or a new one and a section left as it was)? Then which one
 * gets it depends on the whole file's order: the full path decides. The
 * last file had no such IP (else no .fast), so a running IP's peer is
 * either an old changed section's (being replaced) or an unchanged one's.
 * Hashes only: a collision just costs the full path. */
static bool inc_conflicts(const struct wgnl_device *cn, const struct keyset *ks,
			  const struct wgnl_sync_dump *acc)
{
	struct {
		uint64_t h;
		size_t peer;
		bool used;
	} * t;
	size_t total = 0, size = 16, mask;
	bool bad = false;

	for (size_t i = 0; i < cn->n_peers; i++)
		total += cn->peers[i].n_allowedips;
	if (!total)
		return false;
	while (size < 2 * total)
		size *= 2;
	mask = size - 1;
	t = calloc(size, sizeof(*t));
	if (!t)
		return true;
	for (size_t i = 0; i < cn->n_peers && !bad; i++)
		for (size_t k = 0; k < cn->peers[i].n_allowedips && !bad; k++) {
			uint64_t h = prefix_hash(&cn->peers[i].allowedips[k]);
			size_t p = (size_t)h & mask;

			while (t[p].used && t[p].h != h)
				p = (p + 1) & mask;
			if (t[p].used && t[p].peer != i)
				bad = true;
			t[p].h = h;
			t[p].peer = i;
			t[p].used = true;
		}
	for (size_t i = 0; i < acc->n_aip && !bad; i++) {
		size_t p = (size_t)acc->aip[i].h & mask;

		while (t[p].used && t[p].h != acc->aip[i].h)
			p = (p + 1) & mask;
		if (t[p].used && !(keyset_side(ks, acc->v[acc->aip[i].peer].key) & 1))
			bad = true;
	}
	free(t);
	return bad;
}

int wgnl_sync_dump_new(struct wgnl_sync_dump **ret)
{
	*ret = calloc(1, sizeof(**ret));
	return *ret ? 0 : -ENOMEM;
}

void wgnl_sync_dump_free(struct wgnl_sync_dump *d)
{
	if (!d)
		return;
	free(d->v);
	free(d->aip);
	free(d);
}

void wgnl_sync_dump_digest(const struct wgnl_sync_dump *d, const struct wgnl_device *info,
			   struct wgnl_sync_digest *out)
{
	*out = d->sum;
	wgnl_sync_digest_finish(out, d->n, info);
}

struct wgnl_sync_delta {
	struct wgnl_config *cn, *co; /* the sections that differ, new and old */
	size_t pairs;		     /* sections in both */
};

void wgnl_sync_delta_free(struct wgnl_sync_delta *d)
{
	if (!d)
		return;
	wgnl_config_free(d->cn);
	wgnl_config_free(d->co);
	free(d);
}

int wgnl_sync_delta_make(const char *dir, const char *ifname, const char *text,
			 const struct wgnl_sync_text *now, const uint64_t rec_h[2],
			 struct wgnl_sync_delta **ret)
{
	struct wgnl_sync_section *old = NULL;
	struct wgnl_sync_delta *d = NULL;
	char *tn = NULL, *to = NULL;
	size_t n_old = 0, ln = 0, lo = 0;
	uint64_t iface_h[2] = { 0, 0 }, rec_size = 0;
	bool *old_m = NULL, *now_m = NULL;
	ssize_t pairs;
	int r = -EAGAIN;

	*ret = NULL;
	if (now->text_h[0] == rec_h[0] && now->text_h[1] == rec_h[1])
		return 1;
	/* No [Peer] section left (an empty or truncated file?): the full
	 * path, which refuses an empty file, decides. */
	if (!now->n_sec ||
	    wgnl_sync_record_sections(dir, ifname, rec_h, &old, &n_old, iface_h, &rec_size) < 0)
		goto out;
	/* [Interface] changed: the full path (device fields; rare). */
	if (iface_h[0] != now->iface_h[0] || iface_h[1] != now->iface_h[1])
		goto out;
	old_m = calloc(n_old + 1, sizeof(*old_m));
	now_m = calloc(now->n_sec + 1, sizeof(*now_m));
	if (!old_m || !now_m || (pairs = wgnl_sync_text_match(old, n_old, now, old_m, now_m)) < 0)
		goto out;
	tn = gather(text, now->sec, now->n_sec, now_m, &ln);
	if (!tn ||
	    wgnl_sync_record_gather(dir, ifname, rec_h, old, n_old, old_m, rec_size, &to, &lo) < 0)
		goto out;
	d = calloc(1, sizeof(*d));
	if (!d || !(d->cn = inc_parse(tn, ln, ifname)) || !(d->co = inc_parse(to, lo, ifname)))
		goto out;
	d->pairs = (size_t)pairs;
	*ret = d;
	d = NULL;
	r = 0;
out:
	wgnl_sync_delta_free(d);
	if (tn)
		wgnl_wipe(tn, ln);
	free(tn);
	free(to);
	free(old_m);
	free(now_m);
	free(old);
	return r;
}

int wgnl_sync_delta_plan(struct wgnl_sync_delta *d, const struct wgnl_sync_dump *acc,
			 const struct wgnl_device *info, unsigned flags, struct wgnl_plan **ret,
			 struct wgnl_sync_digest *expect)
{
	struct wgnl_device *cn = d->cn->dev, *co = d->co->dev;
	struct wgnl_sync_digest sum_old = { 0, 0 }, exp;
	struct keyset ks = { 0 };
	int r;

	*ret = NULL;
	if (keyset_init(&ks, co, cn) < 0)
		return -EAGAIN;
	for (size_t i = 0; i < acc->n; i++) {
		unsigned side = keyset_side(&ks, acc->v[i].key);

		if (side & 1) {
			sum_old.a += acc->v[i].h.a;
			sum_old.b += acc->v[i].h.b;
		} else if (side & 2) {
			/* A new section's key already runs: it is in an
			 * unchanged section too, a duplicate the full parser
			 * reports. */
			free(ks.slot);
			return -EAGAIN;
		}
	}
	if (inc_conflicts(cn, &ks, acc)) {
		free(ks.slot);
		return -EAGAIN;
	}
	free(ks.slot);
	/* The old sections carry hashes where the file had preshared keys:
	 * a key that hashes the same is the same key. */
	for (size_t i = 0; i < cn->n_peers; i++) {
		const struct wgnl_peer *p = &cn->peers[i];
		struct wgnl_peer *q = wgnl_device_find_peer(co, p->public_key);
		wgnl_key h;

		if (q && (p->flags & q->flags & WGNL_PEER_HAS_PRESHARED_KEY) &&
		    !wgnl_key_is_zero(p->preshared_key) &&
		    wgnl_sync_secret_hash(h, p->preshared_key) == 0 &&
		    wgnl_key_equal(h, q->preshared_key))
			memcpy(q->preshared_key, p->preshared_key, WGNL_KEY_LEN);
	}
	co->ifindex = info->ifindex;
	/* The old sections are both the running peers and the last desired
	 * state (for endpoints). */
	r = wgnl_sync_plan(cn, co, co, flags, ret);
	if (r < 0)
		return r;
	(*ret)->n_unchanged += d->pairs;
	/* The device's digest once applied: the old sections' peers out, the
	 * new in. */
	exp.a = acc->sum.a - sum_old.a;
	exp.b = acc->sum.b - sum_old.b;
	for (size_t i = 0; i < cn->n_peers; i++)
		if (wgnl_sync_digest_add(&exp, &cn->peers[i]) < 0)
			exp.a = ~exp.a; /* a wrong digest only costs the full path */
	wgnl_sync_digest_finish(&exp, acc->n - co->n_peers + cn->n_peers, info);
	*expect = exp;
	return 0;
}
