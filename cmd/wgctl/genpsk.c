// SPDX-License-Identifier: MIT
/* wgctl genpsk: a new preshared key on stdout. */
#include <stdio.h>

#include "wgctl.h"

int cmd_genpsk(int argc, char **argv)
{
	if (wgctl_wants_help(argc, argv)) {
		printf("Usage: wgctl genpsk\n"
		       "Print 32 random bytes in base64, for use as a preshared key.\n");
		return WGK_EXIT_OK;
	}
	if (wgctl_no_options("genpsk", false, &argc, &argv))
		return WGK_EXIT_USAGE;
	if (argc > 1)
		return wgctl_usage("genpsk", "unexpected argument '%s'", wgk_q(argv[1]));
	if (wgctl_no_json("genpsk"))
		return WGK_EXIT_USAGE;
	return wgctl_print_secret("genpsk", true);
}
