/* SPDX-License-Identifier: MIT */
/* The STUN codec: RFC 5769 sample messages, round trips, and every way a
 * message can be malformed. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <arpa/inet.h>
#include <cmocka.h>

#include "wgkit/wgnl_stun.h"

/* RFC 5769 section 2.2, "Sample IPv4 Response": SOFTWARE "test vector",
 * XOR-MAPPED-ADDRESS 192.0.2.1:32853, MESSAGE-INTEGRITY, FINGERPRINT. */
static const uint8_t rfc_v4[] = {
	0x01, 0x01, 0x00, 0x3c, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34,
	0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x0b, 0x74, 0x65, 0x73, 0x74,
	0x20, 0x76, 0x65, 0x63, 0x74, 0x6f, 0x72, 0x20, 0x00, 0x20, 0x00, 0x08, 0x00, 0x01,
	0xa1, 0x47, 0xe1, 0x12, 0xa6, 0x43, 0x00, 0x08, 0x00, 0x14, 0x2b, 0x91, 0xf5, 0x99,
	0xfd, 0x9e, 0x90, 0xc3, 0x8c, 0x74, 0x89, 0xf9, 0x2a, 0xf9, 0xba, 0x53, 0xf0, 0x6b,
	0xe7, 0xd7, 0x80, 0x28, 0x00, 0x04, 0xc0, 0x7d, 0x4c, 0x96,
};

/* RFC 5769 section 2.3, "Sample IPv6 Response":
 * 2001:db8:1234:5678:11:2233:4455:6677 port 32853. */
static const uint8_t rfc_v6[] = {
	0x01, 0x01, 0x00, 0x48, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34,
	0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x0b, 0x74, 0x65, 0x73, 0x74,
	0x20, 0x76, 0x65, 0x63, 0x74, 0x6f, 0x72, 0x20, 0x00, 0x20, 0x00, 0x14, 0x00, 0x02,
	0xa1, 0x47, 0x01, 0x13, 0xa9, 0xfa, 0xa5, 0xd3, 0xf1, 0x79, 0xbc, 0x25, 0xf4, 0xb5,
	0xbe, 0xd2, 0xb9, 0xd9, 0x00, 0x08, 0x00, 0x14, 0xa3, 0x82, 0x95, 0x4e, 0x4b, 0xe6,
	0x7b, 0xf1, 0x17, 0x84, 0xc9, 0x7c, 0x82, 0x92, 0xc2, 0x75, 0xbf, 0xe3, 0xed, 0x41,
	0x80, 0x28, 0x00, 0x04, 0xc8, 0xfb, 0x0b, 0x4c,
};

static const uint8_t tid[12] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 };

static void ep4(union wgnl_endpoint *ep, const char *a, uint16_t port)
{
	memset(ep, 0, sizeof(*ep));
	ep->addr4.sin_family = AF_INET;
	ep->addr4.sin_port = htons(port);
	assert_int_equal(inet_pton(AF_INET, a, &ep->addr4.sin_addr), 1);
}

static void ep6(union wgnl_endpoint *ep, const char *a, uint16_t port)
{
	memset(ep, 0, sizeof(*ep));
	ep->addr6.sin6_family = AF_INET6;
	ep->addr6.sin6_port = htons(port);
	assert_int_equal(inet_pton(AF_INET6, a, &ep->addr6.sin6_addr), 1);
}

static void decode__rfc5769_ipv4_response__mapped_and_fingerprint(void **state)
{
	struct wgnl_stun_msg m;
	union wgnl_endpoint want;

	assert_int_equal(wgnl_stun_decode(rfc_v4, sizeof(rfc_v4), &m), 0);
	assert_int_equal(m.type, WGNL_STUN_BINDING_SUCCESS);
	assert_int_equal(m.klass, WGNL_STUN_CLASS_SUCCESS);
	assert_int_equal(m.method, 1);
	assert_true(m.flags & WGNL_STUN_HAS_XOR_MAPPED);
	assert_true(m.flags & WGNL_STUN_HAS_FINGERPRINT);
	assert_true(m.flags & WGNL_STUN_HAS_MESSAGE_INTEGRITY);
	assert_true(m.flags & WGNL_STUN_HAS_SOFTWARE);
	assert_int_equal(m.software_len, 11);
	assert_memory_equal(m.software, "test vector", 11);
	ep4(&want, "192.0.2.1", 32853);
	assert_memory_equal(&m.xor_mapped.addr4, &want.addr4, sizeof(want.addr4));
	assert_memory_equal(m.tid, rfc_v4 + 8, 12);
}

static void decode__rfc5769_ipv6_response__mapped(void **state)
{
	struct wgnl_stun_msg m;
	union wgnl_endpoint want;

	assert_int_equal(wgnl_stun_decode(rfc_v6, sizeof(rfc_v6), &m), 0);
	ep6(&want, "2001:db8:1234:5678:11:2233:4455:6677", 32853);
	assert_int_equal(m.xor_mapped.addr.sa_family, AF_INET6);
	assert_int_equal(m.xor_mapped.addr6.sin6_port, want.addr6.sin6_port);
	assert_memory_equal(&m.xor_mapped.addr6.sin6_addr, &want.addr6.sin6_addr, 16);
}

static void decode__flipped_bit_under_fingerprint__ebadmsg(void **state)
{
	uint8_t b[sizeof(rfc_v4)];
	struct wgnl_stun_msg m;

	for (size_t i = 8; i < sizeof(b) - 8; i++) {
		memcpy(b, rfc_v4, sizeof(b));
		b[i] ^= 0x01;
		int r = wgnl_stun_decode(b, sizeof(b), &m);
		assert_true(r == -EBADMSG || r == -EINVAL);
	}
}

static void decode__wrong_cookie__einval(void **state)
{
	uint8_t b[sizeof(rfc_v4)];
	struct wgnl_stun_msg m;

	memcpy(b, rfc_v4, sizeof(b));
	b[4] = 0x22;
	assert_int_equal(wgnl_stun_decode(b, sizeof(b), &m), -EINVAL);
}

static void decode__leading_bits_set__einval(void **state)
{
	uint8_t b[sizeof(rfc_v4)];
	struct wgnl_stun_msg m;

	memcpy(b, rfc_v4, sizeof(b));
	b[0] |= 0x80;
	assert_int_equal(wgnl_stun_decode(b, sizeof(b), &m), -EINVAL);
	assert_int_equal(wgnl_stun_decode(b, 19, &m), -EINVAL);
	assert_int_equal(wgnl_stun_decode(b, 0, &m), -EINVAL);
}

static void decode__truncated_or_oversized__emsgsize(void **state)
{
	uint8_t b[sizeof(rfc_v4) + 4] = { 0 };
	struct wgnl_stun_msg m;

	memcpy(b, rfc_v4, sizeof(rfc_v4));
	for (size_t n = 20; n < sizeof(rfc_v4); n++)
		assert_int_equal(wgnl_stun_decode(b, n, &m), -EMSGSIZE);
	assert_int_equal(wgnl_stun_decode(b, sizeof(b), &m), -EMSGSIZE);
	/* A length not a multiple of 4. */
	b[3] = 0x3d;
	assert_int_equal(wgnl_stun_decode(b, 0x3d + 20, &m), -EMSGSIZE);
}

static void decode__attribute_overruns_message__ebadmsg(void **state)
{
	uint8_t b[64];
	struct wgnl_stun_msg m;
	struct wgnl_stun_writer w;

	wgnl_stun_writer_init(&w, b, sizeof(b), WGNL_STUN_BINDING_REQUEST, tid);
	wgnl_stun_put(&w, WGNL_STUN_ATTR_SOFTWARE, "abcdefgh", 8);
	int n = wgnl_stun_finish(&w, false);
	assert_int_equal(n, 32);
	b[23] = 9; /* value length 9 -> padded 12 > 8 available */
	assert_int_equal(wgnl_stun_decode(b, (size_t)n, &m), -EBADMSG);
	b[23] = 200;
	assert_int_equal(wgnl_stun_decode(b, (size_t)n, &m), -EBADMSG);
	/* A dangling 2-byte attribute header: length 4 body can't hold it. */
	uint8_t c[24];
	memcpy(c, b, 20);
	c[2] = 0;
	c[3] = 4;
	c[20] = 0x80;
	c[21] = 0x22;
	c[22] = 0;
	c[23] = 4;
	assert_int_equal(wgnl_stun_decode(c, sizeof(c), &m), -EBADMSG);
}

static void decode__unknown_required_attribute__eopnotsupp_listed(void **state)
{
	uint8_t b[64];
	struct wgnl_stun_msg m;
	struct wgnl_stun_writer w;

	wgnl_stun_writer_init(&w, b, sizeof(b), WGNL_STUN_BINDING_REQUEST, tid);
	wgnl_stun_put_u32(&w, 0x0024, 7); /* PRIORITY (ICE): required, unknown here */
	wgnl_stun_put_u32(&w, 0x8029, 7); /* ICE-CONTROLLED: optional, ignored */
	int n = wgnl_stun_finish(&w, true);
	assert_true(n > 0);
	assert_int_equal(wgnl_stun_decode(b, (size_t)n, &m), -EOPNOTSUPP);
	assert_int_equal(m.n_unknown, 1);
	assert_int_equal(m.unknown[0], 0x0024);
	assert_true(m.flags & WGNL_STUN_HAS_FINGERPRINT);
}

/* Bit by bit, the way RFC 1952 defines it: the reference for the
 * library's table-driven CRC. */
static uint32_t crc32_ref(const uint8_t *p, size_t n)
{
	uint32_t c = 0xFFFFFFFFU;
	for (size_t i = 0; i < n; i++) {
		c ^= p[i];
		for (int k = 0; k < 8; k++)
			c = (c & 1) ? 0xEDB88320U ^ (c >> 1) : c >> 1;
	}
	return ~c;
}

static void finish__fingerprint_every_length__matches_bitwise_crc(void **state)
{
	uint8_t buf[1400], val[1300];
	for (size_t i = 0; i < sizeof(val); i++)
		val[i] = (uint8_t)(i * 131 + 7);
	/* SOFTWARE values of 0..1299 bytes: every alignment and tail length
	 * of the eight-byte folding loop, and long messages. */
	for (size_t len = 0; len < sizeof(val); len += len < 64 ? 1 : 37) {
		struct wgnl_stun_writer w;
		wgnl_stun_writer_init(&w, buf, sizeof(buf), 0x0101, tid);
		wgnl_stun_put(&w, 0x8022, val, len);
		int n = wgnl_stun_finish(&w, true);
		assert_true(n > 8);
		uint32_t want = crc32_ref(buf, (size_t)n - 8) ^ 0x5354554eU;
		uint32_t got = (uint32_t)buf[n - 4] << 24 | (uint32_t)buf[n - 3] << 16 |
			       (uint32_t)buf[n - 2] << 8 | buf[n - 1];
		assert_int_equal(got, want);
		/* The decoder also checks it (SOFTWARE is capped at 763 bytes). */
		struct wgnl_stun_msg m;
		if (len <= 763)
			assert_int_equal(wgnl_stun_decode(buf, (size_t)n, &m), 0);
	}
}

static void decode__attribute_after_fingerprint__ebadmsg(void **state)
{
	uint8_t b[64];
	struct wgnl_stun_msg m;
	struct wgnl_stun_writer w;

	wgnl_stun_writer_init(&w, b, sizeof(b), WGNL_STUN_BINDING_REQUEST, tid);
	int n = wgnl_stun_finish(&w, true);
	assert_int_equal(n, 28);
	/* Append SOFTWARE after FINGERPRINT and fix the header length. */
	memcpy(b + 28, "\x80\x22\x00\x00", 4);
	b[3] = 12;
	assert_int_equal(wgnl_stun_decode(b, 32, &m), -EBADMSG);
}

static void decode__bad_address_family_or_length__ebadmsg(void **state)
{
	uint8_t b[64];
	struct wgnl_stun_msg m;
	struct wgnl_stun_writer w;
	union wgnl_endpoint ep;

	ep4(&ep, "198.51.100.7", 4242);
	wgnl_stun_writer_init(&w, b, sizeof(b), WGNL_STUN_BINDING_SUCCESS, tid);
	wgnl_stun_put_addr(&w, WGNL_STUN_ATTR_XOR_MAPPED_ADDRESS, &ep);
	int n = wgnl_stun_finish(&w, false);
	assert_int_equal(n, 32);
	assert_int_equal(wgnl_stun_decode(b, 32, &m), 0);
	b[25] = 3; /* family 3 */
	assert_int_equal(wgnl_stun_decode(b, 32, &m), -EBADMSG);
	b[25] = 2; /* IPv6 family with an IPv4-sized value */
	assert_int_equal(wgnl_stun_decode(b, 32, &m), -EBADMSG);
	b[25] = 1;
	b[24] = 1; /* reserved byte set */
	assert_int_equal(wgnl_stun_decode(b, 32, &m), -EBADMSG);
}

static void build__binding_response_v4_v6__round_trips(void **state)
{
	uint8_t b[256];
	struct wgnl_stun_msg m;
	struct wgnl_stun_writer w;
	union wgnl_endpoint a, o, x;

	ep4(&a, "203.0.113.9", 61000);
	ep4(&o, "203.0.113.10", 3479);
	ep6(&x, "2001:db8::42", 1);
	wgnl_stun_writer_init(&w, b, sizeof(b), WGNL_STUN_BINDING_SUCCESS, tid);
	wgnl_stun_put_addr(&w, WGNL_STUN_ATTR_XOR_MAPPED_ADDRESS, &a);
	wgnl_stun_put_addr(&w, WGNL_STUN_ATTR_MAPPED_ADDRESS, &x);
	wgnl_stun_put_addr(&w, WGNL_STUN_ATTR_OTHER_ADDRESS, &o);
	wgnl_stun_put_addr(&w, WGNL_STUN_ATTR_RESPONSE_ORIGIN, &a);
	wgnl_stun_put(&w, WGNL_STUN_ATTR_SOFTWARE, "wgkit", 5);
	int n = wgnl_stun_finish(&w, true);
	assert_true(n > 0);
	assert_int_equal(n % 4, 0);
	assert_int_equal(wgnl_stun_decode(b, (size_t)n, &m), 0);
	assert_memory_equal(&m.xor_mapped.addr4, &a.addr4, sizeof(a.addr4));
	assert_memory_equal(&m.mapped.addr6, &x.addr6, sizeof(x.addr6));
	assert_memory_equal(&m.other_address.addr4, &o.addr4, sizeof(o.addr4));
	assert_memory_equal(&m.response_origin.addr4, &a.addr4, sizeof(a.addr4));
	assert_memory_equal(m.tid, tid, 12);
	assert_int_equal(m.software_len, 5);
	/* Plain MAPPED-ADDRESS is not XORed on the wire. */
	assert_memory_equal(b + 20 + 12 + 8, &x.addr6.sin6_addr, 16);
}

static void build__error_and_unknown__round_trips(void **state)
{
	uint8_t b[128];
	struct wgnl_stun_msg m;
	struct wgnl_stun_writer w;
	const uint16_t unk[] = { 0x0024, 0x0025, 0x7001 };

	wgnl_stun_writer_init(&w, b, sizeof(b), WGNL_STUN_BINDING_ERROR, tid);
	wgnl_stun_put_error(&w, 420, "Unknown Attribute");
	wgnl_stun_put_unknown(&w, unk, 3);
	int n = wgnl_stun_finish(&w, false);
	assert_true(n > 0);
	assert_int_equal(wgnl_stun_decode(b, (size_t)n, &m), 0);
	assert_int_equal(m.klass, WGNL_STUN_CLASS_ERROR);
	assert_int_equal(m.error_code, 420);
	assert_int_equal(m.error_reason_len, 17);

	wgnl_stun_writer_init(&w, b, sizeof(b), WGNL_STUN_BINDING_ERROR, tid);
	wgnl_stun_put_error(&w, 700, NULL);
	assert_int_equal(wgnl_stun_finish(&w, false), -EINVAL);
}

static void build__request_with_change_and_port__decodes(void **state)
{
	uint8_t b[128];
	struct wgnl_stun_msg m;

	int n = wgnl_stun_build_request(b, sizeof(b), tid,
					WGNL_STUN_CHANGE_IP | WGNL_STUN_CHANGE_PORT, 5000, 9, true);
	assert_true(n > 0);
	assert_int_equal(wgnl_stun_decode(b, (size_t)n, &m), 0);
	assert_int_equal(m.type, WGNL_STUN_BINDING_REQUEST);
	assert_int_equal(m.klass, WGNL_STUN_CLASS_REQUEST);
	assert_int_equal(m.change_request, WGNL_STUN_CHANGE_IP | WGNL_STUN_CHANGE_PORT);
	assert_int_equal(m.response_port, 5000);
	assert_true(m.flags & WGNL_STUN_HAS_PADDING);
	assert_true(m.flags & WGNL_STUN_HAS_FINGERPRINT);
}

static void build__buffer_too_small__enospc(void **state)
{
	uint8_t b[40];
	struct wgnl_stun_writer w;
	union wgnl_endpoint a;

	ep6(&a, "2001:db8::1", 1);
	wgnl_stun_writer_init(&w, b, 19, WGNL_STUN_BINDING_SUCCESS, tid);
	assert_int_equal(wgnl_stun_finish(&w, false), -ENOSPC);
	wgnl_stun_writer_init(&w, b, sizeof(b), WGNL_STUN_BINDING_SUCCESS, tid);
	wgnl_stun_put_addr(&w, WGNL_STUN_ATTR_XOR_MAPPED_ADDRESS, &a); /* 24 bytes: 44 > 40 */
	assert_int_equal(wgnl_stun_finish(&w, false), -ENOSPC);
	assert_int_equal(wgnl_stun_build_request(b, 24, tid, 0, 0, 0, true), -ENOSPC);
}

/* Sized option structs: a size below the 0.1 struct is refused before
 * anything is opened, and *ret stays NULL. */
static void opts__size_too_small__einval(void **state)
{
	struct wgnl_stun_server_config cfg;
	struct wgnl_stun_client_opts o;
	struct wgnl_stun_server *srv = (void *)1;
	struct wgnl_stun_client *c = (void *)1;

	(void)state;
	memset(&cfg, 0, sizeof(cfg));
	cfg.addr.addr4.sin_family = AF_INET;
	cfg.addr.addr4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(wgnl_stun_server_new(&cfg, &srv), -EINVAL); /* size 0 */
	assert_null(srv);
	cfg.size = offsetof(struct wgnl_stun_server_config, n_buffers);
	assert_int_equal(wgnl_stun_server_new(&cfg, &srv), -EINVAL);
	memset(&o, 0, sizeof(o));
	o.size = offsetof(struct wgnl_stun_client_opts, fingerprint);
	assert_int_equal(wgnl_stun_client_new(&o, AF_INET, &c), -EINVAL);
	assert_null(c);
}

static void tid_random__two_calls__differ(void **state)
{
	uint8_t a[12], b[12];

	assert_int_equal(wgnl_stun_tid_random(a), 0);
	assert_int_equal(wgnl_stun_tid_random(b), 0);
	assert_memory_not_equal(a, b, 12);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(decode__rfc5769_ipv4_response__mapped_and_fingerprint),
		cmocka_unit_test(decode__rfc5769_ipv6_response__mapped),
		cmocka_unit_test(decode__flipped_bit_under_fingerprint__ebadmsg),
		cmocka_unit_test(decode__wrong_cookie__einval),
		cmocka_unit_test(decode__leading_bits_set__einval),
		cmocka_unit_test(decode__truncated_or_oversized__emsgsize),
		cmocka_unit_test(decode__attribute_overruns_message__ebadmsg),
		cmocka_unit_test(decode__unknown_required_attribute__eopnotsupp_listed),
		cmocka_unit_test(decode__attribute_after_fingerprint__ebadmsg),
		cmocka_unit_test(finish__fingerprint_every_length__matches_bitwise_crc),
		cmocka_unit_test(decode__bad_address_family_or_length__ebadmsg),
		cmocka_unit_test(build__binding_response_v4_v6__round_trips),
		cmocka_unit_test(build__error_and_unknown__round_trips),
		cmocka_unit_test(build__request_with_change_and_port__decodes),
		cmocka_unit_test(build__buffer_too_small__enospc),
		cmocka_unit_test(tid_random__two_calls__differ),
		cmocka_unit_test(opts__size_too_small__einval),
	};
	return cmocka_run_group_tests_name("stun", tests, NULL, NULL);
}
