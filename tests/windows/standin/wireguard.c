// SPDX-License-Identifier: MIT
/* A strict stand-in for wireguard.dll (wireguard-nt) for tests under wine,
 * where the real driver cannot run. It implements the documented API over
 * state files (one per adapter in $WGKIT_STANDIN_DIR, default
 * %TEMP%\wgkit-standin: each wgctl.exe run is a new process, as the real
 * driver's state lives in the kernel) and checks every call strictly. On
 * any misuse it prints "wireguard.dll stand-in: VIOLATION: <what>" to
 * stderr, appends the line to $WGKIT_STANDIN_DIR/violations and fails the
 * call with ERROR_INVALID_PARAMETER; a clean run leaves no such file.
 *
 * Blobs are read through the byte offsets of the documented layout (the
 * table below), not through the backend's structs, so a layout mistake in
 * lib/windows/nt_api.h shows up here instead of being shared.
 *
 * Behaviour modelled on the driver: SetConfiguration applies the interface
 * (private key -> derived public key, listen port, replace peers), then each
 * peer in order (created unless REMOVE or UPDATE; REMOVE; preshared key,
 * endpoint, keepalive; REPLACE_ALLOWED_IPS; allowed IPs added with host
 * bits masked, taken from any other peer that held them); a peer with the
 * device's own public key is ignored. GetConfiguration reports HAS_* bits
 * for what is set, fails with ERROR_MORE_DATA and the size needed when the
 * buffer is short (and poisons the buffer so a caller that reads it anyway
 * is caught). Choices of the stand-in where the documentation is silent:
 * creating an existing name fails with ERROR_ALREADY_EXISTS; the driver
 * version is 0.10 (WGKIT_STANDIN_DRIVER_VERSION=0xMMMMmmmm overrides) and is
 * "not loaded" (0, ERROR_FILE_NOT_FOUND) while no adapter exists; the whole
 * blob is validated before anything changes. */
/* C99 printf formats (%zu, %llu) from mingw's stdio. */
#define __USE_MINGW_ANSI_STDIO 1
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <winsock2.h>
#include <windows.h>
#include <ws2ipdef.h>
#include <ifdef.h>

#include "x25519.h"

#define EXPORT __declspec(dllexport)

/* -------------------------------------------------- the documented layout */

#define IFACE_SIZE 80
#define IFACE_FLAGS 0
#define IFACE_PORT 4
#define IFACE_PRIV 6
#define IFACE_PUB 38
#define IFACE_PEERS 72
#define PEER_SIZE 136
#define PEER_FLAGS 0
#define PEER_RESERVED 4
#define PEER_PUB 8
#define PEER_PSK 40
#define PEER_KEEPALIVE 72
#define PEER_ENDPOINT 76
#define PEER_ENDPOINT_LEN 28
#define PEER_TX 104
#define PEER_RX 112
#define PEER_HANDSHAKE 120
#define PEER_NIPS 128
#define AIP_SIZE 24
#define AIP_ADDR 0
#define AIP_FAMILY 16
#define AIP_CIDR 18

#define IF_HAS_PUB 0x1U
#define IF_HAS_PRIV 0x2U
#define IF_HAS_PORT 0x4U
#define IF_REPLACE 0x8U
#define IF_KNOWN 0xfU
#define P_HAS_PUB 0x1U
#define P_HAS_PSK 0x2U
#define P_HAS_KA 0x4U
#define P_HAS_EP 0x8U
#define P_REPLACE_IPS 0x20U
#define P_REMOVE 0x40U
#define P_UPDATE 0x80U
#define P_KNOWN 0xefU
#define WIN_AF_INET 2
#define WIN_AF_INET6 23

/* ------------------------------------------------------- the model */

struct sip {
	uint16_t family; /* 0: removed */
	uint8_t cidr;
	uint8_t addr[16];
};

struct speer {
	uint8_t pub[32], psk[32];
	uint16_t keepalive;
	uint8_t endpoint[PEER_ENDPOINT_LEN]; /* all zero: none */
	uint64_t rx, tx, handshake;
	struct sip *ips;
	size_t n_ips, cap_ips;
	int dead;
};

struct sdev {
	uint32_t state, log_state;
	uint64_t luid;
	uint16_t port;
	int has_priv;
	uint8_t priv[32], pub[32];
	struct speer *peers;
	size_t n_peers, cap_peers;
	/* public key -> peer index + 1; 0 = empty slot. */
	uint32_t *idx;
	size_t idx_cap;
};

#define HANDLE_MAGIC 0x57474e54u /* "WGNT" */
struct standin_adapter {
	uint32_t magic;
	int created; /* by WireGuardCreateAdapter: closing removes it */
	char name[256];
};
typedef struct standin_adapter *WIREGUARD_ADAPTER_HANDLE_T;

/* The exports: the documented API, and one test-only call. */
EXPORT WIREGUARD_ADAPTER_HANDLE_T WINAPI WireGuardCreateAdapter(LPCWSTR name, LPCWSTR tunnel_type,
								const GUID *guid);
EXPORT WIREGUARD_ADAPTER_HANDLE_T WINAPI WireGuardOpenAdapter(LPCWSTR name);
EXPORT VOID WINAPI WireGuardCloseAdapter(WIREGUARD_ADAPTER_HANDLE_T h);
EXPORT VOID WINAPI WireGuardGetAdapterLUID(WIREGUARD_ADAPTER_HANDLE_T h, NET_LUID *luid);
EXPORT DWORD WINAPI WireGuardGetRunningDriverVersion(VOID);
EXPORT BOOL WINAPI WireGuardDeleteDriver(VOID);
EXPORT VOID WINAPI WireGuardSetLogger(void *logger);
EXPORT BOOL WINAPI WireGuardSetAdapterLogging(WIREGUARD_ADAPTER_HANDLE_T h, DWORD state);
EXPORT BOOL WINAPI WireGuardSetAdapterState(WIREGUARD_ADAPTER_HANDLE_T h, DWORD state);
EXPORT BOOL WINAPI WireGuardGetAdapterState(WIREGUARD_ADAPTER_HANDLE_T h, DWORD *state);
EXPORT BOOL WINAPI WireGuardGetConfiguration(WIREGUARD_ADAPTER_HANDLE_T h, void *config,
					     DWORD *bytes);
EXPORT BOOL WINAPI WireGuardSetConfiguration(WIREGUARD_ADAPTER_HANDLE_T h, const void *config,
					     DWORD bytes);
EXPORT BOOL WINAPI WgkitStandinSetPeerStats(WIREGUARD_ADAPTER_HANDLE_T h, const BYTE pub[32],
					    DWORD64 rx, DWORD64 tx, DWORD64 handshake);

static char dir_path[MAX_PATH];

static const char *state_dir(void)
{
	const char *env;

	if (dir_path[0])
		return dir_path;
	env = getenv("WGKIT_STANDIN_DIR");
	if (env && *env) {
		snprintf(dir_path, sizeof(dir_path), "%s", env);
	} else {
		char tmp[MAX_PATH];

		GetTempPathA(sizeof(tmp), tmp);
		snprintf(dir_path, sizeof(dir_path), "%swgkit-standin", tmp);
	}
	CreateDirectoryA(dir_path, NULL);
	return dir_path;
}

static BOOL violation(const char *fmt, ...) __attribute__((format(gnu_printf, 1, 2)));
static BOOL violation(const char *fmt, ...)
{
	char msg[512], path[MAX_PATH + 16];
	va_list ap;
	FILE *f;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "wireguard.dll stand-in: VIOLATION: %s\n", msg);
	fflush(stderr);
	snprintf(path, sizeof(path), "%s\\violations", state_dir());
	f = fopen(path, "a");
	if (f) {
		fprintf(f, "wireguard.dll stand-in: VIOLATION: %s\n", msg);
		fclose(f);
	}
	SetLastError(ERROR_INVALID_PARAMETER);
	return FALSE;
}

static uint16_t rd16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return v;
}

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static uint64_t rd64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

static void wr16(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, 2);
}

static void wr32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static void wr64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, 8);
}

static int all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return 0;
	return 1;
}

/* -------------------------------------------------- peers by key */

/* FNV-1a over the whole key: test keys often share long prefixes. */
static size_t key_hash(const uint8_t key[32])
{
	uint64_t h = 1469598103934665603ULL;

	for (int i = 0; i < 32; i++)
		h = (h ^ key[i]) * 1099511628211ULL;
	return (size_t)(h ^ (h >> 32));
}

static void idx_rebuild(struct sdev *d)
{
	size_t cap = 64;

	while (cap < 2 * d->n_peers + 16)
		cap *= 2;
	free(d->idx);
	d->idx = calloc(cap, sizeof(*d->idx));
	d->idx_cap = cap;
	if (!d->idx)
		abort();
	for (size_t i = 0; i < d->n_peers; i++) {
		size_t s = key_hash(d->peers[i].pub) & (cap - 1);

		if (d->peers[i].dead)
			continue;
		while (d->idx[s])
			s = (s + 1) & (cap - 1);
		d->idx[s] = (uint32_t)i + 1;
	}
}

static struct speer *peer_find(struct sdev *d, const uint8_t key[32])
{
	size_t s;

	if (!d->idx)
		idx_rebuild(d);
	s = key_hash(key) & (d->idx_cap - 1);
	for (; d->idx[s]; s = (s + 1) & (d->idx_cap - 1)) {
		struct speer *p = &d->peers[d->idx[s] - 1];

		if (!p->dead && !memcmp(p->pub, key, 32))
			return p;
	}
	return NULL;
}

static struct speer *peer_add(struct sdev *d, const uint8_t key[32])
{
	struct speer *p;

	if (d->n_peers == d->cap_peers) {
		d->cap_peers = d->cap_peers ? 2 * d->cap_peers : 16;
		d->peers = realloc(d->peers, d->cap_peers * sizeof(*d->peers));
		if (!d->peers)
			abort();
	}
	p = &d->peers[d->n_peers++];
	memset(p, 0, sizeof(*p));
	memcpy(p->pub, key, 32);
	if (2 * d->n_peers + 16 > d->idx_cap) {
		idx_rebuild(d);
	} else {
		size_t s = key_hash(key) & (d->idx_cap - 1);

		while (d->idx[s])
			s = (s + 1) & (d->idx_cap - 1);
		d->idx[s] = (uint32_t)d->n_peers;
	}
	return p;
}

/* Removed peers stay in the array, marked dead, until the device is saved;
 * their index slots stay too (lookups skip dead peers), so a removal costs
 * no rebuild. */
static void peer_remove(struct sdev *d, struct speer *p)
{
	(void)d;
	p->dead = 1;
	free(p->ips);
	p->ips = NULL;
	p->n_ips = 0;
}

/* ------------------------------------------------- allowed IPs */

static void mask_prefix(struct sip *ip)
{
	int bytes = ip->family == WIN_AF_INET ? 4 : 16;

	for (int i = 0; i < bytes; i++) {
		int keep = ip->cidr - 8 * i;

		if (keep >= 8)
			continue;
		ip->addr[i] &= keep <= 0 ? 0 : (uint8_t)(0xff << (8 - keep));
	}
	if (ip->family == WIN_AF_INET)
		memset(ip->addr + 4, 0, 12);
}

static int sip_equal(const struct sip *a, const struct sip *b)
{
	return a->family == b->family && a->cidr == b->cidr && !memcmp(a->addr, b->addr, 16);
}

/* A prefix -> owner table, built once per set that adds allowed IPs. */
struct ipowner {
	struct sip ip;
	uint32_t peer; /* index + 1 */
	uint32_t slot; /* position in the peer's list */
};

struct iptable {
	struct ipowner *e;
	size_t cap, n;
};

static size_t sip_hash(const struct sip *ip)
{
	uint64_t h = 1469598103934665603ULL;

	h = (h ^ ip->family) * 1099511628211ULL;
	h = (h ^ ip->cidr) * 1099511628211ULL;
	for (int i = 0; i < 16; i++)
		h = (h ^ ip->addr[i]) * 1099511628211ULL;
	return (size_t)h;
}

static struct ipowner *ipt_slot(struct iptable *t, const struct sip *ip)
{
	size_t s = sip_hash(ip) & (t->cap - 1);

	while (t->e[s].peer && !sip_equal(&t->e[s].ip, ip))
		s = (s + 1) & (t->cap - 1);
	return &t->e[s];
}

static void ipt_put(struct iptable *t, const struct sip *ip, uint32_t peer, uint32_t slot);

static void ipt_grow(struct iptable *t)
{
	struct iptable old = *t;

	t->cap = t->cap ? 2 * t->cap : 1024;
	t->e = calloc(t->cap, sizeof(*t->e));
	t->n = 0;
	if (!t->e)
		abort();
	for (size_t i = 0; i < old.cap; i++)
		if (old.e[i].peer && old.e[i].ip.family)
			ipt_put(t, &old.e[i].ip, old.e[i].peer, old.e[i].slot);
	free(old.e);
}

static void ipt_put(struct iptable *t, const struct sip *ip, uint32_t peer, uint32_t slot)
{
	struct ipowner *o;

	if (2 * (t->n + 1) > t->cap)
		ipt_grow(t);
	o = ipt_slot(t, ip);
	if (!o->peer)
		t->n++;
	o->ip = *ip;
	o->peer = peer;
	o->slot = slot;
}

static void ipt_build(struct iptable *t, struct sdev *d)
{
	memset(t, 0, sizeof(*t));
	ipt_grow(t);
	for (size_t i = 0; i < d->n_peers; i++)
		for (size_t j = 0; j < d->peers[i].n_ips; j++)
			if (!d->peers[i].dead && d->peers[i].ips[j].family)
				ipt_put(t, &d->peers[i].ips[j], (uint32_t)i + 1, (uint32_t)j);
}

static void peer_add_ip(struct sdev *d, struct iptable *t, struct speer *p, struct sip ip)
{
	struct ipowner *o;
	uint32_t me = (uint32_t)(p - d->peers) + 1;

	mask_prefix(&ip);
	o = ipt_slot(t, &ip);
	if (o->peer && o->ip.family) {
		struct speer *owner = &d->peers[o->peer - 1];

		if (o->peer == me && owner->ips[o->slot].family)
			return; /* already there */
		if (o->slot < owner->n_ips && sip_equal(&owner->ips[o->slot], &ip))
			owner->ips[o->slot].family = 0; /* taken from its owner */
	}
	if (p->n_ips == p->cap_ips) {
		p->cap_ips = p->cap_ips ? 2 * p->cap_ips : 4;
		p->ips = realloc(p->ips, p->cap_ips * sizeof(*p->ips));
		if (!p->ips)
			abort();
	}
	p->ips[p->n_ips] = ip;
	ipt_put(t, &ip, me, (uint32_t)p->n_ips);
	p->n_ips++;
}

/* ------------------------------------------------- state files */

struct file_header {
	char magic[8]; /* "WGSTAND1" */
	uint32_t state, log_state;
	uint64_t luid;
	uint64_t blob_bytes;
};

static void adapter_path(char *out, size_t len, const char *name)
{
	snprintf(out, len, "%s\\adapter-%s.state", state_dir(), name);
}

static void dev_free(struct sdev *d)
{
	for (size_t i = 0; i < d->n_peers; i++)
		free(d->peers[i].ips);
	free(d->peers);
	free(d->idx);
	memset(d, 0, sizeof(*d));
}

static uint64_t blob_size(const struct sdev *d)
{
	uint64_t n = IFACE_SIZE;

	for (size_t i = 0; i < d->n_peers; i++) {
		if (d->peers[i].dead)
			continue;
		n += PEER_SIZE;
		for (size_t j = 0; j < d->peers[i].n_ips; j++)
			if (d->peers[i].ips[j].family)
				n += AIP_SIZE;
	}
	return n;
}

/* The device as GetConfiguration reports it, into @out (blob_size bytes). */
static void blob_write(const struct sdev *d, uint8_t *out, uint64_t size)
{
	uint8_t *p = out + IFACE_SIZE;
	uint32_t flags = 0, n = 0;

	memset(out, 0, size);
	if (d->port) {
		wr16(out + IFACE_PORT, d->port);
		flags |= IF_HAS_PORT;
	}
	if (d->has_priv) {
		memcpy(out + IFACE_PRIV, d->priv, 32);
		memcpy(out + IFACE_PUB, d->pub, 32);
		flags |= IF_HAS_PRIV | IF_HAS_PUB;
	}
	wr32(out + IFACE_FLAGS, flags);
	for (size_t i = 0; i < d->n_peers; i++) {
		const struct speer *sp = &d->peers[i];
		uint32_t pf = P_HAS_PUB | P_HAS_KA, nips = 0;
		uint8_t *ipp;

		if (sp->dead)
			continue;
		n++;
		memcpy(p + PEER_PUB, sp->pub, 32);
		if (!all_zero(sp->psk, 32)) {
			memcpy(p + PEER_PSK, sp->psk, 32);
			pf |= P_HAS_PSK;
		}
		wr16(p + PEER_KEEPALIVE, sp->keepalive);
		if (!all_zero(sp->endpoint, PEER_ENDPOINT_LEN)) {
			memcpy(p + PEER_ENDPOINT, sp->endpoint, PEER_ENDPOINT_LEN);
			pf |= P_HAS_EP;
		}
		wr64(p + PEER_TX, sp->tx);
		wr64(p + PEER_RX, sp->rx);
		wr64(p + PEER_HANDSHAKE, sp->handshake);
		wr32(p + PEER_FLAGS, pf);
		/* Drivers since the protocol-version field report 1 where the
		 * documented header has Reserved: a reader must not care. */
		wr32(p + PEER_RESERVED, 1);
		ipp = p + PEER_SIZE;
		for (size_t j = 0; j < sp->n_ips; j++) {
			if (!sp->ips[j].family)
				continue;
			memcpy(ipp + AIP_ADDR, sp->ips[j].addr, 16);
			wr16(ipp + AIP_FAMILY, sp->ips[j].family);
			ipp[AIP_CIDR] = sp->ips[j].cidr;
			ipp += AIP_SIZE;
			nips++;
		}
		wr32(p + PEER_NIPS, nips);
		p = ipp;
	}
	wr32(out + IFACE_PEERS, n);
}

static int dev_save(const char *name, const struct sdev *d)
{
	char path[MAX_PATH + 300], tmp[MAX_PATH + 310];
	struct file_header h = { .magic = "WGSTAND1" };
	uint64_t size = blob_size(d);
	uint8_t *blob = malloc(size);
	FILE *f;
	int ok;

	if (!blob)
		return -1;
	blob_write(d, blob, size);
	h.state = d->state;
	h.log_state = d->log_state;
	h.luid = d->luid;
	h.blob_bytes = size;
	adapter_path(path, sizeof(path), name);
	snprintf(tmp, sizeof(tmp), "%s.%lu.tmp", path, GetCurrentProcessId());
	f = fopen(tmp, "wb");
	if (!f) {
		free(blob);
		return -1;
	}
	ok = fwrite(&h, sizeof(h), 1, f) == 1 && fwrite(blob, size, 1, f) == 1;
	ok = fclose(f) == 0 && ok;
	SecureZeroMemory(blob, size);
	free(blob);
	if (!ok || !MoveFileExA(tmp, path, MOVEFILE_REPLACE_EXISTING)) {
		DeleteFileA(tmp);
		return -1;
	}
	return 0;
}

/* Load the adapter's file into @d. 0, or -1 with GetLastError() set
 * (ERROR_FILE_NOT_FOUND: no such adapter). */
static int dev_load(const char *name, struct sdev *d)
{
	char path[MAX_PATH + 300];
	struct file_header h;
	uint8_t *blob, *p;
	struct iptable t;
	FILE *f;
	uint32_t n;

	memset(d, 0, sizeof(*d));
	adapter_path(path, sizeof(path), name);
	f = fopen(path, "rb");
	if (!f) {
		SetLastError(ERROR_FILE_NOT_FOUND);
		return -1;
	}
	if (fread(&h, sizeof(h), 1, f) != 1 || memcmp(h.magic, "WGSTAND1", 8) ||
	    h.blob_bytes < IFACE_SIZE || h.blob_bytes > (1ULL << 31)) {
		fclose(f);
		SetLastError(ERROR_FILE_CORRUPT);
		return -1;
	}
	blob = malloc(h.blob_bytes);
	if (!blob || fread(blob, h.blob_bytes, 1, f) != 1) {
		free(blob);
		fclose(f);
		SetLastError(ERROR_FILE_CORRUPT);
		return -1;
	}
	fclose(f);
	d->state = h.state;
	d->log_state = h.log_state;
	d->luid = h.luid;
	d->port = rd16(blob + IFACE_PORT);
	d->has_priv = !!(rd32(blob + IFACE_FLAGS) & IF_HAS_PRIV);
	memcpy(d->priv, blob + IFACE_PRIV, 32);
	memcpy(d->pub, blob + IFACE_PUB, 32);
	n = rd32(blob + IFACE_PEERS);
	p = blob + IFACE_SIZE;
	memset(&t, 0, sizeof(t));
	ipt_grow(&t);
	for (uint32_t i = 0; i < n; i++) {
		struct speer *sp = peer_add(d, p + PEER_PUB);
		uint32_t nips = rd32(p + PEER_NIPS);

		memcpy(sp->psk, p + PEER_PSK, 32);
		sp->keepalive = rd16(p + PEER_KEEPALIVE);
		memcpy(sp->endpoint, p + PEER_ENDPOINT, PEER_ENDPOINT_LEN);
		sp->tx = rd64(p + PEER_TX);
		sp->rx = rd64(p + PEER_RX);
		sp->handshake = rd64(p + PEER_HANDSHAKE);
		p += PEER_SIZE;
		for (uint32_t j = 0; j < nips; j++, p += AIP_SIZE) {
			struct sip ip = { .family = rd16(p + AIP_FAMILY), .cidr = p[AIP_CIDR] };

			memcpy(ip.addr, p + AIP_ADDR, 16);
			peer_add_ip(d, &t, sp, ip);
		}
	}
	free(t.e);
	SecureZeroMemory(blob, h.blob_bytes);
	free(blob);
	return 0;
}

/* ------------------------------------------------- names and handles */

/* The adapter name as UTF-8 for the file name; only names a test would use
 * (letters, digits, '-', '_', '.', ' '), 1..127 characters. */
static BOOL name_ok(LPCWSTR name, char *out, size_t len, const char *what)
{
	size_t n;

	if (!name)
		return violation("%s: name is NULL", what);
	n = wcslen(name);
	if (n == 0 || n >= 128)
		return violation("%s: name of %zu characters (1..127 allowed)", what, n);
	for (size_t i = 0; i < n; i++) {
		WCHAR c = name[i];

		if (!((c >= L'a' && c <= L'z') || (c >= L'A' && c <= L'Z') ||
		      (c >= L'0' && c <= L'9') || c == L'-' || c == L'_' || c == L'.' || c == L' '))
			return violation("%s: name has character U+%04X the stand-in does not take",
					 what, (unsigned)c);
	}
	if (n >= len)
		return violation("%s: name too long", what);
	for (size_t i = 0; i <= n; i++)
		out[i] = (char)name[i];
	return TRUE;
}

static struct standin_adapter *handle_ok(WIREGUARD_ADAPTER_HANDLE_T h, const char *what)
{
	if (!h) {
		violation("%s: adapter handle is NULL", what);
		return NULL;
	}
	if (((uintptr_t)h & 7) || h->magic != HANDLE_MAGIC) {
		violation("%s: not a live adapter handle (closed twice, or never opened)", what);
		return NULL;
	}
	return h;
}

static uint64_t luid_for(const char *name)
{
	uint32_t hash = 2166136261u;

	for (const char *c = name; *c; c++)
		hash = (hash ^ (uint8_t)*c) * 16777619u;
	/* NET_LUID: NetLuidIndex in bits 24..47, IfType in 48..63
	 * (IF_TYPE_PROP_VIRTUAL = 53). */
	return ((uint64_t)53 << 48) | ((uint64_t)(hash & 0xffffff) << 24);
}

/* The driver removes an adapter whose creating process has gone (a crash
 * that never closed the handle) when the next adapter is created: modelled
 * with adapter-NAME.owner, the creator's process id, written at create and
 * removed with the adapter. An adapter without that file, or whose creator
 * still runs, is live. */
static void owner_path(char *out, size_t len, const char *name)
{
	snprintf(out, len, "%s\\adapter-%s.owner", state_dir(), name);
}

/* The names this process created and has not closed. */
static char created_names[16][256];

static int created_here(const char *name)
{
	for (size_t i = 0; i < 16; i++)
		if (!strcmp(created_names[i], name))
			return 1;
	return 0;
}

static void created_mark(const char *name, int on)
{
	for (size_t i = 0; i < 16; i++) {
		if (on ? !created_names[i][0] : !strcmp(created_names[i], name)) {
			if (on)
				snprintf(created_names[i], sizeof(created_names[i]), "%s", name);
			else
				created_names[i][0] = '\0';
			return;
		}
	}
}

static int orphaned(const char *name)
{
	char path[MAX_PATH + 300];
	unsigned long pid = 0;
	HANDLE proc;
	DWORD code = 0;
	FILE *f;
	int r;

	owner_path(path, sizeof(path), name);
	f = fopen(path, "r");
	if (!f)
		return 0;
	r = fscanf(f, "%lu", &pid);
	fclose(f);
	if (r != 1 || !pid)
		return 0;
	/* Wine hands a dead process's id to the next one soon: the id being
	 * ours means its creator has gone unless this process made it. */
	if (pid == GetCurrentProcessId())
		return !created_here(name);
	proc = OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, FALSE, (DWORD)pid);
	if (!proc)
		return 1;
	r = !GetExitCodeProcess(proc, &code) || code != STILL_ACTIVE;
	CloseHandle(proc);
	return r;
}

static void owner_write(const char *name)
{
	char path[MAX_PATH + 300];
	FILE *f;

	owner_path(path, sizeof(path), name);
	f = fopen(path, "w");
	if (f) {
		fprintf(f, "%lu\n", (unsigned long)GetCurrentProcessId());
		fclose(f);
	}
}

EXPORT WIREGUARD_ADAPTER_HANDLE_T WINAPI WireGuardCreateAdapter(LPCWSTR name, LPCWSTR tunnel_type,
								const GUID *guid)
{
	struct standin_adapter *a;
	char n[256], tt[256], path[MAX_PATH + 300];
	struct sdev d = { 0 };

	(void)guid;
	if (!name_ok(name, n, sizeof(n), "WireGuardCreateAdapter") ||
	    !name_ok(tunnel_type, tt, sizeof(tt), "WireGuardCreateAdapter (tunnel type)"))
		return NULL;
	adapter_path(path, sizeof(path), n);
	if (GetFileAttributesA(path) != INVALID_FILE_ATTRIBUTES && orphaned(n)) {
		char owner[MAX_PATH + 300];

		owner_path(owner, sizeof(owner), n);
		DeleteFileA(path);
		DeleteFileA(owner);
	}
	if (GetFileAttributesA(path) != INVALID_FILE_ATTRIBUTES) {
		SetLastError(ERROR_ALREADY_EXISTS);
		return NULL;
	}
	d.luid = luid_for(n);
	if (dev_save(n, &d) < 0) {
		SetLastError(ERROR_WRITE_FAULT);
		return NULL;
	}
	a = calloc(1, sizeof(*a));
	if (!a) {
		SetLastError(ERROR_NOT_ENOUGH_MEMORY);
		return NULL;
	}
	a->magic = HANDLE_MAGIC;
	a->created = 1;
	strcpy(a->name, n);
	owner_write(n);
	created_mark(n, 1);
	return a;
}

EXPORT WIREGUARD_ADAPTER_HANDLE_T WINAPI WireGuardOpenAdapter(LPCWSTR name)
{
	struct standin_adapter *a;
	char n[256], path[MAX_PATH + 300];

	if (!name_ok(name, n, sizeof(n), "WireGuardOpenAdapter"))
		return NULL;
	adapter_path(path, sizeof(path), n);
	if (GetFileAttributesA(path) == INVALID_FILE_ATTRIBUTES) {
		SetLastError(ERROR_FILE_NOT_FOUND);
		return NULL;
	}
	a = calloc(1, sizeof(*a));
	if (!a) {
		SetLastError(ERROR_NOT_ENOUGH_MEMORY);
		return NULL;
	}
	a->magic = HANDLE_MAGIC;
	strcpy(a->name, n);
	return a;
}

EXPORT VOID WINAPI WireGuardCloseAdapter(WIREGUARD_ADAPTER_HANDLE_T h)
{
	char path[MAX_PATH + 300];

	if (!h)
		return; /* documented: _In_opt_ */
	if (!handle_ok(h, "WireGuardCloseAdapter"))
		return;
	if (h->created) {
		adapter_path(path, sizeof(path), h->name);
		DeleteFileA(path);
		owner_path(path, sizeof(path), h->name);
		DeleteFileA(path);
		created_mark(h->name, 0);
	}
	h->magic = 0;
	free(h);
}

EXPORT VOID WINAPI WireGuardGetAdapterLUID(WIREGUARD_ADAPTER_HANDLE_T h, NET_LUID *luid)
{
	struct sdev d;

	if (!handle_ok(h, "WireGuardGetAdapterLUID"))
		return;
	if (!luid) {
		violation("WireGuardGetAdapterLUID: Luid is NULL");
		return;
	}
	if (dev_load(h->name, &d) < 0) {
		luid->Value = 0;
		return;
	}
	luid->Value = d.luid;
	dev_free(&d);
}

EXPORT DWORD WINAPI WireGuardGetRunningDriverVersion(VOID)
{
	const char *env = getenv("WGKIT_STANDIN_DRIVER_VERSION");
	char pattern[MAX_PATH + 32];
	WIN32_FIND_DATAA fd;
	HANDLE find;

	snprintf(pattern, sizeof(pattern), "%s\\adapter-*.state", state_dir());
	find = FindFirstFileA(pattern, &fd);
	if (find == INVALID_HANDLE_VALUE) {
		SetLastError(ERROR_FILE_NOT_FOUND);
		return 0;
	}
	FindClose(find);
	if (env && *env)
		return (DWORD)strtoul(env, NULL, 0);
	return (0U << 16) | 10U;
}

EXPORT BOOL WINAPI WireGuardDeleteDriver(VOID)
{
	return TRUE;
}

EXPORT VOID WINAPI WireGuardSetLogger(void *logger)
{
	(void)logger;
}

EXPORT BOOL WINAPI WireGuardSetAdapterLogging(WIREGUARD_ADAPTER_HANDLE_T h, DWORD state)
{
	struct sdev d;
	int r;

	if (!handle_ok(h, "WireGuardSetAdapterLogging"))
		return FALSE;
	if (state > 2)
		return violation("WireGuardSetAdapterLogging: log state %lu is not 0..2", state);
	if (dev_load(h->name, &d) < 0)
		return FALSE;
	d.log_state = state;
	r = dev_save(h->name, &d);
	dev_free(&d);
	if (r < 0)
		SetLastError(ERROR_WRITE_FAULT);
	return r == 0;
}

EXPORT BOOL WINAPI WireGuardSetAdapterState(WIREGUARD_ADAPTER_HANDLE_T h, DWORD state)
{
	struct sdev d;
	int r;

	if (!handle_ok(h, "WireGuardSetAdapterState"))
		return FALSE;
	if (state > 1)
		return violation(
			"WireGuardSetAdapterState: state %lu is neither DOWN (0) nor UP (1)",
			state);
	if (dev_load(h->name, &d) < 0)
		return FALSE;
	d.state = state;
	r = dev_save(h->name, &d);
	dev_free(&d);
	if (r < 0)
		SetLastError(ERROR_WRITE_FAULT);
	return r == 0;
}

EXPORT BOOL WINAPI WireGuardGetAdapterState(WIREGUARD_ADAPTER_HANDLE_T h, DWORD *state)
{
	struct sdev d;

	if (!handle_ok(h, "WireGuardGetAdapterState"))
		return FALSE;
	if (!state)
		return violation("WireGuardGetAdapterState: State is NULL");
	if (dev_load(h->name, &d) < 0)
		return FALSE;
	*state = d.state;
	dev_free(&d);
	return TRUE;
}

/* ------------------------------------------------- configuration */

EXPORT BOOL WINAPI WireGuardGetConfiguration(WIREGUARD_ADAPTER_HANDLE_T h, void *config,
					     DWORD *bytes)
{
	struct sdev d;
	uint64_t need;

	if (!handle_ok(h, "WireGuardGetConfiguration"))
		return FALSE;
	if (!bytes)
		return violation("WireGuardGetConfiguration: Bytes is NULL");
	if (*bytes && !config)
		return violation("WireGuardGetConfiguration: Config is NULL but *Bytes is %lu",
				 *bytes);
	if (config && ((uintptr_t)config & 7))
		return violation("WireGuardGetConfiguration: Config at %p is not 8-byte aligned",
				 config);
	if (dev_load(h->name, &d) < 0)
		return FALSE;
	need = blob_size(&d);
	if (need > *bytes) {
		/* What the caller must not read: poison it. */
		if (config)
			memset(config, 0xa5, *bytes);
		*bytes = (DWORD)need;
		dev_free(&d);
		SetLastError(ERROR_MORE_DATA);
		return FALSE;
	}
	blob_write(&d, config, need);
	*bytes = (DWORD)need;
	dev_free(&d);
	return TRUE;
}

/* Check one allowed IP at @p (#@j of peer #@i). */
static BOOL check_aip(const uint8_t *p, uint32_t i, uint32_t j)
{
	uint16_t fam = rd16(p + AIP_FAMILY);
	uint8_t cidr = p[AIP_CIDR];

	if (fam != WIN_AF_INET && fam != WIN_AF_INET6)
		return violation("peer #%u allowed IP #%u: AddressFamily %u is neither AF_INET (2) "
				 "nor AF_INET6 (23)",
				 i, j, fam);
	if (cidr > (fam == WIN_AF_INET ? 32 : 128))
		return violation("peer #%u allowed IP #%u: Cidr %u out of range for family %u", i,
				 j, cidr, fam);
	if (fam == WIN_AF_INET && !all_zero(p + AIP_ADDR + 4, 12))
		return violation("peer #%u allowed IP #%u: bytes 4..15 of an IPv4 Address not zero",
				 i, j);
	if (!all_zero(p + AIP_CIDR + 1, AIP_SIZE - AIP_CIDR - 1))
		return violation("peer #%u allowed IP #%u: padding bytes 19..23 not zero", i, j);
	return TRUE;
}

static BOOL check_endpoint(const uint8_t *ep, uint32_t i)
{
	uint16_t fam = rd16(ep);

	if (fam == WIN_AF_INET) {
		if (!all_zero(ep + 8, PEER_ENDPOINT_LEN - 8))
			return violation("peer #%u: IPv4 Endpoint has non-zero bytes after "
					 "sin_addr",
					 i);
		return TRUE;
	}
	if (fam == WIN_AF_INET6)
		return TRUE;
	return violation("peer #%u: HAS_ENDPOINT with si_family %u (AF_INET 2 or AF_INET6 23 "
			 "only)",
			 i, fam);
}

static BOOL check_peer(const uint8_t *p, uint32_t i)
{
	uint32_t f = rd32(p + PEER_FLAGS);

	if (f & ~P_KNOWN)
		return violation("peer #%u: unknown Flags bits 0x%x", i, f & ~P_KNOWN);
	if (rd32(p + PEER_RESERVED))
		return violation("peer #%u: Reserved is 0x%x, must be zero", i,
				 rd32(p + PEER_RESERVED));
	if (!(f & P_HAS_PUB))
		return violation(
			"peer #%u: no WIREGUARD_PEER_HAS_PUBLIC_KEY (the peer's identifier)", i);
	if (all_zero(p + PEER_PUB, 32))
		return violation("peer #%u: HAS_PUBLIC_KEY with an all-zero PublicKey", i);
	if (!(f & P_HAS_PSK) && !all_zero(p + PEER_PSK, 32))
		return violation("peer #%u: PresharedKey set without HAS_PRESHARED_KEY", i);
	if (!(f & P_HAS_KA) && rd16(p + PEER_KEEPALIVE))
		return violation(
			"peer #%u: PersistentKeepalive %u without HAS_PERSISTENT_KEEPALIVE", i,
			rd16(p + PEER_KEEPALIVE));
	if (f & P_HAS_EP) {
		if (!check_endpoint(p + PEER_ENDPOINT, i))
			return FALSE;
	} else if (!all_zero(p + PEER_ENDPOINT, PEER_ENDPOINT_LEN)) {
		return violation("peer #%u: Endpoint set without HAS_ENDPOINT", i);
	}
	if (!all_zero(p + PEER_KEEPALIVE + 2, PEER_ENDPOINT - PEER_KEEPALIVE - 2) ||
	    !all_zero(p + PEER_NIPS + 4, PEER_SIZE - PEER_NIPS - 4))
		return violation("peer #%u: padding bytes not zero", i);
	if (rd64(p + PEER_TX) || rd64(p + PEER_RX) || rd64(p + PEER_HANDSHAKE))
		return violation("peer #%u: TxBytes/RxBytes/LastHandshake are output only, must be "
				 "zero in a set",
				 i);
	if ((f & P_REMOVE) && rd32(p + PEER_NIPS))
		return violation("peer #%u: REMOVE with %u allowed IPs", i, rd32(p + PEER_NIPS));
	return TRUE;
}

/* The whole blob, before anything is applied. */
static BOOL check_blob(const uint8_t *b, DWORD bytes)
{
	uint64_t off = IFACE_SIZE;
	uint32_t f, n;

	if (bytes < IFACE_SIZE)
		return violation("SetConfiguration: %lu bytes, less than one WIREGUARD_INTERFACE "
				 "(80)",
				 bytes);
	f = rd32(b + IFACE_FLAGS);
	if (f & ~IF_KNOWN)
		return violation("interface: unknown Flags bits 0x%x", f & ~IF_KNOWN);
	if (!(f & IF_HAS_PRIV) && !all_zero(b + IFACE_PRIV, 32))
		return violation("interface: PrivateKey set without HAS_PRIVATE_KEY");
	if (!(f & IF_HAS_PORT) && rd16(b + IFACE_PORT))
		return violation("interface: ListenPort %u without HAS_LISTEN_PORT",
				 rd16(b + IFACE_PORT));
	if (!all_zero(b + IFACE_PUB + 32, IFACE_PEERS - IFACE_PUB - 32) ||
	    !all_zero(b + IFACE_PEERS + 4, IFACE_SIZE - IFACE_PEERS - 4))
		return violation("interface: padding bytes not zero");
	n = rd32(b + IFACE_PEERS);
	for (uint32_t i = 0; i < n; i++) {
		uint32_t nips;

		if (off + PEER_SIZE > bytes)
			return violation("blob of %lu bytes ends inside peer #%u of PeersCount %u "
					 "(at offset %llu)",
					 bytes, i, n, (unsigned long long)off);
		if (!check_peer(b + off, i))
			return FALSE;
		nips = rd32(b + off + PEER_NIPS);
		off += PEER_SIZE;
		if (off + (uint64_t)nips * AIP_SIZE > bytes)
			return violation(
				"peer #%u: AllowedIPsCount %u runs past the blob's %lu bytes", i,
				nips, bytes);
		for (uint32_t j = 0; j < nips; j++, off += AIP_SIZE)
			if (!check_aip(b + off, i, j))
				return FALSE;
	}
	if (off != bytes)
		return violation("Bytes is %lu but the interface, %u peers and their allowed IPs "
				 "take %llu",
				 bytes, n, (unsigned long long)off);
	return TRUE;
}

static void apply_peer(struct sdev *d, struct iptable *t, const uint8_t *p)
{
	uint32_t f = rd32(p + PEER_FLAGS), nips = rd32(p + PEER_NIPS);
	struct speer *sp;

	if (d->has_priv && !memcmp(p + PEER_PUB, d->pub, 32))
		return; /* the device's own key: ignored, as the driver does */
	sp = peer_find(d, p + PEER_PUB);
	if (!sp) {
		if (f & (P_REMOVE | P_UPDATE))
			return;
		sp = peer_add(d, p + PEER_PUB);
		f &= ~P_REPLACE_IPS;
	}
	if (f & P_REMOVE) {
		peer_remove(d, sp);
		return;
	}
	if (f & P_HAS_PSK)
		memcpy(sp->psk, p + PEER_PSK, 32);
	if (f & P_HAS_EP) {
		memset(sp->endpoint, 0, sizeof(sp->endpoint));
		memcpy(sp->endpoint, p + PEER_ENDPOINT,
		       rd16(p + PEER_ENDPOINT) == WIN_AF_INET ? 16 : 28);
	}
	if (f & P_HAS_KA)
		sp->keepalive = rd16(p + PEER_KEEPALIVE);
	if (f & P_REPLACE_IPS)
		for (size_t j = 0; j < sp->n_ips; j++)
			sp->ips[j].family = 0;
	for (uint32_t j = 0; j < nips; j++) {
		const uint8_t *a = p + PEER_SIZE + (size_t)j * AIP_SIZE;
		struct sip ip = { .family = rd16(a + AIP_FAMILY), .cidr = a[AIP_CIDR] };

		memcpy(ip.addr, a + AIP_ADDR, 16);
		peer_add_ip(d, t, sp, ip);
	}
}

EXPORT BOOL WINAPI WireGuardSetConfiguration(WIREGUARD_ADAPTER_HANDLE_T h, const void *config,
					     DWORD bytes)
{
	const uint8_t *b = config;
	struct iptable t;
	struct sdev d;
	uint32_t f, n;
	uint64_t off = IFACE_SIZE;
	int r;

	if (!handle_ok(h, "WireGuardSetConfiguration"))
		return FALSE;
	if (!config)
		return violation("WireGuardSetConfiguration: Config is NULL");
	if ((uintptr_t)config & 7)
		return violation("WireGuardSetConfiguration: Config at %p is not 8-byte aligned",
				 config);
	if (!check_blob(b, bytes))
		return FALSE;
	if (dev_load(h->name, &d) < 0)
		return FALSE;
	/* The driver's order: listen port, replace peers, then the private
	 * key (which drops a peer holding the derived public key). */
	f = rd32(b + IFACE_FLAGS);
	if (f & IF_HAS_PORT)
		d.port = rd16(b + IFACE_PORT);
	if (f & IF_REPLACE)
		for (size_t i = 0; i < d.n_peers; i++)
			peer_remove(&d, &d.peers[i]);
	if (f & IF_HAS_PRIV) {
		memcpy(d.priv, b + IFACE_PRIV, 32);
		d.has_priv = !all_zero(d.priv, 32);
		if (d.has_priv) {
			struct speer *self;

			standin_x25519_public(d.pub, d.priv);
			self = peer_find(&d, d.pub);
			if (self)
				peer_remove(&d, self);
		} else {
			memset(d.pub, 0, 32);
		}
	}
	ipt_build(&t, &d);
	n = rd32(b + IFACE_PEERS);
	for (uint32_t i = 0; i < n; i++) {
		apply_peer(&d, &t, b + off);
		off += PEER_SIZE + (uint64_t)rd32(b + off + PEER_NIPS) * AIP_SIZE;
	}
	free(t.e);
	r = dev_save(h->name, &d);
	SecureZeroMemory(d.priv, 32);
	dev_free(&d);
	if (r < 0) {
		SetLastError(ERROR_WRITE_FAULT);
		return FALSE;
	}
	return TRUE;
}

/* ------------------------------------------------- test-only */

/* Not part of wireguard-nt: lets a test give a peer traffic counters and a
 * handshake time (100 ns since 1601), which a stand-in without traffic
 * never has. FALSE with ERROR_NOT_FOUND when the peer is absent. */
EXPORT BOOL WINAPI WgkitStandinSetPeerStats(WIREGUARD_ADAPTER_HANDLE_T h, const BYTE pub[32],
					    DWORD64 rx, DWORD64 tx, DWORD64 handshake)
{
	struct speer *sp;
	struct sdev d;
	int r;

	if (!handle_ok(h, "WgkitStandinSetPeerStats") || dev_load(h->name, &d) < 0)
		return FALSE;
	sp = peer_find(&d, pub);
	if (!sp) {
		dev_free(&d);
		SetLastError(ERROR_NOT_FOUND);
		return FALSE;
	}
	sp->rx = rx;
	sp->tx = tx;
	sp->handshake = handshake;
	r = dev_save(h->name, &d);
	dev_free(&d);
	return r == 0;
}
