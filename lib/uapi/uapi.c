// SPDX-License-Identifier: MIT
/* The UAPI backend: userspace WireGuard (wireguard-go, boringtun) over the
 * text protocol on <uapi_dir>/<ifname>.sock. This file is the transport and
 * the ops: one connection per transaction, the request written, the reply
 * read line by line to the blank line after `errno=N`; the text itself is
 * built and parsed in proto.c. Replies are parsed as they stream in, in one
 * pass, so a 10k-peer device costs one read of its text. */
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
			wgi_set_error(ctx, "cannot connect to %s: %s", sun.sun_path,
				      wgi_uapi_errdesc(err));
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
	wgi_set_error(ctx, "UAPI %s failed: %s", what, wgi_uapi_errdesc(err));
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
		r = wgi_uapi_error(ctx, ifname, "get", p.uapi_errno, NULL);
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

/* The writer's sink: the request goes out whenever the buffer fills up. */
struct send_sink {
	struct wgnl_ctx *ctx;
	int fd;
};

static int send_sink(void *arg, const char *buf, size_t len)
{
	struct send_sink *s = arg;

	return send_all(s->ctx, s->fd, buf, len);
}

int wgi_uapi_set_fd(struct wgnl_ctx *ctx, int fd, const struct wgnl_device *dev,
		    const struct wgi_uapi_removals *rm)
{
	struct send_sink sink = { .ctx = ctx, .fd = fd };
	struct wgi_uapi_writer w = {
		.buf = (char *)ctx->buf, .cap = WGI_RECV_BUF, .flush = send_sink, .arg = &sink
	};
	struct wgi_uapi_parser p;
	struct wgnl_device *scratch;
	struct reader rd;
	int r;

	/* The reply of a set has no device data, but parse it the same way. */
	scratch = wgnl_device_new(NULL);
	if (!scratch)
		return -ENOMEM;
	ctx->stats.set_msgs++;
	wgi_uapi_write_set(&w, dev, rm);
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
		r = wgi_uapi_bad_line(ctx, &p, "public_key", "peer data in the answer to a set");
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
		return wgi_uapi_error(ctx, dev->name, "set", p.uapi_errno, dev);
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
		qsort(claimed, n_claimed, sizeof(*claimed), wgi_uapi_prefix_cmp);
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
		wgi_set_error(ctx, "cannot read %s: %s", uapi_dir(ctx), wgi_uapi_errdesc(-r));
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

static void uapi_release_stale(struct wgnl_ctx *ctx, const char *ifname)
{
	char path[sizeof(((struct uapi_state *)0)->dir) + WGNL_IFNAMSIZ + 8];

	if (!ifname || !*ifname || strchr(ifname, '/'))
		return;
	snprintf(path, sizeof(path), "%s/%s.sock", uapi_dir(ctx), ifname);
	unlink(path);
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
	.release_stale = uapi_release_stale,
};
