// SPDX-License-Identifier: MIT
/* wgctl up: wg-quick up through wgnl_quick_up(), which records every step
 * that changes the system and undoes them in reverse when one fails. Here:
 * the arguments; the config file, the lock, the callbacks that run hooks,
 * resolvconf and the userspace implementation, and the lines printed are
 * quick_run_up()'s (cmd/common/quickrun.c, shared with wghealth). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <wgkit/wgnl_sync.h>

#include "quick.h"
#include "wgctl.h"

struct up_args {
	const char *arg; /* config file or interface */
	bool userspace;
	const char *userspace_prog; /* --userspace=PROG */
};

static void up_help(void)
{
	printf("Usage: wgctl up [--userspace[=PROG]] <config file | interface>\n"
	       "Bring up an interface from a wg-quick config (<interface> means\n"
	       "/etc/wireguard/<interface>.conf): PreUp, create the link, configure it,\n"
	       "Address, MTU (default 1420), link up, routes for the peers' allowed IPs\n"
	       "(Table=off: none; Table=N: table N; default: main, and policy routing for\n"
	       "0.0.0.0/0 and ::/0), DNS via resolvconf, PostUp. A failure undoes the steps\n"
	       "done. An interface that exists is refused (use sync), except a userspace\n"
	       "device never configured. Without WireGuard in the kernel, or with\n"
	       "--userspace, `PROG <interface>` makes the device (PROG: the option's, else\n"
	       "$WG_QUICK_USERSPACE_IMPLEMENTATION, else wireguard-go).\n");
}

/* Exit code; -1 after --help. */
static int up_parse(int argc, char **argv, struct up_args *a)
{
	static const struct option opts[] = {
		{ "userspace", optional_argument, NULL, 'u' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	if (wgctl_wants_help(argc, argv)) {
		up_help();
		return -1;
	}
	memset(a, 0, sizeof(*a));
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c != 'u')
			return wgctl_usage("up", "unknown option '%s'", wgk_q(argv[optind - 1]));
		a->userspace = true;
		a->userspace_prog = optarg;
		if (optarg && !*optarg)
			return wgctl_usage("up", "--userspace= needs a program");
	}
	if (optind < argc)
		a->arg = argv[optind++];
	if (optind < argc)
		return wgctl_usage("up", "unexpected argument '%s'", wgk_q(argv[optind]));
	if (!a->arg)
		return wgctl_usage("up", "expected a config file or an interface name");
	if (wgctl_no_json("up"))
		return WGK_EXIT_USAGE;
	return 0;
}

int cmd_up(int argc, char **argv)
{
	struct quick_target t;
	struct up_args a;
	int rc;

	rc = up_parse(argc, argv, &a);
	if (rc)
		return rc < 0 ? WGK_EXIT_OK : rc;
	rc = quick_target("up", a.arg, &t);
	if (rc)
		return rc;
	/* Windows: the tunnel lives with this process (cmd/common/quickhold.c). */
	quick_hold_tunnel = true;
	return quick_run_up(&t, a.userspace, a.userspace_prog, wgctl_opt.wait);
}
