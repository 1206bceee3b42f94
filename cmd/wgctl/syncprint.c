// SPDX-License-Identifier: MIT
/* wgctl sync's output: the plan as JSON (--plan, --json) and for people
 * (--plan=text), the summary line, the --stats line, and the lines said
 * when the device cannot be read, the record is not used or a wg-quick step
 * fails. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "syncprint.h"

/* ------------------------------------------------------------------ JSON */

static void json_rules(struct wgk_json *j, const char *key, const struct wgnl_rule *v, size_t n)
{
	if (!n)
		return;
	wgk_json_key(j, key);
	wgk_json_array_begin(j);
	for (size_t i = 0; i < n; i++) {
		wgk_json_object_begin(j);
		wgk_json_kv_uint(j, "family", v[i].family == AF_INET6 ? 6 : 4);
		if (v[i].fwmark)
			wgk_json_kv_uint(j, "not_fwmark", v[i].fwmark);
		if (v[i].suppress_prefixlen >= 0)
			wgk_json_kv_uint(j, "suppress_prefixlength",
					 (uint64_t)v[i].suppress_prefixlen);
		wgk_json_kv_uint(j, "table", v[i].table ? v[i].table : 254);
		wgk_json_object_end(j);
	}
	wgk_json_array_end(j);
}

static void json_prefixes(struct wgk_json *j, const char *key, const struct wgnl_prefix *v,
			  size_t n, int want_remove)
{
	char buf[INET6_ADDRSTRLEN + 8];
	bool any = false;

	for (size_t i = 0; i < n; i++) {
		if (want_remove >= 0 && !!(v[i].flags & WGNL_PREFIX_REMOVE) != want_remove)
			continue;
		if (!any) {
			wgk_json_key(j, key);
			wgk_json_array_begin(j);
			any = true;
		}
		wgk_json_string(j, wgnl_prefix_format(&v[i], buf, sizeof(buf)));
	}
	if (any)
		wgk_json_array_end(j);
	else if (want_remove < 0) {
		wgk_json_key(j, key);
		wgk_json_array_begin(j);
		wgk_json_array_end(j);
	}
}

static void json_routes(struct wgk_json *j, const char *key, const struct wgnl_prefix *v,
			const uint32_t *t, size_t n)
{
	char buf[INET6_ADDRSTRLEN + 8];

	if (!n)
		return;
	wgk_json_key(j, key);
	wgk_json_array_begin(j);
	for (size_t i = 0; i < n; i++) {
		wgk_json_object_begin(j);
		wgk_json_kv_string(j, "destination", wgnl_prefix_format(&v[i], buf, sizeof(buf)));
		wgk_json_kv_uint(j, "table", t[i] ? t[i] : 254);
		wgk_json_object_end(j);
	}
	wgk_json_array_end(j);
}

static void json_peer_fields(struct wgk_json *j, const struct wgnl_peer *p, bool added)
{
	char ep[64];
	wgnl_key_b64 b64;

	wgnl_key_to_base64(b64, p->public_key);
	wgk_json_kv_string(j, "public_key", b64);
	if (p->flags & WGNL_PEER_HAS_PRESHARED_KEY)
		wgk_json_kv_string(j, "preshared_key",
				   wgnl_key_is_zero(p->preshared_key) ? "(removed)" :
				   added			      ? "(set)" :
									"(changed)");
	if (p->flags & WGNL_PEER_HAS_ENDPOINT)
		wgk_json_kv_string(j, "endpoint",
				   wgnl_endpoint_format(&p->endpoint, ep, sizeof(ep)));
	if (p->flags & WGNL_PEER_HAS_KEEPALIVE)
		wgk_json_kv_uint(j, "persistent_keepalive", p->persistent_keepalive);
}

void sync_print_plan_json(const char *ifname, const struct wgnl_plan *plan,
			  const struct wgnl_quick_plan *q, bool changed, bool applied, bool delta,
			  const struct wgnl_stats *st)
{
	const struct wgnl_device *c = plan->change;
	struct wgk_json j;
	wgnl_key_b64 b64;

	wgk_json_init(&j, stdout, isatty(STDOUT_FILENO));
	wgk_json_object_begin(&j);
	wgk_json_kv_string(&j, "interface", ifname);
	wgk_json_kv_bool(&j, "changed", changed);
	wgk_json_kv_bool(&j, "applied", applied);
	wgk_json_kv_string(&j, "allowed_ips_mode", delta ? "delta" : "replace");
	wgk_json_key(&j, "device");
	wgk_json_object_begin(&j);
	if (c->flags & WGNL_DEV_HAS_PRIVATE_KEY)
		wgk_json_kv_string(&j, "private_key",
				   wgnl_key_is_zero(c->private_key) ? "(removed)" : "(changed)");
	if (c->flags & WGNL_DEV_HAS_LISTEN_PORT)
		wgk_json_kv_uint(&j, "listen_port", c->listen_port);
	if (c->flags & WGNL_DEV_HAS_FWMARK)
		wgk_json_kv_uint(&j, "fwmark", c->fwmark);
	if (q->mtu)
		wgk_json_kv_uint(&j, "mtu", q->mtu);
	if (q->n_addr_add)
		json_prefixes(&j, "addresses_add", q->addr_add, q->n_addr_add, -1);
	if (q->n_addr_del)
		json_prefixes(&j, "addresses_remove", q->addr_del, q->n_addr_del, -1);
	json_routes(&j, "routes_add", q->route_add, q->route_add_table, q->n_route_add);
	json_routes(&j, "routes_remove", q->route_del, q->route_del_table, q->n_route_del);
	json_rules(&j, "rules_add", q->rule_add, q->n_rule_add);
	json_rules(&j, "rules_remove", q->rule_del, q->n_rule_del);
	wgk_json_object_end(&j);

	wgk_json_key(&j, "add");
	wgk_json_array_begin(&j);
	for (size_t i = 0; i < c->n_peers; i++) {
		const struct wgnl_peer *p = &c->peers[i];

		if (p->flags & (WGNL_PEER_REMOVE | WGNL_PEER_UPDATE_ONLY))
			continue;
		wgk_json_object_begin(&j);
		json_peer_fields(&j, p, true);
		json_prefixes(&j, "allowed_ips", p->allowedips, p->n_allowedips, -1);
		wgk_json_object_end(&j);
	}
	wgk_json_array_end(&j);
	wgk_json_key(&j, "remove");
	wgk_json_array_begin(&j);
	for (size_t i = 0; i < c->n_peers; i++)
		if (c->peers[i].flags & WGNL_PEER_REMOVE) {
			wgnl_key_to_base64(b64, c->peers[i].public_key);
			wgk_json_string(&j, b64);
		}
	wgk_json_array_end(&j);
	wgk_json_key(&j, "update");
	wgk_json_array_begin(&j);
	for (size_t i = 0; i < c->n_peers; i++) {
		const struct wgnl_peer *p = &c->peers[i];

		if ((p->flags & WGNL_PEER_REMOVE) || !(p->flags & WGNL_PEER_UPDATE_ONLY))
			continue;
		wgk_json_object_begin(&j);
		json_peer_fields(&j, p, false);
		if (p->flags & WGNL_PEER_REPLACE_ALLOWEDIPS) {
			json_prefixes(&j, "allowed_ips_replace", p->allowedips, p->n_allowedips,
				      -1);
		} else {
			json_prefixes(&j, "allowed_ips_add", p->allowedips, p->n_allowedips, 0);
			json_prefixes(&j, "allowed_ips_remove", p->allowedips, p->n_allowedips, 1);
		}
		wgk_json_object_end(&j);
	}
	wgk_json_array_end(&j);
	wgk_json_key(&j, "counts");
	wgk_json_object_begin(&j);
	wgk_json_kv_uint(&j, "add", plan->n_add);
	wgk_json_kv_uint(&j, "remove", plan->n_remove);
	wgk_json_kv_uint(&j, "update", plan->n_update);
	wgk_json_kv_uint(&j, "unchanged", plan->n_unchanged);
	wgk_json_object_end(&j);
	if (st) {
		wgk_json_key(&j, "stats");
		wgk_json_object_begin(&j);
		wgk_json_kv_uint(&j, "set_msgs", st->set_msgs);
		wgk_json_kv_uint(&j, "get_msgs", st->get_msgs);
		wgk_json_kv_uint(&j, "rtnl_msgs", st->rtnl_msgs);
		wgk_json_kv_uint(&j, "recv_msgs", st->recv_msgs);
		/* --plan and --json always take the full path. */
		wgk_json_kv_string(&j, "path", "full");
		wgk_json_object_end(&j);
	}
	wgk_json_object_end(&j);
	wgk_json_finish(&j);
}

/* --plan=text: the same plan for people. Keys are public keys; secrets
 * show only as "(changed)". */
static void text_prefixes(const char *what, const struct wgnl_prefix *v, size_t n, int want_remove,
			  const char *sign)
{
	char buf[INET6_ADDRSTRLEN + 8];
	bool any = false;

	for (size_t i = 0; i < n; i++) {
		if (want_remove >= 0 && !!(v[i].flags & WGNL_PREFIX_REMOVE) != want_remove)
			continue;
		printf("%s%s%s", any ? ", " : what, sign,
		       wgnl_prefix_format(&v[i], buf, sizeof(buf)));
		any = true;
	}
}

static void text_peer(const struct wgnl_peer *p, char mark, bool added)
{
	char ep[64];
	wgnl_key_b64 b64;

	wgnl_key_to_base64(b64, p->public_key);
	printf("  %c peer %s", mark, b64);
	if (mark == '-') {
		putchar('\n');
		return;
	}
	if (!added && (p->flags & WGNL_PEER_REPLACE_ALLOWEDIPS))
		text_prefixes("; allowed IPs now ", p->allowedips, p->n_allowedips, -1, "");
	else if (added)
		text_prefixes("; allowed IPs ", p->allowedips, p->n_allowedips, -1, "");
	else {
		text_prefixes("; allowed IPs ", p->allowedips, p->n_allowedips, 0, "+");
		text_prefixes("; allowed IPs ", p->allowedips, p->n_allowedips, 1, "-");
	}
	if (p->flags & WGNL_PEER_HAS_ENDPOINT)
		printf("; endpoint %s", wgnl_endpoint_format(&p->endpoint, ep, sizeof(ep)));
	if (p->flags & WGNL_PEER_HAS_KEEPALIVE)
		printf("; keepalive %u", p->persistent_keepalive);
	if (p->flags & WGNL_PEER_HAS_PRESHARED_KEY)
		printf("; preshared key %s", wgnl_key_is_zero(p->preshared_key) ? "removed" :
					     added				? "set" :
										  "changed");
	putchar('\n');
}

static void text_routes(const char *what, const struct wgnl_prefix *v, const uint32_t *t, size_t n)
{
	char buf[INET6_ADDRSTRLEN + 8];

	for (size_t i = 0; i < n; i++)
		printf("  %s %s table %u\n", what, wgnl_prefix_format(&v[i], buf, sizeof(buf)),
		       t[i] ? t[i] : 254);
}

static void text_rules(char sign, const struct wgnl_rule *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		printf("  %c rule ipv%d", sign, v[i].family == AF_INET6 ? 6 : 4);
		if (v[i].fwmark)
			printf(" not fwmark 0x%x", v[i].fwmark);
		if (v[i].suppress_prefixlen >= 0)
			printf(" suppress_prefixlength %d", v[i].suppress_prefixlen);
		printf(" table %u\n", v[i].table ? v[i].table : 254);
	}
}

void sync_print_plan_text(const char *ifname, const struct wgnl_plan *plan,
			  const struct wgnl_quick_plan *q)
{
	const struct wgnl_device *c = plan->change;
	char buf[INET6_ADDRSTRLEN + 8];

	printf("%s: plan: %zu to add, %zu to remove, %zu to update, %zu unchanged%s\n", ifname,
	       plan->n_add, plan->n_remove, plan->n_update, plan->n_unchanged,
	       wgnl_plan_is_empty(plan) && wgnl_quick_plan_is_empty(q) ? " (nothing to do)" : "");
	if (c->flags & WGNL_DEV_HAS_PRIVATE_KEY)
		printf("  ~ private key %s\n",
		       wgnl_key_is_zero(c->private_key) ? "removed" : "changed");
	if (c->flags & WGNL_DEV_HAS_LISTEN_PORT)
		printf("  ~ listen port %u\n", c->listen_port);
	if (c->flags & WGNL_DEV_HAS_FWMARK)
		printf("  ~ fwmark 0x%x\n", c->fwmark);
	if (q->mtu)
		printf("  ~ mtu %u\n", q->mtu);
	for (size_t i = 0; i < q->n_addr_add; i++)
		printf("  + address %s\n", wgnl_prefix_format(&q->addr_add[i], buf, sizeof(buf)));
	for (size_t i = 0; i < q->n_addr_del; i++)
		printf("  - address %s\n", wgnl_prefix_format(&q->addr_del[i], buf, sizeof(buf)));
	text_routes("+ route", q->route_add, q->route_add_table, q->n_route_add);
	text_routes("- route", q->route_del, q->route_del_table, q->n_route_del);
	text_rules('+', q->rule_add, q->n_rule_add);
	text_rules('-', q->rule_del, q->n_rule_del);
	for (size_t i = 0; i < c->n_peers; i++) {
		const struct wgnl_peer *p = &c->peers[i];

		if (p->flags & WGNL_PEER_REMOVE)
			text_peer(p, '-', false);
		else if (p->flags & WGNL_PEER_UPDATE_ONLY)
			text_peer(p, '~', false);
		else
			text_peer(p, '+', true);
	}
}

/* @path: which way the sync went: "fast" (unchanged file, unchanged device:
 * nothing parsed), "incremental" (only the changed [Peer] sections parsed)
 * or "full". */
void sync_print_stats(const struct wgnl_stats *st, const char *path)
{
	fprintf(stderr,
		"wgctl: sync: stats: set_msgs=%llu get_msgs=%llu rtnl_msgs=%llu "
		"recv_msgs=%llu path=%s\n",
		(unsigned long long)st->set_msgs, (unsigned long long)st->get_msgs,
		(unsigned long long)st->rtnl_msgs, (unsigned long long)st->recv_msgs, path);
}

void sync_print_summary(const char *ifname, const struct wgnl_plan *plan,
			const struct wgnl_quick_plan *q)
{
	const struct wgnl_device *c = plan->change;

	if (wgctl_opt.quiet)
		return;
	printf("%s: %zu added, %zu removed, %zu updated, %zu unchanged", ifname, plan->n_add,
	       plan->n_remove, plan->n_update, plan->n_unchanged);
	/* Say which device fields, and how many addresses and routes. */
	if (plan->device_changed && c)
		printf("; device:%s%s%s",
		       (c->flags & WGNL_DEV_HAS_PRIVATE_KEY) ? " private key" : "",
		       (c->flags & WGNL_DEV_HAS_LISTEN_PORT) ? " listen port" : "",
		       (c->flags & WGNL_DEV_HAS_FWMARK) ? " fwmark" : "");
	if (q->mtu)
		printf("; MTU %u", q->mtu);
	if (q->n_addr_add || q->n_addr_del)
		printf("; addresses +%zu -%zu", q->n_addr_add, q->n_addr_del);
	if (q->n_route_add || q->n_route_del)
		printf("; routes +%zu -%zu", q->n_route_add, q->n_route_del);
	putchar('\n');
}

/* --------------------------------------------------------------- errors */

/* As wgctl_get_device() reports a device that cannot be read (exit code). */
int sync_read_fail(struct wgnl_ctx *ctx, const char *ifname, int r)
{
	struct wgnl_link link;

	if (r == -ENODEV || r == -ENOENT || r == -EPROTONOSUPPORT || r == -ENXIO) {
		if (wgnl_link_get(ctx, ifname, &link) == -ENODEV)
			wgk_error("cannot read '%s': No such device", wgk_q(ifname));
		else
			wgk_error("cannot read '%s': not a WireGuard interface", wgk_q(ifname));
		return WGK_EXIT_NOTFOUND;
	}
	return wgctl_fail(ctx, r, "cannot read '%s'", wgk_q(ifname));
}

/* Say why the record at @path was not used (@r: record_err). */
void sync_record_warn(const char *path, int r)
{
	if (r == -EBADMSG)
		wgk_warn("sync: ignoring the unreadable record '%s'", wgk_q(path));
	else if (r < 0)
		wgk_warn("sync: cannot read the record '%s': %s (endpoints are compared with the "
			 "running ones)",
			 wgk_q(path), strerror(-r));
}

/* ------------------------------------------------------------- wg-quick */

static int quick_fail_line(struct wgnl_ctx *ctx, const struct wgnl_quick_event *ev)
{
	const char *ifname = ev->ifname;
	char buf[64];
	int r = ev->err;

	wgnl_prefix_format(&ev->prefix, buf, sizeof(buf));
	switch (ev->step) {
	case WGNL_QUICK_LOOKUP:
		return wgctl_fail(ctx, r, "sync: cannot read link '%s'", ifname);
	case WGNL_QUICK_ADDR_LIST:
		return wgctl_fail(ctx, r, "sync: cannot read the addresses of '%s'", ifname);
	case WGNL_QUICK_POLICY_LIST:
		return wgctl_fail(ctx, r, "sync: cannot read the routes of '%s' in table %u",
				  ifname, ev->table);
	case WGNL_QUICK_ROUTE_LIST:
		return wgctl_fail(ctx, r, "sync: cannot read the routes of '%s'", ifname);
	case WGNL_QUICK_RULE_LIST:
		return wgctl_fail(ctx, r, "sync: cannot read the policy rules");
	case WGNL_QUICK_MTU:
		return wgctl_fail(ctx, r, "sync: cannot set the MTU of '%s' to %u", ifname,
				  ev->mtu);
	case WGNL_QUICK_ADDR_DEL:
		return wgctl_fail(ctx, r, "sync: cannot remove address %s from '%s'", buf, ifname);
	case WGNL_QUICK_ADDR_ADD:
		return wgctl_fail(ctx, r, "sync: cannot add address %s to '%s'", buf, ifname);
	case WGNL_QUICK_ROUTE_ADD:
		return wgctl_fail(ctx, r, "sync: cannot add route %s via '%s'", buf, ifname);
	case WGNL_QUICK_ROUTE_DEL:
		return wgctl_fail(ctx, r, "sync: cannot remove route %s via '%s'", buf, ifname);
	case WGNL_QUICK_RULE_ADD:
		return wgctl_fail(ctx, r, "sync: cannot add a policy rule for table %u",
				  ev->rule.table ? ev->rule.table : 254);
	case WGNL_QUICK_RULE_DEL:
		return wgctl_fail(ctx, r, "sync: cannot remove a policy rule for table %u",
				  ev->rule.table ? ev->rule.table : 254);
	default:
		if (r == -ENOMEM)
			wgk_error("sync: out of memory");
		else
			wgk_error("sync: '%s': %s", ifname, strerror(-r));
		return WGK_EXIT_SYSTEM;
	}
}

void sync_quick_event(void *arg, const struct wgnl_quick_event *ev)
{
	struct sync_quick_events *qs = arg;

	if (ev->kind == WGNL_QUICK_EV_FAIL)
		qs->rc = quick_fail_line(qs->ctx, ev);
	else if (ev->kind == WGNL_QUICK_EV_WARN && ev->step == WGNL_QUICK_SRC_VALID_MARK)
		wgk_warn("sync: cannot set net.ipv4.conf.all.src_valid_mark=1");
}

int sync_quick_rc(const struct sync_quick_events *qs)
{
	return qs->rc ? qs->rc : WGK_EXIT_SYSTEM;
}
