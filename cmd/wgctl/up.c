// SPDX-License-Identifier: MIT
/* wgctl up: wg-quick up. Every step that changes the system is recorded, so
 * a failure midway undoes them in reverse and the one error line says what
 * failed. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <wgkit/wgnl_sync.h>

#include "quick.h"

enum undo_kind {
	U_LINK,
	U_CONFIG,
	U_ADDR,
	U_UP,
	U_ROUTE,
	U_RULE,
	U_DNS
};

struct undo {
	enum undo_kind kind;
	struct wgnl_prefix prefix; /* U_ADDR, U_ROUTE */
	uint32_t table;		   /* U_ROUTE */
	struct wgnl_rule rule;	   /* U_RULE */
};

struct up_state {
	const char *ifname;
	struct wgnl_ctx *ctx;
	struct wgnl_device *prev; /* U_CONFIG: the existing device's config */
	struct undo *undo;
	size_t n_undo, cap_undo;
};

/* Room for every step is reserved up front (see cmd_up), so recording a
 * step that was just done cannot fail and leave it behind. */
static int done(struct up_state *s, struct undo u)
{
	if (s->n_undo == s->cap_undo) {
		wgk_error("up: internal error: undo list full");
		return WGK_EXIT_SYSTEM;
	}
	s->undo[s->n_undo++] = u;
	return 0;
}

static void rollback(struct up_state *s)
{
	char buf[64];
	int r;

	while (s->n_undo) {
		const struct undo *u = &s->undo[--s->n_undo];

		switch (u->kind) {
		case U_LINK:
			r = wgnl_link_del(s->ctx, s->ifname);
			if (r < 0 && r != -ENODEV)
				wgk_warn("up: undo: cannot delete '%s': %s", s->ifname,
					 strerror(-r));
			break;
		case U_CONFIG:
			if (!s->prev)
				break;
			wgnl_config_apply_semantics(s->prev, WGNL_SEM_SETCONF);
			r = wgnl_device_set(s->ctx, s->prev);
			if (r < 0)
				wgk_warn("up: undo: cannot restore the configuration of '%s': %s",
					 s->ifname, strerror(-r));
			break;
		case U_ADDR:
			r = wgnl_addr_del(s->ctx, s->ifname, &u->prefix);
			if (r < 0 && r != -EADDRNOTAVAIL && r != -ENODEV)
				wgk_warn("up: undo: cannot remove address %s: %s",
					 wgnl_prefix_format(&u->prefix, buf, sizeof(buf)),
					 strerror(-r));
			break;
		case U_UP:
			r = wgnl_link_set_up(s->ctx, s->ifname, false);
			if (r < 0 && r != -ENODEV)
				wgk_warn("up: undo: cannot set '%s' down: %s", s->ifname,
					 strerror(-r));
			break;
		case U_ROUTE:
			r = wgnl_route_del(s->ctx, s->ifname, &u->prefix, u->table);
			if (r < 0 && r != -ESRCH && r != -ENODEV)
				wgk_warn("up: undo: cannot remove route %s: %s",
					 wgnl_prefix_format(&u->prefix, buf, sizeof(buf)),
					 strerror(-r));
			break;
		case U_RULE:
			r = wgnl_rule_del(s->ctx, &u->rule);
			if (r < 0 && r != -ENOENT)
				wgk_warn("up: undo: cannot remove a policy rule for table %u: %s",
					 u->rule.table, strerror(-r));
			break;
		case U_DNS:
			if (quick_dns_unset(s->ifname) < 0)
				wgk_warn("up: undo: resolvconf -d %s failed", s->ifname);
			break;
		}
	}
}

static int prefix_route_order(const void *a, const void *b)
{
	const struct wgnl_prefix *pa = a, *pb = b;

	/* Most specific first, as wg-quick adds them. */
	if (pa->cidr != pb->cidr)
		return pa->cidr > pb->cidr ? -1 : 1;
	return wgnl_prefix_cmp(pa, pb);
}

/* Every peer's allowed IPs, host bits cleared, deduplicated, most specific
 * first. Returns the count or -ENOMEM. */
static ssize_t route_list(const struct wgnl_device *dev, struct wgnl_prefix **ret)
{
	size_t n = 0, out = 0;
	struct wgnl_prefix *v;

	for (size_t i = 0; i < dev->n_peers; i++)
		n += dev->peers[i].n_allowedips;
	v = calloc(n + 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	n = 0;
	for (size_t i = 0; i < dev->n_peers; i++)
		for (size_t k = 0; k < dev->peers[i].n_allowedips; k++) {
			v[n] = dev->peers[i].allowedips[k];
			v[n].flags = 0;
			wgnl_prefix_mask(&v[n]);
			n++;
		}
	qsort(v, n, sizeof(*v), prefix_route_order);
	for (size_t k = 0; k < n; k++)
		if (!out || wgnl_prefix_cmp(&v[out - 1], &v[k]))
			v[out++] = v[k];
	*ret = v;
	return (ssize_t)out;
}

/* The routes through the link in @table, listed once per table: an allowed
 * IP already routed there (the kernel's subnet route for an Address, a route
 * someone added) is left as it is and not recorded for undo. */
struct table_routes {
	uint32_t table;
	bool listed;
	struct wgnl_prefix *v;
	int n;
};

static int route_present(struct up_state *s, struct table_routes *tr, const struct wgnl_prefix *p)
{
	if (!tr->listed) {
		tr->n = wgnl_route_list(s->ctx, s->ifname, tr->table, &tr->v);
		if (tr->n < 0)
			return tr->n;
		tr->listed = true;
	}
	for (int i = 0; i < tr->n; i++)
		if (!wgnl_prefix_cmp(&tr->v[i], p))
			return 1;
	return 0;
}

static int add_routes(struct up_state *s, const struct wgnl_config *cfg, uint32_t policy_table)
{
	const struct wgnl_quick *q = &cfg->quick;
	struct wgnl_prefix *routes = NULL;
	struct table_routes tabs[2] = {
		{ .table = q->table_mode == WGNL_TABLE_ID ? q->table : 0 },
		{ .table = policy_table },
	};
	bool policy_done[2] = { false, false };
	char buf[64];
	ssize_t n;
	int r, rc = 0;

	if (q->table_mode == WGNL_TABLE_OFF)
		return 0;
	n = route_list(cfg->dev, &routes);
	if (n < 0) {
		wgk_error("up: out of memory");
		return WGK_EXIT_SYSTEM;
	}
	for (ssize_t i = 0; i < n && !rc; i++) {
		const struct wgnl_prefix *p = &routes[i];
		struct table_routes *tr = &tabs[0];
		int fam = p->family == AF_INET6;

		if (q->table_mode == WGNL_TABLE_AUTO && p->cidr == 0)
			tr = &tabs[1];
		/* 1: created (ours to undo); 0: present, left alone. */
		r = route_present(s, tr, p);
		r = r < 0 ? r : r ? 0 : wgnl_route_add(s->ctx, s->ifname, p, tr->table);
		if (r == -EEXIST) {
			char tname[16] = "main";

			/* As wg-quick: a route to the same destination through
			 * another interface is a conflict, never taken over. */
			if (tr->table)
				snprintf(tname, sizeof(tname), "%u", tr->table);
			wgk_error(
				"up: cannot add route %s via '%s': a route to it already exists in "
				"table %s through another interface (remove it, or change AllowedIPs "
				"or Table)",
				wgnl_prefix_format(p, buf, sizeof(buf)), s->ifname, tname);
			rc = WGK_EXIT_SYSTEM;
			break;
		}
		if (r < 0) {
			rc = wgctl_fail(s->ctx, r, "up: cannot add route %s via '%s'",
					wgnl_prefix_format(p, buf, sizeof(buf)), s->ifname);
			break;
		}
		if (r == 1)
			rc = done(s, (struct undo){
					     .kind = U_ROUTE, .prefix = *p, .table = tr->table });
		if (rc || q->table_mode != WGNL_TABLE_AUTO || p->cidr || policy_done[fam])
			continue;
		struct wgnl_rule rules[2];

		quick_rules(p->family, policy_table, rules);
		for (int k = 0; k < 2 && !rc; k++) {
			r = wgnl_rule_add(s->ctx, &rules[k]);
			if (r < 0) {
				rc = wgctl_fail(s->ctx, r, "up: cannot add the policy rule for %s",
						wgnl_prefix_format(p, buf, sizeof(buf)));
				break;
			}
			/* A rule that was already there stays on undo. */
			if (r == 1)
				rc = done(s, (struct undo){ .kind = U_RULE, .rule = rules[k] });
		}
		if (!rc && p->family == AF_INET)
			quick_src_valid_mark("up");
		policy_done[fam] = true;
	}
	wgnl_free(tabs[0].v);
	wgnl_free(tabs[1].v);
	free(routes);
	return rc;
}

static void up_help(void)
{
	printf("Usage: wgctl up [--userspace[=PROG]] <config file | interface>\n"
	       "Bring up an interface from a wg-quick config (<interface> means\n"
	       "/etc/wireguard/<interface>.conf): PreUp, create the link, configure it,\n"
	       "Address, MTU (default 1420), link up, routes for the peers' allowed IPs\n"
	       "(Table=off: none; Table=N: table N; default: main, and policy routing for\n"
	       "0.0.0.0/0 and ::/0), DNS via resolvconf, PostUp. A failure undoes the steps\n"
	       "done. An interface that exists is refused (use sync), except a userspace\n"
	       "device never configured. Without WireGuard in the kernel, or with\n"
	       "--userspace, `PROG <interface>` makes the device (PROG: the option's, else\n"
	       "$WG_QUICK_USERSPACE_IMPLEMENTATION, else wireguard-go).\n");
}

/* A userspace device (UAPI socket) without a private key or peers. */
static bool fresh_userspace(struct wgnl_ctx *ctx, const char *ifname)
{
	struct wgnl_device *dev = NULL;
	bool fresh;

	if (wgnl_backend_detect(ctx, ifname) != WGNL_BACKEND_UAPI ||
	    wgnl_device_get(ctx, ifname, &dev) < 0)
		return false;
	fresh = !dev->n_peers &&
		(!(dev->flags & WGNL_DEV_HAS_PRIVATE_KEY) || wgnl_key_is_zero(dev->private_key));
	wgnl_device_free(dev);
	return fresh;
}

static int warn_permissions(const char *path)
{
	struct stat st;

	if (stat(path, &st) == 0 && (st.st_mode & (S_IRWXG | S_IRWXO)))
		wgk_warn("'%s' is accessible by group or others", wgk_qs(path));
	return 0;
}

int cmd_up(int argc, char **argv)
{
	struct up_state s = { 0 };
	struct wgnl_config *cfg = NULL;
	struct quick_target t;
	struct wgnl_link link;
	const char *arg = NULL;
	bool userspace = false, existing = false;
	const char *userspace_prog = NULL;
	uint32_t policy_table = 0;
	struct wgnl_prefix *had = NULL;
	int n_had = 0;
	char buf[64];
	int rc, r;

	if (wgctl_wants_help(argc, argv)) {
		up_help();
		return WGK_EXIT_OK;
	}
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--userspace")) {
			userspace = true;
		} else if (!strncmp(argv[i], "--userspace=", 12)) {
			userspace = true;
			userspace_prog = argv[i] + 12;
			if (!*userspace_prog)
				return wgctl_usage("up", "--userspace= needs a program");
		} else if (!arg) {
			arg = argv[i];
		} else {
			return wgctl_usage("up", "unexpected argument '%s'", wgk_q(argv[i]));
		}
	}
	if (!arg)
		return wgctl_usage("up", "expected a config file or an interface name");
	if (wgctl_no_json("up"))
		return WGK_EXIT_USAGE;
	rc = quick_target("up", arg, &t);
	if (rc)
		return rc;
	/* Everything from the file is checked before the first change. */
	rc = wgctl_load_conf(t.path, WGNL_CONFIG_QUICK | WGNL_CONFIG_RESOLVE, &cfg);
	if (rc)
		return rc;
	warn_permissions(t.path);
	snprintf(cfg->dev->name, sizeof(cfg->dev->name), "%s", t.ifname);
	wgnl_config_apply_semantics(cfg->dev, WGNL_SEM_SETCONF);
	if (cfg->quick.table_mode == WGNL_TABLE_AUTO &&
	    (quick_has_default(cfg->dev, AF_INET) || quick_has_default(cfg->dev, AF_INET6))) {
		/* The tunnel's own packets carry this mark and skip table X. */
		policy_table = cfg->dev->fwmark	     ? cfg->dev->fwmark :
			       cfg->dev->listen_port ? cfg->dev->listen_port :
						       QUICK_DEFAULT_TABLE;
		cfg->dev->fwmark = policy_table;
	}
	s.ifname = t.ifname;
	/* link, config, up, DNS, 2 rules per family, addresses, one route per
	 * allowed IP at most. */
	s.cap_undo = 8 + cfg->quick.n_addresses;
	for (size_t i = 0; i < cfg->dev->n_peers; i++)
		s.cap_undo += cfg->dev->peers[i].n_allowedips;
	s.undo = calloc(s.cap_undo, sizeof(*s.undo));
	if (!s.undo) {
		wgk_error("up: out of memory");
		rc = WGK_EXIT_SYSTEM;
		goto out;
	}
	rc = wgctl_lock("up", t.ifname);
	if (!rc)
		rc = wgctl_open(&s.ctx);
	if (rc)
		goto out;

	r = wgnl_link_get(s.ctx, t.ifname, &link);
	if (r == 0) {
		/* As wg-quick: an interface that exists is not brought up
		 * again (PostUp twice, a new port, lost packets). The one
		 * exception is a userspace device started by hand and never
		 * configured. */
		if (!fresh_userspace(s.ctx, t.ifname)) {
			wgk_error("up: '%s' already exists (to apply a changed file to a running "
				  "interface: wgctl sync %s FILE)",
				  t.ifname, t.ifname);
			rc = WGK_EXIT_SYSTEM;
			goto out;
		}
		existing = true;
	} else if (r != -ENODEV) {
		rc = wgctl_fail(s.ctx, r, "up: cannot look up '%s'", t.ifname);
		goto out;
	}

	rc = quick_hooks("up", t.ifname, "PreUp", cfg->quick.pre_up, cfg->quick.n_pre_up);
	if (rc)
		goto out;

	if (!existing) {
		r = userspace ? -EOPNOTSUPP : wgnl_link_add(s.ctx, t.ifname, "wireguard");
		if (r == -EOPNOTSUPP) {
			/* As wg-quick: no WireGuard in this kernel (or asked
			 * for): the userspace implementation makes the device. */
			const char *prog = quick_userspace_prog(userspace_prog);

			if (!userspace)
				wgk_note("up: this kernel has no WireGuard: starting the userspace "
					 "implementation '%s'",
					 wgk_q(prog));
			/* A socket without its link is a stale one left by an
			 * implementation that died: it would answer no one. */
			if (wgnl_backend_detect(s.ctx, t.ifname) == WGNL_BACKEND_UAPI) {
				snprintf(buf, sizeof(buf), "/var/run/wireguard/%s.sock", t.ifname);
				unlink(buf);
			}
			rc = quick_userspace_start("up", s.ctx, prog, t.ifname);
			if (rc)
				goto fail;
			r = 0;
		}
		if (r < 0) {
			rc = wgctl_fail(s.ctx, r, "up: cannot create '%s'", t.ifname);
			goto fail;
		}
		/* Deleting the link stops a userspace implementation too. */
		if ((rc = done(&s, (struct undo){ .kind = U_LINK })))
			goto fail;
	}
	if (existing) {
		/* Keep what the device held, to put it back if this or a later
		 * step fails (a failed set may have applied part of the change). */
		rc = wgctl_get_device(s.ctx, t.ifname, &s.prev);
		if (!rc)
			rc = done(&s, (struct undo){ .kind = U_CONFIG });
		if (rc)
			goto fail;
	}
	rc = wgctl_set_device(s.ctx, cfg->dev, "set the configuration");
	if (rc)
		goto fail;

	/* An address the link already had is not up's to remove on undo (and
	 * removing the last IPv4 one would flush every IPv4 route of the link). */
	if (existing) {
		n_had = wgnl_addr_list(s.ctx, t.ifname, &had);
		if (n_had < 0) {
			rc = wgctl_fail(s.ctx, n_had, "up: cannot read the addresses of '%s'",
					t.ifname);
			goto fail;
		}
	}
	for (size_t i = 0; i < cfg->quick.n_addresses; i++) {
		const struct wgnl_prefix *a = &cfg->quick.addresses[i];
		bool present = false;

		for (int k = 0; k < n_had && !present; k++)
			present = !wgnl_prefix_cmp(&had[k], a);
		r = wgnl_addr_add(s.ctx, t.ifname, a);
		if (r < 0) {
			rc = wgctl_fail(s.ctx, r, "up: cannot add address %s to '%s'",
					wgnl_prefix_format(a, buf, sizeof(buf)), t.ifname);
			goto fail;
		}
		if (!present && (rc = done(&s, (struct undo){ .kind = U_ADDR, .prefix = *a })))
			goto fail;
	}

	r = wgnl_link_set_mtu(s.ctx, t.ifname, cfg->quick.mtu ? cfg->quick.mtu : QUICK_DEFAULT_MTU);
	if (r < 0) {
		rc = wgctl_fail(s.ctx, r, "up: cannot set the MTU of '%s' to %u", t.ifname,
				cfg->quick.mtu ? cfg->quick.mtu : QUICK_DEFAULT_MTU);
		goto fail;
	}

	r = wgnl_link_set_up(s.ctx, t.ifname, true);
	if (r < 0) {
		rc = wgctl_fail(s.ctx, r, "up: cannot set '%s' up", t.ifname);
		goto fail;
	}
	if (!existing || !link.up)
		if ((rc = done(&s, (struct undo){ .kind = U_UP })))
			goto fail;

	rc = add_routes(&s, cfg, policy_table);
	if (rc)
		goto fail;

	if (cfg->quick.n_dns) {
		if (!quick_have_resolvconf()) {
			wgk_note("up: DNS= ignored: resolvconf is not installed");
		} else {
			rc = quick_dns_set("up", t.ifname, &cfg->quick);
			if (rc)
				goto fail;
			if ((rc = done(&s, (struct undo){ .kind = U_DNS })))
				goto fail;
		}
	}

	rc = quick_hooks("up", t.ifname, "PostUp", cfg->quick.post_up, cfg->quick.n_post_up);
	if (rc)
		goto fail;
	/* What `wgctl sync` compares endpoints against next time. */
	r = wgctl_sync_record(NULL, t.ifname, cfg);
	if (r < 0)
		wgk_warn("up: cannot record the applied state for 'wgctl sync': %s", strerror(-r));
	/* What `down IF` reads the file from. */
	r = quick_path_record(t.ifname, t.path);
	if (r < 0)
		wgk_warn("up: cannot record the config path for 'wgctl down %s': %s", t.ifname,
			 strerror(-r));
	goto out;

fail:
	rollback(&s);
out:
	wgnl_free(had);
	free(s.undo);
	wgnl_device_free(s.prev);
	wgnl_config_free(cfg);
	wgnl_ctx_close(s.ctx);
	return rc;
}
