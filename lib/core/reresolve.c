// SPDX-License-Identifier: MIT
/* Re-resolving endpoint host names (what wireguard-tools' reresolve-dns.sh
 * does from a timer, and wghealth's "reresolve" remedy): a peer behind a
 * dynamic address keeps working when its name moves. */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "internal.h"

int wgnl_device_reresolve(struct wgnl_ctx *ctx, const char *ifname, const struct wgnl_device *conf,
			  const struct wgnl_device *running, time_t now, unsigned stale_after,
			  struct wgnl_reresolve_stats *st)
{
	struct wgnl_reresolve_stats s = { 0 };
	struct wgnl_device *own = NULL, *chg;
	int r = 0;

	if (st)
		memset(st, 0, sizeof(*st));
	if (!ctx || !ifname || !conf)
		return -EINVAL;
	if (!running) {
		r = wgnl_device_get(ctx, ifname, &own);
		if (r < 0)
			return r;
		running = own;
	}
	chg = wgnl_device_new(ifname);
	if (!chg) {
		wgnl_device_free(own);
		return -ENOMEM;
	}
	for (size_t i = 0; i < conf->n_peers; i++) {
		const struct wgnl_peer *cp = &conf->peers[i];
		const struct wgnl_peer *rp = wgnl_device_find_peer(running, cp->public_key);
		union wgnl_endpoint ep;
		struct wgnl_peer *np;

		if (!cp->endpoint_name || !rp)
			continue;
		s.names++;
		/* A recent handshake proves the current endpoint works (and a
		 * roamed one must not be undone). */
		if (stale_after && rp->last_handshake.tv_sec &&
		    now - rp->last_handshake.tv_sec <= (time_t)stale_after) {
			s.fresh++;
			continue;
		}
		if (wgnl_endpoint_resolve(&ep, cp->endpoint_name) < 0) {
			s.failed++;
			continue;
		}
		if ((rp->flags & WGNL_PEER_HAS_ENDPOINT) && wgnl_endpoint_equal(&ep, &rp->endpoint))
			continue;
		r = wgnl_device_add_peer(chg, cp->public_key, &np);
		if (r < 0)
			break;
		/* Only the endpoint, and never a peer the device no longer has. */
		np->flags |= WGNL_PEER_HAS_ENDPOINT | WGNL_PEER_UPDATE_ONLY;
		np->endpoint = ep;
		s.changed++;
	}
	if (r >= 0 && s.changed)
		r = wgnl_device_set(ctx, chg);
	if (r < 0)
		s.changed = 0;
	wgnl_device_free(chg);
	wgnl_device_free(own);
	if (st)
		*st = s;
	return r < 0 ? r : (int)s.changed;
}
