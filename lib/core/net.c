// SPDX-License-Identifier: MIT
/* The public link, address, route and rule calls: each goes through the
 * network ops of the context (struct wgi_net_ops; rtnetlink on Linux), which
 * do the checking, the explaining and the -errno mapping documented in
 * wgnl.h. */
#include <errno.h>

#include "internal.h"

int wgnl_link_add(struct wgnl_ctx *ctx, const char *name, const char *kind)
{
	return ctx->net->link_add(ctx, name, kind);
}

int wgnl_link_del(struct wgnl_ctx *ctx, const char *name)
{
	return ctx->net->link_del(ctx, name);
}

int wgnl_link_get(struct wgnl_ctx *ctx, const char *name, struct wgnl_link *out)
{
	return ctx->net->link_get(ctx, name, out);
}

int wgnl_link_set_up(struct wgnl_ctx *ctx, const char *name, bool up)
{
	return ctx->net->link_set_up(ctx, name, up);
}

int wgnl_link_set_mtu(struct wgnl_ctx *ctx, const char *name, uint32_t mtu)
{
	return ctx->net->link_set_mtu(ctx, name, mtu);
}

int wgnl_addr_add(struct wgnl_ctx *ctx, const char *ifname, const struct wgnl_prefix *p)
{
	return ctx->net->addr_add(ctx, ifname, p);
}

int wgnl_addr_add_lifetime(struct wgnl_ctx *ctx, const char *ifname, const struct wgnl_prefix *p,
			   uint32_t valid_s, uint32_t preferred_s)
{
	/* Newer than the other ops: a network ops table without it (another
	 * OS's, not yet grown) says so rather than crash. */
	if (!ctx->net->addr_add_lifetime)
		return -EOPNOTSUPP;
	return ctx->net->addr_add_lifetime(ctx, ifname, p, valid_s, preferred_s);
}

int wgnl_addr_del(struct wgnl_ctx *ctx, const char *ifname, const struct wgnl_prefix *p)
{
	return ctx->net->addr_del(ctx, ifname, p);
}

int wgnl_addr_list(struct wgnl_ctx *ctx, const char *ifname, struct wgnl_prefix **ret)
{
	return ctx->net->addr_list(ctx, ifname, ret);
}

int wgnl_route_add(struct wgnl_ctx *ctx, const char *ifname, const struct wgnl_prefix *dst,
		   uint32_t table)
{
	return ctx->net->route_add(ctx, ifname, dst, table);
}

int wgnl_route_del(struct wgnl_ctx *ctx, const char *ifname, const struct wgnl_prefix *dst,
		   uint32_t table)
{
	return ctx->net->route_del(ctx, ifname, dst, table);
}

int wgnl_route_list(struct wgnl_ctx *ctx, const char *ifname, uint32_t table,
		    struct wgnl_prefix **ret)
{
	return ctx->net->route_list(ctx, ifname, table, ret);
}

int wgnl_rule_add(struct wgnl_ctx *ctx, const struct wgnl_rule *r)
{
	return ctx->net->rule_add(ctx, r);
}

int wgnl_rule_del(struct wgnl_ctx *ctx, const struct wgnl_rule *r)
{
	return ctx->net->rule_del(ctx, r);
}

int wgnl_rule_exists(struct wgnl_ctx *ctx, const struct wgnl_rule *r)
{
	return ctx->net->rule_exists(ctx, r);
}
