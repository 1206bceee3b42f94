// SPDX-License-Identifier: MIT
/* wgctl helpers shared by the subcommands: errors, strict parsing, key
 * files, configs, device access. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wgctl.h"

struct wgctl_opts wgctl_opt;

bool wgctl_wants_help(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "help"))
		return true;
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
			return true;
	return false;
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

int wgctl_no_json(const char *cmd)
{
	if (!wgctl_opt.json)
		return 0;
	return wgctl_usage(cmd, "--json is not supported by this command");
}

bool wgctl_valid_ifname(const char *name)
{
	size_t n = strlen(name);

	if (!n || n >= WGNL_IFNAMSIZ || !strcmp(name, ".") || !strcmp(name, ".."))
		return false;
	for (const char *p = name; *p; p++)
		if (*p == '/' || *p == ':' || isspace((unsigned char)*p) || !isprint((unsigned char)*p))
			return false;
	return true;
}

int wgctl_open(struct wgnl_ctx **ctx)
{
	int r = wgnl_open(ctx);

	if (r < 0) {
		wgk_error("cannot open a netlink context: %s", strerror(-r));
		return WGK_EXIT_SYSTEM;
	}
	return 0;
}

const char *wgctl_reason(const struct wgnl_ctx *ctx, int r)
{
	static char buf[512];
	const char *why = ctx ? wgnl_last_error(ctx) : NULL;

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

int wgctl_get_device(struct wgnl_ctx *ctx, const char *ifname, struct wgnl_device **ret)
{
	struct wgnl_link link;
	int r;

	*ret = NULL;
	if (!wgctl_valid_ifname(ifname)) {
		wgk_error("invalid interface name '%s'", wgk_qs(ifname));
		return WGK_EXIT_INPUT;
	}
	r = wgnl_get_device(ctx, ifname, ret);
	if (r >= 0)
		return 0;
	if (r == -ENODEV || r == -ENOENT || r == -EPROTONOSUPPORT || r == -ENXIO) {
		/* Which of "no such link" and "not WireGuard" is it? */
		if (wgnl_link_get(ctx, ifname, &link) == -ENODEV)
			wgk_error("cannot read '%s': No such device", wgk_q(ifname));
		else if (r == -EPROTONOSUPPORT)
			wgk_error("cannot read '%s': not a WireGuard interface (no WireGuard "
				  "in this kernel and no userspace socket)", wgk_q(ifname));
		else
			wgk_error("cannot read '%s': not a WireGuard interface", wgk_q(ifname));
		return WGK_EXIT_NOTFOUND;
	}
	return wgctl_fail(ctx, r, "cannot read '%s'", wgk_q(ifname));
}

int wgctl_set_device(struct wgnl_ctx *ctx, const struct wgnl_device *dev, const char *what)
{
	int r = wgnl_set_device(ctx, dev);

	if (r >= 0)
		return 0;
	if (r == -EPROTONOSUPPORT || r == -ENOENT) {
		wgk_error("cannot %s on '%s': No such device", what, wgk_q(dev->name));
		return WGK_EXIT_NOTFOUND;
	}
	return wgctl_fail(ctx, r, "cannot %s on '%s'", what, wgk_q(dev->name));
}

int wgctl_parse_u32(const char *s, uint32_t max, bool hex, uint32_t *out)
{
	unsigned long long v = 0;
	int base = 10;
	const char *p = s;

	if (hex && p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		base = 16;
		p += 2;
	}
	if (!*p)
		return -EINVAL;
	for (; *p; p++) {
		int d;

		if (*p >= '0' && *p <= '9')
			d = *p - '0';
		else if (base == 16 && *p >= 'a' && *p <= 'f')
			d = *p - 'a' + 10;
		else if (base == 16 && *p >= 'A' && *p <= 'F')
			d = *p - 'A' + 10;
		else
			return -EINVAL;
		v = v * (unsigned)base + (unsigned)d;
		if (v > max)
			return -EINVAL;
	}
	*out = (uint32_t)v;
	return 0;
}

int wgctl_parse_keepalive(const char *s, uint16_t *out)
{
	uint32_t v;

	if (!strcmp(s, "off")) {
		*out = 0;
		return 0;
	}
	if (wgctl_parse_u32(s, 65535, false, &v) < 0)
		return -EINVAL;
	*out = (uint16_t)v;
	return 0;
}

int wgctl_parse_fwmark(const char *s, uint32_t *out)
{
	if (!strcmp(s, "off")) {
		*out = 0;
		return 0;
	}
	return wgctl_parse_u32(s, UINT32_MAX, true, out);
}

int wgctl_parse_pubkey(const char *cmd, const char *s, wgnl_key out)
{
	if (wgnl_key_from_base64(out, s) < 0) {
		wgk_error("%s: invalid public key '%s'", cmd, wgk_qs(s));
		return WGK_EXIT_INPUT;
	}
	return 0;
}

int wgctl_read_key_file(const char *cmd, const char *path, const char *what, wgnl_key out,
			bool *empty)
{
	char buf[128];
	size_t len = 0, start = 0;
	struct stat st;
	ssize_t n;
	int fd, r = 0;

	*empty = false;
	memset(out, 0, WGNL_KEY_LEN);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		if (r == -ENOENT && wgnl_text_may_be_key(path)) {
			wgk_error("%s: cannot read %s file: the argument looks like a key, not a "
				  "file name (not shown; give a file holding the key)", cmd, what);
			return WGK_EXIT_INPUT;
		}
		wgk_error("%s: cannot read %s file '%s': %s", cmd, what, wgk_qs(path), strerror(-r));
		return wgk_exit_for_file_errno(r);
	}
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & (S_IRWXG | S_IRWXO)))
		wgk_warn("%s file '%s' is accessible by group or others", what, wgk_qs(path));
	/* A key file is 44 characters and a newline: anything much longer is
	 * not a key file, so stop reading early. */
	while (len < sizeof(buf)) {
		n = read(fd, buf + len, sizeof(buf) - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			break;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	if (r < 0) {
		wgnl_wipe(buf, sizeof(buf));
		wgk_error("%s: cannot read %s file '%s': %s", cmd, what, wgk_qs(path), strerror(-r));
		return wgk_exit_for_file_errno(r);
	}
	if (len == sizeof(buf))
		goto bad;
	while (len && isspace((unsigned char)buf[len - 1]))
		len--;
	while (start < len && isspace((unsigned char)buf[start]))
		start++;
	if (start == len) {
		*empty = true;
		wgnl_wipe(buf, sizeof(buf));
		return 0;
	}
	if (len - start != WGNL_KEY_B64_LEN)
		goto bad;
	buf[len] = '\0';
	if (wgnl_key_from_base64(out, buf + start) < 0)
		goto bad;
	wgnl_wipe(buf, sizeof(buf));
	return 0;
bad:
	wgnl_wipe(buf, sizeof(buf));
	memset(out, 0, WGNL_KEY_LEN);
	wgk_error("%s: %s file '%s' does not hold a valid key", cmd, what, wgk_qs(path));
	return WGK_EXIT_INPUT;
}

int wgctl_conf_error(int r, const struct wgnl_conf_error *e, const char *path)
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
	struct wgnl_conf_error e;
	int r;

	memset(&e, 0, sizeof(e));
	r = wgnl_conf_parse_file(path, flags, ret, &e);
	if (r < 0)
		return wgctl_conf_error(r, &e, path);
	return 0;
}

void wgctl_conf_as_setconf(struct wgnl_device *dev)
{
	dev->flags |= WGNL_DEV_HAS_PRIVATE_KEY | WGNL_DEV_HAS_LISTEN_PORT | WGNL_DEV_HAS_FWMARK |
		      WGNL_DEV_REPLACE_PEERS;
	for (size_t i = 0; i < dev->n_peers; i++)
		dev->peers[i].flags |= WGNL_PEER_REPLACE_ALLOWEDIPS;
}

uint64_t wgctl_handshake_secs(const struct wgnl_peer *peer)
{
	if (!(peer->flags & WGNL_PEER_HAS_LAST_HANDSHAKE) || peer->last_handshake.tv_sec <= 0)
		return 0;
	return (uint64_t)peer->last_handshake.tv_sec;
}

void wgctl_device_tidy(struct wgnl_device *dev)
{
	wgnl_device_sort_allowedips(dev);
	for (size_t i = 0; i < dev->n_peers; i++) {
		struct wgnl_peer *p = &dev->peers[i];

		if (wgnl_key_is_zero(p->preshared_key))
			p->flags &= ~(uint32_t)WGNL_PEER_HAS_PRESHARED_KEY;
		if (!p->persistent_keepalive)
			p->flags &= ~(uint32_t)WGNL_PEER_HAS_KEEPALIVE;
	}
}
