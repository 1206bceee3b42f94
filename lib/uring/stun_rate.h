/* SPDX-License-Identifier: MIT */
/* Private to libwg-netlink: the STUN server's per-source rate limit, as a
 * pure decision (the clock is an argument), so it is unit tested without
 * sockets or sleeping. Never installed. */
#ifndef WGNL_STUN_RATE_H
#define WGNL_STUN_RATE_H

#include <stdbool.h>
#include <stdint.h>

#include "wgkit/wgnl.h"

/* Two token buckets per request: one per source (an IPv4 address, an IPv6
 * /64: one host, since SLAAC and privacy addresses vary the low 64 bits
 * at will) and one per prefix (IPv4 /24, IPv6 /48) with
 * WGNL_STUN_RATE_PREFIX_FACTOR times the rate and burst, which bounds
 * what a flood spoofing many sources of one network sends into it. A
 * request is answered only when both buckets hold a token. */
struct wgi_rate_slot {
	uint64_t key; /* 0: never used */
	uint64_t last_ns;
	uint64_t tokens_milli; /* tokens * 1000 */
};

struct wgi_rate {
	struct wgi_rate_slot *host, *net;
	unsigned mask; /* slots per table - 1 */
	uint32_t rate, burst;
	uint8_t key[16]; /* the keyed hash's secret */
};

/* Set up tables of @nslots (a power of two) slots each for @rate requests
 * per second and source with a burst of @burst (0: @rate). Returns 0,
 * -EINVAL or -ENOMEM. */
int wgi_rate_init(struct wgi_rate *r, unsigned nslots, uint32_t rate, uint32_t burst);
void wgi_rate_free(struct wgi_rate *r);
/* The keys of @src (IPv4-mapped IPv6 counts as IPv4): per source and per
 * prefix, keyed with r->key so a sender cannot choose its slot. */
void wgi_rate_keys(const struct wgi_rate *r, const union wgnl_endpoint *src, uint64_t *host,
		   uint64_t *net);
/* May a request with these keys be answered at @now_ns? Takes a token
 * from both buckets when it may. */
bool wgi_rate_take(struct wgi_rate *r, uint64_t host, uint64_t net, uint64_t now_ns);

#endif
