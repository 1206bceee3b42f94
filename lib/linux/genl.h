/* SPDX-License-Identifier: MIT */
/* Private to libwg-netlink: the WireGuard generic netlink messages, built and
 * parsed apart from the socket so the unit tests can feed them bytes. */
#ifndef WGNL_GENL_H
#define WGNL_GENL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/netlink.h>

#include "wgkit/wgnl.h"

/* Linux 6.14 added per-allowed-IP flags; older headers lack them. */
#ifndef WGALLOWEDIP_A_FLAGS
#define WGALLOWEDIP_A_FLAGS 4
#endif
#ifndef WGALLOWEDIP_F_REMOVE_ME
#define WGALLOWEDIP_F_REMOVE_ME (1U << 0)
#endif

/* nla_len is 16 bits: no nest may hold more than this (kept 4-aligned). */
#define WGI_GENL_NEST_MAX 65532u
/* One set message: header, device attributes, then a peers nest filled up
 * to WGI_GENL_NEST_MAX. The nest bound, not the kernel, limits the size:
 * the kernel accepts a message up to the socket's send buffer (~208 KiB by
 * default) but reads only one WGDEVICE_A_PEERS per message. */
#define WGI_GENL_SET_BUF (WGI_GENL_NEST_MAX + 1024)
/* Peer removals per set message at most. The kernel removes each peer with
 * its own synchronize_net() while holding the rtnl lock for the whole
 * message; ~1,300 removals would fit the nest, which could stall every other
 * rtnl user (ip, routing daemons) for a long time on a busy box. */
#define WGI_GENL_REMOVALS_MAX 128u

/* ------------------------------------------------------------ set */

/* Where the next set message resumes. Zero it (or use
 * WGI_GENL_SET_CURSOR_INIT) before the first message. */
struct wgi_genl_set_cursor {
	size_t peer;   /* next peer to (continue to) send */
	size_t aip;    /* allowed IPs of that peer already sent */
	unsigned msgs; /* messages built so far */
	bool done;
};

/* Build the next WG_CMD_SET_DEVICE message for @dev (generic netlink family
 * @family) into @buf of @len bytes (at most WGI_GENL_SET_BUF are used),
 * resuming at @cur and advancing it. Device attributes and REPLACE_PEERS go
 * in the first message only; a peer continued into the next message repeats
 * just its public key and the UPDATE_ONLY flag, never REPLACE_ALLOWEDIPS.
 * Returns 1 when a message was built (its nlmsg_len says how long), 0 when
 * all was built, -EMSGSIZE when @len cannot hold the next piece, -EINVAL for
 * a name that does not fit or a prefix of an unknown family. */
int wgi_genl_build_set(const struct wgnl_device *dev, uint16_t family, void *buf, size_t len,
		       struct wgi_genl_set_cursor *cur);

/* ------------------------------------------------------------ get */

/* State of one get-device dump being parsed. */
struct wgi_genl_parse {
	struct wgnl_device *dev; /* filled; owned by the caller */
	size_t last;		 /* position + 1 of the last peer parsed, 0 none */
	unsigned msgs;		 /* messages parsed */
	bool peer_in_msg;	 /* the current message had a peer already */
	bool intr;		 /* some message carried NLM_F_DUMP_INTR */
	int err;		 /* first error, -errno */
	/* Stream mode (cb set): peers do not join dev but go to cb one by
	 * one, parsed into @pending, which waits until the next peer starts
	 * (the next message may continue it). Its allowed-IP array is reused
	 * from peer to peer. wgi_genl_parse_flush() hands over the last. */
	wgnl_peer_cb cb;
	void *cb_data;
	struct wgnl_peer pending;
	bool has_pending;
	int cb_err; /* what cb returned, when negative */
};

/* Parse one message of a WG_CMD_GET_DEVICE dump (or one set message, which
 * has the same layout) into st->dev, coalescing a peer the kernel continued
 * from the previous message. Unknown attributes are skipped. Returns 0,
 * -EBADMSG (truncated or invalid attribute; st->err set) or -ENOMEM. */
int wgi_genl_parse_msg(const struct nlmsghdr *nlh, struct wgi_genl_parse *st);
/* Stream mode: hand the pending peer to cb. Returns 0 or cb's error. */
int wgi_genl_parse_flush(struct wgi_genl_parse *st);
/* Stream mode: free what @st holds besides dev. */
void wgi_genl_parse_release(struct wgi_genl_parse *st);

/* ------------------------------------------------------------ caps */

/* What a CTRL_CMD_GETPOLICY dump of the wireguard family said, enough to
 * follow set-device policy -> peers -> allowed IPs. */
struct wgi_genl_policy {
	struct {
		uint32_t policy, attr, nested; /* nested: policy index + 1, 0 none */
	} ent[96];
	unsigned n;
	uint32_t set_do; /* policy index of WG_CMD_SET_DEVICE + 1, 0 unknown */
	bool overflow;
};

/* Feed one message of the policy dump. Returns 0 or -EBADMSG. */
int wgi_genl_policy_parse(const struct nlmsghdr *nlh, struct wgi_genl_policy *pol);
/* Whether the allowed-IP policy reached from WG_CMD_SET_DEVICE knows
 * WGALLOWEDIP_A_FLAGS: 1 yes, 0 no, -ENOENT when the dump does not link the
 * nested policies (kernels before the YAML-generated policies). */
int wgi_genl_policy_aip_flags(const struct wgi_genl_policy *pol);

#endif
