// SPDX-License-Identifier: MIT
/* The device/peer model: contiguous peers with an O(1) public-key index,
 * prefixes and endpoints. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "compat.h"
#include "internal.h"

/* Open addressing with linear probing. A slot holds the peer's position + 1
 * (0 is empty) and its key's hash, so growing the table, deleting and
 * probing never hash again and rarely touch the peers array. Keys are hashed
 * with SipHash under a per-process random key, so public keys chosen by
 * whoever writes the config cannot force collisions. */
struct wgi_slot {
	uint32_t pos1;
	uint32_t hash;
};

struct wgnl_peer_index {
	size_t mask; /* capacity - 1, capacity a power of two (<= 2^32) */
	struct wgi_slot *slots;
};

static unsigned char hash_key[crypto_shorthash_KEYBYTES];
static wgi_once_t hash_key_once = WGI_ONCE_INIT;

static void hash_key_init(void)
{
	if (sodium_init() < 0)
		memset(hash_key, 0x5a, sizeof(hash_key));
	else
		randombytes_buf(hash_key, sizeof(hash_key));
}

/* Once per process, whichever thread comes first: every index of every
 * thread hashes with the same key. */
static uint32_t key_hash(const wgnl_key k)
{
	uint64_t h;

	wgi_once(&hash_key_once, hash_key_init);
	crypto_shorthash((unsigned char *)&h, k, WGNL_KEY_LEN, hash_key);
	return (uint32_t)(h ^ (h >> 32));
}

int wgi_grow(void **arr, size_t *cap, size_t need, size_t size)
{
	size_t ncap;
	void *p;

	if (need <= *cap)
		return 0;
	ncap = *cap ? *cap : 4;
	while (ncap < need) {
		if (ncap > SIZE_MAX / 2)
			return -ENOMEM;
		ncap *= 2;
	}
	if (ncap > SIZE_MAX / size)
		return -ENOMEM;
	p = realloc(*arr, ncap * size);
	if (!p)
		return -ENOMEM;
	*arr = p;
	*cap = ncap;
	return 0;
}

static void index_free(struct wgnl_peer_index *idx)
{
	if (!idx)
		return;
	free(idx->slots);
	free(idx);
}

static void slot_insert(struct wgnl_peer_index *idx, uint32_t pos1, uint32_t hash)
{
	size_t i = hash & idx->mask;

	while (idx->slots[i].pos1)
		i = (i + 1) & idx->mask;
	idx->slots[i].pos1 = pos1;
	idx->slots[i].hash = hash;
}

/* Size the index for @n peers (load factor <= 1/2) and fill it: from the old
 * table's cached hashes when @rehash is false, else from the peers. */
static int index_build(struct wgnl_device *dev, size_t n, bool rehash)
{
	struct wgnl_peer_index *idx = dev->index;
	struct wgi_slot *old = NULL;
	size_t cap = 16, old_cap = 0;

	while (cap < n * 2)
		cap *= 2;
	if (cap > (size_t)UINT32_MAX + 1)
		return -ENOMEM;
	if (!idx) {
		idx = calloc(1, sizeof(*idx));
		if (!idx)
			return -ENOMEM;
		dev->index = idx;
		rehash = true;
	}
	if (!idx->slots)
		rehash = true;
	old = idx->slots;
	old_cap = old ? idx->mask + 1 : 0;
	idx->slots = calloc(cap, sizeof(*idx->slots));
	if (!idx->slots) {
		idx->slots = old;
		return -ENOMEM;
	}
	idx->mask = cap - 1;
	if (rehash) {
		for (size_t i = 0; i < dev->n_peers; i++)
			slot_insert(idx, (uint32_t)i + 1, key_hash(dev->peers[i].public_key));
	} else {
		for (size_t i = 0; i < old_cap; i++)
			if (old[i].pos1)
				slot_insert(idx, old[i].pos1, old[i].hash);
	}
	free(old);
	return 0;
}

int wgi_device_reindex(struct wgnl_device *dev)
{
	return index_build(dev, dev->n_peers, true);
}

/* Slot holding @pub (whose hash is @hash), or -1. */
static ssize_t index_slot(const struct wgnl_device *dev, const wgnl_key pub, uint32_t hash)
{
	const struct wgnl_peer_index *idx = dev->index;
	size_t i;

	if (!idx || !dev->n_peers)
		return -1;
	for (i = hash & idx->mask; idx->slots[i].pos1; i = (i + 1) & idx->mask) {
		if (idx->slots[i].hash == hash &&
		    !memcmp(dev->peers[idx->slots[i].pos1 - 1].public_key, pub, WGNL_KEY_LEN))
			return (ssize_t)i;
	}
	return -1;
}

/* Empty slot @i and shift later members of its probe run back, so lookups
 * never stop early at a hole (no tombstones to accumulate under churn). */
static void index_delete_slot(struct wgnl_peer_index *idx, size_t i)
{
	size_t j = i;

	idx->slots[i].pos1 = 0;
	for (;;) {
		size_t home;

		j = (j + 1) & idx->mask;
		if (!idx->slots[j].pos1)
			return;
		home = idx->slots[j].hash & idx->mask;
		/* Move j back to i unless its home lies cyclically in (i, j]. */
		if ((i <= j) ? (home <= i || home > j) : (home <= i && home > j)) {
			idx->slots[i] = idx->slots[j];
			idx->slots[j].pos1 = 0;
			i = j;
		}
	}
}

struct wgnl_device *wgnl_device_new(const char *name)
{
	struct wgnl_device *dev;

	if (name && strlen(name) >= WGNL_IFNAMSIZ)
		return NULL;
	dev = calloc(1, sizeof(*dev));
	if (!dev)
		return NULL;
	if (name)
		strcpy(dev->name, name);
	return dev;
}

void wgi_peer_clear(struct wgnl_peer *peer)
{
	free(peer->allowedips);
	free(peer->endpoint_name);
	wgnl_wipe(peer, sizeof(*peer));
}

void wgnl_device_free(struct wgnl_device *dev)
{
	if (!dev)
		return;
	for (size_t i = 0; i < dev->n_peers; i++)
		wgi_peer_clear(&dev->peers[i]);
	free(dev->peers);
	index_free(dev->index);
	wgnl_wipe(dev, sizeof(*dev));
	free(dev);
}

int wgnl_device_reserve(struct wgnl_device *dev, size_t n)
{
	int r = wgi_grow((void **)&dev->peers, &dev->cap_peers, n, sizeof(*dev->peers));

	if (r < 0)
		return r;
	if (!dev->index || (dev->index->mask + 1) < n * 2)
		return index_build(dev, n, false);
	return 0;
}

int wgnl_device_add_peer(struct wgnl_device *dev, const wgnl_key pub, struct wgnl_peer **ret)
{
	uint32_t hash = key_hash(pub);
	ssize_t slot = index_slot(dev, pub, hash);
	struct wgnl_peer *peer;
	int r;

	if (slot >= 0) {
		*ret = &dev->peers[dev->index->slots[slot].pos1 - 1];
		return -EEXIST;
	}
	*ret = NULL;
	if (dev->n_peers >= UINT32_MAX - 1)
		return -ENOMEM;
	r = wgi_grow((void **)&dev->peers, &dev->cap_peers, dev->n_peers + 1, sizeof(*dev->peers));
	if (r < 0)
		return r;
	if (!dev->index || (dev->n_peers + 1) * 2 > dev->index->mask + 1) {
		r = index_build(dev, dev->n_peers + 1 > 8 ? (dev->n_peers + 1) * 2 : 8, false);
		if (r < 0)
			return r;
	}
	peer = &dev->peers[dev->n_peers];
	memset(peer, 0, sizeof(*peer));
	memcpy(peer->public_key, pub, WGNL_KEY_LEN);
	peer->flags = WGNL_PEER_HAS_PUBLIC_KEY;
	dev->n_peers++;
	slot_insert(dev->index, (uint32_t)dev->n_peers, hash);
	*ret = peer;
	return 0;
}

struct wgnl_peer *wgnl_device_find_peer(const struct wgnl_device *dev, const wgnl_key pub)
{
	ssize_t slot;

	if (!dev->n_peers)
		return NULL;
	slot = index_slot(dev, pub, key_hash(pub));
	return slot < 0 ? NULL : &dev->peers[dev->index->slots[slot].pos1 - 1];
}

int wgnl_device_remove_peer(struct wgnl_device *dev, const wgnl_key pub)
{
	ssize_t slot = dev->n_peers ? index_slot(dev, pub, key_hash(pub)) : -1;
	size_t pos, last;

	if (slot < 0)
		return -ENOENT;
	pos = dev->index->slots[slot].pos1 - 1;
	index_delete_slot(dev->index, (size_t)slot);
	wgi_peer_clear(&dev->peers[pos]);
	last = dev->n_peers - 1;
	if (pos != last) {
		/* Re-point the last peer's slot at its new position. */
		const struct wgnl_peer_index *idx = dev->index;
		size_t i;

		for (i = key_hash(dev->peers[last].public_key) & idx->mask;
		     idx->slots[i].pos1 != last + 1; i = (i + 1) & idx->mask)
			;
		dev->peers[pos] = dev->peers[last];
		idx->slots[i].pos1 = (uint32_t)pos + 1;
	}
	memset(&dev->peers[last], 0, sizeof(dev->peers[last]));
	dev->n_peers--;
	return 0;
}

int wgnl_peer_add_allowedip(struct wgnl_peer *peer, const struct wgnl_prefix *p)
{
	int r;

	if (!(p->family == AF_INET && p->cidr <= 32) && !(p->family == AF_INET6 && p->cidr <= 128))
		return -EINVAL;
	r = wgi_grow((void **)&peer->allowedips, &peer->cap_allowedips, peer->n_allowedips + 1,
		     sizeof(*peer->allowedips));
	if (r < 0)
		return r;
	peer->allowedips[peer->n_allowedips++] = *p;
	return 0;
}

int wgnl_peer_set_endpoint_name(struct wgnl_peer *peer, const char *name)
{
	char *copy = NULL;

	if (name && !(copy = strdup(name)))
		return -ENOMEM;
	free(peer->endpoint_name);
	peer->endpoint_name = copy;
	return 0;
}

static int prefix_qsort_cmp(const void *a, const void *b)
{
	return wgnl_prefix_cmp(a, b);
}

void wgnl_device_sort_allowedips(struct wgnl_device *dev)
{
	/* A peer without allowed IPs has none allocated: qsort(NULL, 0) is
	 * undefined (glibc declares the base nonnull). */
	for (size_t i = 0; i < dev->n_peers; i++)
		if (dev->peers[i].n_allowedips > 1)
			qsort(dev->peers[i].allowedips, dev->peers[i].n_allowedips,
			      sizeof(struct wgnl_prefix), prefix_qsort_cmp);
}

ssize_t wgi_peer_canonical_ips(const struct wgnl_peer *p, struct wgnl_prefix *small,
			       struct wgnl_prefix **heap, struct wgnl_prefix **out)
{
	struct wgnl_prefix *v = small;
	size_t n = 0;

	*heap = NULL;
	*out = small;
	if (!p->n_allowedips)
		return 0;
	if (p->n_allowedips > WGI_SMALL_IPS) {
		v = *heap = malloc(p->n_allowedips * sizeof(*v));
		if (!v)
			return -ENOMEM;
	}
	for (size_t i = 0; i < p->n_allowedips; i++) {
		v[i] = p->allowedips[i];
		v[i].flags = 0;
		wgnl_prefix_mask(&v[i]);
	}
	if (p->n_allowedips > 1)
		qsort(v, p->n_allowedips, sizeof(*v), prefix_qsort_cmp);
	for (size_t i = 0; i < p->n_allowedips; i++)
		if (!n || wgnl_prefix_cmp(&v[n - 1], &v[i]))
			v[n++] = v[i];
	*out = v;
	return (ssize_t)n;
}

void wgnl_device_tidy(struct wgnl_device *dev)
{
	wgnl_device_sort_allowedips(dev);
	for (size_t i = 0; i < dev->n_peers; i++) {
		struct wgnl_peer *p = &dev->peers[i];

		if (wgnl_key_is_zero(p->preshared_key))
			p->flags &= ~(uint32_t)WGNL_PEER_HAS_PRESHARED_KEY;
		if (!p->persistent_keepalive)
			p->flags &= ~(uint32_t)WGNL_PEER_HAS_KEEPALIVE;
	}
}

/* ------------------------------------------------------------- prefixes */

int wgnl_prefix_parse(struct wgnl_prefix *out, const char *s)
{
	char addr[INET6_ADDRSTRLEN + 1];
	const char *slash = strchr(s, '/');
	size_t alen = slash ? (size_t)(slash - s) : strlen(s);
	unsigned long cidr;
	char *end;

	memset(out, 0, sizeof(*out));
	if (!alen || alen >= sizeof(addr))
		return -EINVAL;
	memcpy(addr, s, alen);
	addr[alen] = '\0';
	if (inet_pton(AF_INET, addr, &out->ip4) == 1)
		out->family = AF_INET;
	else if (inet_pton(AF_INET6, addr, &out->ip6) == 1)
		out->family = AF_INET6;
	else
		return -EINVAL;
	out->cidr = out->family == AF_INET ? 32 : 128;
	if (slash) {
		if (slash[1] < '0' || slash[1] > '9')
			goto bad;
		errno = 0;
		cidr = strtoul(slash + 1, &end, 10);
		if (errno || *end || cidr > out->cidr)
			goto bad;
		out->cidr = (uint8_t)cidr;
	}
	return 0;
bad:
	memset(out, 0, sizeof(*out));
	return -EINVAL;
}

/* Address formatting without stdio: `show dump` and the JSON output format
 * every allowed IP and endpoint of 10k+ peers, and glibc's inet_ntop() (built
 * on sprintf) dominated that. Output is identical to inet_ntop()'s (RFC 5952
 * zero compression, BIND's rule for embedded IPv4), which the unit tests
 * check address by address. */
static char *put_u32(char *p, uint32_t v)
{
	char t[10];
	int n = 0;

	do {
		t[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		*p++ = t[--n];
	return p;
}

static char *put_ip4(char *p, const uint8_t *a)
{
	for (int i = 0; i < 4; i++) {
		if (i)
			*p++ = '.';
		p = put_u32(p, a[i]);
	}
	return p;
}

static char *put_ip6(char *p, const uint8_t *a)
{
	static const char hex[] = "0123456789abcdef";
	int best = -1, best_len = 0, cur = -1, cur_len = 0;
	uint16_t w[8];

	for (int i = 0; i < 8; i++) {
		w[i] = (uint16_t)(a[2 * i] << 8 | a[2 * i + 1]);
		if (w[i]) {
			cur = -1;
			continue;
		}
		if (cur < 0)
			cur = i, cur_len = 0;
		if (++cur_len > best_len)
			best = cur, best_len = cur_len;
	}
	if (best_len < 2)
		best = -1;
	for (int i = 0; i < 8; i++) {
		if (best >= 0 && i >= best && i < best + best_len) {
			if (i == best)
				*p++ = ':';
			continue;
		}
		if (i)
			*p++ = ':';
		if (i == 6 && best == 0 && (best_len == 6 || (best_len == 5 && w[5] == 0xffff)))
			return put_ip4(p, a + 12);
		for (int shift = 12, started = 0; shift >= 0; shift -= 4) {
			unsigned d = (w[i] >> shift) & 0xf;

			if (d || started || !shift) {
				*p++ = hex[d];
				started = 1;
			}
		}
	}
	if (best >= 0 && best + best_len == 8)
		*p++ = ':';
	return p;
}

/* Copy [tmp, end) to @buf as snprintf() would (truncated, NUL-terminated). */
static char *finish_buf(char *buf, size_t len, const char *tmp, const char *end)
{
	size_t n = (size_t)(end - tmp);

	if (!len)
		return buf;
	if (n >= len)
		n = len - 1;
	memcpy(buf, tmp, n);
	buf[n] = '\0';
	return buf;
}

char *wgnl_prefix_format(const struct wgnl_prefix *p, char *buf, size_t len)
{
	char tmp[INET6_ADDRSTRLEN + 8], *e = tmp;

	if (p->family == AF_INET)
		e = put_ip4(e, (const uint8_t *)&p->ip4);
	else if (p->family == AF_INET6)
		e = put_ip6(e, p->ip6.s6_addr);
	else
		*e++ = '?';
	*e++ = '/';
	e = put_u32(e, p->cidr);
	return finish_buf(buf, len, tmp, e);
}

void wgnl_prefix_mask(struct wgnl_prefix *p)
{
	size_t bytes = p->family == AF_INET ? 4 : 16;
	uint8_t *a = (uint8_t *)&p->ip6;

	for (size_t i = 0; i < bytes; i++) {
		int keep = (int)p->cidr - (int)(i * 8);

		if (keep <= 0)
			a[i] = 0;
		else if (keep < 8)
			a[i] &= (uint8_t)(0xff00 >> keep);
	}
}

int wgnl_prefix_cmp(const struct wgnl_prefix *a, const struct wgnl_prefix *b)
{
	int r;

	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	r = memcmp(&a->ip6, &b->ip6, a->family == AF_INET ? 4 : 16);
	if (r)
		return r < 0 ? -1 : 1;
	if (a->cidr != b->cidr)
		return a->cidr < b->cidr ? -1 : 1;
	return 0;
}

/* ------------------------------------------------------------- endpoints */

/* Split "host:port" or "[host]:port" into @host and @port. */
static int split_host_port(const char *s, char *host, size_t hlen, char *port, size_t plen)
{
	const char *colon;
	size_t n;

	if (*s == '[') {
		const char *close = strchr(s, ']');

		if (!close || close[1] != ':')
			return -EINVAL;
		n = (size_t)(close - s - 1);
		if (!n || n >= hlen)
			return -EINVAL;
		memcpy(host, s + 1, n);
		host[n] = '\0';
		colon = close + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon || colon == s || memchr(s, ':', (size_t)(colon - s)))
			return -EINVAL; /* bare IPv6 must be bracketed */
		n = (size_t)(colon - s);
		if (n >= hlen)
			return -EINVAL;
		memcpy(host, s, n);
		host[n] = '\0';
	}
	n = strlen(colon + 1);
	if (!n || n >= plen || strspn(colon + 1, "0123456789") != n)
		return -EINVAL;
	memcpy(port, colon + 1, n + 1);
	if (strtoul(port, NULL, 10) > 65535)
		return -EINVAL;
	return 0;
}

static int endpoint_lookup(union wgnl_endpoint *out, const char *s, int ai_flags)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC,
				  .ai_socktype = SOCK_DGRAM,
				  .ai_protocol = IPPROTO_UDP,
				  .ai_flags = ai_flags };
	struct addrinfo *res = NULL;
	char host[256], port[8];
	int r;

	memset(out, 0, sizeof(*out));
	r = split_host_port(s, host, sizeof(host), port, sizeof(port));
	if (r < 0)
		return r;
	/* Windows: Winsock must be started before getaddrinfo(). */
	r = wgi_net_startup();
	if (r < 0)
		return r;
	r = getaddrinfo(host, port, &hints, &res);
	if (r) {
		if (ai_flags & AI_NUMERICHOST)
			return -EINVAL;
		return r == EAI_MEMORY ? -ENOMEM : -EHOSTUNREACH;
	}
	if (res->ai_addrlen > sizeof(*out) ||
	    (res->ai_family != AF_INET && res->ai_family != AF_INET6)) {
		freeaddrinfo(res);
		return -EHOSTUNREACH;
	}
	memcpy(out, res->ai_addr, res->ai_addrlen);
	freeaddrinfo(res);
	return 0;
}

/* The scope of "addr%scope": an interface index in decimal, or an interface
 * name looked up now. 0 or -EINVAL (not a name or a number), -ENODEV (no
 * such interface). */
static int parse_scope(const char *scope, uint32_t *out)
{
	size_t n = strlen(scope);
	unsigned idx;

	if (!n || n >= IF_NAMESIZE)
		return -EINVAL;
	if (strspn(scope, "0123456789") == n) {
		unsigned long v = strtoul(scope, NULL, 10);

		if (n > 10 || v > UINT32_MAX)
			return -EINVAL;
		*out = (uint32_t)v;
		return 0;
	}
	if (strchr(scope, '/') || strchr(scope, ':') || strchr(scope, '%'))
		return -EINVAL;
	idx = if_nametoindex(scope);
	if (!idx)
		return -ENODEV;
	*out = idx;
	return 0;
}

int wgnl_endpoint_parse(union wgnl_endpoint *out, const char *s)
{
	/* The longest literal, '%' and the longest interface name: a full
	 * fe80 address scoped to a 15-character name is 55 characters. */
	char host[INET6_ADDRSTRLEN + IF_NAMESIZE], port[8], *pct;
	uint16_t pnum;

	/* A 10k-peer config is 10k endpoints: inet_pton() is a tenth of
	 * getaddrinfo()'s cost, and is all a numeric endpoint needs. */
	memset(out, 0, sizeof(*out));
	if (split_host_port(s, host, sizeof(host), port, sizeof(port)) < 0)
		return -EINVAL;
	pnum = (uint16_t)strtoul(port, NULL, 10);
	if (inet_pton(AF_INET, host, &out->addr4.sin_addr) == 1) {
		out->addr4.sin_family = AF_INET;
		out->addr4.sin_port = htons(pnum);
		return 0;
	}
	pct = strchr(host, '%');
	if (*s == '[' && pct) {
		uint32_t scope = 0;
		int r;

		*pct = '\0';
		if (inet_pton(AF_INET6, host, &out->addr6.sin6_addr) != 1) {
			memset(out, 0, sizeof(*out));
			return -EINVAL;
		}
		r = parse_scope(pct + 1, &scope);
		if (r < 0) {
			memset(out, 0, sizeof(*out));
			return r;
		}
		out->addr6.sin6_scope_id = scope;
		out->addr6.sin6_family = AF_INET6;
		out->addr6.sin6_port = htons(pnum);
		return 0;
	}
	if (*s == '[' && inet_pton(AF_INET6, host, &out->addr6.sin6_addr) == 1) {
		out->addr6.sin6_family = AF_INET6;
		out->addr6.sin6_port = htons(pnum);
		return 0;
	}
	/* The forms only getaddrinfo() knows ("127.1"). */
	return endpoint_lookup(out, s, AI_NUMERICHOST | AI_NUMERICSERV);
}

int wgnl_endpoint_resolve(union wgnl_endpoint *out, const char *s)
{
	/* A numeric endpoint needs no resolver; its scope is looked up here. */
	int r = wgnl_endpoint_parse(out, s);

	if (r != -EINVAL)
		return r;
	return endpoint_lookup(out, s, AI_NUMERICSERV);
}

char *wgnl_endpoint_format(const union wgnl_endpoint *ep, char *buf, size_t len)
{
	char tmp[INET6_ADDRSTRLEN + 24], *e = tmp;

	if (ep->addr.sa_family == AF_INET) {
		e = put_ip4(e, (const uint8_t *)&ep->addr4.sin_addr);
		*e++ = ':';
		e = put_u32(e, ntohs(ep->addr4.sin_port));
	} else if (ep->addr.sa_family == AF_INET6) {
		*e++ = '[';
		e = put_ip6(e, ep->addr6.sin6_addr.s6_addr);
		if (ep->addr6.sin6_scope_id) {
			*e++ = '%';
			e = put_u32(e, ep->addr6.sin6_scope_id);
		}
		*e++ = ']';
		*e++ = ':';
		e = put_u32(e, ntohs(ep->addr6.sin6_port));
	} else {
		memcpy(e, "(none)", 6);
		e += 6;
	}
	return finish_buf(buf, len, tmp, e);
}

bool wgnl_endpoint_equal(const union wgnl_endpoint *a, const union wgnl_endpoint *b)
{
	if (a->addr.sa_family != b->addr.sa_family)
		return false;
	if (a->addr.sa_family == AF_INET)
		return a->addr4.sin_port == b->addr4.sin_port &&
		       a->addr4.sin_addr.s_addr == b->addr4.sin_addr.s_addr;
	if (a->addr.sa_family == AF_INET6)
		return a->addr6.sin6_port == b->addr6.sin6_port &&
		       a->addr6.sin6_scope_id == b->addr6.sin6_scope_id &&
		       !memcmp(&a->addr6.sin6_addr, &b->addr6.sin6_addr, 16);
	return true; /* both unset */
}
