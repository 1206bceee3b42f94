// SPDX-License-Identifier: MIT
/* LD_PRELOAD shim for bench/sync_guest.sh: counts the netlink messages a
 * process sends (send, sendto, sendmsg on AF_NETLINK sockets), and among
 * them generic netlink WG_CMD_SET_DEVICE requests, so wgctl and wg are
 * measured the same way. At exit appends "sent=N set=M" to $NLCOUNT_OUT. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <linux/genetlink.h>
#include <linux/netlink.h>

static unsigned long n_sent, n_set;

/* -1: not netlink, else the netlink protocol (NETLINK_ROUTE, NETLINK_GENERIC). */
static int netlink_proto(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int proto = -1;

	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0 || ss.ss_family != AF_NETLINK)
		return -1;
	len = sizeof(proto);
	if (getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &proto, &len) < 0)
		return -1;
	return proto;
}

static void count(const void *buf, size_t len, int proto)
{
	const char *p = buf;

	while (len >= sizeof(struct nlmsghdr)) {
		struct nlmsghdr h;
		struct genlmsghdr g;

		memcpy(&h, p, sizeof(h));
		if (h.nlmsg_len < sizeof(h) || h.nlmsg_len > len)
			break;
		n_sent++;
		/* Dynamic generic netlink families start above GENL_ID_CTRL;
		 * the only one these tools use is wireguard (set = cmd 1). */
		if (proto == NETLINK_GENERIC && h.nlmsg_type > GENL_ID_CTRL &&
		    h.nlmsg_len >= sizeof(h) + sizeof(g)) {
			memcpy(&g, p + NLMSG_HDRLEN, sizeof(g));
			if (g.cmd == 1 && !(h.nlmsg_flags & NLM_F_DUMP))
				n_set++;
		}
		if (NLMSG_ALIGN(h.nlmsg_len) >= len)
			break;
		len -= NLMSG_ALIGN(h.nlmsg_len);
		p += NLMSG_ALIGN(h.nlmsg_len);
	}
}

ssize_t sendto(int fd, const void *buf, size_t len, int flags, const struct sockaddr *a,
	       socklen_t alen)
{
	static ssize_t (*real)(int, const void *, size_t, int, const struct sockaddr *, socklen_t);

	if (!real)
		real = (ssize_t(*)(int, const void *, size_t, int, const struct sockaddr *,
				   socklen_t))dlsym(RTLD_NEXT, "sendto");
	int proto = netlink_proto(fd);

	if (proto >= 0)
		count(buf, len, proto);
	return real(fd, buf, len, flags, a, alen);
}

ssize_t send(int fd, const void *buf, size_t len, int flags)
{
	return sendto(fd, buf, len, flags, NULL, 0);
}

ssize_t sendmsg(int fd, const struct msghdr *m, int flags)
{
	static ssize_t (*real)(int, const struct msghdr *, int);

	if (!real)
		real = (ssize_t(*)(int, const struct msghdr *, int))dlsym(RTLD_NEXT, "sendmsg");
	int proto = netlink_proto(fd);

	if (proto >= 0)
		for (size_t i = 0; i < m->msg_iovlen; i++)
			count(m->msg_iov[i].iov_base, m->msg_iov[i].iov_len, proto);
	return real(fd, m, flags);
}

__attribute__((destructor)) static void report(void)
{
	const char *out = getenv("NLCOUNT_OUT");
	char line[64];
	int fd, n;

	if (!out || !n_sent)
		return;
	fd = open(out, O_WRONLY | O_CREAT | O_APPEND, 0600);
	if (fd < 0)
		return;
	n = snprintf(line, sizeof(line), "sent=%lu set=%lu\n", n_sent, n_set);
	if (write(fd, line, (size_t)n) < 0) {
		/* nothing to do about it */
	}
	close(fd);
}
