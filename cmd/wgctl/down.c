// SPDX-License-Identifier: MIT
/* wgctl down: wg-quick down. SaveConfig first (while the device still
 * exists; if it fails nothing is torn down), PreDown, policy rules, the link
 * (its routes and addresses go with it), DNS, PostDown. Teardown goes on
 * after a failed step and reports it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "quick.h"

static int save_config(struct wgnl_ctx *ctx, const struct quick_target *t,
		       const struct wgnl_config *cfg, struct wgnl_device *cur)
{
	struct wgnl_prefix *addrs = NULL;
	struct wgnl_config save;
	int n, r;

	n = wgnl_addr_list(ctx, t->ifname, &addrs);
	if (n < 0)
		return wgctl_fail(ctx, n, "down: SaveConfig: cannot read the addresses of '%s'",
				  t->ifname);
	/* The running device and addresses, the rest of the file's wg-quick
	 * keys as written. Borrowed, not owned: not freed through @save. */
	save.dev = cur;
	save.quick = cfg->quick;
	save.quick.addresses = addrs;
	/* IPv6 link-local addresses come with the link, not from the file. */
	save.quick.n_addresses = 0;
	for (int i = 0; i < n; i++)
		if (!(addrs[i].family == AF_INET6 && addrs[i].ip6.s6_addr[0] == 0xfe &&
		      (addrs[i].ip6.s6_addr[1] & 0xc0) == 0x80))
			addrs[save.quick.n_addresses++] = addrs[i];
	wgctl_device_tidy(cur);
	r = quick_write_file(t->path, &save);
	wgnl_free(addrs);
	if (r < 0) {
		wgk_error("down: SaveConfig: cannot write '%s': %s", wgk_qs(t->path), strerror(-r));
		return wgk_exit_for_file_errno(r);
	}
	return 0;
}

/* wg-quick's policy rules for table = fwmark. The "not fwmark T lookup T"
 * rule names this tunnel's table, so it goes in every family where it is
 * (a family whose /0 was edited away still counts); the shared
 * "suppress_prefixlength 0" rule goes where that rule was or a /0 is. */
static int remove_rules(struct wgnl_ctx *ctx, const struct wgnl_device *cur)
{
	static const uint16_t families[] = { AF_INET, AF_INET6 };
	int rc = 0;

	if (!cur->fwmark)
		return 0;
	for (size_t f = 0; f < 2; f++) {
		bool had = quick_has_default(cur, families[f]);
		struct wgnl_rule rules[2];

		quick_rules(families[f], cur->fwmark, rules);
		for (int k = 0; k < 2; k++) {
			if (k == 1 && !had)
				break;
			/* Duplicates can exist (an earlier up that was not taken
			 * down): delete until none is left, a bounded number of
			 * times. */
			for (int tries = 0; tries < 16; tries++) {
				int r = wgnl_rule_del(ctx, &rules[k]);

				if (r == -ENOENT)
					break;
				if (r < 0) {
					rc = wgctl_fail(ctx, r,
							"down: cannot remove a policy rule for "
							"table %u",
							cur->fwmark);
					break;
				}
				had = true;
			}
		}
	}
	return rc;
}

int cmd_down(int argc, char **argv)
{
	struct wgnl_device *cur = NULL;
	struct wgnl_config *cfg = NULL;
	struct wgnl_ctx *ctx = NULL;
	struct quick_target t;
	struct wgnl_link link;
	char path[PATH_MAX];
	bool uapi;
	int rc, first = 0, r;

	if (wgctl_wants_help(argc, argv)) {
		printf("Usage: wgctl down <config file | interface>\n"
		       "Tear down an interface brought up with `wgctl up` (or wg-quick):\n"
		       "SaveConfig, PreDown, policy rules, the link, DNS, PostDown. <interface>\n"
		       "means the file up used for it, else /etc/wireguard/<interface>.conf.\n"
		       "An interface that does not exist: nothing changed, exit 0.\n");
		return WGK_EXIT_OK;
	}
	if (argc != 2)
		return wgctl_usage("down", "expected a config file or an interface name");
	if (wgctl_no_json("down"))
		return WGK_EXIT_USAGE;
	rc = quick_target("down", argv[1], &t);
	if (rc)
		return rc;
	/* A name: the file `up` used, when it recorded one. */
	if (!strchr(argv[1], '/') && strcmp(argv[1], t.path) &&
	    quick_path_recorded(t.ifname, path, sizeof(path)) == 1)
		snprintf(t.path, sizeof(t.path), "%s", path);
	rc = wgctl_lock("down", t.ifname);
	if (rc)
		return rc;
	rc = wgctl_open(&ctx);
	if (rc)
		return rc;
	/* Already down: nothing to do, whatever became of the file. */
	r = wgnl_link_get(ctx, t.ifname, &link);
	if (r == -ENODEV) {
		quick_path_forget(t.ifname);
		wgctl_sync_forget(NULL, t.ifname);
		printf("%s: not up, nothing changed\n", t.ifname);
		goto out;
	}
	if (r < 0) {
		rc = wgctl_fail(ctx, r, "down: cannot look up '%s'", t.ifname);
		goto out;
	}
	rc = wgctl_load_conf(t.path, WGNL_CONFIG_QUICK, &cfg);
	if (!rc)
		rc = wgctl_get_device(ctx, t.ifname, &cur);
	if (rc)
		goto out;

	/* A config that cannot be saved stops here: tearing down would lose
	 * the runtime changes SaveConfig is there to keep. */
	if (cfg->quick.save_config) {
		rc = save_config(ctx, &t, cfg, cur);
		if (rc)
			goto out;
	}
	/* From here on: keep going, report the first failure's exit code. */
	rc = quick_hooks("down", t.ifname, "PreDown", cfg->quick.pre_down, cfg->quick.n_pre_down);
	first = first ? first : rc;
	if (cfg->quick.table_mode == WGNL_TABLE_AUTO) {
		rc = remove_rules(ctx, cur);
		first = first ? first : rc;
	}
	uapi = wgnl_backend_detect(ctx, t.ifname) == WGNL_BACKEND_UAPI;
	r = wgnl_link_del(ctx, t.ifname);
	/* A userspace implementation exits when its link goes and removes its
	 * socket: wait (bounded) so that an `up` right after starts afresh. */
	for (int i = 0;
	     r >= 0 && uapi && i < 30 && wgnl_backend_detect(ctx, t.ifname) == WGNL_BACKEND_UAPI;
	     i++)
		usleep(100000);
	if (r < 0) {
		rc = wgctl_fail(ctx, r, "down: cannot delete '%s'", t.ifname);
		first = first ? first : rc;
	} else {
		wgctl_sync_forget(NULL, t.ifname);
		quick_path_forget(t.ifname);
	}
	if (cfg->quick.n_dns && quick_have_resolvconf() && quick_dns_unset(t.ifname) < 0) {
		wgk_error("down: resolvconf -d %s failed", t.ifname);
		first = first ? first : WGK_EXIT_SYSTEM;
	}
	rc = quick_hooks("down", t.ifname, "PostDown", cfg->quick.post_down,
			 cfg->quick.n_post_down);
	rc = first ? first : rc;
out:
	wgnl_device_free(cur);
	wgnl_config_free(cfg);
	wgnl_ctx_close(ctx);
	return rc;
}
