// SPDX-License-Identifier: MIT
/* Stand-ins for what has no Windows implementation yet: each refuses with
 * -EOPNOTSUPP, so the library links and the call fails cleanly. (The
 * wireguard-nt backend is lib/windows/nt.c, the IP Helper seam
 * lib/windows/iphlp.c.) */
#include <errno.h>

#include "core/internal.h"
#include "wgkit/wgnl_probe.h"

/* ---- the prober (lib/uring/probe.c is Linux-only: io_uring, libcurl) ----
 * wghealth's ping= and url= observations report -EOPNOTSUPP on Windows
 * until a Windows prober exists; not exported (lib/windows/not-exported.txt). */
int wgnl_probe_run(struct wgnl_probe *p, size_t n, const struct wgnl_probe_opts *opts,
		   struct wgnl_probe_stats *stats)
{
	return -EOPNOTSUPP;
}
/* ---- end prober stub ---- */
