// SPDX-License-Identifier: MIT
/* Does an ICMP echo request parked by io_uring behind a full socket buffer
 * go out after wgnl_probe_run() returned (reading its freed buffer)? Run in
 * a namespace where IFNAME holds packets (a tbf qdisc that sends a first
 * burst, then next to nothing), DST a silent static neighbour on it:
 *   probe_inflight IFNAME DST N
 * CAP_NET_ADMIN is dropped from the effective set first, so the engine's
 * SO_SNDBUFFORCE fails and its ICMP socket gets the net.core.wmem_max cap,
 * as for an unprivileged prober; N echo requests (100 ms timeout) then
 * overflow the socket buffer and the later ones park. After the run: the
 * freed heap is overwritten with 0xbe (ASan's free fill does the same with
 * ASAN_OPTIONS=max_free_fill_size=...:free_fill_byte=190), the qdisc's
 * backlog is read (what reached it), everything captured so far is counted,
 * then the qdisc is deleted (its packets dropped, the socket buffer drains,
 * parked sends wake) and for 0.5 s every echo request leaving IFNAME is
 * "late": sent after the run returned. One whose bytes are not our echo
 * request was read from freed memory. Prints
 *   "probes=N queued=Q parked=P before=B late=L garbage=G run=R"
 * (parked = N - B - Q: never reached the qdisc before the run returned) and
 * exits 0 when late and garbage are 0, 3 when nothing was parked (the test
 * did not test), 1 otherwise. */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/capability.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/ip.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "wgkit/wgnl_probe.h"

static int drop_net_admin(void)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &h, d) < 0)
		return -1;
	d[CAP_NET_ADMIN / 32].effective &= ~(1U << (CAP_NET_ADMIN % 32));
	return (int)syscall(SYS_capset, &h, d);
}

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Count the echo requests to @dst captured on @ps within @ms (0: only
 * what is already there); *garbage: those that are not ours. */
static unsigned capture(int ps, struct in_addr dst, unsigned n, int ms, unsigned *garbage)
{
	uint8_t pkt[2048];
	unsigned got = 0;
	uint64_t end = now_ms() + (uint64_t)ms;

	for (;;) {
		uint64_t t = now_ms();
		int left = t < end ? (int)(end - t) : 0;
		struct pollfd pfd = { .fd = ps, .events = POLLIN };
		if (poll(&pfd, 1, left) <= 0)
			break;
		struct sockaddr_ll from;
		socklen_t fl = sizeof(from);
		ssize_t len = recvfrom(ps, pkt, sizeof(pkt), 0, (struct sockaddr *)&from, &fl);
		if (len < (ssize_t)sizeof(struct iphdr) + 8 ||
		    from.sll_protocol != htons(ETH_P_IP) || from.sll_pkttype != PACKET_OUTGOING)
			continue;
		struct iphdr ih;
		memcpy(&ih, pkt, sizeof(ih));
		if (ih.protocol != IPPROTO_ICMP || ih.daddr != dst.s_addr)
			continue;
		size_t hl = (size_t)ih.ihl * 4;
		if ((size_t)len < hl + 16)
			continue;
		got++;
		const uint8_t *k = pkt + hl;
		uint32_t idx, magic;
		memcpy(&idx, k + 8, 4);
		memcpy(&magic, k + 12, 4);
		/* The engine's echo: type 8, code 0, the index in the sequence
		 * and the payload, then its magic ("wgkp"). */
		if (k[0] != 8 || k[1] != 0 || magic != 0x77676b70U || idx >= n ||
		    (uint16_t)(k[6] << 8 | k[7]) != (uint16_t)idx)
			(*garbage)++;
	}
	return got;
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: probe_inflight IFNAME DST N\n");
		return 2;
	}
	const char *ifname = argv[1];
	unsigned ifindex = if_nametoindex(ifname);
	struct in_addr dst;
	int n = atoi(argv[3]);
	if (!ifindex || inet_pton(AF_INET, argv[2], &dst) != 1 || n <= 0 || n > 1000000) {
		fprintf(stderr, "probe_inflight: bad arguments\n");
		return 2;
	}
	/* ETH_P_ALL: only those see outgoing packets. */
	int ps = socket(AF_PACKET, SOCK_DGRAM | SOCK_NONBLOCK, htons(ETH_P_ALL));
	struct sockaddr_ll sll = { .sll_family = AF_PACKET,
				   .sll_protocol = htons(ETH_P_ALL),
				   .sll_ifindex = (int)ifindex };
	if (ps < 0 || bind(ps, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		perror("probe_inflight: packet socket");
		return 2;
	}
	int big = 64 << 20;
	setsockopt(ps, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big));
	if (drop_net_admin() < 0) {
		perror("probe_inflight: capset");
		return 2;
	}

	struct wgnl_probe *p = calloc((size_t)n, sizeof(*p));
	if (!p)
		return 2;
	for (int i = 0; i < n; i++) {
		p[i].kind = WGNL_PROBE_ICMP;
		p[i].target.addr4.sin_family = AF_INET;
		p[i].target.addr4.sin_addr = dst;
	}
	struct wgnl_probe_opts o = { .size = sizeof(o), .timeout_ms = 100 };
	struct wgnl_probe_stats st;
	int r = wgnl_probe_run(p, (size_t)n, &o, &st);
	if (r == -ENOSYS || r == -EPERM) {
		fprintf(stderr, "probe_inflight: io_uring or ICMP sockets unavailable: %s\n",
			strerror(-r));
		return 77;
	}
	/* Whatever the run freed is reused and overwritten now. */
	void *spray[512];
	for (int i = 0; i < 512; i++) {
		size_t sz = i < 504 ? 4096 : (size_t)n * 16; /* a few the size of the echoes */
		spray[i] = malloc(sz);
		if (spray[i])
			memset(spray[i], 0xbe, sz);
	}

	unsigned queued = 0, garbage = 0;
	char cmd[128], line[512];
	snprintf(cmd, sizeof(cmd), "tc -s qdisc show dev %s", ifname);
	FILE *f = popen(cmd, "r");
	while (f && fgets(line, sizeof(line), f)) {
		const char *b = strstr(line, "backlog ");
		if (b)
			sscanf(b, "backlog %*s %up", &queued);
	}
	if (f)
		pclose(f);
	unsigned before = capture(ps, dst, (unsigned)n, 0, &garbage);
	snprintf(cmd, sizeof(cmd), "tc qdisc del dev %s root", ifname);
	if (system(cmd) != 0) {
		fprintf(stderr, "probe_inflight: %s failed\n", cmd);
		return 2;
	}
	unsigned late = capture(ps, dst, (unsigned)n, 500, &garbage);
	int failed = 0; /* sends that failed (a raw socket's -ENOBUFS), not parked */
	for (int i = 0; i < n; i++)
		failed += p[i].status != -ETIMEDOUT;
	unsigned accounted = before + queued + (unsigned)failed;
	unsigned parked = (unsigned)n > accounted ? (unsigned)n - accounted : 0;

	printf("probes=%d queued=%u parked=%u before=%u late=%u garbage=%u failed=%d run=%d\n", n,
	       queued, parked, before, late, garbage, failed, r);
	for (int i = 0; i < 512; i++)
		free(spray[i]);
	free(p);
	close(ps);
	if (late || garbage)
		return 1;
	return parked ? 0 : 3;
}
