// SPDX-License-Identifier: MIT
/* rtnetlink: the links, addresses, routes and policy rules around a
 * WireGuard device, as wg-quick sets them up. Requests are built by pure
 * functions (rtnl.h, tested byte-wise) and sent through the shared netlink
 * transport; replies are parsed with one attribute callback per nesting
 * level. */
#include <errno.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/fib_rules.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>

#include "nl.h"
#include "rtnl.h"

/* An interrupted dump (links or routes changing under it) is restarted this
 * many times at most, never forever: a gateway under churn could spin. */
#define WGI_RTNL_DUMP_TRIES 4

/* ------------------------------------------------------------ validation */

static bool ifname_ok(const char *name)
{
	size_t n;

	if (!name)
		return false;
	n = strlen(name);
	if (!n || n >= WGNL_IFNAMSIZ || !strcmp(name, ".") || !strcmp(name, ".."))
		return false;
	for (const char *p = name; *p; p++) {
		if (*p == '/' || *p == ':' || (unsigned char)*p <= ' ')
			return false;
	}
	return true;
}

static bool prefix_ok(const struct wgnl_prefix *p)
{
	return p && ((p->family == AF_INET && p->cidr <= 32) ||
		     (p->family == AF_INET6 && p->cidr <= 128));
}

static size_t family_addr_len(uint16_t family)
{
	return family == AF_INET ? 4 : 16;
}

static uint32_t table_id(uint32_t table)
{
	return table ? table : RT_TABLE_MAIN;
}

/* The 8-bit header field can only name tables below 256; larger ids travel
 * in the 32-bit attribute alone, with the header saying UNSPEC. */
static uint8_t table_hdr(uint32_t table)
{
	table = table_id(table);
	return table < 256 ? (uint8_t)table : RT_TABLE_UNSPEC;
}

static bool rule_ok(const struct wgnl_rule *r)
{
	return r && (r->family == AF_INET || r->family == AF_INET6) &&
	       r->suppress_prefixlen >= -1 &&
	       r->suppress_prefixlen <= (r->family == AF_INET ? 32 : 128);
}

/* -------------------------------------------------------------- builders */

static struct nlmsghdr *msg_start(void *buf, size_t len, uint16_t type, uint16_t flags,
				  size_t hdr_len)
{
	struct nlmsghdr *nlh;

	if (len < MNL_NLMSG_HDRLEN + MNL_ALIGN(hdr_len))
		return NULL;
	/* All of it: libmnl before 1.0.5 does not zero attribute padding, and
	 * stack bytes should not travel to the kernel. */
	memset(buf, 0, len);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	mnl_nlmsg_put_extra_header(nlh, hdr_len);
	return nlh;
}

struct nlmsghdr *wgi_rtnl_msg_link_new(void *buf, size_t len, const char *name, const char *kind)
{
	struct nlmsghdr *nlh;
	struct nlattr *info;

	if (!ifname_ok(name) || !kind || !*kind ||
	    strlen(kind) >= sizeof(((struct wgnl_link *)0)->kind))
		return NULL;
	nlh = msg_start(buf, len, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, sizeof(struct ifinfomsg));
	if (!nlh)
		return NULL;
	if (!mnl_attr_put_strz_check(nlh, len, IFLA_IFNAME, name))
		return NULL;
	info = mnl_attr_nest_start_check(nlh, len, IFLA_LINKINFO);
	if (!info || !mnl_attr_put_strz_check(nlh, len, IFLA_INFO_KIND, kind))
		return NULL;
	mnl_attr_nest_end(nlh, info);
	return nlh;
}

static struct nlmsghdr *link_by_name(void *buf, size_t len, uint16_t type, const char *name)
{
	struct nlmsghdr *nlh;

	if (!ifname_ok(name))
		return NULL;
	nlh = msg_start(buf, len, type, 0, sizeof(struct ifinfomsg));
	if (!nlh || !mnl_attr_put_strz_check(nlh, len, IFLA_IFNAME, name))
		return NULL;
	return nlh;
}

struct nlmsghdr *wgi_rtnl_msg_link_del(void *buf, size_t len, const char *name)
{
	return link_by_name(buf, len, RTM_DELLINK, name);
}

struct nlmsghdr *wgi_rtnl_msg_link_get(void *buf, size_t len, const char *name)
{
	struct nlmsghdr *nlh = link_by_name(buf, len, RTM_GETLINK, name);

	/* Statistics are most of a link message and nobody here reads them. */
	if (nlh && !mnl_attr_put_u32_check(nlh, len, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS))
		return NULL;
	return nlh;
}

struct nlmsghdr *wgi_rtnl_msg_link_dump(void *buf, size_t len)
{
	struct nlmsghdr *nlh =
		msg_start(buf, len, RTM_GETLINK, NLM_F_DUMP, sizeof(struct ifinfomsg));

	if (nlh && !mnl_attr_put_u32_check(nlh, len, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS))
		return NULL;
	return nlh;
}

struct nlmsghdr *wgi_rtnl_msg_link_set(void *buf, size_t len, const char *name, int up,
				       uint32_t mtu)
{
	struct nlmsghdr *nlh = link_by_name(buf, len, RTM_SETLINK, name);
	struct ifinfomsg *ifi;

	if (!nlh)
		return NULL;
	ifi = mnl_nlmsg_get_payload(nlh);
	if (up >= 0) {
		ifi->ifi_change = IFF_UP;
		ifi->ifi_flags = up ? IFF_UP : 0;
	}
	if (mtu && !mnl_attr_put_u32_check(nlh, len, IFLA_MTU, mtu))
		return NULL;
	return nlh;
}

struct nlmsghdr *wgi_rtnl_msg_addr(void *buf, size_t len, bool add, uint32_t ifindex,
				   const struct wgnl_prefix *p)
{
	size_t alen;
	struct nlmsghdr *nlh;
	struct ifaddrmsg *ifa;

	if (!prefix_ok(p) || !ifindex)
		return NULL;
	alen = family_addr_len(p->family);
	/* CREATE|REPLACE: an address that is already there is updated in place
	 * and the kernel answers 0, which makes add idempotent. */
	nlh = msg_start(buf, len, add ? RTM_NEWADDR : RTM_DELADDR,
			add ? NLM_F_CREATE | NLM_F_REPLACE : 0, sizeof(*ifa));
	if (!nlh)
		return NULL;
	ifa = mnl_nlmsg_get_payload(nlh);
	ifa->ifa_family = (uint8_t)p->family;
	ifa->ifa_prefixlen = p->cidr;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	ifa->ifa_index = ifindex;
	/* IPv4 distinguishes the local address from the peer/prefix one and
	 * wants both; IPv6 takes IFA_ADDRESS as the local address. */
	if (p->family == AF_INET && !mnl_attr_put_check(nlh, len, IFA_LOCAL, alen, &p->ip4))
		return NULL;
	if (!mnl_attr_put_check(nlh, len, IFA_ADDRESS, alen, &p->ip6))
		return NULL;
	return nlh;
}

struct nlmsghdr *wgi_rtnl_msg_addr_lifetime(void *buf, size_t len, uint32_t ifindex,
					    const struct wgnl_prefix *p, uint32_t valid_s,
					    uint32_t preferred_s)
{
	struct ifa_cacheinfo ci = { .ifa_prefered = preferred_s, .ifa_valid = valid_s };
	struct nlmsghdr *nlh;
	struct ifaddrmsg *ifa;
	uint32_t flags = 0;

	/* 0 would be refused by the kernel; a preferred lifetime beyond the
	 * valid one too (EINVAL). */
	if (!valid_s || preferred_s > valid_s)
		return NULL;
	nlh = wgi_rtnl_msg_addr(buf, len, true, ifindex, p);
	if (!nlh)
		return NULL;
	/* No duplicate address detection: an anycast /128 is on several nodes
	 * at once by design, and DAD would hold it tentative (unusable as a
	 * source) for a second after every add. */
	if (p->family == AF_INET6)
		flags = IFA_F_NODAD;
	ifa = mnl_nlmsg_get_payload(nlh);
	ifa->ifa_flags = (uint8_t)flags;
	/* With CREATE|REPLACE the kernel updates an existing address's
	 * lifetimes in place (one RTM_NEWADDR event, never a delete and
	 * re-add), so a refresh does not disturb sockets bound to it. */
	if (!mnl_attr_put_check(nlh, len, IFA_CACHEINFO, sizeof(ci), &ci))
		return NULL;
	if (flags && !mnl_attr_put_u32_check(nlh, len, IFA_FLAGS, flags))
		return NULL;
	return nlh;
}

struct nlmsghdr *wgi_rtnl_msg_addr_dump(void *buf, size_t len, uint32_t ifindex)
{
	struct nlmsghdr *nlh =
		msg_start(buf, len, RTM_GETADDR, NLM_F_DUMP, sizeof(struct ifaddrmsg));
	struct ifaddrmsg *ifa;

	if (!nlh)
		return NULL;
	ifa = mnl_nlmsg_get_payload(nlh);
	ifa->ifa_family = AF_UNSPEC;
	/* Only kernels with strict checking filter on it; the parser filters
	 * again. */
	ifa->ifa_index = ifindex;
	return nlh;
}

struct nlmsghdr *wgi_rtnl_msg_route(void *buf, size_t len, bool add, uint32_t ifindex,
				    const struct wgnl_prefix *dst, uint32_t table)
{
	struct wgnl_prefix d;
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;

	if (!prefix_ok(dst) || !ifindex)
		return NULL;
	d = *dst;
	/* The kernel refuses a v4 destination with host bits set (and v6 would
	 * silently mask): send what will be stored. */
	wgnl_prefix_mask(&d);
	/* EXCL, never REPLACE: a route someone else made (the kernel's subnet
	 * route, a LAN's default) must not be taken over, and so later deleted
	 * by an undo or a down that believes it is ours. */
	nlh = msg_start(buf, len, add ? RTM_NEWROUTE : RTM_DELROUTE,
			add ? NLM_F_CREATE | NLM_F_EXCL : 0, sizeof(*rtm));
	if (!nlh)
		return NULL;
	rtm = mnl_nlmsg_get_payload(nlh);
	rtm->rtm_family = (uint8_t)d.family;
	rtm->rtm_dst_len = d.cidr;
	rtm->rtm_table = table_hdr(table);
	rtm->rtm_type = RTN_UNICAST;
	if (add) {
		rtm->rtm_protocol = RTPROT_BOOT;
		rtm->rtm_scope = RT_SCOPE_LINK;
	} else {
		/* Match the route whoever added it, with whatever scope. */
		rtm->rtm_protocol = RTPROT_UNSPEC;
		rtm->rtm_scope = RT_SCOPE_NOWHERE;
	}
	if (!mnl_attr_put_check(nlh, len, RTA_DST, family_addr_len(d.family), &d.ip6) ||
	    !mnl_attr_put_u32_check(nlh, len, RTA_OIF, ifindex) ||
	    !mnl_attr_put_u32_check(nlh, len, RTA_TABLE, table_id(table)))
		return NULL;
	return nlh;
}

struct nlmsghdr *wgi_rtnl_msg_route_dump(void *buf, size_t len, uint16_t family)
{
	struct nlmsghdr *nlh = msg_start(buf, len, RTM_GETROUTE, NLM_F_DUMP, sizeof(struct rtmsg));

	if (nlh)
		((struct rtmsg *)mnl_nlmsg_get_payload(nlh))->rtm_family = (uint8_t)family;
	return nlh;
}

struct nlmsghdr *wgi_rtnl_msg_rule(void *buf, size_t len, bool add, const struct wgnl_rule *r,
				   uint32_t priority)
{
	struct fib_rule_hdr *frh;
	struct nlmsghdr *nlh;

	if (!rule_ok(r))
		return NULL;
	/* EXCL: without it the kernel happily stacks identical rules. */
	nlh = msg_start(buf, len, add ? RTM_NEWRULE : RTM_DELRULE,
			add ? NLM_F_CREATE | NLM_F_EXCL : 0, sizeof(*frh));
	if (!nlh)
		return NULL;
	frh = mnl_nlmsg_get_payload(nlh);
	frh->family = (uint8_t)r->family;
	frh->table = table_hdr(r->table);
	frh->action = FR_ACT_TO_TBL;
	frh->flags = r->invert ? FIB_RULE_INVERT : 0;
	if (!priority)
		priority = r->priority;
	if (!mnl_attr_put_u32_check(nlh, len, FRA_TABLE, table_id(r->table)))
		return NULL;
	if (priority && !mnl_attr_put_u32_check(nlh, len, FRA_PRIORITY, priority))
		return NULL;
	/* The kernel implies an all-ones FRA_FWMASK with a mark. */
	if (r->fwmark && !mnl_attr_put_u32_check(nlh, len, FRA_FWMARK, r->fwmark))
		return NULL;
	if (r->suppress_prefixlen >= 0 && !mnl_attr_put_u32_check(nlh, len, FRA_SUPPRESS_PREFIXLEN,
								  (uint32_t)r->suppress_prefixlen))
		return NULL;
	return nlh;
}

struct nlmsghdr *wgi_rtnl_msg_rule_dump(void *buf, size_t len, uint16_t family)
{
	struct nlmsghdr *nlh =
		msg_start(buf, len, RTM_GETRULE, NLM_F_DUMP, sizeof(struct fib_rule_hdr));

	if (nlh)
		((struct fib_rule_hdr *)mnl_nlmsg_get_payload(nlh))->family = (uint8_t)family;
	return nlh;
}

/* --------------------------------------------------------------- parsers */

/* Keep @attr in @tb when it has the expected type/length; a known attribute
 * that fails validation makes the whole message malformed. */
static int keep(const struct nlattr **tb, const struct nlattr *attr, enum mnl_attr_data_type t,
		size_t len)
{
	int r = len ? mnl_attr_validate2(attr, t, len) : mnl_attr_validate(attr, t);

	if (r < 0)
		return MNL_CB_ERROR;
	tb[mnl_attr_get_type(attr)] = attr;
	return MNL_CB_OK;
}

static int linkinfo_attr_cb(const struct nlattr *attr, void *data)
{
	const struct nlattr **tb = data;

	if (mnl_attr_type_valid(attr, IFLA_INFO_MAX) < 0)
		return MNL_CB_OK;
	if (mnl_attr_get_type(attr) == IFLA_INFO_KIND)
		return keep(tb, attr, MNL_TYPE_STRING, 0);
	return MNL_CB_OK;
}

static int link_attr_cb(const struct nlattr *attr, void *data)
{
	const struct nlattr **tb = data;

	if (mnl_attr_type_valid(attr, IFLA_MAX) < 0)
		return MNL_CB_OK;
	switch (mnl_attr_get_type(attr)) {
	case IFLA_IFNAME:
		return keep(tb, attr, MNL_TYPE_NUL_STRING, 0);
	case IFLA_MTU:
		return keep(tb, attr, MNL_TYPE_U32, 0);
	case IFLA_LINKINFO:
		return keep(tb, attr, MNL_TYPE_NESTED, 0);
	}
	return MNL_CB_OK;
}

/* mnl_attr_parse() with a stricter end: its walk stops quietly at the first
 * attribute that does not fit, so an overrunning or truncated attribute would
 * pass unnoticed. Here anything left over is malformed. */
static int parse_attrs(const struct nlmsghdr *nlh, size_t off, mnl_attr_cb_t cb, void *tb)
{
	/* The end is nlmsg_len itself: libmnl's walk ends at nlmsg_len
	 * rounded up to 4, which for an unaligned length reads up to 3 bytes
	 * past the message (into the next one, or past a buffer that holds
	 * just this one). */
	const char *tail = (const char *)nlh + nlh->nlmsg_len;
	const struct nlattr *a =
		(const struct nlattr *)((const char *)mnl_nlmsg_get_payload(nlh) + MNL_ALIGN(off));

	while ((const char *)a < tail && mnl_attr_ok(a, (int)(tail - (const char *)a))) {
		if (cb(a, tb) < MNL_CB_OK)
			return -EBADMSG;
		a = mnl_attr_next(a);
	}
	return (const char *)a < tail ? -EBADMSG : 0;
}

static int parse_nested(const struct nlattr *nest, mnl_attr_cb_t cb, void *tb)
{
	const char *tail =
		(const char *)mnl_attr_get_payload(nest) + mnl_attr_get_payload_len(nest);
	const struct nlattr *a;

	mnl_attr_for_each_nested (a, nest) {
		if (cb(a, tb) < MNL_CB_OK)
			return -EBADMSG;
	}
	return (const char *)a < tail ? -EBADMSG : 0;
}

/* Copy a string attribute that may or may not carry its NUL. */
static bool copy_str(char *dst, size_t size, const struct nlattr *attr)
{
	const char *s = mnl_attr_get_payload(attr);
	size_t n = strnlen(s, mnl_attr_get_payload_len(attr));

	if (n >= size)
		return false;
	memcpy(dst, s, n);
	dst[n] = '\0';
	return true;
}

int wgi_rtnl_parse_link(const struct nlmsghdr *nlh, struct wgnl_link *out)
{
	const struct nlattr *tb[IFLA_MAX + 1] = { 0 };
	const struct ifinfomsg *ifi;

	if (nlh->nlmsg_type != RTM_NEWLINK)
		return 0;
	if (nlh->nlmsg_len < MNL_NLMSG_HDRLEN + sizeof(*ifi))
		return -EBADMSG;
	ifi = mnl_nlmsg_get_payload(nlh);
	if (parse_attrs(nlh, sizeof(*ifi), link_attr_cb, tb) < 0 || !tb[IFLA_IFNAME] ||
	    ifi->ifi_index <= 0)
		return -EBADMSG;
	memset(out, 0, sizeof(*out));
	if (!copy_str(out->name, sizeof(out->name), tb[IFLA_IFNAME]))
		return -EBADMSG;
	out->ifindex = (uint32_t)ifi->ifi_index;
	out->up = ifi->ifi_flags & IFF_UP;
	if (tb[IFLA_MTU])
		out->mtu = mnl_attr_get_u32(tb[IFLA_MTU]);
	if (tb[IFLA_LINKINFO]) {
		const struct nlattr *info[IFLA_INFO_MAX + 1] = { 0 };

		if (parse_nested(tb[IFLA_LINKINFO], linkinfo_attr_cb, info) < 0)
			return -EBADMSG;
		/* A kind longer than our field is not one we know: leave "". */
		if (info[IFLA_INFO_KIND] &&
		    !copy_str(out->kind, sizeof(out->kind), info[IFLA_INFO_KIND]))
			out->kind[0] = '\0';
	}
	return 1;
}

static int addr_attr_cb(const struct nlattr *attr, void *data)
{
	const struct nlattr **tb = data;

	if (mnl_attr_type_valid(attr, IFA_MAX) < 0)
		return MNL_CB_OK;
	switch (mnl_attr_get_type(attr)) {
	case IFA_ADDRESS:
	case IFA_LOCAL:
		return keep(tb, attr, MNL_TYPE_BINARY, 0);
	}
	return MNL_CB_OK;
}

static bool copy_addr(struct wgnl_prefix *p, const struct nlattr *attr)
{
	size_t alen = family_addr_len(p->family);

	if (mnl_attr_get_payload_len(attr) != alen)
		return false;
	memcpy(&p->ip6, mnl_attr_get_payload(attr), alen);
	return true;
}

int wgi_rtnl_parse_addr(const struct nlmsghdr *nlh, struct wgnl_prefix *out, uint32_t *ifindex)
{
	const struct nlattr *tb[IFA_MAX + 1] = { 0 };
	const struct ifaddrmsg *ifa;
	const struct nlattr *a;

	if (nlh->nlmsg_type != RTM_NEWADDR)
		return 0;
	if (nlh->nlmsg_len < MNL_NLMSG_HDRLEN + sizeof(*ifa))
		return -EBADMSG;
	ifa = mnl_nlmsg_get_payload(nlh);
	if (ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6)
		return 0;
	if (parse_attrs(nlh, sizeof(*ifa), addr_attr_cb, tb) < 0)
		return -EBADMSG;
	memset(out, 0, sizeof(*out));
	out->family = ifa->ifa_family;
	out->cidr = ifa->ifa_prefixlen;
	/* IFA_LOCAL is the interface's own address when present (on a
	 * point-to-point link IFA_ADDRESS is the peer's). */
	a = tb[IFA_LOCAL] ? tb[IFA_LOCAL] : tb[IFA_ADDRESS];
	if (!prefix_ok(out) || !a || !copy_addr(out, a))
		return -EBADMSG;
	*ifindex = ifa->ifa_index;
	return 1;
}

static int route_attr_cb(const struct nlattr *attr, void *data)
{
	const struct nlattr **tb = data;

	if (mnl_attr_type_valid(attr, RTA_MAX) < 0)
		return MNL_CB_OK;
	switch (mnl_attr_get_type(attr)) {
	case RTA_DST:
		return keep(tb, attr, MNL_TYPE_BINARY, 0);
	case RTA_OIF:
	case RTA_TABLE:
		return keep(tb, attr, MNL_TYPE_U32, 0);
	}
	return MNL_CB_OK;
}

int wgi_rtnl_parse_route(const struct nlmsghdr *nlh, struct wgi_route *out)
{
	const struct nlattr *tb[RTA_MAX + 1] = { 0 };
	const struct rtmsg *rtm;

	if (nlh->nlmsg_type != RTM_NEWROUTE)
		return 0;
	if (nlh->nlmsg_len < MNL_NLMSG_HDRLEN + sizeof(*rtm))
		return -EBADMSG;
	rtm = mnl_nlmsg_get_payload(nlh);
	if (rtm->rtm_family != AF_INET && rtm->rtm_family != AF_INET6)
		return 0;
	if (parse_attrs(nlh, sizeof(*rtm), route_attr_cb, tb) < 0)
		return -EBADMSG;
	memset(out, 0, sizeof(*out));
	out->dst.family = rtm->rtm_family;
	out->dst.cidr = rtm->rtm_dst_len;
	if (!prefix_ok(&out->dst) || (tb[RTA_DST] && !copy_addr(&out->dst, tb[RTA_DST])))
		return -EBADMSG;
	out->oif = tb[RTA_OIF] ? mnl_attr_get_u32(tb[RTA_OIF]) : 0;
	out->table = tb[RTA_TABLE] ? mnl_attr_get_u32(tb[RTA_TABLE]) : rtm->rtm_table;
	out->type = rtm->rtm_type;
	out->flags = rtm->rtm_flags;
	return 1;
}

static int rule_attr_cb(const struct nlattr *attr, void *data)
{
	const struct nlattr **tb = data;
	uint16_t type = mnl_attr_get_type(attr);

	switch (type) {
	case FRA_TABLE:
	case FRA_PRIORITY:
	case FRA_FWMARK:
	case FRA_FWMASK:
	case FRA_SUPPRESS_PREFIXLEN:
	case FRA_SUPPRESS_IFGROUP:
		return keep(tb, attr, MNL_TYPE_U32, 0);
	case FRA_PROTOCOL: /* who added it: not a selector */
		return MNL_CB_OK;
	case FRA_L3MDEV:
		return keep(tb, attr, MNL_TYPE_U8, 0);
	}
	/* Anything else (src, dst, iif/oif, uid range, ports, dscp, goto, and
	 * attributes newer than this code) selects or acts beyond what a
	 * struct wgnl_rule can say. FRA_UNSPEC slot marks "other". */
	tb[FRA_UNSPEC] = attr;
	return MNL_CB_OK;
}

int wgi_rtnl_parse_rule(const struct nlmsghdr *nlh, struct wgi_rule *out)
{
	const struct nlattr *tb[FRA_MAX + 1] = { 0 };
	const struct fib_rule_hdr *frh;
	uint32_t mask = UINT32_MAX;

	if (nlh->nlmsg_type != RTM_NEWRULE)
		return 0;
	if (nlh->nlmsg_len < MNL_NLMSG_HDRLEN + sizeof(*frh))
		return -EBADMSG;
	frh = mnl_nlmsg_get_payload(nlh);
	if (frh->family != AF_INET && frh->family != AF_INET6)
		return 0;
	if (parse_attrs(nlh, sizeof(*frh), rule_attr_cb, tb) < 0)
		return -EBADMSG;
	memset(out, 0, sizeof(*out));
	out->r.family = frh->family;
	out->r.invert = frh->flags & FIB_RULE_INVERT;
	out->r.table = tb[FRA_TABLE] ? mnl_attr_get_u32(tb[FRA_TABLE]) : frh->table;
	out->r.priority = tb[FRA_PRIORITY] ? mnl_attr_get_u32(tb[FRA_PRIORITY]) : 0;
	out->r.fwmark = tb[FRA_FWMARK] ? mnl_attr_get_u32(tb[FRA_FWMARK]) : 0;
	if (tb[FRA_FWMASK])
		mask = mnl_attr_get_u32(tb[FRA_FWMASK]);
	out->r.suppress_prefixlen = -1;
	if (tb[FRA_SUPPRESS_PREFIXLEN]) {
		uint32_t v = mnl_attr_get_u32(tb[FRA_SUPPRESS_PREFIXLEN]);

		out->r.suppress_prefixlen = v > 128 ? -1 : (int)v;
	}
	out->action = frh->action;
	out->other = tb[FRA_UNSPEC] || frh->src_len || frh->dst_len || frh->tos ||
		     (out->r.fwmark && mask != UINT32_MAX) ||
		     (!out->r.fwmark && mask && tb[FRA_FWMASK]) ||
		     (tb[FRA_SUPPRESS_IFGROUP] &&
		      mnl_attr_get_u32(tb[FRA_SUPPRESS_IFGROUP]) != UINT32_MAX) ||
		     (tb[FRA_L3MDEV] && mnl_attr_get_u8(tb[FRA_L3MDEV]));
	return 1;
}

bool wgi_rtnl_rule_match(const struct wgi_rule *k, const struct wgnl_rule *want)
{
	return !k->other && k->action == FR_ACT_TO_TBL && k->r.family == want->family &&
	       table_id(k->r.table) == table_id(want->table) && k->r.fwmark == want->fwmark &&
	       k->r.invert == want->invert && k->r.suppress_prefixlen == want->suppress_prefixlen &&
	       (!want->priority || k->r.priority == want->priority);
}

/* ------------------------------------------------------------ transport */

static int rtnl_state_open(void **priv)
{
	struct wgi_nl *nl = calloc(1, sizeof(*nl));

	if (!nl)
		return -ENOMEM;
	*priv = nl;
	return 0;
}

static void rtnl_state_close(void *priv)
{
	struct wgi_nl *nl = priv;

	if (!nl)
		return;
	wgi_nl_close(nl);
	free(nl);
}

struct wgi_nl *wgi_rtnl_nl(struct wgnl_ctx *ctx)
{
	return wgi_net_priv(ctx);
}

static int rtnl_open(struct wgnl_ctx *ctx)
{
	return wgi_nl_open(ctx, wgi_rtnl_nl(ctx), NETLINK_ROUTE);
}

/* One request and its ACK (and reply messages for @cb). */
static int rtnl_request(struct wgnl_ctx *ctx, struct nlmsghdr *nlh, wgi_nl_cb cb, void *data)
{
	int r = rtnl_open(ctx);

	if (r < 0)
		return r;
	ctx->stats.rtnl_msgs++;
	r = wgi_nl_transact(ctx, wgi_rtnl_nl(ctx), nlh, cb, data);
	if (r == -EPERM && !ctx->errmsg[0])
		wgi_set_error(
			ctx,
			"changing links, addresses, routes or rules needs CAP_NET_ADMIN in this network namespace");
	return r;
}

/* What every dump callback's data starts with: the error a callback failed
 * with (wgi_nl_transact only says -EBADMSG). */
struct dump_state {
	int err;
};

/* A dump, restarted after NLM_F_DUMP_INTR (calling @reset to drop what the
 * interrupted pass collected) at most WGI_RTNL_DUMP_TRIES times. */
static int rtnl_dump(struct wgnl_ctx *ctx, struct nlmsghdr *nlh, wgi_nl_cb cb,
		     struct dump_state *st, void (*reset)(struct dump_state *st))
{
	int r = rtnl_open(ctx);

	if (r < 0)
		return r;
	for (unsigned try = 1;; try++) {
		st->err = 0;
		ctx->stats.rtnl_msgs++;
		r = wgi_nl_transact(ctx, wgi_rtnl_nl(ctx), nlh, cb, st);
		if (r == -EBADMSG && st->err)
			r = st->err;
		if (r != -EINTR)
			return r;
		if (try >= WGI_RTNL_DUMP_TRIES) {
			wgi_set_error(ctx, "dump still interrupted after %u tries", try);
			return -EAGAIN;
		}
		ctx->stats.dump_retries++;
		reset(st);
	}
}

/* The ifindex of @name, or -EINVAL / -ENODEV with an explanation. */
static int ifindex_of(struct wgnl_ctx *ctx, const char *name, uint32_t *ifindex)
{
	if (!ifname_ok(name)) {
		wgi_set_error(ctx, "invalid interface name");
		return -EINVAL;
	}
	*ifindex = wgi_ifindex(name);
	if (!*ifindex) {
		wgi_set_error(ctx, "no such interface '%s'", name);
		return -ENODEV;
	}
	return 0;
}

static int invalid(struct wgnl_ctx *ctx, const char *what)
{
	wgi_set_error(ctx, "invalid %s", what);
	return -EINVAL;
}

/* When the kernel explained nothing about @code, say what was missing. */
static int explain(struct wgnl_ctx *ctx, int r, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int explain(struct wgnl_ctx *ctx, int r, int code, const char *fmt, ...)
{
	va_list ap;

	if (r == code && !ctx->errmsg[0]) {
		va_start(ap, fmt);
		vsnprintf(ctx->errmsg, sizeof(ctx->errmsg), fmt, ap);
		va_end(ap);
	}
	return r;
}

/* ------------------------------------------------------------------ links */

static int rtnl_link_add(struct wgnl_ctx *ctx, const char *name, const char *kind)
{
	char buf[WGI_RTNL_REQ_BUF] __attribute__((aligned(4)));
	struct nlmsghdr *nlh;
	int r;

	wgi_clear_error(ctx);
	nlh = wgi_rtnl_msg_link_new(buf, sizeof(buf), name, kind);
	if (!nlh)
		return invalid(ctx, ifname_ok(name) ? "link kind" : "interface name");
	r = rtnl_request(ctx, nlh, NULL, NULL);
	if (r == -EOPNOTSUPP) {
		char kmsg[WGI_ERRMSG_LEN];

		/* The kernel only says "Unknown device type": name the kind
		 * and the likely cause. */
		snprintf(kmsg, sizeof(kmsg), "%s",
			 ctx->errmsg[0] ? ctx->errmsg : "Unknown device type");
		wgi_set_error(
			ctx,
			"this kernel does not support links of kind '%s' (module not loaded or not built): %.120s",
			kind, kmsg);
	}
	return explain(ctx, r, -EEXIST, "a link named '%s' already exists", name);
}

static int link_cb(const struct nlmsghdr *nlh, void *data)
{
	struct wgnl_link *out = data;

	return wgi_rtnl_parse_link(nlh, out) < 0 ? MNL_CB_ERROR : MNL_CB_OK;
}

static int link_get(struct wgnl_ctx *ctx, const char *name, struct wgnl_link *out)
{
	char buf[WGI_RTNL_REQ_BUF] __attribute__((aligned(4)));
	struct nlmsghdr *nlh;
	int r;

	memset(out, 0, sizeof(*out));
	nlh = wgi_rtnl_msg_link_get(buf, sizeof(buf), name);
	if (!nlh)
		return invalid(ctx, "interface name");
	r = rtnl_request(ctx, nlh, link_cb, out);
	if (r == 0 && !out->ifindex)
		r = -EBADMSG; /* acked without the link */
	if (r < 0)
		memset(out, 0, sizeof(*out));
	return explain(ctx, r, -ENODEV, "no such interface '%s'", name);
}

static int rtnl_link_get(struct wgnl_ctx *ctx, const char *name, struct wgnl_link *out)
{
	wgi_clear_error(ctx);
	return link_get(ctx, name, out);
}

/* Remove every peer of WireGuard device @name in one set. Best effort: the
 * RTM_DELLINK that follows reports what really matters. */
static void wireguard_empty(struct wgnl_ctx *ctx, const char *name)
{
	/* -EPROTONOSUPPORT (no genl family) and the rest are ignored. */
	wgi_kernel_device_clear_peers(ctx, name);
	wgi_clear_error(ctx);
}

static int rtnl_link_del(struct wgnl_ctx *ctx, const char *name)
{
	char buf[WGI_RTNL_REQ_BUF] __attribute__((aligned(4)));
	struct wgnl_link link;
	struct nlmsghdr *nlh;
	int r;

	wgi_clear_error(ctx);
	r = link_get(ctx, name, &link);
	if (r < 0)
		return r;
	/* The kernel tears a WireGuard device's peers down one by one with a
	 * synchronize_net() each when the link goes (~17 ms per peer on 6.1);
	 * an explicit empty REPLACE_PEERS set first is one batch. */
	if (!strcmp(link.kind, "wireguard"))
		wireguard_empty(ctx, name);
	nlh = wgi_rtnl_msg_link_del(buf, sizeof(buf), name);
	if (!nlh)
		return invalid(ctx, "interface name");
	r = rtnl_request(ctx, nlh, NULL, NULL);
	return explain(ctx, r, -ENODEV, "no such interface '%s'", name);
}

static int link_set(struct wgnl_ctx *ctx, const char *name, int up, uint32_t mtu)
{
	char buf[WGI_RTNL_REQ_BUF] __attribute__((aligned(4)));
	struct nlmsghdr *nlh;
	int r;

	wgi_clear_error(ctx);
	nlh = wgi_rtnl_msg_link_set(buf, sizeof(buf), name, up, mtu);
	if (!nlh)
		return invalid(ctx, "interface name");
	r = rtnl_request(ctx, nlh, NULL, NULL);
	return explain(ctx, r, -ENODEV, "no such interface '%s'", name);
}

static int rtnl_link_set_up(struct wgnl_ctx *ctx, const char *name, bool up)
{
	return link_set(ctx, name, up ? 1 : 0, 0);
}

static int rtnl_link_set_mtu(struct wgnl_ctx *ctx, const char *name, uint32_t mtu)
{
	if (!mtu) {
		wgi_clear_error(ctx);
		return invalid(ctx, "MTU 0");
	}
	return link_set(ctx, name, -1, mtu);
}

struct kind_state {
	struct dump_state st;
	const char *kind;
	char ***names;
	size_t *n, n0;
};

static int kind_cb(const struct nlmsghdr *nlh, void *data)
{
	struct kind_state *ks = data;
	struct wgnl_link link;
	int r = wgi_rtnl_parse_link(nlh, &link);

	if (r < 0)
		return MNL_CB_ERROR;
	if (r == 1 && !strcmp(link.kind, ks->kind)) {
		r = wgi_strv_push(ks->names, ks->n, link.name);
		if (r < 0) {
			ks->st.err = r;
			return MNL_CB_ERROR;
		}
	}
	return MNL_CB_OK;
}

/* Drop the names an interrupted pass appended (the caller's stay). */
static void kind_reset(struct dump_state *st)
{
	struct kind_state *ks = (struct kind_state *)st;

	while (*ks->n > ks->n0)
		free((*ks->names)[--*ks->n]);
	if (*ks->names)
		(*ks->names)[*ks->n] = NULL;
}

int wgi_rtnl_list_kind(struct wgnl_ctx *ctx, const char *kind, char ***names, size_t *n)
{
	char buf[WGI_RTNL_REQ_BUF] __attribute__((aligned(4)));
	struct kind_state ks = { .kind = kind, .names = names, .n = n, .n0 = *n };
	struct nlmsghdr *nlh = wgi_rtnl_msg_link_dump(buf, sizeof(buf));
	int r;

	if (!nlh || !kind)
		return -EINVAL;
	r = rtnl_dump(ctx, nlh, kind_cb, &ks.st, kind_reset);
	if (r < 0)
		kind_reset(&ks.st);
	return r;
}

/* -------------------------------------------------------------- addresses */

/* @valid_s: 0 for a permanent address (or a delete), else the lifetimes. */
static int addr_change(struct wgnl_ctx *ctx, bool add, const char *ifname,
		       const struct wgnl_prefix *p, uint32_t valid_s, uint32_t preferred_s)
{
	char buf[WGI_RTNL_REQ_BUF] __attribute__((aligned(4)));
	char txt[INET6_ADDRSTRLEN + 8];
	struct nlmsghdr *nlh;
	uint32_t ifindex;
	int r;

	wgi_clear_error(ctx);
	if (!prefix_ok(p))
		return invalid(ctx, "address");
	r = ifindex_of(ctx, ifname, &ifindex);
	if (r < 0)
		return r;
	if (valid_s)
		nlh = wgi_rtnl_msg_addr_lifetime(buf, sizeof(buf), ifindex, p, valid_s,
						 preferred_s);
	else
		nlh = wgi_rtnl_msg_addr(buf, sizeof(buf), add, ifindex, p);
	if (!nlh)
		return invalid(ctx, "address");
	r = rtnl_request(ctx, nlh, NULL, NULL);
	return explain(ctx, r, -EADDRNOTAVAIL, "address %s is not on the interface",
		       wgnl_prefix_format(p, txt, sizeof(txt)));
}

static int rtnl_addr_add(struct wgnl_ctx *ctx, const char *ifname, const struct wgnl_prefix *p)
{
	return addr_change(ctx, true, ifname, p, 0, 0);
}

static int rtnl_addr_add_lifetime(struct wgnl_ctx *ctx, const char *ifname,
				  const struct wgnl_prefix *p, uint32_t valid_s,
				  uint32_t preferred_s)
{
	if (!valid_s || preferred_s > valid_s) {
		wgi_clear_error(ctx);
		return invalid(ctx, "address lifetime");
	}
	return addr_change(ctx, true, ifname, p, valid_s, preferred_s);
}

static int rtnl_addr_del(struct wgnl_ctx *ctx, const char *ifname, const struct wgnl_prefix *p)
{
	return addr_change(ctx, false, ifname, p, 0, 0);
}

/* A growing array of prefixes collected by a dump. */
struct prefix_state {
	struct dump_state st;
	uint32_t ifindex, table;
	struct wgnl_prefix *v;
	size_t n, cap;
};

static int prefix_push(struct prefix_state *ps, const struct wgnl_prefix *p)
{
	int r = wgi_grow((void **)&ps->v, &ps->cap, ps->n + 1, sizeof(*ps->v));

	if (r < 0) {
		ps->st.err = r;
		return MNL_CB_ERROR;
	}
	ps->v[ps->n++] = *p;
	return MNL_CB_OK;
}

static void prefix_reset(struct dump_state *st)
{
	((struct prefix_state *)st)->n = 0;
}

static int addr_list_cb(const struct nlmsghdr *nlh, void *data)
{
	struct prefix_state *ps = data;
	struct wgnl_prefix p;
	uint32_t ifindex;
	int r = wgi_rtnl_parse_addr(nlh, &p, &ifindex);

	if (r < 0)
		return MNL_CB_ERROR;
	if (r == 0 || ifindex != ps->ifindex)
		return MNL_CB_OK;
	return prefix_push(ps, &p);
}

/* Hand the collected array to the caller or free it. */
static int prefix_result(struct prefix_state *ps, int r, struct wgnl_prefix **ret)
{
	if (r < 0 || ps->n > INT32_MAX) {
		free(ps->v);
		return r < 0 ? r : -EOVERFLOW;
	}
	if (!ps->n) {
		free(ps->v);
		ps->v = NULL;
	}
	*ret = ps->v;
	return (int)ps->n;
}

static int rtnl_addr_list(struct wgnl_ctx *ctx, const char *ifname, struct wgnl_prefix **ret)
{
	char buf[WGI_RTNL_REQ_BUF] __attribute__((aligned(4)));
	struct prefix_state ps = { 0 };
	struct nlmsghdr *nlh;
	int r;

	*ret = NULL;
	wgi_clear_error(ctx);
	r = ifindex_of(ctx, ifname, &ps.ifindex);
	if (r < 0)
		return r;
	nlh = wgi_rtnl_msg_addr_dump(buf, sizeof(buf), ps.ifindex);
	if (!nlh)
		return -EINVAL;
	r = rtnl_dump(ctx, nlh, addr_list_cb, &ps.st, prefix_reset);
	return prefix_result(&ps, r, ret);
}

/* ----------------------------------------------------------------- routes */

static int route_list_cb(const struct nlmsghdr *nlh, void *data);

/* Is @dst (masked) routed through @ifindex in @table? 1, 0 or -errno. */
static int route_via(struct wgnl_ctx *ctx, uint32_t ifindex, uint32_t table,
		     const struct wgnl_prefix *dst)
{
	char buf[WGI_RTNL_REQ_BUF] __attribute__((aligned(4)));
	struct prefix_state ps = { .ifindex = ifindex, .table = table };
	struct nlmsghdr *nlh = wgi_rtnl_msg_route_dump(buf, sizeof(buf), dst->family);
	int r;

	if (!nlh)
		return -EINVAL;
	r = rtnl_dump(ctx, nlh, route_list_cb, &ps.st, prefix_reset);
	if (r < 0) {
		free(ps.v);
		return r;
	}
	r = 0;
	for (size_t i = 0; i < ps.n && !r; i++)
		r = !wgnl_prefix_cmp(&ps.v[i], dst);
	free(ps.v);
	return r;
}

static int route_change(struct wgnl_ctx *ctx, bool add, const char *ifname,
			const struct wgnl_prefix *dst, uint32_t table)
{
	char buf[WGI_RTNL_REQ_BUF] __attribute__((aligned(4)));
	char txt[INET6_ADDRSTRLEN + 8];
	struct wgnl_prefix d;
	struct nlmsghdr *nlh;
	uint32_t ifindex;
	int r;

	wgi_clear_error(ctx);
	if (!prefix_ok(dst))
		return invalid(ctx, "route destination");
	r = ifindex_of(ctx, ifname, &ifindex);
	if (r < 0)
		return r;
	nlh = wgi_rtnl_msg_route(buf, sizeof(buf), add, ifindex, dst, table);
	if (!nlh)
		return invalid(ctx, "route destination");
	r = rtnl_request(ctx, nlh, NULL, NULL);
	d = *dst;
	wgnl_prefix_mask(&d);
	if (add && r == -EEXIST) {
		/* Ours already (or the kernel's subnet route on this link):
		 * present, not created. Through another link: a conflict. */
		int via = route_via(ctx, ifindex, table_id(table), &d);

		if (via < 0)
			return via;
		wgi_clear_error(ctx);
		if (via)
			return 0;
		wgi_set_error(ctx,
			      "a route to %s already exists in table %u through another interface",
			      wgnl_prefix_format(&d, txt, sizeof(txt)), table_id(table));
		return -EEXIST;
	}
	if (add && r == 0)
		return 1;
	return explain(ctx, r, -ESRCH, "no route to %s through the interface in that table",
		       wgnl_prefix_format(&d, txt, sizeof(txt)));
}

static int rtnl_route_add(struct wgnl_ctx *ctx, const char *ifname, const struct wgnl_prefix *dst,
			  uint32_t table)
{
	return route_change(ctx, true, ifname, dst, table);
}

static int rtnl_route_del(struct wgnl_ctx *ctx, const char *ifname, const struct wgnl_prefix *dst,
			  uint32_t table)
{
	return route_change(ctx, false, ifname, dst, table);
}

static int route_list_cb(const struct nlmsghdr *nlh, void *data)
{
	struct prefix_state *ps = data;
	struct wgi_route rt;
	int r = wgi_rtnl_parse_route(nlh, &rt);

	if (r < 0)
		return MNL_CB_ERROR;
	/* Unicast routes of the table through the link; cached clones (v6
	 * exceptions) are not configuration. */
	if (r == 0 || rt.type != RTN_UNICAST || (rt.flags & RTM_F_CLONED) ||
	    rt.oif != ps->ifindex || rt.table != ps->table)
		return MNL_CB_OK;
	return prefix_push(ps, &rt.dst);
}

static int rtnl_route_list(struct wgnl_ctx *ctx, const char *ifname, uint32_t table,
			   struct wgnl_prefix **ret)
{
	char buf[WGI_RTNL_REQ_BUF] __attribute__((aligned(4)));
	struct prefix_state ps = { .table = table_id(table) };
	struct nlmsghdr *nlh;
	int r;

	*ret = NULL;
	wgi_clear_error(ctx);
	r = ifindex_of(ctx, ifname, &ps.ifindex);
	if (r < 0)
		return r;
	/* AF_UNSPEC: one dump walks every family's tables. */
	nlh = wgi_rtnl_msg_route_dump(buf, sizeof(buf), AF_UNSPEC);
	if (!nlh)
		return -EINVAL;
	r = rtnl_dump(ctx, nlh, route_list_cb, &ps.st, prefix_reset);
	return prefix_result(&ps, r, ret);
}

/* ------------------------------------------------------------------ rules */

struct rule_state {
	struct dump_state st;
	const struct wgnl_rule *want;
	struct wgi_rule found;
	bool match;
};

static int rule_find_cb(const struct nlmsghdr *nlh, void *data)
{
	struct rule_state *rs = data;
	struct wgi_rule k;
	int r = wgi_rtnl_parse_rule(nlh, &k);

	if (r < 0)
		return MNL_CB_ERROR;
	if (r == 1 && !rs->match && wgi_rtnl_rule_match(&k, rs->want)) {
		rs->found = k;
		rs->match = true;
	}
	return MNL_CB_OK;
}

static void rule_reset(struct dump_state *st)
{
	((struct rule_state *)st)->match = false;
}

/* Find the kernel's rule equal to @want. Returns 1 (in @found), 0, -errno. */
static int rule_find(struct wgnl_ctx *ctx, const struct wgnl_rule *want, struct wgi_rule *found)
{
	char buf[WGI_RTNL_REQ_BUF] __attribute__((aligned(4)));
	struct rule_state rs = { .want = want };
	struct nlmsghdr *nlh = wgi_rtnl_msg_rule_dump(buf, sizeof(buf), want->family);
	int r;

	if (!nlh)
		return -EINVAL;
	r = rtnl_dump(ctx, nlh, rule_find_cb, &rs.st, rule_reset);
	if (r < 0)
		return r;
	if (rs.match)
		*found = rs.found;
	return rs.match;
}

static int rtnl_rule_exists(struct wgnl_ctx *ctx, const struct wgnl_rule *r)
{
	struct wgi_rule k;

	wgi_clear_error(ctx);
	if (!rule_ok(r))
		return invalid(ctx, "rule");
	return rule_find(ctx, r, &k);
}

static int rtnl_rule_add(struct wgnl_ctx *ctx, const struct wgnl_rule *r)
{
	char buf[WGI_RTNL_REQ_BUF] __attribute__((aligned(4)));
	struct wgi_rule k;
	struct nlmsghdr *nlh;
	int ret;

	wgi_clear_error(ctx);
	if (!rule_ok(r))
		return invalid(ctx, "rule");
	/* Without a priority the kernel gives every new rule a fresh one, so
	 * NLM_F_EXCL never sees a duplicate: look first. */
	if (!r->priority) {
		ret = rule_find(ctx, r, &k);
		if (ret != 0)
			return ret < 0 ? ret : 0;
	}
	nlh = wgi_rtnl_msg_rule(buf, sizeof(buf), true, r, 0);
	if (!nlh)
		return invalid(ctx, "rule");
	ret = rtnl_request(ctx, nlh, NULL, NULL);
	if (ret == -EEXIST) {
		wgi_clear_error(ctx);
		return 0;
	}
	return ret < 0 ? ret : 1;
}

static int rtnl_rule_del(struct wgnl_ctx *ctx, const struct wgnl_rule *r)
{
	char buf[WGI_RTNL_REQ_BUF] __attribute__((aligned(4)));
	struct wgi_rule k;
	struct nlmsghdr *nlh;
	int ret;

	wgi_clear_error(ctx);
	if (!rule_ok(r))
		return invalid(ctx, "rule");
	/* The kernel matches a delete only on the attributes it carries, so a
	 * rule with extra selectors could go instead: find the exact rule,
	 * then name it by its priority as well. */
	ret = rule_find(ctx, r, &k);
	if (ret < 0)
		return ret;
	if (!ret) {
		wgi_set_error(ctx, "no such rule");
		return -ENOENT;
	}
	nlh = wgi_rtnl_msg_rule(buf, sizeof(buf), false, r, k.r.priority);
	if (!nlh)
		return invalid(ctx, "rule");
	return rtnl_request(ctx, nlh, NULL, NULL);
}

const struct wgi_net_ops wgi_rtnl_ops = {
	.name = "rtnetlink",
	.open = rtnl_state_open,
	.close = rtnl_state_close,
	.link_add = rtnl_link_add,
	.link_get = rtnl_link_get,
	.link_del = rtnl_link_del,
	.link_set_up = rtnl_link_set_up,
	.link_set_mtu = rtnl_link_set_mtu,
	.addr_add = rtnl_addr_add,
	.addr_add_lifetime = rtnl_addr_add_lifetime,
	.addr_del = rtnl_addr_del,
	.addr_list = rtnl_addr_list,
	.route_add = rtnl_route_add,
	.route_del = rtnl_route_del,
	.route_list = rtnl_route_list,
	.rule_exists = rtnl_rule_exists,
	.rule_add = rtnl_rule_add,
	.rule_del = rtnl_rule_del,
};
