// SPDX-License-Identifier: MIT
/* Stand-ins for the two Windows seams until their real tables exist: every
 * op refuses with -EOPNOTSUPP and an explanation, so the library links and
 * every call that would need the driver or IP Helper fails cleanly.
 * Each section goes as a whole when its real table lands: wgi_nt_backend
 * in lib/windows/nt.c, wgi_iphlp_net in lib/windows/iphlp.c. */
#include <errno.h>

#include "core/internal.h"
#include "wgkit/wgnl_probe.h"

/* ---- wgi_nt_backend stub (replaced by lib/windows/nt.c) ---- */
static int nt_stub_get_device(struct wgnl_ctx *ctx, const char *ifname, struct wgnl_device **ret)
{
	*ret = NULL;
	wgi_set_error(ctx, "the wireguard-nt backend is not built in");
	return -EOPNOTSUPP;
}

static int nt_stub_set_device(struct wgnl_ctx *ctx, const struct wgnl_device *dev)
{
	wgi_set_error(ctx, "the wireguard-nt backend is not built in");
	return -EOPNOTSUPP;
}

static int nt_stub_list_devices(struct wgnl_ctx *ctx, char ***names, size_t *n)
{
	wgi_set_error(ctx, "the wireguard-nt backend is not built in");
	return -EOPNOTSUPP;
}

const struct wgi_backend_ops wgi_nt_backend = {
	.name = "wireguard-nt (stub)",
	.kind = WGNL_BACKEND_KERNEL,
	.get_device = nt_stub_get_device,
	.set_device = nt_stub_set_device,
	.list_devices = nt_stub_list_devices,
};
/* ---- end wgi_nt_backend stub ---- */

/* ---- wgi_iphlp_net stub (replaced by lib/windows/iphlp.c) ---- */
static int iphlp_stub(struct wgnl_ctx *ctx)
{
	wgi_set_error(ctx, "links, addresses and routes are not built in on Windows");
	return -EOPNOTSUPP;
}

static int iphlp_stub_link_add(struct wgnl_ctx *ctx, const char *name, const char *kind)
{
	return iphlp_stub(ctx);
}

static int iphlp_stub_link_name(struct wgnl_ctx *ctx, const char *name)
{
	return iphlp_stub(ctx);
}

static int iphlp_stub_link_get(struct wgnl_ctx *ctx, const char *name, struct wgnl_link *out)
{
	return iphlp_stub(ctx);
}

static int iphlp_stub_link_set_up(struct wgnl_ctx *ctx, const char *name, bool up)
{
	return iphlp_stub(ctx);
}

static int iphlp_stub_link_set_mtu(struct wgnl_ctx *ctx, const char *name, uint32_t mtu)
{
	return iphlp_stub(ctx);
}

static int iphlp_stub_addr(struct wgnl_ctx *ctx, const char *ifname, const struct wgnl_prefix *p)
{
	return iphlp_stub(ctx);
}

static int iphlp_stub_addr_list(struct wgnl_ctx *ctx, const char *ifname, struct wgnl_prefix **ret)
{
	*ret = NULL;
	return iphlp_stub(ctx);
}

static int iphlp_stub_route(struct wgnl_ctx *ctx, const char *ifname, const struct wgnl_prefix *dst,
			    uint32_t table)
{
	return iphlp_stub(ctx);
}

static int iphlp_stub_route_list(struct wgnl_ctx *ctx, const char *ifname, uint32_t table,
				 struct wgnl_prefix **ret)
{
	*ret = NULL;
	return iphlp_stub(ctx);
}

static int iphlp_stub_rule(struct wgnl_ctx *ctx, const struct wgnl_rule *r)
{
	return iphlp_stub(ctx);
}

const struct wgi_net_ops wgi_iphlp_net = {
	.name = "iphlpapi (stub)",
	.link_add = iphlp_stub_link_add,
	.link_del = iphlp_stub_link_name,
	.link_get = iphlp_stub_link_get,
	.link_set_up = iphlp_stub_link_set_up,
	.link_set_mtu = iphlp_stub_link_set_mtu,
	.addr_add = iphlp_stub_addr,
	.addr_del = iphlp_stub_addr,
	.addr_list = iphlp_stub_addr_list,
	.route_add = iphlp_stub_route,
	.route_del = iphlp_stub_route,
	.route_list = iphlp_stub_route_list,
	.rule_add = iphlp_stub_rule,
	.rule_del = iphlp_stub_rule,
	.rule_exists = iphlp_stub_rule,
};
/* ---- end wgi_iphlp_net stub ---- */

/* ---- the prober (lib/uring/probe.c is Linux-only: io_uring, libcurl) ----
 * wghealth's ping= and url= observations report -EOPNOTSUPP on Windows
 * until a Windows prober exists; not exported (lib/windows/not-exported.txt). */
int wgnl_probe_run(struct wgnl_probe *p, size_t n, const struct wgnl_probe_opts *opts,
		   struct wgnl_probe_stats *stats)
{
	return -EOPNOTSUPP;
}
/* ---- end prober stub ---- */
