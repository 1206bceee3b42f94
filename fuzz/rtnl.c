/* SPDX-License-Identifier: MIT */
/* libFuzzer harness for the rtnetlink dump parsers (links, addresses,
 * routes, rules): the input is back-to-back netlink messages as a dump
 * returns them (seeds: the recorded kernel bytes of
 * tests/unit/rtnl_recorded.h). Every message goes to every parser, each in a
 * heap block of exactly nlmsg_len bytes; each returns 1, 0 or -EBADMSG.
 * Round trips where the library builds the same message: an address, a
 * route or a rule that parses is built as RTM_NEW* and parses back equal. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <libmnl/libmnl.h>

#include "linux/rtnl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_rc(int r)
{
	if (r != 0 && r != 1 && r != -EBADMSG)
		abort();
}

static void one(const struct nlmsghdr *nlh)
{
	uint8_t out[1024] __attribute__((aligned(4)));
	struct nlmsghdr *b;
	struct wgnl_link link;
	struct wgnl_prefix pfx, pfx2;
	struct wgi_route rt, rt2;
	struct wgi_rule ru, ru2;
	uint32_t ifindex, ifindex2;
	int r;

	r = wgi_rtnl_parse_link(nlh, &link);
	check_rc(r);
	if (r == 1 && (memchr(link.name, '\0', sizeof(link.name)) == NULL ||
		       memchr(link.kind, '\0', sizeof(link.kind)) == NULL))
		abort();

	r = wgi_rtnl_parse_addr(nlh, &pfx, &ifindex);
	check_rc(r);
	if (r == 1 && (b = wgi_rtnl_msg_addr(out, sizeof(out), true, ifindex, &pfx))) {
		if (wgi_rtnl_parse_addr(b, &pfx2, &ifindex2) != 1 || ifindex2 != ifindex ||
		    wgnl_prefix_cmp(&pfx, &pfx2))
			abort();
	}

	r = wgi_rtnl_parse_route(nlh, &rt);
	check_rc(r);
	if (r == 1 && rt.oif &&
	    (b = wgi_rtnl_msg_route(out, sizeof(out), true, rt.oif, &rt.dst, rt.table))) {
		struct wgnl_prefix want = rt.dst;

		wgnl_prefix_mask(&want);
		if (wgi_rtnl_parse_route(b, &rt2) != 1 || rt2.oif != rt.oif ||
		    wgnl_prefix_cmp(&rt2.dst, &want) || (rt.table && rt2.table != rt.table))
			abort();
	}

	r = wgi_rtnl_parse_rule(nlh, &ru);
	check_rc(r);
	if (r == 1 && !ru.other && (b = wgi_rtnl_msg_rule(out, sizeof(out), true, &ru.r, 0))) {
		if (wgi_rtnl_parse_rule(b, &ru2) != 1 || ru2.other ||
		    !wgi_rtnl_rule_match(&ru2, &ru.r))
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *buf = malloc(size ? size : 1);
	const struct nlmsghdr *m = (const struct nlmsghdr *)buf;
	int left = (int)size;

	if (!buf)
		abort();
	memcpy(buf, data, size);
	/* mnl_nlmsg_ok() compares nlmsg_len as an int: a length above
	 * INT_MAX passes it (the kernel never sends one). */
	for (; mnl_nlmsg_ok(m, left) && m->nlmsg_len <= (uint32_t)left;
	     m = mnl_nlmsg_next(m, &left)) {
		struct nlmsghdr *c = malloc(m->nlmsg_len);

		if (!c)
			abort();
		memcpy(c, m, m->nlmsg_len);
		one(c);
		free(c);
	}
	free(buf);
	return 0;
}
