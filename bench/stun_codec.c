/* SPDX-License-Identifier: MIT */
/* STUN codec cost: decode a Binding request and build the RFC 5780 response
 * (XOR-MAPPED-ADDRESS, RESPONSE-ORIGIN, OTHER-ADDRESS, FINGERPRINT), then
 * decode the response, in a loop. Prints "ns_per_msg=X" (one parse+build of
 * a request/response pair, plus the response parse, per message).
 * No allocation happens in the loop (the codec has none). */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "wgkit/wgnl_stun.h"

int main(void)
{
	uint8_t req[64], resp[128], tid[12] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 };
	union wgnl_endpoint a, b;
	memset(&a, 0, sizeof(a));
	a.addr4.sin_family = AF_INET;
	a.addr4.sin_port = htons(40000);
	inet_pton(AF_INET, "198.51.100.7", &a.addr4.sin_addr);
	b = a;
	int rl = wgnl_stun_build_request(req, sizeof(req), tid, 0, 0, 0, true);
	const long N = 5000000;
	volatile unsigned sink = 0;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (long i = 0; i < N; i++) {
		struct wgnl_stun_msg m;
		req[19] = (uint8_t)i;
		/* the fingerprint no longer matches after the tid change: rebuild */
		rl = wgnl_stun_build_request(req, sizeof(req), req + 8, 0, 0, 0, true);
		if (wgnl_stun_decode(req, (size_t)rl, &m))
			return 1;
		struct wgnl_stun_writer w;
		wgnl_stun_writer_init(&w, resp, sizeof(resp), WGNL_STUN_BINDING_SUCCESS, m.tid);
		wgnl_stun_put_addr(&w, WGNL_STUN_ATTR_XOR_MAPPED_ADDRESS, &a);
		wgnl_stun_put_addr(&w, WGNL_STUN_ATTR_RESPONSE_ORIGIN, &b);
		wgnl_stun_put_addr(&w, WGNL_STUN_ATTR_OTHER_ADDRESS, &b);
		int n = wgnl_stun_finish(&w, true);
		if (wgnl_stun_decode(resp, (size_t)n, &m))
			return 1;
		sink += m.xor_mapped.addr4.sin_port;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double ns = ((double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec)) /
		    (double)N;
	printf("ns_per_msg=%.1f\n", ns);
	return 0;
}
