/* SPDX-License-Identifier: MIT */
/* The probe engine on loopback: TCP established / refused, UDP refused /
 * silent, ICMP echo when this process may send it; per-probe timeouts. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <dirent.h>
#include <time.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "wgkit/wgnl_probe.h"
#include "wgkit/wgnl_stun.h"

static int listener(int type, uint16_t *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
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
	struct wgnl_probe_opts o = { .size = sizeof(o), .timeout_ms = 2000 };
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

/* The gate: answer the UDP probe only once the HTTP probe has connected
 * (accept() returned), then answer the HTTP request. Run one after the
 * other, the UDP probe would time out first; run together, both answer. */
struct gate {
	int udp, tcp;
	int accepted;
};

static void *gate_thread(void *arg)
{
	struct gate *g = arg;
	struct pollfd pf = { .fd = g->tcp, .events = POLLIN };
	uint8_t buf[2048];
	struct sockaddr_storage from;
	socklen_t fl = sizeof(from);
	ssize_t n = recvfrom(g->udp, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
	/* Wait (bounded) for the HTTP client to connect. */
	if (n < 0 || poll(&pf, 1, 3000) != 1)
		return NULL;
	int c = accept(g->tcp, NULL, NULL);
	if (c < 0)
		return NULL;
	g->accepted = 1;
	sendto(g->udp, buf, (size_t)n, 0, (struct sockaddr *)&from, fl);
	pf.fd = c;
	if (poll(&pf, 1, 3000) == 1 && recv(c, buf, sizeof(buf), 0) > 0) {
		static const char resp[] = "HTTP/1.0 204 No Content\r\nContent-Length: 0\r\n\r\n";
		send(c, resp, sizeof(resp) - 1, MSG_NOSIGNAL);
	}
	close(c);
	return NULL;
}

static void probe__http_and_udp__run_concurrently(void **state)
{
	struct gate g = { 0 };
	uint16_t uport, tport;
	char url[64];
	pthread_t th;

	g.udp = listener(SOCK_DGRAM, &uport);
	g.tcp = listener(SOCK_STREAM, &tport);
	assert_int_equal(pthread_create(&th, NULL, gate_thread, &g), 0);
	struct wgnl_probe p[2];
	target(&p[0], WGNL_PROBE_UDP, uport);
	memset(&p[1], 0, sizeof(p[1]));
	p[1].kind = WGNL_PROBE_HTTP;
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/", tport);
	p[1].url = url;
	struct wgnl_probe_opts o = { .size = sizeof(o), .timeout_ms = 2000 };
	int r = wgnl_probe_run(p, 2, &o, NULL);
	pthread_join(th, NULL);
	if (p[1].status == -ENOSYS) {
		print_message("SKIP: libcurl cannot be loaded here\n");
		close(g.udp);
		close(g.tcp);
		skip();
	}
	assert_int_equal(g.accepted, 1);
	assert_int_equal(p[0].status, 0);
	assert_int_equal(p[1].status, 0);
	assert_int_equal(p[1].http_code, 204);
	assert_int_equal(r, 2);
	close(g.udp);
	close(g.tcp);
}

static void probe__http_without_url__einval_others_run(void **state)
{
	uint16_t tport;
	int t = listener(SOCK_STREAM, &tport);
	struct wgnl_probe p[2];
	target(&p[0], WGNL_PROBE_TCP, tport);
	memset(&p[1], 0, sizeof(p[1]));
	p[1].kind = WGNL_PROBE_HTTP;
	assert_int_equal(wgnl_probe_run(p, 2, NULL, NULL), 1);
	assert_int_equal(p[0].status, 0);
	assert_int_equal(p[1].status, -EINVAL);
	close(t);
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

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;
	assert_non_null(d);
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

/* A run that fails half-way (socket() hits RLIMIT_NOFILE) with UDP
 * receives and their linked timeouts in flight: it returns the error at
 * once (the in-flight requests are cancelled and reaped, not waited for;
 * under ASan nothing is touched after it is freed) and closes every socket
 * it opened. */
static void probe__emfile_midway__error_at_once_no_fd_left(void **state)
{
	uint16_t uport;
	int u = listener(SOCK_DGRAM, &uport); /* bound but silent */
	struct wgnl_probe p[200];
	struct rlimit old, lim;
	struct timespec t0, t1;

	for (int i = 0; i < 200; i++)
		target(&p[i], WGNL_PROBE_UDP, uport);
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
	int before = count_fds();
	lim = old;
	lim.rlim_cur = (rlim_t)before + 100; /* past the first batch of 64 */
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &lim), 0);
	struct wgnl_probe_opts o = { .size = sizeof(o), .timeout_ms = 5000 };
	clock_gettime(CLOCK_MONOTONIC, &t0);
	int r = wgnl_probe_run(p, 200, &o, NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	setrlimit(RLIMIT_NOFILE, &old);
	assert_int_equal(r, -EMFILE);
	long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	assert_true(ms < 1000);
	assert_int_equal(count_fds(), before);
	close(u);
}

static void probe__bad_family__einval(void **state)
{
	struct wgnl_probe p;
	memset(&p, 0, sizeof(p));
	p.kind = WGNL_PROBE_TCP;
	assert_int_equal(wgnl_probe_run(&p, 1, NULL, NULL), -EINVAL);
}

/* A sized struct with its size unset is refused before anything runs; a
 * valid probe with NULL options still runs on the defaults. */
static void probe__opts_size_zero__einval(void **state)
{
	struct wgnl_probe p;
	struct wgnl_probe_opts o = { .timeout_ms = 100 };
	uint16_t port;
	int u = listener(SOCK_DGRAM, &port); /* bound but silent */

	(void)state;
	target(&p, WGNL_PROBE_UDP, port);
	p.timeout_ms = 50;
	p.status = 1;
	assert_int_equal(wgnl_probe_run(&p, 1, &o, NULL), -EINVAL);
	assert_int_equal(p.status, 1);
	o.size = sizeof(size_t);
	assert_int_equal(wgnl_probe_run(&p, 1, &o, NULL), -EINVAL);
	o.size = sizeof(o);
	assert_int_equal(wgnl_probe_run(&p, 1, &o, NULL), 0);
	assert_int_equal(p.status, -ETIMEDOUT);
	assert_int_equal(wgnl_probe_run(&p, 1, NULL, NULL), 0);
	assert_int_equal(p.status, -ETIMEDOUT);
	close(u);
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
		cmocka_unit_test(probe__opts_size_zero__einval),
		cmocka_unit_test(probe__emfile_midway__error_at_once_no_fd_left),
		cmocka_unit_test(probe__http_and_udp__run_concurrently),
		cmocka_unit_test(probe__http_without_url__einval_others_run),
	};
	return cmocka_run_group_tests_name("probe", tests, NULL, NULL);
}
