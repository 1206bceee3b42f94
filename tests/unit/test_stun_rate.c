/* SPDX-License-Identifier: MIT */
/* The STUN server's rate limit as a pure decision: buckets per source and
 * per prefix, refill, and a slot taken over by another key. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <arpa/inet.h>
#include <cmocka.h>

#include "uring/stun_rate.h"
#include "wgkit/wgnl_stun.h"

#define SEC 1000000000ULL

static union wgnl_endpoint ep(const char *a)
{
	union wgnl_endpoint e;

	memset(&e, 0, sizeof(e));
	if (strchr(a, ':')) {
		e.addr6.sin6_family = AF_INET6;
		assert_int_equal(inet_pton(AF_INET6, a, &e.addr6.sin6_addr), 1);
	} else {
		e.addr4.sin_family = AF_INET;
		assert_int_equal(inet_pton(AF_INET, a, &e.addr4.sin_addr), 1);
	}
	return e;
}

static void keys(struct wgi_rate *r, const char *a, uint64_t *h, uint64_t *n)
{
	union wgnl_endpoint e = ep(a);
	wgi_rate_keys(r, &e, h, n);
}

static unsigned take_n(struct wgi_rate *r, uint64_t h, uint64_t n, unsigned count, uint64_t now)
{
	unsigned ok = 0;
	for (unsigned i = 0; i < count; i++)
		ok += wgi_rate_take(r, h, n, now);
	return ok;
}

static void keys__ipv6_same_64__one_source(void **state)
{
	struct wgi_rate r;
	uint64_t h1, n1, h2, n2, h3, n3;

	assert_int_equal(wgi_rate_init(&r, 64, 20, 20), 0);
	keys(&r, "2001:db8:66:0:1:2:3:4", &h1, &n1);
	keys(&r, "2001:db8:66:0:ffff:1:2:3", &h2, &n2);
	keys(&r, "2001:db8:66:1::1", &h3, &n3);
	assert_true(h1 == h2 && n1 == n2);
	assert_true(h1 != h3 && n1 == n3); /* another /64 of the same /48 */
	wgi_rate_free(&r);
}

static void keys__ipv4_and_v4_mapped__per_address_and_24(void **state)
{
	struct wgi_rate r;
	uint64_t h1, n1, h2, n2, h3, n3, h4, n4;

	assert_int_equal(wgi_rate_init(&r, 64, 20, 20), 0);
	keys(&r, "10.66.0.1", &h1, &n1);
	keys(&r, "::ffff:10.66.0.1", &h2, &n2);
	keys(&r, "10.66.0.2", &h3, &n3);
	keys(&r, "10.66.1.1", &h4, &n4);
	assert_true(h1 == h2 && n1 == n2); /* dual-stack socket: same source */
	assert_true(h1 != h3 && n1 == n3);
	assert_true(n1 != n4);
	wgi_rate_free(&r);
}

static void take__flood_from_one_source__burst_then_rate(void **state)
{
	struct wgi_rate r;
	uint64_t h, n;

	assert_int_equal(wgi_rate_init(&r, 64, 20, 20), 0);
	keys(&r, "192.0.2.1", &h, &n);
	assert_int_equal(take_n(&r, h, n, 1000, 0), 20);
	/* 10 s at 1000 requests per second: 20 per second get through,
	 * fractions of a token not lost between requests 1 ms apart. */
	unsigned ok = 0;
	for (uint64_t t = 1; t <= 10000; t++)
		ok += wgi_rate_take(&r, h, n, t * SEC / 1000);
	assert_in_range(ok, 199, 201);
	wgi_rate_free(&r);
}

static void take__flood_from_a_24__bounded_by_prefix(void **state)
{
	struct wgi_rate r;
	unsigned ok = 0;

	assert_int_equal(wgi_rate_init(&r, 8192, 20, 20), 0);
	/* 254 sources, each well within its own rate, for 10 s. */
	for (uint64_t t = 0; t < 10 * 100; t++) {
		for (int i = 1; i < 255; i++) {
			char a[32];
			uint64_t h, n;
			snprintf(a, sizeof(a), "198.51.100.%d", i);
			keys(&r, a, &h, &n);
			ok += wgi_rate_take(&r, h, n, t * SEC / 100);
		}
	}
	/* Prefix bucket: 200 per second, burst 200. */
	assert_in_range(ok, 200 * 10, 200 * 10 + 200);
	wgi_rate_free(&r);
}

static void take__evicted_slot__no_fresh_burst(void **state)
{
	struct wgi_rate r;
	/* One slot per table: every key collides. */
	assert_int_equal(wgi_rate_init(&r, 1, 20, 20), 0);
	uint64_t a = 3, b = 5, na = 7, nb = 9;

	assert_int_equal(take_n(&r, a, na, 100, 0), 20);
	/* b evicts a at once: it inherits the empty bucket, not a burst. */
	assert_int_equal(take_n(&r, b, nb, 100, 1), 0);
	/* a comes back 100 ms later: 2 tokens refilled, not a new burst. */
	assert_int_equal(take_n(&r, a, na, 100, SEC / 10), 2);
	/* A key cycling through fresh keys gets no more than the rate. */
	unsigned ok = 0;
	for (uint64_t t = 1; t <= 1000; t++)
		ok += wgi_rate_take(&r, 100 + 2 * t + 1, 100 + 2 * t + 1,
				    SEC / 10 + t * SEC / 1000);
	assert_in_range(ok, 19, 21);
	/* After a full idle refill a newcomer may have the burst. */
	assert_int_equal(take_n(&r, b, nb, 100, 10 * SEC), 20);
	wgi_rate_free(&r);
}

static void init__bad_sizes__einval(void **state)
{
	struct wgi_rate r;

	assert_int_equal(wgi_rate_init(&r, 3, 20, 20), -EINVAL);
	assert_int_equal(wgi_rate_init(&r, 64, 0, 20), -EINVAL);
	wgi_rate_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(keys__ipv6_same_64__one_source),
		cmocka_unit_test(keys__ipv4_and_v4_mapped__per_address_and_24),
		cmocka_unit_test(take__flood_from_one_source__burst_then_rate),
		cmocka_unit_test(take__flood_from_a_24__bounded_by_prefix),
		cmocka_unit_test(take__evicted_slot__no_fresh_burst),
		cmocka_unit_test(init__bad_sizes__einval),
	};
	return cmocka_run_group_tests_name("stun_rate", tests, NULL, NULL);
}
