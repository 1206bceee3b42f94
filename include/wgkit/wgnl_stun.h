/* SPDX-License-Identifier: MIT */
/*
 * libwg-netlink: STUN (RFC 8489) with RFC 5780 NAT behaviour discovery, on
 * io_uring. Three layers:
 *  - the codec (wgnl_stun_decode / wgnl_stun_writer_*): strict, allocation
 *    free; decoded strings and addresses point into or are copied from the
 *    caller's buffer;
 *  - the server (wgnl_stun_server_*): multishot receive, batched replies,
 *    answers from the address a request arrived on, RFC 5780 with a second
 *    address and port, per-source rate limiting;
 *  - the client (wgnl_stun_client_*): concurrent Binding transactions to
 *    several servers with bounded RFC retransmission, and RFC 5780 mapping,
 *    filtering and hairpinning tests.
 * Conventions as in wgnl.h: 0 or a count on success, -errno on failure,
 * nothing prints, destructors accept NULL, option structs are sized
 * (struct wgnl_stun_server_config, struct wgnl_stun_client_opts: set
 * .size = sizeof(the struct)).
 */
#ifndef WGKIT_WGNL_STUN_H
#define WGKIT_WGNL_STUN_H

#include "wgkit/wgnl_decls.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wgkit/wgnl.h"

WGNL_DECLS_BEGIN

/* ------------------------------------------------------------ protocol */

#define WGNL_STUN_HDR_LEN 20
#define WGNL_STUN_MAGIC 0x2112A442U
#define WGNL_STUN_TID_LEN 12
#define WGNL_STUN_PORT 3478
/* The largest message the codec builds or the server accepts. */
#define WGNL_STUN_MAX_MSG 1280

/* Message types (method Binding, RFC 8489 section 5). */
enum wgnl_stun_type {
	WGNL_STUN_BINDING_REQUEST = 0x0001,
	WGNL_STUN_BINDING_INDICATION = 0x0011,
	WGNL_STUN_BINDING_SUCCESS = 0x0101,
	WGNL_STUN_BINDING_ERROR = 0x0111,
};

enum wgnl_stun_class {
	WGNL_STUN_CLASS_REQUEST = 0,
	WGNL_STUN_CLASS_INDICATION = 1,
	WGNL_STUN_CLASS_SUCCESS = 2,
	WGNL_STUN_CLASS_ERROR = 3,
};

/* Attribute types the codec understands (RFC 8489, RFC 5780). */
enum wgnl_stun_attr {
	WGNL_STUN_ATTR_MAPPED_ADDRESS = 0x0001,
	WGNL_STUN_ATTR_CHANGE_REQUEST = 0x0003,
	WGNL_STUN_ATTR_USERNAME = 0x0006,
	WGNL_STUN_ATTR_MESSAGE_INTEGRITY = 0x0008,
	WGNL_STUN_ATTR_ERROR_CODE = 0x0009,
	WGNL_STUN_ATTR_UNKNOWN_ATTRIBUTES = 0x000A,
	WGNL_STUN_ATTR_REALM = 0x0014,
	WGNL_STUN_ATTR_NONCE = 0x0015,
	WGNL_STUN_ATTR_MESSAGE_INTEGRITY_SHA256 = 0x001C,
	WGNL_STUN_ATTR_USERHASH = 0x001E,
	WGNL_STUN_ATTR_XOR_MAPPED_ADDRESS = 0x0020,
	WGNL_STUN_ATTR_PADDING = 0x0026,
	WGNL_STUN_ATTR_RESPONSE_PORT = 0x0027,
	WGNL_STUN_ATTR_SOFTWARE = 0x8022,
	WGNL_STUN_ATTR_ALTERNATE_SERVER = 0x8023,
	WGNL_STUN_ATTR_FINGERPRINT = 0x8028,
	WGNL_STUN_ATTR_RESPONSE_ORIGIN = 0x802B,
	WGNL_STUN_ATTR_OTHER_ADDRESS = 0x802C,
};

/* CHANGE-REQUEST flags (RFC 5780 section 7.2). */
enum wgnl_stun_change {
	WGNL_STUN_CHANGE_PORT = 1U << 1,
	WGNL_STUN_CHANGE_IP = 1U << 2,
};

/* Presence bits of struct wgnl_stun_msg: raised only after a valid copy. */
enum wgnl_stun_msg_flags {
	WGNL_STUN_HAS_XOR_MAPPED = 1U << 0,
	WGNL_STUN_HAS_MAPPED = 1U << 1,
	WGNL_STUN_HAS_ERROR_CODE = 1U << 2,
	WGNL_STUN_HAS_SOFTWARE = 1U << 3,
	WGNL_STUN_HAS_FINGERPRINT = 1U << 4,
	WGNL_STUN_HAS_CHANGE_REQUEST = 1U << 5,
	WGNL_STUN_HAS_RESPONSE_ORIGIN = 1U << 6,
	WGNL_STUN_HAS_OTHER_ADDRESS = 1U << 7,
	WGNL_STUN_HAS_RESPONSE_PORT = 1U << 8,
	WGNL_STUN_HAS_MESSAGE_INTEGRITY = 1U << 9,
	WGNL_STUN_HAS_PADDING = 1U << 10,
	/* Client only: the query's own request came back to the client (the
	 * query was sent to the client's own mapped address: hairpinning). */
	WGNL_STUN_HAS_SELF = 1U << 15,
};

#define WGNL_STUN_MAX_UNKNOWN 8

/* A decoded message. Strings point into the decoded buffer (not
 * NUL-terminated) and are valid as long as it is. */
struct wgnl_stun_msg {
	uint16_t type;	 /* enum wgnl_stun_type for Binding */
	uint16_t method; /* 0x001 = Binding */
	uint8_t klass;	 /* enum wgnl_stun_class */
	uint16_t length; /* body length from the header */
	uint8_t tid[WGNL_STUN_TID_LEN];
	uint32_t flags; /* enum wgnl_stun_msg_flags */
	union wgnl_endpoint xor_mapped, mapped, response_origin, other_address;
	uint16_t error_code; /* 300..699 */
	const char *error_reason;
	uint16_t error_reason_len;
	const char *software;
	uint16_t software_len;
	uint32_t change_request; /* enum wgnl_stun_change bits */
	uint16_t response_port;
	/* Comprehension-required attributes the codec does not know, in order,
	 * at most WGNL_STUN_MAX_UNKNOWN (for a 420 reply). */
	uint16_t unknown[WGNL_STUN_MAX_UNKNOWN];
	uint8_t n_unknown;
};

/* ---------------------------------------------------------------- codec */

/* Decode and validate the STUN message of @len bytes at @buf into @out
 * (zeroed first). Checks the two leading zero bits, the magic cookie, that
 * the header length equals @len - 20 and is a multiple of 4, every
 * attribute's length and padding, the value lengths of known attributes,
 * address families, that FINGERPRINT is last and matches, and that nothing
 * but MESSAGE-INTEGRITY-SHA256 and FINGERPRINT follows MESSAGE-INTEGRITY.
 * Returns 0, or:
 *  -EINVAL     not STUN (short, leading bits, wrong cookie);
 *  -EMSGSIZE   truncated or oversized (length field disagrees with @len);
 *  -EBADMSG    a malformed attribute or a FINGERPRINT mismatch;
 *  -EOPNOTSUPP well formed but with unknown comprehension-required
 *              attributes (listed in out->unknown; the rest is decoded).
 * Never allocates. */
int wgnl_stun_decode(const void *buf, size_t len, struct wgnl_stun_msg *out);

/* Fill @tid with 12 bytes from libsodium's CSPRNG. Returns 0 or -EIO. */
int wgnl_stun_tid_random(uint8_t tid[WGNL_STUN_TID_LEN]);

/* Build a message in a caller's buffer. Errors are sticky: the first failure
 * (-ENOSPC, -EINVAL) is kept in @err and returned by wgnl_stun_finish(), so
 * puts need not be checked one by one. */
struct wgnl_stun_writer {
	uint8_t *buf;
	size_t cap, len;
	int err;
};

/* Start a message of @type with transaction id @tid in @cap bytes at @buf. */
void wgnl_stun_writer_init(struct wgnl_stun_writer *w, void *buf, size_t cap, uint16_t type,
			   const uint8_t tid[WGNL_STUN_TID_LEN]);
/* Append an attribute of type @attr with @len bytes of @val, zero padded. */
void wgnl_stun_put(struct wgnl_stun_writer *w, uint16_t attr, const void *val, size_t len);
/* Append a 32-bit attribute in network order (CHANGE-REQUEST). */
void wgnl_stun_put_u32(struct wgnl_stun_writer *w, uint16_t attr, uint32_t v);
/* Append an address attribute: XOR-encoded when @attr is
 * XOR-MAPPED-ADDRESS, plain otherwise (MAPPED-ADDRESS, RESPONSE-ORIGIN,
 * OTHER-ADDRESS). -EINVAL for a family other than AF_INET/AF_INET6. */
void wgnl_stun_put_addr(struct wgnl_stun_writer *w, uint16_t attr, const union wgnl_endpoint *ep);
/* Append ERROR-CODE @code (300..699) with reason @reason (may be NULL). */
void wgnl_stun_put_error(struct wgnl_stun_writer *w, uint16_t code, const char *reason);
/* Append UNKNOWN-ATTRIBUTES listing @n types. */
void wgnl_stun_put_unknown(struct wgnl_stun_writer *w, const uint16_t *types, size_t n);
/* Close the message: set the header length and, with @fingerprint, append
 * FINGERPRINT. Returns the message length or the sticky error. */
int wgnl_stun_finish(struct wgnl_stun_writer *w, bool fingerprint);

/* Build a Binding request in @buf: optional CHANGE-REQUEST @change (0 for
 * none), optional RESPONSE-PORT @response_port (0 for none) with PADDING
 * @padding bytes (0 for none), FINGERPRINT when @fingerprint. Returns the
 * length or -ENOSPC. */
int wgnl_stun_build_request(void *buf, size_t cap, const uint8_t tid[WGNL_STUN_TID_LEN],
			    uint32_t change, uint16_t response_port, size_t padding,
			    bool fingerprint);

/* ---------------------------------------------------------------- server */

struct wgnl_stun_server;

/* Requests per second and source the server answers when the config
 * leaves rate_limit 0, the factor for the per-prefix buckets, and the
 * value that turns the limit off. */
#define WGNL_STUN_RATE_DEFAULT 20U
#define WGNL_STUN_RATE_PREFIX_FACTOR 10U
#define WGNL_STUN_RATE_UNLIMITED UINT32_MAX

struct wgnl_stun_server_config {
	/* sizeof(struct wgnl_stun_server_config): a sized struct (wgnl.h). */
	size_t size;
	/* Where to listen. addr.family AF_INET or AF_INET6; the address may be
	 * the wildcard (replies then leave from the address each request
	 * arrived on, via IP_PKTINFO / IPV6_PKTINFO). */
	union wgnl_endpoint addr;
	/* RFC 5780: a second address (same family, specific, not wildcard)
	 * and an alternate port. Both must be set (alt_addr family non-zero,
	 * alt_port non-zero) for OTHER-ADDRESS and CHANGE-REQUEST; then
	 * addr must be specific too. */
	union wgnl_endpoint alt_addr;
	uint16_t alt_port;
	/* SOFTWARE attribute, or NULL for none. Copied. */
	const char *software;
	/* Rate limit, on by default: a token bucket per source (IPv4 address,
	 * IPv6 /64) of @rate_limit requests per second with a burst of
	 * @rate_burst (0: @rate_limit), and one per prefix (IPv4 /24, IPv6
	 * /48) of WGNL_STUN_RATE_PREFIX_FACTOR times both. @rate_limit 0
	 * means WGNL_STUN_RATE_DEFAULT; WGNL_STUN_RATE_UNLIMITED turns the
	 * limit off (benchmarks only: the server then reflects whatever
	 * spoofed requests ask for). */
	uint32_t rate_limit, rate_burst;
	/* io_uring queue depth and receive buffers (0: defaults 1024 / 2048). */
	uint32_t ring_entries, n_buffers;
};

struct wgnl_stun_server_stats {
	uint64_t rx;		 /* datagrams received */
	uint64_t answered;	 /* success responses sent */
	uint64_t errors_sent;	 /* error responses sent (420 unknown attribute, 400) */
	uint64_t drop_not_stun;	 /* wrong cookie, leading bits, runts */
	uint64_t drop_size;	 /* truncated or oversized */
	uint64_t drop_malformed; /* bad attributes, fingerprint mismatch */
	uint64_t drop_class;	 /* not a Binding request (responses, indications, other methods) */
	uint64_t drop_ratelimit;
	uint64_t drop_nospace; /* no send slot free */
	uint64_t send_errors;
	uint64_t submits; /* io_uring_enter calls (for syscalls per reply) */
};

/* Create a server: open and bind its sockets (one per address and port),
 * set up the ring and the receive buffers. Binding a port below 1024 needs
 * CAP_NET_BIND_SERVICE; nothing else needs privilege. Returns 0, -EINVAL
 * (inconsistent config, or cfg->size too small), -EADDRINUSE, -EACCES, -ENOSYS / -EPERM (io_uring
 * unavailable), -ENOMEM. */
int wgnl_stun_server_new(const struct wgnl_stun_server_config *cfg, struct wgnl_stun_server **ret);
/* Serve until wgnl_stun_server_stop() or, when @timeout_ms >= 0, until that
 * many milliseconds passed. Returns 0 or a fatal -errno from the ring. Call
 * it from the thread that created @srv (its ring is single-issuer: from
 * another thread it fails with -EEXIST); run it again to go on serving. */
int wgnl_stun_server_run(struct wgnl_stun_server *srv, int timeout_ms);
/* Ask a running server to return from wgnl_stun_server_run(). Safe from a
 * signal handler and from another thread. */
void wgnl_stun_server_stop(struct wgnl_stun_server *srv);
/* The port of the primary socket (useful after binding port 0). */
uint16_t wgnl_stun_server_port(const struct wgnl_stun_server *srv);
void wgnl_stun_server_get_stats(const struct wgnl_stun_server *srv,
				struct wgnl_stun_server_stats *out);
/* Close sockets and ring, free. NULL-safe. */
void wgnl_stun_server_free(struct wgnl_stun_server *srv);

/* ---------------------------------------------------------------- client */

struct wgnl_stun_client;

struct wgnl_stun_client_opts {
	/* sizeof(struct wgnl_stun_client_opts): a sized struct (wgnl.h). */
	size_t size;
	/* Local address to bind (family 0: wildcard of the servers' family,
	 * port 0: ephemeral). */
	union wgnl_endpoint local;
	/* RFC 8489 retransmission; zero fields take the default. */
	uint32_t rto_ms;     /* first RTO in ms (500) */
	uint32_t max_tries;  /* at most this many sends (7) */
	uint32_t rm;	     /* last wait: @rm * RTO (16) */
	uint32_t timeout_ms; /* cap on a whole wgnl_stun_client_query() (39500, the RFC total) */
	/* Bind to this interface (SO_BINDTODEVICE) when non-empty, mark with
	 * @fwmark (SO_MARK) when non-zero. */
	char ifname[WGNL_IFNAMSIZ];
	uint32_t fwmark;
	bool fingerprint; /* add FINGERPRINT to requests */
};

/* One Binding transaction. Fill the inputs; wgnl_stun_client_query() fills
 * the outputs. */
struct wgnl_stun_query {
	union wgnl_endpoint server; /* in */
	uint32_t change;	    /* in: CHANGE-REQUEST bits, 0 for none */
	int status;	/* out: 0, -ETIMEDOUT, -EPROTO (error response), -errno of send */
	uint32_t flags; /* out: enum wgnl_stun_msg_flags of the response */
	union wgnl_endpoint mapped; /* out: XOR-MAPPED-ADDRESS, else MAPPED-ADDRESS */
	union wgnl_endpoint response_origin, other_address; /* out, when flagged */
	union wgnl_endpoint from;			    /* out: where the response came from */
	uint16_t error_code;				    /* out, when status == -EPROTO */
	uint32_t tries;					    /* out: requests sent */
	uint64_t rtt_ns; /* out: from the last request sent to the response */
};

/* Open a client with one UDP socket (all queries leave from the same local
 * port, as NAT discovery needs). @opts may be NULL for defaults. Returns 0,
 * -EINVAL (bad family, or opts->size too small), -ENOSYS / -EPERM (io_uring unavailable) or -errno of bind. */
int wgnl_stun_client_new(const struct wgnl_stun_client_opts *opts, int family,
			 struct wgnl_stun_client **ret);
/* The local address the client's socket is bound to. */
int wgnl_stun_client_local(const struct wgnl_stun_client *c, union wgnl_endpoint *out);
/* Run the @n transactions concurrently, retransmitting each per the RFC,
 * until all answered or given up. Per-query results are in @q. Sends still
 * parked behind a full socket buffer at the end are cancelled and reaped
 * before it returns. Returns the number answered (success or error
 * response) or a fatal -errno. */
int wgnl_stun_client_query(struct wgnl_stun_client *c, struct wgnl_stun_query *q, size_t n);
void wgnl_stun_client_free(struct wgnl_stun_client *c);

enum wgnl_stun_nat_behaviour {
	WGNL_STUN_NAT_UNKNOWN = 0,
	WGNL_STUN_NAT_NONE, /* mapped == local: no NAT (mapping only) */
	WGNL_STUN_NAT_ENDPOINT_INDEPENDENT,
	WGNL_STUN_NAT_ADDRESS_DEPENDENT,
	WGNL_STUN_NAT_ADDRESS_PORT_DEPENDENT,
};

/* The RFC 5780 verdict on the path to one server. */
struct wgnl_stun_nat_result {
	union wgnl_endpoint local, mapped, other_address;
	bool rfc5780; /* the server gave OTHER-ADDRESS (and answered test II) */
	enum wgnl_stun_nat_behaviour mapping, filtering;
	int hairpin;		    /* 1 yes, 0 no, -1 not tested */
	bool varies_by_destination; /* mapping differs between destinations */
};

/* Run the RFC 5780 mapping tests (I, II, III), filtering tests (II, III)
 * and a hairpinning test from client @c against @server. Returns 0 (with
 * whatever could be determined; res->rfc5780 false when the server does not
 * support RFC 5780), -ETIMEDOUT when the server does not answer test I at
 * all, or -errno. */
int wgnl_stun_nat_discover(struct wgnl_stun_client *c, const union wgnl_endpoint *server,
			   struct wgnl_stun_nat_result *res);
/* "endpoint-independent", "address-dependent", "address-and-port-dependent",
 * "no-nat", "unknown". */
const char *wgnl_stun_nat_behaviour_name(enum wgnl_stun_nat_behaviour b);

/* -------------------------------------------------------------- io_uring */

/* Whether io_uring can be used here (kernel support, not disabled by
 * kernel.io_uring_disabled or a seccomp filter). Returns 0, -ENOSYS or
 * -EPERM. */
int wgnl_uring_available(void);

WGNL_DECLS_END
#endif
