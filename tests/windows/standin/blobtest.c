// SPDX-License-Identifier: MIT
/* blobtest.exe: drives the wireguard.dll stand-in directly (no wgkit code
 * but the API declarations of lib/windows/nt_api.h) to show that its
 * checks can fail: a good blob is taken, then each deliberately corrupted
 * one (wrong size, a packed/misaligned peer, an unknown flag, a bad family,
 * a Cidr out of range, Reserved set, a short allowed-IP count, a misaligned
 * pointer) must be refused with ERROR_INVALID_PARAMETER AND add one
 * VIOLATION line to $WGKIT_STANDIN_DIR/violations. Also: ERROR_MORE_DATA
 * with the size needed, the adapter lifetime (closing the creating handle
 * removes it), up/down, the LUID and the driver version. Prints one
 * "ok N - what" / "not ok N - what" line per check; exit 0 when all pass. */
#define __USE_MINGW_ANSI_STDIO 1
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "windows/nt_api.h"

static wgi_nt_create_adapter_fn create_adapter;
static wgi_nt_open_adapter_fn open_adapter;
static wgi_nt_close_adapter_fn close_adapter;
static wgi_nt_get_adapter_luid_fn get_luid;
static wgi_nt_get_running_driver_version_fn driver_version;
static wgi_nt_set_adapter_state_fn set_state;
static wgi_nt_get_adapter_state_fn get_state;
static wgi_nt_set_configuration_fn set_config;
static wgi_nt_get_configuration_fn get_config;

static int n_checks, n_failed;
static char violations_path[MAX_PATH];

static void check(int cond, const char *what)
{
	n_checks++;
	if (!cond)
		n_failed++;
	printf("%s %d - %s\n", cond ? "ok" : "not ok", n_checks, what);
	fflush(stdout);
}

static int count_violations(void)
{
	FILE *f = fopen(violations_path, "r");
	int c, n = 0;

	if (!f)
		return 0;
	while ((c = fgetc(f)) != EOF)
		n += c == '\n';
	fclose(f);
	return n;
}

/* The test blob: one interface, peer A with two allowed IPs, peer B with
 * one; 8-byte aligned storage. */
struct blob {
	WIREGUARD_INTERFACE iface;
	WIREGUARD_PEER a;
	WIREGUARD_ALLOWED_IP a_ips[2];
	WIREGUARD_PEER b;
	WIREGUARD_ALLOWED_IP b_ips[1];
};

static void good_blob(struct blob *b)
{
	memset(b, 0, sizeof(*b));
	b->iface.Flags = WIREGUARD_INTERFACE_HAS_PRIVATE_KEY | WIREGUARD_INTERFACE_HAS_LISTEN_PORT;
	b->iface.ListenPort = 51820;
	memset(b->iface.PrivateKey, 0x41, 32);
	b->iface.PeersCount = 2;
	b->a.Flags = WIREGUARD_PEER_HAS_PUBLIC_KEY | WIREGUARD_PEER_HAS_ENDPOINT |
		     WIREGUARD_PEER_HAS_PERSISTENT_KEEPALIVE;
	memset(b->a.PublicKey, 0x11, 32);
	b->a.PersistentKeepalive = 25;
	b->a.Endpoint.Ipv4.sin_family = AF_INET;
	b->a.Endpoint.Ipv4.sin_port = htons(51820);
	b->a.Endpoint.Ipv4.sin_addr.s_addr = htonl(0xc0000201);
	b->a.AllowedIPsCount = 2;
	b->a_ips[0].AddressFamily = AF_INET;
	b->a_ips[0].Cidr = 24;
	b->a_ips[0].Address.V4.s_addr = htonl(0x0a000001); /* host bits: masked */
	b->a_ips[1].AddressFamily = AF_INET6;
	b->a_ips[1].Cidr = 64;
	b->a_ips[1].Address.V6.s6_addr[0] = 0xfd;
	b->b.Flags = WIREGUARD_PEER_HAS_PUBLIC_KEY | WIREGUARD_PEER_HAS_PRESHARED_KEY;
	memset(b->b.PublicKey, 0x22, 32);
	memset(b->b.PresharedKey, 0x33, 32);
	b->b.AllowedIPsCount = 1;
	b->b_ips[0].AddressFamily = AF_INET;
	b->b_ips[0].Cidr = 32;
	b->b_ips[0].Address.V4.s_addr = htonl(0x0a000102);
}

/* Set @b (@bytes of it at @at) and expect a refusal with one new VIOLATION. */
static void expect_violation(WIREGUARD_ADAPTER_HANDLE h, const void *at, DWORD bytes,
			     const char *what)
{
	int before = count_violations();
	BOOL ok;
	DWORD err;
	char msg[200];

	SetLastError(0);
	ok = set_config(h, at, bytes);
	err = GetLastError();
	snprintf(msg, sizeof(msg), "corrupted blob refused: %s (err %lu)", what, err);
	check(!ok && err == ERROR_INVALID_PARAMETER, msg);
	snprintf(msg, sizeof(msg), "... and a VIOLATION recorded: %s", what);
	check(count_violations() == before + 1, msg);
}

static void corrupted(WIREGUARD_ADAPTER_HANDLE h)
{
	struct blob b;
	uint64_t raw[64];
	uint8_t *packed = (uint8_t *)raw;

	good_blob(&b);
	expect_violation(h, &b, sizeof(b) - 8, "Bytes 8 short of the parts");
	expect_violation(h, &b, sizeof(b) + 24, "Bytes 24 more than the parts");

	/* A writer that forgot alignment: peers packed at 132 bytes (no tail
	 * padding) put the next peer at a non-multiple of 8. */
	memset(raw, 0, sizeof(raw));
	memcpy(packed, &b.iface, 80);
	memcpy(packed + 80, &b.a, 132);
	memcpy(packed + 212, b.a_ips, 48);
	memcpy(packed + 260, &b.b, 132);
	memcpy(packed + 392, b.b_ips, 24);
	expect_violation(h, packed, 416, "peers packed at 132 bytes (misaligned)");

	good_blob(&b);
	b.a.Flags |= 1U << 4;
	expect_violation(h, &b, sizeof(b), "peer flag bit 4 (undocumented)");
	good_blob(&b);
	b.iface.Flags |= 1U << 7;
	expect_violation(h, &b, sizeof(b), "interface flag bit 7");
	good_blob(&b);
	b.a_ips[1].AddressFamily = 10; /* Linux's AF_INET6 */
	expect_violation(h, &b, sizeof(b), "AddressFamily 10 (Linux AF_INET6)");
	good_blob(&b);
	b.a_ips[0].Cidr = 33;
	expect_violation(h, &b, sizeof(b), "IPv4 Cidr 33");
	good_blob(&b);
	b.b.Reserved = 1;
	expect_violation(h, &b, sizeof(b), "Reserved non-zero");
	good_blob(&b);
	b.a.AllowedIPsCount = 1;
	expect_violation(h, &b, sizeof(b), "AllowedIPsCount 1 where 2 follow");
	good_blob(&b);
	b.b.Flags &= ~(DWORD)WIREGUARD_PEER_HAS_PUBLIC_KEY;
	expect_violation(h, &b, sizeof(b), "peer without HAS_PUBLIC_KEY");
	good_blob(&b);
	b.b.Flags &= ~(DWORD)WIREGUARD_PEER_HAS_PRESHARED_KEY;
	expect_violation(h, &b, sizeof(b), "PresharedKey without its flag");
	good_blob(&b);
	b.a.Endpoint.si_family = 10;
	expect_violation(h, &b, sizeof(b), "endpoint family 10");
	good_blob(&b);
	b.a.LastHandshake = 1;
	expect_violation(h, &b, sizeof(b), "LastHandshake set in a set");
	good_blob(&b);
	memset(raw, 0, sizeof(raw));
	memcpy(packed + 4, &b, sizeof(b));
	expect_violation(h, packed + 4, sizeof(b), "Config not 8-byte aligned");
}

static void roundtrip(WIREGUARD_ADAPTER_HANDLE h)
{
	struct blob b;
	WIREGUARD_INTERFACE *out;
	WIREGUARD_PEER *p;
	WIREGUARD_ALLOWED_IP *ip;
	DWORD bytes = 0, size;
	int before = count_violations();

	good_blob(&b);
	check(set_config(h, &b.iface, sizeof(b)), "a good blob is taken");
	check(!get_config(h, NULL, &bytes) && GetLastError() == ERROR_MORE_DATA &&
		      bytes == sizeof(b),
	      "GetConfiguration(NULL, 0): ERROR_MORE_DATA and the size needed");
	size = bytes;
	out = _aligned_malloc(size, 8);
	bytes = 80;
	check(!get_config(h, out, &bytes) && GetLastError() == ERROR_MORE_DATA && bytes == size,
	      "a short buffer: ERROR_MORE_DATA and the size needed");
	bytes = size;
	check(get_config(h, out, &bytes) && bytes == size, "GetConfiguration fits");
	check(out->PeersCount == 2 && out->ListenPort == 51820 &&
		      (out->Flags & WIREGUARD_INTERFACE_HAS_PUBLIC_KEY) &&
		      !(out->Flags & WIREGUARD_INTERFACE_REPLACE_PEERS),
	      "the interface as set, with the derived public key");
	p = (WIREGUARD_PEER *)(out + 1);
	ip = (WIREGUARD_ALLOWED_IP *)(p + 1);
	check(p->AllowedIPsCount == 2 && ip[0].Address.V4.s_addr == htonl(0x0a000000) &&
		      ip[0].Cidr == 24 && p->PersistentKeepalive == 25,
	      "peer A: host bits masked, keepalive kept");
	p = (WIREGUARD_PEER *)(ip + 2);
	check((p->Flags & WIREGUARD_PEER_HAS_PRESHARED_KEY) && p->AllowedIPsCount == 1,
	      "peer B: preshared key reported");
	_aligned_free(out);
	check(count_violations() == before, "a good round trip records no violation");
}

static void lifetime(void)
{
	WIREGUARD_ADAPTER_HANDLE c, o;
	WIREGUARD_ADAPTER_STATE st = 9;
	NET_LUID luid = { 0 };

	c = create_adapter(L"bt1", L"wgkit", NULL);
	check(c != NULL, "create bt1");
	check(!create_adapter(L"bt1", L"wgkit", NULL) && GetLastError() == ERROR_ALREADY_EXISTS,
	      "create bt1 again: ERROR_ALREADY_EXISTS");
	o = open_adapter(L"bt1");
	check(o != NULL, "open bt1");
	check(driver_version() == 10, "driver version 0.10 while an adapter exists");
	get_luid(o, &luid);
	check(luid.Info.IfType == 53 && luid.Info.NetLuidIndex != 0, "LUID of type 53 (virtual)");
	check(set_state(o, WIREGUARD_ADAPTER_STATE_UP) && get_state(o, &st) &&
		      st == WIREGUARD_ADAPTER_STATE_UP,
	      "up");
	check(set_state(o, WIREGUARD_ADAPTER_STATE_DOWN) && get_state(o, &st) &&
		      st == WIREGUARD_ADAPTER_STATE_DOWN,
	      "down");
	close_adapter(o);
	check(open_adapter(L"bt1") != NULL, "closing an opened handle keeps the adapter");
	close_adapter(c);
	check(!open_adapter(L"bt1") && GetLastError() == ERROR_FILE_NOT_FOUND,
	      "closing the creating handle removes it: open fails with ERROR_FILE_NOT_FOUND");
	check(driver_version() == 0 && GetLastError() == ERROR_FILE_NOT_FOUND,
	      "no adapter: driver not loaded");
}

#define LOAD(var, name)                                                           \
	do {                                                                      \
		var = (__typeof__(var))(void (*)(void))GetProcAddress(dll, name); \
		if (!var) {                                                       \
			fprintf(stderr, "blobtest: %s missing\n", name);          \
			return 2;                                                 \
		}                                                                 \
	} while (0)

int main(void)
{
	HMODULE dll =
		LoadLibraryExW(L"wireguard.dll", NULL,
			       LOAD_LIBRARY_SEARCH_APPLICATION_DIR | LOAD_LIBRARY_SEARCH_SYSTEM32);
	const char *dir = getenv("WGKIT_STANDIN_DIR");
	WIREGUARD_ADAPTER_HANDLE h;

	if (!dll) {
		fprintf(stderr, "blobtest: cannot load wireguard.dll (%lu)\n", GetLastError());
		return 2;
	}
	if (!dir) {
		fprintf(stderr, "blobtest: set WGKIT_STANDIN_DIR\n");
		return 2;
	}
	snprintf(violations_path, sizeof(violations_path), "%s\\violations", dir);
	LOAD(create_adapter, "WireGuardCreateAdapter");
	LOAD(open_adapter, "WireGuardOpenAdapter");
	LOAD(close_adapter, "WireGuardCloseAdapter");
	LOAD(get_luid, "WireGuardGetAdapterLUID");
	LOAD(driver_version, "WireGuardGetRunningDriverVersion");
	LOAD(set_state, "WireGuardSetAdapterState");
	LOAD(get_state, "WireGuardGetAdapterState");
	LOAD(set_config, "WireGuardSetConfiguration");
	LOAD(get_config, "WireGuardGetConfiguration");

	lifetime();
	h = create_adapter(L"bt2", L"wgkit", NULL);
	check(h != NULL, "create bt2");
	if (h) {
		roundtrip(h);
		corrupted(h);
		close_adapter(h);
	}
	printf("blobtest: %d checks, %d failed\n", n_checks, n_failed);
	return n_failed ? 1 : 0;
}
