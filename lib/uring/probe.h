/* SPDX-License-Identifier: MIT */
/* Private to libwg-netlink: the HTTP half of the probe engine, driven in
 * steps from the io_uring loop so both kinds of probe run at once. */
#ifndef WGNL_PROBE_PRIV_H
#define WGNL_PROBE_PRIV_H

#include <stdbool.h>

#include "wgkit/wgnl_probe.h"

struct wgi_http;

/* Prepare the HTTP probes among @p (others untouched) on one libcurl multi
 * handle. *ret stays NULL (and 0 is returned) when there are none. Returns
 * 0 or -errno (-EINVAL: o->size 0; -ENOMEM; -EIO: libcurl failed to
 * initialise). */
int wgi_http_new(struct wgnl_probe *p, size_t n, const struct wgnl_probe_opts *o,
		 struct wgnl_probe_stats *st, struct wgi_http **ret);

/* One step: start probes up to the in-flight cap, let libcurl work, record
 * finished probes, then wait at most @timeout_ms (0: do not wait) for one
 * of libcurl's sockets or @fd (if >= 0) to become readable; *fd_ready says
 * whether @fd did. Returns the number of HTTP probes not finished yet, or
 * -errno. */
int wgi_http_step(struct wgi_http *h, int fd, int timeout_ms, bool *fd_ready);

/* Abort what is left and free. NULL-safe. */
void wgi_http_free(struct wgi_http *h);

#endif
