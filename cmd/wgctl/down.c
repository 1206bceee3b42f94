// SPDX-License-Identifier: MIT
/* wgctl down: wg-quick down through wgnl_quick_down() (SaveConfig, PreDown,
 * policy rules, the link, DNS, PostDown; teardown goes on after a failed
 * step). Here: the arguments and which file; the lock, the callbacks, the
 * lines printed and forgetting what up recorded are quick_run_down()'s
 * (cmd/common/quickrun.c, shared with wghealth). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "quick.h"
#include "wgctl.h"

static void down_help(void)
{
	printf("Usage: wgctl down <config file | interface>\n"
	       "Tear down an interface brought up with `wgctl up` (or wg-quick):\n"
	       "SaveConfig, PreDown, policy rules, the link, DNS, PostDown. <interface>\n"
	       "means the file up used for it, else /etc/wireguard/<interface>.conf.\n"
	       "An interface that does not exist: nothing changed, exit 0.\n");
}

/* The target of `down ARG` (exit code; -1 after --help). */
static int down_parse(int argc, char **argv, struct quick_target *t)
{
	static const struct option opts[] = { { NULL, 0, NULL, 0 } };

	if (wgctl_wants_help(argc, argv)) {
		down_help();
		return -1;
	}
	optind = 1;
	opterr = 0;
	if (getopt_long(argc, argv, "", opts, NULL) != -1)
		return wgctl_usage("down", "unknown option '%s'", wgk_q(argv[optind - 1]));
	if (argc - optind != 1)
		return wgctl_usage("down", "expected a config file or an interface name");
	if (wgctl_no_json("down"))
		return WGK_EXIT_USAGE;
	return quick_down_target("down", argv[optind], t);
}

int cmd_down(int argc, char **argv)
{
	struct quick_target t;
	int rc;

	rc = down_parse(argc, argv, &t);
	if (rc)
		return rc < 0 ? WGK_EXIT_OK : rc;
	return quick_run_down(&t, wgctl_opt.wait, stdout);
}
