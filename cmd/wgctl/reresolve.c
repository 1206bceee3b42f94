// SPDX-License-Identifier: MIT
/* wgctl reresolve: resolve the endpoint host names of an interface's config
 * again and set the endpoints that moved (reresolve-dns.sh's job, for a
 * timer). The work is wgnl_device_reresolve(), shared with wghealth. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "quick.h"
#include "wgctl.h"

/* reresolve-dns.sh's threshold: a handshake younger than this proves the
 * endpoint works (REKEY_AFTER_TIME + REKEY_TIMEOUT + slack). */
#define RERESOLVE_STALE_SECS 135

int cmd_reresolve(int argc, char **argv)
{
	struct wgnl_reresolve_stats st;
	struct wgnl_config *cfg = NULL;
	struct wgnl_device *cur = NULL;
	struct wgnl_ctx *ctx = NULL;
	const char *ifname = NULL, *conf = NULL;
	char path[PATH_MAX];
	enum {
		OPT_ALL = WGCTL_OPT_LONG
	};
	static const struct option opts[] = {
		{ "all", no_argument, NULL, OPT_ALL },
		{ NULL, 0, NULL, 0 },
	};
	bool all = false;
	int rc, r, c;

	if (wgctl_wants_help(argc, argv)) {
		printf("Usage: wgctl reresolve [--all] <interface> [<config file>]\n"
		       "Resolve the Endpoint host names of the config again and set the endpoints\n"
		       "of the peers whose name now points elsewhere (for a timer, as\n"
		       "reresolve-dns.sh). Peers with a handshake in the last %d s are left\n"
		       "alone unless --all. The config defaults to the file `wgctl up` used,\n"
		       "else /etc/wireguard/<interface>.conf.\n",
		       RERESOLVE_STALE_SECS);
		return WGK_EXIT_OK;
	}
	while ((c = wgctl_getopt("reresolve", false, argc, argv, "", opts)) != -1) {
		if (c != OPT_ALL)
			return WGK_EXIT_USAGE;
		all = true;
	}
	wgctl_drop_options(&argc, &argv);
	if (argc > 3)
		return wgctl_usage("reresolve", "unexpected argument '%s'", wgk_q(argv[3]));
	ifname = argc > 1 ? argv[1] : NULL;
	conf = argc > 2 ? argv[2] : NULL;
	if (!ifname)
		return wgctl_usage("reresolve", "expected an interface name");
	if (wgctl_no_json("reresolve"))
		return WGK_EXIT_USAGE;
	if (!wgctl_valid_ifname(ifname)) {
		wgk_error("reresolve: invalid interface name '%s'", wgk_q(ifname));
		return WGK_EXIT_INPUT;
	}
	if (!conf) {
		if (quick_path_recorded(ifname, path, sizeof(path)) != 1)
			snprintf(path, sizeof(path), "/etc/wireguard/%s.conf", ifname);
		conf = path;
	}
	/* Names are kept unresolved here: resolving is the command's work. */
	rc = wgctl_load_conf(conf, WGNL_CONFIG_QUICK, &cfg);
	if (rc)
		return rc;
	rc = wgctl_open(&ctx);
	if (!rc)
		rc = wgctl_get_device(ctx, ifname, &cur);
	if (rc)
		goto out;
	r = wgnl_device_reresolve(ctx, ifname, cfg->dev, cur, time(NULL),
				  all ? 0 : RERESOLVE_STALE_SECS, &st);
	if (r < 0) {
		rc = wgctl_fail(ctx, r, "reresolve: cannot set the endpoints of '%s'", ifname);
		goto out;
	}
	if (st.failed)
		wgk_warn("reresolve: %u of %u endpoint name(s) in '%s' did not resolve", st.failed,
			 st.names, wgk_q(conf));
	if (st.changed)
		printf("%s: %u endpoint(s) changed (%u name(s), %u with a recent handshake)\n",
		       ifname, st.changed, st.names, st.fresh);
	else
		printf("%s: nothing changed (%u name(s), %u with a recent handshake)\n", ifname,
		       st.names, st.fresh);
out:
	wgnl_device_free(cur);
	wgnl_config_free(cfg);
	wgnl_ctx_close(ctx);
	return rc;
}
