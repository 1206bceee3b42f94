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

/* ---- the prober (lib/uring/probe.c is Linux-only: io_uring, libcurl) ----
 * wghealth's ping= and url= observations report -EOPNOTSUPP on Windows
 * until a Windows prober exists; not exported (lib/windows/not-exported.txt). */
int wgnl_probe_run(struct wgnl_probe *p, size_t n, const struct wgnl_probe_opts *opts,
		   struct wgnl_probe_stats *stats)
{
	return -EOPNOTSUPP;
}
/* ---- end prober stub ---- */
