/* SPDX-License-Identifier: MIT */
/* The STUN server's rate limit: token buckets in two direct-mapped tables
 * (per source, per prefix). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sodium.h>

#include "stun_rate.h"
#include "uring.h"
#include "wgkit/wgnl_stun.h"

int wgi_rate_init(struct wgi_rate *r, unsigned nslots, uint32_t rate, uint32_t burst)
{
	memset(r, 0, sizeof(*r));
	if (!nslots || (nslots & (nslots - 1)) || !rate)
		return -EINVAL;
	if (sodium_init() < 0)
		return -EIO;
	r->host = calloc(nslots, sizeof(*r->host));
	r->net = calloc(nslots, sizeof(*r->net));
	if (!r->host || !r->net) {
		wgi_rate_free(r);
		return -ENOMEM;
	}
	r->mask = nslots - 1;
	r->rate = rate;
	r->burst = burst ? burst : rate;
	randombytes_buf(r->key, sizeof(r->key));
	return 0;
}

void wgi_rate_free(struct wgi_rate *r)
{
	free(r->host);
	free(r->net);
	r->host = r->net = NULL;
}

static uint64_t hash(const struct wgi_rate *r, const uint8_t *p, size_t len)
{
	uint8_t h[crypto_shorthash_BYTES];
	uint64_t k;

	crypto_shorthash(h, p, len, r->key);
	memcpy(&k, h, sizeof(k));
	return k | 1; /* 0 marks an unused slot */
}

void wgi_rate_keys(const struct wgi_rate *r, const union wgnl_endpoint *src, uint64_t *host,
		   uint64_t *net)
{
	union wgnl_endpoint u = *src;
	uint8_t a[1 + 16];

	wgi_ep_unmap(&u);
	if (u.addr.sa_family == AF_INET6) {
		a[0] = 6;
		memcpy(a + 1, &u.addr6.sin6_addr, 16);
		*host = hash(r, a, 1 + 8); /* /64 */
		*net = hash(r, a, 1 + 6);  /* /48 */
	} else {
		a[0] = 4;
		memcpy(a + 1, &u.addr4.sin_addr, 4);
		*host = hash(r, a, 1 + 4); /* /32 */
		*net = hash(r, a, 1 + 3);  /* /24 */
	}
}

/* Refill the slot @key maps to and make it @key's. A key finding its slot
 * held by another takes the slot over with the tokens it holds: a source
 * whose slot was taken while it was away, or a sender cycling through
 * sources to evict slots, never gets a fresh full burst; the slot refills
 * at the rate whoever holds it, so no key ever gets more than the rate. */
static struct wgi_rate_slot *refill(struct wgi_rate_slot *tab, unsigned mask, uint64_t key,
				    uint64_t rate, uint64_t burst, uint64_t now)
{
	struct wgi_rate_slot *s = &tab[key & mask];
	uint64_t cap = burst * 1000;

	if (!s->key) {
		s->tokens_milli = cap;
		s->last_ns = now;
	} else if (now > s->last_ns) {
		uint64_t dt = now - s->last_ns;
		uint64_t add = dt > UINT64_MAX / rate ? cap : dt * rate / 1000000;
		if (add >= cap - (s->tokens_milli < cap ? s->tokens_milli : cap)) {
			s->tokens_milli = cap;
			s->last_ns = now;
		} else if (add) {
			s->tokens_milli += add;
			/* Advance by the time those tokens took, so the
			 * fraction of a milli-token is not lost under load. */
			s->last_ns += add * 1000000 / rate;
		}
	}
	s->key = key;
	return s;
}

bool wgi_rate_take(struct wgi_rate *r, uint64_t host, uint64_t net, uint64_t now_ns)
{
	uint64_t f = WGNL_STUN_RATE_PREFIX_FACTOR;
	struct wgi_rate_slot *h = refill(r->host, r->mask, host, r->rate, r->burst, now_ns);
	struct wgi_rate_slot *n = refill(r->net, r->mask, net, r->rate * f, r->burst * f, now_ns);

	if (h->tokens_milli < 1000 || n->tokens_milli < 1000)
		return false;
	h->tokens_milli -= 1000;
	n->tokens_milli -= 1000;
	return true;
}
