// SPDX-License-Identifier: MIT
/* iphlp_test.exe: drives the library's wg-quick up/down on Windows (the
 * IP Helper seam, lib/windows/iphlp.c, over the wireguard-nt backend) under
 * wine with the stand-in wireguard.dll and iphlpapi.dll beside it, one step
 * per argument, in one process: wireguard-nt removes an adapter when the
 * process that created it closes its handle, so up, the checks and down
 * share the process as they share the tunnel service on Windows.
 *
 *   iphlp_test.exe IFNAME FILE STEP...
 *   up          wgnl_quick_up of FILE: prints "up: 0" or "up: -errno message"
 *   down        wgnl_quick_down of FILE
 *   snap:NAME   copy the stand-in's iphlpapi.state to $WGKIT_STANDIN_DIR/NAME
 *   flap        delete the bypass routes behind the library's back (what a
 *               media-sense flap of the LAN adapter does on Windows)
 *   health      one wghealth check (wgnl_health_check_step, wg_config FILE)
 *   repair      wgnl_quick_bypass_repair: "repair: N" routes re-added
 *   addrs       print wgnl_addr_list, routes: wgnl_route_list, link: link_get
 *   sleep:N     wait N seconds (holding the tunnel, as another program would)
 *   crash       exit at once, without closing anything (the adapter stays)
 *   linkadd     wgnl_link_add only (then crash: a leftover adapter)
 *   badtable    as up, FILE is expected to be refused
 *   badrow      CreateIpForwardEntry2 of a row not from InitializeIpForwardEntry
 *               on eth0 (the stand-in must refuse it: "badrow: 87")
 * The shell suite (tests/windows/iphlp.sh) reads the snapshots. */
#include <winsock2.h>
#include <ws2tcpip.h>
#include <windows.h>
#include <iphlpapi.h>
#include <netioapi.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wgkit/wgnl.h"
#include "wgkit/wgnl_health.h"
#include "wgkit/wgnl_quick.h"

static void event(void *arg, const struct wgnl_quick_event *ev)
{
	char buf[64];

	(void)arg;
	if (ev->kind == WGNL_QUICK_EV_START &&
	    (ev->step == WGNL_QUICK_BYPASS_ADD || ev->step == WGNL_QUICK_BYPASS_DEL))
		printf("event: %s %s\n",
		       ev->step == WGNL_QUICK_BYPASS_ADD ? "bypass-add" : "bypass-del",
		       wgnl_prefix_format(&ev->prefix, buf, sizeof(buf)));
	if (ev->kind == WGNL_QUICK_EV_DONE && ev->step == WGNL_QUICK_BYPASS_ADD)
		printf("event: bypass-readded %s\n",
		       wgnl_prefix_format(&ev->prefix, buf, sizeof(buf)));
	if (ev->kind == WGNL_QUICK_EV_FAIL || ev->kind == WGNL_QUICK_EV_UNDO_FAIL)
		printf("event: %s step %d: %d\n",
		       ev->kind == WGNL_QUICK_EV_FAIL ? "fail" : "undo-fail", ev->step, ev->err);
}

static void snap(const char *name)
{
	const char *dir = getenv("WGKIT_STANDIN_DIR");
	char from[MAX_PATH], to[MAX_PATH];

	MIB_UNICASTIPADDRESS_TABLE *t;

	/* A read through IP Helper first: the stand-in then forgets what an
	 * adapter that went away held, as Windows does. */
	if (GetUnicastIpAddressTable(AF_UNSPEC, &t) == NO_ERROR)
		FreeMibTable(t);
	snprintf(from, sizeof(from), "%s\\iphlpapi.state", dir);
	snprintf(to, sizeof(to), "%s\\%s", dir, name);
	if (!CopyFileA(from, to, FALSE)) {
		/* No state file: nothing was ever added. Leave an empty one. */
		FILE *f = fopen(to, "w");

		if (f)
			fclose(f);
	}
}

static void flap(void)
{
	MIB_IPFORWARD_TABLE2 *t;
	int n = 0;

	if (GetIpForwardTable2(AF_UNSPEC, &t) != NO_ERROR)
		return;
	for (ULONG i = 0; i < t->NumEntries; i++) {
		MIB_IPFORWARD_ROW2 row;

		if (t->Table[i].Metric != 51820)
			continue;
		InitializeIpForwardEntry(&row);
		row.InterfaceLuid = t->Table[i].InterfaceLuid;
		row.DestinationPrefix = t->Table[i].DestinationPrefix;
		row.NextHop = t->Table[i].NextHop;
		if (DeleteIpForwardEntry2(&row) == NO_ERROR)
			n++;
	}
	FreeMibTable(t);
	printf("flap: %d bypass routes gone\n", n);
}

static void list(struct wgnl_ctx *ctx, const char *ifname)
{
	struct wgnl_prefix *v = NULL;
	struct wgnl_link link;
	char buf[64];
	int n;

	n = wgnl_addr_list(ctx, ifname, &v);
	for (int i = 0; i < n; i++)
		printf("addr: %s\n", wgnl_prefix_format(&v[i], buf, sizeof(buf)));
	wgnl_free(v);
	n = wgnl_route_list(ctx, ifname, 0, &v);
	for (int i = 0; i < n; i++)
		printf("route: %s\n", wgnl_prefix_format(&v[i], buf, sizeof(buf)));
	wgnl_free(v);
	if (wgnl_link_get(ctx, ifname, &link) == 0)
		printf("link: %s mtu %u %s\n", link.name, link.mtu, link.up ? "up" : "down");
}

/* Rows the documentation forbids, each on its own: the stand-in must refuse
 * every one (87, ERROR_INVALID_PARAMETER, and a VIOLATION line). */
static void badrow(void)
{
	MIB_UNICASTIPADDRESS_ROW a;
	MIB_IPINTERFACE_ROW ir;
	MIB_IPFORWARD_ROW2 row;

	/* A route row not from InitializeIpForwardEntry (lifetimes 0). */
	memset(&row, 0, sizeof(row));
	row.InterfaceLuid.Value = 0x0006000001000000ULL;
	row.DestinationPrefix.Prefix.si_family = AF_INET;
	row.DestinationPrefix.PrefixLength = 8;
	row.DestinationPrefix.Prefix.Ipv4.sin_addr.s_addr = htonl(0x0a000000);
	row.NextHop.si_family = AF_INET;
	row.Protocol = MIB_IPPROTO_NETMGMT;
	printf("badrow: %lu\n", CreateIpForwardEntry2(&row));
	/* An address on a LUID no adapter has. */
	InitializeUnicastIpAddressEntry(&a);
	a.InterfaceLuid.Value = 0x0035000000777000ULL;
	a.Address.si_family = AF_INET;
	a.Address.Ipv4.sin_addr.s_addr = htonl(0x0a000001);
	a.OnLinkPrefixLength = 24;
	printf("badaddr: %lu\n", CreateUnicastIpAddressEntry(&a));
	/* The IPv4 MTU set without clearing the site prefix length Get gave. */
	InitializeIpInterfaceEntry(&ir);
	ir.Family = AF_INET;
	ir.InterfaceLuid.Value = 0x0006000001000000ULL;
	GetIpInterfaceEntry(&ir);
	ir.NlMtu = 1400;
	printf("badmtu: %lu\n", SetIpInterfaceEntry(&ir));
}

/* One wghealth check of @ifname (wgnl_health_check_step) with @file as its
 * wg_config, state in $WGKIT_STANDIN_DIR. */
static void health(struct wgnl_ctx *ctx, const char *ifname, const char *file)
{
	struct wgnl_health_settings s;
	struct wgnl_health_check c;
	struct wgnl_health_step_opts so = { .size = sizeof(so), .settings = &s };
	int r;

	wgnl_health_settings_default(&s);
	snprintf(s.wg_config, sizeof(s.wg_config), "%s", file);
	so.state_dir = getenv("WGKIT_STANDIN_DIR");
	r = wgnl_health_check_step(ctx, ifname, &so, &c);
	printf("health: %d present %d\n", r, r == 0 ? c.obs.present : -1);
	if (r == 0)
		wgnl_health_check_clear(&c);
}

static int result(struct wgnl_ctx *ctx, const char *what, int r)
{
	printf("%s: %d%s%s\n", what, r, r < 0 ? " " : "", r < 0 ? wgnl_ctx_last_error(ctx) : "");
	return r;
}

int main(int argc, char **argv)
{
	struct wgnl_quick_opts o = { .size = sizeof(o), .event = event };
	struct wgnl_config_error err;
	struct wgnl_config *cfg = NULL;
	struct wgnl_ctx *ctx;
	const char *ifname;
	int r;

	setvbuf(stdout, NULL, _IONBF, 0);
	if (argc < 4) {
		fprintf(stderr, "usage: iphlp_test.exe IFNAME FILE STEP...\n");
		return 1;
	}
	ifname = argv[1];
	r = wgnl_config_parse_file(argv[2], WGNL_CONFIG_QUICK, &cfg, &err);
	if (r < 0) {
		fprintf(stderr, "iphlp_test: cannot parse %s: %d\n", argv[2], r);
		return 2;
	}
	if (wgnl_ctx_open(&ctx) < 0)
		return 5;
	for (int i = 3; i < argc; i++) {
		const char *s = argv[i];

		if (!strcmp(s, "up") || !strcmp(s, "badtable"))
			result(ctx, s, wgnl_quick_up(ctx, ifname, cfg, &o));
		else if (!strcmp(s, "down"))
			result(ctx, s, wgnl_quick_down(ctx, ifname, cfg, &o));
		else if (!strncmp(s, "snap:", 5))
			snap(s + 5);
		else if (!strcmp(s, "repair"))
			result(ctx, s, wgnl_quick_bypass_repair(ctx, ifname, cfg, &o));
		else if (!strcmp(s, "health"))
			health(ctx, ifname, argv[2]);
		else if (!strcmp(s, "badrow"))
			badrow();
		else if (!strcmp(s, "flap"))
			flap();
		else if (!strcmp(s, "addrs"))
			list(ctx, ifname);
		else if (!strcmp(s, "linkadd"))
			result(ctx, s, wgnl_link_add(ctx, ifname, "wireguard"));
		else if (!strncmp(s, "sleep:", 6))
			Sleep((DWORD)atoi(s + 6) * 1000);
		else if (!strcmp(s, "crash"))
			ExitProcess(0); /* no ctx close: the adapter's handle is never closed */
		else {
			fprintf(stderr, "iphlp_test: unknown step '%s'\n", s);
			return 1;
		}
	}
	wgnl_config_free(cfg);
	wgnl_ctx_close(ctx);
	return 0;
}
