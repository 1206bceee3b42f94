/* SPDX-License-Identifier: MIT */
/* The probe engine on loopback: TCP established / refused, UDP refused /
 * silent, ICMP echo when this process may send it; per-probe timeouts. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "wgkit/wgnl_probe.h"
#include "wgkit/wgnl_stun.h"

static int listener(int type, uint16_t *port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t l = sizeof(a);
	int fd = socket(AF_INET, type, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	if (type == SOCK_STREAM)
		assert_int_equal(listen(fd, 16), 0);
	getsockname(fd, (struct sockaddr *)&a, &l);
	*port = ntohs(a.sin_port);
	return fd;
}

static void target(struct wgnl_probe *p, enum wgnl_probe_kind k, uint16_t port)
{
	memset(p, 0, sizeof(*p));
	p->kind = k;
	p->target.addr4.sin_family = AF_INET;
	p->target.addr4.sin_port = htons(port);
	p->target.addr4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
}

static void probe__tcp_udp_loopback__reachable_refused_timeout(void **state)
{
	uint16_t tport, uport, closed_t, closed_u;
	int t = listener(SOCK_STREAM, &tport);
	int u = listener(SOCK_DGRAM, &uport);
	/* Closed ports: bind, read the port, close. */
	int c1 = listener(SOCK_STREAM, &closed_t);
	int c2 = listener(SOCK_DGRAM, &closed_u);
	close(c1);
	close(c2);

	struct wgnl_probe p[4];
	struct wgnl_probe_stats st;
	target(&p[0], WGNL_PROBE_TCP, tport);
	target(&p[1], WGNL_PROBE_TCP, closed_t);
	target(&p[2], WGNL_PROBE_UDP, closed_u);
	target(&p[3], WGNL_PROBE_UDP, uport); /* bound but silent */
	p[3].timeout_ms = 100;
	struct wgnl_probe_opts o = {.timeout_ms = 2000};
	int r = wgnl_probe_run(p, 4, &o, &st);
	assert_int_equal(r, 3);
	assert_int_equal(p[0].status, 0);
	assert_true(p[0].rtt_ns > 0);
	assert_int_equal(p[1].status, -ECONNREFUSED);
	assert_int_equal(p[2].status, -ECONNREFUSED);
	assert_int_equal(p[3].status, -ETIMEDOUT);
	assert_int_equal(st.sent, 4);
	assert_int_equal(st.timed_out, 1);
	close(t);
	close(u);
}

static void probe__icmp_loopback__reachable_or_skipped(void **state)
{
	struct wgnl_probe p[2];
	target(&p[0], WGNL_PROBE_ICMP, 0);
	target(&p[1], WGNL_PROBE_ICMP, 0);
	p[1].target.addr4.sin_addr.s_addr = htonl(0x7f000002);
	int r = wgnl_probe_run(p, 2, NULL, NULL);
	if (r == -EPERM) {
		print_message("SKIP: no ping socket or CAP_NET_RAW here\n");
		skip();
	}
	assert_int_equal(r, 2);
	assert_int_equal(p[0].status, 0);
	assert_int_equal(p[1].status, 0);
}

static void probe__bad_family__einval(void **state)
{
	struct wgnl_probe p;
	memset(&p, 0, sizeof(p));
	p.kind = WGNL_PROBE_TCP;
	assert_int_equal(wgnl_probe_run(&p, 1, NULL, NULL), -EINVAL);
}

int main(void)
{
	if (wgnl_uring_available() < 0) {
		fprintf(stderr, "test_probe: SKIP: io_uring unavailable\n");
		return 77;
	}
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(probe__tcp_udp_loopback__reachable_refused_timeout),
		cmocka_unit_test(probe__icmp_loopback__reachable_or_skipped),
		cmocka_unit_test(probe__bad_family__einval),
	};
	return cmocka_run_group_tests_name("probe", tests, NULL, NULL);
}
