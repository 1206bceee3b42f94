/* SPDX-License-Identifier: MIT */
/* STUN load generator for bench/stun.sh: keeps a window of Binding requests
 * in flight against one server for a fixed time with sendmmsg/recvmmsg and
 * checks every reply (decodes strictly, matching transaction id, correct
 * XOR-MAPPED-ADDRESS). Prints "answered=N rate=R malformed=M sent=S".
 * Usage: stun_load ADDR PORT SECONDS [WINDOW] */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>

#include "wgkit/wgnl_stun.h"

#define BATCH 64

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	if (argc < 4)
		return 2;
	union wgnl_endpoint srv, me;
	memset(&srv, 0, sizeof(srv));
	srv.addr4.sin_family = AF_INET;
	srv.addr4.sin_port = htons((uint16_t)atoi(argv[2]));
	inet_pton(AF_INET, argv[1], &srv.addr4.sin_addr);
	double secs = atof(argv[3]);
	long window = argc > 4 ? atol(argv[4]) : 512;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	int sz = 8 << 20;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz));
	setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof(sz));
	if (connect(fd, &srv.addr, sizeof(srv.addr4)) < 0)
		return perror("connect"), 1;
	socklen_t l = sizeof(me);
	getsockname(fd, &me.addr, &l);

	static uint8_t sbuf[BATCH][64], rbuf[BATCH][256];
	struct mmsghdr sm[BATCH], rm[BATCH];
	struct iovec siov[BATCH], riov[BATCH];
	uint8_t tid[12];
	uint64_t seq = 0, answered = 0, malformed = 0, sent = 0;
	long inflight = 0;
	for (int i = 0; i < 12; i++)
		tid[i] = (uint8_t)(rand() & 0xff);
	memset(sm, 0, sizeof(sm));
	memset(rm, 0, sizeof(rm));
	for (int i = 0; i < BATCH; i++) {
		riov[i].iov_base = rbuf[i];
		riov[i].iov_len = sizeof(rbuf[i]);
		rm[i].msg_hdr.msg_iov = &riov[i];
		rm[i].msg_hdr.msg_iovlen = 1;
	}
	double t0 = now(), end = t0 + secs, last_rx = t0;
	while (now() < end) {
		int k = 0;
		while (inflight < window && k < BATCH) {
			memcpy(tid + 4, &seq, 8);
			seq++;
			int n = wgnl_stun_build_request(sbuf[k], sizeof(sbuf[k]), tid, 0, 0, 0,
							false);
			siov[k].iov_base = sbuf[k];
			siov[k].iov_len = (size_t)n;
			sm[k].msg_hdr.msg_iov = &siov[k];
			sm[k].msg_hdr.msg_iovlen = 1;
			k++;
			inflight++;
		}
		if (k) {
			int s = sendmmsg(fd, sm, (unsigned)k, 0);
			if (s > 0)
				sent += (uint64_t)s;
			if (s < k)
				inflight -= k - (s > 0 ? s : 0);
		}
		struct pollfd pfd = { fd, POLLIN, 0 };
		poll(&pfd, 1, inflight >= window ? 10 : 0);
		for (;;) {
			int r = recvmmsg(fd, rm, BATCH, MSG_DONTWAIT, NULL);
			if (r <= 0)
				break;
			last_rx = now();
			for (int i = 0; i < r; i++) {
				struct wgnl_stun_msg m;
				inflight--;
				if (wgnl_stun_decode(rbuf[i], rm[i].msg_len, &m) != 0 ||
				    m.type != WGNL_STUN_BINDING_SUCCESS || memcmp(m.tid, tid, 4) ||
				    !(m.flags & WGNL_STUN_HAS_XOR_MAPPED) ||
				    m.xor_mapped.addr4.sin_port != me.addr4.sin_port ||
				    m.xor_mapped.addr4.sin_addr.s_addr != me.addr4.sin_addr.s_addr)
					malformed++;
				else
					answered++;
			}
		}
		/* Lost requests (server overload) would stall the window. */
		if (inflight >= window && now() - last_rx > 0.05) {
			inflight = 0;
			last_rx = now();
		}
	}
	double el = now() - t0;
	printf("answered=%llu rate=%.0f malformed=%llu sent=%llu\n", (unsigned long long)answered,
	       (double)answered / el, (unsigned long long)malformed, (unsigned long long)sent);
	return 0;
}
