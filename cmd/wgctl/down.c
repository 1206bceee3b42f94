// SPDX-License-Identifier: MIT
/* wgctl down: wg-quick down through wgnl_quick_down() (SaveConfig, PreDown,
 * policy rules, the link, DNS, PostDown; teardown goes on after a failed
 * step). Here: the arguments, which file, the lock, the callbacks, the lines
 * printed, and forgetting what up recorded. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "quick.h"

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
	char path[PATH_MAX];
	int rc;

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
	rc = quick_target("down", argv[optind], t);
	if (rc)
		return rc;
	/* A name: the file `up` used, when it recorded one. */
	if (!strchr(argv[optind], '/') && strcmp(argv[optind], t->path) &&
	    quick_path_recorded(t->ifname, path, sizeof(path)) == 1)
		snprintf(t->path, sizeof(t->path), "%s", path);
	return 0;
}

int cmd_down(int argc, char **argv)
{
	struct quick_run run = { .cmd = "down" };
	struct wgnl_config *cfg = NULL;
	struct wgnl_quick_opts opts;
	struct quick_target t;
	struct wgnl_link link;
	int rc, r;

	rc = down_parse(argc, argv, &t);
	if (rc)
		return rc < 0 ? WGK_EXIT_OK : rc;
	rc = wgctl_lock("down", t.ifname);
	if (!rc)
		rc = wgctl_open(&run.ctx);
	if (rc)
		return rc;
	/* Already down: nothing to do, whatever became of the file. */
	r = wgnl_link_get(run.ctx, t.ifname, &link);
	if (r == -ENODEV) {
		quick_path_forget(t.ifname);
		wgctl_sync_forget(NULL, t.ifname);
		printf("%s: not up, nothing changed\n", t.ifname);
		goto out;
	}
	if (r < 0) {
		rc = wgctl_fail(run.ctx, r, "down: cannot look up '%s'", t.ifname);
		goto out;
	}
	rc = wgctl_load_conf(t.path, WGNL_CONFIG_QUICK, &cfg);
	if (rc)
		goto out;
	quick_opts_init(&opts, &run);
	opts.save_path = t.path;
	r = wgnl_quick_down(run.ctx, t.ifname, cfg, &opts);
	if (r < 0)
		rc = run.rc ? run.rc : WGK_EXIT_SYSTEM;
out:
	wgnl_config_free(cfg);
	wgnl_ctx_close(run.ctx);
	return rc;
}
