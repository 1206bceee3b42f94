/* SPDX-License-Identifier: MIT */
/* Private to libwg-netlink: the UAPI backend, in two halves the unit tests
 * drive directly: the protocol (proto.c: text in, text out, no sockets),
 * tested from recorded text, and the transport (uapi.c: the socket), tested
 * over a socketpair. Never installed. */
#ifndef WGNL_UAPI_H
#define WGNL_UAPI_H

#include "core/internal.h"

/* The longest line accepted in a reply. The longest legitimate one is an
 * IPv6 endpoint with a scope name (~70 bytes); anything far longer is not
 * the UAPI protocol. */
#define WGI_UAPI_MAX_LINE 1024

/* Per-call socket timeout: a daemon that stops reading or answering must not
 * hang a gateway's control loop forever. Progress resets it. */
#define WGI_UAPI_TIMEOUT_SEC 30

/* The latest handshake time accepted (9999-12-31T23:59:59Z): later is not a
 * clock reading, and seconds near INT64_MAX overflow when turned into ms. */
#define WGI_UAPI_TIME_MAX_SEC 253402300799ULL

/* State of a streamed `get=1` reply: device lines first, a `public_key` line
 * starts a peer, `errno=N` and a blank line end the reply. */
struct wgi_uapi_parser {
	struct wgnl_device *dev; /* filled; owned by the caller */
	struct wgnl_peer *peer;	 /* the peer being read, NULL in the device part */
	unsigned line;		 /* 1-based number of the last line fed */
	bool have_errno;	 /* the errno line was seen */
	int uapi_errno;		 /* as -errno once have_errno */
};

/* ======================================================= protocol (proto.c) */

/* strerrordesc_np() with a fallback: the text after "...: " in messages. */
const char *wgi_uapi_errdesc(int err);

/* Start parsing into @dev (borrowed, normally empty). */
void wgi_uapi_parser_init(struct wgi_uapi_parser *p, struct wgnl_device *dev);
/* Feed one line of @len bytes without its '\n'; @line is modified and needs
 * room for a NUL at line[len] (where the '\n' was). Returns 0 for more, 1
 * when the reply is complete (the blank line after errno), -EBADMSG for a
 * malformed line (ctx error says which), or -ENOMEM. The errno the
 * implementation reported is left in p->uapi_errno. */
int wgi_uapi_parse_line(struct wgnl_ctx *ctx, struct wgi_uapi_parser *p, char *line, size_t len);

/* Record why line p->line (key @key) is malformed; returns -EBADMSG. */
int wgi_uapi_bad_line(struct wgnl_ctx *ctx, const struct wgi_uapi_parser *p, const char *key,
		      const char *why);

/* The errno=N an implementation answered (@err, negative) as the API's
 * error, with a message naming @ifname and the @op ("get", "set"); @dev is
 * the set that failed (NULL for a get), to name the listen port in use.
 * Returns @err. */
int wgi_uapi_error(struct wgnl_ctx *ctx, const char *ifname, const char *op, int err,
		   const struct wgnl_device *dev);

/* How a set writes allowed IPs flagged WGNL_PREFIX_REMOVE. */
struct wgi_uapi_removals {
	/* The implementation accepts `allowed_ip=-PREFIX` (newer wireguard-go). */
	bool native;
	/* Otherwise, per peer position in the device: NULL, or the full list that
	 * replaces the peer's allowed IPs (sent with replace_allowed_ips=true). */
	struct wgnl_prefix **replace;
	size_t *n_replace;
};

/* A request being written: lines go into @buf (@cap bytes, at least a few
 * hundred), which is handed to @flush whenever it nears full and at the
 * end. After @flush fails the rest is dropped. @hiwater tells how much of
 * @buf held text (keys among it), for the caller to wipe. */
struct wgi_uapi_writer {
	char *buf;
	size_t cap, len, hiwater;
	int (*flush)(void *arg, const char *buf, size_t len); /* 0 or -errno */
	void *arg;
	int err; /* the first failure (of @flush, say -EPIPE) */
};

/* Hand what is buffered to the sink. */
void wgi_uapi_writer_flush(struct wgi_uapi_writer *w);
/* Write the whole `set=1` request for @dev (device fields with their HAS_*
 * bits, replace_peers, each peer not marked SKIP; @rm as for
 * wgi_uapi_set_fd(), may be NULL) through @w, with the blank line that ends
 * it, and flush. Returns 0 or w->err. */
int wgi_uapi_write_set(struct wgi_uapi_writer *w, const struct wgnl_device *dev,
		       const struct wgi_uapi_removals *rm);

/* wgnl_prefix_cmp() for qsort()/bsearch() of the @claimed list below. */
int wgi_uapi_prefix_cmp(const void *a, const void *b);
/* The final allowed IPs of @want (a peer of a set) applied to the peer's
 * current list @cur (NULL: no such peer or replaced), the way the kernel
 * applies additions and removals in order, leaving out prefixes in
 * @claimed (sorted, masked; taken by other peers of the same set). Fills
 * *ret (free()) and *n. Returns 0 or -ENOMEM. */
int wgi_uapi_merge_allowedips(const struct wgnl_peer *cur, const struct wgnl_peer *want,
			      const struct wgnl_prefix *claimed, size_t n_claimed,
			      struct wgnl_prefix **ret, size_t *n);

/* ====================================================== transport (uapi.c) */

/* One `get=1` transaction on the connected stream socket @fd (which the
 * caller closes). *ret is a new device named @ifname on success. Returns 0,
 * -EBADMSG (malformed or truncated reply), the implementation's -errno, or
 * the -errno of the socket. */
int wgi_uapi_get_fd(struct wgnl_ctx *ctx, int fd, const char *ifname, struct wgnl_device **ret);

/* One `set=1` transaction for @dev on the connected socket @fd. @rm may be
 * NULL when no allowed IP carries WGNL_PREFIX_REMOVE. Returns 0, the
 * implementation's -errno (ctx error explains), -EBADMSG, or a socket
 * -errno. Validation is the caller's (see wgi_uapi_ops.set_device). */
int wgi_uapi_set_fd(struct wgnl_ctx *ctx, int fd, const struct wgnl_device *dev,
		    const struct wgi_uapi_removals *rm);

#endif
