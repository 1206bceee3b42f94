// SPDX-License-Identifier: MIT
/* The error lines of a failed context, device, link or config operation and
 * their exit codes: wgctl's, and those of the wg-quick up and down that
 * wghealth's restart runs in-process (quickrun.c). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "fail.h"

int wgctl_open(struct wgnl_ctx **ctx)
{
	int r = wgnl_ctx_open(ctx);

	if (r < 0) {
		wgk_error("cannot open a netlink context: %s", strerror(-r));
		return WGK_EXIT_SYSTEM;
	}
	return 0;
}

const char *wgctl_reason(const struct wgnl_ctx *ctx, int r)
{
	static char buf[512];
	const char *why = ctx ? wgnl_ctx_last_error(ctx) : NULL;

	if (why && *why)
		snprintf(buf, sizeof(buf), "%s: %s", strerror(-r), wgk_q(why));
	else
		snprintf(buf, sizeof(buf), "%s", strerror(-r));
	return buf;
}

int wgctl_fail(const struct wgnl_ctx *ctx, int r, const char *fmt, ...)
{
	char what[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	wgk_error("%s: %s", what, wgctl_reason(ctx, r));
	return wgk_exit_for_errno(r);
}

int wgctl_get_error(struct wgnl_ctx *ctx, const char *ifname, int r)
{
	struct wgnl_link link;

	/* The backend itself is missing (Windows: no wireguard.dll): its
	 * explanation says what to install. */
	if (r == -ENOENT && ctx && wgnl_ctx_last_error(ctx)) {
		wgk_error("cannot read '%s': %s", wgk_q(ifname), wgnl_ctx_last_error(ctx));
		return WGK_EXIT_NOTFOUND;
	}
	if (r == -ENODEV || r == -ENOENT || r == -EPROTONOSUPPORT || r == -ENXIO) {
		/* Which of "no such link" and "not WireGuard" is it? */
		if (wgnl_link_get(ctx, ifname, &link) == -ENODEV)
			wgk_error("cannot read '%s': No such device", wgk_q(ifname));
		else if (r == -EPROTONOSUPPORT)
			wgk_error("cannot read '%s': not a WireGuard interface (no WireGuard "
				  "in this kernel and no userspace socket)",
				  wgk_q(ifname));
		else
			wgk_error("cannot read '%s': not a WireGuard interface", wgk_q(ifname));
		return WGK_EXIT_NOTFOUND;
	}
	return wgctl_fail(ctx, r, "cannot read '%s'", wgk_q(ifname));
}

int wgctl_set_error(struct wgnl_ctx *ctx, const char *ifname, int r, const char *what)
{
	if (r == -ENOENT && ctx && wgnl_ctx_last_error(ctx)) {
		wgk_error("cannot %s on '%s': %s", what, wgk_q(ifname), wgnl_ctx_last_error(ctx));
		return WGK_EXIT_NOTFOUND;
	}
	if (r == -EPROTONOSUPPORT || r == -ENOENT) {
		wgk_error("cannot %s on '%s': No such device", what, wgk_q(ifname));
		return WGK_EXIT_NOTFOUND;
	}
	return wgctl_fail(ctx, r, "cannot %s on '%s'", what, wgk_q(ifname));
}

int wgctl_conf_error(int r, const struct wgnl_config_error *e, const char *path)
{
	const char *file = e->file[0] ? e->file : path;
	const char *msg = e->message[0] ? e->message : strerror(-r);
	char where[400];
	size_t kl = strlen(e->key);

	if (e->line)
		snprintf(where, sizeof(where), "%s:%u", wgk_qs(file), e->line);
	else
		snprintf(where, sizeof(where), "%s", wgk_qs(file));
	/* Say the key once even when the message starts with it too. */
	if (kl && !strncmp(msg, e->key, kl) && msg[kl] == ':' && msg[kl + 1] == ' ')
		msg += kl + 2;
	if (e->key[0])
		wgk_error("%s: %s: %s", where, wgk_qs(e->key), wgk_q(msg));
	else
		wgk_error("%s: %s", where, wgk_q(msg));
	if (r == -EINVAL || r == -EHOSTUNREACH)
		return WGK_EXIT_INPUT;
	if (r == -ENOMEM)
		return WGK_EXIT_SYSTEM;
	return wgk_exit_for_file_errno(r);
}

int wgctl_load_conf(const char *path, unsigned flags, struct wgnl_config **ret)
{
	struct wgnl_config_error e;
	int r;

	memset(&e, 0, sizeof(e));
	r = wgnl_config_parse_file(path, flags, ret, &e);
	if (r < 0)
		return wgctl_conf_error(r, &e, path);
	return 0;
}

int wgctl_usage(const char *cmd, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	wgk_error("%s: %s (see 'wgctl %s --help')", cmd, msg, cmd);
	return WGK_EXIT_USAGE;
}
