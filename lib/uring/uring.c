/* SPDX-License-Identifier: MIT */
/* io_uring plumbing shared by the STUN server and client and the probes. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include "uring.h"
#include "wgkit/wgnl_stun.h"

int wgnl_uring_available(void)
{
	struct io_uring ring;
	int r = io_uring_queue_init(2, &ring, 0);
	if (r < 0)
		return r == -ENOSYS ? -ENOSYS : -EPERM;
	io_uring_queue_exit(&ring);
	return 0;
}

int wgi_uring_init(struct io_uring *ring, unsigned entries)
{
	struct io_uring_params p;
	int r;

	memset(&p, 0, sizeof(p));
	p.flags = IORING_SETUP_CQSIZE | IORING_SETUP_SUBMIT_ALL | IORING_SETUP_COOP_TASKRUN |
		  IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
	p.cq_entries = entries * 2;
	r = io_uring_queue_init_params(entries, ring, &p);
	if (r == -EINVAL) {
		/* Older kernels (before 6.1) lack some of the flags. */
		memset(&p, 0, sizeof(p));
		p.flags = IORING_SETUP_CQSIZE;
		p.cq_entries = entries * 2;
		r = io_uring_queue_init_params(entries, ring, &p);
	}
	if (r == -ENOSYS || r == -EPERM || r == -EACCES)
		return r == -ENOSYS ? -ENOSYS : -EPERM;
	return r;
}

int wgi_bufring_init(struct wgi_bufring *b, struct io_uring *ring, unsigned n, unsigned size,
		     uint16_t bgid)
{
	struct io_uring_buf_reg reg;
	size_t ring_sz = n * sizeof(struct io_uring_buf);
	int r;

	memset(b, 0, sizeof(*b));
	if (n == 0 || (n & (n - 1)) || n > 32768)
		return -EINVAL;
	void *mem = mmap(NULL, ring_sz, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
	if (mem == MAP_FAILED)
		return -ENOMEM;
	b->br = mem;
	b->mem = malloc((size_t)n * size);
	if (!b->mem) {
		munmap(mem, ring_sz);
		b->br = NULL;
		return -ENOMEM;
	}
	memset(&reg, 0, sizeof(reg));
	reg.ring_addr = (uintptr_t)mem;
	reg.ring_entries = n;
	reg.bgid = bgid;
	r = io_uring_register_buf_ring(ring, &reg, 0);
	if (r < 0) {
		free(b->mem);
		munmap(mem, ring_sz);
		memset(b, 0, sizeof(*b));
		return r;
	}
	b->n = n;
	b->size = size;
	b->mask = io_uring_buf_ring_mask(n);
	b->bgid = bgid;
	io_uring_buf_ring_init(b->br);
	for (unsigned i = 0; i < n; i++)
		io_uring_buf_ring_add(b->br, wgi_bufring_buf(b, (uint16_t)i), size, (uint16_t)i,
				      b->mask, (int)i);
	io_uring_buf_ring_advance(b->br, (int)n);
	return 0;
}

void wgi_bufring_recycle(struct wgi_bufring *b, uint16_t bid)
{
	io_uring_buf_ring_add(b->br, wgi_bufring_buf(b, bid), b->size, bid, b->mask,
			      (int)b->pending);
	b->pending++;
}

void wgi_bufring_publish(struct wgi_bufring *b)
{
	if (b->pending) {
		io_uring_buf_ring_advance(b->br, (int)b->pending);
		b->pending = 0;
	}
}

void wgi_bufring_free(struct wgi_bufring *b, struct io_uring *ring)
{
	if (!b->br)
		return;
	if (ring)
		io_uring_unregister_buf_ring(ring, b->bgid);
	munmap(b->br, b->n * sizeof(struct io_uring_buf));
	free(b->mem);
	memset(b, 0, sizeof(*b));
}

struct io_uring_sqe *wgi_get_sqe(struct io_uring *ring)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
	if (!sqe) {
		if (io_uring_submit(ring) < 0)
			return NULL;
		sqe = io_uring_get_sqe(ring);
	}
	return sqe;
}

uint64_t wgi_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

socklen_t wgi_ep_len(const union wgnl_endpoint *ep)
{
	return ep->addr.sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) :
						sizeof(struct sockaddr_in);
}

int wgi_socket(int family, int type, int proto, const union wgnl_endpoint *local,
	       const char *ifname, uint32_t fwmark)
{
	int fd = socket(family, type | SOCK_CLOEXEC, proto);
	if (fd < 0)
		return -errno;
	if (ifname && ifname[0] &&
	    setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, ifname, (socklen_t)strlen(ifname)) < 0)
		goto fail;
	if (fwmark && setsockopt(fd, SOL_SOCKET, SO_MARK, &fwmark, sizeof(fwmark)) < 0)
		goto fail;
	if (local && local->addr.sa_family && bind(fd, &local->addr, wgi_ep_len(local)) < 0)
		goto fail;
	return fd;
fail:;
	int e = -errno;
	close(fd);
	return e;
}

bool wgi_ep_same_ip(const union wgnl_endpoint *a, const union wgnl_endpoint *b)
{
	if (a->addr.sa_family != b->addr.sa_family)
		return false;
	if (a->addr.sa_family == AF_INET)
		return a->addr4.sin_addr.s_addr == b->addr4.sin_addr.s_addr;
	if (a->addr.sa_family == AF_INET6)
		return !memcmp(&a->addr6.sin6_addr, &b->addr6.sin6_addr, 16);
	return false;
}

bool wgi_ep_equal(const union wgnl_endpoint *a, const union wgnl_endpoint *b)
{
	return wgi_ep_same_ip(a, b) && wgi_ep_port(a) == wgi_ep_port(b);
}

void wgi_ep_unmap(union wgnl_endpoint *ep)
{
	if (ep->addr.sa_family != AF_INET6 || !IN6_IS_ADDR_V4MAPPED(&ep->addr6.sin6_addr))
		return;
	struct sockaddr_in s4;
	memset(&s4, 0, sizeof(s4));
	s4.sin_family = AF_INET;
	s4.sin_port = ep->addr6.sin6_port;
	memcpy(&s4.sin_addr, &ep->addr6.sin6_addr.s6_addr[12], 4);
	memset(ep, 0, sizeof(*ep));
	ep->addr4 = s4;
}

uint16_t wgi_ep_port(const union wgnl_endpoint *ep)
{
	return ntohs(ep->addr.sa_family == AF_INET6 ? ep->addr6.sin6_port : ep->addr4.sin_port);
}

void wgi_ep_set_port(union wgnl_endpoint *ep, uint16_t port)
{
	if (ep->addr.sa_family == AF_INET6)
		ep->addr6.sin6_port = htons(port);
	else
		ep->addr4.sin_port = htons(port);
}

bool wgi_ep_is_any(const union wgnl_endpoint *ep)
{
	if (ep->addr.sa_family == AF_INET)
		return ep->addr4.sin_addr.s_addr == htonl(INADDR_ANY);
	if (ep->addr.sa_family == AF_INET6)
		return IN6_IS_ADDR_UNSPECIFIED(&ep->addr6.sin6_addr);
	return true;
}
