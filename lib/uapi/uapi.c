// SPDX-License-Identifier: MIT
/* The UAPI backend: userspace WireGuard (wireguard-go, boringtun) over the
 * text protocol on <uapi_dir>/<ifname>.sock. One connection per transaction:
 * `get=1` is answered by key=value lines, `set=1` by a single errno line; both
 * end with `errno=N` and a blank line. Replies are parsed as they stream in,
 * in one pass, so a 10k-peer device costs one read of its text. */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <sodium.h>

#include "uapi.h"

/* ------------------------------------------------------------ the socket */

#define WGI_UAPI_DEFAULT_DIR "/var/run/wireguard"

/* The backend's private state in a context. */
struct uapi_state {
	char dir[108]; /* of the sockets: <dir>/<ifname>.sock */
};

static int uapi_open(void **priv)
{
	struct uapi_state *st = calloc(1, sizeof(*st));

	if (!st)
		return -ENOMEM;
	strcpy(st->dir, WGI_UAPI_DEFAULT_DIR);
	*priv = st;
	return 0;
}

static void uapi_close(void *priv)
{
	free(priv);
}

static const char *uapi_dir(const struct wgnl_ctx *ctx)
{
	const struct uapi_state *st = wgi_backend_priv(ctx, &wgi_uapi_ops);

	return st->dir;
}

int wgnl_ctx_set_uapi_dir(struct wgnl_ctx *ctx, const char *dir)
{
	struct uapi_state *st = wgi_backend_priv(ctx, &wgi_uapi_ops);

	if (strlen(dir) >= sizeof(st->dir))
		return -ENAMETOOLONG;
	strcpy(st->dir, dir);
	return 0;
}

/* A UAPI socket for the name wins over the kernel, as `wg` decides. */
static bool uapi_claims(struct wgnl_ctx *ctx, const char *ifname)
{
	char path[sizeof(((struct uapi_state *)0)->dir) + WGNL_IFNAMSIZ + 8];
	struct stat st;

	if (!ifname || !*ifname || strchr(ifname, '/'))
		return false;
	snprintf(path, sizeof(path), "%s/%s.sock", uapi_dir(ctx), ifname);
	/* A directory we may not search (wireguard-go makes it 0700 or 0755):
	 * take the socket's side, so the caller hears "permission denied"
	 * rather than "no such device" for a device that may well exist. The
	 * kernel's side would refuse an unprivileged caller all the same. */
	if (stat(path, &st) < 0)
		return errno == EACCES;
	return S_ISSOCK(st.st_mode);
}

static const char *errdesc(int err)
{
	const char *d = strerrordesc_np(err);

	return d ? d : "unknown error";
}

static int uapi_connect(struct wgnl_ctx *ctx, const char *ifname, int *ret)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = WGI_UAPI_TIMEOUT_SEC };
	int fd, n, err;

	*ret = -1;
	n = snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/%s.sock", uapi_dir(ctx), ifname);
	if (n < 0 || (size_t)n >= sizeof(sun.sun_path)) {
		wgi_set_error(ctx, "UAPI socket path for '%s' is too long", ifname);
		return -ENAMETOOLONG;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0 ||
	    connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		err = errno;
		close(fd);
		switch (err) {
		case ENOENT:
			wgi_set_error(ctx, "no UAPI socket %s", sun.sun_path);
			return -ENODEV;
		case ECONNREFUSED:
			/* The daemon died and left its socket behind. */
			wgi_set_error(ctx, "stale UAPI socket %s: nothing listens on it",
				      sun.sun_path);
			return -ENODEV;
		case EACCES:
			wgi_set_error(ctx, "no permission to open %s", sun.sun_path);
			return -EPERM;
		default:
			wgi_set_error(ctx, "cannot connect to %s: %s", sun.sun_path, errdesc(err));
			return -err;
		}
	}
	*ret = fd;
	return 0;
}

/* Socket errors at the boundary: a timeout is ETIMEDOUT, not "try again". */
static int sock_errno(struct wgnl_ctx *ctx, int err, const char *what)
{
	if (err == EAGAIN || err == EWOULDBLOCK) {
		wgi_set_error(ctx, "UAPI %s timed out after %d s", what, WGI_UAPI_TIMEOUT_SEC);
		return -ETIMEDOUT;
	}
	wgi_set_error(ctx, "UAPI %s failed: %s", what, errdesc(err));
	return -err;
}

/* Send all of @buf. -EPIPE when the other side has closed (it may have
 * answered first: the caller still reads). */
static int send_all(struct wgnl_ctx *ctx, int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EPIPE || errno == ECONNRESET)
				return -EPIPE;
			return sock_errno(ctx, errno, "write");
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* ------------------------------------------------------- reading lines */

/* Lines out of ctx->buf. @hiwater tracks how much of the buffer held reply
 * bytes (private keys among them) so exactly that much is wiped. */
struct reader {
	struct wgnl_ctx *ctx;
	int fd;
	size_t start, end, scan, hiwater;
};

static void reader_init(struct reader *r, struct wgnl_ctx *ctx, int fd)
{
	*r = (struct reader){ .ctx = ctx, .fd = fd };
}

static void reader_wipe(struct reader *r)
{
	wgnl_wipe(r->ctx->buf, r->hiwater);
	r->hiwater = 0;
}

/* Next line into *line and *len (without '\n', NUL-terminated in place).
 * Returns 1, 0 at a clean end of stream, or -errno (-EBADMSG: a line
 * longer than WGI_UAPI_MAX_LINE or a stream cut inside a line). */
static int reader_line(struct reader *r, char **line, size_t *len)
{
	char *buf = (char *)r->ctx->buf;

	for (;;) {
		char *nl = memchr(buf + r->scan, '\n', r->end - r->scan);
		ssize_t n;

		if (nl) {
			*line = buf + r->start;
			*len = (size_t)(nl - *line);
			*nl = '\0';
			r->start = r->scan = (size_t)(nl - buf) + 1;
			return 1;
		}
		r->scan = r->end;
		if (r->end - r->start > WGI_UAPI_MAX_LINE) {
			wgi_set_error(r->ctx, "UAPI reply has a line longer than %d bytes",
				      WGI_UAPI_MAX_LINE);
			return -EBADMSG;
		}
		if (r->end == WGI_RECV_BUF) {
			/* Move the partial line to the front; it is short. */
			memmove(buf, buf + r->start, r->end - r->start);
			r->end -= r->start;
			r->scan = r->end;
			r->start = 0;
		}
		do
			n = recv(r->fd, buf + r->end, WGI_RECV_BUF - r->end, 0);
		while (n < 0 && errno == EINTR);
		if (n < 0) {
			if (errno == ECONNRESET)
				return 0;
			return sock_errno(r->ctx, errno, "read");
		}
		if (n == 0) {
			if (r->end != r->start) {
				wgi_set_error(r->ctx, "UAPI reply cut off inside a line");
				return -EBADMSG;
			}
			return 0;
		}
		r->end += (size_t)n;
		if (r->end > r->hiwater)
			r->hiwater = r->end;
	}
}

/* -------------------------------------------------------- parsing values */

/* Strict unsigned decimal: digits only, no sign, no overflow, <= @max. */
static bool parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (!*s)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		if (v > (max - (uint64_t)(*s - '0')) / 10)
			return false;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*out = v;
	return true;
}

/* 64 hex digits (either case; the wire uses lowercase), in constant time. */
static bool parse_key(wgnl_key out, const char *s, size_t len)
{
	size_t bin_len = 0;
	const char *end = NULL;

	if (len != 2 * WGNL_KEY_LEN ||
	    sodium_hex2bin(out, WGNL_KEY_LEN, s, len, NULL, &bin_len, &end) != 0 ||
	    bin_len != WGNL_KEY_LEN || end != s + len) {
		wgnl_wipe(out, WGNL_KEY_LEN);
		return false;
	}
	return true;
}

/* errno=N: wireguard-go writes the negative value, others the positive one;
 * either way the result is -errno. */
static bool parse_errno(const char *s, int *out)
{
	uint64_t v;

	if (*s == '-')
		s++;
	if (!parse_u64(s, 4095, &v))
		return false;
	*out = -(int)v;
	return true;
}

/* wireguard-go writes a link-local endpoint's zone as an interface name
 * ("[fe80::1%eth0]:51820"), which only resolves in the daemon's network
 * namespace; the socket directory is shared by all of them. Keep the
 * address and port then, without the scope. */
static int parse_endpoint(union wgnl_endpoint *ep, const char *s)
{
	char buf[INET6_ADDRSTRLEN + 32];
	const char *pct = strchr(s, '%'), *close = strchr(s, ']');
	size_t n;

	if (wgnl_endpoint_parse(ep, s) == 0)
		return 0;
	if (*s != '[' || !pct || !close || pct > close)
		return -EINVAL;
	n = (size_t)(pct - s);
	if (n + strlen(close) >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, n);
	strcpy(buf + n, close);
	return wgnl_endpoint_parse(ep, buf);
}

void wgi_uapi_parser_init(struct wgi_uapi_parser *p, struct wgnl_device *dev)
{
	*p = (struct wgi_uapi_parser){ .dev = dev };
	/* Absent lines mean zero: wireguard-go omits listen_port while down and
	 * fwmark when unset. Like the kernel's reply, the result always has both. */
	dev->flags |= WGNL_DEV_HAS_LISTEN_PORT | WGNL_DEV_HAS_FWMARK;
}

static int bad_line(struct wgnl_ctx *ctx, const struct wgi_uapi_parser *p, const char *key,
		    const char *why)
{
	wgi_set_error(ctx, "malformed UAPI reply, line %u (%s): %s", p->line, key, why);
	return -EBADMSG;
}

static int parse_device_line(struct wgnl_ctx *ctx, struct wgi_uapi_parser *p, const char *key,
			     const char *val, size_t vlen)
{
	struct wgnl_device *dev = p->dev;
	uint64_t v;

	if (!strcmp(key, "private_key")) {
		if (!parse_key(dev->private_key, val, vlen))
			return bad_line(ctx, p, key, "not 64 hex digits");
		/* An all-zero key is "none", as the kernel omits it. */
		if (wgnl_key_is_zero(dev->private_key)) {
			dev->flags &=
				~(uint32_t)(WGNL_DEV_HAS_PRIVATE_KEY | WGNL_DEV_HAS_PUBLIC_KEY);
			return 0;
		}
		dev->flags |= WGNL_DEV_HAS_PRIVATE_KEY;
		/* UAPI has no public_key line for the device; derive it as the
		 * kernel reports it. */
		if (wgnl_key_public_from_private(dev->public_key, dev->private_key) == 0)
			dev->flags |= WGNL_DEV_HAS_PUBLIC_KEY;
	} else if (!strcmp(key, "listen_port")) {
		if (!parse_u64(val, UINT16_MAX, &v))
			return bad_line(ctx, p, key, "not a port number");
		dev->listen_port = (uint16_t)v;
	} else if (!strcmp(key, "fwmark")) {
		if (!parse_u64(val, UINT32_MAX, &v))
			return bad_line(ctx, p, key, "not a 32-bit number");
		dev->fwmark = (uint32_t)v;
	}
	/* Other keys (implementation extensions) are skipped. */
	return 0;
}

static int parse_peer_line(struct wgnl_ctx *ctx, struct wgi_uapi_parser *p, const char *key,
			   const char *val, size_t vlen)
{
	struct wgnl_peer *peer = p->peer;
	struct wgnl_prefix pfx;
	uint64_t v;
	int r;

	if (!strcmp(key, "preshared_key")) {
		if (!parse_key(peer->preshared_key, val, vlen))
			return bad_line(ctx, p, key, "not 64 hex digits");
		peer->flags |= WGNL_PEER_HAS_PRESHARED_KEY;
	} else if (!strcmp(key, "endpoint")) {
		if (parse_endpoint(&peer->endpoint, val) < 0)
			return bad_line(ctx, p, key, "not a numeric address:port");
		peer->flags |= WGNL_PEER_HAS_ENDPOINT;
	} else if (!strcmp(key, "persistent_keepalive_interval")) {
		if (!parse_u64(val, UINT16_MAX, &v))
			return bad_line(ctx, p, key, "not a 16-bit number");
		peer->persistent_keepalive = (uint16_t)v;
		peer->flags |= WGNL_PEER_HAS_KEEPALIVE;
	} else if (!strcmp(key, "allowed_ip")) {
		if (wgnl_prefix_parse(&pfx, val) < 0)
			return bad_line(ctx, p, key, "not a prefix");
		r = wgnl_peer_add_allowedip(peer, &pfx);
		if (r < 0)
			return r;
	} else if (!strcmp(key, "last_handshake_time_sec")) {
		/* Bounded to the year 9999: no clock is further on, and a
		 * daemon's garbage near INT64_MAX would overflow every
		 * conversion to ms (wghealth keeps those in its state file). */
		if (!parse_u64(val, UINT64_MAX, &v))
			return bad_line(ctx, p, key, "not a number");
		if (v > WGI_UAPI_TIME_MAX_SEC)
			return bad_line(ctx, p, key, "beyond the year 9999");
		peer->last_handshake.tv_sec = (time_t)v;
		peer->flags |= WGNL_PEER_HAS_LAST_HANDSHAKE;
	} else if (!strcmp(key, "last_handshake_time_nsec")) {
		if (!parse_u64(val, 999999999, &v))
			return bad_line(ctx, p, key, "not a nanosecond count");
		peer->last_handshake.tv_nsec = (long)v;
		peer->flags |= WGNL_PEER_HAS_LAST_HANDSHAKE;
	} else if (!strcmp(key, "rx_bytes")) {
		if (!parse_u64(val, UINT64_MAX, &v))
			return bad_line(ctx, p, key, "not a number");
		peer->rx_bytes = v;
		peer->flags |= WGNL_PEER_HAS_RX_TX;
	} else if (!strcmp(key, "tx_bytes")) {
		if (!parse_u64(val, UINT64_MAX, &v))
			return bad_line(ctx, p, key, "not a number");
		peer->tx_bytes = v;
		peer->flags |= WGNL_PEER_HAS_RX_TX;
	} else if (!strcmp(key, "protocol_version")) {
		if (!parse_u64(val, UINT32_MAX, &v))
			return bad_line(ctx, p, key, "not a number");
		peer->protocol_version = (uint32_t)v;
		peer->flags |= WGNL_PEER_HAS_PROTOCOL_VERSION;
	} else if (!strcmp(key, "private_key") || !strcmp(key, "listen_port") ||
		   !strcmp(key, "fwmark")) {
		return bad_line(ctx, p, key, "device key after the first peer");
	}
	return 0;
}

int wgi_uapi_parse_line(struct wgnl_ctx *ctx, struct wgi_uapi_parser *p, char *line, size_t len)
{
	char *eq, *key, *val;
	wgnl_key pub;
	int r;

	p->line++;
	line[len] = '\0';
	if (memchr(line, '\0', len)) {
		wgi_set_error(ctx, "malformed UAPI reply, line %u: NUL byte", p->line);
		return -EBADMSG;
	}
	if (p->have_errno) {
		if (len) {
			wgi_set_error(ctx, "malformed UAPI reply, line %u: text after errno",
				      p->line);
			return -EBADMSG;
		}
		return 1;
	}
	if (!len) {
		wgi_set_error(ctx, "malformed UAPI reply, line %u: blank line before errno",
			      p->line);
		return -EBADMSG;
	}
	eq = memchr(line, '=', len);
	if (!eq || eq == line) {
		wgi_set_error(ctx, "malformed UAPI reply, line %u: not key=value", p->line);
		return -EBADMSG;
	}
	*eq = '\0';
	key = line;
	val = eq + 1;
	len -= (size_t)(val - line);

	if (!strcmp(key, "errno")) {
		if (!parse_errno(val, &p->uapi_errno))
			return bad_line(ctx, p, key, "not a number");
		p->have_errno = true;
		return 0;
	}
	if (!strcmp(key, "public_key")) {
		if (!parse_key(pub, val, len))
			return bad_line(ctx, p, key, "not 64 hex digits");
		/* O(1) through the device's key index; a repeated key is a broken
		 * reply, not something to merge. */
		r = wgnl_device_add_peer(p->dev, pub, &p->peer);
		if (r == -EEXIST)
			return bad_line(ctx, p, key, "the same peer twice");
		return r;
	}
	if (p->peer)
		return parse_peer_line(ctx, p, key, val, len);
	return parse_device_line(ctx, p, key, val, len);
}

/* Read a whole reply into @p. Returns 0 with p->uapi_errno set, or -errno. */
static int read_reply(struct wgnl_ctx *ctx, struct reader *rd, struct wgi_uapi_parser *p)
{
	char *line = NULL;
	size_t len = 0;
	int r;

	for (;;) {
		r = reader_line(rd, &line, &len);
		if (r < 0)
			return r;
		if (r == 0) {
			if (!p->have_errno) {
				wgi_set_error(ctx, "UAPI connection closed before the errno line");
				return -EBADMSG;
			}
			/* Some implementations close right after errno=N without
			 * the blank line; the answer is complete. */
			break;
		}
		r = wgi_uapi_parse_line(ctx, p, line, len);
		if (r < 0)
			return r;
		if (r == 1)
			break;
	}
	ctx->stats.recv_msgs++;
	return 0;
}

static int uapi_error(struct wgnl_ctx *ctx, const char *ifname, const char *op, int err,
		      const struct wgnl_device *dev)
{
	if (err == -EADDRINUSE && dev && (dev->flags & WGNL_DEV_HAS_LISTEN_PORT))
		wgi_set_error(ctx, "'%s' cannot use listen port %u: it is in use (UAPI errno=%d)",
			      ifname, dev->listen_port, err);
	else if (err == -EINVAL)
		wgi_set_error(ctx, "'%s' refused the %s: a value was invalid (UAPI errno=%d)",
			      ifname, op, err);
	else if (err == -EPROTO)
		wgi_set_error(ctx, "'%s' refused the %s: protocol error (UAPI errno=%d)", ifname,
			      op, err);
	else
		wgi_set_error(ctx, "'%s' failed the %s: %s (UAPI errno=%d)", ifname, op,
			      errdesc(-err), err);
	return err;
}

/* ------------------------------------------------------------------ get */

int wgi_uapi_get_fd(struct wgnl_ctx *ctx, int fd, const char *ifname, struct wgnl_device **ret)
{
	static const char req[] = "get=1\n\n";
	struct wgi_uapi_parser p;
	struct wgnl_device *dev;
	struct reader rd;
	int r;

	*ret = NULL;
	dev = wgnl_device_new(ifname);
	if (!dev)
		return -ENOMEM;
	ctx->stats.get_msgs++;
	r = send_all(ctx, fd, req, sizeof(req) - 1);
	if (r == -EPIPE) {
		wgi_set_error(ctx, "UAPI connection for '%s' closed before the request", ifname);
		r = -ECONNRESET;
	}
	if (r < 0)
		goto out;
	wgi_uapi_parser_init(&p, dev);
	reader_init(&rd, ctx, fd);
	r = read_reply(ctx, &rd, &p);
	reader_wipe(&rd);
	if (r < 0)
		goto out;
	if (p.uapi_errno) {
		r = uapi_error(ctx, ifname, "get", p.uapi_errno, NULL);
		goto out;
	}
	dev->ifindex = wgi_ifindex(ifname);
	*ret = dev;
	return 0;
out:
	wgnl_device_free(dev);
	return r;
}

static int uapi_get_device(struct wgnl_ctx *ctx, const char *ifname, struct wgnl_device **ret)
{
	int fd, r;

	*ret = NULL;
	r = uapi_connect(ctx, ifname, &fd);
	if (r < 0)
		return r;
	r = wgi_uapi_get_fd(ctx, fd, ifname, ret);
	close(fd);
	return r;
}

/* ------------------------------------------------------------------ set */

/* The request is built in ctx->buf and sent whenever it fills up; once the
 * other side has closed, the rest is dropped and the reply read. */
struct writer {
	struct wgnl_ctx *ctx;
	int fd;
	size_t len, hiwater;
	int err; /* first failure; -EPIPE: peer closed */
};

/* Room every put needs at most (the longest line is an endpoint). */
#define WRITER_SLACK 256

static void writer_flush(struct writer *w)
{
	if (!w->err && w->len)
		w->err = send_all(w->ctx, w->fd, (char *)w->ctx->buf, w->len);
	if (w->len > w->hiwater)
		w->hiwater = w->len;
	w->len = 0;
}

static char *writer_room(struct writer *w)
{
	if (WGI_RECV_BUF - w->len < WRITER_SLACK)
		writer_flush(w);
	return (char *)w->ctx->buf + w->len;
}

static void put_line(struct writer *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put_line(struct writer *w, const char *fmt, ...)
{
	char *p = writer_room(w);
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(p, WRITER_SLACK, fmt, ap);
	va_end(ap);
	if (n > 0 && n < WRITER_SLACK)
		w->len += (size_t)n;
	else if (!w->err)
		w->err = -EINVAL; /* cannot happen with the lines written here */
}

static void put_key(struct writer *w, const char *name, const wgnl_key key)
{
	char *p = writer_room(w);
	size_t n = strlen(name);

	memcpy(p, name, n);
	p[n] = '=';
	/* Constant time; lowercase as the protocol wants. */
	sodium_bin2hex(p + n + 1, 2 * WGNL_KEY_LEN + 1, key, WGNL_KEY_LEN);
	p[n + 1 + 2 * WGNL_KEY_LEN] = '\n';
	w->len += n + 2 + 2 * WGNL_KEY_LEN;
}

static void put_prefix(struct writer *w, const struct wgnl_prefix *pfx, bool remove)
{
	char buf[INET6_ADDRSTRLEN + 8];

	put_line(w, "allowed_ip=%s%s\n", remove ? "-" : "",
		 wgnl_prefix_format(pfx, buf, sizeof(buf)));
}

static void put_peer(struct writer *w, const struct wgnl_peer *peer, size_t idx,
		     const struct wgi_uapi_removals *rm)
{
	char ep[64];

	put_key(w, "public_key", peer->public_key);
	if (peer->flags & WGNL_PEER_REMOVE) {
		put_line(w, "remove=true\n");
		return;
	}
	/* Must come first: it decides whether the lines below create a peer. */
	if (peer->flags & WGNL_PEER_UPDATE_ONLY)
		put_line(w, "update_only=true\n");
	if (peer->flags & WGNL_PEER_HAS_PRESHARED_KEY)
		put_key(w, "preshared_key", peer->preshared_key);
	if (peer->flags & WGNL_PEER_HAS_ENDPOINT)
		put_line(w, "endpoint=%s\n", wgnl_endpoint_format(&peer->endpoint, ep, sizeof(ep)));
	if (peer->flags & WGNL_PEER_HAS_KEEPALIVE)
		put_line(w, "persistent_keepalive_interval=%u\n", peer->persistent_keepalive);
	if (rm && !rm->native && rm->replace && rm->replace[idx]) {
		put_line(w, "replace_allowed_ips=true\n");
		for (size_t i = 0; i < rm->n_replace[idx]; i++)
			put_prefix(w, &rm->replace[idx][i], false);
		return;
	}
	if (peer->flags & WGNL_PEER_REPLACE_ALLOWEDIPS)
		put_line(w, "replace_allowed_ips=true\n");
	for (size_t i = 0; i < peer->n_allowedips; i++) {
		const struct wgnl_prefix *pfx = &peer->allowedips[i];
		bool remove = pfx->flags & WGNL_PREFIX_REMOVE;

		/* Without native support, a removal only reaches here when the
		 * caller gave no replacement list: it cannot be expressed. */
		if (remove && !(rm && rm->native))
			continue;
		put_prefix(w, pfx, remove);
	}
}

int wgi_uapi_set_fd(struct wgnl_ctx *ctx, int fd, const struct wgnl_device *dev,
		    const struct wgi_uapi_removals *rm)
{
	struct writer w = { .ctx = ctx, .fd = fd };
	struct wgi_uapi_parser p;
	struct wgnl_device *scratch;
	struct reader rd;
	int r;

	/* The reply of a set has no device data, but parse it the same way. */
	scratch = wgnl_device_new(NULL);
	if (!scratch)
		return -ENOMEM;
	ctx->stats.set_msgs++;
	put_line(&w, "set=1\n");
	if (dev->flags & WGNL_DEV_HAS_PRIVATE_KEY)
		put_key(&w, "private_key", dev->private_key);
	if (dev->flags & WGNL_DEV_HAS_LISTEN_PORT)
		put_line(&w, "listen_port=%u\n", dev->listen_port);
	if (dev->flags & WGNL_DEV_HAS_FWMARK)
		put_line(&w, "fwmark=%u\n", dev->fwmark);
	if (dev->flags & WGNL_DEV_REPLACE_PEERS)
		put_line(&w, "replace_peers=true\n");
	for (size_t i = 0; i < dev->n_peers && !w.err; i++) {
		if (!(dev->peers[i].flags & WGNL_PEER_SKIP))
			put_peer(&w, &dev->peers[i], i, rm);
	}
	put_line(&w, "\n");
	writer_flush(&w);
	wgnl_wipe(ctx->buf, w.hiwater);
	if (w.err && w.err != -EPIPE) {
		wgnl_device_free(scratch);
		return w.err;
	}

	/* Even after -EPIPE: wireguard-go answers a failed line with errno=N
	 * and then closes on the rest of our request; that answer is the
	 * useful one. */
	wgi_uapi_parser_init(&p, scratch);
	reader_init(&rd, ctx, fd);
	r = read_reply(ctx, &rd, &p);
	reader_wipe(&rd);
	if (r == 0 && scratch->n_peers)
		r = bad_line(ctx, &p, "public_key", "peer data in the answer to a set");
	wgnl_device_free(scratch);
	if (r < 0) {
		if (w.err == -EPIPE) {
			wgi_set_error(ctx, "'%s' closed the UAPI connection during the set",
				      dev->name);
			return -ECONNRESET;
		}
		return r;
	}
	if (p.uapi_errno)
		return uapi_error(ctx, dev->name, "set", p.uapi_errno, dev);
	return 0;
}

/* ------------------------------------------------- allowed-IP removals */

/* The kernel and wireguard-go store allowed IPs masked; compare them so. */
struct merge_item {
	struct wgnl_prefix pfx;
	size_t seq; /* 0: current list; i + 1: the i-th entry of the set */
	bool remove;
};

static int merge_cmp(const void *a, const void *b)
{
	const struct merge_item *x = a, *y = b;
	int r = wgnl_prefix_cmp(&x->pfx, &y->pfx);

	if (r)
		return r;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int prefix_qsort_cmp(const void *a, const void *b)
{
	return wgnl_prefix_cmp(a, b);
}

int wgi_uapi_merge_allowedips(const struct wgnl_peer *cur, const struct wgnl_peer *want,
			      const struct wgnl_prefix *claimed, size_t n_claimed,
			      struct wgnl_prefix **ret, size_t *n)
{
	size_t n_cur = cur ? cur->n_allowedips : 0, total, out = 0;
	struct merge_item *items;
	struct wgnl_prefix *res;

	*ret = NULL;
	*n = 0;
	total = n_cur + want->n_allowedips;
	items = calloc(total ? total : 1, sizeof(*items));
	res = calloc(total ? total : 1, sizeof(*res));
	if (!items || !res) {
		free(items);
		free(res);
		return -ENOMEM;
	}
	total = 0;
	for (size_t i = 0; i < n_cur; i++) {
		struct merge_item *it = &items[total];

		it->pfx = cur->allowedips[i];
		it->pfx.flags = 0;
		wgnl_prefix_mask(&it->pfx);
		/* Another peer of this set takes it over: do not put it back. */
		if (claimed &&
		    bsearch(&it->pfx, claimed, n_claimed, sizeof(*claimed), prefix_qsort_cmp))
			continue;
		total++;
	}
	for (size_t i = 0; i < want->n_allowedips; i++) {
		struct merge_item *it = &items[total++];

		it->pfx = want->allowedips[i];
		it->remove = it->pfx.flags & WGNL_PREFIX_REMOVE;
		it->pfx.flags = 0;
		wgnl_prefix_mask(&it->pfx);
		it->seq = i + 1;
	}
	/* The last operation on each prefix decides, as applying them in order
	 * would; O(k log k) rather than a search per entry. */
	if (total > 1)
		qsort(items, total, sizeof(*items), merge_cmp);
	for (size_t i = 0; i < total; i++) {
		if (i + 1 < total && !wgnl_prefix_cmp(&items[i].pfx, &items[i + 1].pfx))
			continue;
		if (!items[i].remove)
			res[out++] = items[i].pfx;
	}
	free(items);
	*ret = res;
	*n = out;
	return 0;
}

static bool has_removals(const struct wgnl_device *dev)
{
	for (size_t i = 0; i < dev->n_peers; i++) {
		const struct wgnl_peer *peer = &dev->peers[i];

		if (peer->flags & (WGNL_PEER_SKIP | WGNL_PEER_REMOVE))
			continue;
		for (size_t j = 0; j < peer->n_allowedips; j++)
			if (peer->allowedips[j].flags & WGNL_PREFIX_REMOVE)
				return true;
	}
	return false;
}

/* Does the implementation take `allowed_ip=-PREFIX` (wireguard-go since
 * 2025)? Asked with a throwaway random peer marked update_only, so nothing
 * changes either way: the prefix is parsed before the peer is looked at,
 * and older versions refuse it with errno=-EINVAL. Returns 1, 0 or -errno. */
static int probe_native_removal(struct wgnl_ctx *ctx, const char *ifname)
{
	struct wgnl_device *probe;
	struct wgnl_peer *peer;
	struct wgnl_prefix pfx = { .family = AF_INET, .cidr = 32, .flags = WGNL_PREFIX_REMOVE };
	struct wgi_uapi_removals rm = { .native = true };
	wgnl_key key;
	int fd, r;

	probe = wgnl_device_new(ifname);
	if (!probe)
		return -ENOMEM;
	r = wgnl_key_generate_preshared(key);
	if (r == 0)
		r = wgnl_device_add_peer(probe, key, &peer);
	if (r == 0) {
		peer->flags |= WGNL_PEER_UPDATE_ONLY;
		r = wgnl_peer_add_allowedip(peer, &pfx);
	}
	if (r == 0)
		r = uapi_connect(ctx, ifname, &fd);
	if (r == 0) {
		r = wgi_uapi_set_fd(ctx, fd, probe, &rm);
		close(fd);
		if (r == 0)
			r = 1;
		else if (r == -EINVAL)
			r = 0;
	}
	wgnl_device_free(probe);
	if (r >= 0)
		wgi_clear_error(ctx);
	return r;
}

static void removals_free(struct wgi_uapi_removals *rm, size_t n)
{
	if (rm->replace)
		for (size_t i = 0; i < n; i++)
			free(rm->replace[i]);
	free(rm->replace);
	free(rm->n_replace);
}

/* Old implementations: as the kernel backend does on kernels without
 * WGALLOWEDIP_F_REMOVE_ME, read the peer's current list and replace it with
 * the list the removals would leave. Not atomic with respect to changes
 * made by others between the read and the write. */
static int plan_replacements(struct wgnl_ctx *ctx, const struct wgnl_device *dev,
			     struct wgi_uapi_removals *rm)
{
	struct wgnl_device *cur = NULL;
	struct wgnl_prefix *claimed = NULL;
	size_t n_claimed = 0, cap = 0;
	int r;

	rm->replace = calloc(dev->n_peers, sizeof(*rm->replace));
	rm->n_replace = calloc(dev->n_peers, sizeof(*rm->n_replace));
	if (!rm->replace || !rm->n_replace)
		return -ENOMEM;
	r = uapi_get_device(ctx, dev->name, &cur);
	if (r < 0)
		return r;
	/* Prefixes this set adds to any peer: a replacement list must not take
	 * them back from that peer. */
	for (size_t i = 0; i < dev->n_peers; i++) {
		const struct wgnl_peer *peer = &dev->peers[i];

		if (peer->flags & (WGNL_PEER_SKIP | WGNL_PEER_REMOVE))
			continue;
		for (size_t j = 0; j < peer->n_allowedips; j++) {
			if (peer->allowedips[j].flags & WGNL_PREFIX_REMOVE)
				continue;
			r = wgi_grow((void **)&claimed, &cap, n_claimed + 1, sizeof(*claimed));
			if (r < 0)
				goto out;
			claimed[n_claimed] = peer->allowedips[j];
			claimed[n_claimed].flags = 0;
			wgnl_prefix_mask(&claimed[n_claimed++]);
		}
	}
	/* Only removals: nothing claimed, nothing allocated, and qsort(NULL,
	 * 0) is undefined. */
	if (n_claimed > 1)
		qsort(claimed, n_claimed, sizeof(*claimed), prefix_qsort_cmp);
	for (size_t i = 0; i < dev->n_peers; i++) {
		const struct wgnl_peer *peer = &dev->peers[i], *now;
		bool any = false;

		if (peer->flags & (WGNL_PEER_SKIP | WGNL_PEER_REMOVE))
			continue;
		for (size_t j = 0; j < peer->n_allowedips && !any; j++)
			any = peer->allowedips[j].flags & WGNL_PREFIX_REMOVE;
		if (!any)
			continue;
		now = wgnl_device_find_peer(cur, peer->public_key);
		if ((peer->flags & WGNL_PEER_REPLACE_ALLOWEDIPS) ||
		    (dev->flags & WGNL_DEV_REPLACE_PEERS))
			now = NULL;
		r = wgi_uapi_merge_allowedips(now, peer, claimed, n_claimed, &rm->replace[i],
					      &rm->n_replace[i]);
		if (r < 0)
			goto out;
	}
	r = 0;
out:
	free(claimed);
	wgnl_device_free(cur);
	return r;
}

/* Refuse what cannot be written before anything is sent, so a bad request
 * changes nothing. */
static int validate(struct wgnl_ctx *ctx, const struct wgnl_device *dev)
{
	char key[WGNL_KEY_B64_LEN + 1];

	for (size_t i = 0; i < dev->n_peers; i++) {
		const struct wgnl_peer *peer = &dev->peers[i];

		if (peer->flags & (WGNL_PEER_SKIP | WGNL_PEER_REMOVE))
			continue;
		if ((peer->flags & WGNL_PEER_HAS_ENDPOINT) &&
		    peer->endpoint.addr.sa_family != AF_INET &&
		    peer->endpoint.addr.sa_family != AF_INET6) {
			wgnl_key_to_base64(key, peer->public_key);
			wgi_set_error(ctx, "peer %s: endpoint has no address", key);
			return -EINVAL;
		}
		for (size_t j = 0; j < peer->n_allowedips; j++) {
			const struct wgnl_prefix *pfx = &peer->allowedips[j];

			if ((pfx->family == AF_INET && pfx->cidr <= 32) ||
			    (pfx->family == AF_INET6 && pfx->cidr <= 128))
				continue;
			wgnl_key_to_base64(key, peer->public_key);
			wgi_set_error(ctx,
				      "peer %s: allowed IP #%zu has a bad family or prefix length",
				      key, j + 1);
			return -EINVAL;
		}
	}
	return 0;
}

static int uapi_set_device(struct wgnl_ctx *ctx, const struct wgnl_device *dev)
{
	struct wgi_uapi_removals rm = { 0 };
	bool removals;
	int fd, r;

	r = validate(ctx, dev);
	if (r < 0)
		return r;
	removals = has_removals(dev);
	if (removals) {
		r = probe_native_removal(ctx, dev->name);
		if (r < 0)
			return r;
		rm.native = r;
		if (!rm.native) {
			r = plan_replacements(ctx, dev, &rm);
			if (r < 0)
				goto out;
		}
	}
	r = uapi_connect(ctx, dev->name, &fd);
	if (r < 0)
		goto out;
	r = wgi_uapi_set_fd(ctx, fd, dev, removals ? &rm : NULL);
	close(fd);
out:
	removals_free(&rm, dev->n_peers);
	return r;
}

/* ----------------------------------------------------------------- list */

/* Does something listen on socket @file of @ctx's directory? A daemon that
 * died (kill -9) leaves its socket behind: connect() is refused. Any other
 * outcome (a socket we may not connect to, say) counts as alive, so that
 * reading it reports the real error. */
static bool uapi_alive(const struct wgnl_ctx *ctx, const char *file)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd, n;
	bool alive = true;

	n = snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/%s", uapi_dir(ctx), file);
	if (n < 0 || (size_t)n >= sizeof(sun.sun_path))
		return true;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return true;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 &&
	    (errno == ECONNREFUSED || errno == ENOENT))
		alive = false;
	close(fd);
	return alive;
}

static int uapi_list_devices(struct wgnl_ctx *ctx, char ***names, size_t *n)
{
	static const char suffix[] = ".sock";
	const size_t slen = sizeof(suffix) - 1;
	struct dirent *de;
	DIR *d;
	int r = 0;

	d = opendir(uapi_dir(ctx));
	if (!d) {
		/* No directory: no userspace implementation has run. */
		if (errno == ENOENT || errno == ENOTDIR)
			return 0;
		r = -errno;
		wgi_set_error(ctx, "cannot read %s: %s", uapi_dir(ctx), errdesc(-r));
		return r;
	}
	while ((de = readdir(d))) {
		char name[WGNL_IFNAMSIZ];
		size_t len = strlen(de->d_name);
		struct stat st;

		if (len <= slen || len - slen >= WGNL_IFNAMSIZ ||
		    strcmp(de->d_name + len - slen, suffix))
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, 0) < 0 || !S_ISSOCK(st.st_mode) ||
		    !uapi_alive(ctx, de->d_name))
			continue;
		memcpy(name, de->d_name, len - slen);
		name[len - slen] = '\0';
		r = wgi_strv_push(names, n, name);
		if (r < 0)
			break;
	}
	closedir(d);
	return r;
}

static int uapi_clear_peers(struct wgnl_ctx *ctx, const char *ifname)
{
	struct wgnl_device *dev = wgnl_device_new(ifname);
	int r;

	if (!dev)
		return -ENOMEM;
	dev->flags = WGNL_DEV_REPLACE_PEERS;
	r = uapi_set_device(ctx, dev);
	wgnl_device_free(dev);
	return r;
}

/* A userspace implementation gets a changed allowed-IP list replaced (see
 * plan_replacements()), so it claims no capability; a device read arrives
 * whole, so the stream is the generic one over get_device. */
const struct wgi_backend_ops wgi_uapi_ops = {
	.name = "uapi",
	.kind = WGNL_BACKEND_UAPI,
	.open = uapi_open,
	.close = uapi_close,
	.claims = uapi_claims,
	.get_device = uapi_get_device,
	.get_device_stream = NULL,
	.set_device = uapi_set_device,
	.list_devices = uapi_list_devices,
	.caps = NULL,
	.clear_peers = uapi_clear_peers,
};
