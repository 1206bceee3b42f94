// SPDX-License-Identifier: MIT
/* wgctl syncconf: make an interface match a file as wg syncconf does, but
 * through the sync planner: peers absent from the file are removed, new and
 * changed peers are set, unchanged peers are not sent at all. Unlike
 * `wgctl sync` it keeps no record, so an endpoint that differs from the
 * running one is set again (wg's behaviour). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <wgkit/wgnl_sync.h>

#include "wgctl.h"

int cmd_syncconf(int argc, char **argv)
{
	struct wgnl_device *cur = NULL;
	struct wgnl_plan *plan = NULL;
	struct wgnl_config *cfg;
	struct wgnl_ctx *ctx;
	struct wgctl_limits lim;
	enum {
		OPT_MAX_REMOVE = WGCTL_OPT_LONG,
		OPT_MAX_CHANGE
	};
	static const struct option opts[] = {
		{ "max-remove", required_argument, NULL, OPT_MAX_REMOVE },
		{ "max-change", required_argument, NULL, OPT_MAX_CHANGE },
		{ NULL, 0, NULL, 0 },
	};
	char what[300];
	int rc, r, c;

	if (wgctl_wants_help(argc, argv)) {
		printf("Usage: wgctl syncconf [--allow-empty] [--wait SECONDS] [--max-remove N]\n"
		       "                      [--max-change PCT] <interface> <config file>\n"
		       "Make the interface match the file: peers absent from it are removed,\n"
		       "the file's peers are set (allowed IPs replaced), device fields change\n"
		       "where they differ. Established sessions of kept peers stay up. An empty\n"
		       "file is refused unless --allow-empty. --max-remove and --max-change\n"
		       "refuse (exit 2, nothing applied) a plan removing more than N peers, or\n"
		       "changing more than PCT percent of the running ones.\n");
		return WGK_EXIT_OK;
	}
	lim.max_remove = -1;
	lim.max_change = -1;
	while ((c = wgctl_getopt("syncconf", false, argc, argv, "", opts)) != -1) {
		if (c == ':')
			return wgctl_usage("syncconf", "%s needs a number", argv[optind - 1]);
		if (c != OPT_MAX_REMOVE && c != OPT_MAX_CHANGE)
			return WGK_EXIT_USAGE;
		rc = wgctl_limit_value("syncconf", c == OPT_MAX_CHANGE, optarg, &lim);
		if (rc)
			return rc;
	}
	wgctl_drop_options(&argc, &argv);
	rc = wgctl_conf_cmd_load("syncconf", argc, argv, &ctx, &cfg);
	if (rc)
		return rc;
	rc = wgctl_get_device(ctx, argv[1], &cur);
	if (!rc) {
		/* The file as wg syncconf reads it. */
		wgnl_config_apply_semantics(cfg->dev, WGNL_SEM_SYNCCONF);
		/* No record: an endpoint that differs from the running one is
		 * set again, as wg syncconf sets every endpoint. */
		r = wgnl_sync_plan(cfg->dev, cur, NULL, 0, &plan);
		if (r < 0) {
			wgk_error("syncconf: out of memory");
			rc = WGK_EXIT_SYSTEM;
		}
	}
	if (!rc)
		rc = wgctl_limits_check("syncconf", argv[1], &lim, plan);
	if (!rc && !wgnl_plan_is_empty(plan)) {
		snprintf(what, sizeof(what), "sync the configuration from '%s'", wgk_qs(argv[2]));
		rc = wgctl_set_device(ctx, plan->change, what);
	}
	wgnl_plan_free(plan);
	wgnl_device_free(cur);
	wgnl_config_free(cfg);
	wgnl_ctx_close(ctx);
	return rc;
}
