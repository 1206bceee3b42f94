/* SPDX-License-Identifier: MIT */
/* The STUN server: one io_uring, a multishot recvmsg per socket drawing from
 * one provided-buffer ring, replies queued as sendmsg SQEs and submitted
 * together with the next wait, so a busy server makes one system call per
 * batch of requests rather than two per request. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sodium.h>

#include "stun_rate.h"
#include "core/opts.h"
#include "uring.h"
#include "wgkit/wgnl_stun.h"

#define MAX_SOCKS 4
#define SLOT_BUF 512
#define RATE_SLOTS 8192 /* per table, power of two */
#define BGID 1

enum {
	UD_RECV = 1,
	UD_SEND = 2,
	UD_STOP = 3
};
#define UD(kind, idx) (((uint64_t)(kind) << 32) | (uint32_t)(idx))

struct srv_sock {
	int fd;
	int addr_idx, port_idx;
	bool armed;
};

struct send_slot {
	struct msghdr mh;
	struct iovec iov;
	union wgnl_endpoint to;
	union {
		struct cmsghdr align;
		uint8_t b[CMSG_SPACE(sizeof(struct in6_pktinfo))];
	} cmsg;
	uint8_t buf[SLOT_BUF];
	int next;
};

struct wgnl_stun_server {
	struct io_uring ring;
	bool ring_ok;
	struct wgi_bufring br;
	struct srv_sock socks[MAX_SOCKS];
	int nsocks;
	int family;
	bool rfc5780;
	union wgnl_endpoint addrs[2];
	uint16_t ports[2];
	struct msghdr rmh; /* template for multishot recvmsg */
	struct send_slot *slots;
	unsigned nslots;
	int free_slot;
	struct wgi_rate rate;
	bool rate_on;
	char software[128];
	size_t software_len;
	int evfd;
	uint64_t evbuf;
	bool stop_armed;
	volatile int stop;
	uint64_t now_ns;
	struct wgnl_stun_server_stats st;
};

static int sock_index(const struct wgnl_stun_server *s, int a, int p)
{
	for (int i = 0; i < s->nsocks; i++)
		if (s->socks[i].addr_idx == a && s->socks[i].port_idx == p)
			return i;
	return -1;
}

static int open_sock(struct wgnl_stun_server *s, int a, int p)
{
	union wgnl_endpoint ep = s->addrs[a];
	int one = 1, bufsz = 4 << 20;
	int fd;

	wgi_ep_set_port(&ep, s->ports[p]);
	fd = socket(s->family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (s->family == AF_INET6) {
		int zero = 0;
		/* Dual stack on the wildcard: IPv4 clients arrive v4-mapped. */
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, wgi_ep_is_any(&ep) ? &zero : &one,
			   sizeof(int));
		if (setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof(one)) < 0)
			goto fail;
	} else if (setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one)) < 0) {
		goto fail;
	}
	/* Bursts of requests must not overflow between two batches. FORCE
	 * works as root; otherwise the sysctl cap applies. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bufsz, sizeof(bufsz)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bufsz, sizeof(bufsz));
	if (bind(fd, &ep.addr, wgi_ep_len(&ep)) < 0)
		goto fail;
	if (s->ports[p] == 0) {
		socklen_t l = sizeof(ep);
		getsockname(fd, &ep.addr, &l);
		s->ports[p] = wgi_ep_port(&ep);
	}
	s->socks[s->nsocks].fd = fd;
	s->socks[s->nsocks].addr_idx = a;
	s->socks[s->nsocks].port_idx = p;
	s->nsocks++;
	return 0;
fail:;
	int e = -errno;
	close(fd);
	return e;
}

int wgnl_stun_server_new(const struct wgnl_stun_server_config *user_cfg,
			 struct wgnl_stun_server **ret)
{
	struct wgnl_stun_server_config c;
	const struct wgnl_stun_server_config *cfg = &c;
	struct wgnl_stun_server *s;
	int r;

	*ret = NULL;
	if (wgi_opts_copy(&c, sizeof(c), user_cfg,
			  WGI_SIZE_0_1(struct wgnl_stun_server_config, n_buffers)) < 0)
		return -EINVAL;
	int fam = cfg->addr.addr.sa_family;
	if (fam != AF_INET && fam != AF_INET6)
		return -EINVAL;
	bool alt = cfg->alt_addr.addr.sa_family != 0;
	if (alt != (cfg->alt_port != 0))
		return -EINVAL;
	if (alt && (cfg->alt_addr.addr.sa_family != fam || wgi_ep_is_any(&cfg->alt_addr) ||
		    wgi_ep_is_any(&cfg->addr) || wgi_ep_port(&cfg->addr) == 0 ||
		    cfg->alt_port == wgi_ep_port(&cfg->addr)))
		return -EINVAL;
	if (sodium_init() < 0)
		return -EIO;

	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->evfd = -1;
	s->family = fam;
	s->rfc5780 = alt;
	s->addrs[0] = cfg->addr;
	s->ports[0] = wgi_ep_port(&cfg->addr);
	if (alt) {
		s->addrs[1] = cfg->alt_addr;
		s->ports[1] = cfg->alt_port;
	}
	if (cfg->software) {
		s->software_len = strnlen(cfg->software, sizeof(s->software) - 1);
		memcpy(s->software, cfg->software, s->software_len);
	}
	/* Limited unless asked not to be: without a limit the server
	 * reflects whatever a spoofed flood asks for at whoever it names. */
	if (cfg->rate_limit != WGNL_STUN_RATE_UNLIMITED) {
		uint32_t rate = cfg->rate_limit ? cfg->rate_limit : WGNL_STUN_RATE_DEFAULT;
		if ((r = wgi_rate_init(&s->rate, RATE_SLOTS, rate, cfg->rate_burst)) < 0)
			goto fail;
		s->rate_on = true;
	}

	unsigned entries = cfg->ring_entries ? cfg->ring_entries : 1024;
	unsigned nbuf = cfg->n_buffers ? cfg->n_buffers : 2048;
	while (nbuf & (nbuf - 1))
		nbuf &= nbuf - 1;
	s->nslots = entries;
	s->slots = calloc(s->nslots, sizeof(*s->slots));
	if (!s->slots) {
		r = -ENOMEM;
		goto fail;
	}
	for (unsigned i = 0; i < s->nslots; i++)
		s->slots[i].next = i + 1 < s->nslots ? (int)i + 1 : -1;
	s->free_slot = 0;

	for (int a = 0; a < (alt ? 2 : 1); a++)
		for (int p = 0; p < (alt ? 2 : 1); p++)
			if ((r = open_sock(s, a, p)) < 0)
				goto fail;

	s->evfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (s->evfd < 0) {
		r = -errno;
		goto fail;
	}
	if ((r = wgi_uring_init(&s->ring, entries)) < 0)
		goto fail;
	s->ring_ok = true;
	if ((r = wgi_bufring_init(&s->br, &s->ring, nbuf, 2048, BGID)) < 0)
		goto fail;

	memset(&s->rmh, 0, sizeof(s->rmh));
	s->rmh.msg_namelen = (sizeof(struct sockaddr_in6) + 7) & ~7U; /* keeps the cmsgs aligned */
	s->rmh.msg_controllen = CMSG_SPACE(sizeof(struct in6_pktinfo));
	*ret = s;
	return 0;
fail:
	wgnl_stun_server_free(s);
	return r;
}

void wgnl_stun_server_free(struct wgnl_stun_server *s)
{
	if (!s)
		return;
	if (s->ring_ok) {
		wgi_bufring_free(&s->br, &s->ring);
		io_uring_queue_exit(&s->ring);
	}
	for (int i = 0; i < s->nsocks; i++)
		close(s->socks[i].fd);
	if (s->evfd >= 0)
		close(s->evfd);
	free(s->slots);
	wgi_rate_free(&s->rate);
	free(s);
}

uint16_t wgnl_stun_server_port(const struct wgnl_stun_server *s)
{
	return s->ports[0];
}

void wgnl_stun_server_get_stats(const struct wgnl_stun_server *s,
				struct wgnl_stun_server_stats *out)
{
	*out = s->st;
}

void wgnl_stun_server_stop(struct wgnl_stun_server *s)
{
	uint64_t one = 1;
	s->stop = 1;
	if (write(s->evfd, &one, sizeof(one)) < 0) {
		/* The flag alone stops the loop at its next wake-up. */
	}
}

static void arm_recv(struct wgnl_stun_server *s, int i)
{
	struct io_uring_sqe *sqe = wgi_get_sqe(&s->ring);
	if (!sqe)
		return;
	io_uring_prep_recvmsg_multishot(sqe, s->socks[i].fd, &s->rmh, 0);
	sqe->flags |= IOSQE_BUFFER_SELECT;
	sqe->buf_group = BGID;
	io_uring_sqe_set_data64(sqe, UD(UD_RECV, i));
	s->socks[i].armed = true;
}

static bool rate_ok(struct wgnl_stun_server *s, const union wgnl_endpoint *src)
{
	uint64_t host, net;

	if (!s->rate_on)
		return true;
	wgi_rate_keys(&s->rate, src, &host, &net);
	return wgi_rate_take(&s->rate, host, net, s->now_ns);
}

/* Queue @len bytes of slot @si to @to from socket @sock with source @src
 * (the pktinfo source; family 0: let the kernel choose). */
static void queue_send(struct wgnl_stun_server *s, int si, int sock, const union wgnl_endpoint *to,
		       const union wgnl_endpoint *src, int ifindex, size_t len)
{
	struct send_slot *sl = &s->slots[si];
	struct io_uring_sqe *sqe;

	sl->to = *to;
	sl->iov.iov_base = sl->buf;
	sl->iov.iov_len = len;
	memset(&sl->mh, 0, sizeof(sl->mh));
	sl->mh.msg_name = &sl->to;
	sl->mh.msg_namelen = wgi_ep_len(to);
	sl->mh.msg_iov = &sl->iov;
	sl->mh.msg_iovlen = 1;
	if (src->addr.sa_family) {
		struct cmsghdr *c;
		memset(&sl->cmsg, 0, sizeof(sl->cmsg));
		sl->mh.msg_control = sl->cmsg.b;
		if (s->family == AF_INET6) {
			struct in6_pktinfo pi = { .ipi6_ifindex = (unsigned)ifindex };
			if (src->addr.sa_family == AF_INET) {
				/* v4 client on a dual-stack socket: v4-mapped source. */
				pi.ipi6_addr.s6_addr[10] = pi.ipi6_addr.s6_addr[11] = 0xff;
				memcpy(&pi.ipi6_addr.s6_addr[12], &src->addr4.sin_addr, 4);
			} else {
				pi.ipi6_addr = src->addr6.sin6_addr;
			}
			sl->mh.msg_controllen = CMSG_SPACE(sizeof(pi));
			c = CMSG_FIRSTHDR(&sl->mh);
			c->cmsg_level = IPPROTO_IPV6;
			c->cmsg_type = IPV6_PKTINFO;
			c->cmsg_len = CMSG_LEN(sizeof(pi));
			memcpy(CMSG_DATA(c), &pi, sizeof(pi));
		} else {
			/* ifindex 0: route by destination, only the source is
			 * pinned (works on anycast and multi-homed nodes). */
			struct in_pktinfo pi = { .ipi_spec_dst = src->addr4.sin_addr };
			sl->mh.msg_controllen = CMSG_SPACE(sizeof(pi));
			c = CMSG_FIRSTHDR(&sl->mh);
			c->cmsg_level = IPPROTO_IP;
			c->cmsg_type = IP_PKTINFO;
			c->cmsg_len = CMSG_LEN(sizeof(pi));
			memcpy(CMSG_DATA(c), &pi, sizeof(pi));
		}
	}
	sqe = wgi_get_sqe(&s->ring);
	if (!sqe) {
		s->st.send_errors++;
		sl->next = s->free_slot;
		s->free_slot = si;
		return;
	}
	io_uring_prep_sendmsg(sqe, s->socks[sock].fd, &sl->mh, 0);
	io_uring_sqe_set_data64(sqe, UD(UD_SEND, si));
}

static int take_slot(struct wgnl_stun_server *s)
{
	int si = s->free_slot;
	if (si >= 0)
		s->free_slot = s->slots[si].next;
	return si;
}

static void handle_request(struct wgnl_stun_server *s, int sock, const uint8_t *p, size_t len,
			   union wgnl_endpoint *src, const union wgnl_endpoint *dst, int ifindex)
{
	struct wgnl_stun_msg m;
	struct wgnl_stun_writer w;
	int r = wgnl_stun_decode(p, len, &m);

	switch (r) {
	case 0:
	case -EOPNOTSUPP:
		break;
	case -EINVAL:
		s->st.drop_not_stun++;
		return;
	case -EMSGSIZE:
		s->st.drop_size++;
		return;
	default:
		s->st.drop_malformed++;
		return;
	}
	/* Only Binding requests get answers: never reply to a response or an
	 * indication (no loops between servers, no reflection). */
	if (m.type != WGNL_STUN_BINDING_REQUEST) {
		s->st.drop_class++;
		return;
	}
	if (!rate_ok(s, src)) {
		s->st.drop_ratelimit++;
		return;
	}
	int si = take_slot(s);
	if (si < 0) {
		s->st.drop_nospace++;
		return;
	}
	uint8_t *out = s->slots[si].buf;
	bool fp = m.flags & WGNL_STUN_HAS_FINGERPRINT;
	int a = s->socks[sock].addr_idx, pt = s->socks[sock].port_idx;
	union wgnl_endpoint from = *dst, mapped = *src, to = *src;
	int out_sock = sock;
	int n;

	wgi_ep_unmap(&mapped);
	if (r == -EOPNOTSUPP || (!s->rfc5780 && (m.change_request || m.response_port))) {
		uint16_t unk[WGNL_STUN_MAX_UNKNOWN + 2];
		size_t nu = 0;
		for (size_t i = 0; i < m.n_unknown; i++)
			unk[nu++] = m.unknown[i];
		if (!s->rfc5780 && m.change_request)
			unk[nu++] = WGNL_STUN_ATTR_CHANGE_REQUEST;
		if (!s->rfc5780 && m.response_port)
			unk[nu++] = WGNL_STUN_ATTR_RESPONSE_PORT;
		wgnl_stun_writer_init(&w, out, SLOT_BUF, WGNL_STUN_BINDING_ERROR, m.tid);
		/* The reason phrase only when the request was big enough to
		 * pay for it. */
		bool reason = len >= 20 + 8 + 20 + 4 + 2 * nu + 3 + (fp ? 8 : 0);
		wgnl_stun_put_error(&w, 420, reason ? "Unknown Attribute" : NULL);
		wgnl_stun_put_unknown(&w, unk, nu);
		n = wgnl_stun_finish(&w, fp);
		s->st.errors_sent++;
	} else if (s->rfc5780 && (m.flags & WGNL_STUN_HAS_RESPONSE_PORT) &&
		   (m.flags & WGNL_STUN_HAS_PADDING)) {
		/* RFC 5780 6.1: RESPONSE-PORT with PADDING gets 400 Bad
		 * Request, at the source port (RESPONSE-PORT ignored: a padded
		 * reply aimed at another port is what it would be abused for),
		 * without PADDING, the reason only when the request pays for it. */
		wgnl_stun_writer_init(&w, out, SLOT_BUF, WGNL_STUN_BINDING_ERROR, m.tid);
		bool reason = len >= 20 + 4 + 4 + 12 + (fp ? 8 : 0);
		wgnl_stun_put_error(&w, 400, reason ? "Bad Request" : NULL);
		n = wgnl_stun_finish(&w, fp);
		s->st.errors_sent++;
	} else {
		if (m.change_request & WGNL_STUN_CHANGE_IP)
			a ^= 1;
		if (m.change_request & WGNL_STUN_CHANGE_PORT)
			pt ^= 1;
		out_sock = sock_index(s, a, pt);
		if (out_sock < 0)
			out_sock = sock;
		if (s->rfc5780 && (m.change_request & WGNL_STUN_CHANGE_IP))
			from = s->addrs[a];
		wgi_ep_set_port(&from, s->ports[s->socks[out_sock].port_idx]);
		/* RFC 5780 7.5 (RESPONSE-PORT): to the request's source
		 * address, at the port asked for (only here: in plain mode it got a 420). */
		if (s->rfc5780 && m.response_port)
			wgi_ep_set_port(&to, m.response_port);

		wgnl_stun_writer_init(&w, out, SLOT_BUF, WGNL_STUN_BINDING_SUCCESS, m.tid);
		wgnl_stun_put_addr(&w, WGNL_STUN_ATTR_XOR_MAPPED_ADDRESS, &mapped);
		if (s->rfc5780) {
			union wgnl_endpoint other = s->addrs[a ^ 1], origin = from;
			wgi_ep_set_port(&other, s->ports[s->socks[out_sock].port_idx ^ 1]);
			wgi_ep_unmap(&origin);
			wgnl_stun_put_addr(&w, WGNL_STUN_ATTR_RESPONSE_ORIGIN, &origin);
			wgnl_stun_put_addr(&w, WGNL_STUN_ATTR_OTHER_ADDRESS, &other);
		}
		/* SOFTWARE is optional: only when the reply stays no larger
		 * than the request, so the server never amplifies. */
		if (s->software_len &&
		    w.len + 4 + ((s->software_len + 3) & ~3UL) + (fp ? 8 : 0) <= len)
			wgnl_stun_put(&w, WGNL_STUN_ATTR_SOFTWARE, s->software, s->software_len);
		n = wgnl_stun_finish(&w, fp);
		s->st.answered++;
	}
	if (n < 0) {
		s->st.send_errors++;
		s->slots[si].next = s->free_slot;
		s->free_slot = si;
		return;
	}
	queue_send(s, si, out_sock, &to, &from, ifindex, (size_t)n);
}

static void handle_recv(struct wgnl_stun_server *s, int sock, struct io_uring_cqe *cqe)
{
	if (!(cqe->flags & IORING_CQE_F_MORE))
		s->socks[sock].armed = false;
	if (!(cqe->flags & IORING_CQE_F_BUFFER))
		return; /* -ENOBUFS or a socket error: re-armed by the loop */
	uint16_t bid = (uint16_t)(cqe->flags >> IORING_CQE_BUFFER_SHIFT);
	uint8_t *buf = wgi_bufring_take(&s->br, bid, cqe->res);

	if (cqe->res > 0) {
		struct io_uring_recvmsg_out *o = io_uring_recvmsg_validate(buf, cqe->res, &s->rmh);
		s->st.rx++;
		if (!o) {
			s->st.drop_size++;
		} else if (o->flags & MSG_TRUNC) {
			s->st.drop_size++;
		} else {
			union wgnl_endpoint src, dst;
			int ifindex = 0;
			memset(&src, 0, sizeof(src));
			memset(&dst, 0, sizeof(dst));
			memcpy(&src, io_uring_recvmsg_name(o),
			       o->namelen < sizeof(src) ? o->namelen : sizeof(src));
			for (struct cmsghdr *c = io_uring_recvmsg_cmsg_firsthdr(o, &s->rmh); c;
			     c = io_uring_recvmsg_cmsg_nexthdr(o, &s->rmh, c)) {
				if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
					struct in_pktinfo pi;
					memcpy(&pi, CMSG_DATA(c), sizeof(pi));
					dst.addr4.sin_family = AF_INET;
					dst.addr4.sin_addr = pi.ipi_addr;
					ifindex = pi.ipi_ifindex;
				} else if (c->cmsg_level == IPPROTO_IPV6 &&
					   c->cmsg_type == IPV6_PKTINFO) {
					struct in6_pktinfo pi;
					memcpy(&pi, CMSG_DATA(c), sizeof(pi));
					dst.addr6.sin6_family = AF_INET6;
					dst.addr6.sin6_addr = pi.ipi6_addr;
					ifindex = (int)pi.ipi6_ifindex;
					wgi_ep_unmap(&dst);
				}
			}
			handle_request(s, sock, io_uring_recvmsg_payload(o, &s->rmh),
				       io_uring_recvmsg_payload_length(o, cqe->res, &s->rmh), &src,
				       &dst, ifindex);
		}
	}
	wgi_bufring_recycle(&s->br, bid);
}

int wgnl_stun_server_run(struct wgnl_stun_server *s, int timeout_ms)
{
	uint64_t deadline = timeout_ms >= 0 ? wgi_now_ns() + (uint64_t)timeout_ms * 1000000 : 0;
	struct io_uring_sqe *sqe;
	int r = 0;

	for (int i = 0; i < s->nsocks; i++)
		if (!s->socks[i].armed)
			arm_recv(s, i);
	if (!s->stop_armed) {
		sqe = wgi_get_sqe(&s->ring);
		if (!sqe)
			return -EBUSY;
		io_uring_prep_read(sqe, s->evfd, &s->evbuf, sizeof(s->evbuf), 0);
		io_uring_sqe_set_data64(sqe, UD(UD_STOP, 0));
		s->stop_armed = true;
	}

	while (!s->stop) {
		struct io_uring_cqe *cqe;
		struct __kernel_timespec ts, *tsp = NULL;
		if (deadline) {
			uint64_t now = wgi_now_ns();
			if (now >= deadline)
				break;
			uint64_t left = deadline - now;
			ts.tv_sec = (long long)(left / 1000000000);
			ts.tv_nsec = (long long)(left % 1000000000);
			tsp = &ts;
		}
		s->st.submits++;
		r = io_uring_submit_and_wait_timeout(&s->ring, &cqe, 1, tsp, NULL);
		if (r < 0 && r != -ETIME && r != -EINTR && r != -EBUSY && r != -EAGAIN)
			break;
		r = 0;
		s->now_ns = wgi_now_ns();
		unsigned head, seen = 0;
		io_uring_for_each_cqe (&s->ring, head, cqe) {
			uint64_t ud = io_uring_cqe_get_data64(cqe);
			unsigned kind = (unsigned)(ud >> 32), idx = (uint32_t)ud;
			seen++;
			if (kind == UD_RECV) {
				handle_recv(s, (int)idx, cqe);
			} else if (kind == UD_SEND) {
				if (cqe->res < 0)
					s->st.send_errors++;
				s->slots[idx].next = s->free_slot;
				s->free_slot = (int)idx;
			} else if (kind == UD_STOP) {
				s->stop_armed = false;
				s->stop = 1;
			}
		}
		io_uring_cq_advance(&s->ring, seen);
		wgi_bufring_publish(&s->br);
		for (int i = 0; i < s->nsocks; i++)
			if (!s->socks[i].armed)
				arm_recv(s, i);
	}
	s->stop = 0;
	io_uring_submit(&s->ring);
	return r;
}
