/* SPDX-License-Identifier: MIT */
/*
 * libwg-netlink: drive WireGuard devices (in-kernel over generic netlink,
 * userspace implementations over the UAPI socket) and the links, addresses,
 * routes and rules around them.
 *
 * Conventions, for every function in this header:
 *  - Functions returning int return 0 (or a count) on success and a negative
 *    errno value on failure. errno itself is never the error channel.
 *  - Getters fill *ret with memory the caller owns and frees with the named
 *    destructor; on failure *ret is left NULL. Setters borrow their inputs.
 *  - Destructors accept NULL. Everything holding a private or preshared key
 *    wipes it before freeing.
 *  - Plain arrays and strings the library returns (wgnl_addr_list(),
 *    wgnl_route_list(), wgnl_file_read(), wgnl_health_state_format()) are
 *    freed with wgnl_free(), never free(): the library's allocator may not be
 *    the caller's (a static C runtime, a DLL).
 *  - Option structs a later version may grow begin with `size_t size`
 *    (today struct wgnl_ini_opts; struct wgnl_stun_server_config and
 *    struct wgnl_stun_client_opts in wgnl_stun.h; struct wgnl_quick_opts in
 *    wgnl_quick.h; struct wgnl_health_settings and struct
 *    wgnl_health_step_opts in wgnl_health.h; struct wgnl_probe_opts in
 *    wgnl_probe.h). Callers zero the struct, set size to sizeof(the struct)
 *    as compiled, and fill what they need. The library reads only the fields
 *    size covers (the rest take their defaults) and returns -EINVAL when size
 *    is smaller than the struct of version 0.1.
 *  - Nothing prints, nothing exits.
 */
#ifndef WGKIT_WGNL_H
#define WGKIT_WGNL_H

#include "wgkit/wgnl_decls.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/uio.h>

WGNL_DECLS_BEGIN

#define WGNL_IFNAMSIZ 16

/* ------------------------------------------------------------------ keys */

#define WGNL_KEY_LEN 32
#define WGNL_KEY_B64_LEN 44 /* without the terminating NUL */

typedef uint8_t wgnl_key[WGNL_KEY_LEN];
typedef char wgnl_key_b64[WGNL_KEY_B64_LEN + 1];

/* Fill @out with a new Curve25519 private key (clamped) from libsodium's CSPRNG.
 * Returns 0, or -EIO if libsodium cannot be initialised. */
int wgnl_key_generate_private(wgnl_key out);
/* Fill @out with 32 random bytes for use as a preshared key. Returns 0 or -EIO. */
int wgnl_key_generate_preshared(wgnl_key out);
/* Derive the public key of @priv into @pub. Returns 0, -EIO or -EINVAL
 * (a key whose scalar multiplication yields the all-zero point). */
int wgnl_key_public_from_private(wgnl_key pub, const wgnl_key priv);
/* Encode @key as 44 characters of padded base64 plus NUL; constant time. */
void wgnl_key_to_base64(wgnl_key_b64 out, const wgnl_key key);
/* Decode exactly 44 characters of base64 that encode 32 bytes into @out, in
 * constant time. Returns 0 or -EINVAL (wrong length, bad character, non-zero
 * padding bits); @out is zeroed on failure. */
int wgnl_key_from_base64(wgnl_key out, const char *b64);
/* True when every byte of @key is zero (constant time). */
bool wgnl_key_is_zero(const wgnl_key key);
/* Constant-time comparison. */
bool wgnl_key_equal(const wgnl_key a, const wgnl_key b);
/* Wipe @len bytes at @p in a way the compiler cannot elide. */
void wgnl_wipe(void *p, size_t len);
/* True when @s (NUL-terminated) might hold key material: it contains a run
 * of 20 or more base64 characters ([A-Za-z0-9+/=]) with both upper- and
 * lower-case letters, as any 44-character key does, or any long piece of
 * one. Error messages quote outside text only when this is false. NULL-safe
 * (false). A mixed-case path without dots may be a false positive. */
bool wgnl_text_may_be_key(const char *s);

/* -------------------------------------------------------------- the model */

/* An IP prefix: an allowed IP, an interface address or a route destination. */
struct wgnl_prefix {
	uint16_t family; /* AF_INET or AF_INET6 */
	uint8_t cidr;	 /* 0..32 or 0..128 */
	uint8_t flags;	 /* enum wgnl_prefix_flags */
	union {
		struct in_addr ip4;
		struct in6_addr ip6;
	};
};

enum wgnl_prefix_flags {
	/* As an allowed IP in a set: remove this one from the peer instead of
	 * adding it (needs WGALLOWEDIP_A_FLAGS, Linux >= 6.14; see
	 * wgnl_ctx_caps()). */
	WGNL_PREFIX_REMOVE = 1U << 0,
};

/* Parse "10.0.0.1/24", "fd00::1/64", or a bare address (full-length prefix).
 * Host bits are kept as written. Returns 0 or -EINVAL. */
int wgnl_prefix_parse(struct wgnl_prefix *out, const char *s);
/* Format @p as "addr/cidr" into @buf (INET6_ADDRSTRLEN + 4 bytes suffice).
 * Returns @buf. */
char *wgnl_prefix_format(const struct wgnl_prefix *p, char *buf, size_t len);
/* Zero the host bits of @p (10.1.2.3/8 -> 10.0.0.0/8). */
void wgnl_prefix_mask(struct wgnl_prefix *p);
/* Total order (family, address, cidr); for sorting and comparison. */
int wgnl_prefix_cmp(const struct wgnl_prefix *a, const struct wgnl_prefix *b);

union wgnl_endpoint {
	struct sockaddr addr;
	struct sockaddr_in addr4;
	struct sockaddr_in6 addr6;
};

/* Parse a numeric endpoint "1.2.3.4:51820" or "[fd00::1]:51820", the IPv6
 * one with an optional scope: "[fe80::1%eth0]:51820" (an interface name,
 * looked up now with if_nametoindex()) or "[fe80::1%2]:51820" (an index).
 * Returns 0, -EINVAL (bad syntax) or -ENODEV (no interface of that name). */
int wgnl_endpoint_parse(union wgnl_endpoint *out, const char *s);
/* Resolve "host:port" / "[v6]:port" with getaddrinfo() (a numeric endpoint
 * as wgnl_endpoint_parse()). Returns 0, -EINVAL (bad syntax), -ENODEV (the
 * scope names no interface) or -EHOSTUNREACH (the name does not resolve). */
int wgnl_endpoint_resolve(union wgnl_endpoint *out, const char *s);
/* Format as "1.2.3.4:51820" or "[fd00::1]:51820"; "(none)" when unset.
 * 64 bytes suffice. Returns @buf. */
char *wgnl_endpoint_format(const union wgnl_endpoint *ep, char *buf, size_t len);
/* True when both hold the same family, address, port (and scope). */
bool wgnl_endpoint_equal(const union wgnl_endpoint *a, const union wgnl_endpoint *b);

/* Presence and action bits of a peer. HAS_* say which fields are meaningful;
 * the others are actions for wgnl_device_set(). They share no value with
 * <linux/wireguard.h> flags on purpose: backends translate. */
enum wgnl_peer_flags {
	WGNL_PEER_HAS_PUBLIC_KEY = 1U << 0,
	WGNL_PEER_HAS_PRESHARED_KEY = 1U << 1,
	WGNL_PEER_HAS_ENDPOINT = 1U << 2,
	WGNL_PEER_HAS_KEEPALIVE = 1U << 3,
	WGNL_PEER_HAS_LAST_HANDSHAKE = 1U << 4,
	WGNL_PEER_HAS_RX_TX = 1U << 5,
	WGNL_PEER_HAS_PROTOCOL_VERSION = 1U << 6,
	/* Actions: */
	WGNL_PEER_REMOVE = 1U << 8,		/* remove this peer */
	WGNL_PEER_REPLACE_ALLOWEDIPS = 1U << 9, /* allowed IPs replace the current list */
	WGNL_PEER_UPDATE_ONLY = 1U << 10,	/* do not create the peer if absent */
	WGNL_PEER_SKIP = 1U << 11,		/* wgnl_device_set() ignores this peer */
};

struct wgnl_peer {
	uint32_t flags; /* enum wgnl_peer_flags */
	wgnl_key public_key;
	wgnl_key preshared_key; /* all zero: none */
	union wgnl_endpoint endpoint;
	/* The endpoint as written in a config when it is a host name
	 * ("vpn.example.net:51820"), so it can be resolved again; else NULL.
	 * Owned by the peer. */
	char *endpoint_name;
	uint16_t persistent_keepalive; /* seconds, 0 = off */
	uint32_t protocol_version;
	struct timespec last_handshake; /* wall clock; {0,0} = never */
	uint64_t rx_bytes, tx_bytes;
	struct wgnl_prefix *allowedips; /* owned; n_allowedips valid entries */
	size_t n_allowedips, cap_allowedips;
};

enum wgnl_device_flags {
	WGNL_DEV_HAS_PRIVATE_KEY = 1U << 0,
	WGNL_DEV_HAS_PUBLIC_KEY = 1U << 1,
	WGNL_DEV_HAS_LISTEN_PORT = 1U << 2,
	WGNL_DEV_HAS_FWMARK = 1U << 3,
	/* Action: the peers listed replace all current peers. */
	WGNL_DEV_REPLACE_PEERS = 1U << 8,
};

struct wgnl_peer_index; /* private: public key -> peer position */

/* A device and its peers. Peers live in one contiguous array, looked up by
 * public key in O(1) through an index the library keeps. Pointers to peers
 * are invalidated by adding or removing peers; positions are not stable
 * across removal. */
struct wgnl_device {
	char name[WGNL_IFNAMSIZ];
	uint32_t ifindex;
	uint32_t flags; /* enum wgnl_device_flags */
	wgnl_key private_key;
	wgnl_key public_key;
	uint16_t listen_port;
	uint32_t fwmark;
	struct wgnl_peer *peers; /* n_peers valid entries */
	size_t n_peers, cap_peers;
	struct wgnl_peer_index *index;
};

/* Allocate an empty device named @name (may be NULL or ""). Returns NULL on
 * out of memory or a name of 16 bytes or more. Free with wgnl_device_free(). */
struct wgnl_device *wgnl_device_new(const char *name);
/* Wipe keys and free the device, its peers and their allowed IPs. NULL-safe. */
void wgnl_device_free(struct wgnl_device *dev);
/* Reserve room for @n peers in total (avoids regrowth when the count is
 * known, e.g. from a dump). Returns 0 or -ENOMEM. */
int wgnl_device_reserve(struct wgnl_device *dev, size_t n);
/* Append a peer with public key @pub (HAS_PUBLIC_KEY set, all else zero) and
 * point *ret at it (valid until the next add/remove). Returns 0, -EEXIST
 * (*ret then points at the existing peer), or -ENOMEM (*ret NULL). */
int wgnl_device_add_peer(struct wgnl_device *dev, const wgnl_key pub, struct wgnl_peer **ret);
/* The peer with public key @pub, or NULL. O(1). */
struct wgnl_peer *wgnl_device_find_peer(const struct wgnl_device *dev, const wgnl_key pub);
/* Remove the peer with public key @pub (the last peer moves into its place).
 * Returns 0 or -ENOENT. */
int wgnl_device_remove_peer(struct wgnl_device *dev, const wgnl_key pub);
/* Append an allowed IP to @peer. Returns 0 or -ENOMEM / -EINVAL (bad family or cidr). */
int wgnl_peer_add_allowedip(struct wgnl_peer *peer, const struct wgnl_prefix *p);
/* Set/replace the peer's endpoint_name (NULL clears). Returns 0 or -ENOMEM. */
int wgnl_peer_set_endpoint_name(struct wgnl_peer *peer, const char *name);
/* Sort each peer's allowed IPs into wgnl_prefix_cmp() order (for stable
 * output and comparison). */
void wgnl_device_sort_allowedips(struct wgnl_device *dev);
/* Put @dev in the form `wg showconf` prints (and SaveConfig writes): allowed
 * IPs sorted, a zero preshared key and a zero keepalive marked absent. */
void wgnl_device_tidy(struct wgnl_device *dev);

/* --------------------------------------------------------- configuration */

enum wgnl_table_mode {
	WGNL_TABLE_AUTO = 0, /* wg-quick default: main, or policy routing for default routes */
	WGNL_TABLE_OFF,	     /* add no routes */
	WGNL_TABLE_ID,	     /* add routes to table `table` */
};

/* The wg-quick part of a configuration ([Interface] keys that are not the
 * device's). Arrays are owned by the config. */
struct wgnl_quick {
	struct wgnl_prefix *addresses;
	size_t n_addresses;
	char **dns; /* DNS servers and search domains, as written */
	size_t n_dns;
	uint32_t mtu; /* 0: unset */
	enum wgnl_table_mode table_mode;
	uint32_t table;
	char **pre_up, **post_up, **pre_down, **post_down;
	size_t n_pre_up, n_post_up, n_pre_down, n_post_down;
	bool save_config;
};

struct wgnl_config {
	struct wgnl_device *dev;
	struct wgnl_quick quick;
};

/* Where and why a config was refused. */
struct wgnl_config_error {
	char file[256]; /* as given to the parser */
	unsigned line;	/* 1-based; 0 when not about one line */
	char key[32];	/* the key or section at fault, "" if none */
	char message[160];
};

enum wgnl_config_flags {
	/* Accept the wg-quick keys (Address, DNS, MTU, Table, hooks, SaveConfig).
	 * Without it they are errors, as `wg setconf` treats them. */
	WGNL_CONFIG_QUICK = 1U << 0,
	/* Resolve endpoint host names (else only numeric endpoints parse and
	 * named ones are kept in endpoint_name, unresolved). */
	WGNL_CONFIG_RESOLVE = 1U << 1,
};

/* Parse the `wg` / `wg-quick` format from @text (@len bytes), naming it
 * @filename in errors. On success *ret holds a new config. On failure returns
 * -EINVAL (syntax or value; @err filled), -ENOMEM, or -EHOSTUNREACH (an
 * endpoint that does not resolve; @err filled). @err may be NULL. */
int wgnl_config_parse(const char *text, size_t len, const char *filename, unsigned flags,
		      struct wgnl_config **ret, struct wgnl_config_error *err);
/* Read and parse @path. -errno of open/read as well (err filled). A
 * file that is readable by group or others and holds a private key is
 * accepted; the tools warn about it. */
int wgnl_config_parse_file(const char *path, unsigned flags, struct wgnl_config **ret,
			   struct wgnl_config_error *err);
/* Write @cfg in the config format to @f. With WGNL_CONFIG_QUICK the wg-quick
 * keys are written too. Private keys are written (this is a config file);
 * callers creating files create them 0600. Returns 0 or -EIO. */
int wgnl_config_write(FILE *f, const struct wgnl_config *cfg, unsigned flags);
/* Free a config and everything in it (keys wiped). NULL-safe. */
void wgnl_config_free(struct wgnl_config *cfg);

/* ------------------------------------------------------------- INI lexer */

/* One lexer for the line formats of wgkit (the WireGuard config,
 * wghealth.conf, the gateway config): it splits lines, drops comments and
 * blank lines, trims, and yields "[name]" section headers and "key = value"
 * pairs with their line numbers; what the keys mean is the caller's. */
enum wgnl_ini_flags {
	/* Skip a UTF-8 byte order mark at the start (some editors write one). */
	WGNL_INI_BOM = 1U << 0,
	/* The first '#' of a line starts a comment only at the start of the line
	 * or after a space or tab (values may hold '#': URLs, commands). Without
	 * it, any '#' does (the wg format). */
	WGNL_INI_HASH_AFTER_BLANK = 1U << 1,
	/* Trim only spaces and tabs (and '\r' at the end of a line). Without it,
	 * also '\r', '\v' and '\f' on both sides. */
	WGNL_INI_BLANK_SPACE_TAB = 1U << 2,
};

struct wgnl_ini_opts {
	/* sizeof(struct wgnl_ini_opts): a sized struct (see above). */
	size_t size;
	unsigned flags; /* enum wgnl_ini_flags */
	/* A line of more than @max_line bytes (newline excluded) is an error;
	 * 0: no limit. */
	size_t max_line;
};

enum wgnl_ini_kind {
	WGNL_INI_SECTION = 1, /* "[section]": the text between the brackets, as is */
	WGNL_INI_PAIR,	      /* "key = value": both trimmed, key possibly "" */
	WGNL_INI_ERROR,	      /* a line that is neither; see enum wgnl_ini_error */
};

enum wgnl_ini_error {
	WGNL_INI_ERR_NONE,
	WGNL_INI_ERR_LONG,	/* longer than max_line */
	WGNL_INI_ERR_NUL,	/* holds a NUL byte */
	WGNL_INI_ERR_SECTION,	/* starts with '[' but does not end with ']' */
	WGNL_INI_ERR_NO_EQUALS, /* not a section and no '=' */
};

struct wgnl_ini_item {
	enum wgnl_ini_kind kind;
	enum wgnl_ini_error error; /* WGNL_INI_ERROR only */
	unsigned line;		   /* 1-based */
	/* The current section ("" before the first header); for a
	 * WGNL_INI_SECTION item, the new one. */
	const char *section;
	/* WGNL_INI_PAIR: NUL-terminated, writable, inside the caller's buffer
	 * (valid until the walk ends); NULL otherwise. */
	char *key, *value;
};

/* Called for each section, pair and bad line; 0 goes on, anything else
 * stops the walk and is returned by wgnl_ini_parse(). */
typedef int (*wgnl_ini_fn)(const struct wgnl_ini_item *item, void *data);

/* Walk @buf: @len bytes followed by one more writable byte. The walk works
 * in place (NULs are written into @buf) and allocates nothing; @opts may be
 * NULL (no flags, no limit). Returns 0 at the end, the first non-zero value
 * @fn returned, or -EINVAL (@opts->size too small). */
int wgnl_ini_parse(char *buf, size_t len, const struct wgnl_ini_opts *opts, wgnl_ini_fn fn,
		   void *data);

/* ------------------------------------------------------------- files */

/* Read all of @path, to end of file, into a new buffer *ret (NUL added,
 * not counted in *len; the caller frees it with wgnl_free(), wiping it first
 * when it may hold keys). Pipes, FIFOs, /dev/stdin and process substitution (/dev/fd/N) are
 * read to EOF like regular files; directories are refused. At most @max
 * bytes (0: 256 MiB); buffers outgrown are wiped before they are freed.
 * Returns 0, -EFBIG (longer than @max), -EISDIR, -ENOMEM, or -errno of
 * open/read. *ret is NULL on failure. */
int wgnl_file_read(const char *path, size_t max, char **ret, size_t *len);

enum wgnl_file_flags {
	WGNL_FILE_SYNC = 1U << 0,   /* fsync the data before the rename */
	WGNL_FILE_PUBLIC = 1U << 1, /* mode 0644 instead of 0600 */
	WGNL_FILE_FOLLOW = 1U << 2, /* a symlink at @path: replace the file it
				     * resolves to (realpath), keep the link */
};

/* Replace @path atomically with the @n buffers @v: a fresh temporary file
 * PATH.tmp.XXXXXX beside it (mkostemp: O_EXCL, O_CLOEXEC; mode 0600, or
 * 0644 with WGNL_FILE_PUBLIC), written fully (EINTR retried), fsync'd with
 * WGNL_FILE_SYNC, renamed over @path. A symlink at @path is replaced, never
 * followed, unless WGNL_FILE_FOLLOW; so is a planted link at a temporary
 * name, which mkostemp never opens. The directory must exist. On every
 * failure the temporary file is removed and @path is untouched. Returns 0,
 * -ENOMEM, or -errno of mkostemp (-ENOENT: no directory, -EACCES), write
 * (-ENOSPC, -EFBIG, -EDQUOT), fsync (-EIO) or rename (-EISDIR, -EXDEV). */
int wgnl_file_write_atomic(const char *path, const struct iovec *v, int n, unsigned flags);

/* The same in steps, for a caller that streams (fdopen a dup() of the fd)
 * or that writes now and renames later. Open: the temporary file for @path
 * with @flags as above; *ret is NULL on failure. Write: the @n buffers @v
 * fully; the first failure is kept and returned by every later step.
 * Close: fsync (WGNL_FILE_SYNC) and close now; commit does it when not
 * done. Commit: rename over @path; frees @t, and removes the temporary
 * file on failure. Abort: remove the temporary file and free; NULL-safe.
 * Returns 0 or -errno as wgnl_file_write_atomic(). */
struct wgnl_file_tmp;
int wgnl_file_tmp_open(const char *path, unsigned flags, struct wgnl_file_tmp **ret);
/* The temporary file's descriptor, -1 once closed; owned by @t. */
int wgnl_file_tmp_fd(const struct wgnl_file_tmp *t);
int wgnl_file_tmp_write(struct wgnl_file_tmp *t, const struct iovec *v, int n);
int wgnl_file_tmp_close(struct wgnl_file_tmp *t);
int wgnl_file_tmp_commit(struct wgnl_file_tmp *t);
void wgnl_file_tmp_abort(struct wgnl_file_tmp *t);

/* --------------------------------------------------------- the context */

/* A context owns the netlink sockets (opened lazily) and the last error the
 * kernel or a userspace implementation explained. Not thread-safe: use one
 * per thread. */
struct wgnl_ctx;

enum wgnl_backend_kind {
	WGNL_BACKEND_AUTO = 0, /* UAPI when /var/run/wireguard/<if>.sock exists, else kernel */
	WGNL_BACKEND_KERNEL,
	WGNL_BACKEND_UAPI,
};

/* Open a context. Returns 0 or -ENOMEM. Sockets open on first use. */
int wgnl_ctx_open(struct wgnl_ctx **ret);
/* Close sockets and free. NULL-safe. */
void wgnl_ctx_close(struct wgnl_ctx *ctx);
/* Force a backend instead of choosing per device. */
void wgnl_ctx_set_backend(struct wgnl_ctx *ctx, enum wgnl_backend_kind kind);
/* Directory of UAPI sockets (default /var/run/wireguard); @dir is copied.
 * Returns 0, -ENAMETOOLONG. */
int wgnl_ctx_set_uapi_dir(struct wgnl_ctx *ctx, const char *dir);
/* The backend that would serve @ifname now. */
enum wgnl_backend_kind wgnl_backend_detect(struct wgnl_ctx *ctx, const char *ifname);
/* The explanation that came with the last failure (the kernel's extended
 * ack message, or a UAPI error line), or NULL. Valid until the next call on
 * @ctx. */
const char *wgnl_ctx_last_error(const struct wgnl_ctx *ctx);

/* Counters of what the context sent and received, for tests and benchmarks. */
struct wgnl_stats {
	uint64_t set_msgs;     /* WireGuard set messages (netlink) or set transactions (UAPI) */
	uint64_t get_msgs;     /* get requests issued */
	uint64_t recv_msgs;    /* messages received in replies and dumps */
	uint64_t rtnl_msgs;    /* rtnetlink requests */
	uint64_t dump_retries; /* dumps restarted because NLM_F_DUMP_INTR */
};
void wgnl_stats_get(const struct wgnl_ctx *ctx, struct wgnl_stats *out);
void wgnl_stats_reset(struct wgnl_ctx *ctx);

/* What the running kernel supports, probed once per context. */
enum wgnl_caps_flags {
	WGNL_CAP_KERNEL = 1U << 0,	     /* the wireguard genl family exists */
	WGNL_CAP_ALLOWEDIP_REMOVE = 1U << 1, /* WGALLOWEDIP_A_FLAGS is understood */
};
/* Probe and return enum wgnl_caps_flags bits, or a negative errno. */
int wgnl_ctx_caps(struct wgnl_ctx *ctx);
/* What the backend serving @ifname now (wgnl_backend_detect()) supports:
 * enum wgnl_caps_flags bits, as wgnl_ctx_caps() for the in-kernel one, 0 for
 * a userspace (UAPI) implementation, which gets a changed allowed-IP list
 * replaced instead. Returns the bits, -EINVAL (bad name) or -errno. */
int wgnl_device_caps(struct wgnl_ctx *ctx, const char *ifname);

/* --------------------------------------------------------- WireGuard */

/* Read device @ifname with all its peers (coalescing peers split across dump
 * messages, restarting an interrupted dump a bounded number of times).
 * Returns 0, -ENODEV (no such WireGuard device), -EPERM, -EAGAIN (still
 * interrupted after the retries), -EPROTONOSUPPORT (no WireGuard in this
 * kernel and no UAPI socket), or another -errno. */
int wgnl_device_get(struct wgnl_ctx *ctx, const char *ifname, struct wgnl_device **ret);
/* Called by wgnl_device_get_stream() for each peer, in dump order. @peer
 * and @dev (the device's own fields so far) are valid during the call only.
 * @peer NULL: the dump was interrupted and starts again; forget the peers
 * seen so far. Return 0 to go on, a negative errno to stop (returned). */
typedef int (*wgnl_peer_cb)(const struct wgnl_device *dev, const struct wgnl_peer *peer,
			    void *data);
/* Read device @ifname as a stream: @cb sees every peer once (coalesced as
 * wgnl_device_get() does), and only one netlink message's worth of peers is
 * held at a time, so memory stays bounded at 100k peers. On success *ret
 * holds the device's own fields with no peers (free with
 * wgnl_device_free()). Userspace (UAPI) devices are read whole first, then
 * streamed. Returns what wgnl_device_get() returns, or @cb's error. */
int wgnl_device_get_stream(struct wgnl_ctx *ctx, const char *ifname, wgnl_peer_cb cb, void *data,
			   struct wgnl_device **ret);
/* Apply @dev to the device named dev->name: device fields whose HAS_* bit is
 * set, the REPLACE_PEERS action, and each peer not marked SKIP with its HAS_*
 * fields, actions and allowed IPs. Split over as many messages as needed.
 * Returns 0, -ENODEV, -EPERM, -EINVAL (wgnl_ctx_last_error() tells why), or
 * another -errno; after a failure part of the change may be applied. */
int wgnl_device_set(struct wgnl_ctx *ctx, const struct wgnl_device *dev);
/* Names of the WireGuard devices (kernel links of kind "wireguard" and UAPI
 * sockets), sorted, in a NULL-terminated array freed with wgnl_strv_free().
 * Returns the count or -errno. */
int wgnl_device_list(struct wgnl_ctx *ctx, char ***ret);
/* Free a NULL-terminated string array and its strings. NULL-safe. */
void wgnl_strv_free(char **v);
/* Free a plain array or string the library returned: the array of
 * wgnl_addr_list() and wgnl_route_list(), the buffer of wgnl_file_read()
 * (wipe it first when it may hold keys) and the text of
 * wgnl_health_state_format(). Objects with their own destructor
 * (wgnl_device_free(), wgnl_config_free(), wgnl_strv_free(), ...) are not
 * freed with this. NULL-safe. */
void wgnl_free(void *p);

/* ---------------------------------------------------------------- sync */

/* A plan turns the running device into the desired one while sending only
 * what differs. plan->change is an ordinary device "delta" that
 * wgnl_sync_apply() hands to wgnl_device_set(): peers to add (full), peers to
 * remove (WGNL_PEER_REMOVE), and for updated peers only the fields that
 * differ, with WGNL_PEER_UPDATE_ONLY so a peer removed meanwhile is not
 * re-created. Unchanged peers are not in it at all. */
struct wgnl_plan {
	struct wgnl_device *change; /* owned by the plan */
	size_t n_add, n_remove, n_update, n_unchanged;
	bool device_changed; /* private key, listen port or fwmark */
};

enum wgnl_sync_flags {
	/* Express allowed-IP changes as per-IP additions and removals
	 * (WGALLOWEDIP_A_FLAGS, Linux >= 6.14, see wgnl_ctx_caps()). Without it a
	 * changed list is sent whole with WGNL_PEER_REPLACE_ALLOWEDIPS. */
	WGNL_SYNC_ALLOWEDIP_REMOVE = 1U << 0,
};

/* Compute the plan that turns @running into @desired. @last is the desired state
 * applied last time (NULL when unknown): a desired endpoint is sent only for
 * a new peer, or when it differs from the one in @last (so an endpoint the
 * peer roamed to survives a sync of an unchanged file); with @last NULL it is
 * sent when it differs from the running one. Device fields are compared only
 * where @desired has them (HAS_*). Allowed IPs compare as sets of masked
 * prefixes. Returns 0 (*ret set) or -ENOMEM. */
int wgnl_sync_plan(const struct wgnl_device *desired, const struct wgnl_device *running,
		   const struct wgnl_device *last, unsigned flags, struct wgnl_plan **ret);
/* wgnl_sync_plan() against the running device desired->name read as a
 * stream (wgnl_device_get_stream()): the running peers are never all held,
 * so memory stays at @desired plus the plan at 100k peers. With @running
 * non-NULL it receives the running device's own fields (no peers; free with
 * wgnl_device_free()). Returns 0, -ENOMEM, or what the dump returns. */
int wgnl_sync_plan_stream(struct wgnl_ctx *ctx, const struct wgnl_device *desired,
			  const struct wgnl_device *last, unsigned flags, struct wgnl_plan **ret,
			  struct wgnl_device **running);
/* True when the plan changes nothing. */
bool wgnl_plan_is_empty(const struct wgnl_plan *plan);
/* Apply the plan to the device plan->change->name. An empty plan sends
 * nothing. Returns what wgnl_device_set() returns. */
int wgnl_sync_apply(struct wgnl_ctx *ctx, const struct wgnl_plan *plan);
void wgnl_plan_free(struct wgnl_plan *plan);

/* Counts of one wgnl_device_reresolve() pass. */
struct wgnl_reresolve_stats {
	unsigned names;	  /* peers of the config with an endpoint host name, on the device */
	unsigned fresh;	  /* of those, left alone: a handshake within stale_after seconds */
	unsigned failed;  /* names that did not resolve (their endpoints left as they are) */
	unsigned changed; /* endpoints set: the name resolves to another address now */
};

/* Resolve again the endpoint host names of @conf's peers (peer->endpoint_name,
 * as wgnl_config_parse() keeps them, with or without WGNL_CONFIG_RESOLVE) and set,
 * in one update-only set on @ifname, the endpoint of each such peer the device
 * has whose name now resolves to an address other than its current endpoint.
 * Peers absent from the device are never created; nothing else is touched.
 * With @stale_after non-zero, a peer whose latest handshake is at most
 * @stale_after seconds before @now (wall clock) is left alone: its endpoint
 * works, maybe roamed (wireguard-tools' reresolve-dns.sh uses 135 s; 0
 * re-resolves every peer, as wghealth's remedy does). @running: the device
 * as already read (its peers' endpoints and handshakes), or NULL to read it
 * here. Name resolution (getaddrinfo) may block. Never prints. Returns the
 * number of endpoints set (0: nothing to change), -EINVAL, -ENOMEM, or what
 * wgnl_device_get()/wgnl_device_set() return (-ENODEV ...). @st (may be
 * NULL) receives the counts; on error its changed is 0. */
int wgnl_device_reresolve(struct wgnl_ctx *ctx, const char *ifname, const struct wgnl_device *conf,
			  const struct wgnl_device *running, time_t now, unsigned stale_after,
			  struct wgnl_reresolve_stats *st);

/* ------------------------------------------------------ links, addresses */

struct wgnl_link {
	char name[WGNL_IFNAMSIZ];
	uint32_t ifindex;
	uint32_t mtu;
	bool up;       /* IFF_UP */
	char kind[16]; /* "wireguard", "veth", "" ... */
};

/* Create a link named @name of @kind ("wireguard"). Returns 0, -EEXIST,
 * -EOPNOTSUPP (kind unknown to this kernel), -EPERM, or -errno. */
int wgnl_link_add(struct wgnl_ctx *ctx, const char *name, const char *kind);
/* Delete link @name. For a WireGuard device the peers are removed first in one
 * set (deleting a populated device costs ~17 ms per peer on Linux 6.1; an
 * empty set takes a fraction of a second). Returns 0, -ENODEV or -errno. */
int wgnl_link_del(struct wgnl_ctx *ctx, const char *name);
/* Look up link @name. Returns 0, -ENODEV or -errno. */
int wgnl_link_get(struct wgnl_ctx *ctx, const char *name, struct wgnl_link *out);
int wgnl_link_set_up(struct wgnl_ctx *ctx, const char *name, bool up);
int wgnl_link_set_mtu(struct wgnl_ctx *ctx, const char *name, uint32_t mtu);

/* Add/remove address @p on @ifname. Add is idempotent (an existing address
 * returns 0). Delete returns -EADDRNOTAVAIL when absent. */
int wgnl_addr_add(struct wgnl_ctx *ctx, const char *ifname, const struct wgnl_prefix *p);
int wgnl_addr_del(struct wgnl_ctx *ctx, const char *ifname, const struct wgnl_prefix *p);
/* Add address @p on @ifname, or refresh it in place, with a valid and a
 * preferred lifetime in seconds: the kernel removes it by itself @valid_s
 * after the last call (a dead-man switch for an anycast address). IPv6 is
 * added without duplicate address detection. A refresh is one in-place
 * update (no delete and re-add). Returns 0, -EINVAL (@valid_s 0 or
 * @preferred_s > @valid_s, bad prefix or name), -ENODEV, -EPERM,
 * -EOPNOTSUPP (no address lifetimes on this OS) or -errno. */
int wgnl_addr_add_lifetime(struct wgnl_ctx *ctx, const char *ifname, const struct wgnl_prefix *p,
			   uint32_t valid_s, uint32_t preferred_s);
/* The addresses on @ifname into *ret (free with wgnl_free()), count returned
 * or -errno. */
int wgnl_addr_list(struct wgnl_ctx *ctx, const char *ifname, struct wgnl_prefix **ret);

/* Add/remove route @dst via @ifname in routing table @table (0 = main).
 * Add never replaces a route (NLM_F_EXCL): it returns 1 when it created the
 * route, 0 when the kernel already held an equal route through @ifname
 * (made by anyone, e.g. the kernel's subnet route; not created, so not the
 * caller's to undo), -EEXIST when an equal route (same table, destination and
 * metric) goes through another interface (left alone; the error message
 * says so). IPv6 routes of another metric do not collide: callers that must
 * not stack one list the table first. Delete returns -ESRCH when absent. */
int wgnl_route_add(struct wgnl_ctx *ctx, const char *ifname, const struct wgnl_prefix *dst,
		   uint32_t table);
int wgnl_route_del(struct wgnl_ctx *ctx, const char *ifname, const struct wgnl_prefix *dst,
		   uint32_t table);
/* The routes through @ifname in @table (0 = main) into *ret (free with
 * wgnl_free()), count returned or -errno. */
int wgnl_route_list(struct wgnl_ctx *ctx, const char *ifname, uint32_t table,
		    struct wgnl_prefix **ret);

/* A policy routing rule, as wg-quick uses them. */
struct wgnl_rule {
	uint16_t family;	/* AF_INET or AF_INET6 */
	uint32_t priority;	/* 0: let the kernel choose */
	uint32_t fwmark;	/* match packets whose mark is... */
	bool invert;		/* ...not fwmark ("not fwmark X") */
	uint32_t table;		/* lookup this table (0: main) */
	int suppress_prefixlen; /* -1: unset; 0: suppress_prefixlength 0 */
};
/* Add/remove @r. Add returns 1 when it created the rule, 0 when an equal
 * rule was already there (not the caller's to undo); delete returns -ENOENT
 * when absent. */
int wgnl_rule_add(struct wgnl_ctx *ctx, const struct wgnl_rule *r);
int wgnl_rule_del(struct wgnl_ctx *ctx, const struct wgnl_rule *r);
/* Is a rule equal to @r (priority compared only when r->priority is set)
 * in the kernel? 1, 0, -EINVAL or -errno. */
int wgnl_rule_exists(struct wgnl_ctx *ctx, const struct wgnl_rule *r);

WGNL_DECLS_END
#endif
