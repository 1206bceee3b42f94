// SPDX-License-Identifier: MIT
/* Record an rtnetlink dump as a C array, for the unit tests' parser fixtures
 * (tests/unit/rtnl_recorded.h). Run it inside a scratch network namespace:
 *   rtnl_record link|addr|route|rule NAME > fragment.h
 * Every data message of the dump is written (not NLMSG_DONE). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libmnl/libmnl.h>
#include <linux/fib_rules.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>

int main(int argc, char **argv)
{
	static uint8_t out[1 << 20], buf[1 << 16];
	char req[256] __attribute__((aligned(4))) = { 0 };
	struct nlmsghdr *nlh;
	struct mnl_socket *nl;
	size_t used = 0, hdr;
	uint16_t type;
	uint32_t seq = (uint32_t)time(NULL), portid;
	int done = 0;

	if (argc != 3) {
		fprintf(stderr, "usage: rtnl_record link|addr|route|rule NAME\n");
		return 2;
	}
	if (!strcmp(argv[1], "link"))
		type = RTM_GETLINK, hdr = sizeof(struct ifinfomsg);
	else if (!strcmp(argv[1], "addr"))
		type = RTM_GETADDR, hdr = sizeof(struct ifaddrmsg);
	else if (!strcmp(argv[1], "route"))
		type = RTM_GETROUTE, hdr = sizeof(struct rtmsg);
	else if (!strcmp(argv[1], "rule"))
		type = RTM_GETRULE, hdr = sizeof(struct fib_rule_hdr);
	else
		return 2;
	nlh = mnl_nlmsg_put_header(req);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = seq;
	mnl_nlmsg_put_extra_header(nlh, hdr);
	if (type == RTM_GETLINK)
		mnl_attr_put_u32(nlh, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
	nl = mnl_socket_open(NETLINK_ROUTE);
	if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		perror("rtnl_record: socket");
		return 1;
	}
	portid = mnl_socket_get_portid(nl);
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		perror("rtnl_record: send");
		return 1;
	}
	while (!done) {
		ssize_t len = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		const struct nlmsghdr *m = (const struct nlmsghdr *)buf;
		int left = (int)len;

		if (len < 0) {
			perror("rtnl_record: recv");
			return 1;
		}
		for (; mnl_nlmsg_ok(m, left); m = mnl_nlmsg_next(m, &left)) {
			if (m->nlmsg_seq != seq || m->nlmsg_pid != portid)
				continue;
			if (m->nlmsg_type == NLMSG_DONE || m->nlmsg_type == NLMSG_ERROR) {
				done = 1;
				break;
			}
			if (used + m->nlmsg_len > sizeof(out))
				return 1;
			memcpy(out + used, m, m->nlmsg_len);
			used += MNL_ALIGN(m->nlmsg_len);
		}
	}
	mnl_socket_close(nl);
	printf("/* %s dump recorded by tests/tools/rtnl_record (%zu bytes) */\n", argv[1], used);
	printf("static const uint8_t %s[] __attribute__((aligned(4))) = {", argv[2]);
	for (size_t i = 0; i < used; i++)
		printf("%s0x%02x,", i % 12 ? " " : "\n\t", out[i]);
	printf("\n};\n");
	return 0;
}
