// SPDX-License-Identifier: MIT
/* wgctl setconf: replace an interface's configuration with a file (wg
 * setconf semantics: absent device fields become zero, the file's peers
 * replace all peers). Also the loader addconf and syncconf share. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <wgkit/wgnl_sync.h>

#include "wgctl.h"

int wgctl_conf_cmd_load(const char *cmd, int argc, char **argv, struct wgnl_ctx **ctx,
			struct wgnl_config **cfg)
{
	struct wgnl_config_error e;
	size_t len = 0;
	char *text = NULL;
	int rc, r;

	*ctx = NULL;
	*cfg = NULL;
	if (argc != 3)
		return wgctl_usage(cmd, "expected an interface name and a config file");
	if (wgctl_no_json(cmd))
		return WGK_EXIT_USAGE;
	if (!wgctl_valid_ifname(argv[1]))
		return wgctl_usage(cmd, "invalid interface name '%s'", wgk_q(argv[1]));
	/* Read once, to EOF (a pipe cannot be read again), then parsed. */
	rc = wgctl_read_conf(cmd, argv[2], &text, &len);
	if (rc)
		return rc;
	memset(&e, 0, sizeof(e));
	r = wgnl_config_parse(text, len, argv[2], WGNL_CONFIG_RESOLVE, cfg, &e);
	if (r == 0)
		wgctl_warn_secret_file(cmd, argv[2], *cfg);
	if (r < 0) {
		rc = wgctl_conf_error(r, &e, argv[2]);
	} else if (strcmp(cmd, "addconf") && !wgctl_opt.allow_empty && wgctl_conf_is_empty(*cfg)) {
		/* setconf and syncconf would remove everything. */
		rc = wgctl_empty_refused(cmd, argv[2]);
	} else if (!strcmp(cmd, "syncconf") &&
		   (r = wgctl_allowedip_conflicts((*cfg)->dev, argv[2], text, len)) < 0) {
		wgk_error("%s: out of memory", cmd);
		rc = WGK_EXIT_SYSTEM;
	}
	wgnl_wipe(text, len);
	wgnl_free(text);
	if (!rc)
		rc = wgctl_lock(cmd, argv[1]);
	if (rc) {
		wgnl_config_free(*cfg);
		*cfg = NULL;
		return rc;
	}
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
		printf("Usage: wgctl setconf [--allow-empty] [--wait SECONDS] <interface> <config file>\n"
		       "Replace the interface's configuration with the file's ([Interface] and\n"
		       "[Peer] sections as wg reads them; wg-quick keys are refused). The file is\n"
		       "read to its end (a pipe or /dev/stdin works); an empty one is refused\n"
		       "unless --allow-empty.\n");
		return WGK_EXIT_OK;
	}
	if (wgctl_no_options("setconf", false, &argc, &argv))
		return WGK_EXIT_USAGE;
	rc = wgctl_conf_cmd_load("setconf", argc, argv, &ctx, &cfg);
	if (rc)
		return rc;
	wgnl_config_apply_semantics(cfg->dev, WGNL_SEM_SETCONF);
	snprintf(what, sizeof(what), "set the configuration from '%s'", wgk_qs(argv[2]));
	rc = wgctl_set_device(ctx, cfg->dev, what);
	wgnl_config_free(cfg);
	wgnl_ctx_close(ctx);
	return rc;
}
