/* SPDX-License-Identifier: MIT */
/* The probe engine. ICMP: one socket per family, echo requests queued as
 * sendmsg SQEs in chunks (no completion on success), replies taken by one
 * multishot recvmsg with kernel receive timestamps, per-probe deadlines
 * checked on wake-up. UDP and TCP: a socket per probe, the operation linked
 * to its own IORING_OP_LINK_TIMEOUT, closed through the ring. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <sys/socket.h>
#include <sodium.h>

#include "probe.h"
#include "uring.h"

#define RING_ENTRIES 4096
#define ICMP_CHUNK 1024
#define ICMP_MAGIC 0x77676b70U /* "wgkp" */
#define BGID 1
#define NBUFS 4096
#define BUFSZ 256

enum { UD_ICMP_RECV = 1, UD_ICMP_SEND, UD_CONN, UD_TIMEOUT, UD_UDP_SEND, UD_UDP_RECV, UD_CLOSE };
#define UD(kind, idx) (((uint64_t)(kind) << 32) | (uint32_t)(idx))

struct icmp_sock {
	int fd;
	bool raw, armed;
	int family;
	struct msghdr rmh;
	uint16_t ident; /* raw sockets: our echo identifier */
};

/* Per-probe transient state. */
struct pst {
	struct msghdr mh;
	struct iovec iov;
	uint8_t pkt[16];
	struct __kernel_timespec ts;
	uint64_t sent_ns;      /* CLOCK_MONOTONIC */
	uint64_t sent_real_ns; /* CLOCK_REALTIME, to compare with SO_TIMESTAMPNS */
	uint64_t deadline;
	int fd;
	uint8_t cqes_left;
	bool started, done;
};

struct eng {
	struct io_uring ring;
	struct wgi_bufring br;
	struct icmp_sock ic[2]; /* [0] IPv4, [1] IPv6 */
	struct wgnl_probe *p;
	struct pst *s;
	size_t n, pending;
	const struct wgnl_probe_opts *o;
	struct wgnl_probe_stats *st;
	uint32_t inflight, max_inflight;
};

static uint64_t real_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static uint16_t csum(const void *data, size_t len)
{
	const uint8_t *b = data;
	uint32_t sum = 0;
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(b[i] << 8 | b[i + 1]);
	if (len & 1)
		sum += (uint32_t)b[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

const char *wgnl_probe_kind_name(enum wgnl_probe_kind k)
{
	switch (k) {
	case WGNL_PROBE_ICMP:
		return "icmp";
	case WGNL_PROBE_UDP:
		return "udp";
	case WGNL_PROBE_TCP:
		return "tcp";
	case WGNL_PROBE_HTTP:
		return "http";
	}
	return "?";
}

static void finish(struct eng *e, size_t i, int status, uint64_t rtt)
{
	if (e->s[i].done)
		return;
	e->s[i].done = true;
	e->p[i].status = status;
	e->p[i].rtt_ns = rtt;
	e->pending--;
	if (status == 0 || status == -ECONNREFUSED)
		e->st->answered++;
	else if (status == -ETIMEDOUT)
		e->st->timed_out++;
}

static int icmp_open(struct eng *e, int fam)
{
	struct icmp_sock *s = &e->ic[fam == AF_INET6];
	int proto = fam == AF_INET6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP;
	int one = 1, bufsz = 32 << 20;

	if (s->fd >= 0)
		return 0;
	s->family = fam;
	int fd = wgi_socket(fam, SOCK_DGRAM, proto, NULL, e->o->ifname, e->o->fwmark);
	if (fd == -EACCES || fd == -EPERM || fd == -EPROTONOSUPPORT) {
		e->st->other_syscalls++;
		fd = wgi_socket(fam, SOCK_RAW, proto, NULL, e->o->ifname, e->o->fwmark);
		s->raw = true;
		e->st->icmp_raw = true;
	}
	e->st->other_syscalls++;
	if (fd < 0)
		return fd == -EACCES ? -EPERM : fd;
	s->fd = fd;
	if (s->raw) {
		randombytes_buf(&s->ident, sizeof(s->ident));
		if (fam == AF_INET) {
			/* ICMP_FILTER (SOL_RAW): a bit set drops that type. On
			 * loopback this keeps our own echo requests out. */
			uint32_t mask = ~(1U << ICMP_ECHOREPLY);
			setsockopt(fd, SOL_RAW, 1 /* ICMP_FILTER */, &mask, sizeof(mask));
		} else {
			/* Only echo replies reach this socket. */
			struct icmp6_filter f;
			ICMP6_FILTER_SETBLOCKALL(&f);
			ICMP6_FILTER_SETPASS(ICMP6_ECHO_REPLY, &f);
			setsockopt(fd, IPPROTO_ICMPV6, ICMP6_FILTER, &f, sizeof(f));
		}
		e->st->other_syscalls++;
	}
	setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one));
	/* Thousands of replies can land between two reaps. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bufsz, sizeof(bufsz)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bufsz, sizeof(bufsz));
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &bufsz, sizeof(bufsz)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bufsz, sizeof(bufsz));
	e->st->other_syscalls += 4;
	s->rmh.msg_namelen = (sizeof(struct sockaddr_in6) + 7) & ~7U; /* keeps the cmsgs aligned */
	s->rmh.msg_controllen = CMSG_SPACE(sizeof(struct timespec));
	return 0;
}

static void icmp_arm(struct eng *e, struct icmp_sock *s, int which)
{
	struct io_uring_sqe *sqe = wgi_get_sqe(&e->ring);
	if (!sqe)
		return;
	io_uring_prep_recvmsg_multishot(sqe, s->fd, &s->rmh, 0);
	sqe->flags |= IOSQE_BUFFER_SELECT;
	sqe->buf_group = BGID;
	io_uring_sqe_set_data64(sqe, UD(UD_ICMP_RECV, which));
	s->armed = true;
}

static int icmp_send(struct eng *e, size_t i)
{
	struct wgnl_probe *p = &e->p[i];
	struct pst *s = &e->s[i];
	bool v6 = p->target.addr.sa_family == AF_INET6;
	struct icmp_sock *is = &e->ic[v6];
	uint8_t *k = s->pkt;
	uint32_t idx = (uint32_t)i, magic = ICMP_MAGIC;

	k[0] = v6 ? ICMP6_ECHO_REQUEST : ICMP_ECHO;
	k[1] = 0;
	k[2] = k[3] = 0;
	k[4] = (uint8_t)(is->ident >> 8);
	k[5] = (uint8_t)is->ident;
	k[6] = (uint8_t)(idx >> 8);
	k[7] = (uint8_t)idx;
	memcpy(k + 8, &idx, 4);
	memcpy(k + 12, &magic, 4);
	if (!v6) {
		uint16_t c = csum(k, 16);
		k[2] = (uint8_t)(c >> 8);
		k[3] = (uint8_t)c;
	}
	/* ICMPv6 checksums are filled in by the kernel (pseudo-header). */
	s->iov.iov_base = k;
	s->iov.iov_len = 16;
	memset(&s->mh, 0, sizeof(s->mh));
	s->mh.msg_name = &p->target;
	s->mh.msg_namelen = wgi_ep_len(&p->target);
	s->mh.msg_iov = &s->iov;
	s->mh.msg_iovlen = 1;
	struct io_uring_sqe *sqe = wgi_get_sqe(&e->ring);
	if (!sqe)
		return -EBUSY;
	io_uring_prep_sendmsg(sqe, is->fd, &s->mh, 0);
	sqe->flags |= IOSQE_CQE_SKIP_SUCCESS;
	io_uring_sqe_set_data64(sqe, UD(UD_ICMP_SEND, i));
	s->sent_ns = wgi_now_ns();
	s->sent_real_ns = real_ns();
	s->deadline = s->sent_ns + (uint64_t)(p->timeout_ms ? p->timeout_ms : e->o->timeout_ms) * 1000000;
	s->started = true;
	e->st->sent++;
	return 0;
}

static void icmp_reply(struct eng *e, int which, struct io_uring_cqe *cqe, uint64_t now_ns)
{
	struct icmp_sock *is = &e->ic[which];
	if (!(cqe->flags & IORING_CQE_F_MORE))
		is->armed = false;
	if (!(cqe->flags & IORING_CQE_F_BUFFER))
		return;
	uint16_t bid = (uint16_t)(cqe->flags >> IORING_CQE_BUFFER_SHIFT);
	uint8_t *buf = wgi_bufring_buf(&e->br, bid);
	struct io_uring_recvmsg_out *o;

	if (cqe->res <= 0 || !(o = io_uring_recvmsg_validate(buf, cqe->res, &is->rmh)))
		goto out;
	const uint8_t *d = io_uring_recvmsg_payload(o, &is->rmh);
	size_t len = io_uring_recvmsg_payload_length(o, cqe->res, &is->rmh);
	if (is->raw && !which) {
		/* Raw IPv4 sockets see the IP header. */
		if (len < 20)
			goto out;
		size_t hl = (size_t)(d[0] & 0x0f) * 4;
		if (hl < 20 || hl > len)
			goto out;
		d += hl;
		len -= hl;
	}
	if (len < 16 || d[0] != (which ? ICMP6_ECHO_REPLY : ICMP_ECHOREPLY))
		goto out;
	if (is->raw && (uint16_t)(d[4] << 8 | d[5]) != is->ident)
		goto out;
	uint32_t idx, magic;
	memcpy(&idx, d + 8, 4);
	memcpy(&magic, d + 12, 4);
	if (magic != ICMP_MAGIC || idx >= e->n || e->p[idx].kind != WGNL_PROBE_ICMP ||
	    (uint16_t)(d[6] << 8 | d[7]) != (uint16_t)idx)
		goto out;
	/* The reply must come from the target. */
	union wgnl_endpoint from;
	memset(&from, 0, sizeof(from));
	memcpy(&from, io_uring_recvmsg_name(o), o->namelen < sizeof(from) ? o->namelen : sizeof(from));
	if (!wgi_ep_same_ip(&from, &e->p[idx].target) || !e->s[idx].started)
		goto out;
	uint64_t rtt = now_ns - e->s[idx].sent_ns;
	for (struct cmsghdr *c = io_uring_recvmsg_cmsg_firsthdr(o, &is->rmh); c;
	     c = io_uring_recvmsg_cmsg_nexthdr(o, &is->rmh, c)) {
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_TIMESTAMPNS) {
			struct timespec ts;
			memcpy(&ts, CMSG_DATA(c), sizeof(ts));
			uint64_t rx = (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
			if (rx >= e->s[idx].sent_real_ns)
				rtt = rx - e->s[idx].sent_real_ns;
		}
	}
	finish(e, idx, 0, rtt);
out:
	wgi_bufring_recycle(&e->br, bid);
}

/* Start a UDP or TCP probe: a socket of its own, connect (TCP through the
 * ring, UDP directly as it sends nothing), the operation linked to its
 * timeout. */
static int stream_start(struct eng *e, size_t i)
{
	struct wgnl_probe *p = &e->p[i];
	struct pst *s = &e->s[i];
	int fam = p->target.addr.sa_family;
	bool tcp = p->kind == WGNL_PROBE_TCP;
	uint32_t tmo = p->timeout_ms ? p->timeout_ms : e->o->timeout_ms;
	struct io_uring_sqe *sqe;

	s->started = true;
	e->st->sent++;
	s->sent_ns = wgi_now_ns();
	int fd = wgi_socket(fam, (tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_NONBLOCK, 0, NULL,
			    e->o->ifname, e->o->fwmark);
	e->st->other_syscalls += 1 + (e->o->ifname[0] != 0) + (e->o->fwmark != 0);
	if (fd < 0) {
		finish(e, i, fd, 0);
		return fd == -EMFILE || fd == -ENFILE ? fd : 0;
	}
	s->fd = fd;
	s->ts.tv_sec = tmo / 1000;
	s->ts.tv_nsec = (long long)(tmo % 1000) * 1000000;
	if (tcp) {
		sqe = wgi_get_sqe(&e->ring);
		io_uring_prep_connect(sqe, fd, &p->target.addr, wgi_ep_len(&p->target));
		sqe->flags |= IOSQE_IO_LINK;
		io_uring_sqe_set_data64(sqe, UD(UD_CONN, i));
		s->cqes_left = 2;
	} else {
		e->st->other_syscalls++;
		if (connect(fd, &p->target.addr, wgi_ep_len(&p->target)) < 0) {
			int r = -errno;
			close(fd);
			s->fd = -1;
			finish(e, i, r, 0);
			return 0;
		}
		static const char payload[] = "wgkit probe\n";
		sqe = wgi_get_sqe(&e->ring);
		io_uring_prep_send(sqe, fd, payload, sizeof(payload) - 1, 0);
		sqe->flags |= IOSQE_IO_LINK | IOSQE_CQE_SKIP_SUCCESS;
		io_uring_sqe_set_data64(sqe, UD(UD_UDP_SEND, i));
		sqe = wgi_get_sqe(&e->ring);
		io_uring_prep_recv(sqe, fd, s->pkt, sizeof(s->pkt), 0);
		sqe->flags |= IOSQE_IO_LINK;
		io_uring_sqe_set_data64(sqe, UD(UD_UDP_RECV, i));
		s->cqes_left = 2;
	}
	sqe = wgi_get_sqe(&e->ring);
	io_uring_prep_link_timeout(sqe, &s->ts, 0);
	io_uring_sqe_set_data64(sqe, UD(UD_TIMEOUT, i));
	e->inflight++;
	return 0;
}

static void stream_cqe_done(struct eng *e, size_t i)
{
	struct pst *s = &e->s[i];
	if (--s->cqes_left)
		return;
	struct io_uring_sqe *sqe = wgi_get_sqe(&e->ring);
	if (sqe) {
		io_uring_prep_close(sqe, s->fd);
		sqe->flags |= IOSQE_CQE_SKIP_SUCCESS;
		io_uring_sqe_set_data64(sqe, UD(UD_CLOSE, i));
	} else {
		close(s->fd);
	}
	s->fd = -1;
	e->inflight--;
}

static int conn_status(int res)
{
	switch (res) {
	case -ECANCELED: /* the linked timeout fired */
	case -ETIME:
	case -ETIMEDOUT:
		return -ETIMEDOUT;
	default:
		return res;
	}
}

static void handle_cqe(struct eng *e, struct io_uring_cqe *cqe, uint64_t now)
{
	uint64_t ud = io_uring_cqe_get_data64(cqe);
	unsigned kind = (unsigned)(ud >> 32);
	size_t i = (uint32_t)ud;

	switch (kind) {
	case UD_ICMP_RECV:
		icmp_reply(e, (int)i, cqe, now);
		break;
	case UD_ICMP_SEND: /* only failures post a completion */
		if (cqe->res < 0)
			finish(e, i, cqe->res, 0);
		break;
	case UD_CONN:
		finish(e, i, cqe->res == 0 ? 0 : conn_status(cqe->res),
		       cqe->res == 0 || cqe->res == -ECONNREFUSED ? now - e->s[i].sent_ns : 0);
		stream_cqe_done(e, i);
		break;
	case UD_UDP_SEND:
		if (cqe->res < 0)
			finish(e, i, cqe->res, 0);
		break;
	case UD_UDP_RECV:
		finish(e, i, cqe->res >= 0 ? 0 : conn_status(cqe->res),
		       cqe->res >= 0 || cqe->res == -ECONNREFUSED ? now - e->s[i].sent_ns : 0);
		stream_cqe_done(e, i);
		break;
	case UD_TIMEOUT:
		stream_cqe_done(e, i);
		break;
	default:
		break;
	}
}

int wgnl_probe_run(struct wgnl_probe *p, size_t n, const struct wgnl_probe_opts *opts,
		   struct wgnl_probe_stats *stats)
{
	struct wgnl_probe_opts o;
	struct wgnl_probe_stats st;
	struct eng e;
	int r = 0;
	size_t n_http = 0, answered = 0;

	memset(&o, 0, sizeof(o));
	if (opts)
		o = *opts;
	if (!o.timeout_ms)
		o.timeout_ms = 1000;
	if (!o.max_inflight)
		o.max_inflight = 1024;
	memset(&st, 0, sizeof(st));
	memset(&e, 0, sizeof(e));
	e.p = p;
	e.n = n;
	e.o = &o;
	e.st = &st;
	e.ic[0].fd = e.ic[1].fd = -1;
	if (sodium_init() < 0)
		return -EIO;

	for (size_t i = 0; i < n; i++) {
		p[i].status = -ETIMEDOUT;
		p[i].rtt_ns = 0;
		p[i].http_code = 0;
		if (p[i].kind == WGNL_PROBE_HTTP) {
			n_http++;
			continue;
		}
		int fam = p[i].target.addr.sa_family;
		if ((fam != AF_INET && fam != AF_INET6) || p[i].kind < WGNL_PROBE_ICMP ||
		    p[i].kind > WGNL_PROBE_HTTP)
			return -EINVAL;
		e.pending++;
	}
	if (e.pending) {
		e.s = calloc(n, sizeof(*e.s));
		if (!e.s)
			return -ENOMEM;
		for (size_t i = 0; i < n; i++)
			e.s[i].fd = -1;
		for (size_t i = 0; i < n; i++) {
			if (p[i].kind != WGNL_PROBE_ICMP)
				continue;
			r = icmp_open(&e, p[i].target.addr.sa_family);
			if (r < 0)
				goto out;
		}
		if ((r = wgi_uring_init(&e.ring, RING_ENTRIES)) < 0)
			goto out;
		if ((r = wgi_bufring_init(&e.br, &e.ring, NBUFS, BUFSZ, BGID)) < 0) {
			io_uring_queue_exit(&e.ring);
			goto out;
		}
	}

	size_t next = 0; /* next probe to start */
	while (e.pending) {
		uint64_t now = wgi_now_ns();
		for (int k = 0; k < 2; k++)
			if (e.ic[k].fd >= 0 && !e.ic[k].armed)
				icmp_arm(&e, &e.ic[k], k);
		/* Start probes: ICMP in chunks, UDP/TCP up to the in-flight cap. */
		unsigned started = 0;
		while (next < n && started < ICMP_CHUNK) {
			struct wgnl_probe *q = &p[next];
			if (q->kind == WGNL_PROBE_HTTP) {
				next++;
				continue;
			}
			if (q->kind != WGNL_PROBE_ICMP && e.inflight >= o.max_inflight)
				break;
			if (q->kind == WGNL_PROBE_ICMP)
				r = icmp_send(&e, next);
			else
				r = stream_start(&e, next);
			if (r < 0)
				goto out_ring;
			next++;
			started++;
		}
		/* Wait for as many completions as could come, but never past the
		 * nearest deadline; replies carry kernel timestamps, so batching
		 * the wake-ups costs no accuracy for ICMP. */
		uint64_t dl = UINT64_MAX;
		size_t icmp_wait = 0;
		bool stream = e.inflight > 0;
		for (size_t i = 0; i < next; i++) {
			if (p[i].kind != WGNL_PROBE_ICMP || e.s[i].done || !e.s[i].started)
				continue;
			icmp_wait++;
			if (e.s[i].deadline < dl)
				dl = e.s[i].deadline;
		}
		unsigned wait_nr = next < n && started ? 0 : (unsigned)(stream ? 1 : icmp_wait);
		if (wait_nr > 4096)
			wait_nr = 4096;
		struct __kernel_timespec ts = {0, 0}, *tsp = NULL;
		if (wait_nr && dl != UINT64_MAX) {
			uint64_t left = dl > now ? dl - now : 0;
			ts.tv_sec = (long long)(left / 1000000000);
			ts.tv_nsec = (long long)(left % 1000000000);
			tsp = &ts;
		}
		struct io_uring_cqe *cqe;
		st.ring_enters++;
		if (wait_nr == 0)
			r = io_uring_submit_and_get_events(&e.ring);
		else
			r = io_uring_submit_and_wait_timeout(&e.ring, &cqe, wait_nr, tsp, NULL);
		if (r < 0 && r != -ETIME && r != -EINTR && r != -EBUSY && r != -EAGAIN)
			goto out_ring;
		r = 0;
		now = wgi_now_ns();
		unsigned head, seen = 0;
		io_uring_for_each_cqe(&e.ring, head, cqe) {
			handle_cqe(&e, cqe, now);
			seen++;
		}
		io_uring_cq_advance(&e.ring, seen);
		wgi_bufring_publish(&e.br);
		if (icmp_wait && now >= dl)
			for (size_t i = 0; i < next; i++)
				if (p[i].kind == WGNL_PROBE_ICMP && !e.s[i].done && e.s[i].deadline <= now)
					finish(&e, i, -ETIMEDOUT, 0);
	}
	/* Close what is left (sockets of probes that failed to complete). */
out_ring:
	if (e.s) {
		io_uring_submit(&e.ring);
		for (size_t i = 0; i < n; i++)
			if (e.s[i].fd >= 0)
				close(e.s[i].fd);
		wgi_bufring_free(&e.br, &e.ring);
		io_uring_queue_exit(&e.ring);
	}
out:
	for (int k = 0; k < 2; k++)
		if (e.ic[k].fd >= 0)
			close(e.ic[k].fd);
	free(e.s);
	if (r >= 0 && n_http)
		r = wgi_probe_http_run(p, n, &o, &st);
	if (stats)
		*stats = st;
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++)
		if (p[i].status == 0 || p[i].status == -ECONNREFUSED)
			answered++;
	return (int)answered;
}
