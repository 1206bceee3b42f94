// SPDX-License-Identifier: MIT
/* Drive the library's link/address/route/rule calls from tests/rtnl/run.sh,
 * one call per run. Data goes to stdout, one item a line; the outcome goes to
 * stderr as a single line
 *   rc=<ret> err=<ERRNO-NAME|OK> rtnl_msgs=<n> msg=<wgnl_ctx_last_error or ->
 * and the exit status is 0 when the call returned >= 0, else 1.
 *
 *   rtnl_drive link-add NAME KIND | link-del NAME | link-get NAME
 *   rtnl_drive link-up NAME 0|1 | link-mtu NAME MTU
 *   rtnl_drive addr-add|addr-del NAME PREFIX | addr-list NAME
 *   rtnl_drive addr-life NAME PREFIX VALID PREFERRED [EVERY_MS TIMES]
 *     (wgnl_addr_add_lifetime, repeated TIMES times EVERY_MS apart)
 *   rtnl_drive route-add|route-del NAME PREFIX TABLE | route-list NAME TABLE
 *   rtnl_drive rule-add|rule-del 4|6 [not] [fwmark N] [table N] [priority N] [suppress N]
 *   rtnl_drive list-kind KIND
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "linux/nl.h"

static void usage(void)
{
	fprintf(stderr, "rtnl_drive: bad arguments (see the comment at the top of rtnl_drive.c)\n");
	exit(2);
}

static uint32_t num(const char *s)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || *end || !*s || v > UINT32_MAX)
		usage();
	return (uint32_t)v;
}

static struct wgnl_prefix prefix(const char *s)
{
	struct wgnl_prefix p;

	if (wgnl_prefix_parse(&p, s) < 0)
		usage();
	return p;
}

static void print_prefixes(const struct wgnl_prefix *v, int n)
{
	char txt[INET6_ADDRSTRLEN + 8];

	for (int i = 0; i < n; i++)
		printf("%s\n", wgnl_prefix_format(&v[i], txt, sizeof(txt)));
}

static int rule_cmd(struct wgnl_ctx *ctx, bool add, int argc, char **argv)
{
	struct wgnl_rule r = { .suppress_prefixlen = -1 };

	if (argc < 1)
		usage();
	r.family = !strcmp(argv[0], "4") ? AF_INET : !strcmp(argv[0], "6") ? AF_INET6 : 0;
	if (!r.family)
		usage();
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "not")) {
			r.invert = true;
			continue;
		}
		if (i + 1 >= argc)
			usage();
		if (!strcmp(argv[i], "fwmark"))
			r.fwmark = num(argv[++i]);
		else if (!strcmp(argv[i], "table"))
			r.table = num(argv[++i]);
		else if (!strcmp(argv[i], "priority"))
			r.priority = num(argv[++i]);
		else if (!strcmp(argv[i], "suppress"))
			r.suppress_prefixlen = (int)num(argv[++i]);
		else
			usage();
	}
	return add ? wgnl_rule_add(ctx, &r) : wgnl_rule_del(ctx, &r);
}

static int run(struct wgnl_ctx *ctx, int argc, char **argv)
{
	const char *cmd = argv[1];
	struct wgnl_prefix *list = NULL, p;
	struct wgnl_link l;
	int r;

#define NEED(n)                  \
	do {                     \
		if (argc != (n)) \
			usage(); \
	} while (0)
	if (!strcmp(cmd, "link-add")) {
		NEED(4);
		return wgnl_link_add(ctx, argv[2], argv[3]);
	}
	if (!strcmp(cmd, "link-del")) {
		NEED(3);
		return wgnl_link_del(ctx, argv[2]);
	}
	if (!strcmp(cmd, "link-get")) {
		NEED(3);
		r = wgnl_link_get(ctx, argv[2], &l);
		if (r >= 0)
			printf("name=%s ifindex=%u mtu=%u up=%d kind=%s\n", l.name, l.ifindex,
			       l.mtu, l.up, l.kind);
		return r;
	}
	if (!strcmp(cmd, "link-up")) {
		NEED(4);
		return wgnl_link_set_up(ctx, argv[2], num(argv[3]) != 0);
	}
	if (!strcmp(cmd, "link-mtu")) {
		NEED(4);
		return wgnl_link_set_mtu(ctx, argv[2], num(argv[3]));
	}
	if (!strcmp(cmd, "addr-add") || !strcmp(cmd, "addr-del")) {
		NEED(4);
		p = prefix(argv[3]);
		return cmd[5] == 'a' ? wgnl_addr_add(ctx, argv[2], &p) :
				       wgnl_addr_del(ctx, argv[2], &p);
	}
	if (!strcmp(cmd, "addr-life")) {
		uint32_t every = 0, times = 1;

		if (argc != 6 && argc != 8)
			usage();
		p = prefix(argv[3]);
		if (argc == 8) {
			every = num(argv[6]);
			times = num(argv[7]);
		}
		r = 0;
		for (uint32_t i = 0; i < times && r >= 0; i++) {
			struct timespec ts = { every / 1000, (long)(every % 1000) * 1000000L };

			if (i)
				nanosleep(&ts, NULL);
			r = wgnl_addr_add_lifetime(ctx, argv[2], &p, num(argv[4]), num(argv[5]));
		}
		return r;
	}
	if (!strcmp(cmd, "addr-list")) {
		NEED(3);
		r = wgnl_addr_list(ctx, argv[2], &list);
		print_prefixes(list, r);
		wgnl_free(list);
		return r;
	}
	if (!strcmp(cmd, "route-add") || !strcmp(cmd, "route-del")) {
		NEED(5);
		p = prefix(argv[3]);
		return cmd[6] == 'a' ? wgnl_route_add(ctx, argv[2], &p, num(argv[4])) :
				       wgnl_route_del(ctx, argv[2], &p, num(argv[4]));
	}
	if (!strcmp(cmd, "route-list")) {
		NEED(4);
		r = wgnl_route_list(ctx, argv[2], num(argv[3]), &list);
		print_prefixes(list, r);
		wgnl_free(list);
		return r;
	}
	if (!strcmp(cmd, "rule-add") || !strcmp(cmd, "rule-del"))
		return rule_cmd(ctx, cmd[5] == 'a', argc - 2, argv + 2);
	if (!strcmp(cmd, "list-kind")) {
		char **names = NULL;
		size_t n = 0;

		NEED(3);
		r = wgi_rtnl_list_kind(ctx, argv[2], &names, &n);
		for (size_t i = 0; r >= 0 && i < n; i++)
			printf("%s\n", names[i]);
		wgnl_strv_free(names);
		return r;
	}
	usage();
	return -EINVAL;
}

int main(int argc, char **argv)
{
	struct wgnl_ctx *ctx;
	struct wgnl_stats st;
	const char *msg;
	int r;

	if (argc < 2)
		usage();
	if (wgnl_ctx_open(&ctx) < 0)
		return 1;
	r = run(ctx, argc, argv);
	wgnl_stats_get(ctx, &st);
	msg = wgnl_ctx_last_error(ctx);
	fflush(stdout);
	fprintf(stderr, "rc=%d err=%s rtnl_msgs=%llu msg=%s\n", r,
		r < 0 ? (strerrorname_np(-r) ? strerrorname_np(-r) : "?") : "OK",
		(unsigned long long)st.rtnl_msgs, msg ? msg : "-");
	wgnl_ctx_close(ctx);
	return r < 0 ? 1 : 0;
}
