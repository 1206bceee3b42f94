// SPDX-License-Identifier: MIT
/* The digests a sync compares: of a device as the kernel would hold it
 * (wgnl_sync_digest_*, for the fast and incremental paths), and of a desired
 * state as the version 1 record names it (wgi_sync_state_digest). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "core/internal.h"
#include "record.h"

/* ------------------------------------------------ the record's digest */

static void digest_put(crypto_generichash_state *st, const void *p, size_t len)
{
	crypto_generichash_update(st, p, len);
}

static void digest_prefix(crypto_generichash_state *st, const struct wgnl_prefix *p)
{
	uint8_t b[20] = { 0 };

	b[0] = (uint8_t)p->family;
	b[1] = p->cidr;
	memcpy(b + 4, &p->ip6, p->family == AF_INET ? 4 : 16);
	digest_put(st, b, sizeof(b));
}

void wgi_sync_state_digest(const struct wgnl_config *cfg, char *out)
{
	const struct wgnl_device *d = cfg->dev;
	const struct wgnl_quick *q = &cfg->quick;
	crypto_generichash_state st;
	uint8_t h[WGI_SYNC_DIGEST_LEN];
	uint32_t v[6];

	if (sodium_init() < 0) {
		strcpy(out, "none");
		return;
	}
	crypto_generichash_init(&st, NULL, 0, sizeof(h));
	v[0] = d->flags & (WGNL_DEV_HAS_LISTEN_PORT | WGNL_DEV_HAS_FWMARK);
	v[1] = d->listen_port;
	v[2] = d->fwmark;
	v[3] = q->mtu;
	v[4] = q->table_mode;
	v[5] = q->table;
	digest_put(&st, v, sizeof(v));
	for (size_t i = 0; i < q->n_addresses; i++)
		digest_prefix(&st, &q->addresses[i]);
	for (size_t i = 0; i < d->n_peers; i++) {
		const struct wgnl_peer *p = &d->peers[i];
		uint8_t ep[20] = { 0 };
		uint32_t pv[2] = { (uint32_t)p->n_allowedips, (p->flags & WGNL_PEER_HAS_KEEPALIVE) ?
								      p->persistent_keepalive :
								      0 };

		digest_put(&st, p->public_key, WGNL_KEY_LEN);
		if ((p->flags & WGNL_PEER_HAS_ENDPOINT) && p->endpoint.addr.sa_family == AF_INET) {
			ep[0] = 4;
			memcpy(ep + 2, &p->endpoint.addr4.sin_port, 2);
			memcpy(ep + 4, &p->endpoint.addr4.sin_addr, 4);
		} else if ((p->flags & WGNL_PEER_HAS_ENDPOINT) &&
			   p->endpoint.addr.sa_family == AF_INET6) {
			ep[0] = 6;
			memcpy(ep + 2, &p->endpoint.addr6.sin6_port, 2);
			memcpy(ep + 4, &p->endpoint.addr6.sin6_addr, 16);
		}
		digest_put(&st, ep, sizeof(ep));
		digest_put(&st, pv, sizeof(pv));
		for (size_t k = 0; k < p->n_allowedips; k++)
			digest_prefix(&st, &p->allowedips[k]);
	}
	crypto_generichash_final(&st, h, sizeof(h));
	for (size_t i = 0; i < sizeof(h); i++)
		sprintf(out + 2 * i, "%02x", h[i]);
}

/* ------------------------------------------------ the device's digest */

static void hash_word(struct wgnl_sync_digest *h, uint64_t w)
{
	h->a = wgi_sync_mix64(h->a ^ w);
	h->b = wgi_sync_mix64(h->b + w + 0x9e3779b97f4a7c15ULL);
}

static void hash_words(struct wgnl_sync_digest *h, const void *p, size_t len)
{
	const uint8_t *b = p;
	uint64_t w;

	while (len) {
		size_t n = len < 8 ? len : 8;

		w = 0;
		memcpy(&w, b, n);
		hash_word(h, w ^ (uint64_t)n << 59);
		b += n;
		len -= n;
	}
}

int wgnl_sync_digest_add(struct wgnl_sync_digest *sum, const struct wgnl_peer *p)
{
	struct wgnl_prefix small[WGI_SMALL_IPS], *heap, *v;
	ssize_t ips;
	struct wgnl_sync_digest h = { 0xa4093822299f31d0ULL, 0x082efa98ec4e6c89ULL };
	bool psk = (p->flags & WGNL_PEER_HAS_PRESHARED_KEY) && !wgnl_key_is_zero(p->preshared_key);
	uint16_t ka = (p->flags & WGNL_PEER_HAS_KEEPALIVE) ? p->persistent_keepalive : 0;
	uint64_t w[4];
	size_t n = 0;

	/* Called once per running peer on every sync: word by word, no
	 * buffer. The key, then keepalive and whether there is a preshared
	 * key, then (only) a cryptographic hash of that key. */
	memcpy(w, p->public_key, sizeof(w));
	for (int i = 0; i < 4; i++)
		hash_word(&h, w[i]);
	hash_word(&h, (uint64_t)ka | (uint64_t)psk << 16);
	if (psk) {
		uint8_t d[32];

		if (wgnl_sync_secret_hash(d, p->preshared_key) < 0)
			return -EIO;
		memcpy(w, d, sizeof(w));
		for (int i = 0; i < 4; i++)
			hash_word(&h, w[i]);
	}
	ips = wgi_peer_canonical_ips(p, small, &heap, &v);
	if (ips < 0)
		return (int)ips;
	n = (size_t)ips;
	for (size_t k = 0; k < n; k++) {
		if (v[k].family == AF_INET) {
			uint32_t a;

			memcpy(&a, &v[k].ip4, 4);
			hash_word(&h, (uint64_t)a | (uint64_t)v[k].cidr << 32 | 4ULL << 40);
		} else {
			memcpy(w, &v[k].ip6, 16);
			hash_word(&h, w[0]);
			hash_word(&h, w[1]);
			hash_word(&h, (uint64_t)v[k].cidr | 6ULL << 40);
		}
	}
	free(heap);
	sum->a += wgi_sync_mix64(h.a);
	sum->b += wgi_sync_mix64(h.b ^ n);
	return 0;
}

/* The device's identity enters as its public key: no secret goes in. */
static void digest_close(struct wgnl_sync_digest *sum, size_t n_peers, const uint8_t *public_key,
			 uint16_t port, uint32_t fwmark)
{
	uint8_t dev[40] = { 0 };

	memcpy(dev, public_key, WGNL_KEY_LEN);
	memcpy(dev + 32, &port, 2);
	memcpy(dev + 36, &fwmark, 4);
	hash_words(sum, dev, sizeof(dev));
	wgnl_wipe(dev, sizeof(dev));
	sum->a = wgi_sync_mix64(sum->a ^ n_peers);
}

/* @d's public key into @out (derived when a backend reports only the
 * private key), all zero without one. */
static void identity(const struct wgnl_device *d, wgnl_key out)
{
	memset(out, 0, WGNL_KEY_LEN);
	if (d->flags & WGNL_DEV_HAS_PUBLIC_KEY)
		memcpy(out, d->public_key, WGNL_KEY_LEN);
	else if ((d->flags & WGNL_DEV_HAS_PRIVATE_KEY) && !wgnl_key_is_zero(d->private_key) &&
		 wgnl_key_public_from_private(out, d->private_key) < 0)
		memset(out, 0, WGNL_KEY_LEN);
}

void wgnl_sync_digest_finish(struct wgnl_sync_digest *sum, size_t n_peers,
			     const struct wgnl_device *dev)
{
	wgnl_key pub;

	identity(dev, pub);
	digest_close(sum, n_peers, pub, dev->listen_port, dev->fwmark);
}

static int digest_peers(const struct wgnl_device *d, struct wgnl_sync_digest *sum)
{
	int r;

	sum->a = sum->b = 0;
	for (size_t i = 0; i < d->n_peers; i++)
		if ((r = wgnl_sync_digest_add(sum, &d->peers[i])) < 0)
			return r;
	return 0;
}

int wgnl_sync_digest_device(const struct wgnl_device *dev, struct wgnl_sync_digest *out)
{
	struct wgnl_sync_digest sum;
	int r = digest_peers(dev, &sum);

	if (r < 0)
		return r;
	wgnl_sync_digest_finish(&sum, dev->n_peers, dev);
	*out = sum;
	return 0;
}

int wgnl_sync_digest_expect(const struct wgnl_device *want, const struct wgnl_device *before,
			    struct wgnl_sync_digest *out)
{
	struct wgnl_sync_digest sum;
	wgnl_key pub = { 0 };
	int r = digest_peers(want, &sum);

	if (r < 0)
		return r;
	if (!wgnl_key_is_zero(want->private_key))
		identity(want, pub);
	digest_close(&sum, want->n_peers, pub,
		     (want->flags & WGNL_DEV_HAS_LISTEN_PORT) ? want->listen_port :
								before->listen_port,
		     want->fwmark);
	*out = sum;
	return 0;
}
