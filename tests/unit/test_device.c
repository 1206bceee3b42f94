// SPDX-License-Identifier: MIT
/* The device/peer model: O(1) index under churn, prefixes, endpoints. */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "wgkit/wgnl.h"

static void key_of(wgnl_key k, uint32_t i)
{
	/* Distinct keys that share long prefixes, to stress the hash. */
	memset(k, 0xab, WGNL_KEY_LEN);
	memcpy(k + WGNL_KEY_LEN - sizeof(i), &i, sizeof(i));
}

static void device__add_find_remove_10k__index_stays_exact(void **state)
{
	struct wgnl_device *dev = wgnl_device_new("wg0");
	struct wgnl_peer *p;
	wgnl_key k;
	const uint32_t n = 10000;

	(void)state;
	assert_non_null(dev);
	for (uint32_t i = 0; i < n; i++) {
		key_of(k, i);
		assert_int_equal(wgnl_device_add_peer(dev, k, &p), 0);
		p->persistent_keepalive = (uint16_t)i;
	}
	assert_int_equal(dev->n_peers, n);
	key_of(k, 42);
	assert_int_equal(wgnl_device_add_peer(dev, k, &p), -EEXIST);
	assert_int_equal(p->persistent_keepalive, 42);
	/* Remove every third peer; the rest must still be found, the removed
	 * ones not, and the swapped-in peers keep their data. */
	for (uint32_t i = 0; i < n; i += 3) {
		key_of(k, i);
		assert_int_equal(wgnl_device_remove_peer(dev, k), 0);
		assert_int_equal(wgnl_device_remove_peer(dev, k), -ENOENT);
	}
	for (uint32_t i = 0; i < n; i++) {
		key_of(k, i);
		p = wgnl_device_find_peer(dev, k);
		if (i % 3 == 0) {
			assert_null(p);
		} else {
			assert_non_null(p);
			assert_int_equal(p->persistent_keepalive, (uint16_t)i);
			assert_memory_equal(p->public_key, k, WGNL_KEY_LEN);
		}
	}
	assert_int_equal(dev->n_peers, n - (n + 2) / 3);
	wgnl_device_free(dev);
}

static void device__name_too_long__rejected(void **state)
{
	(void)state;
	assert_null(wgnl_device_new("0123456789abcdef"));
	wgnl_device_free(NULL);
}

static void device__allowedips_sorted__canonical_order(void **state)
{
	struct wgnl_device *dev = wgnl_device_new("wg0");
	struct wgnl_prefix a, b, c;
	struct wgnl_peer *p;
	wgnl_key k;
	char buf[64];

	(void)state;
	key_of(k, 1);
	assert_int_equal(wgnl_device_add_peer(dev, k, &p), 0);
	assert_int_equal(wgnl_prefix_parse(&a, "fd00::/64"), 0);
	assert_int_equal(wgnl_prefix_parse(&b, "10.0.0.2/32"), 0);
	assert_int_equal(wgnl_prefix_parse(&c, "10.0.0.1"), 0);
	assert_int_equal(wgnl_peer_add_allowedip(p, &a), 0);
	assert_int_equal(wgnl_peer_add_allowedip(p, &b), 0);
	assert_int_equal(wgnl_peer_add_allowedip(p, &c), 0);
	wgnl_device_sort_allowedips(dev);
	assert_string_equal(wgnl_prefix_format(&p->allowedips[0], buf, sizeof(buf)), "10.0.0.1/32");
	assert_string_equal(wgnl_prefix_format(&p->allowedips[1], buf, sizeof(buf)), "10.0.0.2/32");
	assert_string_equal(wgnl_prefix_format(&p->allowedips[2], buf, sizeof(buf)), "fd00::/64");
	c.cidr = 33;
	assert_int_equal(wgnl_peer_add_allowedip(p, &c), -EINVAL);
	wgnl_device_free(dev);
}

static void prefix__parse_and_mask__expected(void **state)
{
	struct wgnl_prefix p;
	char buf[64];

	(void)state;
	assert_int_equal(wgnl_prefix_parse(&p, "10.1.2.3/8"), 0);
	assert_int_equal(p.family, AF_INET);
	assert_int_equal(p.cidr, 8);
	wgnl_prefix_mask(&p);
	assert_string_equal(wgnl_prefix_format(&p, buf, sizeof(buf)), "10.0.0.0/8");
	assert_int_equal(wgnl_prefix_parse(&p, "fd00:1:2:3::7/61"), 0);
	wgnl_prefix_mask(&p);
	assert_string_equal(wgnl_prefix_format(&p, buf, sizeof(buf)), "fd00:1:2::/61");
	assert_int_equal(wgnl_prefix_parse(&p, "::/0"), 0);
	assert_int_equal(p.cidr, 0);
	assert_int_equal(wgnl_prefix_parse(&p, "fd00::1"), 0);
	assert_int_equal(p.cidr, 128);
}

static void prefix__bad_input__einval(void **state)
{
	static const char *const bad[] = {
		"", "/24", "10.0.0.0/33", "10.0.0.0/", "10.0.0.0/-1", "10.0.0.0/+8",
		"10.0.0.0/8x", "fd00::/129", "10.0.0.256/8", "host.example/32", "10.0.0.0/ 8",
		"10.0.0.0/99999999999999999999",
	};
	struct wgnl_prefix p;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(wgnl_prefix_parse(&p, bad[i]), -EINVAL);
}

static void endpoint__parse_format__round_trip(void **state)
{
	static const char *const good[] = { "192.0.2.1:51820", "[2001:db8::1]:1", "0.0.0.0:0",
					    "[fe80::1%1]:51820" };
	union wgnl_endpoint ep, ep2;
	char buf[64];

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_int_equal(wgnl_endpoint_parse(&ep, good[i]), 0);
		wgnl_endpoint_format(&ep, buf, sizeof(buf));
		assert_string_equal(buf, good[i]);
		assert_int_equal(wgnl_endpoint_parse(&ep2, buf), 0);
		assert_true(wgnl_endpoint_equal(&ep, &ep2));
	}
	memset(&ep, 0, sizeof(ep));
	assert_string_equal(wgnl_endpoint_format(&ep, buf, sizeof(buf)), "(none)");
}

static void endpoint__bad_input__einval(void **state)
{
	static const char *const bad[] = { "192.0.2.1", "192.0.2.1:", ":51820", "2001:db8::1:51820",
					   "[2001:db8::1]51820", "192.0.2.1:65536", "192.0.2.1:x",
					   "host.invalid:51820", "[]:1" };
	union wgnl_endpoint ep;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(wgnl_endpoint_parse(&ep, bad[i]), -EINVAL);
}

static void endpoint__resolve_localhost__loopback(void **state)
{
	union wgnl_endpoint ep;

	(void)state;
	/* Only /etc/hosts: no traffic leaves the machine. */
	assert_int_equal(wgnl_endpoint_resolve(&ep, "localhost:51820"), 0);
	if (ep.addr.sa_family == AF_INET)
		assert_int_equal(ntohs(ep.addr4.sin_port), 51820);
	else
		assert_int_equal(ntohs(ep.addr6.sin6_port), 51820);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(device__add_find_remove_10k__index_stays_exact),
		cmocka_unit_test(device__name_too_long__rejected),
		cmocka_unit_test(device__allowedips_sorted__canonical_order),
		cmocka_unit_test(prefix__parse_and_mask__expected),
		cmocka_unit_test(prefix__bad_input__einval),
		cmocka_unit_test(endpoint__parse_format__round_trip),
		cmocka_unit_test(endpoint__bad_input__einval),
		cmocka_unit_test(endpoint__resolve_localhost__loopback),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
