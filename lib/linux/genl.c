// SPDX-License-Identifier: MIT
/* The in-kernel backend: WireGuard over generic netlink. Messages are built
 * and parsed by the functions in genl.h, apart from the socket; the ops at
 * the bottom only move them through wgi_nl_transact(). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include <linux/genetlink.h>
#include <linux/wireguard.h>

#include "genl.h"
#include "nl.h"

/* A dump interrupted by a concurrent change is read again from the start;
 * under constant churn at 10k peers it could be interrupted forever, so give
 * up after a few tries and let the caller decide. */
#define WGI_GENL_DUMP_RETRIES 5

/* ================================================================ parsing */

/* Call @cb for each attribute in @len bytes at @p. libmnl's iterators stop
 * quietly at an attribute that overruns its container, which would let a
 * truncated message parse as a shorter valid one; here anything that is not
 * a whole attribute is an error. Returns 0, or -1 (bad layout, or @cb
 * returned MNL_CB_ERROR). */
static int walk(const void *p, size_t len, mnl_attr_cb_t cb, void *data)
{
	const struct nlattr *a = p;

	while (len) {
		size_t step;

		if (len < sizeof(*a) || a->nla_len < sizeof(*a) || a->nla_len > len)
			return -1;
		if (cb(a, data) != MNL_CB_OK)
			return -1;
		step = MNL_ALIGN(a->nla_len);
		if (step >= len)
			break;
		len -= step;
		a = (const struct nlattr *)((const char *)a + step);
	}
	return 0;
}

static int walk_nested(const struct nlattr *a, mnl_attr_cb_t cb, void *data)
{
	return walk(mnl_attr_get_payload(a), mnl_attr_get_payload_len(a), cb, data);
}

static bool len_is(const struct nlattr *a, size_t len)
{
	return mnl_attr_get_payload_len(a) == len;
}

/* Fixed-size integers, copied (a u64 payload is only 4-aligned). */
static bool get_u8(const struct nlattr *a, uint8_t *v)
{
	if (!len_is(a, sizeof(*v)))
		return false;
	memcpy(v, mnl_attr_get_payload(a), sizeof(*v));
	return true;
}

static bool get_u16(const struct nlattr *a, uint16_t *v)
{
	if (!len_is(a, sizeof(*v)))
		return false;
	memcpy(v, mnl_attr_get_payload(a), sizeof(*v));
	return true;
}

static bool get_u32(const struct nlattr *a, uint32_t *v)
{
	if (!len_is(a, sizeof(*v)))
		return false;
	memcpy(v, mnl_attr_get_payload(a), sizeof(*v));
	return true;
}

static bool get_u64(const struct nlattr *a, uint64_t *v)
{
	if (!len_is(a, sizeof(*v)))
		return false;
	memcpy(v, mnl_attr_get_payload(a), sizeof(*v));
	return true;
}

static int parse_fail(struct wgi_genl_parse *st, int err)
{
	if (!st->err)
		st->err = err;
	return MNL_CB_ERROR;
}

struct aip_ctx {
	struct wgi_genl_parse *st;
	struct wgnl_prefix p;
	size_t addr_len;
	bool has_family, has_cidr;
};

struct peer_ctx {
	struct wgi_genl_parse *st;
	struct wgnl_peer *peer;
	bool cont; /* this nest continues the previous message's last peer */
};

/* Level 4: the attributes of one allowed IP. */
static int aip_attr_cb(const struct nlattr *a, void *data)
{
	struct aip_ctx *ac = data;
	uint32_t flags;

	switch (mnl_attr_get_type(a)) {
	case WGALLOWEDIP_A_FAMILY:
		if (!get_u16(a, &ac->p.family))
			return parse_fail(ac->st, -EBADMSG);
		ac->has_family = true;
		break;
	case WGALLOWEDIP_A_IPADDR:
		if (!len_is(a, 4) && !len_is(a, 16))
			return parse_fail(ac->st, -EBADMSG);
		ac->addr_len = mnl_attr_get_payload_len(a);
		memcpy(&ac->p.ip6, mnl_attr_get_payload(a), ac->addr_len);
		break;
	case WGALLOWEDIP_A_CIDR_MASK:
		if (!get_u8(a, &ac->p.cidr))
			return parse_fail(ac->st, -EBADMSG);
		ac->has_cidr = true;
		break;
	case WGALLOWEDIP_A_FLAGS:
		if (!get_u32(a, &flags))
			return parse_fail(ac->st, -EBADMSG);
		if (flags & WGALLOWEDIP_F_REMOVE_ME)
			ac->p.flags |= WGNL_PREFIX_REMOVE;
		break;
	default:
		break;
	}
	return MNL_CB_OK;
}

/* Level 3: the list of allowed IPs of a peer. */
static int aip_list_cb(const struct nlattr *a, void *data)
{
	struct peer_ctx *pc = data;
	struct aip_ctx ac = { .st = pc->st };
	int r;

	if (walk_nested(a, aip_attr_cb, &ac) < 0)
		return parse_fail(pc->st, -EBADMSG);
	/* The three parts must be present and agree with each other. */
	if (!ac.has_family || !ac.has_cidr ||
	    !((ac.p.family == AF_INET && ac.addr_len == 4 && ac.p.cidr <= 32) ||
	      (ac.p.family == AF_INET6 && ac.addr_len == 16 && ac.p.cidr <= 128)))
		return parse_fail(pc->st, -EBADMSG);
	r = wgnl_peer_add_allowedip(pc->peer, &ac.p);
	if (r < 0)
		return parse_fail(pc->st, r);
	return MNL_CB_OK;
}

/* Level 2: the attributes of one peer (the public key is already taken). */
static int peer_attr_cb(const struct nlattr *a, void *data)
{
	struct peer_ctx *pc = data;
	struct wgnl_peer *peer = pc->peer;
	uint16_t family;
	uint32_t flags;
	size_t len = mnl_attr_get_payload_len(a);

	switch (mnl_attr_get_type(a)) {
	case WGPEER_A_PRESHARED_KEY:
		if (len != WGNL_KEY_LEN)
			return parse_fail(pc->st, -EBADMSG);
		memcpy(peer->preshared_key, mnl_attr_get_payload(a), WGNL_KEY_LEN);
		/* The kernel always sends one; all zero means none. */
		if (!wgnl_key_is_zero(peer->preshared_key))
			peer->flags |= WGNL_PEER_HAS_PRESHARED_KEY;
		break;
	case WGPEER_A_FLAGS:
		if (!get_u32(a, &flags))
			return parse_fail(pc->st, -EBADMSG);
		/* Flags of a continuation describe the fragment, not the peer. */
		if (pc->cont)
			break;
		if (flags & WGPEER_F_REMOVE_ME)
			peer->flags |= WGNL_PEER_REMOVE;
		if (flags & WGPEER_F_REPLACE_ALLOWEDIPS)
			peer->flags |= WGNL_PEER_REPLACE_ALLOWEDIPS;
		if (flags & WGPEER_F_UPDATE_ONLY)
			peer->flags |= WGNL_PEER_UPDATE_ONLY;
		break;
	case WGPEER_A_ENDPOINT:
		if (len < sizeof(family))
			return parse_fail(pc->st, -EBADMSG);
		memcpy(&family, mnl_attr_get_payload(a), sizeof(family));
		if (!(family == AF_INET && len == sizeof(struct sockaddr_in)) &&
		    !(family == AF_INET6 && len == sizeof(struct sockaddr_in6)))
			return parse_fail(pc->st, -EBADMSG);
		memset(&peer->endpoint, 0, sizeof(peer->endpoint));
		memcpy(&peer->endpoint, mnl_attr_get_payload(a), len);
		peer->flags |= WGNL_PEER_HAS_ENDPOINT;
		break;
	case WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL:
		if (!get_u16(a, &peer->persistent_keepalive))
			return parse_fail(pc->st, -EBADMSG);
		peer->flags |= WGNL_PEER_HAS_KEEPALIVE;
		break;
	case WGPEER_A_LAST_HANDSHAKE_TIME: {
		int64_t ts[2]; /* struct __kernel_timespec */

		if (len != sizeof(ts))
			return parse_fail(pc->st, -EBADMSG);
		memcpy(ts, mnl_attr_get_payload(a), sizeof(ts));
		peer->last_handshake.tv_sec = (time_t)ts[0];
		peer->last_handshake.tv_nsec = (long)ts[1];
		peer->flags |= WGNL_PEER_HAS_LAST_HANDSHAKE;
		break;
	}
	case WGPEER_A_RX_BYTES:
		if (!get_u64(a, &peer->rx_bytes))
			return parse_fail(pc->st, -EBADMSG);
		peer->flags |= WGNL_PEER_HAS_RX_TX;
		break;
	case WGPEER_A_TX_BYTES:
		if (!get_u64(a, &peer->tx_bytes))
			return parse_fail(pc->st, -EBADMSG);
		peer->flags |= WGNL_PEER_HAS_RX_TX;
		break;
	case WGPEER_A_ALLOWEDIPS:
		if (walk_nested(a, aip_list_cb, pc) < 0)
			return parse_fail(pc->st, -EBADMSG);
		break;
	case WGPEER_A_PROTOCOL_VERSION:
		if (!get_u32(a, &peer->protocol_version))
			return parse_fail(pc->st, -EBADMSG);
		peer->flags |= WGNL_PEER_HAS_PROTOCOL_VERSION;
		break;
	default:
		break; /* WGPEER_A_PUBLIC_KEY (done), padding, and newer attributes */
	}
	return MNL_CB_OK;
}

static int peer_key_cb(const struct nlattr *a, void *data)
{
	const uint8_t **key = data;

	if (mnl_attr_get_type(a) != WGPEER_A_PUBLIC_KEY)
		return MNL_CB_OK;
	if (!len_is(a, WGNL_KEY_LEN))
		return MNL_CB_ERROR;
	*key = mnl_attr_get_payload(a);
	return MNL_CB_OK;
}

/* Level 1: one peer of the WGDEVICE_A_PEERS list. */
static int peer_list_cb(const struct nlattr *a, void *data)
{
	struct wgi_genl_parse *st = data;
	struct peer_ctx pc = { .st = st };
	const struct nlattr *first = mnl_attr_get_payload(a);
	int room = (int)mnl_attr_get_payload_len(a), r;
	const uint8_t *key = NULL;

	/* The public key says which peer the rest belongs to. The kernel puts
	 * it first: then no walk is needed to find it. */
	if (mnl_attr_ok(first, room) && mnl_attr_get_type(first) == WGPEER_A_PUBLIC_KEY &&
	    len_is(first, WGNL_KEY_LEN))
		key = mnl_attr_get_payload(first);
	else if (walk_nested(a, peer_key_cb, &key) < 0 || !key)
		return parse_fail(st, -EBADMSG);
	if (st->cb) {
		/* The kernel continues a peer whose allowed IPs did not fit
		 * in the next message, repeating its public key first thing. */
		if (!st->peer_in_msg && st->has_pending &&
		    !memcmp(st->pending.public_key, key, WGNL_KEY_LEN)) {
			pc.cont = true;
		} else {
			if (wgi_genl_parse_flush(st) < 0)
				return parse_fail(st, st->cb_err);
			st->pending.flags = WGNL_PEER_HAS_PUBLIC_KEY;
			memcpy(st->pending.public_key, key, WGNL_KEY_LEN);
			st->has_pending = true;
		}
		pc.peer = &st->pending;
		st->peer_in_msg = true;
		if (walk_nested(a, peer_attr_cb, &pc) < 0)
			return parse_fail(st, -EBADMSG);
		return MNL_CB_OK;
	}
	/* The kernel continues a peer whose allowed IPs did not fit in the
	 * next message, repeating its public key first thing. */
	if (!st->peer_in_msg && st->last &&
	    !memcmp(st->dev->peers[st->last - 1].public_key, key, WGNL_KEY_LEN)) {
		pc.peer = &st->dev->peers[st->last - 1];
		pc.cont = true;
	} else {
		r = wgnl_device_add_peer(st->dev, key, &pc.peer);
		/* Twice in one dump, not adjacent: the kernel never does it. */
		if (r == -EEXIST)
			return parse_fail(st, -EBADMSG);
		if (r < 0)
			return parse_fail(st, r);
	}
	st->peer_in_msg = true;
	st->last = (size_t)(pc.peer - st->dev->peers) + 1;
	if (walk_nested(a, peer_attr_cb, &pc) < 0)
		return parse_fail(st, -EBADMSG);
	return MNL_CB_OK;
}

/* Level 0: the device attributes. */
static int device_attr_cb(const struct nlattr *a, void *data)
{
	struct wgi_genl_parse *st = data;
	struct wgnl_device *dev = st->dev;
	size_t len = mnl_attr_get_payload_len(a);
	uint32_t flags;

	switch (mnl_attr_get_type(a)) {
	case WGDEVICE_A_IFINDEX:
		if (!get_u32(a, &dev->ifindex))
			return parse_fail(st, -EBADMSG);
		break;
	case WGDEVICE_A_IFNAME: {
		const char *s = mnl_attr_get_payload(a);
		size_t n = strnlen(s, len);

		if (n == len || n >= WGNL_IFNAMSIZ) /* no NUL, or too long */
			return parse_fail(st, -EBADMSG);
		memcpy(dev->name, s, n + 1);
		break;
	}
	case WGDEVICE_A_PRIVATE_KEY:
		if (len != WGNL_KEY_LEN)
			return parse_fail(st, -EBADMSG);
		memcpy(dev->private_key, mnl_attr_get_payload(a), WGNL_KEY_LEN);
		dev->flags |= WGNL_DEV_HAS_PRIVATE_KEY;
		break;
	case WGDEVICE_A_PUBLIC_KEY:
		if (len != WGNL_KEY_LEN)
			return parse_fail(st, -EBADMSG);
		memcpy(dev->public_key, mnl_attr_get_payload(a), WGNL_KEY_LEN);
		dev->flags |= WGNL_DEV_HAS_PUBLIC_KEY;
		break;
	case WGDEVICE_A_FLAGS:
		if (!get_u32(a, &flags))
			return parse_fail(st, -EBADMSG);
		if (flags & WGDEVICE_F_REPLACE_PEERS)
			dev->flags |= WGNL_DEV_REPLACE_PEERS;
		break;
	case WGDEVICE_A_LISTEN_PORT:
		if (!get_u16(a, &dev->listen_port))
			return parse_fail(st, -EBADMSG);
		dev->flags |= WGNL_DEV_HAS_LISTEN_PORT;
		break;
	case WGDEVICE_A_FWMARK:
		if (!get_u32(a, &dev->fwmark))
			return parse_fail(st, -EBADMSG);
		dev->flags |= WGNL_DEV_HAS_FWMARK;
		break;
	case WGDEVICE_A_PEERS:
		if (walk_nested(a, peer_list_cb, st) < 0)
			return parse_fail(st, -EBADMSG);
		break;
	default:
		break;
	}
	return MNL_CB_OK;
}

int wgi_genl_parse_msg(const struct nlmsghdr *nlh, struct wgi_genl_parse *st)
{
	size_t off = MNL_NLMSG_HDRLEN + GENL_HDRLEN;

	if (st->err)
		return st->err;
	if (nlh->nlmsg_len < off)
		return st->err = -EBADMSG;
	if (nlh->nlmsg_flags & NLM_F_DUMP_INTR)
		st->intr = true;
	st->peer_in_msg = false;
	if (walk((const char *)nlh + off, nlh->nlmsg_len - off, device_attr_cb, st) < 0)
		return st->err ? st->err : (st->err = -EBADMSG);
	st->msgs++;
	return 0;
}

int wgi_genl_parse_flush(struct wgi_genl_parse *st)
{
	struct wgnl_peer *p = &st->pending;
	int r;

	if (!st->has_pending || st->cb_err)
		return st->cb_err;
	r = st->cb(st->dev, p, st->cb_data);
	if (r < 0)
		st->cb_err = r;
	st->has_pending = false;
	/* Ready for the next peer, allowed-IP array kept. */
	wgnl_wipe(p->preshared_key, sizeof(p->preshared_key));
	p->flags = 0;
	memset(&p->endpoint, 0, sizeof(p->endpoint));
	p->persistent_keepalive = 0;
	p->protocol_version = 0;
	p->last_handshake.tv_sec = 0;
	p->last_handshake.tv_nsec = 0;
	p->rx_bytes = p->tx_bytes = 0;
	p->n_allowedips = 0;
	return st->cb_err;
}

void wgi_genl_parse_release(struct wgi_genl_parse *st)
{
	wgi_peer_clear(&st->pending);
	st->has_pending = false;
}

/* =============================================================== building */

static bool prefix_valid(const struct wgnl_prefix *p)
{
	return (p->family == AF_INET && p->cidr <= 32) || (p->family == AF_INET6 && p->cidr <= 128);
}

/* Refuse what the kernel would refuse halfway through, before the first
 * message changes anything. */
static int validate_set(const struct wgnl_device *dev)
{
	size_t n = strnlen(dev->name, sizeof(dev->name));

	if (!n || n >= sizeof(dev->name))
		return -EINVAL;
	for (size_t i = 0; i < dev->n_peers; i++) {
		const struct wgnl_peer *p = &dev->peers[i];

		if (p->flags & WGNL_PEER_SKIP)
			continue;
		if (!(p->flags & WGNL_PEER_HAS_PUBLIC_KEY))
			return -EINVAL;
		if (p->flags & WGNL_PEER_REMOVE)
			continue;
		if ((p->flags & WGNL_PEER_HAS_ENDPOINT) && p->endpoint.addr.sa_family != AF_INET &&
		    p->endpoint.addr.sa_family != AF_INET6)
			return -EINVAL;
		for (size_t j = 0; j < p->n_allowedips; j++)
			if (!prefix_valid(&p->allowedips[j]))
				return -EINVAL;
	}
	return 0;
}

static bool put_prefix(struct nlmsghdr *nlh, size_t lim, const struct wgnl_prefix *p)
{
	struct nlattr *n = mnl_attr_nest_start_check(nlh, lim, 0);

	if (!n)
		return false;
	if (!mnl_attr_put_u16_check(nlh, lim, WGALLOWEDIP_A_FAMILY, p->family) ||
	    !mnl_attr_put_check(nlh, lim, WGALLOWEDIP_A_IPADDR, p->family == AF_INET ? 4 : 16,
				&p->ip6) ||
	    !mnl_attr_put_u8_check(nlh, lim, WGALLOWEDIP_A_CIDR_MASK, p->cidr) ||
	    ((p->flags & WGNL_PREFIX_REMOVE) &&
	     !mnl_attr_put_u32_check(nlh, lim, WGALLOWEDIP_A_FLAGS, WGALLOWEDIP_F_REMOVE_ME))) {
		mnl_attr_nest_cancel(nlh, n);
		return false;
	}
	mnl_attr_nest_end(nlh, n);
	return true;
}

enum {
	PEER_FULL,
	PEER_DONE,
	PEER_PARTIAL
};

/* Put the peer at the cursor, or as much of its allowed IPs as fits below
 * @lim. PEER_FULL: nothing was added (the half-built nest is cancelled). */
static int put_peer(struct nlmsghdr *nlh, size_t lim, const struct wgnl_peer *p,
		    struct wgi_genl_set_cursor *cur)
{
	bool cont = cur->aip > 0;
	struct nlattr *pn, *an;
	uint32_t flags = 0;
	size_t i;

	pn = mnl_attr_nest_start_check(nlh, lim, 0);
	if (!pn)
		return PEER_FULL;
	if (cont) {
		/* The first fragment created the peer or, under UPDATE_ONLY,
		 * declined to: either way a fragment must never create it,
		 * and must not replace the allowed IPs already sent. */
		flags = WGPEER_F_UPDATE_ONLY;
	} else {
		if (p->flags & WGNL_PEER_REMOVE)
			flags |= WGPEER_F_REMOVE_ME;
		if (p->flags & WGNL_PEER_REPLACE_ALLOWEDIPS)
			flags |= WGPEER_F_REPLACE_ALLOWEDIPS;
		if (p->flags & WGNL_PEER_UPDATE_ONLY)
			flags |= WGPEER_F_UPDATE_ONLY;
	}
	if (!mnl_attr_put_check(nlh, lim, WGPEER_A_PUBLIC_KEY, WGNL_KEY_LEN, p->public_key) ||
	    (flags && !mnl_attr_put_u32_check(nlh, lim, WGPEER_A_FLAGS, flags)))
		goto full;
	/* The kernel ignores everything else of a peer it removes. */
	if (p->flags & WGNL_PEER_REMOVE)
		goto done;
	if (!cont) {
		if ((p->flags & WGNL_PEER_HAS_PRESHARED_KEY) &&
		    !mnl_attr_put_check(nlh, lim, WGPEER_A_PRESHARED_KEY, WGNL_KEY_LEN,
					p->preshared_key))
			goto full;
		if ((p->flags & WGNL_PEER_HAS_ENDPOINT) &&
		    !mnl_attr_put_check(nlh, lim, WGPEER_A_ENDPOINT,
					p->endpoint.addr.sa_family == AF_INET ?
						sizeof(p->endpoint.addr4) :
						sizeof(p->endpoint.addr6),
					&p->endpoint))
			goto full;
		if ((p->flags & WGNL_PEER_HAS_KEEPALIVE) &&
		    !mnl_attr_put_u16_check(nlh, lim, WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL,
					    p->persistent_keepalive))
			goto full;
	}
	if (cur->aip < p->n_allowedips) {
		an = mnl_attr_nest_start_check(nlh, lim, WGPEER_A_ALLOWEDIPS);
		if (!an)
			goto full;
		for (i = cur->aip; i < p->n_allowedips; i++)
			if (!put_prefix(nlh, lim, &p->allowedips[i]))
				break;
		if (i == cur->aip) {
			/* Not one fits: start the peer afresh next message. */
			mnl_attr_nest_cancel(nlh, an);
			goto full;
		}
		mnl_attr_nest_end(nlh, an);
		cur->aip = i;
		if (i < p->n_allowedips) {
			mnl_attr_nest_end(nlh, pn);
			return PEER_PARTIAL;
		}
	}
done:
	mnl_attr_nest_end(nlh, pn);
	cur->peer++;
	cur->aip = 0;
	return PEER_DONE;
full:
	mnl_attr_nest_cancel(nlh, pn);
	return PEER_FULL;
}

static void skip_skipped(const struct wgnl_device *dev, struct wgi_genl_set_cursor *cur)
{
	while (cur->peer < dev->n_peers && (dev->peers[cur->peer].flags & WGNL_PEER_SKIP))
		cur->peer++;
}

int wgi_genl_build_set(const struct wgnl_device *dev, uint16_t family, void *buf, size_t len,
		       struct wgi_genl_set_cursor *cur)
{
	bool first = cur->msgs == 0, progress = first;
	unsigned removals = 0;
	struct nlmsghdr *nlh;
	struct genlmsghdr *g;
	int r;

	if (cur->done)
		return 0;
	if (len > WGI_GENL_SET_BUF)
		len = WGI_GENL_SET_BUF;
	if (len < MNL_NLMSG_HDRLEN + GENL_HDRLEN)
		return -EMSGSIZE;
	if (first) {
		r = validate_set(dev);
		if (r < 0)
			return r;
	}
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = family;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->cmd = WG_CMD_SET_DEVICE;
	g->version = WG_GENL_VERSION;
	if (!mnl_attr_put_strz_check(nlh, len, WGDEVICE_A_IFNAME, dev->name))
		return -EMSGSIZE;
	/* Device attributes once: REPLACE_PEERS again in a later message would
	 * drop the peers the earlier ones added. */
	if (first &&
	    (((dev->flags & WGNL_DEV_REPLACE_PEERS) &&
	      !mnl_attr_put_u32_check(nlh, len, WGDEVICE_A_FLAGS, WGDEVICE_F_REPLACE_PEERS)) ||
	     ((dev->flags & WGNL_DEV_HAS_PRIVATE_KEY) &&
	      !mnl_attr_put_check(nlh, len, WGDEVICE_A_PRIVATE_KEY, WGNL_KEY_LEN,
				  dev->private_key)) ||
	     ((dev->flags & WGNL_DEV_HAS_LISTEN_PORT) &&
	      !mnl_attr_put_u16_check(nlh, len, WGDEVICE_A_LISTEN_PORT, dev->listen_port)) ||
	     ((dev->flags & WGNL_DEV_HAS_FWMARK) &&
	      !mnl_attr_put_u32_check(nlh, len, WGDEVICE_A_FWMARK, dev->fwmark))))
		return -EMSGSIZE;

	skip_skipped(dev, cur);
	if (cur->peer < dev->n_peers) {
		struct nlattr *peers = mnl_attr_nest_start_check(nlh, len, WGDEVICE_A_PEERS);
		size_t lim;

		if (!peers)
			return -EMSGSIZE;
		/* Every nest inside the peers nest ends before it does, so one
		 * bound keeps all of their 16-bit lengths honest. */
		lim = (size_t)((char *)peers - (char *)buf) + WGI_GENL_NEST_MAX;
		if (lim > len)
			lim = len;
		while (cur->peer < dev->n_peers) {
			bool removal = dev->peers[cur->peer].flags & WGNL_PEER_REMOVE;

			if (removal && removals == WGI_GENL_REMOVALS_MAX)
				break;
			r = put_peer(nlh, lim, &dev->peers[cur->peer], cur);
			if (r != PEER_FULL)
				progress = true;
			if (r != PEER_DONE)
				break;
			removals += removal;
			skip_skipped(dev, cur);
		}
		/* nla_len is only written by nest_end: measure from the tail. */
		if ((char *)mnl_nlmsg_get_payload_tail(nlh) > (char *)peers + MNL_ATTR_HDRLEN)
			mnl_attr_nest_end(nlh, peers);
		else
			mnl_attr_nest_cancel(nlh, peers);
	}
	/* A later message that carries nothing would repeat forever. */
	if (!progress)
		return -EMSGSIZE;
	cur->done = cur->peer >= dev->n_peers;
	cur->msgs++;
	return 1;
}

/* ================================================================ policy */

struct pol_ctx {
	struct wgi_genl_policy *pol;
	uint32_t policy, attr, cmd;
	uint32_t nested; /* + 1 */
	bool seen;
};

/* Level 3: NL_POLICY_TYPE_ATTR_* of one attribute of one policy. */
static int pol_type_cb(const struct nlattr *a, void *data)
{
	struct pol_ctx *pc = data;
	uint32_t v;

	if (mnl_attr_get_type(a) == NL_POLICY_TYPE_ATTR_POLICY_IDX) {
		if (!get_u32(a, &v))
			return MNL_CB_ERROR;
		pc->nested = v + 1;
	}
	return MNL_CB_OK;
}

/* Level 2: attribute nests of one policy. */
static int pol_attr_cb(const struct nlattr *a, void *data)
{
	struct pol_ctx *pc = data;
	struct wgi_genl_policy *pol = pc->pol;

	pc->attr = mnl_attr_get_type(a);
	pc->nested = 0;
	if (walk_nested(a, pol_type_cb, pc) < 0)
		return MNL_CB_ERROR;
	if (pol->n == WGI_ARRAY_SIZE(pol->ent)) {
		pol->overflow = true;
		return MNL_CB_OK;
	}
	pol->ent[pol->n].policy = pc->policy;
	pol->ent[pol->n].attr = pc->attr;
	pol->ent[pol->n].nested = pc->nested;
	pol->n++;
	return MNL_CB_OK;
}

/* Level 1 of CTRL_ATTR_POLICY: policy index nests. */
static int pol_idx_cb(const struct nlattr *a, void *data)
{
	struct pol_ctx *pc = data;

	pc->policy = mnl_attr_get_type(a);
	return walk_nested(a, pol_attr_cb, pc) < 0 ? MNL_CB_ERROR : MNL_CB_OK;
}

/* Level 2 of CTRL_ATTR_OP_POLICY: which policy a command's "do" uses. */
static int op_pol_cb(const struct nlattr *a, void *data)
{
	struct pol_ctx *pc = data;
	uint32_t v;

	if (mnl_attr_get_type(a) == CTRL_ATTR_POLICY_DO) {
		if (!get_u32(a, &v))
			return MNL_CB_ERROR;
		if (pc->cmd == WG_CMD_SET_DEVICE)
			pc->pol->set_do = v + 1;
	}
	return MNL_CB_OK;
}

/* Level 1 of CTRL_ATTR_OP_POLICY: command nests. */
static int op_cmd_cb(const struct nlattr *a, void *data)
{
	struct pol_ctx *pc = data;

	pc->cmd = mnl_attr_get_type(a);
	return walk_nested(a, op_pol_cb, pc) < 0 ? MNL_CB_ERROR : MNL_CB_OK;
}

/* Level 0 of a policy dump message. */
static int pol_top_cb(const struct nlattr *a, void *data)
{
	switch (mnl_attr_get_type(a)) {
	case CTRL_ATTR_POLICY:
		return walk_nested(a, pol_idx_cb, data) < 0 ? MNL_CB_ERROR : MNL_CB_OK;
	case CTRL_ATTR_OP_POLICY:
		return walk_nested(a, op_cmd_cb, data) < 0 ? MNL_CB_ERROR : MNL_CB_OK;
	default:
		return MNL_CB_OK;
	}
}

int wgi_genl_policy_parse(const struct nlmsghdr *nlh, struct wgi_genl_policy *pol)
{
	size_t off = MNL_NLMSG_HDRLEN + GENL_HDRLEN;
	struct pol_ctx pc = { .pol = pol };

	if (nlh->nlmsg_len < off)
		return -EBADMSG;
	if (walk((const char *)nlh + off, nlh->nlmsg_len - off, pol_top_cb, &pc) < 0)
		return -EBADMSG;
	return 0;
}

/* Entry (policy, attr), or NULL. */
static const uint32_t *pol_nested(const struct wgi_genl_policy *pol, uint32_t policy, uint32_t attr)
{
	for (unsigned i = 0; i < pol->n; i++)
		if (pol->ent[i].policy == policy && pol->ent[i].attr == attr)
			return &pol->ent[i].nested;
	return NULL;
}

int wgi_genl_policy_aip_flags(const struct wgi_genl_policy *pol)
{
	uint32_t root = pol->set_do ? pol->set_do - 1 : 0;
	const uint32_t *peers, *aips;

	/* Kernels before the YAML-generated policies declare WGDEVICE_A_PEERS
	 * as a plain nest: the nested policies are not in the dump at all. */
	peers = pol_nested(pol, root, WGDEVICE_A_PEERS);
	if (!peers || !*peers)
		return -ENOENT;
	aips = pol_nested(pol, *peers - 1, WGPEER_A_ALLOWEDIPS);
	if (!aips || !*aips)
		return -ENOENT;
	if (pol_nested(pol, *aips - 1, WGALLOWEDIP_A_FLAGS))
		return 1;
	return pol->overflow ? -ENOENT : 0;
}

/* ================================================================ the ops */

/* The backend's private state in a context. */
struct genl_state {
	struct wgi_nl nl;
	uint16_t family; /* 0: not resolved yet */
	int caps;	 /* -1: not probed yet */
};

static int genl_open(void **priv)
{
	struct genl_state *st = calloc(1, sizeof(*st));

	if (!st)
		return -ENOMEM;
	st->caps = -1;
	*priv = st;
	return 0;
}

static void genl_close(void *priv)
{
	struct genl_state *st = priv;

	if (!st)
		return;
	wgi_nl_close(&st->nl);
	free(st);
}

static struct genl_state *g_st(struct wgnl_ctx *ctx)
{
	return wgi_backend_priv(ctx, &wgi_kernel_ops);
}

/* Resolve the "wireguard" generic netlink family id (once per context).
 * Returns 0, -EPROTONOSUPPORT (no WireGuard in this kernel) or -errno. */
static int family_attr_cb(const struct nlattr *attr, void *data)
{
	uint16_t *id = data;

	if (mnl_attr_get_type(attr) == CTRL_ATTR_FAMILY_ID &&
	    mnl_attr_validate(attr, MNL_TYPE_U16) >= 0)
		*id = mnl_attr_get_u16(attr);
	return MNL_CB_OK;
}

static int family_cb(const struct nlmsghdr *nlh, void *data)
{
	if (mnl_attr_parse(nlh, sizeof(struct genlmsghdr), family_attr_cb, data) < 0)
		return MNL_CB_ERROR;
	return MNL_CB_OK;
}

static int genl_family(struct wgnl_ctx *ctx)
{
	char buf[256] __attribute__((aligned(4))) = { 0 }; /* padding is sent too */
	struct nlmsghdr *nlh;
	struct genlmsghdr *g;
	uint16_t id = 0;
	int r;

	if (g_st(ctx)->family)
		return 0;
	r = wgi_nl_open(ctx, &g_st(ctx)->nl, NETLINK_GENERIC);
	if (r < 0)
		return r;
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = GENL_ID_CTRL;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->cmd = CTRL_CMD_GETFAMILY;
	g->version = 1;
	mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, "wireguard");
	r = wgi_nl_transact(ctx, &g_st(ctx)->nl, nlh, family_cb, &id);
	if (r == -ENOENT) {
		wgi_set_error(
			ctx,
			"this kernel has no WireGuard (generic netlink family 'wireguard' not found)");
		return -EPROTONOSUPPORT;
	}
	if (r < 0)
		return r;
	if (!id)
		return -EBADMSG;
	g_st(ctx)->family = id;
	wgi_clear_error(ctx);
	return 0;
}

/* Map what the kernel says about the interface to the API's errors. */
static int map_dev_err(struct wgnl_ctx *ctx, const char *ifname, int r)
{
	switch (r) {
	case -ENODEV:
		if (!ctx->errmsg[0])
			wgi_set_error(ctx, "no such device '%s'", ifname);
		return -ENODEV;
	case -EOPNOTSUPP:
		/* The kernel's lookup refuses a device of another kind with
		 * EOPNOTSUPP and no message; a message means something else. */
		if (ctx->errmsg[0])
			return r;
		wgi_set_error(ctx, "'%s' is not a WireGuard device", ifname);
		return -ENODEV;
	default:
		return r;
	}
}

static int get_cb(const struct nlmsghdr *nlh, void *data)
{
	return wgi_genl_parse_msg(nlh, data) < 0 ? MNL_CB_ERROR : MNL_CB_OK;
}

/* The dump request for @ifname in @req: GET_REQ_LEN bytes, zeroed by the
 * caller (attribute padding goes on the wire too). */
#define GET_REQ_LEN (MNL_NLMSG_HDRLEN + GENL_HDRLEN + 64)
static struct nlmsghdr *put_get_request(struct wgnl_ctx *ctx, char *req, const char *ifname)
{
	struct nlmsghdr *nlh;
	struct genlmsghdr *g;

	nlh = mnl_nlmsg_put_header(req);
	nlh->nlmsg_type = g_st(ctx)->family;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->cmd = WG_CMD_GET_DEVICE;
	g->version = WG_GENL_VERSION;
	mnl_attr_put_strz(nlh, WGDEVICE_A_IFNAME, ifname);
	ctx->stats.get_msgs++;
	return nlh;
}

static int genl_get_device(struct wgnl_ctx *ctx, const char *ifname, struct wgnl_device **ret)
{
	char req[GET_REQ_LEN] __attribute__((aligned(4))) = { 0 };
	int r;

	*ret = NULL;
	r = genl_family(ctx);
	if (r < 0)
		return r;
	for (unsigned attempt = 0;; attempt++) {
		struct wgi_genl_parse st = { 0 };
		struct nlmsghdr *nlh;

		st.dev = wgnl_device_new(ifname);
		if (!st.dev) {
			r = -ENOMEM;
			break;
		}
		nlh = put_get_request(ctx, req, ifname);
		r = wgi_nl_transact(ctx, &g_st(ctx)->nl, nlh, get_cb, &st);
		if (r == -EBADMSG && st.err)
			r = st.err;
		if (r == 0 && !st.msgs)
			r = -EBADMSG; /* a dump always carries the device */
		if (r < 0)
			wgnl_device_free(st.dev);
		if (r != -EINTR) {
			if (r == 0)
				*ret = st.dev;
			r = map_dev_err(ctx, ifname, r);
			break;
		}
		if (attempt == WGI_GENL_DUMP_RETRIES) {
			wgi_set_error(ctx, "the dump of '%s' was interrupted by changes %u times",
				      ifname, attempt + 1);
			r = -EAGAIN;
			break;
		}
		ctx->stats.dump_retries++;
	}
	/* The receive buffer held the private key. */
	wgnl_wipe(ctx->buf, WGI_RECV_BUF);
	return r;
}

static int stream_cb(const struct nlmsghdr *nlh, void *data)
{
	return wgi_genl_parse_msg(nlh, data) < 0 ? MNL_CB_ERROR : MNL_CB_OK;
}

/* Stream a dump of @ifname through @cb (see wgnl_device_get_stream()):
 * each message is parsed, every peer but the last is handed over and
 * dropped, the last kept in case the next message continues it. Memory stays
 * at one message's peers whatever the device holds. */
static int genl_get_device_stream(struct wgnl_ctx *ctx, const char *ifname, wgnl_peer_cb cb,
				  void *data, struct wgnl_device **ret)
{
	char req[GET_REQ_LEN] __attribute__((aligned(4))) = { 0 };
	int r;

	*ret = NULL;
	r = genl_family(ctx);
	if (r < 0)
		return r;
	for (unsigned attempt = 0;; attempt++) {
		struct wgi_genl_parse st = { .cb = cb, .cb_data = data };
		struct nlmsghdr *nlh;

		st.dev = wgnl_device_new(ifname);
		if (!st.dev) {
			r = -ENOMEM;
			break;
		}
		nlh = put_get_request(ctx, req, ifname);
		r = wgi_nl_transact(ctx, &g_st(ctx)->nl, nlh, stream_cb, &st);
		if (r == 0 && !st.msgs)
			r = -EBADMSG;
		if (r == 0)
			r = wgi_genl_parse_flush(&st);
		if (st.cb_err)
			r = st.cb_err;
		else if (r == -EBADMSG && st.err)
			r = st.err;
		wgi_genl_parse_release(&st);
		if (r == 0)
			*ret = st.dev;
		else
			wgnl_device_free(st.dev);
		if (r != -EINTR || st.cb_err) {
			r = map_dev_err(ctx, ifname, r);
			break;
		}
		if (attempt == WGI_GENL_DUMP_RETRIES) {
			wgi_set_error(ctx, "the dump of '%s' was interrupted by changes %u times",
				      ifname, attempt + 1);
			r = -EAGAIN;
			break;
		}
		ctx->stats.dump_retries++;
		/* What was handed over belongs to an inconsistent dump. */
		r = cb(NULL, NULL, data);
		if (r < 0)
			break;
	}
	wgnl_wipe(ctx->buf, WGI_RECV_BUF);
	return r;
}

static bool uses_aip_remove(const struct wgnl_device *dev)
{
	for (size_t i = 0; i < dev->n_peers; i++) {
		const struct wgnl_peer *p = &dev->peers[i];

		if (p->flags & (WGNL_PEER_SKIP | WGNL_PEER_REMOVE))
			continue;
		for (size_t j = 0; j < p->n_allowedips; j++)
			if (p->allowedips[j].flags & WGNL_PREFIX_REMOVE)
				return true;
	}
	return false;
}

static int genl_caps(struct wgnl_ctx *ctx);

static int genl_set_device(struct wgnl_ctx *ctx, const struct wgnl_device *dev)
{
	struct wgi_genl_set_cursor cur = { 0 };
	uint8_t *buf;
	int r;

	r = genl_family(ctx);
	if (r < 0)
		return r;
	if (uses_aip_remove(dev)) {
		r = genl_caps(ctx);
		if (r < 0)
			return r;
		if (!(r & WGNL_CAP_ALLOWEDIP_REMOVE)) {
			/* An older kernel would reject it only after applying
			 * whatever came before it. */
			wgi_set_error(ctx, "this kernel cannot remove single allowed IPs "
					   "(WGALLOWEDIP_A_FLAGS needs Linux 6.14 or later)");
			return -EOPNOTSUPP;
		}
	}
	buf = malloc(WGI_GENL_SET_BUF);
	if (!buf)
		return -ENOMEM;
	while ((r = wgi_genl_build_set(dev, g_st(ctx)->family, buf, WGI_GENL_SET_BUF, &cur)) > 0) {
		ctx->stats.set_msgs++;
		r = wgi_nl_transact(ctx, &g_st(ctx)->nl, (struct nlmsghdr *)buf, NULL, NULL);
		if (r < 0) {
			r = map_dev_err(ctx, dev->name, r);
			break;
		}
	}
	if (r == -EINVAL && !cur.msgs)
		wgi_set_error(ctx, "invalid device: bad name, peer without public key, or bad "
				   "endpoint or allowed IP family");
	else if (r == -EMSGSIZE)
		wgi_set_error(ctx, "a set message cannot hold the next peer");
	wgnl_wipe(buf, WGI_GENL_SET_BUF);
	free(buf);
	return r;
}

static int genl_list_devices(struct wgnl_ctx *ctx, char ***names, size_t *n)
{
	return wgi_rtnl_list_kind(ctx, "wireguard", names, n);
}

/* ================================================================ caps */

static int policy_cb(const struct nlmsghdr *nlh, void *data)
{
	return wgi_genl_policy_parse(nlh, data) < 0 ? MNL_CB_ERROR : MNL_CB_OK;
}

/* Linux 6.14 added WGALLOWEDIP_A_FLAGS; kernels from then until the policies
 * were generated from the YAML spec do not show it in the policy dump, so
 * the release is the only harmless clue. */
static bool release_has_aip_flags(void)
{
	struct utsname u;
	unsigned major = 0, minor = 0;

	if (uname(&u) < 0 || sscanf(u.release, "%u.%u", &major, &minor) != 2)
		return false;
	return major > 6 || (major == 6 && minor >= 14);
}

static int genl_caps(struct wgnl_ctx *ctx)
{
	char req[GET_REQ_LEN] __attribute__((aligned(4))) = { 0 };
	struct wgi_genl_policy *pol;
	struct nlmsghdr *nlh;
	struct genlmsghdr *g;
	int caps, r;

	if (g_st(ctx)->caps >= 0)
		return g_st(ctx)->caps;
	r = genl_family(ctx);
	if (r == -EPROTONOSUPPORT) {
		g_st(ctx)->caps = 0;
		return 0;
	}
	if (r < 0)
		return r;
	caps = WGNL_CAP_KERNEL;

	pol = calloc(1, sizeof(*pol));
	if (!pol)
		return -ENOMEM;
	nlh = mnl_nlmsg_put_header(req);
	nlh->nlmsg_type = GENL_ID_CTRL;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->cmd = CTRL_CMD_GETPOLICY;
	g->version = 1;
	mnl_attr_put_u16(nlh, CTRL_ATTR_FAMILY_ID, g_st(ctx)->family);
	r = wgi_nl_transact(ctx, &g_st(ctx)->nl, nlh, policy_cb, pol);
	if (r == 0) {
		r = wgi_genl_policy_aip_flags(pol);
		if (r > 0 || (r == -ENOENT && release_has_aip_flags()))
			caps |= WGNL_CAP_ALLOWEDIP_REMOVE;
	} else if (r == -EOPNOTSUPP || r == -EINVAL) {
		/* No policy dumps (before Linux 5.8): far older than 6.14. */
		if (release_has_aip_flags())
			caps |= WGNL_CAP_ALLOWEDIP_REMOVE;
	} else {
		free(pol);
		return r; /* a transient failure is not an answer to cache */
	}
	free(pol);
	wgi_clear_error(ctx);
	g_st(ctx)->caps = caps;
	return caps;
}

/* Deleting a populated device costs a synchronize_net() per peer; one empty
 * REPLACE_PEERS set removes them in a batch. */
static int genl_clear_peers(struct wgnl_ctx *ctx, const char *ifname)
{
	struct wgnl_device *dev = wgnl_device_new(ifname);
	int r;

	if (!dev)
		return -ENOMEM;
	dev->flags = WGNL_DEV_REPLACE_PEERS;
	r = genl_set_device(ctx, dev);
	wgnl_device_free(dev);
	return r;
}

const struct wgi_backend_ops wgi_kernel_ops = {
	.name = "kernel",
	.kind = WGNL_BACKEND_KERNEL,
	.open = genl_open,
	.close = genl_close,
	.claims = NULL, /* the fallback: every name no other backend claims */
	.get_device = genl_get_device,
	.get_device_stream = genl_get_device_stream,
	.set_device = genl_set_device,
	.list_devices = genl_list_devices,
	.caps = genl_caps,
	.clear_peers = genl_clear_peers,
};
