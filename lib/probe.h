/* SPDX-License-Identifier: MIT */
/* Private to libwg-netlink: the HTTP half of the probe engine. */
#ifndef WGNL_PROBE_PRIV_H
#define WGNL_PROBE_PRIV_H

#include "wgkit/wgnl_probe.h"

/* Run the HTTP probes among @p (others untouched) with libcurl multi.
 * Returns 0 or -errno (-ENOMEM). */
int wgi_probe_http_run(struct wgnl_probe *p, size_t n, const struct wgnl_probe_opts *o,
		       struct wgnl_probe_stats *st);

#endif
