/* SPDX-License-Identifier: MIT */
/* Private to lib/quick: what up, down and the sync plan share. */
#ifndef WGI_QUICK_H
#define WGI_QUICK_H

#include "wgkit/wgnl_quick.h"

/* The caller's options, copied from its sized struct (defaults past its
 * size), with @o NULL meaning all defaults. 0 or -EINVAL. */
int wgi_quick_opts(struct wgnl_quick_opts *dst, const struct wgnl_quick_opts *o);
/* Report @ev (kind, step, err and the fields set by the caller) to the
 * event callback, if any; @ev->ifname defaults to @ifname. Returns ev->err. */
int wgi_quick_emit(const struct wgnl_quick_opts *o, const char *ifname, struct wgnl_quick_event ev);
/* Run the hooks @cmds (key @key: "PreUp"...) through o->hook, %i replaced
 * by @ifname; stop at the first that fails (0 or its -errno; START and FAIL
 * events). */
int wgi_quick_hooks(const struct wgnl_quick_opts *o, const char *ifname, const char *key,
		    char **cmds, size_t n);
/* -EOPNOTSUPP (a FAIL event) when there are @n hooks and no o->hook. */
int wgi_quick_hooks_runnable(const struct wgnl_quick_opts *o, const char *ifname, const char *key,
			     size_t n);
/* Does any peer of @dev route the whole @family (a /0 allowed IP)? */
bool wgi_quick_has_default(const struct wgnl_device *dev, uint16_t family);
/* The two policy rules wg-quick adds for a default route via table @table. */
void wgi_quick_rules(uint16_t family, uint32_t table, struct wgnl_rule out[2]);
/* sysctl net.ipv4.conf.all.src_valid_mark=1, as wg-quick does for IPv4
 * policy routing (a WARN event when it cannot be set). Not undone. */
void wgi_quick_src_valid_mark(const struct wgnl_quick_opts *o, const char *ifname);

/* Does this OS route a full tunnel with bypass host routes instead of
 * policy rules (the network ops have bypass_add: Windows)? */
bool wgi_quick_bypass_mode(const struct wgnl_ctx *ctx);
/* The endpoint address of @peer as a host prefix into @out; false when the
 * peer has none (or not of @family, unless @family is 0). */
bool wgi_quick_endpoint_host(const struct wgnl_peer *peer, uint16_t family,
			     struct wgnl_prefix *out);

#endif
