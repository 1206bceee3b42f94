/* SPDX-License-Identifier: MIT */
/* Private to libwg-netlink: the io_uring plumbing shared by the STUN server,
 * the STUN client and the probe engine. Never installed. */
#ifndef WGNL_URING_H
#define WGNL_URING_H

#include <stdbool.h>
#include <stdint.h>
#include <liburing.h>

#include "wgkit/wgnl.h"

/* The kernel fills provided buffers behind valgrind's back: tell memcheck
 * which bytes it wrote (a no-op outside valgrind). */
#if defined(__has_include) && __has_include(<valgrind/memcheck.h>)
#include <valgrind/memcheck.h>
#define WGI_KERNEL_WROTE(p, n) VALGRIND_MAKE_MEM_DEFINED((p), (n))
#else
#define WGI_KERNEL_WROTE(p, n) ((void)0)
#endif

/* A ring of provided buffers (one buffer group) that multishot receives
 * pick from; buffers go back with wgi_bufring_recycle() once consumed. */
struct wgi_bufring {
	struct io_uring_buf_ring *br;
	uint8_t *mem;
	unsigned n, size, mask;
	uint16_t bgid;
	unsigned pending; /* recycled but not yet published */
};

/* Register @n (a power of two) buffers of @size bytes as group @bgid.
 * Returns 0 or -errno. */
int wgi_bufring_init(struct wgi_bufring *b, struct io_uring *ring, unsigned n, unsigned size,
		     uint16_t bgid);
void wgi_bufring_free(struct wgi_bufring *b, struct io_uring *ring);
/* Give buffer @bid back (published to the kernel by wgi_bufring_publish()). */
void wgi_bufring_recycle(struct wgi_bufring *b, uint16_t bid);
void wgi_bufring_publish(struct wgi_bufring *b);
static inline uint8_t *wgi_bufring_buf(const struct wgi_bufring *b, uint16_t bid)
{
	return b->mem + (size_t)bid * b->size;
}
/* The buffer a completion of @res bytes landed in. */
static inline uint8_t *wgi_bufring_take(const struct wgi_bufring *b, uint16_t bid, int res)
{
	uint8_t *buf = wgi_bufring_buf(b, bid);

	if (res > 0)
		WGI_KERNEL_WROTE(buf, (size_t)res);
	return buf;
}

/* Set up @ring with @entries SQEs (CQ twice that), single issuer and
 * deferred task running when the kernel has them. Returns 0 or -errno
 * (-ENOSYS / -EPERM when io_uring is unavailable). */
int wgi_uring_init(struct io_uring *ring, unsigned entries);

/* An SQE, submitting what is queued first when the SQ is full. NULL only
 * if submitting failed. */
struct io_uring_sqe *wgi_get_sqe(struct io_uring *ring);

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t wgi_now_ns(void);

/* Open a UDP (or other @type/@proto) socket of @family, apply SO_BINDTODEVICE
 * @ifname (if non-empty) and SO_MARK @fwmark (if non-zero), bind @local (if
 * non-NULL and its family is set). Returns the fd or -errno. */
int wgi_socket(int family, int type, int proto, const union wgnl_endpoint *local,
	       const char *ifname, uint32_t fwmark);

/* Length of the sockaddr for @ep's family. */
socklen_t wgi_ep_len(const union wgnl_endpoint *ep);
/* Same family, address and port. */
bool wgi_ep_equal(const union wgnl_endpoint *a, const union wgnl_endpoint *b);
/* Same family and address (ports ignored). */
bool wgi_ep_same_ip(const union wgnl_endpoint *a, const union wgnl_endpoint *b);
/* Turn an IPv4-mapped IPv6 address into plain IPv4 in place. */
void wgi_ep_unmap(union wgnl_endpoint *ep);
uint16_t wgi_ep_port(const union wgnl_endpoint *ep);
void wgi_ep_set_port(union wgnl_endpoint *ep, uint16_t port);
bool wgi_ep_is_any(const union wgnl_endpoint *ep);

#endif
