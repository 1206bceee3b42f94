// SPDX-License-Identifier: MIT
/* The wg-quick part of a sync: the addresses, MTU, routes and policy rules
 * of a running interface planned against a changed config, and applied. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "quick.h"

static int plan_fail(const struct wgnl_quick_opts *o, const char *ifname, enum wgnl_quick_step step,
		     int err, uint32_t table)
{
	return wgi_quick_emit(
		o, ifname,
		(struct wgnl_quick_event){
			.kind = WGNL_QUICK_EV_FAIL, .step = step, .err = err, .table = table });
}

static bool prefix_in(const struct wgnl_prefix *v, size_t n, const struct wgnl_prefix *p)
{
	for (size_t i = 0; i < n; i++)
		if (!wgnl_prefix_cmp(&v[i], p))
			return true;
	return false;
}

static int push_prefix(struct wgnl_prefix **v, size_t *n, const struct wgnl_prefix *p)
{
	struct wgnl_prefix *nv = realloc(*v, (*n + 1) * sizeof(**v));

	if (!nv)
		return -ENOMEM;
	*v = nv;
	nv[(*n)++] = *p;
	return 0;
}

static int push_route(struct wgnl_prefix **v, uint32_t **t, size_t *n, const struct wgnl_prefix *p,
		      uint32_t table)
{
	uint32_t *nt = realloc(*t, (*n + 1) * sizeof(**t));

	if (!nt)
		return -ENOMEM;
	*t = nt;
	nt[*n] = table;
	return push_prefix(v, n, p);
}

/* Masked, de-duplicated allowed IPs of @dev (the routes wg-quick adds). */
static int allowed_routes(const struct wgnl_device *dev, struct wgnl_prefix **ret, size_t *n)
{
	*ret = NULL;
	*n = 0;
	for (size_t i = 0; dev && i < dev->n_peers; i++)
		for (size_t k = 0; k < dev->peers[i].n_allowedips; k++) {
			struct wgnl_prefix p = dev->peers[i].allowedips[k];

			p.flags = 0;
			wgnl_prefix_mask(&p);
			if (!prefix_in(*ret, *n, &p) && push_prefix(ret, n, &p) < 0)
				return -ENOMEM;
		}
	return 0;
}

static bool link_local6(const struct wgnl_prefix *p)
{
	return p->family == AF_INET6 && p->ip6.s6_addr[0] == 0xfe &&
	       (p->ip6.s6_addr[1] & 0xc0) == 0x80;
}

/* Is @p the subnet of one of the file's addresses? Then the kernel made that
 * route for the address (`up` left it alone) and it is not ours to remove. */
static bool address_subnet(const struct wgnl_config *cfg, const struct wgnl_prefix *p)
{
	for (size_t i = 0; i < cfg->quick.n_addresses; i++) {
		struct wgnl_prefix a = cfg->quick.addresses[i];

		a.flags = 0;
		wgnl_prefix_mask(&a);
		if (!wgnl_prefix_cmp(&a, p))
			return true;
	}
	return false;
}

/* wg-quick's policy routing, per family, as down and then up of the file
 * would leave it: the running fwmark @old_pt names the table up chose (its
 * "not fwmark T lookup T" rule shows the family was policy-routed); the file
 * wants table @new_pt for a family with a /0 allowed IP. What no longer holds
 * goes (both rules, the default route in table T), what is missing comes. */
static int plan_policy(struct wgnl_ctx *ctx, const struct wgnl_config *cfg, uint32_t old_pt,
		       uint32_t new_pt, struct wgnl_quick_plan *q, const struct wgnl_quick_opts *o)
{
	static const uint16_t families[] = { AF_INET, AF_INET6 };
	const char *ifname = cfg->dev->name;
	struct wgnl_prefix *rt_old = NULL;
	int n_old = 0, r = 0;

	if (old_pt) {
		n_old = wgnl_route_list(ctx, ifname, old_pt, &rt_old);
		if (n_old < 0)
			return plan_fail(o, ifname, WGNL_QUICK_POLICY_LIST, n_old, old_pt);
	}
	for (size_t f = 0; f < 2 && r >= 0; f++) {
		uint16_t fam = families[f];
		bool want = new_pt && wgi_quick_has_default(cfg->dev, fam);
		struct wgnl_rule ro[2], rn[2];
		struct wgnl_prefix def = { .family = fam };
		bool sup_gone = false;

		if (old_pt && !(want && new_pt == old_pt)) {
			wgi_quick_rules(fam, old_pt, ro);
			r = wgnl_rule_exists(ctx, &ro[0]);
			if (r < 0)
				break;
			if (r)
				q->rule_del[q->n_rule_del++] = ro[0];
			/* The suppress rule goes too, even for a new table: it
			 * must come back after (so before, in priority) the new
			 * "not fwmark" rule, as up orders them. */
			if (r) {
				r = wgnl_rule_exists(ctx, &ro[1]);
				if (r < 0)
					break;
				if (r)
					q->rule_del[q->n_rule_del++] = ro[1];
				sup_gone = true;
			}
			/* The default route in the old table, unless Table = T
			 * routes the /0 there now. */
			if (prefix_in(rt_old, (size_t)n_old, &def) &&
			    !(cfg->quick.table_mode == WGNL_TABLE_ID &&
			      cfg->quick.table == old_pt && wgi_quick_has_default(cfg->dev, fam)) &&
			    push_route(&q->route_del, &q->route_del_table, &q->n_route_del, &def,
				       old_pt) < 0) {
				wgnl_free(rt_old);
				return plan_fail(o, ifname, WGNL_QUICK_NONE, -ENOMEM, 0);
			}
		}
		if (!want)
			continue;
		wgi_quick_rules(fam, new_pt, rn);
		for (int k = 0; k < 2 && r >= 0; k++) {
			r = k == 1 && sup_gone ? 0 : wgnl_rule_exists(ctx, &rn[k]);
			if (r == 0)
				q->rule_add[q->n_rule_add++] = rn[k];
		}
	}
	wgnl_free(rt_old);
	if (r < 0)
		return plan_fail(o, ifname, WGNL_QUICK_RULE_LIST, r, 0);
	return 0;
}

/* The addresses and MTU part of the plan. */
static int plan_link(struct wgnl_ctx *ctx, const struct wgnl_config *cfg, struct wgnl_quick_plan *q,
		     const struct wgnl_quick_opts *o)
{
	const char *ifname = cfg->dev->name;
	struct wgnl_prefix *have = NULL;
	struct wgnl_link link;
	int n_have, r;

	r = wgnl_link_get(ctx, ifname, &link);
	if (r < 0)
		return plan_fail(o, ifname, WGNL_QUICK_LOOKUP, r, 0);
	if (cfg->quick.mtu && cfg->quick.mtu != link.mtu)
		q->mtu = cfg->quick.mtu;
	n_have = wgnl_addr_list(ctx, ifname, &have);
	if (n_have < 0)
		return plan_fail(o, ifname, WGNL_QUICK_ADDR_LIST, n_have, 0);
	r = 0;
	for (size_t i = 0; i < cfg->quick.n_addresses && !r; i++)
		if (!prefix_in(have, (size_t)n_have, &cfg->quick.addresses[i]) &&
		    !prefix_in(q->addr_add, q->n_addr_add, &cfg->quick.addresses[i]))
			r = push_prefix(&q->addr_add, &q->n_addr_add, &cfg->quick.addresses[i]);
	for (int i = 0; i < n_have && !r; i++)
		if (!link_local6(&have[i]) &&
		    !prefix_in(cfg->quick.addresses, cfg->quick.n_addresses, &have[i]))
			r = push_prefix(&q->addr_del, &q->n_addr_del, &have[i]);
	wgnl_free(have);
	return r < 0 ? plan_fail(o, ifname, WGNL_QUICK_NONE, r, 0) : 0;
}

/* Routes: the file's allowed IPs are added where missing; a route is removed
 * only when the last applied state had it and the file no longer does, so
 * routes someone else added stay. */
static int plan_routes(struct wgnl_ctx *ctx, const struct wgnl_config *cfg,
		       const struct wgnl_config *last, uint32_t ptable, struct wgnl_quick_plan *q,
		       const struct wgnl_quick_opts *o)
{
	const char *ifname = cfg->dev->name;
	struct wgnl_prefix *want = NULL, *old = NULL, *rt_main = NULL, *rt_pol = NULL;
	size_t n_want = 0, n_old = 0;
	int n_main = 0, n_pol = 0, r = 0;
	uint32_t table = cfg->quick.table_mode == WGNL_TABLE_ID ? cfg->quick.table : 0;

	if (allowed_routes(cfg->dev, &want, &n_want) < 0 ||
	    (last && allowed_routes(last->dev, &old, &n_old) < 0))
		goto oom;
	n_main = wgnl_route_list(ctx, ifname, table, &rt_main);
	if (n_main < 0) {
		r = plan_fail(o, ifname, WGNL_QUICK_ROUTE_LIST, n_main, table);
		goto out;
	}
	if (ptable) {
		n_pol = wgnl_route_list(ctx, ifname, ptable, &rt_pol);
		if (n_pol < 0) {
			r = plan_fail(o, ifname, WGNL_QUICK_ROUTE_LIST, n_pol, ptable);
			goto out;
		}
	}
	for (size_t i = 0; i < n_want; i++) {
		bool pol = ptable && want[i].cidr == 0;
		const struct wgnl_prefix *v = pol ? rt_pol : rt_main;
		int nv = pol ? n_pol : n_main;

		if (!prefix_in(v, (size_t)nv, &want[i]) &&
		    push_route(&q->route_add, &q->route_add_table, &q->n_route_add, &want[i],
			       pol ? ptable : table) < 0)
			goto oom;
		if (q->n_addr_del && push_route(&q->route_all, &q->route_all_table, &q->n_route_all,
						&want[i], pol ? ptable : table) < 0)
			goto oom;
	}
	for (size_t i = 0; i < n_old; i++) {
		if (prefix_in(want, n_want, &old[i]) || address_subnet(cfg, &old[i]))
			continue;
		if (prefix_in(rt_main, (size_t)n_main, &old[i]) &&
		    push_route(&q->route_del, &q->route_del_table, &q->n_route_del, &old[i],
			       table) < 0)
			goto oom;
	}
	goto out;
oom:
	r = plan_fail(o, ifname, WGNL_QUICK_NONE, -ENOMEM, 0);
out:
	free(want);
	free(old);
	wgnl_free(rt_main);
	wgnl_free(rt_pol);
	return r;
}

int wgnl_quick_plan(struct wgnl_ctx *ctx, const struct wgnl_config *cfg,
		    const struct wgnl_config *last, uint32_t old_table,
		    const struct wgnl_quick_opts *opts, struct wgnl_quick_plan **ret)
{
	struct wgnl_quick_opts o;
	struct wgnl_quick_plan *q;
	int r;

	*ret = NULL;
	r = wgi_quick_opts(&o, opts);
	if (r < 0)
		return r;
	if (wgi_quick_bypass_mode(ctx) && cfg->quick.table_mode == WGNL_TABLE_ID) {
		wgi_set_error(ctx,
			      "Table = %u: this OS has one routing table and no policy rules "
			      "(use Table = auto or off)",
			      cfg->quick.table);
		return plan_fail(&o, cfg->dev->name, WGNL_QUICK_ROUTE_ADD, -EOPNOTSUPP,
				 cfg->quick.table);
	}
	q = calloc(1, sizeof(*q));
	if (!q)
		return plan_fail(&o, cfg->dev->name, WGNL_QUICK_NONE, -ENOMEM, 0);
	r = plan_link(ctx, cfg, q, &o);
	if (!r)
		r = plan_policy(ctx, cfg, old_table, wgnl_quick_policy_table(cfg), q, &o);
	if (!r && cfg->quick.table_mode != WGNL_TABLE_OFF)
		r = plan_routes(ctx, cfg, last, wgnl_quick_policy_table(cfg), q, &o);
	if (r < 0) {
		wgnl_quick_plan_free(q);
		return r;
	}
	*ret = q;
	return 0;
}

bool wgnl_quick_plan_is_empty(const struct wgnl_quick_plan *q)
{
	return !q || (!q->mtu && !q->n_addr_add && !q->n_addr_del && !q->n_route_add &&
		      !q->n_route_del && !q->n_rule_del && !q->n_rule_add);
}

void wgnl_quick_plan_free(struct wgnl_quick_plan *q)
{
	if (!q)
		return;
	free(q->addr_add);
	free(q->addr_del);
	free(q->route_add);
	free(q->route_del);
	free(q->route_add_table);
	free(q->route_del_table);
	free(q->route_all);
	free(q->route_all_table);
	free(q);
}

/* Runs one step of a plan: START, the call, FAIL with its error. */
struct applier {
	struct wgnl_ctx *ctx;
	const char *ifname;
	const struct wgnl_quick_opts *o;
};

static int step(const struct applier *a, struct wgnl_quick_event ev, int r)
{
	if (r >= 0)
		return 0;
	ev.kind = WGNL_QUICK_EV_FAIL;
	ev.err = r;
	return wgi_quick_emit(a->o, a->ifname, ev);
}

static void begin(const struct applier *a, struct wgnl_quick_event ev)
{
	ev.kind = WGNL_QUICK_EV_START;
	wgi_quick_emit(a->o, a->ifname, ev);
}

static int apply_rules_del(const struct applier *a, const struct wgnl_quick_plan *q)
{
	for (size_t i = 0; i < q->n_rule_del; i++) {
		struct wgnl_quick_event ev = { .step = WGNL_QUICK_RULE_DEL,
					       .rule = q->rule_del[i],
					       .table = q->rule_del[i].table };
		int r;

		begin(a, ev);
		r = wgnl_rule_del(a->ctx, &q->rule_del[i]);
		if (r < 0 && r != -ENOENT)
			return step(a, ev, r);
	}
	return 0;
}

static int apply_addresses(const struct applier *a, const struct wgnl_quick_plan *q)
{
	struct wgnl_quick_event ev = { .step = WGNL_QUICK_MTU, .mtu = q->mtu };
	int r;

	if (q->mtu) {
		begin(a, ev);
		if ((r = step(a, ev, wgnl_link_set_mtu(a->ctx, a->ifname, q->mtu))))
			return r;
	}
	for (size_t i = 0; i < q->n_addr_del; i++) {
		ev = (struct wgnl_quick_event){ .step = WGNL_QUICK_ADDR_DEL,
						.prefix = q->addr_del[i] };
		begin(a, ev);
		r = wgnl_addr_del(a->ctx, a->ifname, &q->addr_del[i]);
		if (r < 0 && r != -EADDRNOTAVAIL)
			return step(a, ev, r);
	}
	for (size_t i = 0; i < q->n_addr_add; i++) {
		ev = (struct wgnl_quick_event){ .step = WGNL_QUICK_ADDR_ADD,
						.prefix = q->addr_add[i] };
		begin(a, ev);
		if ((r = step(a, ev, wgnl_addr_add(a->ctx, a->ifname, &q->addr_add[i]))))
			return r;
	}
	return 0;
}

static int apply_routes(const struct applier *a, const struct wgnl_quick_plan *q)
{
	struct wgnl_quick_event ev;
	int r;

	/* Removing an address can take routes with it (the device's last IPv4
	 * address flushes all its IPv4 routes; a primary takes its secondaries
	 * and their routes): then every wanted route is put back (add is a
	 * replace, so present ones are untouched). */
	for (size_t i = 0; q->n_addr_del && i < q->n_route_all; i++) {
		ev = (struct wgnl_quick_event){ .step = WGNL_QUICK_ROUTE_ADD,
						.prefix = q->route_all[i],
						.table = q->route_all_table[i] };
		begin(a, ev);
		r = wgnl_route_add(a->ctx, a->ifname, &q->route_all[i], q->route_all_table[i]);
		if ((r = step(a, ev, r)))
			return r;
	}
	for (size_t i = 0; i < q->n_route_del; i++) {
		ev = (struct wgnl_quick_event){ .step = WGNL_QUICK_ROUTE_DEL,
						.prefix = q->route_del[i],
						.table = q->route_del_table[i] };
		begin(a, ev);
		r = wgnl_route_del(a->ctx, a->ifname, &q->route_del[i], q->route_del_table[i]);
		if (r < 0 && r != -ESRCH)
			return step(a, ev, r);
	}
	for (size_t i = 0; i < q->n_route_add; i++) {
		ev = (struct wgnl_quick_event){ .step = WGNL_QUICK_ROUTE_ADD,
						.prefix = q->route_add[i],
						.table = q->route_add_table[i] };
		begin(a, ev);
		r = wgnl_route_add(a->ctx, a->ifname, &q->route_add[i], q->route_add_table[i]);
		if ((r = step(a, ev, r)))
			return r;
	}
	/* After the routes of the table they send traffic to, as up. */
	for (size_t i = 0; i < q->n_rule_add; i++) {
		ev = (struct wgnl_quick_event){ .step = WGNL_QUICK_RULE_ADD,
						.rule = q->rule_add[i],
						.table = q->rule_add[i].table };
		begin(a, ev);
		if ((r = step(a, ev, wgnl_rule_add(a->ctx, &q->rule_add[i]))))
			return r;
		if (q->rule_add[i].family == AF_INET && q->rule_add[i].invert)
			wgi_quick_src_valid_mark(a->o, a->ifname);
	}
	return 0;
}

int wgnl_quick_apply(struct wgnl_ctx *ctx, const char *ifname, const struct wgnl_quick_plan *plan,
		     enum wgnl_quick_phase phase, const struct wgnl_quick_opts *opts)
{
	struct wgnl_quick_opts o;
	struct applier a = { .ctx = ctx, .ifname = ifname, .o = &o };
	int r;

	r = wgi_quick_opts(&o, opts);
	if (r < 0)
		return r;
	if (phase != WGNL_QUICK_BEFORE_DEVICE && phase != WGNL_QUICK_AFTER_DEVICE)
		return -EINVAL;
	if (!plan)
		return 0;
	if (phase == WGNL_QUICK_BEFORE_DEVICE)
		return apply_rules_del(&a, plan);
	r = apply_addresses(&a, plan);
	return r ? r : apply_routes(&a, plan);
}
