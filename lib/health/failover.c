// SPDX-License-Identifier: MIT
/*
 * Fast failover for anycast peers (wgnl_health.h): rx flat while tx grows
 * -> set the peer again, so its session is dropped and the next packet
 * handshakes with whichever node holds the anycast address now.
 *
 * Why remove + add: neither the kernel nor wireguard-go drops a peer's
 * keypairs when its endpoint, allowed IPs or keepalive are set again (the
 * session survives, and a stock client keeps encrypting for the vanished
 * node until REKEY_TIMEOUT + KEEPALIVE_TIMEOUT, 15 s, pass without a
 * packet). A removed peer takes its keypairs with it; added back, it has
 * none, so its first packet queues and sends a handshake initiation at
 * once. The new node shares the private key and knows the client, and the
 * client's TAI64N timestamp is newer than any it saw: it answers.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "wgkit/wgnl_health.h"

struct wgnl_health_failover {
	struct wgnl_health_failover_settings s;
	struct wgnl_health_failover_peer *peers;
	size_t n, cap;
};

void wgnl_health_failover_settings_default(struct wgnl_health_failover_settings *s)
{
	memset(s, 0, sizeof(*s));
	s->size = sizeof(*s);
	s->stall_ms = 1500;
	s->holdoff_ms = 1500;
	s->min_tx_bytes = 100;
}

bool wgnl_health_failover_peer_step(const struct wgnl_health_failover_settings *s,
				    struct wgnl_health_failover_peer *p, uint64_t rx, uint64_t tx,
				    int64_t now_ms)
{
	if (!s || s->size < sizeof(*s))
		return false;
	if (!p->seen || rx < p->rx || tx < p->tx) {
		p->seen = true;
		p->rx = rx;
		p->tx = tx;
		p->tx_base = tx;
		p->rx_grew_ms = now_ms;
		return false;
	}
	if (rx > p->rx) {
		p->rx_grew_ms = now_ms;
		p->tx_base = tx;
	}
	p->rx = rx;
	p->tx = tx;
	if (now_ms - p->rx_grew_ms < (int64_t)s->stall_ms || tx - p->tx_base <= s->min_tx_bytes)
		return false;
	if (p->kicks && now_ms - p->kicked_ms < (int64_t)s->holdoff_ms)
		return false;
	p->kicked_ms = now_ms;
	p->kicks++;
	return true;
}

int wgnl_health_failover_new(const struct wgnl_health_failover_settings *s,
			     struct wgnl_health_failover **ret)
{
	struct wgnl_health_failover *f;

	*ret = NULL;
	if (!s || s->size < sizeof(*s))
		return -EINVAL;
	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->s = *s;
	*ret = f;
	return 0;
}

void wgnl_health_failover_free(struct wgnl_health_failover *f)
{
	if (!f)
		return;
	free(f->peers);
	free(f);
}

/* The tracking entry of @pub, added when new; NULL when out of memory.
 * Linear: the mode is for clients, which hold a handful of peers. */
static struct wgnl_health_failover_peer *track(struct wgnl_health_failover *f, const wgnl_key pub)
{
	for (size_t i = 0; i < f->n; i++)
		if (!memcmp(f->peers[i].public_key, pub, sizeof(wgnl_key)))
			return &f->peers[i];
	if (f->n == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 4;
		void *np = realloc(f->peers, cap * sizeof(*f->peers));

		if (!np)
			return NULL;
		f->peers = np;
		f->cap = cap;
	}
	memset(&f->peers[f->n], 0, sizeof(f->peers[0]));
	memcpy(f->peers[f->n].public_key, pub, sizeof(wgnl_key));
	return &f->peers[f->n++];
}

/* Forget peers no longer on the device. */
static void forget_gone(struct wgnl_health_failover *f, const struct wgnl_device *dev)
{
	size_t k = 0;

	for (size_t i = 0; i < f->n; i++)
		if (wgnl_device_find_peer(dev, f->peers[i].public_key))
			f->peers[k++] = f->peers[i];
	f->n = k;
}

/* Copy what a re-added peer must keep: endpoint, keepalive, preshared key,
 * allowed IPs. */
static int readd_peer(struct wgnl_device *add, const struct wgnl_peer *p)
{
	struct wgnl_peer *np;
	int r = wgnl_device_add_peer(add, p->public_key, &np);

	if (r < 0)
		return r;
	np->flags |= WGNL_PEER_HAS_ENDPOINT | WGNL_PEER_HAS_KEEPALIVE;
	np->endpoint = p->endpoint;
	np->persistent_keepalive = p->persistent_keepalive;
	if (!wgnl_key_is_zero(p->preshared_key)) {
		np->flags |= WGNL_PEER_HAS_PRESHARED_KEY;
		memcpy(np->preshared_key, p->preshared_key, sizeof(wgnl_key));
	}
	for (size_t i = 0; i < p->n_allowedips; i++) {
		r = wgnl_peer_add_allowedip(np, &p->allowedips[i]);
		if (r < 0)
			return r;
	}
	return 0;
}

static int kick(struct wgnl_ctx *ctx, const char *ifname, const struct wgnl_peer *p)
{
	struct wgnl_device *rm = wgnl_device_new(ifname), *add = wgnl_device_new(ifname);
	struct wgnl_peer *np;
	int r = -ENOMEM;

	if (!rm || !add)
		goto out;
	r = readd_peer(add, p);
	if (r < 0)
		goto out;
	r = wgnl_device_add_peer(rm, p->public_key, &np);
	if (r < 0)
		goto out;
	np->flags |= WGNL_PEER_REMOVE;
	r = wgnl_device_set(ctx, rm);
	if (r >= 0)
		r = wgnl_device_set(ctx, add);
out:
	wgnl_device_free(rm);
	wgnl_device_free(add);
	return r < 0 ? r : 0;
}

int wgnl_health_failover_run(struct wgnl_ctx *ctx, struct wgnl_health_failover *f,
			     const char *ifname, int64_t now_ms, wgnl_health_failover_cb cb,
			     void *arg)
{
	struct wgnl_device *dev = NULL;
	int r, n = 0;

	r = wgnl_device_get(ctx, ifname, &dev);
	if (r < 0)
		return r;
	forget_gone(f, dev);
	for (size_t i = 0; i < dev->n_peers; i++) {
		const struct wgnl_peer *p = &dev->peers[i];
		struct wgnl_health_failover_peer *t;
		struct wgnl_health_failover_kick k;
		int64_t since;
		uint64_t base;

		if (!(p->flags & WGNL_PEER_HAS_ENDPOINT) || !p->endpoint.addr.sa_family)
			continue;
		t = track(f, p->public_key);
		if (!t) {
			r = -ENOMEM;
			break;
		}
		since = t->rx_grew_ms;
		base = t->tx_base;
		if (!wgnl_health_failover_peer_step(&f->s, t, p->rx_bytes, p->tx_bytes, now_ms))
			continue;
		memset(&k, 0, sizeof(k));
		memcpy(k.public_key, p->public_key, sizeof(wgnl_key));
		k.stalled_ms = now_ms - since;
		k.tx_grown = p->tx_bytes - base;
		k.error = kick(ctx, ifname, p);
		/* the counters restart from 0 on the new peer */
		t->rx_grew_ms = now_ms;
		n++;
		if (cb)
			cb(&k, arg);
	}
	wgnl_device_free(dev);
	return r < 0 ? r : n;
}
