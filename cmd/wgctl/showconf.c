// SPDX-License-Identifier: MIT
/* wgctl showconf: the running configuration in the config format. It holds
 * the private key: printing it is what this command is for. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "wgctl.h"

int cmd_showconf(int argc, char **argv)
{
	struct wgnl_device *dev = NULL;
	struct wgnl_ctx *ctx = NULL;
	struct wgnl_config cfg;
	int rc, r;

	if (wgctl_wants_help(argc, argv)) {
		printf("Usage: wgctl showconf <interface>\n"
		       "Print the interface's configuration (private key included) in the format\n"
		       "setconf reads.\n");
		return WGK_EXIT_OK;
	}
	if (wgctl_no_options("showconf", false, &argc, &argv))
		return WGK_EXIT_USAGE;
	if (argc != 2)
		return wgctl_usage("showconf", "expected one interface name");
	if (wgctl_no_json("showconf"))
		return WGK_EXIT_USAGE;
	rc = wgctl_open(&ctx);
	if (rc)
		return rc;
	rc = wgctl_get_device(ctx, argv[1], &dev);
	if (!rc) {
		wgnl_device_tidy(dev);
		memset(&cfg, 0, sizeof(cfg));
		cfg.dev = dev;
		r = wgnl_config_write(stdout, &cfg, 0);
		if (r >= 0 && fflush(stdout) != 0)
			r = -errno;
		if (r < 0) {
			wgk_error("showconf: cannot write the configuration: %s", strerror(-r));
			rc = WGK_EXIT_SYSTEM;
		}
	}
	wgnl_device_free(dev);
	wgnl_ctx_close(ctx);
	return rc;
}
