// SPDX-License-Identifier: MIT
/* Keys: RFC 7748 derivation vectors, clamping, constant-time base64. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "wgkit/wgnl.h"

static void hex_to_key(wgnl_key out, const char *hex)
{
	for (size_t i = 0; i < WGNL_KEY_LEN; i++) {
		unsigned v;

		assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
		out[i] = (uint8_t)v;
	}
}

/* RFC 7748 section 6.1. */
static const char alice_priv[] = "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a";
static const char alice_pub[] = "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a";
static const char bob_priv[] = "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb";
static const char bob_pub[] = "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f";

static void check_derivation(const char *priv_hex, const char *pub_hex)
{
	wgnl_key priv, pub, want;

	hex_to_key(priv, priv_hex);
	hex_to_key(want, pub_hex);
	assert_int_equal(wgnl_key_public_from_private(pub, priv), 0);
	assert_memory_equal(pub, want, WGNL_KEY_LEN);
}

static void unit__rfc7748_alice_private__derives_rfc_public(void **state)
{
	check_derivation(alice_priv, alice_pub);
}

static void unit__rfc7748_bob_private__derives_rfc_public(void **state)
{
	check_derivation(bob_priv, bob_pub);
}

static void unit__rfc7748_keys_in_base64__match_known_strings(void **state)
{
	wgnl_key k;
	wgnl_key_b64 b64;

	hex_to_key(k, alice_priv);
	wgnl_key_to_base64(b64, k);
	assert_string_equal(b64, "dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo=");
	hex_to_key(k, alice_pub);
	wgnl_key_to_base64(b64, k);
	assert_string_equal(b64, "hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo=");
	hex_to_key(k, bob_priv);
	wgnl_key_to_base64(b64, k);
	assert_string_equal(b64, "XasIfmJKikt54X+Lg4AO5m87sSkmGLb9HC+LJ/+I4Os=");
	hex_to_key(k, bob_pub);
	wgnl_key_to_base64(b64, k);
	assert_string_equal(b64, "3p7bfXt9wbTTW2HC7OQ1Nz+DQ8hbeGdNrfx+FG+IK08=");
}

static void unit__generated_pairs__agree_on_shared_secret(void **state)
{
	for (int i = 0; i < 16; i++) {
		wgnl_key a, b, pa, pb;
		uint8_t s1[32], s2[32];

		assert_int_equal(wgnl_key_generate_private(a), 0);
		assert_int_equal(wgnl_key_generate_private(b), 0);
		assert_int_equal(wgnl_key_public_from_private(pa, a), 0);
		assert_int_equal(wgnl_key_public_from_private(pb, b), 0);
		assert_int_equal(crypto_scalarmult_curve25519(s1, a, pb), 0);
		assert_int_equal(crypto_scalarmult_curve25519(s2, b, pa), 0);
		assert_memory_equal(s1, s2, 32);
	}
}

static void unit__generate_private__is_clamped(void **state)
{
	for (int i = 0; i < 256; i++) {
		wgnl_key k;

		assert_int_equal(wgnl_key_generate_private(k), 0);
		assert_int_equal(k[0] & 7, 0);
		assert_int_equal(k[31] & 0x80, 0);
		assert_int_equal(k[31] & 0x40, 0x40);
	}
}

static void unit__generate_preshared__random_and_distinct(void **state)
{
	wgnl_key a, b;
	int seen_low = 0;

	for (int i = 0; i < 64; i++) {
		assert_int_equal(wgnl_key_generate_preshared(a), 0);
		assert_int_equal(wgnl_key_generate_preshared(b), 0);
		assert_false(wgnl_key_equal(a, b));
		assert_false(wgnl_key_is_zero(a));
		seen_low |= a[0] & 7; /* not clamped */
	}
	assert_int_not_equal(seen_low, 0);
}

static void unit__to_base64_fixed_vectors__match(void **state)
{
	static const struct {
		uint8_t fill;
		const char *b64;
	} fills[] = {
		{ 0x00, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=" },
		{ 0xff, "//////////////////////////////////////////8=" },
		{ 0x01, "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=" },
		{ 0x03, "AwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwM=" },
		{ 0x05, "BQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQU=" },
	};
	wgnl_key k, back;
	wgnl_key_b64 b64;

	for (size_t i = 0; i < sizeof(fills) / sizeof(fills[0]); i++) {
		memset(k, fills[i].fill, sizeof(k));
		wgnl_key_to_base64(b64, k);
		assert_string_equal(b64, fills[i].b64);
		assert_int_equal(wgnl_key_from_base64(back, fills[i].b64), 0);
		assert_memory_equal(back, k, WGNL_KEY_LEN);
	}
	for (int i = 0; i < 32; i++)
		k[i] = (uint8_t)i;
	wgnl_key_to_base64(b64, k);
	assert_string_equal(b64, "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=");
}

static void unit__random_keys__roundtrip_and_match_libsodium(void **state)
{
	for (int i = 0; i < 2000; i++) {
		wgnl_key k, back;
		wgnl_key_b64 b64;
		char ref[sodium_base64_ENCODED_LEN(32, sodium_base64_VARIANT_ORIGINAL)];

		randombytes_buf(k, sizeof(k));
		wgnl_key_to_base64(b64, k);
		assert_int_equal(strlen(b64), WGNL_KEY_B64_LEN);
		sodium_bin2base64(ref, sizeof(ref), k, sizeof(k), sodium_base64_VARIANT_ORIGINAL);
		assert_string_equal(b64, ref);
		memset(back, 0xaa, sizeof(back));
		assert_int_equal(wgnl_key_from_base64(back, b64), 0);
		assert_memory_equal(back, k, WGNL_KEY_LEN);
	}
}

/* Every base64 character in every position decodes to its 6-bit value. */
static void unit__every_alphabet_char__decodes_to_its_value(void **state)
{
	static const char alphabet[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

	for (int pos = 0; pos < 42; pos++) {
		for (int v = 0; v < 64; v++) {
			char s[WGNL_KEY_B64_LEN + 1] =
				"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
			wgnl_key k;
			wgnl_key_b64 again;
			size_t bit = (size_t)pos * 6; /* first of the six bits */

			s[pos] = alphabet[v];
			assert_int_equal(wgnl_key_from_base64(k, s), 0);
			for (int b = 0; b < 6; b++) {
				size_t at = bit + (size_t)b;
				int got = (k[at / 8] >> (7 - at % 8)) & 1;

				assert_int_equal(got, (v >> (5 - b)) & 1);
			}
			wgnl_key_to_base64(again, k);
			assert_string_equal(again, s);
		}
	}
}

static void expect_rejected(const char *s)
{
	wgnl_key k;

	memset(k, 0xaa, sizeof(k));
	assert_int_equal(wgnl_key_from_base64(k, s), -EINVAL);
	assert_true(wgnl_key_is_zero(k)); /* zeroed on failure */
}

static void unit__base64_wrong_length__rejected(void **state)
{
	expect_rejected("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");	  /* 43 */
	expect_rejected("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");  /* 44, no '=' */
	expect_rejected("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="); /* 45 */
	expect_rejected("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n");
	expect_rejected(" AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
	expect_rejected("");
	expect_rejected(NULL);
}

static void unit__base64_bad_characters__rejected(void **state)
{
	static const char bad[] = "-_*.= \t:@[`{\x7f\x80\xff";

	for (int pos = 0; pos < 43; pos++) {
		for (size_t i = 0; i < sizeof(bad) - 1; i++) {
			char s[WGNL_KEY_B64_LEN + 1] =
				"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";

			s[pos] = bad[i];
			expect_rejected(s);
		}
	}
	/* The padding position must hold '=' and nothing else. */
	for (int c = 1; c < 256; c++) {
		char s[WGNL_KEY_B64_LEN + 1] = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
		wgnl_key k;

		s[43] = (char)c;
		assert_int_equal(wgnl_key_from_base64(k, s), c == '=' ? 0 : -EINVAL);
	}
}

/* The 43rd character holds 4 data bits and 2 padding bits that must be 0:
 * "...AAB=" decodes like "...AAA=" with a stray bit and is refused. */
static void unit__base64_noncanonical_last_char__rejected(void **state)
{
	static const char alphabet[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

	expect_rejected("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB=");
	expect_rejected("//////////////////////////////////////////9=");
	for (int v = 0; v < 64; v++) {
		char s[WGNL_KEY_B64_LEN + 1] = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
		wgnl_key k;

		s[42] = alphabet[v];
		assert_int_equal(wgnl_key_from_base64(k, s), (v & 3) ? -EINVAL : 0);
		if (!(v & 3))
			assert_int_equal(k[31], (v >> 2) & 0xf);
	}
}

static void unit__is_zero_and_equal__compare_all_bytes(void **state)
{
	wgnl_key a = { 0 }, b = { 0 };

	assert_true(wgnl_key_is_zero(a));
	assert_true(wgnl_key_equal(a, b));
	for (int i = 0; i < WGNL_KEY_LEN; i++) {
		a[i] = 0x80;
		assert_false(wgnl_key_is_zero(a));
		assert_false(wgnl_key_equal(a, b));
		b[i] = 0x80;
		assert_true(wgnl_key_equal(a, b));
		a[i] = b[i] = 0;
	}
}

static void unit__wipe__zeroes_buffer(void **state)
{
	uint8_t buf[100];

	memset(buf, 0x5c, sizeof(buf));
	wgnl_wipe(buf, sizeof(buf));
	for (size_t i = 0; i < sizeof(buf); i++)
		assert_int_equal(buf[i], 0);
	wgnl_wipe(NULL, 0); /* harmless */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(unit__rfc7748_alice_private__derives_rfc_public),
		cmocka_unit_test(unit__rfc7748_bob_private__derives_rfc_public),
		cmocka_unit_test(unit__rfc7748_keys_in_base64__match_known_strings),
		cmocka_unit_test(unit__generated_pairs__agree_on_shared_secret),
		cmocka_unit_test(unit__generate_private__is_clamped),
		cmocka_unit_test(unit__generate_preshared__random_and_distinct),
		cmocka_unit_test(unit__to_base64_fixed_vectors__match),
		cmocka_unit_test(unit__random_keys__roundtrip_and_match_libsodium),
		cmocka_unit_test(unit__every_alphabet_char__decodes_to_its_value),
		cmocka_unit_test(unit__base64_wrong_length__rejected),
		cmocka_unit_test(unit__base64_bad_characters__rejected),
		cmocka_unit_test(unit__base64_noncanonical_last_char__rejected),
		cmocka_unit_test(unit__is_zero_and_equal__compare_all_bytes),
		cmocka_unit_test(unit__wipe__zeroes_buffer),
	};

	if (sodium_init() < 0) {
		fprintf(stderr, "SKIP test_key: libsodium cannot initialise\n");
		return 77;
	}
	return cmocka_run_group_tests_name("key", tests, NULL, NULL);
}
