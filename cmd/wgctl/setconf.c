// SPDX-License-Identifier: MIT
/* wgctl setconf: replace an interface's configuration with a file (wg
 * setconf semantics: absent device fields become zero, the file's peers
 * replace all peers). Also the loader addconf and syncconf share. */
#include <stdio.h>
#include <string.h>

#include "wgctl.h"

int wgctl_conf_cmd_load(const char *cmd, int argc, char **argv, struct wgnl_ctx **ctx,
			struct wgnl_config **cfg)
{
	int rc;

	*ctx = NULL;
	*cfg = NULL;
	if (argc != 3)
		return wgctl_usage(cmd, "expected an interface name and a config file");
	if (wgctl_no_json(cmd))
		return WGK_EXIT_USAGE;
	if (!wgctl_valid_ifname(argv[1]))
		return wgctl_usage(cmd, "invalid interface name '%s'", wgk_q(argv[1]));
	rc = wgctl_load_conf(argv[2], WGNL_CONF_RESOLVE, cfg);
	if (rc)
		return rc;
	snprintf((*cfg)->dev->name, sizeof((*cfg)->dev->name), "%s", argv[1]);
	rc = wgctl_open(ctx);
	if (rc) {
		wgnl_config_free(*cfg);
		*cfg = NULL;
	}
	return rc;
}

int cmd_setconf(int argc, char **argv)
{
	struct wgnl_config *cfg;
	struct wgnl_ctx *ctx;
	char what[300];
	int rc;

	if (wgctl_wants_help(argc, argv)) {
		printf("Usage: wgctl setconf <interface> <config file>\n"
		       "Replace the interface's configuration with the file's ([Interface] and\n"
		       "[Peer] sections as wg reads them; wg-quick keys are refused).\n");
		return WGK_EXIT_OK;
	}
	rc = wgctl_conf_cmd_load("setconf", argc, argv, &ctx, &cfg);
	if (rc)
		return rc;
	wgctl_conf_as_setconf(cfg->dev);
	snprintf(what, sizeof(what), "set the configuration from '%s'", wgk_q(argv[2]));
	rc = wgctl_set_device(ctx, cfg->dev, what);
	wgnl_config_free(cfg);
	wgnl_close(ctx);
	return rc;
}
