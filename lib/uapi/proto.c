// SPDX-License-Identifier: MIT
/* The UAPI protocol, apart from any socket: parsing the key=value lines of a
 * `get=1` reply (and the errno line that ends every reply), writing the
 * lines of a `set=1` request into a buffer handed to a sink, the meaning of
 * an `errno=N` answer, and the allowed-IP arithmetic a set needs where the
 * implementation cannot remove single prefixes. The transport (connect,
 * write, read to the blank line) is uapi.c. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "uapi.h"

const char *wgi_uapi_errdesc(int err)
{
	const char *d = strerrordesc_np(err);

	return d ? d : "unknown error";
}

/* -------------------------------------------------------- parsing values */

/* Strict unsigned decimal: digits only, no sign, no overflow, <= @max. */
static bool parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (!*s)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		if (v > (max - (uint64_t)(*s - '0')) / 10)
			return false;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*out = v;
	return true;
}

/* 64 hex digits (either case; the wire uses lowercase), in constant time. */
static bool parse_key(wgnl_key out, const char *s, size_t len)
{
	size_t bin_len = 0;
	const char *end = NULL;

	if (len != 2 * WGNL_KEY_LEN ||
	    sodium_hex2bin(out, WGNL_KEY_LEN, s, len, NULL, &bin_len, &end) != 0 ||
	    bin_len != WGNL_KEY_LEN || end != s + len) {
		wgnl_wipe(out, WGNL_KEY_LEN);
		return false;
	}
	return true;
}

/* errno=N: wireguard-go writes the negative value, others the positive one;
 * either way the result is -errno. */
static bool parse_errno(const char *s, int *out)
{
	uint64_t v;

	if (*s == '-')
		s++;
	if (!parse_u64(s, 4095, &v))
		return false;
	*out = -(int)v;
	return true;
}

/* wireguard-go writes a link-local endpoint's zone as an interface name
 * ("[fe80::1%eth0]:51820"), which only resolves in the daemon's network
 * namespace; the socket directory is shared by all of them. Keep the
 * address and port then, without the scope. */
static int parse_endpoint(union wgnl_endpoint *ep, const char *s)
{
	char buf[INET6_ADDRSTRLEN + 32];
	const char *pct = strchr(s, '%'), *close = strchr(s, ']');
	size_t n;

	if (wgnl_endpoint_parse(ep, s) == 0)
		return 0;
	if (*s != '[' || !pct || !close || pct > close)
		return -EINVAL;
	n = (size_t)(pct - s);
	if (n + strlen(close) >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, n);
	strcpy(buf + n, close);
	return wgnl_endpoint_parse(ep, buf);
}

void wgi_uapi_parser_init(struct wgi_uapi_parser *p, struct wgnl_device *dev)
{
	*p = (struct wgi_uapi_parser){ .dev = dev };
	/* Absent lines mean zero: wireguard-go omits listen_port while down and
	 * fwmark when unset. Like the kernel's reply, the result always has both. */
	dev->flags |= WGNL_DEV_HAS_LISTEN_PORT | WGNL_DEV_HAS_FWMARK;
}

int wgi_uapi_bad_line(struct wgnl_ctx *ctx, const struct wgi_uapi_parser *p, const char *key,
		      const char *why)
{
	wgi_set_error(ctx, "malformed UAPI reply, line %u (%s): %s", p->line, key, why);
	return -EBADMSG;
}

static int parse_device_line(struct wgnl_ctx *ctx, struct wgi_uapi_parser *p, const char *key,
			     const char *val, size_t vlen)
{
	struct wgnl_device *dev = p->dev;
	uint64_t v;

	if (!strcmp(key, "private_key")) {
		if (!parse_key(dev->private_key, val, vlen))
			return wgi_uapi_bad_line(ctx, p, key, "not 64 hex digits");
		/* An all-zero key is "none", as the kernel omits it. */
		if (wgnl_key_is_zero(dev->private_key)) {
			dev->flags &=
				~(uint32_t)(WGNL_DEV_HAS_PRIVATE_KEY | WGNL_DEV_HAS_PUBLIC_KEY);
			return 0;
		}
		dev->flags |= WGNL_DEV_HAS_PRIVATE_KEY;
		/* UAPI has no public_key line for the device; derive it as the
		 * kernel reports it. */
		if (wgnl_key_public_from_private(dev->public_key, dev->private_key) == 0)
			dev->flags |= WGNL_DEV_HAS_PUBLIC_KEY;
	} else if (!strcmp(key, "listen_port")) {
		if (!parse_u64(val, UINT16_MAX, &v))
			return wgi_uapi_bad_line(ctx, p, key, "not a port number");
		dev->listen_port = (uint16_t)v;
	} else if (!strcmp(key, "fwmark")) {
		if (!parse_u64(val, UINT32_MAX, &v))
			return wgi_uapi_bad_line(ctx, p, key, "not a 32-bit number");
		dev->fwmark = (uint32_t)v;
	}
	/* Other keys (implementation extensions) are skipped. */
	return 0;
}

static int parse_peer_line(struct wgnl_ctx *ctx, struct wgi_uapi_parser *p, const char *key,
			   const char *val, size_t vlen)
{
	struct wgnl_peer *peer = p->peer;
	struct wgnl_prefix pfx;
	uint64_t v;
	int r;

	if (!strcmp(key, "preshared_key")) {
		if (!parse_key(peer->preshared_key, val, vlen))
			return wgi_uapi_bad_line(ctx, p, key, "not 64 hex digits");
		peer->flags |= WGNL_PEER_HAS_PRESHARED_KEY;
	} else if (!strcmp(key, "endpoint")) {
		if (parse_endpoint(&peer->endpoint, val) < 0)
			return wgi_uapi_bad_line(ctx, p, key, "not a numeric address:port");
		peer->flags |= WGNL_PEER_HAS_ENDPOINT;
	} else if (!strcmp(key, "persistent_keepalive_interval")) {
		if (!parse_u64(val, UINT16_MAX, &v))
			return wgi_uapi_bad_line(ctx, p, key, "not a 16-bit number");
		peer->persistent_keepalive = (uint16_t)v;
		peer->flags |= WGNL_PEER_HAS_KEEPALIVE;
	} else if (!strcmp(key, "allowed_ip")) {
		if (wgnl_prefix_parse(&pfx, val) < 0)
			return wgi_uapi_bad_line(ctx, p, key, "not a prefix");
		r = wgnl_peer_add_allowedip(peer, &pfx);
		if (r < 0)
			return r;
	} else if (!strcmp(key, "last_handshake_time_sec")) {
		/* Bounded to the year 9999: no clock is further on, and a
		 * daemon's garbage near INT64_MAX would overflow every
		 * conversion to ms (wghealth keeps those in its state file). */
		if (!parse_u64(val, UINT64_MAX, &v))
			return wgi_uapi_bad_line(ctx, p, key, "not a number");
		if (v > WGI_UAPI_TIME_MAX_SEC)
			return wgi_uapi_bad_line(ctx, p, key, "beyond the year 9999");
		peer->last_handshake.tv_sec = (time_t)v;
		peer->flags |= WGNL_PEER_HAS_LAST_HANDSHAKE;
	} else if (!strcmp(key, "last_handshake_time_nsec")) {
		if (!parse_u64(val, 999999999, &v))
			return wgi_uapi_bad_line(ctx, p, key, "not a nanosecond count");
		peer->last_handshake.tv_nsec = (long)v;
		peer->flags |= WGNL_PEER_HAS_LAST_HANDSHAKE;
	} else if (!strcmp(key, "rx_bytes")) {
		if (!parse_u64(val, UINT64_MAX, &v))
			return wgi_uapi_bad_line(ctx, p, key, "not a number");
		peer->rx_bytes = v;
		peer->flags |= WGNL_PEER_HAS_RX_TX;
	} else if (!strcmp(key, "tx_bytes")) {
		if (!parse_u64(val, UINT64_MAX, &v))
			return wgi_uapi_bad_line(ctx, p, key, "not a number");
		peer->tx_bytes = v;
		peer->flags |= WGNL_PEER_HAS_RX_TX;
	} else if (!strcmp(key, "protocol_version")) {
		if (!parse_u64(val, UINT32_MAX, &v))
			return wgi_uapi_bad_line(ctx, p, key, "not a number");
		peer->protocol_version = (uint32_t)v;
		peer->flags |= WGNL_PEER_HAS_PROTOCOL_VERSION;
	} else if (!strcmp(key, "private_key") || !strcmp(key, "listen_port") ||
		   !strcmp(key, "fwmark")) {
		return wgi_uapi_bad_line(ctx, p, key, "device key after the first peer");
	}
	return 0;
}

int wgi_uapi_parse_line(struct wgnl_ctx *ctx, struct wgi_uapi_parser *p, char *line, size_t len)
{
	char *eq, *key, *val;
	wgnl_key pub;
	int r;

	p->line++;
	line[len] = '\0';
	if (memchr(line, '\0', len)) {
		wgi_set_error(ctx, "malformed UAPI reply, line %u: NUL byte", p->line);
		return -EBADMSG;
	}
	if (p->have_errno) {
		if (len) {
			wgi_set_error(ctx, "malformed UAPI reply, line %u: text after errno",
				      p->line);
			return -EBADMSG;
		}
		return 1;
	}
	if (!len) {
		wgi_set_error(ctx, "malformed UAPI reply, line %u: blank line before errno",
			      p->line);
		return -EBADMSG;
	}
	eq = memchr(line, '=', len);
	if (!eq || eq == line) {
		wgi_set_error(ctx, "malformed UAPI reply, line %u: not key=value", p->line);
		return -EBADMSG;
	}
	*eq = '\0';
	key = line;
	val = eq + 1;
	len -= (size_t)(val - line);

	if (!strcmp(key, "errno")) {
		if (!parse_errno(val, &p->uapi_errno))
			return wgi_uapi_bad_line(ctx, p, key, "not a number");
		p->have_errno = true;
		return 0;
	}
	if (!strcmp(key, "public_key")) {
		if (!parse_key(pub, val, len))
			return wgi_uapi_bad_line(ctx, p, key, "not 64 hex digits");
		/* O(1) through the device's key index; a repeated key is a broken
		 * reply, not something to merge. */
		r = wgnl_device_add_peer(p->dev, pub, &p->peer);
		if (r == -EEXIST)
			return wgi_uapi_bad_line(ctx, p, key, "the same peer twice");
		return r;
	}
	if (p->peer)
		return parse_peer_line(ctx, p, key, val, len);
	return parse_device_line(ctx, p, key, val, len);
}

/* ------------------------------------------------------------ errno= */

int wgi_uapi_error(struct wgnl_ctx *ctx, const char *ifname, const char *op, int err,
		   const struct wgnl_device *dev)
{
	if (err == -EADDRINUSE && dev && (dev->flags & WGNL_DEV_HAS_LISTEN_PORT))
		wgi_set_error(ctx, "'%s' cannot use listen port %u: it is in use (UAPI errno=%d)",
			      ifname, dev->listen_port, err);
	else if (err == -EINVAL)
		wgi_set_error(ctx, "'%s' refused the %s: a value was invalid (UAPI errno=%d)",
			      ifname, op, err);
	else if (err == -EPROTO)
		wgi_set_error(ctx, "'%s' refused the %s: protocol error (UAPI errno=%d)", ifname,
			      op, err);
	else
		wgi_set_error(ctx, "'%s' failed the %s: %s (UAPI errno=%d)", ifname, op,
			      wgi_uapi_errdesc(-err), err);
	return err;
}

/* ------------------------------------------------------------------ set */

/* Room every put needs at most (the longest line is an endpoint). */
#define WRITER_SLACK 256

void wgi_uapi_writer_flush(struct wgi_uapi_writer *w)
{
	/* After a failure (the other side closed) the rest is dropped. */
	if (!w->err && w->len)
		w->err = w->flush(w->arg, w->buf, w->len);
	if (w->len > w->hiwater)
		w->hiwater = w->len;
	w->len = 0;
}

static char *writer_room(struct wgi_uapi_writer *w)
{
	if (w->cap - w->len < WRITER_SLACK)
		wgi_uapi_writer_flush(w);
	return w->buf + w->len;
}

static void put_line(struct wgi_uapi_writer *w, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void put_line(struct wgi_uapi_writer *w, const char *fmt, ...)
{
	char *p = writer_room(w);
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(p, WRITER_SLACK, fmt, ap);
	va_end(ap);
	if (n > 0 && n < WRITER_SLACK)
		w->len += (size_t)n;
	else if (!w->err)
		w->err = -EINVAL; /* cannot happen with the lines written here */
}

static void put_key(struct wgi_uapi_writer *w, const char *name, const wgnl_key key)
{
	char *p = writer_room(w);
	size_t n = strlen(name);

	memcpy(p, name, n);
	p[n] = '=';
	/* Constant time; lowercase as the protocol wants. */
	sodium_bin2hex(p + n + 1, 2 * WGNL_KEY_LEN + 1, key, WGNL_KEY_LEN);
	p[n + 1 + 2 * WGNL_KEY_LEN] = '\n';
	w->len += n + 2 + 2 * WGNL_KEY_LEN;
}

static void put_prefix(struct wgi_uapi_writer *w, const struct wgnl_prefix *pfx, bool remove)
{
	char buf[INET6_ADDRSTRLEN + 8];

	put_line(w, "allowed_ip=%s%s\n", remove ? "-" : "",
		 wgnl_prefix_format(pfx, buf, sizeof(buf)));
}

static void put_peer(struct wgi_uapi_writer *w, const struct wgnl_peer *peer, size_t idx,
		     const struct wgi_uapi_removals *rm)
{
	char ep[64];

	put_key(w, "public_key", peer->public_key);
	if (peer->flags & WGNL_PEER_REMOVE) {
		put_line(w, "remove=true\n");
		return;
	}
	/* Must come first: it decides whether the lines below create a peer. */
	if (peer->flags & WGNL_PEER_UPDATE_ONLY)
		put_line(w, "update_only=true\n");
	if (peer->flags & WGNL_PEER_HAS_PRESHARED_KEY)
		put_key(w, "preshared_key", peer->preshared_key);
	if (peer->flags & WGNL_PEER_HAS_ENDPOINT)
		put_line(w, "endpoint=%s\n", wgnl_endpoint_format(&peer->endpoint, ep, sizeof(ep)));
	if (peer->flags & WGNL_PEER_HAS_KEEPALIVE)
		put_line(w, "persistent_keepalive_interval=%u\n", peer->persistent_keepalive);
	if (rm && !rm->native && rm->replace && rm->replace[idx]) {
		put_line(w, "replace_allowed_ips=true\n");
		for (size_t i = 0; i < rm->n_replace[idx]; i++)
			put_prefix(w, &rm->replace[idx][i], false);
		return;
	}
	if (peer->flags & WGNL_PEER_REPLACE_ALLOWEDIPS)
		put_line(w, "replace_allowed_ips=true\n");
	for (size_t i = 0; i < peer->n_allowedips; i++) {
		const struct wgnl_prefix *pfx = &peer->allowedips[i];
		bool remove = pfx->flags & WGNL_PREFIX_REMOVE;

		/* Without native support, a removal only reaches here when the
		 * caller gave no replacement list: it cannot be expressed. */
		if (remove && !(rm && rm->native))
			continue;
		put_prefix(w, pfx, remove);
	}
}

int wgi_uapi_write_set(struct wgi_uapi_writer *w, const struct wgnl_device *dev,
		       const struct wgi_uapi_removals *rm)
{
	put_line(w, "set=1\n");
	if (dev->flags & WGNL_DEV_HAS_PRIVATE_KEY)
		put_key(w, "private_key", dev->private_key);
	if (dev->flags & WGNL_DEV_HAS_LISTEN_PORT)
		put_line(w, "listen_port=%u\n", dev->listen_port);
	if (dev->flags & WGNL_DEV_HAS_FWMARK)
		put_line(w, "fwmark=%u\n", dev->fwmark);
	if (dev->flags & WGNL_DEV_REPLACE_PEERS)
		put_line(w, "replace_peers=true\n");
	for (size_t i = 0; i < dev->n_peers && !w->err; i++) {
		if (!(dev->peers[i].flags & WGNL_PEER_SKIP))
			put_peer(w, &dev->peers[i], i, rm);
	}
	put_line(w, "\n");
	wgi_uapi_writer_flush(w);
	return w->err;
}

/* ------------------------------------------------- allowed-IP removals */

/* The kernel and wireguard-go store allowed IPs masked; compare them so. */
struct merge_item {
	struct wgnl_prefix pfx;
	size_t seq; /* 0: current list; i + 1: the i-th entry of the set */
	bool remove;
};

static int merge_cmp(const void *a, const void *b)
{
	const struct merge_item *x = a, *y = b;
	int r = wgnl_prefix_cmp(&x->pfx, &y->pfx);

	if (r)
		return r;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

int wgi_uapi_prefix_cmp(const void *a, const void *b)
{
	return wgnl_prefix_cmp(a, b);
}

int wgi_uapi_merge_allowedips(const struct wgnl_peer *cur, const struct wgnl_peer *want,
			      const struct wgnl_prefix *claimed, size_t n_claimed,
			      struct wgnl_prefix **ret, size_t *n)
{
	size_t n_cur = cur ? cur->n_allowedips : 0, total, out = 0;
	struct merge_item *items;
	struct wgnl_prefix *res;

	*ret = NULL;
	*n = 0;
	total = n_cur + want->n_allowedips;
	items = calloc(total ? total : 1, sizeof(*items));
	res = calloc(total ? total : 1, sizeof(*res));
	if (!items || !res) {
		free(items);
		free(res);
		return -ENOMEM;
	}
	total = 0;
	for (size_t i = 0; i < n_cur; i++) {
		struct merge_item *it = &items[total];

		it->pfx = cur->allowedips[i];
		it->pfx.flags = 0;
		wgnl_prefix_mask(&it->pfx);
		/* Another peer of this set takes it over: do not put it back. */
		if (claimed &&
		    bsearch(&it->pfx, claimed, n_claimed, sizeof(*claimed), wgi_uapi_prefix_cmp))
			continue;
		total++;
	}
	for (size_t i = 0; i < want->n_allowedips; i++) {
		struct merge_item *it = &items[total++];

		it->pfx = want->allowedips[i];
		it->remove = it->pfx.flags & WGNL_PREFIX_REMOVE;
		it->pfx.flags = 0;
		wgnl_prefix_mask(&it->pfx);
		it->seq = i + 1;
	}
	/* The last operation on each prefix decides, as applying them in order
	 * would; O(k log k) rather than a search per entry. */
	if (total > 1)
		qsort(items, total, sizeof(*items), merge_cmp);
	for (size_t i = 0; i < total; i++) {
		if (i + 1 < total && !wgnl_prefix_cmp(&items[i].pfx, &items[i + 1].pfx))
			continue;
		if (!items[i].remove)
			res[out++] = items[i].pfx;
	}
	free(items);
	*ret = res;
	*n = out;
	return 0;
}
