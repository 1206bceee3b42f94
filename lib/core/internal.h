/* SPDX-License-Identifier: MIT */
/* Private to libwg-netlink: the context, the backend ops table and the
 * netlink transport shared by genl.c and rtnl.c. Never installed. */
#ifndef WGNL_INTERNAL_H
#define WGNL_INTERNAL_H

#include <libmnl/libmnl.h>
#include <linux/netlink.h>

#include "wgkit/wgnl.h"

#define WGI_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* One netlink socket with its own sequence counter. */
struct wgi_nl {
	struct mnl_socket *sock; /* NULL until first use */
	uint32_t portid;
	uint32_t seq;
};

/* A backend: one per way of talking to a WireGuard implementation. Chosen at
 * run time per device (see wgi_backend_for()). Each returns -errno and may
 * leave an explanation with wgi_set_error(). */
struct wgi_backend_ops {
	const char *name;
	int (*get_device)(struct wgnl_ctx *ctx, const char *ifname, struct wgnl_device **ret);
	int (*set_device)(struct wgnl_ctx *ctx, const struct wgnl_device *dev);
	/* Append the names of the devices this backend serves to *names (a
	 * growing NULL-terminated array of *n entries). */
	int (*list_devices)(struct wgnl_ctx *ctx, char ***names, size_t *n);
};

extern const struct wgi_backend_ops wgi_kernel_ops; /* genl.c */
extern const struct wgi_backend_ops wgi_uapi_ops;   /* uapi.c */

#define WGI_RECV_BUF (256 * 1024)
#define WGI_ERRMSG_LEN 256

struct wgnl_ctx {
	struct wgi_nl genl, rtnl;
	uint16_t genl_family; /* 0: not resolved yet */
	int caps;	      /* -1: not probed yet */
	enum wgnl_backend_kind backend;
	/* Tests may force a backend table (a test double). */
	const struct wgi_backend_ops *ops_override;
	char uapi_dir[108];
	char errmsg[WGI_ERRMSG_LEN]; /* "" when there is none */
	struct wgnl_stats stats;
	uint8_t *buf; /* WGI_RECV_BUF bytes, receive buffer */
};

/* Record an explanation for the failure being returned (printf-style). */
void wgi_set_error(struct wgnl_ctx *ctx, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void wgi_clear_error(struct wgnl_ctx *ctx);

/* The backend that serves @ifname. */
const struct wgi_backend_ops *wgi_backend_for(struct wgnl_ctx *ctx, const char *ifname);

/* ----------------------------------------------------- netlink transport */

/* Open @nl on @bus (NETLINK_GENERIC or NETLINK_ROUTE) if not open yet, with
 * NETLINK_EXT_ACK, NETLINK_CAP_ACK and a receive buffer large enough for big
 * dump messages. Returns 0 or -errno. */
int wgi_nl_open(struct wgnl_ctx *ctx, struct wgi_nl *nl, int bus);
void wgi_nl_close(struct wgi_nl *nl);

/* Called for every data message of a reply (not for ACK/ERROR/DONE). Return
 * MNL_CB_OK to go on, MNL_CB_ERROR (after setting *err in @data) to fail. */
typedef int (*wgi_nl_cb)(const struct nlmsghdr *nlh, void *data);

/* Send @nlh (its seq and portid are filled in here) and read the replies
 * until the ACK, error or NLMSG_DONE, calling @cb (may be NULL) for each
 * data message. Messages with a foreign seq or portid are skipped. The
 * kernel's extended ack message is kept in ctx->errmsg. Returns 0, or -errno
 * from the kernel, or -EINTR when a dump came with NLM_F_DUMP_INTR (the whole
 * reply has been read; the caller may restart), or -EBADMSG when the
 * callback failed or a message was malformed. */
int wgi_nl_transact(struct wgnl_ctx *ctx, struct wgi_nl *nl, struct nlmsghdr *nlh, wgi_nl_cb cb,
		    void *data);

/* Resolve the "wireguard" generic netlink family id into ctx->genl_family.
 * Returns 0, -EPROTONOSUPPORT (no WireGuard in this kernel) or -errno. */
int wgi_genl_family(struct wgnl_ctx *ctx);

/* Append a copy of @name to the NULL-terminated growing array *names of *n
 * entries. Returns 0 or -ENOMEM. */
int wgi_strv_push(char ***names, size_t *n, const char *name);

/* Look up the ifindex of @name (0 if none) via if_nametoindex. */
uint32_t wgi_ifindex(const char *name);

/* rtnl.c: append the names of links of @kind ("wireguard") to *names.
 * Returns 0 or -errno. */
int wgi_rtnl_list_kind(struct wgnl_ctx *ctx, const char *kind, char ***names, size_t *n);

/* ------------------------------------------------ model helpers (device.c) */

/* Rebuild the public-key index of @dev after its peers array was filled or
 * reordered directly. Returns 0 or -ENOMEM. */
int wgi_device_reindex(struct wgnl_device *dev);
/* Free what a peer owns (allowed IPs, endpoint name) and wipe its keys. */
void wgi_peer_clear(struct wgnl_peer *peer);

/* Generic growth for the contiguous arrays: make room for @need elements of
 * @size bytes in *@arr whose capacity is *@cap. Returns 0 or -ENOMEM. */
int wgi_grow(void **arr, size_t *cap, size_t need, size_t size);

#endif
