// SPDX-License-Identifier: MIT
/* Canonical config text and its [Peer] sections, for the sync's
 * incremental path (see wgkit/wgnl_sync.h). The rules mirror
 * lib/core/conf.c's reading of a line: the part before '#', trimmed; "[...]" a
 * section header; otherwise "Key = Value" with the key compared without
 * case. What the two could disagree on is refused here (-EINVAL), so the
 * full parser has the last word on anything unusual. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "core/compat.h"
#include "wgkit/wgnl.h"

#include "record.h"

int wgnl_sync_secret_hash(uint8_t out[32], const uint8_t key[32])
{
	if (sodium_init() < 0 || crypto_generichash(out, 32, key, 32, NULL, 0) != 0)
		return -EIO;
	return 0;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

static bool ci_equal(const char *s, size_t n, const char *lit)
{
	return strlen(lit) == n && !strncasecmp(s, lit, n);
}

/* Two independent 64-bit lanes, eight bytes a step. */
void wgi_sync_bytes_hash(const char *p, size_t len, uint64_t out[2])
{
	uint64_t a = 0x9e3779b97f4a7c15ULL ^ len, b = 0xc2b2ae3d27d4eb4fULL + len, w;

	for (; len >= 8; p += 8, len -= 8) {
		memcpy(&w, p, 8);
		a = wgi_sync_mix64(a ^ w);
		b = wgi_sync_mix64(b + w) ^ a;
	}
	w = (uint64_t)len << 56;
	memcpy(&w, p, len);
	out[0] = wgi_sync_mix64(a ^ w);
	out[1] = wgi_sync_mix64(b + w + 0x165667b19e3779f9ULL);
}

static int push_section(struct wgnl_sync_text *t, size_t *cap, size_t orig_off, size_t san_off)
{
	if (t->n_sec == *cap) {
		size_t ncap = *cap ? *cap * 2 : 64;
		struct wgnl_sync_section *n = realloc(t->sec, ncap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		t->sec = n;
		*cap = ncap;
	}
	t->sec[t->n_sec++] = (struct wgnl_sync_section){ .orig_off = orig_off, .san_off = san_off };
	return 0;
}

/* "Key = <hash>" for a secret line, into @o. */
static int put_secret(char *o, size_t *olen, const char *key, size_t klen, const char *v,
		      size_t vlen)
{
	wgnl_key k, h;
	wgnl_key_b64 b64;
	char tmp[WGNL_KEY_B64_LEN + 1];
	int r = 0;

	if (vlen != WGNL_KEY_B64_LEN)
		return -EINVAL;
	memcpy(tmp, v, vlen);
	tmp[vlen] = '\0';
	if (wgnl_key_from_base64(k, tmp) < 0) {
		r = -EINVAL;
	} else if (wgnl_key_is_zero(k)) {
		memcpy(b64, tmp, sizeof(b64)); /* "no key" is no secret */
	} else if ((r = wgnl_sync_secret_hash(h, k)) == 0) {
		wgnl_key_to_base64(b64, h);
	}
	wgnl_wipe(tmp, sizeof(tmp));
	wgnl_wipe(k, sizeof(k));
	if (r < 0)
		return r;
	memcpy(o + *olen, key, klen);
	memcpy(o + *olen + klen, " = ", 3);
	memcpy(o + *olen + klen + 3, b64, WGNL_KEY_B64_LEN);
	o[*olen + klen + 3 + WGNL_KEY_B64_LEN] = '\n';
	*olen += klen + 4 + WGNL_KEY_B64_LEN;
	return 0;
}

int wgnl_sync_text_make(const char *text, size_t len, struct wgnl_sync_text *out)
{
	size_t pos = 0, olen = 0, cap = 0;
	char *o;
	int r = 0;

	memset(out, 0, sizeof(*out));
	/* A secret line "K=<44>" becomes "K = <44>\n": at most 3 bytes more
	 * than its own (newline included); every other line only shrinks. */
	o = malloc(len + len / 2 + 64);
	if (!o)
		return -ENOMEM;
	if (len >= 3 && !memcmp(text, "\xef\xbb\xbf", 3))
		pos = 3;
	while (pos < len && r == 0) {
		const char *line = text + pos, *nl = memchr(line, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - text) : len, n = end - pos;
		const char *hash, *eq;

		if (memchr(line, '\0', n)) {
			r = -EINVAL;
			break;
		}
		hash = memchr(line, '#', n);
		if (hash)
			n = (size_t)(hash - line);
		while (n && is_space(*line))
			line++, n--;
		while (n && is_space(line[n - 1]))
			n--;
		if (!n) {
			pos = end + 1;
			continue;
		}
		if (line[0] == '[') {
			if (ci_equal(line, n, "[Peer]"))
				r = push_section(out, &cap, pos, olen);
			else if (!ci_equal(line, n, "[Interface]") || out->n_sec)
				r = -EINVAL;
		} else if ((eq = memchr(line, '=', n))) {
			const char *k = line, *v = eq + 1;
			size_t kl = (size_t)(eq - line), vl = n - kl - 1;

			while (kl && is_space(k[kl - 1]))
				kl--;
			while (vl && is_space(*v))
				v++, vl--;
			if (ci_equal(k, kl, "PrivateKey") || ci_equal(k, kl, "PresharedKey")) {
				r = put_secret(o, &olen, k, kl, v, vl);
				pos = end + 1;
				continue;
			}
		}
		if (r == 0) {
			memcpy(o + olen, line, n);
			o[olen + n] = '\n';
			olen += n + 1;
		}
		pos = end + 1;
	}
	if (r < 0) {
		wgnl_wipe(o, olen);
		free(o);
		free(out->sec);
		memset(out, 0, sizeof(*out));
		return r;
	}
	out->san = o;
	out->san_len = olen;
	out->iface_len = out->n_sec ? out->sec[0].san_off : olen;
	wgi_sync_bytes_hash(o, out->iface_len, out->iface_h);
	out->text_h[0] = out->iface_h[0];
	out->text_h[1] = out->iface_h[1];
	for (size_t i = 0; i < out->n_sec; i++) {
		struct wgnl_sync_section *s = &out->sec[i];
		size_t next_orig = i + 1 < out->n_sec ? s[1].orig_off : len;
		size_t next_san = i + 1 < out->n_sec ? s[1].san_off : olen;

		s->orig_len = next_orig - s->orig_off;
		s->san_len = next_san - s->san_off;
		wgi_sync_bytes_hash(o + s->san_off, s->san_len, s->h);
		/* In file order: the same sections in another order are
		 * another text (the same device, found by wgnl_sync_text_match()). */
		out->text_h[0] = wgi_sync_mix64(out->text_h[0] ^ s->h[0]);
		out->text_h[1] = wgi_sync_mix64(out->text_h[1] + s->h[1]);
	}
	out->text_h[0] ^= olen;
	return 0;
}

/* The high and low halves of a 64x64-bit product folded together: one
 * multiply mixes 16 input bytes, several times fewer instructions a byte
 * than wgi_sync_bytes_hash()'s two lanes (what an emulated CPU pays for). */
static inline __attribute__((always_inline)) uint64_t fold_mul(uint64_t a, uint64_t b)
{
	unsigned __int128 r = (unsigned __int128)a * b;

	return (uint64_t)r ^ (uint64_t)(r >> 64);
}

/* A 64-bit hash of @len raw bytes, 16 a step; the last step takes the
 * last 16 bytes (overlapping the one before) so no byte-wise tail costs a
 * call. Not keyed, not cryptographic: it finds the sections that changed
 * in a trusted file. */
static inline __attribute__((always_inline)) uint64_t raw_hash(const char *p, size_t len)
{
	const uint64_t k0 = 0x4b33a62ed433d4a3ULL, k1 = 0x9fb21c651e98df25ULL;
	uint64_t h = 0x8bb84b93962eacc9ULL ^ len, w[2];
	size_t n = len;

	for (; n >= 16; p += 16, n -= 16) {
		memcpy(w, p, 16);
		h = fold_mul(w[0] ^ k0 ^ h, w[1] ^ k1);
	}
	if (n && len >= 16) {
		memcpy(w, p + n - 16, 16);
		h = fold_mul(w[0] ^ k0 ^ h, w[1] ^ k1 ^ n);
	} else if (n) {
		w[0] = w[1] = 0;
		memcpy(w, p, n);
		h = fold_mul(w[0] ^ k0 ^ h, w[1] ^ k1 ^ n);
	}
	return fold_mul(h ^ 0xd6e8feb86659fd93ULL, 0xa0761d6478bd642fULL);
}

/* The first '[' in [@p, @end), or NULL: eight bytes a step without a call
 * per hit (a config has one '[' a section, a few dozen bytes apart). These
 * helpers are inlined into the split's loop: under an emulated CPU every
 * return is an indirect jump it pays a lookup for, 10,000 sections a file. */
static inline __attribute__((always_inline)) const char *find_bracket(const char *p,
								      const char *end)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	const uint64_t ones = 0x0101010101010101ULL;

	for (; end - p >= 8; p += 8) {
		uint64_t w, x;

		memcpy(&w, p, 8);
		x = w ^ (ones * '[');
		x = (x - ones) & ~x & (ones * 0x80);
		if (x) /* the lowest flagged byte is a true '[' */
			return p + (__builtin_ctzll(x) >> 3);
	}
	for (; p < end; p++)
		if (*p == '[')
			return p;
	return NULL;
#else
	return p < end ? memchr(p, '[', (size_t)(end - p)) : NULL;
#endif
}

/* The line at @p (up to @end) is a [Peer] header: "[Peer]" in any case,
 * blanks around it, a comment after it. */
static inline __attribute__((always_inline)) bool peer_header(const char *p, const char *end)
{
	const char *nl, *hash;
	size_t n;

	if (end - p >= 7 && !memcmp(p, "[Peer]\n", 7))
		return true; /* as nearly every file writes it */
	nl = memchr(p, '\n', (size_t)(end - p));
	n = (size_t)((nl ? nl : end) - p);

	hash = memchr(p, '#', n);
	if (hash)
		n = (size_t)(hash - p);
	while (n && is_space(p[n - 1]))
		n--;
	return ci_equal(p, n, "[Peer]");
}

int wgnl_sync_text_split(const char *text, size_t len, struct wgnl_sync_text *out)
{
	const char *end = text + len, *p = text, *start = NULL;
	uint64_t other[2] = { 0x243f6a8885a308d3ULL, 0x13198a2e03707344ULL };
	size_t cap = 0, other_len = 0;
	bool in_peer = false;
	int r;

	memset(out, 0, sizeof(*out));
	/* Room for a section every 64 bytes (a [Peer] with its key is
	 * longer): a 10,000-peer file is not copied over and over as the
	 * array grows. */
	cap = len / 64 + 16;
	out->sec = malloc(cap * sizeof(*out->sec));
	if (!out->sec)
		return -ENOMEM;
	/* Walk the '[' bytes: one that only blanks precede on its line
	 * starts a section, which runs to the next one. */
	for (;;) {
		const char *b = find_bracket(p, end), *ls;

		if (b) {
			ls = b;
			while (ls > text && (ls[-1] == ' ' || ls[-1] == '\t'))
				ls--;
			if (ls > text && ls[-1] != '\n' &&
			    !(ls == text + 3 && !memcmp(text, "\xef\xbb\xbf", 3))) {
				p = b + 1; /* inside a line: a value, a comment */
				continue;
			}
		} else {
			ls = end;
		}
		/* The part before @ls closes: a [Peer] section or other bytes. */
		if (in_peer) {
			struct wgnl_sync_section *sec = &out->sec[out->n_sec - 1];

			sec->orig_len = (size_t)(ls - start);
			sec->h[0] = raw_hash(start, sec->orig_len);
			sec->h[1] = sec->orig_len;
		} else if (ls > (start ? start : text)) {
			const char *o = start ? start : text;

			other[0] = wgi_sync_mix64(other[0] ^ raw_hash(o, (size_t)(ls - o)));
			other[1] = wgi_sync_mix64(other[1] + (size_t)(ls - o));
			other_len += (size_t)(ls - o);
		}
		if (!b)
			break;
		start = ls;
		in_peer = peer_header(b, end);
		if (in_peer && out->n_sec < cap) /* inline, as above */
			out->sec[out->n_sec++] =
				(struct wgnl_sync_section){ .orig_off = (size_t)(ls - text) };
		else if (in_peer && (r = push_section(out, &cap, (size_t)(ls - text), 0)) < 0) {
			free(out->sec);
			memset(out, 0, sizeof(*out));
			return r;
		}
		p = b + 1;
	}
	out->iface_h[0] = other[0] ^ other_len;
	out->iface_h[1] = other[1];
	out->text_h[0] = out->iface_h[0];
	out->text_h[1] = out->iface_h[1];
	for (size_t i = 0; i < out->n_sec; i++) {
		out->text_h[0] = wgi_sync_mix64(out->text_h[0] ^ out->sec[i].h[0]);
		out->text_h[1] = wgi_sync_mix64(out->text_h[1] + out->sec[i].h[1]);
	}
	return 0;
}

void wgnl_sync_text_clear(struct wgnl_sync_text *t)
{
	if (!t)
		return;
	free(t->san);
	free(t->sec);
	memset(t, 0, sizeof(*t));
}

ssize_t wgnl_sync_text_match(const struct wgnl_sync_section *old, size_t n_old,
			     const struct wgnl_sync_text *now, bool *old_m, bool *now_m)
{
	size_t size = 16, mask, pairs = 0;
	uint32_t *slot;

	while (size < 2 * n_old)
		size *= 2;
	mask = size - 1;
	/* Open addressing; a slot holds an old section's index + 1. */
	slot = calloc(size, sizeof(*slot));
	if (!slot)
		return -ENOMEM;
	for (size_t i = 0; i < n_old; i++) {
		size_t h = (size_t)old[i].h[0] & mask;

		while (slot[h])
			h = (h + 1) & mask;
		slot[h] = (uint32_t)i + 1;
		old_m[i] = false;
	}
	for (size_t j = 0; j < now->n_sec; j++) {
		const struct wgnl_sync_section *s = &now->sec[j];

		now_m[j] = false;
		for (size_t h = (size_t)s->h[0] & mask; slot[h]; h = (h + 1) & mask) {
			size_t i = slot[h] - 1;

			if (old_m[i] || old[i].h[0] != s->h[0] || old[i].h[1] != s->h[1] ||
			    old[i].san_len != s->san_len)
				continue;
			old_m[i] = now_m[j] = true;
			pairs++;
			break;
		}
	}
	free(slot);
	return (ssize_t)pairs;
}
