/* SPDX-License-Identifier: MIT */
/* Private to libwg-netlink: the context and the two seams behind the public
 * calls, the WireGuard backend ops (get/set/list a device) and the network
 * ops (links, addresses, routes, rules). Nothing here knows how a backend
 * talks to its implementation: netlink lives in lib/linux/ (nl.h), the UAPI
 * socket in lib/uapi/. Never installed. */
#ifndef WGNL_INTERNAL_H
#define WGNL_INTERNAL_H

#include "wgkit/wgnl.h"

#define WGI_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* A WireGuard backend: one per way of talking to a WireGuard implementation
 * (in-kernel over generic netlink, a userspace one over its UAPI socket, a
 * test double). Chosen at run time per device, in one place: lib/core/ctx.c
 * (wgi_backend_for()). Every call returns -errno and may leave an
 * explanation with wgi_set_error(); none tests which backend it is. */
struct wgi_backend_ops {
	const char *name;
	enum wgnl_backend_kind kind; /* what wgnl_backend_detect() reports */
	/* Allocate the backend's private state into *priv when the context
	 * opens (no sockets yet: those open on first use); free it. NULL: no
	 * state. Reach it with wgi_backend_priv(). */
	int (*open)(void **priv);
	void (*close)(void *priv);
	/* Whether this backend serves @ifname right now. NULL: it serves every
	 * name no other backend claims (the fallback, the kernel on Linux). */
	bool (*claims)(struct wgnl_ctx *ctx, const char *ifname);
	int (*get_device)(struct wgnl_ctx *ctx, const char *ifname, struct wgnl_device **ret);
	/* As wgnl_device_get_stream(). NULL: read whole with get_device, then
	 * handed to the callback peer by peer. */
	int (*get_device_stream)(struct wgnl_ctx *ctx, const char *ifname, wgnl_peer_cb cb,
				 void *data, struct wgnl_device **ret);
	int (*set_device)(struct wgnl_ctx *ctx, const struct wgnl_device *dev);
	/* Append the names of the devices this backend serves to *names (a
	 * growing NULL-terminated array of *n entries). */
	int (*list_devices)(struct wgnl_ctx *ctx, char ***names, size_t *n);
	/* enum wgnl_caps_flags of what this backend's implementation supports,
	 * or -errno. NULL: none. */
	int (*caps)(struct wgnl_ctx *ctx);
	/* Remove every peer of @ifname in one transaction. NULL: set_device
	 * with an empty device and WGNL_DEV_REPLACE_PEERS. */
	int (*clear_peers)(struct wgnl_ctx *ctx, const char *ifname);
	/* Drop what the backend keeps for @ifname once its link is gone (a
	 * UAPI socket left by an implementation that died, which would
	 * answer no one). NULL: it keeps nothing. */
	void (*release_stale)(struct wgnl_ctx *ctx, const char *ifname);
};

extern const struct wgi_backend_ops wgi_kernel_ops; /* lib/linux/genl.c */
extern const struct wgi_backend_ops wgi_uapi_ops;   /* lib/uapi/uapi.c */

/* The network seam: links, addresses, routes and rules around a device, as
 * the public wgnl_link_* / wgnl_addr_* / wgnl_route_* / wgnl_rule_* calls
 * document them (which dispatch here unchanged). One per OS, chosen at
 * compile time in lib/core/ctx.c: rtnetlink on Linux. */
struct wgi_net_ops {
	const char *name;
	int (*open)(void **priv); /* as struct wgi_backend_ops; wgi_net_priv() */
	void (*close)(void *priv);
	int (*link_add)(struct wgnl_ctx *ctx, const char *name, const char *kind);
	int (*link_del)(struct wgnl_ctx *ctx, const char *name);
	int (*link_get)(struct wgnl_ctx *ctx, const char *name, struct wgnl_link *out);
	int (*link_set_up)(struct wgnl_ctx *ctx, const char *name, bool up);
	int (*link_set_mtu)(struct wgnl_ctx *ctx, const char *name, uint32_t mtu);
	int (*addr_add)(struct wgnl_ctx *ctx, const char *ifname, const struct wgnl_prefix *p);
	int (*addr_add_lifetime)(struct wgnl_ctx *ctx, const char *ifname,
				 const struct wgnl_prefix *p, uint32_t valid_s,
				 uint32_t preferred_s);
	int (*addr_del)(struct wgnl_ctx *ctx, const char *ifname, const struct wgnl_prefix *p);
	int (*addr_list)(struct wgnl_ctx *ctx, const char *ifname, struct wgnl_prefix **ret);
	int (*route_add)(struct wgnl_ctx *ctx, const char *ifname, const struct wgnl_prefix *dst,
			 uint32_t table);
	int (*route_del)(struct wgnl_ctx *ctx, const char *ifname, const struct wgnl_prefix *dst,
			 uint32_t table);
	int (*route_list)(struct wgnl_ctx *ctx, const char *ifname, uint32_t table,
			  struct wgnl_prefix **ret);
	int (*rule_add)(struct wgnl_ctx *ctx, const struct wgnl_rule *r);
	int (*rule_del)(struct wgnl_ctx *ctx, const struct wgnl_rule *r);
	int (*rule_exists)(struct wgnl_ctx *ctx, const struct wgnl_rule *r);
};

extern const struct wgi_net_ops wgi_rtnl_ops; /* lib/linux/rtnl.c */

#define WGI_RECV_BUF (256 * 1024)
#define WGI_ERRMSG_LEN 256
#define WGI_BACKENDS_MAX 4

struct wgnl_ctx {
	enum wgnl_backend_kind backend; /* forced, or WGNL_BACKEND_AUTO */
	/* Tests may force a backend table (a test double). */
	const struct wgi_backend_ops *ops_override;
	/* Each backend's private state, in the order of the table in ctx.c. */
	void *backend_priv[WGI_BACKENDS_MAX];
	const struct wgi_net_ops *net;
	void *net_priv;
	char errmsg[WGI_ERRMSG_LEN]; /* "" when there is none */
	struct wgnl_stats stats;
	/* WGI_RECV_BUF bytes any backend may use for one transaction (replies,
	 * requests); whoever leaves key material in it wipes it. */
	uint8_t *buf;
};

/* Record an explanation for the failure being returned (printf-style). */
void wgi_set_error(struct wgnl_ctx *ctx, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void wgi_clear_error(struct wgnl_ctx *ctx);

/* The backend that serves @ifname (a test double when one is installed). */
const struct wgi_backend_ops *wgi_backend_for(struct wgnl_ctx *ctx, const char *ifname);
/* The private state @ops allocated in this context (NULL if none). */
void *wgi_backend_priv(const struct wgnl_ctx *ctx, const struct wgi_backend_ops *ops);
/* The release_stale op of the backend serving @ifname, if it has one. */
void wgi_backend_release_stale(struct wgnl_ctx *ctx, const char *ifname);
/* The private state of the network ops. */
void *wgi_net_priv(const struct wgnl_ctx *ctx);
/* Remove every peer of the in-kernel WireGuard device @ifname (the link of
 * kind "wireguard" the network ops are about to delete). Returns 0 or
 * -errno. */
int wgi_kernel_device_clear_peers(struct wgnl_ctx *ctx, const char *ifname);

/* Append a copy of @name to the NULL-terminated growing array *names of *n
 * entries. Returns 0 or -ENOMEM. */
int wgi_strv_push(char ***names, size_t *n, const char *name);

/* Look up the ifindex of @name (0 if none) via if_nametoindex. */
uint32_t wgi_ifindex(const char *name);

/* ------------------------------------------------ model helpers (device.c) */

/* Rebuild the public-key index of @dev after its peers array was filled or
 * reordered directly. Returns 0 or -ENOMEM. */
int wgi_device_reindex(struct wgnl_device *dev);
/* Masked, sorted (wgnl_prefix_cmp), de-duplicated copy of @p's allowed IPs:
 * the set the kernel would hold. Into @small (WGI_SMALL_IPS entries) when
 * they fit, so the common peer costs no allocation, else into *heap (the
 * caller frees it). Returns the count or -ENOMEM; *out points at the copy. */
#define WGI_SMALL_IPS 8
ssize_t wgi_peer_canonical_ips(const struct wgnl_peer *p, struct wgnl_prefix *small,
			       struct wgnl_prefix **heap, struct wgnl_prefix **out);
/* Free what a peer owns (allowed IPs, endpoint name) and wipe its keys. */
void wgi_peer_clear(struct wgnl_peer *peer);

/* Generic growth for the contiguous arrays: make room for @need elements of
 * @size bytes in *@arr whose capacity is *@cap. Returns 0 or -ENOMEM. */
int wgi_grow(void **arr, size_t *cap, size_t need, size_t size);

#endif
