// SPDX-License-Identifier: MIT
/* The device/peer model: O(1) index under churn, prefixes, endpoints. */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
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
	wgnl_free(NULL);
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
		"",
		"/24",
		"10.0.0.0/33",
		"10.0.0.0/",
		"10.0.0.0/-1",
		"10.0.0.0/+8",
		"10.0.0.0/8x",
		"fd00::/129",
		"10.0.0.256/8",
		"host.example/32",
		"10.0.0.0/ 8",
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

/* A peer without allowed IPs has allowedips == NULL: sorting must not pass
 * that to qsort() (UB under glibc's nonnull; UBSan traps it). Issue 9.16. */
static void device__sort_allowedips_of_empty_peer__no_qsort_of_null(void **state)
{
	struct wgnl_device *dev = wgnl_device_new("wg0");
	struct wgnl_peer *p;
	wgnl_key k = { 1 };

	(void)state;
	assert_non_null(dev);
	wgnl_device_sort_allowedips(dev); /* no peers */
	assert_int_equal(wgnl_device_add_peer(dev, k, &p), 0);
	assert_null(p->allowedips);
	wgnl_device_sort_allowedips(dev);
	assert_int_equal(p->n_allowedips, 0);
	wgnl_device_free(dev);
}

/* Full-length link-local literals with a scope: the
 * longest interface name fits, a name resolves through if_nametoindex(), a
 * number is taken as the index, a missing interface is -ENODEV. */
static void endpoint__long_scoped_ipv6__parsed_or_enodev(void **state)
{
#define FE80 "fe80:1234:5678:9abc:def0:1234:5678:9abc"
	union wgnl_endpoint ep;
	struct in6_addr want;
	char buf[80];

	(void)state;
	assert_int_equal(inet_pton(AF_INET6, FE80, &want), 1);
	assert_int_equal(wgnl_endpoint_parse(&ep, "[" FE80 "%lo]:51820"), 0);
	assert_int_equal(ep.addr6.sin6_family, AF_INET6);
	assert_int_equal(ep.addr6.sin6_scope_id, if_nametoindex("lo"));
	assert_int_equal(ntohs(ep.addr6.sin6_port), 51820);
	assert_memory_equal(&ep.addr6.sin6_addr, &want, 16);
	assert_int_equal(wgnl_endpoint_parse(&ep, "[" FE80 "%4294967295]:65535"), 0);
	assert_int_equal(ep.addr6.sin6_scope_id, 4294967295U);
	assert_string_equal(wgnl_endpoint_format(&ep, buf, sizeof(buf)),
			    "[" FE80 "%4294967295]:65535");
	/* 15 characters: the longest name; no such interface here. */
	assert_int_equal(wgnl_endpoint_parse(&ep, "[" FE80 "%enp0s31f6abcdef]:51820"), -ENODEV);
	assert_int_equal(wgnl_endpoint_resolve(&ep, "[" FE80 "%enp0s31f6abcdef]:51820"), -ENODEV);
	assert_int_equal(ep.addr.sa_family, AF_UNSPEC);
	assert_int_equal(wgnl_endpoint_parse(&ep, "[" FE80 "%enp0s31f6]:51820"),
			 if_nametoindex("enp0s31f6") ? 0 : -ENODEV);
	assert_int_equal(wgnl_endpoint_resolve(&ep, "[" FE80 "%lo]:51820"), 0);
	assert_int_equal(ep.addr6.sin6_scope_id, if_nametoindex("lo"));
	/* 16 characters, an index above 32 bits, an empty scope, junk. */
	assert_int_equal(wgnl_endpoint_parse(&ep, "[" FE80 "%enp0s31f6abcdefg]:1"), -EINVAL);
	assert_int_equal(wgnl_endpoint_parse(&ep, "[" FE80 "%4294967296]:1"), -EINVAL);
	assert_int_equal(wgnl_endpoint_parse(&ep, "[" FE80 "%]:1"), -EINVAL);
	assert_int_equal(wgnl_endpoint_parse(&ep, "[" FE80 "%a/b]:1"), -EINVAL);
	assert_int_equal(wgnl_endpoint_parse(&ep, "[" FE80 ":1%lo]:1"), -EINVAL);
	assert_int_equal(wgnl_endpoint_parse(&ep, "[1.2.3.4%lo]:1"), -EINVAL);
#undef FE80
}

/* The formatter must print exactly what inet_ntop() prints. */
static void prefix_endpoint_format__random_and_special__same_as_inet_ntop(void **state)
{
	static const char *const special[] = {
		"::",
		"::1",
		"::ffff:1.2.3.4",
		"::1.2.3.4",
		"1::",
		"1:0:0:2::3",
		"1::2:0:0:3",
		"0:0:1::",
		"fe80::1:0:0:1",
		"1:2:3:4:5:6:7:8",
		"1:0:2:0:3:0:4:0",
		"::ffff:0:1",
		"0:0:0:0:0:1:0:0",
		"2001:db8::",
		"::a:b:c:d:e",
		"ff02::1:ff00:1",
	};
	uint32_t seed = 12345;

	(void)state;
	for (size_t i = 0; i < 20000 + sizeof(special) / sizeof(special[0]); i++) {
		struct wgnl_prefix p = { .family = AF_INET6, .cidr = 64 };
		union wgnl_endpoint ep;
		char want[INET6_ADDRSTRLEN + 32], addr[INET6_ADDRSTRLEN], got[80];

		if (i < sizeof(special) / sizeof(special[0])) {
			assert_int_equal(inet_pton(AF_INET6, special[i], &p.ip6), 1);
		} else {
			for (int b = 0; b < 16; b++) {
				seed = seed * 1103515245u + 12345u;
				/* Mostly zero bytes, so zero runs of every length occur. */
				p.ip6.s6_addr[b] = (seed >> 16) % 3 ? 0 : (uint8_t)(seed >> 8);
			}
			if (i % 4 == 0) {
				p.family = AF_INET;
				p.cidr = 24;
			}
		}
		inet_ntop(p.family, &p.ip6, addr, sizeof(addr));
		snprintf(want, sizeof(want), "%s/%u", addr, p.cidr);
		assert_string_equal(wgnl_prefix_format(&p, got, sizeof(got)), want);

		memset(&ep, 0, sizeof(ep));
		if (p.family == AF_INET) {
			ep.addr4.sin_family = AF_INET;
			ep.addr4.sin_addr = p.ip4;
			ep.addr4.sin_port = htons((uint16_t)i);
			snprintf(want, sizeof(want), "%s:%u", addr, (unsigned)(uint16_t)i);
		} else {
			ep.addr6.sin6_family = AF_INET6;
			ep.addr6.sin6_addr = p.ip6;
			ep.addr6.sin6_port = htons(65535);
			ep.addr6.sin6_scope_id = (uint32_t)(i % 3);
			if (i % 3)
				snprintf(want, sizeof(want), "[%s%%%u]:65535", addr,
					 (unsigned)(i % 3));
			else
				snprintf(want, sizeof(want), "[%s]:65535", addr);
		}
		assert_string_equal(wgnl_endpoint_format(&ep, got, sizeof(got)), want);
	}
}

static void format__short_buffer__truncated_like_snprintf(void **state)
{
	struct wgnl_prefix p;
	char buf[6];

	(void)state;
	assert_int_equal(wgnl_prefix_parse(&p, "10.20.30.40/24"), 0);
	assert_string_equal(wgnl_prefix_format(&p, buf, sizeof(buf)), "10.20");
}

static void endpoint__bad_input__einval(void **state)
{
	static const char *const bad[] = {
		"192.0.2.1",	     "192.0.2.1:",	   ":51820",
		"2001:db8::1:51820", "[2001:db8::1]51820", "192.0.2.1:65536",
		"192.0.2.1:x",	     "host.invalid:51820", "[]:1"
	};
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
		cmocka_unit_test(endpoint__long_scoped_ipv6__parsed_or_enodev),
		cmocka_unit_test(device__sort_allowedips_of_empty_peer__no_qsort_of_null),
		cmocka_unit_test(device__name_too_long__rejected),
		cmocka_unit_test(device__allowedips_sorted__canonical_order),
		cmocka_unit_test(prefix__parse_and_mask__expected),
		cmocka_unit_test(prefix__bad_input__einval),
		cmocka_unit_test(endpoint__parse_format__round_trip),
		cmocka_unit_test(endpoint__bad_input__einval),
		cmocka_unit_test(prefix_endpoint_format__random_and_special__same_as_inet_ntop),
		cmocka_unit_test(format__short_buffer__truncated_like_snprintf),
		cmocka_unit_test(endpoint__resolve_localhost__loopback),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
