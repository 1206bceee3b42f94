/* SPDX-License-Identifier: MIT */
/* Error lines for library calls on devices, links and configs (fail.c), for
 * every tool that drives an interface (wgctl; wghealth's in-process
 * restart). Functions returning "an exit code" print their one error line
 * and return 0 on success. */
#ifndef WGK_FAIL_H
#define WGK_FAIL_H

#include "wgkit/wgnl.h"

#include "err.h"
#include "exitcodes.h"

/* wgctl's usage line, whoever runs the command (wgctl, or wghealth's
 * restart running wgctl's up and down): "wgctl: CMD: <message> (see
 * 'wgctl CMD --help')"; returns WGK_EXIT_USAGE. */
int wgctl_usage(const char *cmd, const char *fmt, ...) WGK_PRINTF(2, 3);
/* Open a context (exit code). */
int wgctl_open(struct wgnl_ctx **ctx);
/* strerror(-r), with the kernel's or the implementation's explanation
 * appended when @ctx has one. Static buffer. */
const char *wgctl_reason(const struct wgnl_ctx *ctx, int r);
/* Print "<what>: <reason>" and return the exit code for @r. */
int wgctl_fail(const struct wgnl_ctx *ctx, int r, const char *fmt, ...) WGK_PRINTF(3, 4);
/* The error lines of reading and setting device @ifname for the -errno @r
 * (exit code). A missing device is reported as not found whatever the
 * backend said (no kernel module, no socket). */
int wgctl_get_error(struct wgnl_ctx *ctx, const char *ifname, int r);
int wgctl_set_error(struct wgnl_ctx *ctx, const char *ifname, int r, const char *what);
/* Print a config parse error as "FILE:LINE: KEY: message" and return the
 * exit code. */
int wgctl_conf_error(int r, const struct wgnl_config_error *e, const char *path);
/* Parse config file @path (exit code). */
int wgctl_load_conf(const char *path, unsigned flags, struct wgnl_config **ret);

#endif
