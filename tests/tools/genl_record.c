// SPDX-License-Identifier: MIT
/* Record what a real kernel says over the wireguard generic netlink family,
 * as C source for tests/unit/genl_fixtures.c:
 *   genl_record IFNAME > genl_fixtures.c
 * Two dumps are written, every data message byte for byte (not NLMSG_DONE):
 *   genl_rec_dump    WG_CMD_GET_DEVICE of IFNAME, read with a 4 KiB buffer
 *                    so the kernel keeps its messages small and splits peers
 *                    with many allowed IPs across them;
 *   genl_rec_policy  CTRL_CMD_GETPOLICY of the wireguard family.
 * Standalone on purpose (libmnl only): the bytes must not depend on the
 * library they test. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>

#include <libmnl/libmnl.h>
#include <linux/genetlink.h>
#include <linux/wireguard.h>

static uint8_t out[1 << 20];
static uint32_t seq;

/* Send @nlh and append every data message of the reply to out; returns the
 * number of messages or -1. */
static int dump(struct mnl_socket *nl, struct nlmsghdr *nlh, size_t rcvlen, size_t *used)
{
	static uint8_t buf[1 << 16];
	uint32_t portid = mnl_socket_get_portid(nl);
	int n = 0;

	nlh->nlmsg_seq = ++seq;
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		perror("genl_record: send");
		return -1;
	}
	for (;;) {
		ssize_t len = mnl_socket_recvfrom(nl, buf, rcvlen);
		const struct nlmsghdr *m = (const struct nlmsghdr *)buf;
		int left = (int)len;

		if (len < 0) {
			perror("genl_record: recv");
			return -1;
		}
		for (; mnl_nlmsg_ok(m, left); m = mnl_nlmsg_next(m, &left)) {
			if (m->nlmsg_seq != seq || m->nlmsg_pid != portid)
				continue;
			if (m->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = mnl_nlmsg_get_payload(m);

				fprintf(stderr, "genl_record: error %d\n", e->error);
				return -1;
			}
			if (m->nlmsg_type == NLMSG_DONE)
				return n;
			if (*used + MNL_ALIGN(m->nlmsg_len) > sizeof(out))
				return -1;
			memcpy(out + *used, m, m->nlmsg_len);
			*used += MNL_ALIGN(m->nlmsg_len);
			n++;
		}
	}
}

static int family_cb(const struct nlattr *a, void *data)
{
	if (mnl_attr_get_type(a) == CTRL_ATTR_FAMILY_ID)
		*(uint16_t *)data = mnl_attr_get_u16(a);
	return MNL_CB_OK;
}

static void emit(const char *name, size_t used, int msgs)
{
	printf("const uint8_t %s[] __attribute__((aligned(4))) = {", name);
	for (size_t i = 0; i < used; i++)
		printf("%s0x%02x,", i % 12 ? " " : "\n\t", out[i]);
	printf("\n};\nconst size_t %s_len = %zu;\nconst unsigned %s_msgs = %d;\n\n", name, used,
	       name, msgs);
}

int main(int argc, char **argv)
{
	char req[256] __attribute__((aligned(4)));
	struct mnl_socket *nl;
	struct nlmsghdr *nlh;
	struct genlmsghdr *g;
	struct utsname u;
	uint16_t family = 0;
	size_t used = 0;
	int msgs;

	if (argc != 2) {
		fprintf(stderr, "usage: genl_record IFNAME\n");
		return 2;
	}
	nl = mnl_socket_open(NETLINK_GENERIC);
	if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		perror("genl_record: socket");
		return 1;
	}
	seq = (uint32_t)time(NULL);
	uname(&u);

	nlh = mnl_nlmsg_put_header(req);
	nlh->nlmsg_type = GENL_ID_CTRL;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->cmd = CTRL_CMD_GETFAMILY;
	g->version = 1;
	mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, WG_GENL_NAME);
	/* The reply is one message then the ACK; dump() stops at neither,
	 * so read it by hand. */
	nlh->nlmsg_seq = ++seq;
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return 1;
	{
		/* 4 KiB, like the dump below: the kernel sizes dump
		 * messages by the largest read buffer it has seen. */
		static uint8_t buf[4096];
		ssize_t len = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		const struct nlmsghdr *m = (const struct nlmsghdr *)buf;

		if (len < 0 || !mnl_nlmsg_ok(m, (int)len) || m->nlmsg_type != GENL_ID_CTRL) {
			fprintf(stderr, "genl_record: no wireguard family\n");
			return 1;
		}
		mnl_attr_parse(m, sizeof(*g), family_cb, &family);
	}

	printf("// SPDX-License-Identifier: MIT\n"
	       "/* Recorded from Linux %s by tests/tools/genl_record (do not edit;\n"
	       " * see tests/unit/genl_fixtures.h for what the device held). */\n"
	       "#include \"genl_fixtures.h\"\n\n"
	       "const char genl_rec_kernel[] = \"%s\";\n"
	       "const uint16_t genl_rec_family = %u;\n\n",
	       u.release, u.release, family);

	nlh = mnl_nlmsg_put_header(req);
	nlh->nlmsg_type = family;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->cmd = WG_CMD_GET_DEVICE;
	g->version = WG_GENL_VERSION;
	mnl_attr_put_strz(nlh, WGDEVICE_A_IFNAME, argv[1]);
	msgs = dump(nl, nlh, 4096, &used);
	if (msgs < 0)
		return 1;
	emit("genl_rec_dump", used, msgs);

	used = 0;
	nlh = mnl_nlmsg_put_header(req);
	nlh->nlmsg_type = GENL_ID_CTRL;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->cmd = CTRL_CMD_GETPOLICY;
	g->version = 1;
	mnl_attr_put_u16(nlh, CTRL_ATTR_FAMILY_ID, family);
	msgs = dump(nl, nlh, sizeof(out) > 65536 ? 65536 : sizeof(out), &used);
	if (msgs < 0)
		return 1;
	emit("genl_rec_policy", used, msgs);
	mnl_socket_close(nl);
	return 0;
}
