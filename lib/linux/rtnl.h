/* SPDX-License-Identifier: MIT */
/* Private to libwg-netlink: the rtnetlink message builders and parsers behind
 * the link/address/route/rule calls, split out so unit tests can check the
 * bytes without a kernel. Never installed. */
#ifndef WGNL_RTNL_H
#define WGNL_RTNL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/netlink.h>

#include "wgkit/wgnl.h"

/* Large enough for every request built here (the longest, a route or rule,
 * is well under 200 bytes). */
#define WGI_RTNL_REQ_BUF 512

/* Builders: write one complete request into @buf (@len bytes, 4-aligned)
 * and return it, or NULL when the arguments are invalid (bad family, cidr,
 * name or kind) or do not fit. nlmsg_seq/nlmsg_pid are left 0 (the
 * transport fills them); NLM_F_ACK is added by the transport too. */
struct nlmsghdr *wgi_rtnl_msg_link_new(void *buf, size_t len, const char *name, const char *kind);
struct nlmsghdr *wgi_rtnl_msg_link_del(void *buf, size_t len, const char *name);
struct nlmsghdr *wgi_rtnl_msg_link_get(void *buf, size_t len, const char *name);
/* RTM_GETLINK dump of every link. */
struct nlmsghdr *wgi_rtnl_msg_link_dump(void *buf, size_t len);
/* RTM_SETLINK on @name: set IFF_UP when @up is 0 or 1 (-1: leave), and the
 * MTU when @mtu is non-zero. */
struct nlmsghdr *wgi_rtnl_msg_link_set(void *buf, size_t len, const char *name, int up,
				       uint32_t mtu);
/* RTM_NEWADDR (@add) or RTM_DELADDR for @p on @ifindex. */
struct nlmsghdr *wgi_rtnl_msg_addr(void *buf, size_t len, bool add, uint32_t ifindex,
				   const struct wgnl_prefix *p);
/* RTM_NEWADDR (CREATE|REPLACE) for @p on @ifindex with IFA_CACHEINFO
 * lifetimes (seconds; @valid_s > 0, @preferred_s <= @valid_s) and, for IPv6,
 * IFA_F_NODAD. */
struct nlmsghdr *wgi_rtnl_msg_addr_lifetime(void *buf, size_t len, uint32_t ifindex,
					    const struct wgnl_prefix *p, uint32_t valid_s,
					    uint32_t preferred_s);
struct nlmsghdr *wgi_rtnl_msg_addr_dump(void *buf, size_t len, uint32_t ifindex);
/* RTM_NEWROUTE (@add) or RTM_DELROUTE for @dst (masked here) through
 * @ifindex in @table (0: main). */
struct nlmsghdr *wgi_rtnl_msg_route(void *buf, size_t len, bool add, uint32_t ifindex,
				    const struct wgnl_prefix *dst, uint32_t table);
/* RTM_GETROUTE dump of @family (AF_INET or AF_INET6). */
struct nlmsghdr *wgi_rtnl_msg_route_dump(void *buf, size_t len, uint16_t family);
/* RTM_NEWRULE (@add, with NLM_F_EXCL) or RTM_DELRULE for @r; @priority
 * overrides r->priority when non-zero (delete names the rule it found). */
struct nlmsghdr *wgi_rtnl_msg_rule(void *buf, size_t len, bool add, const struct wgnl_rule *r,
				   uint32_t priority);
struct nlmsghdr *wgi_rtnl_msg_rule_dump(void *buf, size_t len, uint16_t family);

/* Parsers: one message of a reply or dump. Return 1 when the message was
 * parsed into @out, 0 when it is valid but not of the expected kind (and
 * should be skipped), -EBADMSG when it is malformed. */
int wgi_rtnl_parse_link(const struct nlmsghdr *nlh, struct wgnl_link *out);
/* An address; *ifindex receives its link. */
int wgi_rtnl_parse_addr(const struct nlmsghdr *nlh, struct wgnl_prefix *out, uint32_t *ifindex);

/* A route as far as the list filters need it. */
struct wgi_route {
	struct wgnl_prefix dst;
	uint32_t oif;	/* 0: none (e.g. multipath) */
	uint32_t table; /* RTA_TABLE, or rtm_table */
	uint8_t type;	/* RTN_* */
	uint32_t flags; /* rtm_flags */
};
int wgi_rtnl_parse_route(const struct nlmsghdr *nlh, struct wgi_route *out);

/* A rule as the kernel reports it. */
struct wgi_rule {
	struct wgnl_rule r; /* priority is the kernel's */
	uint8_t action;	    /* FR_ACT_* */
	/* Any selector wgnl_rule cannot express (src/dst, interfaces, mask
	 * other than all-ones, ports, uid range, ...): such a rule never
	 * equals a struct wgnl_rule. */
	bool other;
};
int wgi_rtnl_parse_rule(const struct nlmsghdr *nlh, struct wgi_rule *out);
/* True when the kernel rule @k is the one @want describes (priority compared
 * only when want->priority is set). */
bool wgi_rtnl_rule_match(const struct wgi_rule *k, const struct wgnl_rule *want);

#endif
