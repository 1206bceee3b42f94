// SPDX-License-Identifier: MIT
/* X25519 public keys for the wireguard.dll stand-in, written from RFC 7748
 * section 5 (the Montgomery ladder, a24 = 121665, u = 9): the real driver
 * reports the public key it derives from the private one, and the stand-in
 * must too. Slow and simple (16 limbs of 16 bits in int64_t), constant time
 * is not a goal here: this is test code that never sees a real key. */
#include <stdint.h>
#include <string.h>

#include "x25519.h"

typedef int64_t fe[16];

static void fe_carry(fe o)
{
	for (int i = 0; i < 16; i++) {
		int64_t c = o[i] >> 16; /* floor division, also for negatives */

		o[i] -= c * 65536;
		if (i < 15)
			o[i + 1] += c;
		else
			o[0] += 38 * c; /* 2^256 = 38 mod p */
	}
}

static void fe_add(fe o, const fe a, const fe b)
{
	for (int i = 0; i < 16; i++)
		o[i] = a[i] + b[i];
}

static void fe_sub(fe o, const fe a, const fe b)
{
	for (int i = 0; i < 16; i++)
		o[i] = a[i] - b[i];
}

static void fe_mul(fe o, const fe a, const fe b)
{
	int64_t t[31] = { 0 };

	for (int i = 0; i < 16; i++)
		for (int j = 0; j < 16; j++)
			t[i + j] += a[i] * b[j];
	for (int i = 0; i < 15; i++)
		t[i] += 38 * t[i + 16];
	for (int i = 0; i < 16; i++)
		o[i] = t[i];
	fe_carry(o);
	fe_carry(o);
}

static void fe_cswap(fe a, fe b, int bit)
{
	int64_t mask = -(int64_t)bit;

	for (int i = 0; i < 16; i++) {
		int64_t t = mask & (a[i] ^ b[i]);

		a[i] ^= t;
		b[i] ^= t;
	}
}

/* a^(p-2), p - 2 = 2^255 - 21: every bit from 254 down to 0 is set except
 * bits 4 and 2. */
static void fe_invert(fe o, const fe a)
{
	fe c;

	memcpy(c, a, sizeof(c));
	for (int bit = 253; bit >= 0; bit--) {
		fe_mul(c, c, c);
		if (bit != 4 && bit != 2)
			fe_mul(c, c, a);
	}
	memcpy(o, c, sizeof(c));
}

static void fe_pack(uint8_t out[32], const fe a)
{
	fe t, m;

	memcpy(t, a, sizeof(t));
	fe_carry(t);
	fe_carry(t);
	fe_carry(t);
	/* Now 0 <= t < 2^255 + small: subtract p up to twice. */
	for (int round = 0; round < 2; round++) {
		int64_t borrow;

		m[0] = t[0] - 0xffed;
		for (int i = 1; i < 15; i++) {
			borrow = (m[i - 1] >> 16) & 1;
			m[i] = t[i] - 0xffff - borrow;
			m[i - 1] &= 0xffff;
		}
		borrow = (m[14] >> 16) & 1;
		m[15] = t[15] - 0x7fff - borrow;
		m[14] &= 0xffff;
		/* Keep m (t - p) unless it went negative. */
		fe_cswap(t, m, 1 - (int)((m[15] >> 16) & 1));
	}
	for (int i = 0; i < 16; i++) {
		out[2 * i] = (uint8_t)(t[i] & 0xff);
		out[2 * i + 1] = (uint8_t)((t[i] >> 8) & 0xff);
	}
}

void standin_x25519_public(uint8_t pub[32], const uint8_t priv[32])
{
	static const fe a24 = { 0xdb41, 1 }; /* 121665 */
	uint8_t k[32];
	fe x1 = { 9 }, x2 = { 1 }, z2 = { 0 }, x3 = { 9 }, z3 = { 1 };
	fe a, aa, b, bb, e, c, d, da, cb, t;
	int swap = 0;

	memcpy(k, priv, 32);
	k[0] &= 248;
	k[31] &= 127;
	k[31] |= 64;
	for (int bit = 254; bit >= 0; bit--) {
		int kt = (k[bit >> 3] >> (bit & 7)) & 1;

		swap ^= kt;
		fe_cswap(x2, x3, swap);
		fe_cswap(z2, z3, swap);
		swap = kt;
		fe_add(a, x2, z2);
		fe_mul(aa, a, a);
		fe_sub(b, x2, z2);
		fe_mul(bb, b, b);
		fe_sub(e, aa, bb);
		fe_add(c, x3, z3);
		fe_sub(d, x3, z3);
		fe_mul(da, d, a);
		fe_mul(cb, c, b);
		fe_add(t, da, cb);
		fe_mul(x3, t, t);
		fe_sub(t, da, cb);
		fe_mul(t, t, t);
		fe_mul(z3, x1, t);
		fe_mul(x2, aa, bb);
		fe_mul(t, a24, e);
		fe_add(t, aa, t);
		fe_mul(z2, e, t);
	}
	fe_cswap(x2, x3, swap);
	fe_cswap(z2, z3, swap);
	fe_invert(z2, z2);
	fe_mul(x2, x2, z2);
	fe_pack(pub, x2);
	memset(k, 0, sizeof(k));
}
