/* SPDX-License-Identifier: MIT */
/* The adapter side of the wireguard-nt backend (lib/windows/nt.c), for the
 * rest of the Windows port (IP Helper needs the LUID; `up` creates the
 * adapter and sets it up). Names are UTF-8 as everywhere in the library.
 * Every call loads wireguard.dll on first use and returns -ENOENT (with the
 * explanation in wgnl_ctx_last_error()) when it is missing. Never installed. */
#ifndef WGI_WINDOWS_NT_H
#define WGI_WINDOWS_NT_H

#include <stdbool.h>
#include <stdint.h>

#include "core/internal.h"

/* Create adapter @name (tunnel type "wgkit"). wireguard-nt removes an
 * adapter when the handle that created it is closed, so the context keeps
 * it open and it lives until wgi_nt_adapter_delete() or wgnl_ctx_close().
 * Returns 0, -EEXIST, -ENOENT (no DLL), -EPERM or -errno. */
int wgi_nt_adapter_create(struct wgnl_ctx *ctx, const char *name);
/* Remove adapter @name, which this context created. -ENODEV: none of that
 * name; -EBUSY: it exists but another process created it (and only its
 * creator can remove it). */
int wgi_nt_adapter_delete(struct wgnl_ctx *ctx, const char *name);
/* The NET_LUID of @name into *luid. 0, -ENODEV or -errno. */
int wgi_nt_adapter_luid(struct wgnl_ctx *ctx, const char *name, uint64_t *luid);
/* Set @name up or down (WireGuardSetAdapterState). 0, -ENODEV or -errno. */
int wgi_nt_adapter_set_up(struct wgnl_ctx *ctx, const char *name, bool up);
/* 1 when @name is up, 0 when down, -ENODEV or -errno. */
int wgi_nt_adapter_is_up(struct wgnl_ctx *ctx, const char *name);
/* The running driver's version (major << 16 | minor) into *version. 0,
 * -ENOENT (no DLL, or the driver is not loaded: no adapter exists) or
 * -errno. */
int wgi_nt_driver_version(struct wgnl_ctx *ctx, uint32_t *version);

#endif
