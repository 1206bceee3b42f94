// SPDX-License-Identifier: MIT
/* The network seam on Windows (struct wgi_net_ops): addresses, routes and
 * the MTU of a wireguard-nt adapter through IP Helper, always on the
 * adapter's LUID (an interface index can change when an adapter is
 * disabled and enabled again); the adapter itself (create, remove, up,
 * down) through the backend's adapter calls in windows/nt.h.
 *
 * What Windows has not: policy routing rules (the rule ops are absent, so
 * wgnl_rule_* say -EOPNOTSUPP) and routing tables other than the main one
 * (a table argument other than 0 is -EOPNOTSUPP). A full tunnel is instead
 * a default route on the adapter plus, per peer endpoint, a host route
 * through the default route that was there before (the bypass ops), so
 * that the tunnel's own packets do not loop into it.
 *
 * Win32 errors become -errno here, at the boundary. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/compat.h"
#include "core/internal.h"
#include "windows/nt.h"

/* The metric of the bypass host routes: how down (and a repair) tell the
 * routes this seam made from a host route someone else added to the same
 * address. A host route is the most specific match anyway, so the value
 * decides nothing else. */
#define WGI_BYPASS_METRIC 51820

static int invalid(struct wgnl_ctx *ctx, const char *what)
{
	wgi_set_error(ctx, "invalid %s", what);
	return -EINVAL;
}

static int win32_err(struct wgnl_ctx *ctx, DWORD e, const char *call)
{
	int r = wgi_errno_from_win32(e);

	wgi_set_error(ctx, "%s failed: Win32 error %lu", call, e);
	return r ? -r : -EIO;
}

static bool prefix_ok(const struct wgnl_prefix *p)
{
	return p && ((p->family == AF_INET && p->cidr <= 32) ||
		     (p->family == AF_INET6 && p->cidr <= 128));
}

static bool main_table(uint32_t table)
{
	return table == 0 || table == 254; /* 254: RT_TABLE_MAIN on Linux */
}

static int no_table(struct wgnl_ctx *ctx, uint32_t table)
{
	wgi_set_error(ctx,
		      "routing table %u: Windows has a single routing table (Table = auto or off)",
		      table);
	return -EOPNOTSUPP;
}

static int luid_of(struct wgnl_ctx *ctx, const char *ifname, NET_LUID *luid)
{
	uint64_t v;
	int r;

	if (!ifname || !*ifname)
		return invalid(ctx, "interface name");
	r = wgi_nt_adapter_luid(ctx, ifname, &v);
	if (r == -ENODEV && !ctx->errmsg[0])
		wgi_set_error(ctx, "no such interface '%s'", ifname);
	luid->Value = v;
	return r;
}

static void to_sockaddr(SOCKADDR_INET *s, const struct wgnl_prefix *p)
{
	memset(s, 0, sizeof(*s));
	s->si_family = p->family;
	if (p->family == AF_INET)
		s->Ipv4.sin_addr = p->ip4;
	else
		s->Ipv6.sin6_addr = p->ip6;
}

/* @s as a prefix of length @cidr. false: not an IP family. */
static bool from_sockaddr(struct wgnl_prefix *p, const SOCKADDR_INET *s, unsigned cidr)
{
	memset(p, 0, sizeof(*p));
	p->family = s->si_family;
	p->cidr = (uint8_t)cidr;
	if (s->si_family == AF_INET)
		p->ip4 = s->Ipv4.sin_addr;
	else if (s->si_family == AF_INET6)
		p->ip6 = s->Ipv6.sin6_addr;
	else
		return false;
	return prefix_ok(p);
}

/* ---------------------------------------------------------------- routes */

/* Every route of @family (AF_UNSPEC: all) into *ret. 0 or -errno. */
static int route_table(struct wgnl_ctx *ctx, ADDRESS_FAMILY family, MIB_IPFORWARD_TABLE2 **ret)
{
	DWORD e = GetIpForwardTable2(family, ret);

	if (e != NO_ERROR) {
		*ret = NULL;
		return win32_err(ctx, e, "GetIpForwardTable2");
	}
	return 0;
}

static bool row_is(const MIB_IPFORWARD_ROW2 *row, NET_LUID luid, const struct wgnl_prefix *dst)
{
	struct wgnl_prefix p;

	return row->InterfaceLuid.Value == luid.Value &&
	       from_sockaddr(&p, &row->DestinationPrefix.Prefix,
			     row->DestinationPrefix.PrefixLength) &&
	       !wgnl_prefix_cmp(&p, dst);
}

/* The documented way to a route row: InitializeIpForwardEntry (lifetimes
 * infinite, the rest illegal or zero), then what this route is. NextHop
 * unspecified (zeros of the family): on-link, as a point-to-point tunnel's
 * routes are. */
static void route_row(MIB_IPFORWARD_ROW2 *row, NET_LUID luid, const struct wgnl_prefix *dst,
		      const SOCKADDR_INET *hop, ULONG metric)
{
	InitializeIpForwardEntry(row);
	row->InterfaceLuid = luid;
	to_sockaddr(&row->DestinationPrefix.Prefix, dst);
	row->DestinationPrefix.PrefixLength = dst->cidr;
	if (hop) {
		row->NextHop = *hop;
	} else {
		memset(&row->NextHop, 0, sizeof(row->NextHop));
		row->NextHop.si_family = dst->family;
	}
	row->SitePrefixLength = 0;
	row->Metric = metric;
	row->Protocol = MIB_IPPROTO_NETMGMT;
}

/* What a route add and delete both check first: the destination, the table
 * (main only), the interface's LUID; *d the masked destination. */
static int route_target(struct wgnl_ctx *ctx, const char *ifname, const struct wgnl_prefix *dst,
			uint32_t table, NET_LUID *luid, struct wgnl_prefix *d)
{
	int r;

	wgi_clear_error(ctx);
	if (!prefix_ok(dst))
		return invalid(ctx, "route destination");
	if (!main_table(table))
		return no_table(ctx, table);
	r = luid_of(ctx, ifname, luid);
	if (r < 0)
		return r;
	*d = *dst;
	d->flags = 0;
	wgnl_prefix_mask(d);
	return 0;
}

static int iphlp_route_add(struct wgnl_ctx *ctx, const char *ifname, const struct wgnl_prefix *dst,
			   uint32_t table)
{
	MIB_IPFORWARD_TABLE2 *t;
	MIB_IPFORWARD_ROW2 row;
	struct wgnl_prefix d;
	NET_LUID luid;
	DWORD e;
	int r;

	r = route_target(ctx, ifname, dst, table, &luid, &d);
	if (r < 0)
		return r;
	/* Windows keeps routes to one destination through several interfaces
	 * side by side (the metric chooses), so the LAN's default route is no
	 * conflict for the tunnel's: only a route of ours already there is. */
	r = route_table(ctx, d.family, &t);
	if (r < 0)
		return r;
	for (ULONG i = 0; i < t->NumEntries && !r; i++)
		r = row_is(&t->Table[i], luid, &d);
	FreeMibTable(t);
	if (r)
		return 0;
	route_row(&row, luid, &d, NULL, 0);
	e = CreateIpForwardEntry2(&row);
	if (e == ERROR_OBJECT_ALREADY_EXISTS)
		return 0;
	if (e != NO_ERROR)
		return win32_err(ctx, e, "CreateIpForwardEntry2");
	return 1;
}

static int iphlp_route_del(struct wgnl_ctx *ctx, const char *ifname, const struct wgnl_prefix *dst,
			   uint32_t table)
{
	MIB_IPFORWARD_ROW2 row;
	struct wgnl_prefix d;
	char txt[INET6_ADDRSTRLEN + 8];
	NET_LUID luid;
	DWORD e;
	int r;

	r = route_target(ctx, ifname, dst, table, &luid, &d);
	if (r < 0)
		return r;
	route_row(&row, luid, &d, NULL, 0);
	e = DeleteIpForwardEntry2(&row);
	if (e == ERROR_NOT_FOUND) {
		wgi_set_error(ctx, "no route to %s through the interface",
			      wgnl_prefix_format(&d, txt, sizeof(txt)));
		return -ESRCH;
	}
	return e == NO_ERROR ? 0 : win32_err(ctx, e, "DeleteIpForwardEntry2");
}

static int push(struct wgnl_prefix **v, size_t *n, size_t *cap, const struct wgnl_prefix *p)
{
	int r = wgi_grow((void **)v, cap, *n + 1, sizeof(**v));

	if (r < 0)
		return r;
	(*v)[(*n)++] = *p;
	return 0;
}

static int result(struct wgnl_prefix *v, size_t n, int r, struct wgnl_prefix **ret)
{
	if (r < 0 || n > INT32_MAX) {
		free(v);
		return r < 0 ? r : -EOVERFLOW;
	}
	if (!n) {
		free(v);
		v = NULL;
	}
	*ret = v;
	return (int)n;
}

static int iphlp_route_list(struct wgnl_ctx *ctx, const char *ifname, uint32_t table,
			    struct wgnl_prefix **ret)
{
	struct wgnl_prefix *v = NULL, p;
	size_t n = 0, cap = 0;
	MIB_IPFORWARD_TABLE2 *t;
	NET_LUID luid;
	int r;

	*ret = NULL;
	wgi_clear_error(ctx);
	if (!main_table(table))
		return no_table(ctx, table);
	r = luid_of(ctx, ifname, &luid);
	if (r < 0)
		return r;
	r = route_table(ctx, AF_UNSPEC, &t);
	if (r < 0)
		return r;
	for (ULONG i = 0; i < t->NumEntries && r >= 0; i++) {
		const MIB_IPFORWARD_ROW2 *row = &t->Table[i];

		if (row->InterfaceLuid.Value == luid.Value &&
		    from_sockaddr(&p, &row->DestinationPrefix.Prefix,
				  row->DestinationPrefix.PrefixLength))
			r = push(&v, &n, &cap, &p);
	}
	FreeMibTable(t);
	return result(v, n, r, ret);
}

/* ------------------------------------------------------------- addresses */

static void addr_row(MIB_UNICASTIPADDRESS_ROW *row, NET_LUID luid, const struct wgnl_prefix *p)
{
	/* Lifetimes infinite, origins "unchanged", the prefix length illegal
	 * until set: the documented start of a row to create. */
	InitializeUnicastIpAddressEntry(row);
	row->InterfaceLuid = luid;
	to_sockaddr(&row->Address, p);
	row->OnLinkPrefixLength = p->cidr;
	/* Skip duplicate address detection: nobody else is on a tunnel. */
	row->DadState = IpDadStatePreferred;
}

static int addr_change(struct wgnl_ctx *ctx, bool add, const char *ifname,
		       const struct wgnl_prefix *p)
{
	MIB_UNICASTIPADDRESS_ROW row;
	char txt[INET6_ADDRSTRLEN + 8];
	NET_LUID luid;
	DWORD e;
	int r;

	wgi_clear_error(ctx);
	if (!prefix_ok(p))
		return invalid(ctx, "address");
	r = luid_of(ctx, ifname, &luid);
	if (r < 0)
		return r;
	addr_row(&row, luid, p);
	if (add) {
		e = CreateUnicastIpAddressEntry(&row);
		/* Idempotent, as on Linux. */
		if (e == ERROR_OBJECT_ALREADY_EXISTS)
			return 0;
		return e == NO_ERROR ? 0 : win32_err(ctx, e, "CreateUnicastIpAddressEntry");
	}
	e = DeleteUnicastIpAddressEntry(&row);
	if (e == ERROR_NOT_FOUND) {
		wgi_set_error(ctx, "address %s is not on the interface",
			      wgnl_prefix_format(p, txt, sizeof(txt)));
		return -EADDRNOTAVAIL;
	}
	return e == NO_ERROR ? 0 : win32_err(ctx, e, "DeleteUnicastIpAddressEntry");
}

static int iphlp_addr_add(struct wgnl_ctx *ctx, const char *ifname, const struct wgnl_prefix *p)
{
	return addr_change(ctx, true, ifname, p);
}

static int iphlp_addr_del(struct wgnl_ctx *ctx, const char *ifname, const struct wgnl_prefix *p)
{
	return addr_change(ctx, false, ifname, p);
}

static int addr_list(struct wgnl_ctx *ctx, NET_LUID luid, struct wgnl_prefix **ret)
{
	struct wgnl_prefix *v = NULL, p;
	size_t n = 0, cap = 0;
	MIB_UNICASTIPADDRESS_TABLE *t;
	DWORD e;
	int r = 0;

	e = GetUnicastIpAddressTable(AF_UNSPEC, &t);
	if (e != NO_ERROR)
		return win32_err(ctx, e, "GetUnicastIpAddressTable");
	for (ULONG i = 0; i < t->NumEntries && r >= 0; i++) {
		const MIB_UNICASTIPADDRESS_ROW *row = &t->Table[i];

		if (row->InterfaceLuid.Value == luid.Value &&
		    from_sockaddr(&p, &row->Address, row->OnLinkPrefixLength))
			r = push(&v, &n, &cap, &p);
	}
	FreeMibTable(t);
	return result(v, n, r, ret);
}

static int iphlp_addr_list(struct wgnl_ctx *ctx, const char *ifname, struct wgnl_prefix **ret)
{
	NET_LUID luid;
	int r;

	*ret = NULL;
	wgi_clear_error(ctx);
	r = luid_of(ctx, ifname, &luid);
	return r < 0 ? r : addr_list(ctx, luid, ret);
}

/* ------------------------------------------------------------------ links */

static int iphlp_link_add(struct wgnl_ctx *ctx, const char *name, const char *kind)
{
	wgi_clear_error(ctx);
	if (!kind || strcmp(kind, "wireguard")) {
		wgi_set_error(ctx, "links of kind '%s' do not exist on Windows (only wireguard)",
			      kind ? kind : "");
		return -EOPNOTSUPP;
	}
	if (!name || !*name || strlen(name) >= WGNL_IFNAMSIZ)
		return invalid(ctx, "interface name");
	return wgi_nt_adapter_create(ctx, name);
}

/* Remove what IP Helper holds on @luid (its routes, then its addresses),
 * best effort. */
static void flush(struct wgnl_ctx *ctx, NET_LUID luid)
{
	MIB_UNICASTIPADDRESS_TABLE *at;
	MIB_IPFORWARD_TABLE2 *t;

	if (route_table(ctx, AF_UNSPEC, &t) == 0) {
		for (ULONG i = 0; i < t->NumEntries; i++)
			if (t->Table[i].InterfaceLuid.Value == luid.Value)
				DeleteIpForwardEntry2(&t->Table[i]);
		FreeMibTable(t);
	}
	if (GetUnicastIpAddressTable(AF_UNSPEC, &at) == NO_ERROR) {
		for (ULONG i = 0; i < at->NumEntries; i++)
			if (at->Table[i].InterfaceLuid.Value == luid.Value)
				DeleteUnicastIpAddressEntry(&at->Table[i]);
		FreeMibTable(at);
	}
	wgi_clear_error(ctx);
}

static int iphlp_link_del(struct wgnl_ctx *ctx, const char *name)
{
	NET_LUID luid;
	int r;

	wgi_clear_error(ctx);
	r = luid_of(ctx, name, &luid);
	if (r < 0)
		return r;
	/* The adapter first: one another process created is refused (-EBUSY)
	 * and must keep its addresses and routes. Windows drops them with the
	 * interface; the flush after is for what it might keep. */
	r = wgi_nt_adapter_delete(ctx, name);
	if (r == 0)
		flush(ctx, luid);
	return r;
}

/* The MTU IP Helper holds for @family on @luid into *mtu. 0, -ENOENT (no
 * such family on the interface) or -errno. */
static int if_row(struct wgnl_ctx *ctx, NET_LUID luid, ADDRESS_FAMILY family,
		  MIB_IPINTERFACE_ROW *row)
{
	DWORD e;

	InitializeIpInterfaceEntry(row);
	row->Family = family;
	row->InterfaceLuid = luid;
	e = GetIpInterfaceEntry(row);
	if (e == ERROR_NOT_FOUND)
		return -ENOENT;
	return e == NO_ERROR ? 0 : win32_err(ctx, e, "GetIpInterfaceEntry");
}

static int iphlp_link_get(struct wgnl_ctx *ctx, const char *name, struct wgnl_link *out)
{
	MIB_IPINTERFACE_ROW row;
	NET_LUID luid;
	int r;

	memset(out, 0, sizeof(*out));
	wgi_clear_error(ctx);
	r = luid_of(ctx, name, &luid);
	if (r < 0)
		return r;
	r = wgi_nt_adapter_is_up(ctx, name);
	if (r < 0)
		return r;
	out->up = r;
	r = if_row(ctx, luid, AF_INET, &row);
	if (r == -ENOENT)
		r = if_row(ctx, luid, AF_INET6, &row);
	if (r < 0 && r != -ENOENT)
		return r;
	out->mtu = r < 0 ? 0 : row.NlMtu;
	snprintf(out->name, sizeof(out->name), "%s", name);
	snprintf(out->kind, sizeof(out->kind), "wireguard");
	/* The interface index is not stable on Windows; the NetLuidIndex,
	 * unique among interfaces of a type, stands in where one is shown. */
	out->ifindex = (uint32_t)luid.Info.NetLuidIndex;
	wgi_clear_error(ctx);
	return 0;
}

static int iphlp_link_set_up(struct wgnl_ctx *ctx, const char *name, bool up)
{
	wgi_clear_error(ctx);
	return wgi_nt_adapter_set_up(ctx, name, up);
}

/* The MTU is per family on Windows (NlMtu of each IP interface). IPv6 needs
 * at least 1280: below that the adapter carries IPv4 only, so the IPv6 row
 * is left alone. */
static int iphlp_link_set_mtu(struct wgnl_ctx *ctx, const char *name, uint32_t mtu)
{
	static const ADDRESS_FAMILY families[] = { AF_INET, AF_INET6 };
	MIB_IPINTERFACE_ROW row;
	NET_LUID luid;
	int r, set = 0;

	wgi_clear_error(ctx);
	if (mtu < 576 || mtu > 65535)
		return invalid(ctx, "MTU");
	r = luid_of(ctx, name, &luid);
	if (r < 0)
		return r;
	for (size_t i = 0; i < WGI_ARRAY_SIZE(families); i++) {
		DWORD e;

		if (families[i] == AF_INET6 && mtu < 1280)
			continue;
		r = if_row(ctx, luid, families[i], &row);
		if (r == -ENOENT)
			continue;
		if (r < 0)
			return r;
		row.NlMtu = mtu;
		/* GetIpInterfaceEntry reports a site prefix length that
		 * SetIpInterfaceEntry refuses for IPv4 (documented: it must be
		 * 0 there). */
		if (families[i] == AF_INET)
			row.SitePrefixLength = 0;
		e = SetIpInterfaceEntry(&row);
		if (e != NO_ERROR)
			return win32_err(ctx, e, "SetIpInterfaceEntry");
		set++;
	}
	if (!set) {
		wgi_set_error(ctx, "'%s' has no IP interface to set the MTU of", name);
		return -ENOENT;
	}
	return 0;
}

/* --------------------------------------------------------- bypass routes */

/* The default route of @family that @luid's traffic would leave by without
 * the tunnel: the lowest metric among the /0 routes of other interfaces
 * (route metric plus interface metric, as Windows chooses). 1 (in *best),
 * 0 (none) or -errno. */
static int default_route(struct wgnl_ctx *ctx, ADDRESS_FAMILY family, NET_LUID tunnel,
			 MIB_IPFORWARD_ROW2 *best)
{
	MIB_IPFORWARD_TABLE2 *t;
	ULONG best_metric = ULONG_MAX;
	int r = route_table(ctx, family, &t);

	if (r < 0)
		return r;
	for (ULONG i = 0; i < t->NumEntries; i++) {
		const MIB_IPFORWARD_ROW2 *row = &t->Table[i];
		MIB_IPINTERFACE_ROW ifr;
		ULONG metric = row->Metric;

		if (row->DestinationPrefix.PrefixLength || row->InterfaceLuid.Value == tunnel.Value)
			continue;
		if (if_row(ctx, row->InterfaceLuid, family, &ifr) == 0)
			metric += ifr.Metric;
		if (metric < best_metric) {
			best_metric = metric;
			*best = *row;
		}
	}
	FreeMibTable(t);
	wgi_clear_error(ctx);
	return best_metric != ULONG_MAX;
}

/* Our bypass route to @host (a /32 or /128) in @t, if there is one. */
static const MIB_IPFORWARD_ROW2 *bypass_find(const MIB_IPFORWARD_TABLE2 *t, NET_LUID tunnel,
					     const struct wgnl_prefix *host)
{
	struct wgnl_prefix p;

	for (ULONG i = 0; i < t->NumEntries; i++) {
		const MIB_IPFORWARD_ROW2 *row = &t->Table[i];

		if (row->InterfaceLuid.Value != tunnel.Value && row->Metric == WGI_BYPASS_METRIC &&
		    from_sockaddr(&p, &row->DestinationPrefix.Prefix,
				  row->DestinationPrefix.PrefixLength) &&
		    !wgnl_prefix_cmp(&p, host))
			return row;
	}
	return NULL;
}

static int host_of(struct wgnl_ctx *ctx, const struct wgnl_prefix *ep, struct wgnl_prefix *host)
{
	if (!prefix_ok(ep))
		return invalid(ctx, "endpoint address");
	*host = *ep;
	host->flags = 0;
	host->cidr = ep->family == AF_INET ? 32 : 128;
	return 0;
}

static int iphlp_bypass_add(struct wgnl_ctx *ctx, const char *ifname,
			    const struct wgnl_prefix *endpoint)
{
	MIB_IPFORWARD_ROW2 def, row;
	MIB_IPFORWARD_TABLE2 *t;
	struct wgnl_prefix host;
	char txt[INET6_ADDRSTRLEN + 8];
	NET_LUID luid;
	bool present;
	DWORD e;
	int r;

	wgi_clear_error(ctx);
	r = host_of(ctx, endpoint, &host);
	if (!r)
		r = luid_of(ctx, ifname, &luid);
	if (r < 0)
		return r;
	r = route_table(ctx, host.family, &t);
	if (r < 0)
		return r;
	present = bypass_find(t, luid, &host) != NULL;
	FreeMibTable(t);
	if (present)
		return 0;
	r = default_route(ctx, host.family, luid, &def);
	if (r < 0)
		return r;
	if (!r) {
		wgi_set_error(
			ctx,
			"no default route outside '%s' to keep the endpoint %s reachable through",
			ifname, wgnl_prefix_format(&host, txt, sizeof(txt)));
		return -ENETUNREACH;
	}
	route_row(&row, def.InterfaceLuid, &host, &def.NextHop, WGI_BYPASS_METRIC);
	e = CreateIpForwardEntry2(&row);
	if (e == ERROR_OBJECT_ALREADY_EXISTS)
		return 0;
	return e == NO_ERROR ? 1 : win32_err(ctx, e, "CreateIpForwardEntry2");
}

static int iphlp_bypass_del(struct wgnl_ctx *ctx, const char *ifname,
			    const struct wgnl_prefix *endpoint)
{
	const MIB_IPFORWARD_ROW2 *found;
	MIB_IPFORWARD_TABLE2 *t;
	struct wgnl_prefix host;
	NET_LUID luid;
	DWORD e = ERROR_NOT_FOUND;
	int r;

	wgi_clear_error(ctx);
	r = host_of(ctx, endpoint, &host);
	if (!r)
		r = luid_of(ctx, ifname, &luid);
	if (r < 0)
		return r;
	r = route_table(ctx, host.family, &t);
	if (r < 0)
		return r;
	found = bypass_find(t, luid, &host);
	if (found) {
		MIB_IPFORWARD_ROW2 row;

		route_row(&row, found->InterfaceLuid, &host, &found->NextHop, WGI_BYPASS_METRIC);
		e = DeleteIpForwardEntry2(&row);
	}
	FreeMibTable(t);
	if (e == ERROR_NOT_FOUND) {
		wgi_set_error(ctx, "no bypass route to the endpoint");
		return -ESRCH;
	}
	return e == NO_ERROR ? 0 : win32_err(ctx, e, "DeleteIpForwardEntry2");
}

/* A down adapter left by an up that never finished (a crash before the
 * link came up, or an undo that could not remove it): its addresses and
 * routes go, and so does the adapter when this process created it. One a
 * process that has exited created cannot be removed through the API (only
 * the creator's handle removes an adapter): wireguard-nt removes such an
 * orphan itself when the next adapter is created, which the up that asked
 * does next. A tunnel that is up is never touched. Callers serialise ups of
 * a name (wgctl's interface lock), so a down adapter is not another up's
 * half-made one. 1: treat the name as free; 0: none (or a live one). */
static int iphlp_release_stale(struct wgnl_ctx *ctx, const char *name)
{
	NET_LUID luid;
	int r;

	wgi_clear_error(ctx);
	r = luid_of(ctx, name, &luid);
	if (r == -ENODEV) {
		wgi_clear_error(ctx);
		return 0;
	}
	if (r < 0)
		return r;
	r = wgi_nt_adapter_is_up(ctx, name);
	if (r != 0)
		return r < 0 ? r : 0;
	flush(ctx, luid);
	r = wgi_nt_adapter_delete(ctx, name);
	wgi_clear_error(ctx);
	return r < 0 && r != -EBUSY ? r : 1;
}

const struct wgi_net_ops wgi_iphlp_net = {
	.name = "iphlpapi",
	.link_add = iphlp_link_add,
	.link_del = iphlp_link_del,
	.link_get = iphlp_link_get,
	.link_set_up = iphlp_link_set_up,
	.link_set_mtu = iphlp_link_set_mtu,
	.addr_add = iphlp_addr_add,
	.addr_del = iphlp_addr_del,
	.addr_list = iphlp_addr_list,
	.route_add = iphlp_route_add,
	.route_del = iphlp_route_del,
	.route_list = iphlp_route_list,
	.bypass_add = iphlp_bypass_add,
	.bypass_del = iphlp_bypass_del,
	.release_stale = iphlp_release_stale,
};
