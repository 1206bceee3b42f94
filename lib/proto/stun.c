/* SPDX-License-Identifier: MIT */
/* The STUN codec (RFC 8489 + RFC 5780 attributes): strict decoding in place
 * and building into a caller's buffer. No allocation anywhere. */
#include <errno.h>
#include <string.h>
#include <sodium.h>

#include "core/compat.h"
#include "wgkit/wgnl_stun.h"

#define FINGERPRINT_XOR 0x5354554eU

/* Slicing-by-8 tables: crc_table[0] is the classic byte table;
 * crc_table[k][b] is the CRC of byte b followed by k zero bytes, so eight
 * input bytes fold into the CRC with eight independent lookups. */
static uint32_t crc_table[8][256];

/* The CRC-32 of ISO 3309 / ITU-T V.42 (reflected 0xEDB88320), which
 * FINGERPRINT uses; the tables are built once at load time. */
__attribute__((constructor)) static void crc_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int k = 0; k < 8; k++)
			c = (c & 1) ? 0xEDB88320U ^ (c >> 1) : c >> 1;
		crc_table[0][i] = c;
	}
	for (uint32_t i = 0; i < 256; i++)
		for (int k = 1; k < 8; k++)
			crc_table[k][i] = (crc_table[k - 1][i] >> 8) ^
					  crc_table[0][crc_table[k - 1][i] & 0xFF];
}

static inline uint32_t load_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint32_t crc32_buf(const uint8_t *p, size_t n)
{
	uint32_t c = 0xFFFFFFFFU;
	while (n >= 8) {
		uint32_t a = c ^ load_le32(p), b = load_le32(p + 4);
		c = crc_table[7][a & 0xFF] ^ crc_table[6][(a >> 8) & 0xFF] ^
		    crc_table[5][(a >> 16) & 0xFF] ^ crc_table[4][a >> 24] ^
		    crc_table[3][b & 0xFF] ^ crc_table[2][(b >> 8) & 0xFF] ^
		    crc_table[1][(b >> 16) & 0xFF] ^ crc_table[0][b >> 24];
		p += 8;
		n -= 8;
	}
	while (n--)
		c = crc_table[0][(c ^ *p++) & 0xFF] ^ (c >> 8);
	return c ^ 0xFFFFFFFFU;
}

static inline uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* Decode an address attribute value (plain or XOR). */
static int get_addr(const uint8_t *v, uint16_t len, bool xor, const uint8_t *hdr,
		    union wgnl_endpoint *ep)
{
	if (len < 4 || v[0] != 0)
		return -EBADMSG;
	uint16_t port = get16(v + 2);
	if (xor)
		port ^= (uint16_t)(WGNL_STUN_MAGIC >> 16);
	memset(ep, 0, sizeof(*ep));
	if (v[1] == 0x01) {
		if (len != 8)
			return -EBADMSG;
		ep->addr4.sin_family = AF_INET;
		ep->addr4.sin_port = htons(port);
		uint8_t *a = (uint8_t *)&ep->addr4.sin_addr;
		for (int i = 0; i < 4; i++)
			a[i] = (uint8_t)(v[4 + i] ^ (xor? hdr[4 + i] : 0));
	} else if (v[1] == 0x02) {
		if (len != 20)
			return -EBADMSG;
		ep->addr6.sin6_family = AF_INET6;
		ep->addr6.sin6_port = htons(port);
		/* IPv6: XOR with the magic cookie followed by the transaction id,
		 * which sit contiguously at header bytes 4..19. */
		for (int i = 0; i < 16; i++)
			ep->addr6.sin6_addr.s6_addr[i] =
				(uint8_t)(v[4 + i] ^ (xor? hdr[4 + i] : 0));
	} else {
		return -EBADMSG;
	}
	return 0;
}

/* Attributes we recognise but do not act on (no credentials here): their
 * lengths are still checked. */
static int check_ignored(uint16_t type, uint16_t len)
{
	switch (type) {
	case WGNL_STUN_ATTR_USERNAME:
		return len <= 513 ? 0 : -EBADMSG;
	case WGNL_STUN_ATTR_REALM:
	case WGNL_STUN_ATTR_NONCE:
		return len <= 763 ? 0 : -EBADMSG;
	case WGNL_STUN_ATTR_USERHASH:
		return len == 32 ? 0 : -EBADMSG;
	case WGNL_STUN_ATTR_MESSAGE_INTEGRITY_SHA256:
		return (len >= 16 && len <= 32 && len % 4 == 0) ? 0 : -EBADMSG;
	case WGNL_STUN_ATTR_UNKNOWN_ATTRIBUTES:
		return len % 2 == 0 ? 0 : -EBADMSG;
	case WGNL_STUN_ATTR_ALTERNATE_SERVER:
		return 0;
	default:
		return 1; /* not one of ours */
	}
}

/* One attribute, @at of @alen bytes at @v (@off into the message @msg):
 * checked, and copied into @out unless one of its type came first. *bit is
 * the HAS_ flag to raise once it is taken. 0 or -EBADMSG. */
static int decode_attr(struct wgnl_stun_msg *out, const uint8_t *msg, size_t off, uint16_t at,
		       uint16_t alen, const uint8_t *v, uint32_t *bit, bool *after_integrity)
{
	int r = 0;

	switch (at) {
	case WGNL_STUN_ATTR_XOR_MAPPED_ADDRESS:
		*bit = WGNL_STUN_HAS_XOR_MAPPED;
		if (!(out->flags & *bit))
			r = get_addr(v, alen, true, msg, &out->xor_mapped);
		break;
	case WGNL_STUN_ATTR_MAPPED_ADDRESS:
		*bit = WGNL_STUN_HAS_MAPPED;
		if (!(out->flags & *bit))
			r = get_addr(v, alen, false, msg, &out->mapped);
		break;
	case WGNL_STUN_ATTR_RESPONSE_ORIGIN:
		*bit = WGNL_STUN_HAS_RESPONSE_ORIGIN;
		if (!(out->flags & *bit))
			r = get_addr(v, alen, false, msg, &out->response_origin);
		break;
	case WGNL_STUN_ATTR_OTHER_ADDRESS:
		*bit = WGNL_STUN_HAS_OTHER_ADDRESS;
		if (!(out->flags & *bit))
			r = get_addr(v, alen, false, msg, &out->other_address);
		break;
	case WGNL_STUN_ATTR_ERROR_CODE:
		*bit = WGNL_STUN_HAS_ERROR_CODE;
		if (alen < 4 || alen > 4 + 763 || get16(v) != 0 || (v[2] & 0xF8))
			return -EBADMSG;
		if (!(out->flags & *bit)) {
			unsigned cls = v[2] & 7, num = v[3];
			if (cls < 3 || cls > 6 || num > 99)
				return -EBADMSG;
			out->error_code = (uint16_t)(cls * 100 + num);
			out->error_reason = (const char *)v + 4;
			out->error_reason_len = (uint16_t)(alen - 4);
		}
		break;
	case WGNL_STUN_ATTR_SOFTWARE:
		*bit = WGNL_STUN_HAS_SOFTWARE;
		if (alen > 763)
			return -EBADMSG;
		if (!(out->flags & *bit)) {
			out->software = (const char *)v;
			out->software_len = alen;
		}
		break;
	case WGNL_STUN_ATTR_CHANGE_REQUEST:
		*bit = WGNL_STUN_HAS_CHANGE_REQUEST;
		if (alen != 4)
			return -EBADMSG;
		if (!(out->flags & *bit))
			out->change_request = get32(v) &
					      (WGNL_STUN_CHANGE_IP | WGNL_STUN_CHANGE_PORT);
		break;
	case WGNL_STUN_ATTR_RESPONSE_PORT:
		*bit = WGNL_STUN_HAS_RESPONSE_PORT;
		if (alen != 4)
			return -EBADMSG;
		if (!(out->flags & *bit))
			out->response_port = get16(v);
		if (out->response_port == 0)
			return -EBADMSG;
		break;
	case WGNL_STUN_ATTR_PADDING:
		*bit = WGNL_STUN_HAS_PADDING;
		break;
	case WGNL_STUN_ATTR_MESSAGE_INTEGRITY:
		*bit = WGNL_STUN_HAS_MESSAGE_INTEGRITY;
		if (alen != 20)
			return -EBADMSG;
		*after_integrity = true;
		break;
	case WGNL_STUN_ATTR_FINGERPRINT: {
		if (alen != 4)
			return -EBADMSG;
		/* The CRC covers the message up to this attribute, with the
		 * header length already counting it (it is the last one,
		 * checked above, so the header length is right as is). */
		uint32_t want = crc32_buf(msg, off) ^ FINGERPRINT_XOR;
		if (get32(v) != want)
			return -EBADMSG;
		out->flags |= WGNL_STUN_HAS_FINGERPRINT;
		break;
	}
	default:
		r = check_ignored(at, alen);
		if (r < 0)
			return r;
		if (r > 0 && at < 0x8000 && out->n_unknown < WGNL_STUN_MAX_UNKNOWN)
			out->unknown[out->n_unknown++] = at;
		r = 0;
		break;
	}
	return r;
}

int wgnl_stun_decode(const void *buf, size_t len, struct wgnl_stun_msg *out)
{
	const uint8_t *p = buf;

	memset(out, 0, sizeof(*out));
	if (len < WGNL_STUN_HDR_LEN || (p[0] & 0xC0) || get32(p + 4) != WGNL_STUN_MAGIC)
		return -EINVAL;
	uint16_t mlen = get16(p + 2);
	if (mlen % 4 || (size_t)mlen + WGNL_STUN_HDR_LEN != len)
		return -EMSGSIZE;

	out->type = get16(p);
	out->length = mlen;
	out->klass = (uint8_t)(((out->type >> 7) & 2) | ((out->type >> 4) & 1));
	out->method = (uint16_t)((out->type & 0x000F) | ((out->type >> 1) & 0x0070) |
				 ((out->type >> 2) & 0x0F80));
	memcpy(out->tid, p + 8, WGNL_STUN_TID_LEN);

	size_t off = WGNL_STUN_HDR_LEN;
	bool after_integrity = false;
	while (off < len) {
		if (out->flags & WGNL_STUN_HAS_FINGERPRINT)
			return -EBADMSG; /* FINGERPRINT must be last */
		if (len - off < 4)
			return -EBADMSG;
		uint16_t at = get16(p + off), alen = get16(p + off + 2);
		size_t padded = ((size_t)alen + 3) & ~(size_t)3;
		if (padded > len - off - 4)
			return -EBADMSG;
		const uint8_t *v = p + off + 4;
		uint32_t bit = 0;
		int r;

		if (after_integrity && at != WGNL_STUN_ATTR_FINGERPRINT &&
		    at != WGNL_STUN_ATTR_MESSAGE_INTEGRITY_SHA256)
			return -EBADMSG;

		r = decode_attr(out, p, off, at, alen, v, &bit, &after_integrity);
		if (r < 0)
			return r;
		out->flags |= bit;
		off += 4 + padded;
	}
	return out->n_unknown ? -EOPNOTSUPP : 0;
}

int wgnl_stun_tid_random(uint8_t tid[WGNL_STUN_TID_LEN])
{
	if (sodium_init() < 0)
		return -EIO;
	randombytes_buf(tid, WGNL_STUN_TID_LEN);
	return 0;
}

void wgnl_stun_writer_init(struct wgnl_stun_writer *w, void *buf, size_t cap, uint16_t type,
			   const uint8_t tid[WGNL_STUN_TID_LEN])
{
	w->buf = buf;
	w->cap = cap;
	w->len = 0;
	w->err = 0;
	if (cap < WGNL_STUN_HDR_LEN || cap > 0xFFFF + WGNL_STUN_HDR_LEN + 0UL) {
		w->err = cap < WGNL_STUN_HDR_LEN ? -ENOSPC : -EINVAL;
		return;
	}
	put16(w->buf, type & 0x3FFF);
	put16(w->buf + 2, 0);
	put32(w->buf + 4, WGNL_STUN_MAGIC);
	memcpy(w->buf + 8, tid, WGNL_STUN_TID_LEN);
	w->len = WGNL_STUN_HDR_LEN;
}

/* Reserve an attribute of @len value bytes; returns the value pointer or
 * NULL (error recorded). Padding is zeroed. */
static uint8_t *reserve(struct wgnl_stun_writer *w, uint16_t attr, size_t len)
{
	if (w->err)
		return NULL;
	size_t padded = (len + 3) & ~(size_t)3;
	if (len > 0xFFFF || w->cap - w->len < 4 + padded) {
		w->err = -ENOSPC;
		return NULL;
	}
	uint8_t *a = w->buf + w->len;
	put16(a, attr);
	put16(a + 2, (uint16_t)len);
	memset(a + 4 + len, 0, padded - len);
	w->len += 4 + padded;
	return a + 4;
}

void wgnl_stun_put(struct wgnl_stun_writer *w, uint16_t attr, const void *val, size_t len)
{
	uint8_t *v = reserve(w, attr, len);
	if (v && len)
		memcpy(v, val, len);
}

void wgnl_stun_put_u32(struct wgnl_stun_writer *w, uint16_t attr, uint32_t val)
{
	uint8_t *v = reserve(w, attr, 4);
	if (v)
		put32(v, val);
}

void wgnl_stun_put_addr(struct wgnl_stun_writer *w, uint16_t attr, const union wgnl_endpoint *ep)
{
	bool xor = attr == WGNL_STUN_ATTR_XOR_MAPPED_ADDRESS;
	uint8_t *v;

	if (w->err)
		return;
	if (ep->addr.sa_family == AF_INET) {
		if (!(v = reserve(w, attr, 8)))
			return;
		const uint8_t *a = (const uint8_t *)&ep->addr4.sin_addr;
		v[0] = 0;
		v[1] = 1;
		put16(v + 2,
		      (uint16_t)(ntohs(ep->addr4.sin_port) ^ (xor? WGNL_STUN_MAGIC >> 16 : 0)));
		for (int i = 0; i < 4; i++)
			v[4 + i] = (uint8_t)(a[i] ^ (xor? w->buf[4 + i] : 0));
	} else if (ep->addr.sa_family == AF_INET6) {
		if (!(v = reserve(w, attr, 20)))
			return;
		v[0] = 0;
		v[1] = 2;
		put16(v + 2,
		      (uint16_t)(ntohs(ep->addr6.sin6_port) ^ (xor? WGNL_STUN_MAGIC >> 16 : 0)));
		for (int i = 0; i < 16; i++)
			v[4 + i] = (uint8_t)(ep->addr6.sin6_addr.s6_addr[i] ^
					     (xor? w->buf[4 + i] : 0));
	} else {
		w->err = -EINVAL;
	}
}

void wgnl_stun_put_error(struct wgnl_stun_writer *w, uint16_t code, const char *reason)
{
	size_t rlen = reason ? strnlen(reason, 763) : 0;
	if (!w->err && (code < 300 || code > 699)) {
		w->err = -EINVAL;
		return;
	}
	uint8_t *v = reserve(w, WGNL_STUN_ATTR_ERROR_CODE, 4 + rlen);
	if (!v)
		return;
	v[0] = v[1] = 0;
	v[2] = (uint8_t)(code / 100);
	v[3] = (uint8_t)(code % 100);
	if (rlen)
		memcpy(v + 4, reason, rlen);
}

void wgnl_stun_put_unknown(struct wgnl_stun_writer *w, const uint16_t *types, size_t n)
{
	uint8_t *v = reserve(w, WGNL_STUN_ATTR_UNKNOWN_ATTRIBUTES, 2 * n);
	if (!v)
		return;
	for (size_t i = 0; i < n; i++)
		put16(v + 2 * i, types[i]);
}

int wgnl_stun_finish(struct wgnl_stun_writer *w, bool fingerprint)
{
	if (w->err)
		return w->err;
	if (fingerprint) {
		if (w->cap - w->len < 8)
			return w->err = -ENOSPC;
		put16(w->buf + 2, (uint16_t)(w->len + 8 - WGNL_STUN_HDR_LEN));
		uint32_t crc = crc32_buf(w->buf, w->len) ^ FINGERPRINT_XOR;
		uint8_t *v = reserve(w, WGNL_STUN_ATTR_FINGERPRINT, 4);
		put32(v, crc);
	}
	if (w->len - WGNL_STUN_HDR_LEN > 0xFFFF)
		return w->err = -ENOSPC;
	put16(w->buf + 2, (uint16_t)(w->len - WGNL_STUN_HDR_LEN));
	return (int)w->len;
}

int wgnl_stun_build_request(void *buf, size_t cap, const uint8_t tid[WGNL_STUN_TID_LEN],
			    uint32_t change, uint16_t response_port, size_t padding,
			    bool fingerprint)
{
	struct wgnl_stun_writer w;

	wgnl_stun_writer_init(&w, buf, cap, WGNL_STUN_BINDING_REQUEST, tid);
	if (change)
		wgnl_stun_put_u32(&w, WGNL_STUN_ATTR_CHANGE_REQUEST, change);
	if (response_port)
		wgnl_stun_put_u32(&w, WGNL_STUN_ATTR_RESPONSE_PORT, (uint32_t)response_port << 16);
	if (padding) {
		uint8_t *v = reserve(&w, WGNL_STUN_ATTR_PADDING, padding);
		if (v)
			memset(v, 0, padding);
	}
	return wgnl_stun_finish(&w, fingerprint);
}
