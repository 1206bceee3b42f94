/* SPDX-License-Identifier: MIT */
/* Private to libwg-netlink: the netlink transport shared by the kernel
 * WireGuard backend (genl.c) and the network ops (rtnl.c). Never installed. */
#ifndef WGNL_NL_H
#define WGNL_NL_H

#include <libmnl/libmnl.h>
#include <linux/netlink.h>

#include "core/internal.h"

/* One netlink socket with its own sequence counter. */
struct wgi_nl {
	struct mnl_socket *sock; /* NULL until first use */
	uint32_t portid;
	uint32_t seq;
};

/* Open @nl on @bus (NETLINK_GENERIC or NETLINK_ROUTE) if not open yet, with
 * NETLINK_EXT_ACK, NETLINK_CAP_ACK and a receive buffer large enough for big
 * dump messages. Returns 0 or -errno. */
int wgi_nl_open(struct wgnl_ctx *ctx, struct wgi_nl *nl, int bus);
void wgi_nl_close(struct wgi_nl *nl);

/* Called for every data message of a reply (not for ACK/ERROR/DONE). Return
 * MNL_CB_OK to go on, MNL_CB_ERROR (after setting *err in @data) to fail. */
typedef int (*wgi_nl_cb)(const struct nlmsghdr *nlh, void *data);

/* Send @nlh (its seq and portid are filled in here) and read the replies
 * into ctx->buf until the ACK, error or NLMSG_DONE, calling @cb (may be
 * NULL) for each data message. Messages with a foreign seq or portid are
 * skipped. The kernel's extended ack message is kept in ctx->errmsg.
 * Returns 0, or -errno from the kernel, or -EINTR when a dump came with
 * NLM_F_DUMP_INTR (the whole reply has been read; the caller may restart),
 * or -EBADMSG when the callback failed or a message was malformed. */
int wgi_nl_transact(struct wgnl_ctx *ctx, struct wgi_nl *nl, struct nlmsghdr *nlh, wgi_nl_cb cb,
		    void *data);

/* rtnl.c: append the names of links of @kind ("wireguard") to *names.
 * Returns 0 or -errno. */
int wgi_rtnl_list_kind(struct wgnl_ctx *ctx, const char *kind, char ***names, size_t *n);
/* rtnl.c: the rtnetlink socket of @ctx (the network ops' private state). */
struct wgi_nl *wgi_rtnl_nl(struct wgnl_ctx *ctx);

#endif
