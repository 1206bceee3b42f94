// SPDX-License-Identifier: MIT
/* Curve25519 keys: generation, derivation, constant-time base64, wiping. */
#include <errno.h>
#include <string.h>

#include <sodium.h>

#include "internal.h"

/* sodium_init() is thread-safe and idempotent; the flag only saves taking
 * its lock on every call once it has succeeded. */
static int sodium_ready;

static int ensure_sodium(void)
{
	if (__atomic_load_n(&sodium_ready, __ATOMIC_ACQUIRE))
		return 0;
	if (sodium_init() < 0)
		return -EIO;
	__atomic_store_n(&sodium_ready, 1, __ATOMIC_RELEASE);
	return 0;
}

void wgnl_wipe(void *p, size_t len)
{
	if (p && len)
		sodium_memzero(p, len);
}

int wgnl_key_generate_preshared(wgnl_key out)
{
	int r = ensure_sodium();

	if (r < 0)
		return r;
	randombytes_buf(out, WGNL_KEY_LEN);
	return 0;
}

int wgnl_key_generate_private(wgnl_key out)
{
	int r = wgnl_key_generate_preshared(out);

	if (r < 0)
		return r;
	/* RFC 7748 section 5 clamping: a multiple of the cofactor 8, bit 254
	 * set, bit 255 clear. */
	out[0] &= 248;
	out[31] = (uint8_t)((out[31] & 127) | 64);
	return 0;
}

int wgnl_key_public_from_private(wgnl_key pub, const wgnl_key priv)
{
	int r = ensure_sodium();

	if (r < 0)
		return r;
	/* libsodium clamps the scalar itself, as WireGuard does. */
	if (crypto_scalarmult_curve25519_base(pub, priv) != 0 || wgnl_key_is_zero(pub)) {
		wgnl_wipe(pub, WGNL_KEY_LEN);
		return -EINVAL;
	}
	return 0;
}

bool wgnl_key_is_zero(const wgnl_key key)
{
	return sodium_is_zero(key, WGNL_KEY_LEN) == 1;
}

bool wgnl_key_equal(const wgnl_key a, const wgnl_key b)
{
	return sodium_memcmp(a, b, WGNL_KEY_LEN) == 0;
}

/* Runs shorter than this are echoed: a key is 43 base64 characters and
 * '=', and nothing a user types by mistake into a key's place is shorter
 * than this and still a useful piece of one. */
#define KEYLIKE_RUN 20

bool wgnl_text_may_be_key(const char *s)
{
	size_t run = 0;
	bool upper = false, lower = false;

	if (!s)
		return false;
	for (;; s++) {
		char c = *s;
		bool up = c >= 'A' && c <= 'Z', lo = c >= 'a' && c <= 'z';

		if (up || lo || (c >= '0' && c <= '9') || c == '+' || c == '/' || c == '=') {
			run++;
			upper |= up;
			lower |= lo;
			if (run >= KEYLIKE_RUN && upper && lower)
				return true;
			continue;
		}
		if (!c)
			return false;
		run = 0;
		upper = lower = false;
	}
}

/* ------------------------------------------------------------- base64 */

/*
 * Branch-free base64 for exactly 32 bytes: no table lookups indexed by secret
 * values and no data-dependent branches. Every classification is a mask built
 * from the sign bit of an unsigned difference; inputs are at most 8 bits wide,
 * so a wrapped subtraction always sets bit 31.
 */

/* All ones when lo <= x <= hi, else 0. */
static inline uint32_t ct_range(uint32_t x, uint32_t lo, uint32_t hi)
{
	return (((x - lo) | (hi - x)) >> 31) - 1U;
}

/* Encode a 6-bit value: A-Z 0..25, a-z 26..51, 0-9 52..61, '+' 62, '/' 63. */
static inline char b64_char(uint32_t v)
{
	uint32_t c = (ct_range(v, 0, 25) & (v + 'A')) | (ct_range(v, 26, 51) & (v - 26 + 'a')) |
		     (ct_range(v, 52, 61) & (v - 52 + '0')) | (ct_range(v, 62, 62) & '+') |
		     (ct_range(v, 63, 63) & '/');

	return (char)c;
}

/* Decode one character to 0..63; *bad gets all ones if it is not base64. */
static inline uint32_t b64_value(uint32_t c, uint32_t *bad)
{
	uint32_t up = ct_range(c, 'A', 'Z'), lo = ct_range(c, 'a', 'z');
	uint32_t dg = ct_range(c, '0', '9'), pl = ct_range(c, '+', '+');
	uint32_t sl = ct_range(c, '/', '/');

	*bad |= ~(up | lo | dg | pl | sl);
	return ((up & (c - 'A')) | (lo & (c - 'a' + 26)) | (dg & (c - '0' + 52)) | (pl & 62) |
		(sl & 63)) &
	       63;
}

void wgnl_key_to_base64(wgnl_key_b64 out, const wgnl_key key)
{
	size_t i, o = 0;

	/* Ten full groups of three bytes, then two bytes and one '='. */
	for (i = 0; i < 30; i += 3) {
		uint32_t v = ((uint32_t)key[i] << 16) | ((uint32_t)key[i + 1] << 8) | key[i + 2];

		out[o++] = b64_char((v >> 18) & 63);
		out[o++] = b64_char((v >> 12) & 63);
		out[o++] = b64_char((v >> 6) & 63);
		out[o++] = b64_char(v & 63);
	}
	{
		uint32_t v = ((uint32_t)key[30] << 8) | key[31];

		out[o++] = b64_char((v >> 10) & 63);
		out[o++] = b64_char((v >> 4) & 63);
		out[o++] = b64_char((v << 2) & 63);
		out[o++] = '=';
	}
	out[o] = '\0';
}

int wgnl_key_from_base64(wgnl_key out, const char *b64)
{
	const unsigned char *s = (const unsigned char *)b64;
	uint32_t bad = 0, v;
	size_t i, o = 0;

	/* The length is public; only the contents must not leak. */
	if (!b64 || strnlen(b64, WGNL_KEY_B64_LEN + 1) != WGNL_KEY_B64_LEN) {
		wgnl_wipe(out, WGNL_KEY_LEN);
		return -EINVAL;
	}
	for (i = 0; i < 40; i += 4) {
		v = (b64_value(s[i], &bad) << 18) | (b64_value(s[i + 1], &bad) << 12) |
		    (b64_value(s[i + 2], &bad) << 6) | b64_value(s[i + 3], &bad);
		out[o++] = (uint8_t)(v >> 16);
		out[o++] = (uint8_t)(v >> 8);
		out[o++] = (uint8_t)v;
	}
	v = (b64_value(s[40], &bad) << 10) | (b64_value(s[41], &bad) << 4) |
	    (b64_value(s[42], &bad) >> 2);
	/* The last character carries 4 data bits and 2 bits that must be zero. */
	bad |= ~ct_range(b64_value(s[42], &bad) & 3, 0, 0);
	bad |= ~ct_range(s[43], '=', '=');
	out[o++] = (uint8_t)(v >> 8);
	out[o++] = (uint8_t)v;
	if (bad) {
		wgnl_wipe(out, WGNL_KEY_LEN);
		return -EINVAL;
	}
	return 0;
}
