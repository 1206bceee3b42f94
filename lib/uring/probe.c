/* SPDX-License-Identifier: MIT */
/* The probe engine. ICMP: one socket per family, registered with the ring;
 * echo requests pre-built in one array and queued as send-to SQEs in
 * chunks (no completion on success), replies taken by one multishot
 * recvmsg from a provided-buffer ring with kernel receive timestamps and
 * matched to their probe by the index carried in the echo (no search).
 * UDP and TCP: a socket per probe, connect through the ring, the operation
 * linked to its own IORING_OP_LINK_TIMEOUT, closed through the ring. HTTP:
 * libcurl's multi interface, stepped from the same loop (probe_http.c). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sodium.h>

#include "core/opts.h"
#include "probe.h"
#include "uring.h"

#define RING_ENTRIES 4096
/* Echo requests per io_uring_enter. Measured on 10,000 loopback targets
 * (bench/README.md): chunks of 16-64 finish about 20% sooner than 256-4096,
 * as each enter also runs the deferred receives of the previous chunk while
 * the socket queue and buffers are still cache-hot; 64 keeps the recorded
 * send time (taken just before the enter) within ~0.2 ms of the real one
 * and costs 0.016 io_uring_enter calls per probe. */
#define ICMP_CHUNK 64
#define ICMP_MAGIC 0x77676b70U /* "wgkp" */
#define ECHO_LEN 16
#define BGID 1
#define NBUFS 4096
#define BUFSZ 256
/* Longest sleep in curl_multi_poll() while ring work is outstanding. The
 * ring's eventfd wakes it as soon as a completion is deferred, also with
 * IORING_SETUP_DEFER_TASKRUN (checked on 6.18 with this cap at 1000 ms: a
 * UDP answer sent 300 ms in was reported at 301-303 ms); the cap only
 * bounds the damage on a kernel where it would stay quiet. ICMP deadlines
 * bound the sleep as well. */
#define HTTP_RING_POLL_MS 250

enum {
	UD_ICMP_RECV = 1,
	UD_ICMP_SEND,
	UD_CONN,
	UD_TIMEOUT,
	UD_UDP_SEND,
	UD_UDP_RECV,
	UD_CLOSE,
	UD_CANCEL
};
#define UD(kind, idx) (((uint64_t)(kind) << 32) | (uint32_t)(idx))

struct icmp_sock {
	int fd;
	int slot; /* registered file index, -1 when not registered */
	bool raw, armed;
	int family;
	struct msghdr rmh;
	uint16_t ident; /* raw sockets: our echo identifier */
};

/* Per-probe transient state: no pointers, no per-probe allocation. */
struct pst {
	uint64_t sent_ns;      /* CLOCK_MONOTONIC */
	uint64_t sent_real_ns; /* CLOCK_REALTIME, to compare with SO_TIMESTAMPNS */
	uint64_t deadline;
	struct __kernel_timespec ts; /* UDP/TCP: the linked timeout */
	uint8_t buf[16];	     /* UDP: the reply */
	int fd;
	uint8_t cqes_left;
	bool started, done;
};

/* Only on kernels without IORING_OP_SEND with a destination (before 6.0). */
struct icmp_msg {
	struct msghdr mh;
	struct iovec iov;
};

struct eng {
	struct io_uring ring;
	struct wgi_bufring br;
	struct icmp_sock ic[2]; /* [0] IPv4, [1] IPv6 */
	struct wgnl_probe *p;
	struct pst *s;
	uint8_t (*echo)[ECHO_LEN]; /* pre-built echo requests, by probe index */
	struct icmp_msg *msg;	   /* sendmsg fallback only */
	uint32_t *chunk;	   /* ICMP probes submitted by the current enter */
	size_t n, pending;
	const struct wgnl_probe_opts *o;
	struct wgnl_probe_stats *st;
	uint32_t inflight, max_inflight;
	size_t icmp_out;  /* ICMP probes sent, not finished */
	uint64_t icmp_dl; /* no ICMP deadline before this (a lower bound) */
	bool sendto;	  /* IORING_OP_SEND takes a destination (6.0+) */
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
	if (e->p[i].kind == WGNL_PROBE_ICMP && e->s[i].started)
		e->icmp_out--;
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
	e->st->other_syscalls += 3;
	s->rmh.msg_namelen = (sizeof(struct sockaddr_in6) + 7) & ~7U; /* keeps the cmsgs aligned */
	s->rmh.msg_controllen = CMSG_SPACE(sizeof(struct timespec));
	return 0;
}

/* Register the ICMP sockets with the ring: every send then skips the
 * per-request file lookup and reference count. Optional. */
static void icmp_register(struct eng *e)
{
	int fds[2], k = 0;
	for (int w = 0; w < 2; w++)
		if (e->ic[w].fd >= 0)
			fds[k++] = e->ic[w].fd;
	if (!k || io_uring_register_files(&e->ring, fds, (unsigned)k) < 0)
		return;
	e->st->other_syscalls++;
	k = 0;
	for (int w = 0; w < 2; w++)
		if (e->ic[w].fd >= 0)
			e->ic[w].slot = k++;
}

static void sqe_icmp_fd(struct io_uring_sqe *sqe, const struct icmp_sock *s)
{
	if (s->slot >= 0) {
		sqe->fd = s->slot;
		sqe->flags |= IOSQE_FIXED_FILE;
	}
}

static void icmp_arm(struct eng *e, struct icmp_sock *s, int which)
{
	struct io_uring_sqe *sqe = wgi_get_sqe(&e->ring);
	if (!sqe)
		return;
	io_uring_prep_recvmsg_multishot(sqe, s->fd, &s->rmh, 0);
	sqe_icmp_fd(sqe, s);
	sqe->flags |= IOSQE_BUFFER_SELECT;
	sqe->buf_group = BGID;
	io_uring_sqe_set_data64(sqe, UD(UD_ICMP_RECV, which));
	s->armed = true;
}

/* Build every echo request once, before the first send. The probe index
 * travels in the sequence number and the payload, so a reply leads
 * straight to its probe. */
static void icmp_build(struct eng *e)
{
	uint32_t magic = ICMP_MAGIC;
	for (size_t i = 0; i < e->n; i++) {
		if (e->p[i].kind != WGNL_PROBE_ICMP)
			continue;
		bool v6 = e->p[i].target.addr.sa_family == AF_INET6;
		uint16_t ident = e->ic[v6].ident;
		uint32_t idx = (uint32_t)i;
		uint8_t *k = e->echo[i];
		k[0] = v6 ? ICMP6_ECHO_REQUEST : ICMP_ECHO;
		k[1] = 0;
		k[2] = k[3] = 0;
		k[4] = (uint8_t)(ident >> 8);
		k[5] = (uint8_t)ident;
		k[6] = (uint8_t)(idx >> 8);
		k[7] = (uint8_t)idx;
		memcpy(k + 8, &idx, 4);
		memcpy(k + 12, &magic, 4);
		/* ICMPv6 checksums are filled in by the kernel (pseudo-header). */
		if (!v6) {
			uint16_t c = csum(k, ECHO_LEN);
			k[2] = (uint8_t)(c >> 8);
			k[3] = (uint8_t)c;
		}
	}
}

/* Queue one echo request; its send time is set by icmp_stamp() once the
 * chunk is submitted. */
static int icmp_send(struct eng *e, size_t i, unsigned *nchunk)
{
	struct wgnl_probe *p = &e->p[i];
	struct pst *s = &e->s[i];
	struct icmp_sock *is = &e->ic[p->target.addr.sa_family == AF_INET6];
	struct io_uring_sqe *sqe = wgi_get_sqe(&e->ring);
	if (!sqe)
		return -EBUSY;
	if (e->sendto) {
		io_uring_prep_send(sqe, is->fd, e->echo[i], ECHO_LEN, 0);
		io_uring_prep_send_set_addr(sqe, &p->target.addr, (uint16_t)wgi_ep_len(&p->target));
	} else {
		struct icmp_msg *m = &e->msg[i];
		m->iov.iov_base = e->echo[i];
		m->iov.iov_len = ECHO_LEN;
		memset(&m->mh, 0, sizeof(m->mh));
		m->mh.msg_name = &p->target;
		m->mh.msg_namelen = wgi_ep_len(&p->target);
		m->mh.msg_iov = &m->iov;
		m->mh.msg_iovlen = 1;
		io_uring_prep_sendmsg(sqe, is->fd, &m->mh, 0);
	}
	sqe_icmp_fd(sqe, is);
	sqe->flags |= IOSQE_CQE_SKIP_SUCCESS;

	io_uring_sqe_set_data64(sqe, UD(UD_ICMP_SEND, i));
	/* A provisional deadline (icmp_stamp() sets the real, later one) so
	 * the wait that sends this chunk is bounded by its timeout too. */
	uint32_t tmo = p->timeout_ms ? p->timeout_ms : e->o->timeout_ms;
	uint64_t dl = wgi_now_ns() + (uint64_t)tmo * 1000000;
	if (dl < e->icmp_dl)
		e->icmp_dl = dl;
	s->started = true;
	e->icmp_out++;
	e->st->sent++;
	e->chunk[(*nchunk)++] = (uint32_t)i;
	return 0;
}

/* The chunk's send time: just before the enter that sent it (an upper
 * bound on the RTT, off by at most the chunk's own send time). */
static void icmp_stamp(struct eng *e, unsigned nchunk, uint64_t mono, uint64_t real)
{
	for (unsigned k = 0; k < nchunk; k++) {
		size_t i = e->chunk[k];
		struct pst *s = &e->s[i];
		uint32_t tmo = e->p[i].timeout_ms ? e->p[i].timeout_ms : e->o->timeout_ms;
		s->sent_ns = mono;
		s->sent_real_ns = real;
		s->deadline = mono + (uint64_t)tmo * 1000000;
		if (s->deadline < e->icmp_dl)
			e->icmp_dl = s->deadline;
	}
}

/* Time out what is due and recompute the earliest deadline. Runs only
 * when the earliest deadline has passed, so not once per wake-up. */
static void icmp_expire(struct eng *e, size_t next, uint64_t now)
{
	uint64_t dl = UINT64_MAX;
	for (size_t i = 0; i < next; i++) {
		struct pst *s = &e->s[i];
		if (e->p[i].kind != WGNL_PROBE_ICMP || s->done || !s->started)
			continue;
		if (s->deadline <= now)
			finish(e, i, -ETIMEDOUT, 0);
		else if (s->deadline < dl)
			dl = s->deadline;
	}
	e->icmp_dl = dl;
}

static void icmp_reply(struct eng *e, int which, struct io_uring_cqe *cqe, uint64_t now_ns)
{
	struct icmp_sock *is = &e->ic[which];
	if (!(cqe->flags & IORING_CQE_F_MORE))
		is->armed = false;
	if (!(cqe->flags & IORING_CQE_F_BUFFER))
		return;
	uint16_t bid = (uint16_t)(cqe->flags >> IORING_CQE_BUFFER_SHIFT);
	uint8_t *buf = wgi_bufring_take(&e->br, bid, cqe->res);
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
	if (len < ECHO_LEN || d[0] != (which ? ICMP6_ECHO_REPLY : ICMP_ECHOREPLY))
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
	memcpy(&from, io_uring_recvmsg_name(o),
	       o->namelen < sizeof(from) ? o->namelen : sizeof(from));
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
	/* Later than its timeout (the wake-up that would have expired it came
	 * after the reply): a timeout, as fping counts it. */
	uint32_t tmo = e->p[idx].timeout_ms ? e->p[idx].timeout_ms : e->o->timeout_ms;
	if (rtt <= (uint64_t)tmo * 1000000)
		finish(e, idx, 0, rtt);
out:
	wgi_bufring_recycle(&e->br, bid);
}

/* Start a UDP or TCP probe: a socket of its own, then one linked chain
 * through the ring: TCP connect -> timeout; UDP connect -> send -> recv ->
 * timeout (connecting a UDP socket sends nothing; it makes the kernel
 * report an ICMP port unreachable to our recv as ECONNREFUSED). The
 * timeout is linked to the operation that waits on the peer, so it keeps
 * the per-probe timeout semantics. */
static int stream_start(struct eng *e, size_t i)
{
	static const char payload[] = "wgkit probe\n";
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
	sqe = wgi_get_sqe(&e->ring);
	io_uring_prep_connect(sqe, fd, &p->target.addr, wgi_ep_len(&p->target));
	sqe->flags |= IOSQE_IO_LINK;
	io_uring_sqe_set_data64(sqe, UD(UD_CONN, i));
	if (!tcp) {
		/* Only a failed connect or send completes: their CQE comes
		 * before the cancelled recv's, so the real error is kept. */
		sqe->flags |= IOSQE_CQE_SKIP_SUCCESS;
		sqe = wgi_get_sqe(&e->ring);
		io_uring_prep_send(sqe, fd, payload, sizeof(payload) - 1, 0);
		sqe->flags |= IOSQE_IO_LINK | IOSQE_CQE_SKIP_SUCCESS;
		io_uring_sqe_set_data64(sqe, UD(UD_UDP_SEND, i));
		sqe = wgi_get_sqe(&e->ring);
		io_uring_prep_recv(sqe, fd, s->buf, sizeof(s->buf), 0);
		sqe->flags |= IOSQE_IO_LINK;
		io_uring_sqe_set_data64(sqe, UD(UD_UDP_RECV, i));
	}
	/* Always two completions: the waiting operation's and the timeout's. */
	s->cqes_left = 2;
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
		if (e->p[i].kind == WGNL_PROBE_UDP) {
			/* Only failures post (see stream_start). */
			if (cqe->res < 0 && cqe->res != -ECANCELED)
				finish(e, i, cqe->res, 0);
			break;
		}
		finish(e, i, cqe->res == 0 ? 0 : conn_status(cqe->res),
		       cqe->res == 0 || cqe->res == -ECONNREFUSED ? now - e->s[i].sent_ns : 0);
		stream_cqe_done(e, i);
		break;
	case UD_UDP_SEND:
		if (cqe->res < 0 && cqe->res != -ECANCELED)
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

static unsigned reap(struct eng *e)
{
	struct io_uring_cqe *cqe;
	unsigned head, seen = 0;
	uint64_t now = wgi_now_ns();
	io_uring_for_each_cqe (&e->ring, head, cqe) {
		handle_cqe(e, cqe, now);
		seen++;
	}
	io_uring_cq_advance(&e->ring, seen);
	wgi_bufring_publish(&e->br);
	return seen;
}

/* Cancel every request still in flight and take the completions, before
 * anything they point at goes. An echo request the kernel could not queue
 * (socket buffer full: a slow link, or a buffer capped by
 * net.core.wmem_max without CAP_NET_ADMIN) is parked by io_uring on a poll
 * and reads e->echo (or e->msg) when the buffer drains; it posts nothing on
 * success, so the run can end with it parked. Closing the ring cancels it
 * only on kernels with "io_uring: include dying ring in task_work 'should
 * cancel' state" (6.17, stable 6.1+ in September 2025); before that a
 * wake-up between the close and the ring's exit work issued it from this
 * task after the buffers were freed. Likewise UDP receives into e->s[].buf
 * on the error path.
 * First one cancel by user_data per echo request that may be parked (its
 * probe timed out: an answered probe's request went out, a failed one
 * completed): a hash lookup each, where a cancel-any scans every parked
 * request per match (quadratic: seconds for 20,000). Then cancel-any rounds
 * for the rest (the multishot receive, UDP/TCP on the error path) until one
 * finds nothing, each after running the task work queued so far: a linked
 * request not issued yet (a UDP receive behind its send) is found by no
 * cancel. Bounded (a second) in case completions never come. */
struct cancel_state {
	size_t asked, told, cancelled, gone;
	int found;
	bool any_seen;
	uint64_t deadline;
};

/* Submit, wait for @nr completions at most @ns, take what came. A wait
 * runs up to max(@nr, 20) items of deferred task work first. False on a
 * fatal ring error or past the deadline. */
static bool cancel_step(struct eng *e, struct cancel_state *c, unsigned nr, long ns)
{
	struct io_uring_cqe *cqe;
	struct __kernel_timespec ts = { 0, ns };
	unsigned head, seen = 0;

	e->st->ring_enters++;
	int r = io_uring_submit_and_wait_timeout(&e->ring, &cqe, nr, &ts, NULL);
	if (r < 0 && r != -ETIME && r != -EINTR && r != -EBUSY && r != -EAGAIN)
		return false;
	io_uring_for_each_cqe (&e->ring, head, cqe) {
		uint64_t ud = io_uring_cqe_get_data64(cqe);
		unsigned kind = (unsigned)(ud >> 32);
		seen++;
		if (kind == UD_ICMP_SEND && cqe->res == -ECANCELED) {
			c->gone++;
		} else if (kind == UD_CANCEL && (uint32_t)ud) {
			c->any_seen = true;
			c->found = cqe->res;
		} else if (kind == UD_CANCEL) {
			c->told++;
			c->cancelled += cqe->res == 0;
		}
	}
	io_uring_cq_advance(&e->ring, seen);
	return wgi_now_ns() < c->deadline;
}

static void cancel_all(struct eng *e)
{
	struct cancel_state c = { .deadline = wgi_now_ns() + 1000000000ULL };
	struct io_uring_sqe *sqe;

	for (size_t i = 0; i < e->n; i++) {
		if (e->p[i].kind != WGNL_PROBE_ICMP || !e->s[i].started ||
		    e->p[i].status != -ETIMEDOUT)
			continue;
		if (!(sqe = wgi_get_sqe(&e->ring)))
			break;
		io_uring_prep_cancel64(sqe, UD(UD_ICMP_SEND, i), 0);
		io_uring_sqe_set_data64(sqe, UD(UD_CANCEL, 0));
		c.asked++;
	}
	/* A cancelled send completes from task work: wait for them all. */
	for (;;) {
		size_t want = c.asked - c.told + (c.cancelled > c.gone ? c.cancelled - c.gone : 0);
		if (!want)
			break;
		if (!cancel_step(e, &c, want > 4096 ? 4096 : (unsigned)want, 10000000))
			return;
	}
	do {
		/* Waits for nothing: runs the task work queued so far. */
		if (!cancel_step(e, &c, 4096, 0))
			return;
		if (!(sqe = wgi_get_sqe(&e->ring)))
			return;
		io_uring_prep_cancel64(sqe, 0, IORING_ASYNC_CANCEL_ANY | IORING_ASYNC_CANCEL_ALL);
		io_uring_sqe_set_data64(sqe, UD(UD_CANCEL, 1));
		c.any_seen = false;
		while (!c.any_seen)
			if (!cancel_step(e, &c, 1, 10000000))
				return;
	} while (c.found > 0);
}

/* Does IORING_OP_SEND take a destination address? It came with
 * IORING_OP_SEND_ZC (Linux 6.0); older kernels reject addr2 with -EINVAL. */
static bool send_takes_addr(struct io_uring *ring)
{
	struct io_uring_probe *pr = io_uring_get_probe_ring(ring);
	bool ok = pr && io_uring_opcode_supported(pr, IORING_OP_SEND_ZC);
	io_uring_free_probe(pr);
	return ok;
}

/* Reset the outputs and check the inputs; counts the probes for the ring
 * in e->pending and the ICMP ones in *n_icmp. 0 or -EINVAL. */
static int probes_check(struct eng *e, size_t *n_icmp)
{
	struct wgnl_probe *p = e->p;

	for (size_t i = 0; i < e->n; i++) {
		p[i].status = -ETIMEDOUT;
		p[i].rtt_ns = 0;
		p[i].http_code = 0;
		if (p[i].kind == WGNL_PROBE_HTTP)
			continue;
		int fam = p[i].target.addr.sa_family;
		if ((fam != AF_INET && fam != AF_INET6) || p[i].kind < WGNL_PROBE_ICMP ||
		    p[i].kind > WGNL_PROBE_HTTP)
			return -EINVAL;
		*n_icmp += p[i].kind == WGNL_PROBE_ICMP;
		e->pending++;
	}
	return 0;
}

/* Per-probe state, ICMP sockets, the ring and its buffers, the echo
 * requests. *ring_ok says whether the ring needs tearing down. */
static int eng_setup(struct eng *e, size_t n_icmp, bool *ring_ok)
{
	size_t n = e->n;
	int r;

	e->s = calloc(n, sizeof(*e->s));
	e->chunk = calloc(ICMP_CHUNK, sizeof(*e->chunk));
	if (n_icmp)
		e->echo = calloc(n, sizeof(*e->echo));
	if (!e->s || !e->chunk || (n_icmp && !e->echo))
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		e->s[i].fd = -1;
	for (size_t i = 0; i < n; i++) {
		if (e->p[i].kind != WGNL_PROBE_ICMP)
			continue;
		r = icmp_open(e, e->p[i].target.addr.sa_family);
		if (r < 0)
			return r;
	}
	if ((r = wgi_uring_init(&e->ring, RING_ENTRIES)) < 0)
		return r;
	*ring_ok = true;
	if ((r = wgi_bufring_init(&e->br, &e->ring, NBUFS, BUFSZ, BGID)) < 0)
		return r;
	if (n_icmp) {
		e->sendto = send_takes_addr(&e->ring);
		if (!e->sendto && !(e->msg = calloc(n, sizeof(*e->msg))))
			return -ENOMEM;
		icmp_register(e);

		icmp_build(e);
	}
	return 0;
}

/* Nothing in flight may outlive the buffers (see cancel_all()); then close
 * what is left (sockets of probes that failed to complete) and free. */
static void eng_teardown(struct eng *e, bool ring_ok)
{
	if (ring_ok) {
		cancel_all(e);
		for (size_t i = 0; e->s && i < e->n; i++)
			if (e->s[i].fd >= 0)
				close(e->s[i].fd);
		wgi_bufring_free(&e->br, &e->ring);
		io_uring_queue_exit(&e->ring);
	}
	for (int k = 0; k < 2; k++)
		if (e->ic[k].fd >= 0)
			close(e->ic[k].fd);
	free(e->s);
	free(e->echo);
	free(e->msg);
	free(e->chunk);
}

/* Start probes from *next: ICMP in chunks, UDP/TCP up to the in-flight cap
 * (HTTP ones are skipped: libcurl starts them). *started and *nchunk count
 * what went into this enter. 0 or -errno. */
static int start_batch(struct eng *e, size_t *next, unsigned *started, unsigned *nchunk)
{
	int r;

	while (*next < e->n && *started < ICMP_CHUNK) {
		struct wgnl_probe *q = &e->p[*next];
		if (q->kind == WGNL_PROBE_HTTP) {
			(*next)++;
			continue;
		}
		if (q->kind != WGNL_PROBE_ICMP && e->inflight >= e->o->max_inflight)
			break;
		if (q->kind == WGNL_PROBE_ICMP)
			r = icmp_send(e, *next, nchunk);
		else
			r = stream_start(e, *next);
		if (r < 0)
			return r;
		(*next)++;
		(*started)++;
	}
	return 0;
}

/* Submit, and wait unless @nowait (more to send, or libcurl's poll does
 * the waiting). 0 or a fatal -errno. */
static int ring_enter(struct eng *e, bool nowait, unsigned nchunk)
{
	struct io_uring_cqe *cqe;
	int r;

	if (nowait) {
		uint64_t t_mono = wgi_now_ns(), t_real = real_ns();
		e->st->ring_enters++;
		r = io_uring_submit_and_get_events(&e->ring);
		if (r < 0 && r != -EINTR && r != -EBUSY && r != -EAGAIN)
			return r;
		icmp_stamp(e, nchunk, t_mono, t_real);
		return 0;
	}
	/* Wait for as many completions as could come, but never past the
	 * nearest ICMP deadline; replies carry kernel timestamps, so batching
	 * the wake-ups costs ICMP no accuracy. UDP/TCP wake us one completion
	 * at a time. */
	unsigned wait_nr = e->inflight ? 1 : (unsigned)e->icmp_out;
	if (wait_nr > 4096)
		wait_nr = 4096;
	if (!wait_nr)
		wait_nr = 1;
	struct __kernel_timespec ts = { 0, 0 }, *tsp = NULL;
	uint64_t t_mono = wgi_now_ns(), t_real = real_ns();
	if (e->icmp_out && e->icmp_dl != UINT64_MAX) {
		uint64_t left = e->icmp_dl > t_mono ? e->icmp_dl - t_mono : 0;
		ts.tv_sec = (long long)(left / 1000000000);
		ts.tv_nsec = (long long)(left % 1000000000);
		tsp = &ts;
	}
	e->st->ring_enters++;
	r = io_uring_submit_and_wait_timeout(&e->ring, &cqe, wait_nr, tsp, NULL);
	if (r < 0 && r != -ETIME && r != -EINTR && r != -EBUSY && r != -EAGAIN)
		return r;
	icmp_stamp(e, nchunk, t_mono, t_real);
	return 0;
}

/* One libcurl step, its wait bounded by the ring's work: 0 when more is
 * to send, HTTP_RING_POLL_MS at most while probes are in the ring, the
 * nearest ICMP deadline. Returns the HTTP probes left, or -errno. */
static int http_poll(struct eng *e, struct wgi_http *http, int evfd, bool more, uint64_t now)
{
	int tmo = 1000, r;
	bool ring_ready;

	if (e->pending) {
		tmo = more ? 0 : HTTP_RING_POLL_MS;
		if (e->icmp_out && e->icmp_dl != UINT64_MAX) {
			uint64_t left = e->icmp_dl > now ? (e->icmp_dl - now) / 1000000 + 1 : 0;
			if (left < (uint64_t)tmo)
				tmo = (int)left;
		}
	}
	r = wgi_http_step(http, e->pending ? evfd : -1, tmo, &ring_ready);
	if (r < 0)
		return r;
	if (ring_ready) {
		uint64_t v;
		if (read(evfd, &v, sizeof(v)) < 0) {
			/* EAGAIN: already drained */
		}
		e->st->other_syscalls++;
	}
	return r;
}

/* The loop: start, enter the ring, reap, expire ICMP, step libcurl, until
 * neither the ring nor libcurl has probes left. 0 or -errno. */
static int eng_loop(struct eng *e, struct wgi_http *http, int evfd, size_t http_left)
{
	size_t next = 0; /* next probe to start */
	int r;

	while (e->pending || http_left) {
		uint64_t now;
		for (int k = 0; k < 2; k++)
			if (e->ic[k].fd >= 0 && !e->ic[k].armed)
				icmp_arm(e, &e->ic[k], k);
		unsigned started = 0, nchunk = 0;
		if ((r = start_batch(e, &next, &started, &nchunk)) < 0)
			return r;
		bool more = next < e->n && started;
		/* Only HTTP left: libcurl's poll below waits. */
		if (e->pending && (r = ring_enter(e, http_left || more, nchunk)) < 0)
			return r;
		if (e->pending)
			reap(e);
		now = wgi_now_ns();
		if (e->icmp_out && now >= e->icmp_dl)
			icmp_expire(e, next, now);
		if (http_left) {
			if ((r = http_poll(e, http, evfd, more, now)) < 0)
				return r;
			http_left = (size_t)r;
		}
	}
	return 0;
}

int wgnl_probe_run(struct wgnl_probe *p, size_t n, const struct wgnl_probe_opts *opts,
		   struct wgnl_probe_stats *stats)
{
	struct wgnl_probe_opts o;
	struct wgnl_probe_stats st;
	struct wgi_http *http = NULL;
	struct eng e;
	int r = 0, evfd = -1;
	size_t answered = 0, n_icmp = 0, http_left = 0;
	bool ring_ok = false;

	memset(&o, 0, sizeof(o));
	if (opts &&
	    wgi_opts_copy(&o, sizeof(o), opts, WGI_SIZE_0_1(struct wgnl_probe_opts, fwmark)) < 0)
		return -EINVAL;
	o.size = sizeof(o);
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
	e.ic[0].slot = e.ic[1].slot = -1;
	e.icmp_dl = UINT64_MAX;
	if (sodium_init() < 0)
		return -EIO;

	if ((r = probes_check(&e, &n_icmp)) < 0)
		return r;
	if (e.pending && (r = eng_setup(&e, n_icmp, &ring_ok)) < 0)
		goto out;
	if ((r = wgi_http_new(p, n, &o, &st, &http)) < 0)
		goto out;
	if (http) {
		http_left = 1; /* the first step says how many */
		if (ring_ok) {
			/* The ring signals completions here; libcurl polls it
			 * together with its own sockets. */
			evfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
			if (evfd < 0 || io_uring_register_eventfd(&e.ring, evfd) < 0) {
				r = evfd < 0 ? -errno : -ENOMEM;
				goto out;
			}
			st.other_syscalls += 2;
		}
	}
	r = eng_loop(&e, http, evfd, http_left);
out:
	eng_teardown(&e, ring_ok);
	if (evfd >= 0)
		close(evfd);
	wgi_http_free(http);
	if (stats)
		*stats = st;
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++)
		if (p[i].status == 0 || p[i].status == -ECONNREFUSED)
			answered++;
	return (int)answered;
}
