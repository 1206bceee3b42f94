// SPDX-License-Identifier: MIT
/* Netlink transport shared by the generic netlink (WireGuard) and rtnetlink
 * code: one socket per bus with its own sequence counter, extended acks, and
 * a reply loop that trusts nothing it did not ask for. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "nl.h"

#ifndef NETLINK_EXT_ACK
#define NETLINK_EXT_ACK 11
#endif
#ifndef NETLINK_CAP_ACK
#define NETLINK_CAP_ACK 10
#endif

int wgi_nl_open(struct wgnl_ctx *ctx, struct wgi_nl *nl, int bus)
{
	int one = 1, rcvbuf = 4 * 1024 * 1024;
	struct timespec ts;

	if (nl->sock)
		return 0;
	nl->sock = mnl_socket_open2(bus, SOCK_CLOEXEC);
	if (!nl->sock)
		return -errno;
	if (mnl_socket_bind(nl->sock, 0, MNL_SOCKET_AUTOPID) < 0) {
		int r = -errno;

		wgi_nl_close(nl);
		return r;
	}
	/* Both are best effort: old kernels lack them, and nothing breaks. */
	mnl_socket_setsockopt(nl->sock, NETLINK_EXT_ACK, &one, sizeof(one));
	mnl_socket_setsockopt(nl->sock, NETLINK_CAP_ACK, &one, sizeof(one));
	/* A 10k-peer dump arrives faster than small buffers drain; prefer the
	 * privileged FORCE variant and fall back silently. */
	if (setsockopt(mnl_socket_get_fd(nl->sock), SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf,
		       sizeof(rcvbuf)) < 0)
		setsockopt(mnl_socket_get_fd(nl->sock), SOL_SOCKET, SO_RCVBUF, &rcvbuf,
			   sizeof(rcvbuf));
	nl->portid = mnl_socket_get_portid(nl->sock);
	/* A per-socket counter, started somewhere unpredictable so replies to
	 * an earlier process's socket cannot be mistaken for ours. */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	nl->seq = (uint32_t)(ts.tv_nsec ^ (ts.tv_sec << 16) ^ getpid());
	(void)ctx;
	return 0;
}

void wgi_nl_close(struct wgi_nl *nl)
{
	if (nl->sock)
		mnl_socket_close(nl->sock);
	nl->sock = NULL;
}

static int ext_ack_attr_cb(const struct nlattr *attr, void *data)
{
	const struct nlattr **tb = data;
	uint16_t type = mnl_attr_get_type(attr);

	if (type == NLMSGERR_ATTR_MSG && mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) >= 0)
		tb[type] = attr;
	return MNL_CB_OK;
}

/* Keep the kernel's explanation from an NLMSG_ERROR or NLMSG_DONE carrying
 * extended-ack TLVs. */
static void keep_ext_ack(struct wgnl_ctx *ctx, const struct nlmsghdr *nlh, size_t tlv_off)
{
	const struct nlattr *tb[NLMSGERR_ATTR_MAX + 1] = { 0 };

	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS) || tlv_off >= nlh->nlmsg_len)
		return;
	if (mnl_attr_parse(nlh, (unsigned int)(tlv_off - MNL_NLMSG_HDRLEN), ext_ack_attr_cb, tb) <
	    0)
		return;
	if (tb[NLMSGERR_ATTR_MSG])
		wgi_set_error(ctx, "%s", mnl_attr_get_str(tb[NLMSGERR_ATTR_MSG]));
}

int wgi_nl_transact(struct wgnl_ctx *ctx, struct wgi_nl *nl, struct nlmsghdr *nlh, wgi_nl_cb cb,
		    void *data)
{
	bool interrupted = false, done = false;
	int result = 0, cb_err = 0;
	uint32_t seq;

	seq = ++nl->seq;
	nlh->nlmsg_seq = seq;
	nlh->nlmsg_pid = 0;
	/* Always ask for the ACK. Testing NLM_F_DUMP here would be wrong: its
	 * bits alias NLM_F_REPLACE and NLM_F_EXCL, so a NEWLINK/NEWROUTE with
	 * CREATE|EXCL or CREATE|REPLACE would get no ACK and the loop below
	 * would block. The kernel sends no ACK for a dump it started anyway
	 * (netlink_dump_start() returns -EINTR to suppress it). */
	nlh->nlmsg_flags |= NLM_F_ACK;
	if (mnl_socket_sendto(nl->sock, nlh, nlh->nlmsg_len) < 0)
		return -errno;

	while (!done) {
		ssize_t len = mnl_socket_recvfrom(nl->sock, ctx->buf, WGI_RECV_BUF);
		const struct nlmsghdr *m;
		int left;

		if (len < 0) {
			if (errno == EINTR)
				continue;
			/* ENOBUFS: the kernel dropped part of a reply. */
			return -errno;
		}
		m = (const struct nlmsghdr *)ctx->buf;
		left = (int)len;
		for (; !done && mnl_nlmsg_ok(m, left); m = mnl_nlmsg_next(m, &left)) {
			if (m->nlmsg_seq != seq || (m->nlmsg_pid && m->nlmsg_pid != nl->portid))
				continue; /* not the reply to this request */
			ctx->stats.recv_msgs++;
			if (m->nlmsg_flags & NLM_F_DUMP_INTR)
				interrupted = true;
			switch (m->nlmsg_type) {
			case NLMSG_ERROR: {
				const struct nlmsgerr *e = mnl_nlmsg_get_payload(m);
				size_t off = MNL_NLMSG_HDRLEN + sizeof(*e);

				done = true;
				if (m->nlmsg_len < MNL_NLMSG_HDRLEN + sizeof(*e)) {
					result = -EBADMSG;
					break;
				}
				/* Unless capped, a failed request is echoed back
				 * before the TLVs. */
				if (!(m->nlmsg_flags & NLM_F_CAPPED) && e->error)
					off = MNL_NLMSG_HDRLEN + sizeof(e->error) +
					      MNL_ALIGN(e->msg.nlmsg_len);
				if (e->error)
					keep_ext_ack(ctx, m, off);
				result = e->error > 0 ? -e->error : e->error;
				break;
			}
			case NLMSG_DONE: {
				int err = 0;

				done = true;
				if (m->nlmsg_len >= MNL_NLMSG_HDRLEN + sizeof(int))
					memcpy(&err, mnl_nlmsg_get_payload(m), sizeof(err));
				if (err)
					keep_ext_ack(ctx, m, MNL_NLMSG_HDRLEN + sizeof(int));
				result = err > 0 ? -err : err;
				break;
			}
			case NLMSG_NOOP:
			case NLMSG_OVERRUN:
				break;
			default:
				/* After a callback failure keep reading to the
				 * end, so the socket stays in step. */
				if (!cb_err && cb && cb(m, data) < MNL_CB_OK)
					cb_err = -EBADMSG;
			}
		}
	}
	if (result)
		return result;
	/* An interrupted dump may be inconsistent enough to fail a parser
	 * (a peer seen twice): the caller should restart, not give up. */
	if (interrupted)
		return -EINTR;
	return cb_err;
}
