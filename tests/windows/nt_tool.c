// SPDX-License-Identifier: MIT
/* nt_tool.exe: the wireguard-nt backend (lib/windows/nt.c) against the
 * stand-in wireguard.dll, through the library only.
 *   nt_tool hold NAME DIR   create adapter NAME through the library, create
 *                           DIR\NAME.ready, and keep it (wireguard-nt removes
 *                           an adapter when its creating handle closes, as
 *                           when the tunnel service stops) until DIR\NAME.stop
 *                           appears (at most 10 minutes); then close it.
 *   nt_tool selftest        library checks, one "ok N - ..." line each.
 *   nt_tool nodll           expect the clear error for a missing DLL.
 * Exit 0 when every check passes. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/compat.h"
#include "core/internal.h"
#include "windows/nt.h"
#include "windows/nt_api.h"

static int n_checks, n_failed;

static void check(int cond, const char *what)
{
	n_checks++;
	if (!cond)
		n_failed++;
	printf("%s %d - %s\n", cond ? "ok" : "not ok", n_checks, what);
	fflush(stdout);
}

static int file_exists(const char *path)
{
	return GetFileAttributesA(path) != INVALID_FILE_ATTRIBUTES;
}

static int hold(const char *name, const char *dir)
{
	char ready[MAX_PATH], stop[MAX_PATH];
	struct wgnl_ctx *ctx;
	FILE *f;
	int r;

	snprintf(ready, sizeof(ready), "%s\\%s.ready", dir, name);
	snprintf(stop, sizeof(stop), "%s\\%s.stop", dir, name);
	if (wgnl_ctx_open(&ctx) < 0)
		return 2;
	r = wgi_nt_adapter_create(ctx, name);
	if (r < 0) {
		fprintf(stderr, "nt_tool: create '%s': %s (%d)\n", name,
			wgnl_ctx_last_error(ctx) ? wgnl_ctx_last_error(ctx) : "?", r);
		wgnl_ctx_close(ctx);
		return 1;
	}
	f = fopen(ready, "w");
	if (f)
		fclose(f);
	for (int i = 0; i < 6000 && !file_exists(stop); i++)
		Sleep(100);
	wgnl_ctx_close(ctx);
	DeleteFileA(stop);
	DeleteFileA(ready);
	return 0;
}

static const char conf_text[] = "[Interface]\n"
				"PrivateKey = yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=\n"
				"ListenPort = 51820\n"
				"[Peer]\n"
				"PublicKey = xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=\n"
				"PresharedKey = FpCyhws9cxwWoV4xELtfJvjJN+zQVRPISllRWgeopVE=\n"
				"Endpoint = 192.0.2.1:51820\n"
				"AllowedIPs = 10.0.0.0/24, fd00::/64\n"
				"PersistentKeepalive = 25\n"
				"[Peer]\n"
				"PublicKey = TrMvSoP4jYQlY6RIzBgbssQqY3vxI2Pi+y71lOWWXX0=\n"
				"Endpoint = [2001:db8::1]:51821\n"
				"AllowedIPs = 10.0.1.2/32\n";

static struct wgnl_device *parse(const char *text)
{
	struct wgnl_config *cfg = NULL;
	struct wgnl_device *dev;

	if (wgnl_config_parse(text, strlen(text), "selftest.conf", 0, &cfg, NULL) < 0)
		return NULL;
	dev = cfg->dev;
	cfg->dev = NULL;
	wgnl_config_free(cfg);
	return dev;
}

static void roundtrip(struct wgnl_ctx *ctx)
{
	struct wgnl_device *want = parse(conf_text), *got = NULL;
	struct wgnl_peer *a, *b;
	char buf[64];
	int r;

	check(want != NULL, "the test config parses");
	if (!want)
		return;
	strcpy(want->name, "nts1");
	want->flags |= WGNL_DEV_REPLACE_PEERS;
	r = wgnl_device_set(ctx, want);
	check(r == 0, "wgnl_device_set of a config with two peers");
	r = wgnl_device_get(ctx, "nts1", &got);
	check(r == 0 && got && got->n_peers == 2, "wgnl_device_get reads both peers back");
	if (r < 0 || !got) {
		wgnl_device_free(want);
		return;
	}
	check((got->flags & WGNL_DEV_HAS_PUBLIC_KEY) &&
		      !memcmp(got->private_key, want->private_key, 32) && got->listen_port == 51820,
	      "private key, listen port and the driver's public key");
	a = wgnl_device_find_peer(got, want->peers[0].public_key);
	b = wgnl_device_find_peer(got, want->peers[1].public_key);
	check(a && b, "both peers by key");
	if (a && b) {
		check((a->flags & WGNL_PEER_HAS_PRESHARED_KEY) &&
			      !memcmp(a->preshared_key, want->peers[0].preshared_key, 32) &&
			      a->persistent_keepalive == 25 && a->n_allowedips == 2,
		      "peer 1: preshared key, keepalive, two allowed IPs");
		check(!strcmp(wgnl_endpoint_format(&a->endpoint, buf, sizeof(buf)),
			      "192.0.2.1:51820"),
		      "peer 1: IPv4 endpoint");
		check(!strcmp(wgnl_endpoint_format(&b->endpoint, buf, sizeof(buf)),
			      "[2001:db8::1]:51821") &&
			      !(b->flags & WGNL_PEER_HAS_PRESHARED_KEY),
		      "peer 2: IPv6 endpoint, no preshared key");
		check(a->last_handshake.tv_sec == 0 && a->rx_bytes == 0, "no handshake yet");
	}
	wgnl_device_free(got);
	wgnl_device_free(want);
}

typedef BOOL(WINAPI *stats_fn)(WIREGUARD_ADAPTER_HANDLE, const BYTE *, DWORD64, DWORD64, DWORD64);

/* The stand-in's test-only export sets a handshake time: 2026-01-02
 * 03:04:05.5 UTC in FILETIME units must read back as that Unix time. */
static void handshake(struct wgnl_ctx *ctx)
{
	HMODULE dll = GetModuleHandleW(L"wireguard.dll");
	stats_fn set_stats =
		dll ? (stats_fn)(void (*)(void))GetProcAddress(dll, "WgkitStandinSetPeerStats") :
		      NULL;
	wgi_nt_open_adapter_fn open_adapter =
		dll ? (wgi_nt_open_adapter_fn)(void (*)(void))GetProcAddress(
			      dll, "WireGuardOpenAdapter") :
		      NULL;
	wgi_nt_close_adapter_fn close_adapter =
		dll ? (wgi_nt_close_adapter_fn)(void (*)(void))GetProcAddress(
			      dll, "WireGuardCloseAdapter") :
		      NULL;
	struct wgnl_device *want = parse(conf_text), *got = NULL;
	const uint64_t unix_s = 1767323045ULL;
	WIREGUARD_ADAPTER_HANDLE h;
	struct wgnl_peer *p;

	if (!set_stats || !open_adapter || !close_adapter || !want) {
		check(0, "the stand-in's WgkitStandinSetPeerStats");
		wgnl_device_free(want);
		return;
	}
	h = open_adapter(L"nts1");
	check(h && set_stats(h, want->peers[0].public_key, 1234, 5678,
			     unix_s * 10000000ULL + 5000000ULL + WGI_NT_EPOCH_DIFF),
	      "stand-in: peer stats set");
	if (h)
		close_adapter(h);
	if (wgnl_device_get(ctx, "nts1", &got) == 0 &&
	    (p = wgnl_device_find_peer(got, want->peers[0].public_key))) {
		check(p->last_handshake.tv_sec == (time_t)unix_s &&
			      p->last_handshake.tv_nsec == 500000000L,
		      "LastHandshake (100 ns since 1601) -> Unix time 1767323045.5");
		check(p->rx_bytes == 1234 && p->tx_bytes == 5678, "RxBytes and TxBytes");
	} else {
		check(0, "read back after the stats");
	}
	wgnl_device_free(got);
	wgnl_device_free(want);
}

static void refusals(struct wgnl_ctx *ctx)
{
	struct wgnl_device *dev = parse(conf_text), *got = NULL;
	struct wgnl_prefix rm;
	const char *msg;
	int r;

	if (!dev)
		return;
	strcpy(dev->name, "nts1");
	dev->flags |= WGNL_DEV_HAS_FWMARK;
	dev->fwmark = 0x51820;
	r = wgnl_device_set(ctx, dev);
	msg = wgnl_ctx_last_error(ctx);
	check(r == -EOPNOTSUPP && msg && strstr(msg, "FwMark"),
	      "FwMark 0x51820: -EOPNOTSUPP naming FwMark, never dropped");
	dev->fwmark = 0;
	check(wgnl_device_set(ctx, dev) == 0, "FwMark 0 (off, the driver's only state) is taken");
	dev->flags &= ~(uint32_t)WGNL_DEV_HAS_FWMARK;
	wgnl_prefix_parse(&rm, "10.0.0.0/24");
	rm.flags = WGNL_PREFIX_REMOVE;
	dev->peers[0].n_allowedips = 0;
	wgnl_peer_add_allowedip(&dev->peers[0], &rm);
	dev->peers[0].allowedips[0].flags = WGNL_PREFIX_REMOVE;
	r = wgnl_device_set(ctx, dev);
	check(r == -EOPNOTSUPP,
	      "removing one allowed IP: -EOPNOTSUPP (caps lack ALLOWEDIP_REMOVE)");
	check(wgnl_device_caps(ctx, "nts1") == WGNL_CAP_NO_FWMARK, "caps: WGNL_CAP_NO_FWMARK only");
	/* The stand-in's adapters are not in wine's interface table, which
	 * wgnl_device_list() walks: only that the walk works is checked. */
	{
		char **names = NULL;

		check(wgnl_device_list(ctx, &names) >= 0 && names,
		      "wgnl_device_list walks the interface table");
		wgnl_strv_free(names);
	}
	check(wgnl_device_get(ctx, "nts1", &got) == 0 && got->n_peers == 2 &&
		      got->peers[0].n_allowedips + got->peers[1].n_allowedips == 3,
	      "the refused sets changed nothing");
	wgnl_device_free(got);
	strcpy(dev->name, "ntsnone");
	r = wgnl_device_get(ctx, "ntsnone", &got);
	check(r == -ENODEV && wgnl_ctx_last_error(ctx) &&
		      strstr(wgnl_ctx_last_error(ctx), "ntsnone"),
	      "a missing adapter: -ENODEV naming it");
	wgnl_device_free(dev);
}

/* 10,000 peers: the blob (1.6 MB) is far over the first 64 KiB buffer, so
 * the read goes through ERROR_MORE_DATA. */
static void many(struct wgnl_ctx *ctx)
{
	struct wgnl_device *dev = wgnl_device_new("nts1"), *got = NULL;
	int r = 0;

	dev->flags = WGNL_DEV_REPLACE_PEERS;
	for (unsigned i = 0; i < 10000 && r == 0; i++) {
		struct wgnl_prefix p = { .family = AF_INET, .cidr = 32 };
		struct wgnl_peer *peer;
		wgnl_key k = { 0 };

		k[0] = 1;
		memcpy(k + 1, &i, sizeof(i));
		p.ip4.s_addr = htonl(0x0a400000 + i);
		r = wgnl_device_add_peer(dev, k, &peer);
		if (r == 0)
			r = wgnl_peer_add_allowedip(peer, &p);
	}
	wgnl_stats_reset(ctx);
	check(r == 0 && wgnl_device_set(ctx, dev) == 0, "10,000 peers set in one blob");
	r = wgnl_device_get(ctx, "nts1", &got);
	check(r == 0 && got->n_peers == 10000, "10,000 peers read back");
	check(ctx->stats.get_msgs >= 2, "the read grew its buffer on ERROR_MORE_DATA");
	wgnl_device_free(got);
	wgnl_device_free(dev);
}

static void adapters(struct wgnl_ctx *ctx)
{
	uint64_t luid = 0;
	uint32_t version = 0;
	struct wgnl_ctx *other;

	check(wgi_nt_adapter_create(ctx, "nts1") == 0, "create nts1");
	check(wgi_nt_adapter_create(ctx, "nts1") == -EEXIST, "create nts1 again: -EEXIST");
	check(wgi_nt_adapter_luid(ctx, "nts1", &luid) == 0 && (luid >> 48) == 53,
	      "LUID of interface type 53");
	check(wgi_nt_driver_version(ctx, &version) == 0 && version == 10, "driver version 0.10");
	check(wgi_nt_adapter_set_up(ctx, "nts1", true) == 0 &&
		      wgi_nt_adapter_is_up(ctx, "nts1") == 1,
	      "up");
	check(wgi_nt_adapter_set_up(ctx, "nts1", false) == 0 &&
		      wgi_nt_adapter_is_up(ctx, "nts1") == 0,
	      "down");
	if (wgnl_ctx_open(&other) == 0) {
		check(wgi_nt_adapter_delete(other, "nts1") == -EBUSY,
		      "another context cannot delete it: -EBUSY");
		wgnl_ctx_close(other);
	}
}

static int selftest(void)
{
	struct wgnl_ctx *ctx;

	if (wgnl_ctx_open(&ctx) < 0)
		return 2;
	adapters(ctx);
	roundtrip(ctx);
	handshake(ctx);
	refusals(ctx);
	many(ctx);
	check(wgi_nt_adapter_delete(ctx, "nts1") == 0, "delete nts1");
	check(wgi_nt_adapter_is_up(ctx, "nts1") == -ENODEV, "gone: -ENODEV");
	wgnl_ctx_close(ctx);
	printf("nt_tool selftest: %d checks, %d failed\n", n_checks, n_failed);
	return n_failed ? 1 : 0;
}

static int nodll(void)
{
	struct wgnl_device *dev = NULL;
	struct wgnl_ctx *ctx;
	const char *msg;
	int r;

	if (wgnl_ctx_open(&ctx) < 0)
		return 2;
	r = wgnl_device_get(ctx, "nts1", &dev);
	msg = wgnl_ctx_last_error(ctx);
	check(r == -ENOENT && msg &&
		      !strcmp(msg, "wireguard.dll not found: install WireGuard for Windows or put "
				   "wireguard.dll beside the program"),
	      "no wireguard.dll: -ENOENT and the clear message");
	wgnl_ctx_close(ctx);
	printf("nt_tool nodll: %d checks, %d failed\n", n_checks, n_failed);
	return n_failed ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "hold"))
		return hold(argv[2], argv[3]);
	if (argc == 2 && !strcmp(argv[1], "selftest"))
		return selftest();
	if (argc == 2 && !strcmp(argv[1], "nodll"))
		return nodll();
	fprintf(stderr, "usage: nt_tool hold NAME DIR | selftest | nodll\n");
	return 2;
}
