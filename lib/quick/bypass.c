// SPDX-License-Identifier: MIT
/* The bypass routes of a full tunnel where the OS has no policy routing
 * (Windows): put back the ones that went missing on a running tunnel. */
#include <errno.h>

#include "core/internal.h"
#include "quick.h"

/* Re-add the missing bypass routes of @family's endpoints. Count or -errno. */
static int repair_family(struct wgnl_ctx *ctx, const char *ifname, const struct wgnl_device *dev,
			 uint16_t family, const struct wgnl_quick_opts *o)
{
	int n = 0, r;

	for (size_t i = 0; i < dev->n_peers; i++) {
		struct wgnl_quick_event ev = { .kind = WGNL_QUICK_EV_START,
					       .step = WGNL_QUICK_BYPASS_ADD };

		if (!wgi_quick_endpoint_host(&dev->peers[i], family, &ev.prefix))
			continue;
		r = ctx->net->bypass_add(ctx, ifname, &ev.prefix);
		if (r < 0) {
			ev.kind = WGNL_QUICK_EV_FAIL;
			ev.err = r;
			return wgi_quick_emit(o, ifname, ev);
		}
		/* Only what was missing is reported (DONE: re-added): a check
		 * calls this often. */
		if (r == 1) {
			ev.kind = WGNL_QUICK_EV_DONE;
			wgi_quick_emit(o, ifname, ev);
			n++;
		}
	}
	return n;
}

int wgnl_quick_bypass_repair(struct wgnl_ctx *ctx, const char *ifname,
			     const struct wgnl_config *cfg, const struct wgnl_quick_opts *opts)
{
	static const uint16_t families[] = { AF_INET, AF_INET6 };
	struct wgnl_quick_opts o;
	struct wgnl_link link;
	int r, n = 0;

	r = wgi_quick_opts(&o, opts);
	if (r < 0)
		return r;
	if (!wgi_quick_bypass_mode(ctx) || cfg->quick.table_mode != WGNL_TABLE_AUTO)
		return 0;
	r = wgnl_link_get(ctx, ifname, &link);
	if (r < 0)
		return r;
	/* A tunnel that is down routes nothing: its bypass routes wait for up. */
	if (!link.up)
		return 0;
	for (size_t f = 0; f < WGI_ARRAY_SIZE(families); f++) {
		if (!wgi_quick_has_default(cfg->dev, families[f]))
			continue;
		r = repair_family(ctx, ifname, cfg->dev, families[f], &o);
		if (r < 0)
			return r;
		n += r;
	}
	return n;
}
