// SPDX-License-Identifier: MIT
/* Are a STUN query's send buffers still read by the kernel after
 * wgnl_stun_client_query() returned? Run in a namespace where IFNAME
 * holds packets (a slow tbf qdisc), so the client's socket buffer fills and
 * the later sends wait, parked by io_uring until the buffer drains:
 *   stun_inflight IFNAME DST BASEPORT N
 * One query of N requests to DST:BASEPORT..BASEPORT+N-1 (one try, 50 ms),
 * then the freed heap is overwritten with 0xbe (ASan's free fill does the
 * same with ASAN_OPTIONS=max_free_fill_size=...:free_fill_byte=190), then a
 * second query keeps the ring turning for 1.5 s while the qdisc drains.
 * Every packet leaving IFNAME for those ports is captured; one that is not
 * a Binding request was read from freed memory. Prints
 *   "sent=N garbage=N first_status=S" and exits 0 when garbage is 0. */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "wgkit/wgnl_stun.h"

int main(int argc, char **argv)
{
	if (argc != 5) {
		fprintf(stderr, "usage: stun_inflight IFNAME DST BASEPORT N\n");
		return 2;
	}
	unsigned ifindex = if_nametoindex(argv[1]);
	struct in_addr dst;
	int base = atoi(argv[3]), n = atoi(argv[4]);
	if (!ifindex || inet_pton(AF_INET, argv[2], &dst) != 1 || base <= 0 || n <= 0 ||
	    base + n > 65535) {
		fprintf(stderr, "stun_inflight: bad arguments\n");
		return 2;
	}
	/* ETH_P_ALL: only those see outgoing packets. */
	int ps = socket(AF_PACKET, SOCK_DGRAM, htons(ETH_P_ALL));
	struct sockaddr_ll sll = { .sll_family = AF_PACKET,
				   .sll_protocol = htons(ETH_P_ALL),
				   .sll_ifindex = (int)ifindex };
	if (ps < 0 || bind(ps, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		perror("stun_inflight: packet socket");
		return 2;
	}
	int big = 16 << 20;
	setsockopt(ps, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big));

	struct wgnl_stun_client_opts o = {
		.size = sizeof(o), .rto_ms = 50, .max_tries = 1, .timeout_ms = 1000
	};
	struct wgnl_stun_client *c;
	int r = wgnl_stun_client_new(&o, AF_INET, &c);
	if (r < 0) {
		fprintf(stderr, "stun_inflight: client: %s\n", strerror(-r));
		return r == -ENOSYS || r == -EPERM ? 77 : 2;
	}
	struct wgnl_stun_query *q = calloc((size_t)n, sizeof(*q));
	if (!q)
		return 2;
	for (int i = 0; i < n; i++) {
		q[i].server.addr4.sin_family = AF_INET;
		q[i].server.addr4.sin_addr = dst;
		q[i].server.addr4.sin_port = htons((uint16_t)(base + i));
	}
	r = wgnl_stun_client_query(c, q, (size_t)n);
	int first_status = q[n - 1].status;
	/* Whatever the query freed is reused and overwritten now. */
	void *spray[512];
	for (int i = 0; i < 512; i++) {
		spray[i] = malloc(4096);
		if (spray[i])
			memset(spray[i], 0xbe, 4096);
	}
	/* Keep the ring turning (the parked sends complete from its task
	 * work) while the qdisc drains. */
	struct wgnl_stun_query one;
	memset(&one, 0, sizeof(one));
	one.server = q[0].server;
	one.server.addr4.sin_port = htons((uint16_t)(base + n));
	for (int i = 0; i < 3; i++) {
		wgnl_stun_client_query(c, &one, 1);
		usleep(500000);
	}

	unsigned sent = 0, garbage = 0;
	uint8_t pkt[2048];
	for (;;) {
		struct pollfd pfd = { .fd = ps, .events = POLLIN };
		if (poll(&pfd, 1, 1000) <= 0)
			break;
		struct sockaddr_ll from;
		socklen_t fl = sizeof(from);
		ssize_t len = recvfrom(ps, pkt, sizeof(pkt), 0, (struct sockaddr *)&from, &fl);
		if (len < (ssize_t)(sizeof(struct iphdr) + sizeof(struct udphdr)) ||
		    from.sll_protocol != htons(ETH_P_IP) || from.sll_pkttype != PACKET_OUTGOING)
			continue;
		struct iphdr ih;
		struct udphdr uh;
		memcpy(&ih, pkt, sizeof(ih));
		if (ih.protocol != IPPROTO_UDP || ih.daddr != dst.s_addr)
			continue;
		size_t hl = (size_t)ih.ihl * 4;
		memcpy(&uh, pkt + hl, sizeof(uh));
		int dport = ntohs(uh.dest);
		if (dport < base || dport >= base + n)
			continue;
		sent++;
		const uint8_t *p = pkt + hl + sizeof(uh);
		size_t plen = (size_t)len - hl - sizeof(uh);
		struct wgnl_stun_msg m;
		if (wgnl_stun_decode(p, plen, &m) < 0 || m.type != WGNL_STUN_BINDING_REQUEST)
			garbage++;
	}
	printf("sent=%u garbage=%u first_status=%d query=%d\n", sent, garbage, first_status, r);
	for (int i = 0; i < 512; i++)
		free(spray[i]);
	free(q);
	wgnl_stun_client_free(c);
	close(ps);
	return garbage ? 1 : 0;
}
