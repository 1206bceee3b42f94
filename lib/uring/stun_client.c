/* SPDX-License-Identifier: MIT */
/* The STUN client: concurrent Binding transactions from one UDP socket over
 * io_uring, retransmitted per RFC 8489 section 6.2.1 (RTO doubling, Rc
 * sends, a last wait of Rm * RTO), and the RFC 5780 behaviour tests. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "core/opts.h"
#include "uring.h"
#include "wgkit/wgnl_stun.h"

#define BGID 1
#define REQ_BUF 64

enum {
	UD_RECV = 1,
	UD_SEND = 2,
	UD_CANCEL = 3
};
/* user_data: a query's generation (bits 40-63, so a late completion of an
 * earlier query is never taken for one of this query's), kind, index. */
#define UD(c, kind, idx) \
	(((uint64_t)((c)->gen & 0xffffff) << 40) | ((uint64_t)(kind) << 32) | (uint32_t)(idx))
#define UD_KIND(ud) ((unsigned)((ud) >> 32) & 0xff)
#define UD_MINE(c, ud) (((ud) >> 40) == ((c)->gen & 0xffffff))

struct wgnl_stun_client {
	int fd;
	int family;
	struct io_uring ring;
	bool ring_ok, armed;
	uint32_t gen; /* of the current query */
	struct wgi_bufring br;
	struct msghdr rmh;
	struct wgnl_stun_client_opts o;
	/* Send state of a query whose sends could not be reaped (only if
	 * cancelling failed): freed after the ring, never before. */
	struct orphan *orphans;
};

struct orphan {
	struct orphan *next;
	void *p;
};

/* Per-call send state of one query. */
struct tx {
	struct msghdr mh;
	struct iovec iov;
	uint8_t buf[REQ_BUF];
	size_t len;
	unsigned inflight; /* sends submitted, completion not yet seen */
	bool done;
	uint8_t tid[WGNL_STUN_TID_LEN];
	uint64_t next_ns, rto_ns; /* next (re)send; the current RTO */
};

int wgnl_stun_client_new(const struct wgnl_stun_client_opts *opts, int family,
			 struct wgnl_stun_client **ret)
{
	struct wgnl_stun_client *c;
	int r;

	*ret = NULL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->fd = -1;
	if (opts && wgi_opts_copy(&c->o, sizeof(c->o), opts,
				  WGI_SIZE_0_1(struct wgnl_stun_client_opts, fingerprint)) < 0) {
		free(c);
		return -EINVAL;
	}
	if (!c->o.rto_ms)
		c->o.rto_ms = 500;
	if (!c->o.max_tries)
		c->o.max_tries = 7;
	if (!c->o.rm)
		c->o.rm = 16;
	if (!c->o.timeout_ms)
		c->o.timeout_ms = 39500;
	c->family = c->o.local.addr.sa_family ? c->o.local.addr.sa_family : family;
	if (c->family != AF_INET && c->family != AF_INET6) {
		r = -EINVAL;
		goto fail;
	}
	union wgnl_endpoint any;
	memset(&any, 0, sizeof(any));
	any.addr.sa_family = (sa_family_t)c->family;
	r = wgi_socket(c->family, SOCK_DGRAM, 0, c->o.local.addr.sa_family ? &c->o.local : &any,
		       c->o.ifname, c->o.fwmark);
	if (r < 0)
		goto fail;
	c->fd = r;
	if ((r = wgi_uring_init(&c->ring, 256)) < 0)
		goto fail;
	c->ring_ok = true;
	if ((r = wgi_bufring_init(&c->br, &c->ring, 64, 2048, BGID)) < 0)
		goto fail;
	c->rmh.msg_namelen = (sizeof(struct sockaddr_in6) + 7) & ~7U; /* keeps the cmsgs aligned */
	*ret = c;
	return 0;
fail:
	wgnl_stun_client_free(c);
	return r;
}

void wgnl_stun_client_free(struct wgnl_stun_client *c)
{
	if (!c)
		return;
	if (c->ring_ok) {
		wgi_bufring_free(&c->br, &c->ring);
		io_uring_queue_exit(&c->ring);
	}
	if (c->fd >= 0)
		close(c->fd);
	while (c->orphans) {
		struct orphan *o = c->orphans;
		c->orphans = o->next;
		free(o->p);
		free(o);
	}
	free(c);
}

int wgnl_stun_client_local(const struct wgnl_stun_client *c, union wgnl_endpoint *out)
{
	socklen_t l = sizeof(*out);
	memset(out, 0, sizeof(*out));
	return getsockname(c->fd, &out->addr, &l) < 0 ? -errno : 0;
}

static int send_one(struct wgnl_stun_client *c, struct tx *t, struct wgnl_stun_query *q, size_t i)
{
	struct io_uring_sqe *sqe = wgi_get_sqe(&c->ring);
	if (!sqe)
		return -EBUSY;
	t->iov.iov_base = t->buf;
	t->iov.iov_len = t->len;
	memset(&t->mh, 0, sizeof(t->mh));
	t->mh.msg_name = &q->server;
	t->mh.msg_namelen = wgi_ep_len(&q->server);
	t->mh.msg_iov = &t->iov;
	t->mh.msg_iovlen = 1;
	io_uring_prep_sendmsg(sqe, c->fd, &t->mh, 0);
	io_uring_sqe_set_data64(sqe, UD(c, UD_SEND, i));
	t->inflight++;
	q->tries++;
	return 0;
}

static void on_message(struct wgnl_stun_query *q, struct tx *tx, size_t n, const uint8_t *p,
		       size_t len, const union wgnl_endpoint *from, uint64_t now, size_t *pending)
{
	struct wgnl_stun_msg m;
	int r = wgnl_stun_decode(p, len, &m);
	if (r < 0 || m.method != 1)
		return;
	for (size_t i = 0; i < n; i++) {
		if (tx[i].done || memcmp(tx[i].tid, m.tid, WGNL_STUN_TID_LEN))
			continue;
		if (m.klass == WGNL_STUN_CLASS_REQUEST) {
			q[i].flags = WGNL_STUN_HAS_SELF;
			q[i].status = 0;
		} else if (m.klass == WGNL_STUN_CLASS_SUCCESS) {
			if (!(m.flags & (WGNL_STUN_HAS_XOR_MAPPED | WGNL_STUN_HAS_MAPPED)))
				return; /* useless answer: keep waiting */
			q[i].flags = m.flags;
			q[i].mapped = (m.flags & WGNL_STUN_HAS_XOR_MAPPED) ? m.xor_mapped :
									     m.mapped;
			q[i].response_origin = m.response_origin;
			q[i].other_address = m.other_address;
			q[i].status = 0;
		} else if (m.klass == WGNL_STUN_CLASS_ERROR) {
			q[i].flags = m.flags;
			q[i].error_code = m.error_code;
			q[i].status = -EPROTO;
		} else {
			return;
		}
		q[i].from = *from;
		wgi_ep_unmap(&q[i].from);
		/* RTT from the last transmission: with retransmissions the
		 * answer may belong to an earlier one (RFC 8489 6.2.1 caveat). */
		q[i].rtt_ns = now - (tx[i].next_ns - tx[i].rto_ns);
		tx[i].done = true;
		(*pending)--;
		return;
	}
}

/* Free @tx once no send refers to it. A send the kernel could not queue
 * (socket buffer full) is parked by io_uring on a poll and reads its buffer
 * when the buffer drains, after this call returned: cancel whatever is
 * still in flight and wait for every send's completion, then free. Bounded:
 * if completions do not come (a kernel without IORING_ASYNC_CANCEL_ALL, a
 * send stuck in the network stack), @tx is kept until the client is freed
 * rather than freed under the kernel. Receive completions seen meanwhile
 * give their buffers back. */
static void reap(struct wgnl_stun_client *c, struct tx *tx, size_t n)
{
	unsigned inflight = 0;

	for (size_t i = 0; i < n; i++) {
		if (!tx[i].inflight)
			continue;
		inflight += tx[i].inflight;
		struct io_uring_sqe *sqe = wgi_get_sqe(&c->ring);
		if (sqe) {
			io_uring_prep_cancel64(sqe, UD(c, UD_SEND, i), IORING_ASYNC_CANCEL_ALL);
			io_uring_sqe_set_data64(sqe, UD(c, UD_CANCEL, 0));
		}
	}
	io_uring_submit(&c->ring);
	uint64_t deadline = wgi_now_ns() + 2000000000ULL;
	for (;;) {
		struct io_uring_cqe *cqe;
		unsigned head, seen = 0;
		io_uring_for_each_cqe (&c->ring, head, cqe) {
			uint64_t ud = io_uring_cqe_get_data64(cqe);
			unsigned kind = UD_KIND(ud), idx = (uint32_t)ud;
			seen++;
			if (kind == UD_SEND && UD_MINE(c, ud) && idx < n && tx[idx].inflight) {
				tx[idx].inflight--;
				inflight--;
			} else if (kind == UD_RECV) {
				if (!(cqe->flags & IORING_CQE_F_MORE))
					c->armed = false;
				if (cqe->flags & IORING_CQE_F_BUFFER)
					wgi_bufring_recycle(&c->br,
							    (uint16_t)(cqe->flags >>
								       IORING_CQE_BUFFER_SHIFT));
			}
		}
		io_uring_cq_advance(&c->ring, seen);
		wgi_bufring_publish(&c->br);
		if (!inflight || wgi_now_ns() >= deadline)
			break;
		struct __kernel_timespec ts = { 0, 10000000 };
		io_uring_wait_cqe_timeout(&c->ring, &cqe, &ts);
	}
	if (!inflight) {
		free(tx);
		return;
	}
	struct orphan *o = malloc(sizeof(*o));
	if (o) { /* else leaked: still better than freed under the kernel */
		o->p = tx;
		o->next = c->orphans;
		c->orphans = o;
	}
}

/* Reset the outputs of the @n queries, build each request with a fresh
 * transaction id and send it once. 0 or -errno. */
static int queries_start(struct wgnl_stun_client *c, struct wgnl_stun_query *q, struct tx *tx,
			 size_t n, uint64_t start, uint64_t rto0)
{
	int r;

	for (size_t i = 0; i < n; i++) {
		q[i].status = -ETIMEDOUT;
		q[i].flags = 0;
		q[i].tries = 0;
		q[i].rtt_ns = 0;
		q[i].error_code = 0;
		memset(&q[i].mapped, 0, sizeof(q[i].mapped));
		memset(&q[i].from, 0, sizeof(q[i].from));
		if ((r = wgnl_stun_tid_random(tx[i].tid)) < 0)
			return r;
		r = wgnl_stun_build_request(tx[i].buf, sizeof(tx[i].buf), tx[i].tid, q[i].change, 0,
					    0, c->o.fingerprint);
		if (r < 0)
			return r;
		tx[i].len = (size_t)r;
		tx[i].rto_ns = rto0;
		tx[i].next_ns = start + rto0;
		if ((r = send_one(c, &tx[i], &q[i], i)) < 0)
			return r;
	}
	return 0;
}

/* (Re)arm the multishot receive if the last one ended. 0 or -EBUSY. */
static int recv_arm(struct wgnl_stun_client *c)
{
	if (c->armed)
		return 0;
	struct io_uring_sqe *sqe = wgi_get_sqe(&c->ring);
	if (!sqe)
		return -EBUSY;
	io_uring_prep_recvmsg_multishot(sqe, c->fd, &c->rmh, 0);
	sqe->flags |= IOSQE_BUFFER_SELECT;
	sqe->buf_group = BGID;
	io_uring_sqe_set_data64(sqe, UD(c, UD_RECV, 0));
	c->armed = true;
	return 0;
}

/* Submit and wait for one completion, at most until the next (re)send is
 * due or the run's @hard deadline. 0 or a fatal -errno. */
static int wait_next(struct wgnl_stun_client *c, const struct tx *tx, size_t n, uint64_t hard)
{
	uint64_t now = wgi_now_ns(), next = hard;
	struct __kernel_timespec ts = { 0, 0 };
	struct io_uring_cqe *cqe;

	for (size_t i = 0; i < n; i++)
		if (!tx[i].done && tx[i].next_ns < next)
			next = tx[i].next_ns;
	if (next > now) {
		ts.tv_sec = (long long)((next - now) / 1000000000);
		ts.tv_nsec = (long long)((next - now) % 1000000000);
	}
	int r = io_uring_submit_and_wait_timeout(&c->ring, &cqe, 1, &ts, NULL);
	if (r < 0 && r != -ETIME && r != -EINTR)
		return r;
	return 0;
}

/* Take what completed: failed sends end their query, answers go to
 * on_message(), receive buffers go back to the ring. */
static void take_completions(struct wgnl_stun_client *c, struct wgnl_stun_query *q, struct tx *tx,
			     size_t n, uint64_t now, size_t *pending)
{
	struct io_uring_cqe *cqe;
	unsigned head, seen = 0;

	io_uring_for_each_cqe (&c->ring, head, cqe) {
		uint64_t ud = io_uring_cqe_get_data64(cqe);
		unsigned kind = UD_KIND(ud), idx = (uint32_t)ud;
		seen++;
		if (kind == UD_SEND) {
			if (!UD_MINE(c, ud) || idx >= n)
				continue;
			if (tx[idx].inflight)
				tx[idx].inflight--;
			if (cqe->res < 0 && !tx[idx].done) {
				q[idx].status = cqe->res;
				tx[idx].done = true;
				(*pending)--;
			}
			continue;
		}
		if (kind != UD_RECV)
			continue; /* a late cancel's completion */
		if (!(cqe->flags & IORING_CQE_F_MORE))
			c->armed = false;
		if (!(cqe->flags & IORING_CQE_F_BUFFER))
			continue;
		uint16_t bid = (uint16_t)(cqe->flags >> IORING_CQE_BUFFER_SHIFT);
		uint8_t *buf = wgi_bufring_take(&c->br, bid, cqe->res);
		struct io_uring_recvmsg_out *o;
		if (cqe->res > 0 && (o = io_uring_recvmsg_validate(buf, cqe->res, &c->rmh)) &&
		    !(o->flags & MSG_TRUNC)) {
			union wgnl_endpoint from;
			memset(&from, 0, sizeof(from));
			memcpy(&from, io_uring_recvmsg_name(o),
			       o->namelen < sizeof(from) ? o->namelen : sizeof(from));
			on_message(q, tx, n, io_uring_recvmsg_payload(o, &c->rmh),
				   io_uring_recvmsg_payload_length(o, cqe->res, &c->rmh), &from,
				   now, pending);
		}
		wgi_bufring_recycle(&c->br, bid);
	}
	io_uring_cq_advance(&c->ring, seen);
	wgi_bufring_publish(&c->br);
}

/* Resend the queries whose RTO ran out, or end them after max_tries
 * sends. 0 or -errno. */
static int retransmit_due(struct wgnl_stun_client *c, struct wgnl_stun_query *q, struct tx *tx,
			  size_t n, uint64_t now, uint64_t rto0, size_t *pending)
{
	int r;

	for (size_t i = 0; i < n; i++) {
		if (tx[i].done || tx[i].next_ns > now)
			continue;
		if (q[i].tries >= c->o.max_tries) {
			tx[i].done = true; /* status stays -ETIMEDOUT */
			(*pending)--;
			continue;
		}
		tx[i].rto_ns *= 2;
		/* After the last send wait Rm times the initial RTO. */
		uint64_t wait = q[i].tries + 1 >= c->o.max_tries ? rto0 * c->o.rm : tx[i].rto_ns;
		tx[i].next_ns = now + wait;
		tx[i].rto_ns = wait;
		if ((r = send_one(c, &tx[i], &q[i], i)) < 0)
			return r;
	}
	return 0;
}

int wgnl_stun_client_query(struct wgnl_stun_client *c, struct wgnl_stun_query *q, size_t n)
{
	struct tx *tx;
	size_t pending = n;
	uint64_t start = wgi_now_ns(), now;
	uint64_t hard = start + (uint64_t)c->o.timeout_ms * 1000000;
	uint64_t rto0 = (uint64_t)c->o.rto_ms * 1000000;
	int r = 0, answered = 0;

	if (n == 0)
		return 0;
	c->gen++;
	tx = calloc(n, sizeof(*tx));
	if (!tx)
		return -ENOMEM;
	if ((r = queries_start(c, q, tx, n, start, rto0)) < 0)
		goto out;
	while (pending) {
		if ((r = recv_arm(c)) < 0 || (r = wait_next(c, tx, n, hard)) < 0)
			goto out;
		now = wgi_now_ns();
		take_completions(c, q, tx, n, now, &pending);
		if (now >= hard)
			break;
		if ((r = retransmit_due(c, q, tx, n, now, rto0, &pending)) < 0)
			goto out;
	}
	for (size_t i = 0; i < n; i++)
		if (q[i].status == 0 || q[i].status == -EPROTO)
			answered++;
out:
	reap(c, tx, n);
	return r < 0 ? r : answered;
}

const char *wgnl_stun_nat_behaviour_name(enum wgnl_stun_nat_behaviour b)
{
	switch (b) {
	case WGNL_STUN_NAT_NONE:
		return "no-nat";
	case WGNL_STUN_NAT_ENDPOINT_INDEPENDENT:
		return "endpoint-independent";
	case WGNL_STUN_NAT_ADDRESS_DEPENDENT:
		return "address-dependent";
	case WGNL_STUN_NAT_ADDRESS_PORT_DEPENDENT:
		return "address-and-port-dependent";
	default:
		return "unknown";
	}
}

static int one_query(struct wgnl_stun_client *c, const union wgnl_endpoint *server, uint32_t change,
		     struct wgnl_stun_query *q)
{
	memset(q, 0, sizeof(*q));
	q->server = *server;
	q->change = change;
	int r = wgnl_stun_client_query(c, q, 1);
	return r < 0 ? r : q->status;
}

/* The local address packets to @server leave from (for a wildcard bind). */
static void local_address(struct wgnl_stun_client *c, const union wgnl_endpoint *server,
			  union wgnl_endpoint *out)
{
	wgnl_stun_client_local(c, out);
	if (!wgi_ep_is_any(out))
		return;
	int fd = wgi_socket(server->addr.sa_family, SOCK_DGRAM, 0, NULL, c->o.ifname, c->o.fwmark);
	if (fd < 0)
		return;
	union wgnl_endpoint l;
	socklen_t len = sizeof(l);
	/* connect() on UDP sends nothing: it only picks the route and source. */
	if (connect(fd, &server->addr, wgi_ep_len(server)) == 0 &&
	    getsockname(fd, &l.addr, &len) == 0) {
		uint16_t port = wgi_ep_port(out);
		*out = l;
		wgi_ep_set_port(out, port);
	}
	close(fd);
}

int wgnl_stun_nat_discover(struct wgnl_stun_client *c, const union wgnl_endpoint *server,
			   struct wgnl_stun_nat_result *res)
{
	struct wgnl_stun_query q1, q2, q3;
	struct wgnl_stun_client *f = NULL;
	int r;

	memset(res, 0, sizeof(*res));
	res->hairpin = -1;
	local_address(c, server, &res->local);

	/* Mapping test I. */
	r = one_query(c, server, 0, &q1);
	if (r < 0)
		return r == -EPROTO ? -EPROTO : r;
	res->mapped = q1.mapped;
	wgi_ep_unmap(&res->mapped);
	bool natted = !wgi_ep_equal(&res->mapped, &res->local);
	if (q1.flags & WGNL_STUN_HAS_OTHER_ADDRESS)
		res->other_address = q1.other_address;

	/* Hairpinning: a request to our own mapped address must come back
	 * to us through the NAT (RFC 5780 4.5). */
	if (natted) {
		r = one_query(c, &res->mapped, 0, &q2);
		res->hairpin = (r == 0 && (q2.flags & WGNL_STUN_HAS_SELF)) ? 1 : 0;
	}

	if (!(q1.flags & WGNL_STUN_HAS_OTHER_ADDRESS) ||
	    res->other_address.addr.sa_family != server->addr.sa_family ||
	    wgi_ep_same_ip(&res->other_address, server))
		return 0;

	/* Mapping test II: the alternate address, the primary port. */
	union wgnl_endpoint alt_ip = res->other_address;
	wgi_ep_set_port(&alt_ip, wgi_ep_port(server));
	if (one_query(c, &alt_ip, 0, &q2) < 0)
		return 0;
	res->rfc5780 = true;
	if (!natted) {
		res->mapping = WGNL_STUN_NAT_NONE;
	} else if (wgi_ep_equal(&q2.mapped, &res->mapped)) {
		res->mapping = WGNL_STUN_NAT_ENDPOINT_INDEPENDENT;
	} else {
		/* Mapping test III: alternate address and port. */
		if (one_query(c, &res->other_address, 0, &q3) == 0)
			res->mapping = wgi_ep_equal(&q3.mapped, &q2.mapped) ?
					       WGNL_STUN_NAT_ADDRESS_DEPENDENT :
					       WGNL_STUN_NAT_ADDRESS_PORT_DEPENDENT;
	}
	res->varies_by_destination = res->mapping == WGNL_STUN_NAT_ADDRESS_DEPENDENT ||
				     res->mapping == WGNL_STUN_NAT_ADDRESS_PORT_DEPENDENT;

	/* Filtering tests from a fresh socket, so the mapping tests' traffic
	 * to the alternate address has not opened the filter already. */
	struct wgnl_stun_client_opts fo = c->o;
	union wgnl_endpoint local;
	wgnl_stun_client_local(c, &local);
	memset(&fo.local, 0, sizeof(fo.local));
	fo.local.addr.sa_family = local.addr.sa_family;
	if (local.addr.sa_family == AF_INET)
		fo.local.addr4.sin_addr = local.addr4.sin_addr;
	else if (local.addr.sa_family == AF_INET6)
		fo.local.addr6.sin6_addr = local.addr6.sin6_addr;
	if (wgnl_stun_client_new(&fo, server->addr.sa_family, &f) < 0)
		return 0;
	if (one_query(f, server, 0, &q1) == 0) {
		if (one_query(f, server, WGNL_STUN_CHANGE_IP | WGNL_STUN_CHANGE_PORT, &q2) == 0)
			res->filtering = WGNL_STUN_NAT_ENDPOINT_INDEPENDENT;
		else if (one_query(f, server, WGNL_STUN_CHANGE_PORT, &q3) == 0)
			res->filtering = WGNL_STUN_NAT_ADDRESS_DEPENDENT;
		else
			res->filtering = WGNL_STUN_NAT_ADDRESS_PORT_DEPENDENT;
	}
	wgnl_stun_client_free(f);
	return 0;
}
