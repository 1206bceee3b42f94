// SPDX-License-Identifier: MIT
/* wg-quick up. Every step that changes the system is recorded, so a failure
 * midway undoes them in reverse: only what this up created (a route or rule
 * that was there already, an address the link had, stays). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/compat.h"
#include "core/internal.h"
#include "wgkit/wgnl_sync.h"
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
	struct wgnl_config *cfg;
	const struct wgnl_quick_opts *o;
	struct wgnl_device *prev; /* U_CONFIG: the existing device's config */
	struct wgnl_link link;	  /* as found (existing) */
	bool existing;
	uint32_t policy_table;
	struct undo *undo;
	size_t n_undo, cap_undo;
};

static int emit(struct up_state *s, struct wgnl_quick_event ev)
{
	return wgi_quick_emit(s->o, s->ifname, ev);
}

static int fail(struct up_state *s, enum wgnl_quick_step step, int err)
{
	return emit(s, (struct wgnl_quick_event){
			       .kind = WGNL_QUICK_EV_FAIL, .step = step, .err = err });
}

static void start(struct up_state *s, enum wgnl_quick_step step)
{
	emit(s, (struct wgnl_quick_event){ .kind = WGNL_QUICK_EV_START, .step = step });
}

/* Room for every step is reserved up front (see wgnl_quick_up()), so
 * recording a step that was just done cannot fail and leave it behind. */
static void done(struct up_state *s, struct undo u)
{
	if (s->n_undo < s->cap_undo)
		s->undo[s->n_undo++] = u;
}

static void undo_fail(struct up_state *s, enum wgnl_quick_step step, int err, const struct undo *u)
{
	emit(s, (struct wgnl_quick_event){ .kind = WGNL_QUICK_EV_UNDO_FAIL,
					   .step = step,
					   .err = err,
					   .prefix = u->prefix,
					   .table = u->table,
					   .rule = u->rule });
}

static void rollback(struct up_state *s)
{
	int r;

	while (s->n_undo) {
		const struct undo *u = &s->undo[--s->n_undo];

		switch (u->kind) {
		case U_LINK:
			r = wgnl_link_del(s->ctx, s->ifname);
			if (r < 0 && r != -ENODEV)
				undo_fail(s, WGNL_QUICK_LINK_DEL, r, u);
			break;
		case U_CONFIG:
			if (!s->prev)
				break;
			wgnl_config_apply_semantics(s->prev, WGNL_SEM_SETCONF);
			r = wgnl_device_set(s->ctx, s->prev);
			if (r < 0)
				undo_fail(s, WGNL_QUICK_DEVICE_RESTORE, r, u);
			break;
		case U_ADDR:
			r = wgnl_addr_del(s->ctx, s->ifname, &u->prefix);
			if (r < 0 && r != -EADDRNOTAVAIL && r != -ENODEV)
				undo_fail(s, WGNL_QUICK_ADDR_DEL, r, u);
			break;
		case U_UP:
			r = wgnl_link_set_up(s->ctx, s->ifname, false);
			if (r < 0 && r != -ENODEV)
				undo_fail(s, WGNL_QUICK_LINK_DOWN, r, u);
			break;
		case U_ROUTE:
			r = wgnl_route_del(s->ctx, s->ifname, &u->prefix, u->table);
			if (r < 0 && r != -ESRCH && r != -ENODEV)
				undo_fail(s, WGNL_QUICK_ROUTE_DEL, r, u);
			break;
		case U_RULE:
			r = wgnl_rule_del(s->ctx, &u->rule);
			if (r < 0 && r != -ENOENT)
				undo_fail(s, WGNL_QUICK_RULE_DEL, r, u);
			break;
		case U_DNS:
			r = s->o->dns_unset ? s->o->dns_unset(s->o->arg, s->ifname) : 0;
			if (r < 0)
				undo_fail(s, WGNL_QUICK_DNS_UNSET, r, u);
			break;
		}
	}
}

static int hooks(struct up_state *s, const char *key, char **cmds, size_t n)
{
	return wgi_quick_hooks(s->o, s->ifname, key, cmds, n);
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

/* wg-quick's two rules for the /0 @p through the policy table. */
static int add_rules(struct up_state *s, const struct wgnl_prefix *p)
{
	struct wgnl_rule rules[2];
	int r;

	wgi_quick_rules(p->family, s->policy_table, rules);
	for (int k = 0; k < 2; k++) {
		struct wgnl_quick_event ev = { .kind = WGNL_QUICK_EV_START,
					       .step = WGNL_QUICK_RULE_ADD,
					       .prefix = *p,
					       .table = s->policy_table,
					       .rule = rules[k] };

		emit(s, ev);
		r = wgnl_rule_add(s->ctx, &rules[k]);
		if (r < 0) {
			ev.kind = WGNL_QUICK_EV_FAIL;
			ev.err = r;
			return emit(s, ev);
		}
		/* A rule that was already there stays on undo. */
		if (r == 1)
			done(s, (struct undo){ .kind = U_RULE, .rule = rules[k] });
	}
	if (p->family == AF_INET)
		wgi_quick_src_valid_mark(s->o, s->ifname);
	return 0;
}

static int add_routes(struct up_state *s)
{
	const struct wgnl_quick *q = &s->cfg->quick;
	struct wgnl_prefix *routes = NULL;
	struct table_routes tabs[2] = {
		{ .table = q->table_mode == WGNL_TABLE_ID ? q->table : 0 },
		{ .table = s->policy_table },
	};
	bool policy_done[2] = { false, false };
	ssize_t n;
	int r, rc = 0;

	if (q->table_mode == WGNL_TABLE_OFF)
		return 0;
	n = route_list(s->cfg->dev, &routes);
	if (n < 0)
		return fail(s, WGNL_QUICK_NONE, (int)n);
	for (ssize_t i = 0; i < n && !rc; i++) {
		const struct wgnl_prefix *p = &routes[i];
		struct table_routes *tr = &tabs[0];
		int fam = p->family == AF_INET6;
		struct wgnl_quick_event ev = { .kind = WGNL_QUICK_EV_START,
					       .step = WGNL_QUICK_ROUTE_ADD,
					       .prefix = *p };

		if (q->table_mode == WGNL_TABLE_AUTO && p->cidr == 0)
			tr = &tabs[1];
		ev.table = tr->table;
		emit(s, ev);
		/* 1: created (ours to undo); 0: present, left alone. -EEXIST:
		 * as wg-quick, a route to the same destination through another
		 * interface is a conflict, never taken over. */
		r = route_present(s, tr, p);
		r = r < 0 ? r : r ? 0 : wgnl_route_add(s->ctx, s->ifname, p, tr->table);
		if (r < 0) {
			ev.kind = WGNL_QUICK_EV_FAIL;
			ev.err = r;
			rc = emit(s, ev);
			break;
		}
		if (r == 1)
			done(s, (struct undo){ .kind = U_ROUTE, .prefix = *p, .table = tr->table });
		if (q->table_mode != WGNL_TABLE_AUTO || p->cidr || policy_done[fam])
			continue;
		rc = add_rules(s, p);
		policy_done[fam] = true;
	}
	wgnl_free(tabs[0].v);
	wgnl_free(tabs[1].v);
	free(routes);
	return rc;
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

static int lookup(struct up_state *s)
{
	int r;

	start(s, WGNL_QUICK_LOOKUP);
	r = wgnl_link_get(s->ctx, s->ifname, &s->link);
	if (r == -ENODEV)
		return 0;
	if (r < 0)
		return fail(s, WGNL_QUICK_LOOKUP, r);
	/* As wg-quick: an interface that exists is not brought up again
	 * (PostUp twice, a new port, lost packets). The one exception is a
	 * userspace device started by hand and never configured. */
	if (!fresh_userspace(s->ctx, s->ifname))
		return fail(s, WGNL_QUICK_EXISTS, -EEXIST);
	s->existing = true;
	return 0;
}

static int create_link(struct up_state *s)
{
	const struct wgnl_quick_opts *o = s->o;
	bool forced = o->flags & WGNL_QUICK_FORCE_USERSPACE;
	int r = -EOPNOTSUPP;

	if (!forced) {
		start(s, WGNL_QUICK_LINK_ADD);
		r = wgnl_link_add(s->ctx, s->ifname, "wireguard");
	}
	if (r == -EOPNOTSUPP && o->userspace_start) {
		/* As wg-quick: no WireGuard in this kernel (or asked for): the
		 * userspace implementation makes the device. The START event
		 * carries -EOPNOTSUPP when it is the kernel's lack. */
		emit(s, (struct wgnl_quick_event){ .kind = WGNL_QUICK_EV_START,
						   .step = WGNL_QUICK_USERSPACE,
						   .err = forced ? 0 : -EOPNOTSUPP });
		/* A socket without its link is a stale one left by an
		 * implementation that died: it would answer no one. */
		wgi_backend_release_stale(s->ctx, s->ifname);
		r = o->userspace_start(o->arg, s->ctx, s->ifname);
		if (r < 0) {
			emit(s, (struct wgnl_quick_event){ .kind = WGNL_QUICK_EV_FAIL,
							   .step = WGNL_QUICK_USERSPACE,
							   .err = r,
							   .by_callback = true });
			return r;
		}
	} else if (r < 0) {
		return fail(s, WGNL_QUICK_LINK_ADD, r);
	}
	/* Deleting the link stops a userspace implementation too. */
	done(s, (struct undo){ .kind = U_LINK });
	return 0;
}

static int configure(struct up_state *s)
{
	struct wgnl_prefix *had = NULL;
	int r, n_had = 0;

	if (s->existing) {
		/* Keep what the device held, to put it back if this or a later
		 * step fails (a failed set may have applied part of the change). */
		start(s, WGNL_QUICK_DEVICE_GET);
		r = wgnl_device_get(s->ctx, s->ifname, &s->prev);
		if (r < 0)
			return fail(s, WGNL_QUICK_DEVICE_GET, r);
		done(s, (struct undo){ .kind = U_CONFIG });
	}
	start(s, WGNL_QUICK_DEVICE_SET);
	r = wgnl_device_set(s->ctx, s->cfg->dev);
	if (r < 0)
		return fail(s, WGNL_QUICK_DEVICE_SET, r);

	/* An address the link already had is not up's to remove on undo (and
	 * removing the last IPv4 one would flush every IPv4 route of the link). */
	if (s->existing) {
		n_had = wgnl_addr_list(s->ctx, s->ifname, &had);
		if (n_had < 0)
			return fail(s, WGNL_QUICK_ADDR_LIST, n_had);
	}
	for (size_t i = 0; i < s->cfg->quick.n_addresses; i++) {
		const struct wgnl_prefix *a = &s->cfg->quick.addresses[i];
		struct wgnl_quick_event ev = { .kind = WGNL_QUICK_EV_START,
					       .step = WGNL_QUICK_ADDR_ADD,
					       .prefix = *a };
		bool present = false;

		for (int k = 0; k < n_had && !present; k++)
			present = !wgnl_prefix_cmp(&had[k], a);
		emit(s, ev);
		r = wgnl_addr_add(s->ctx, s->ifname, a);
		if (r < 0) {
			ev.kind = WGNL_QUICK_EV_FAIL;
			ev.err = r;
			wgnl_free(had);
			return emit(s, ev);
		}
		if (!present)
			done(s, (struct undo){ .kind = U_ADDR, .prefix = *a });
	}
	wgnl_free(had);
	return 0;
}

static int link_up(struct up_state *s)
{
	uint32_t mtu = s->cfg->quick.mtu ? s->cfg->quick.mtu : WGNL_QUICK_DEFAULT_MTU;
	struct wgnl_quick_event ev = { .kind = WGNL_QUICK_EV_START,
				       .step = WGNL_QUICK_MTU,
				       .mtu = mtu };
	int r;

	emit(s, ev);
	r = wgnl_link_set_mtu(s->ctx, s->ifname, mtu);
	if (r < 0) {
		ev.kind = WGNL_QUICK_EV_FAIL;
		ev.err = r;
		return emit(s, ev);
	}
	start(s, WGNL_QUICK_LINK_UP);
	r = wgnl_link_set_up(s->ctx, s->ifname, true);
	if (r < 0)
		return fail(s, WGNL_QUICK_LINK_UP, r);
	if (!s->existing || !s->link.up)
		done(s, (struct undo){ .kind = U_UP });
	return 0;
}

static int dns(struct up_state *s)
{
	int r;

	if (!s->cfg->quick.n_dns)
		return 0;
	if (!s->o->dns_set) {
		emit(s, (struct wgnl_quick_event){ .kind = WGNL_QUICK_EV_SKIP,
						   .step = WGNL_QUICK_DNS_SET });
		return 0;
	}
	start(s, WGNL_QUICK_DNS_SET);
	r = s->o->dns_set(s->o->arg, s->ifname, &s->cfg->quick);
	if (r < 0)
		return emit(s, (struct wgnl_quick_event){ .kind = WGNL_QUICK_EV_FAIL,
							  .step = WGNL_QUICK_DNS_SET,
							  .err = r,
							  .by_callback = true });
	done(s, (struct undo){ .kind = U_DNS });
	return 0;
}

static int up_steps(struct up_state *s)
{
	const struct wgnl_quick *q = &s->cfg->quick;
	int r;

	r = lookup(s);
	if (!r)
		r = hooks(s, "PreUp", q->pre_up, q->n_pre_up);
	if (r)
		return r;
	if (!s->existing)
		r = create_link(s);
	if (!r)
		r = configure(s);
	if (!r)
		r = link_up(s);
	if (!r)
		r = add_routes(s);
	if (!r)
		r = dns(s);
	if (!r)
		r = hooks(s, "PostUp", q->post_up, q->n_post_up);
	if (r)
		rollback(s);
	return r;
}

int wgnl_quick_up(struct wgnl_ctx *ctx, const char *ifname, struct wgnl_config *cfg,
		  const struct wgnl_quick_opts *opts)
{
	struct wgnl_quick_opts o;
	struct up_state s = { .ifname = ifname, .ctx = ctx, .cfg = cfg, .o = &o };
	struct wgnl_device *dev = cfg->dev;
	int r;

	r = wgi_quick_opts(&o, opts);
	if (r < 0)
		return r;
	if (strlen(ifname) >= sizeof(dev->name))
		return -EINVAL;
	r = wgi_quick_hooks_runnable(&o, ifname, "PreUp", cfg->quick.n_pre_up);
	if (!r)
		r = wgi_quick_hooks_runnable(&o, ifname, "PostUp", cfg->quick.n_post_up);
	if (r)
		return r;
	snprintf(dev->name, sizeof(dev->name), "%s", ifname);
	wgnl_config_apply_semantics(dev, WGNL_SEM_SETCONF);
	/* The tunnel's own packets carry this mark and skip table X. */
	s.policy_table = wgnl_quick_policy_table(cfg);
	if (s.policy_table)
		dev->fwmark = s.policy_table;
	/* link, config, up, DNS, 2 rules per family, addresses, one route per
	 * allowed IP at most. */
	s.cap_undo = 8 + cfg->quick.n_addresses;
	for (size_t i = 0; i < dev->n_peers; i++)
		s.cap_undo += dev->peers[i].n_allowedips;
	s.undo = calloc(s.cap_undo, sizeof(*s.undo));
	if (!s.undo)
		return wgi_quick_emit(&o, ifname,
				      (struct wgnl_quick_event){ .kind = WGNL_QUICK_EV_FAIL,
								 .err = -ENOMEM });
	r = up_steps(&s);
	free(s.undo);
	wgnl_device_free(s.prev);
	return r;
}
