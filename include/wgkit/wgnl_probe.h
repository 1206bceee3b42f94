/* SPDX-License-Identifier: MIT */
/*
 * libwg-netlink: reachability probes to thousands of targets at once on one
 * io_uring: ICMP echo (one shared socket, replies timestamped by the
 * kernel), UDP and TCP connect (a socket each, every operation linked to its
 * own timeout), and HTTP(S) through the libcurl multi interface driven from
 * the same loop (so a mixed list takes as long as its slowest part, not the
 * sum), all behind one result type. libcurl is loaded on first use; where it
 * cannot be, HTTP probes end with -ENOSYS and the others still run.
 * Conventions as in wgnl.h.
 */
#ifndef WGKIT_WGNL_PROBE_H
#define WGKIT_WGNL_PROBE_H

#include "wgkit/wgnl_decls.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wgkit/wgnl.h"

WGNL_DECLS_BEGIN

enum wgnl_probe_kind {
	WGNL_PROBE_ICMP = 1, /* echo request / reply (ICMP or ICMPv6) */
	WGNL_PROBE_UDP,	     /* a datagram; any reply = reachable, port unreachable = refused */
	WGNL_PROBE_TCP,	     /* connect(): established = reachable, RST = refused */
	WGNL_PROBE_HTTP,     /* an HTTP(S) GET of @url through libcurl */
};

/* One probe. Fill the inputs; wgnl_probe_run() fills the outputs. */
struct wgnl_probe {
	enum wgnl_probe_kind kind;  /* in */
	union wgnl_endpoint target; /* in: address; port for UDP and TCP */
	const char *url;	    /* in: HTTP only (borrowed) */
	uint32_t timeout_ms;	    /* in: 0 = the run's default */
	/* out: 0 reachable (an answer came: echo reply, UDP data, TCP
	 * established, any HTTP response); -ECONNREFUSED the host answered
	 * that the port is closed (UDP port unreachable, TCP RST: the host is
	 * up); -ETIMEDOUT no answer in time; -EHOSTUNREACH / -ENETUNREACH;
	 * -EIO an HTTP failure other than these; another -errno. */
	int status;
	uint64_t rtt_ns; /* out: when status is 0 or -ECONNREFUSED */
	long http_code;	 /* out: HTTP only, 0 if no response */
};

struct wgnl_probe_opts {
	/* sizeof(struct wgnl_probe_opts): a sized struct (wgnl.h). */
	size_t size;
	uint32_t timeout_ms;	    /* default per-probe timeout (0: 1000 ms) */
	uint32_t max_inflight;	    /* UDP/TCP/HTTP probes open at once (0: 1024) */
	char ifname[WGNL_IFNAMSIZ]; /* SO_BINDTODEVICE when non-empty (needs CAP_NET_RAW) */
	uint32_t fwmark;	    /* SO_MARK when non-zero (needs CAP_NET_ADMIN) */
};

/* What a run cost, for benchmarks and tests. */
struct wgnl_probe_stats {
	uint64_t sent;	   /* probes started */
	uint64_t answered; /* status 0 or -ECONNREFUSED */
	uint64_t timed_out;
	uint64_t ring_enters;	 /* io_uring_enter calls */
	uint64_t other_syscalls; /* socket/connect/setsockopt outside the ring */
	bool icmp_raw;		 /* ICMP used SOCK_RAW (ping sockets not permitted) */
};

/* Run the @n probes in @p concurrently and fill their outputs. ICMP uses
 * an unprivileged ping socket (net.ipv4.ping_group_range) when allowed,
 * else a raw socket (CAP_NET_RAW). @opts and @stats may be NULL. Returns
 * the number of probes with status 0 or -ECONNREFUSED, or a fatal -errno
 * (-EINVAL: a bad probe, or opts->size too small; -EPERM: no way to send
 * ICMP; -ENOSYS: io_uring unavailable; -ENOMEM). */
int wgnl_probe_run(struct wgnl_probe *p, size_t n, const struct wgnl_probe_opts *opts,
		   struct wgnl_probe_stats *stats);

/* "icmp", "udp", "tcp", "http". */
const char *wgnl_probe_kind_name(enum wgnl_probe_kind k);

WGNL_DECLS_END
#endif
