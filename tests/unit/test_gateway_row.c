// SPDX-License-Identifier: MIT
/* Unit tests of wg-gatewayd's registry row parser (gateway/pgrow.c): all
 * or nothing, reasons that name the column and never quote key material. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "../../gateway/pgrow.h"

#define KEY "iG6+n5v48tFawehhQ6R1LhfHMtLBewOodbMnZYAnoAI="
#define PSK "VOo0PKfG4xym91hD84cK5cPXniWpFqnUaMXCaD2Z1BM="

static bool zeroed(const struct wgnl_peer *p)
{
	static const struct wgnl_peer zero;

	return !memcmp(p, &zero, sizeof(zero));
}

static void unit__good_row__key_prefixes_psk(void **state)
{
	struct wgnl_peer p;
	char why[128], buf[64];

	(void)state;
	assert_int_equal(gw_pg_row_parse(KEY, " 10.9.0.2/32 ,fd00::2/128,10.1.0.0/16", PSK, &p, why,
					 sizeof(why)),
			 0);
	assert_true(p.flags & WGNL_PEER_HAS_PUBLIC_KEY);
	assert_true(p.flags & WGNL_PEER_HAS_PRESHARED_KEY);
	assert_int_equal(p.n_allowedips, 3);
	assert_string_equal(wgnl_prefix_format(&p.allowedips[1], buf, sizeof(buf)), "fd00::2/128");
	gw_pg_row_clear(&p);
	assert_true(zeroed(&p));
	/* NULL / "" allowed IPs and preshared key: none */
	assert_int_equal(gw_pg_row_parse(KEY, NULL, NULL, &p, why, sizeof(why)), 0);
	assert_int_equal(p.n_allowedips, 0);
	assert_false(p.flags & WGNL_PEER_HAS_PRESHARED_KEY);
	gw_pg_row_clear(&p);
	assert_int_equal(gw_pg_row_parse(KEY, "  ", "", &p, why, sizeof(why)), 0);
	assert_int_equal(p.n_allowedips, 0);
	gw_pg_row_clear(&p);
}

static void unit__bad_rows__nothing_filled_reason_names_column(void **state)
{
	static const struct {
		const char *key, *aips, *psk, *why;
	} cases[] = {
		{ NULL, "10.0.0.1/32", NULL, "public_key: missing" },
		{ "short", "10.0.0.1/32", NULL,
		  "public_key: not a 44-character base64 WireGuard key" },
		{ KEY, "10.0.0.1/32,10.0.0.300/32", NULL,
		  "allowed_ips: '10.0.0.300/32' is not an IP prefix" },
		{ KEY, "10.0.0.1/33", NULL, "allowed_ips: '10.0.0.1/33' is not an IP prefix" },
		{ KEY, "10.0.0.1/32,,10.0.0.2/32", NULL, "allowed_ips: an empty entry" },
		{ KEY, "10.0.0.1/32,", NULL, "allowed_ips: an empty entry" },
		{ KEY, "10.0.0.1/32", "nope",
		  "preshared_key: not a 44-character base64 WireGuard key" },
		/* key material in the wrong column is never quoted */
		{ KEY, PSK, NULL, "allowed_ips: an entry is not an IP prefix" },
	};
	struct wgnl_peer p;
	char why[128];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(gw_pg_row_parse(cases[i].key, cases[i].aips, cases[i].psk, &p, why,
						 sizeof(why)),
				 -EINVAL);
		assert_true(zeroed(&p));
		assert_string_equal(why, cases[i].why);
		assert_null(strstr(why, PSK));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(unit__good_row__key_prefixes_psk),
		cmocka_unit_test(unit__bad_rows__nothing_filled_reason_names_column),
	};

	return cmocka_run_group_tests_name("gateway_row", tests, NULL, NULL);
}
