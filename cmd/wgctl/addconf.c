// SPDX-License-Identifier: MIT
/* wgctl addconf: add a file's configuration to an interface (wg addconf
 * semantics: only the device fields the file sets change; the file's peers
 * are added or updated, each one's allowed IPs replaced by the file's). */
#include <stdio.h>

#include "wgctl.h"

int cmd_addconf(int argc, char **argv)
{
	struct wgnl_config *cfg;
	struct wgnl_ctx *ctx;
	char what[300];
	int rc;

	if (wgctl_wants_help(argc, argv)) {
		printf("Usage: wgctl addconf [--wait SECONDS] <interface> <config file>\n"
		       "Apply the file on top of the running configuration: device fields it\n"
		       "sets, peers it lists (their allowed IPs replaced); other peers stay.\n");
		return WGK_EXIT_OK;
	}
	if (wgctl_no_options("addconf", false, &argc, &argv))
		return WGK_EXIT_USAGE;
	rc = wgctl_conf_cmd_load("addconf", argc, argv, &ctx, &cfg);
	if (rc)
		return rc;
	cfg->dev->flags &= ~(uint32_t)WGNL_DEV_REPLACE_PEERS;
	for (size_t i = 0; i < cfg->dev->n_peers; i++)
		cfg->dev->peers[i].flags |= WGNL_PEER_REPLACE_ALLOWEDIPS;
	snprintf(what, sizeof(what), "add the configuration from '%s'", wgk_qs(argv[2]));
	rc = wgctl_set_device(ctx, cfg->dev, what);
	wgnl_config_free(cfg);
	wgnl_ctx_close(ctx);
	return rc;
}
