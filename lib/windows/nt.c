// SPDX-License-Identifier: MIT
/* The wireguard-nt backend: WireGuard for Windows' in-kernel driver through
 * wireguard.dll, loaded at run time (LoadLibraryExW from the program's
 * folder or System32 only, never the current directory or PATH) and called
 * through typed pointers (nt_api.h). A device is read and written as one
 * configuration blob: WIREGUARD_INTERFACE, then each WIREGUARD_PEER
 * followed by its WIREGUARD_ALLOWED_IPs. Win32 errors become -errno here.
 *
 * What the model has and the driver does not: a firewall mark (a set with a
 * non-zero FwMark is refused with -EOPNOTSUPP, never dropped; caps say
 * WGNL_CAP_NO_FWMARK) and the removal of one allowed IP (the documented API
 * has no such flag: refused with -EOPNOTSUPP; callers replace the list, as
 * wgnl_device_caps() without WGNL_CAP_ALLOWEDIP_REMOVE tells them). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/compat.h"
#include "core/internal.h"
#include "windows/nt.h"
#include "windows/nt_api.h"

#define NT_TUNNEL_TYPE L"wgkit"
/* Get retries when the configuration grew between the size query and the
 * read (peers added meanwhile); bounded, as interrupted dumps are. */
#define NT_GET_RETRIES 8

struct nt_created {
	char name[WGNL_IFNAMSIZ];
	WIREGUARD_ADAPTER_HANDLE handle;
};

/* The backend's state in a context: the DLL and the adapters it created
 * (which live as long as their handle). */
struct nt_state {
	HMODULE dll;
	bool loaded;
	wgi_nt_create_adapter_fn create_adapter;
	wgi_nt_open_adapter_fn open_adapter;
	wgi_nt_close_adapter_fn close_adapter;
	wgi_nt_get_adapter_luid_fn get_luid;
	wgi_nt_get_running_driver_version_fn driver_version;
	wgi_nt_set_adapter_state_fn set_state;
	wgi_nt_get_adapter_state_fn get_state;
	wgi_nt_set_configuration_fn set_config;
	wgi_nt_get_configuration_fn get_config;
	struct nt_created *created;
	size_t n_created;
	/* The size the last read needed: the next one starts there, so a
	 * device that did not grow is read in one call. */
	DWORD last_size;
};

static int nt_open(void **priv)
{
	*priv = calloc(1, sizeof(struct nt_state));
	return *priv ? 0 : -ENOMEM;
}

static void nt_close(void *priv)
{
	struct nt_state *st = priv;

	if (!st)
		return;
	for (size_t i = 0; i < st->n_created; i++)
		st->close_adapter(st->created[i].handle);
	free(st->created);
	if (st->dll)
		FreeLibrary(st->dll);
	free(st);
}

/* GetProcAddress into a typed pointer: the cast through a generic function
 * pointer is the documented way to call an export. */
#define NT_PROC(st, field, name)                                                                 \
	((st)->field = (__typeof__((st)->field))(void (*)(void))GetProcAddress((st)->dll, name), \
	 (st)->field != NULL)

/* The DLL, loaded once per context on first use. */
static int nt_load(struct wgnl_ctx *ctx, struct nt_state **ret)
{
	struct nt_state *st = wgi_backend_priv(ctx, &wgi_nt_backend);

	*ret = NULL;
	if (!st->loaded) {
		st->dll = LoadLibraryExW(L"wireguard.dll", NULL,
					 LOAD_LIBRARY_SEARCH_APPLICATION_DIR |
						 LOAD_LIBRARY_SEARCH_SYSTEM32);
		if (!st->dll) {
			wgi_set_error(ctx, "wireguard.dll not found: install WireGuard for Windows "
					   "or put wireguard.dll beside the program");
			return -ENOENT;
		}
		if (!NT_PROC(st, create_adapter, "WireGuardCreateAdapter") ||
		    !NT_PROC(st, open_adapter, "WireGuardOpenAdapter") ||
		    !NT_PROC(st, close_adapter, "WireGuardCloseAdapter") ||
		    !NT_PROC(st, get_luid, "WireGuardGetAdapterLUID") ||
		    !NT_PROC(st, driver_version, "WireGuardGetRunningDriverVersion") ||
		    !NT_PROC(st, set_state, "WireGuardSetAdapterState") ||
		    !NT_PROC(st, get_state, "WireGuardGetAdapterState") ||
		    !NT_PROC(st, set_config, "WireGuardSetConfiguration") ||
		    !NT_PROC(st, get_config, "WireGuardGetConfiguration")) {
			FreeLibrary(st->dll);
			st->dll = NULL;
			wgi_set_error(ctx, "wireguard.dll lacks the wireguard-nt 0.10 API "
					   "(an older or foreign DLL?)");
			return -ENOENT;
		}
		st->loaded = true;
	}
	*ret = st;
	return 0;
}

/* A Win32 error of @what on @name as -errno, with the explanation kept. */
static int nt_error(struct wgnl_ctx *ctx, const char *what, const char *name, DWORD err)
{
	int e;

	switch (err) {
	case ERROR_FILE_NOT_FOUND:
	case ERROR_PATH_NOT_FOUND:
	case ERROR_DEVICE_NOT_AVAILABLE:
	case ERROR_NOT_FOUND:
		wgi_set_error(ctx, "no WireGuard adapter named '%s'", name);
		return -ENODEV;
	case ERROR_ACCESS_DENIED:
		wgi_set_error(ctx, "%s '%s': access denied (run as Administrator)", what, name);
		return -EPERM;
	default:
		e = wgi_errno_from_win32(err);
		if (e == 0 || e == ENOENT)
			e = EIO;
		wgi_set_error(ctx, "%s '%s' failed: Windows error %lu", what, name, err);
		return -e;
	}
}

static int nt_wide_name(struct wgnl_ctx *ctx, const char *name, WCHAR *out, size_t len)
{
	if (!name || !*name ||
	    MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, name, -1, out, (int)len) <= 0) {
		wgi_set_error(ctx, "invalid adapter name");
		return -EINVAL;
	}
	return 0;
}

static struct nt_created *nt_find_created(struct nt_state *st, const char *name)
{
	for (size_t i = 0; i < st->n_created; i++)
		if (!strcmp(st->created[i].name, name))
			return &st->created[i];
	return NULL;
}

/* A handle on adapter @name: the context's own when it created it (*owned
 * false: not to be closed), else a new one the caller closes. */
static int nt_adapter(struct wgnl_ctx *ctx, struct nt_state **stp, const char *name,
		      WIREGUARD_ADAPTER_HANDLE *h, bool *close_it)
{
	WCHAR wname[WGI_NT_MAX_NAME];
	struct nt_created *c;
	struct nt_state *st;
	int r;

	*h = NULL;
	*close_it = false;
	r = nt_load(ctx, &st);
	if (r < 0)
		return r;
	*stp = st;
	c = nt_find_created(st, name);
	if (c) {
		*h = c->handle;
		return 0;
	}
	r = nt_wide_name(ctx, name, wname, WGI_ARRAY_SIZE(wname));
	if (r < 0)
		return r;
	*h = st->open_adapter(wname);
	if (!*h)
		return nt_error(ctx, "open adapter", name, GetLastError());
	*close_it = true;
	return 0;
}

/* ------------------------------------------------------------- reading */

static void nt_to_timespec(DWORD64 t, struct timespec *ts)
{
	if (t <= WGI_NT_EPOCH_DIFF) {
		ts->tv_sec = 0;
		ts->tv_nsec = 0;
		return;
	}
	t -= WGI_NT_EPOCH_DIFF;
	ts->tv_sec = (time_t)(t / 10000000ULL);
	ts->tv_nsec = (long)(t % 10000000ULL) * 100;
}

static int nt_parse_ip(struct wgnl_ctx *ctx, const WIREGUARD_ALLOWED_IP *a, struct wgnl_peer *peer)
{
	struct wgnl_prefix p = { .family = a->AddressFamily, .cidr = a->Cidr };

	if (a->AddressFamily == AF_INET && a->Cidr <= 32) {
		memcpy(&p.ip4, &a->Address.V4, sizeof(p.ip4));
	} else if (a->AddressFamily == AF_INET6 && a->Cidr <= 128) {
		memcpy(&p.ip6, &a->Address.V6, sizeof(p.ip6));
	} else {
		wgi_set_error(ctx, "wireguard.dll returned an allowed IP of family %u, cidr %u",
			      a->AddressFamily, a->Cidr);
		return -EBADMSG;
	}
	return wgnl_peer_add_allowedip(peer, &p);
}

static int nt_parse_peer(struct wgnl_ctx *ctx, const WIREGUARD_PEER *src, struct wgnl_device *dev)
{
	struct wgnl_peer *peer;
	int r = wgnl_device_add_peer(dev, src->PublicKey, &peer);

	if (r < 0)
		return r == -EEXIST ? -EBADMSG : r;
	if (src->Flags & WIREGUARD_PEER_HAS_PRESHARED_KEY) {
		memcpy(peer->preshared_key, src->PresharedKey, WGNL_KEY_LEN);
		peer->flags |= WGNL_PEER_HAS_PRESHARED_KEY;
	}
	if (src->Flags & WIREGUARD_PEER_HAS_PERSISTENT_KEEPALIVE) {
		peer->persistent_keepalive = src->PersistentKeepalive;
		peer->flags |= WGNL_PEER_HAS_KEEPALIVE;
	}
	if (src->Flags & WIREGUARD_PEER_HAS_ENDPOINT) {
		if (src->Endpoint.si_family == AF_INET)
			memcpy(&peer->endpoint.addr4, &src->Endpoint.Ipv4, sizeof(SOCKADDR_IN));
		else if (src->Endpoint.si_family == AF_INET6)
			memcpy(&peer->endpoint.addr6, &src->Endpoint.Ipv6, sizeof(SOCKADDR_IN6));
		else
			return -EBADMSG;
		peer->flags |= WGNL_PEER_HAS_ENDPOINT;
	}
	peer->rx_bytes = src->RxBytes;
	peer->tx_bytes = src->TxBytes;
	nt_to_timespec(src->LastHandshake, &peer->last_handshake);
	/* The driver speaks protocol version 1, the only one there is. */
	peer->protocol_version = 1;
	peer->flags |= WGNL_PEER_HAS_RX_TX | WGNL_PEER_HAS_LAST_HANDSHAKE |
		       WGNL_PEER_HAS_PROTOCOL_VERSION;
	return 0;
}

/* The blob of @bytes at @b into @dev, distrusting every count. */
static int nt_parse(struct wgnl_ctx *ctx, const uint8_t *b, size_t bytes, struct wgnl_device *dev)
{
	const WIREGUARD_INTERFACE *iface = (const void *)b;
	size_t off = sizeof(*iface);
	int r;

	if (bytes < sizeof(*iface))
		goto short_blob;
	if (iface->Flags & WIREGUARD_INTERFACE_HAS_PRIVATE_KEY) {
		memcpy(dev->private_key, iface->PrivateKey, WGNL_KEY_LEN);
		dev->flags |= WGNL_DEV_HAS_PRIVATE_KEY;
	}
	if (iface->Flags & WIREGUARD_INTERFACE_HAS_PUBLIC_KEY) {
		memcpy(dev->public_key, iface->PublicKey, WGNL_KEY_LEN);
		dev->flags |= WGNL_DEV_HAS_PUBLIC_KEY;
	}
	if (iface->Flags & WIREGUARD_INTERFACE_HAS_LISTEN_PORT) {
		dev->listen_port = iface->ListenPort;
		dev->flags |= WGNL_DEV_HAS_LISTEN_PORT;
	}
	r = wgnl_device_reserve(dev, iface->PeersCount);
	if (r < 0)
		return r;
	for (DWORD i = 0; i < iface->PeersCount; i++) {
		const WIREGUARD_PEER *p = (const void *)(b + off);
		const WIREGUARD_ALLOWED_IP *ips;

		if (bytes - off < sizeof(*p))
			goto short_blob;
		r = nt_parse_peer(ctx, p, dev);
		if (r == -EBADMSG)
			wgi_set_error(ctx, "wireguard.dll returned a bad peer #%lu", i);
		if (r < 0)
			return r;
		off += sizeof(*p);
		ips = (const void *)(b + off);
		if ((bytes - off) / sizeof(*ips) < p->AllowedIPsCount)
			goto short_blob;
		for (DWORD j = 0; j < p->AllowedIPsCount; j++) {
			r = nt_parse_ip(ctx, &ips[j], &dev->peers[dev->n_peers - 1]);
			if (r < 0)
				return r;
		}
		off += (size_t)p->AllowedIPsCount * sizeof(*ips);
	}
	return 0;
short_blob:
	wgi_set_error(ctx, "wireguard.dll returned %lu bytes, fewer than its counts need",
		      (unsigned long)bytes);
	return -EBADMSG;
}

/* The configuration blob of @h into *buf (8-byte aligned, the caller wipes
 * and frees it), grown while the driver says ERROR_MORE_DATA. */
static int nt_read_blob(struct wgnl_ctx *ctx, struct nt_state *st, WIREGUARD_ADAPTER_HANDLE h,
			const char *name, uint8_t **buf, DWORD *bytes)
{
	DWORD size = st->last_size > 64 * 1024 ? st->last_size : 64 * 1024, cap = 0;

	*buf = NULL;
	for (int tries = 0; tries < NT_GET_RETRIES; tries++) {
		if (size > cap) {
			if (*buf) {
				wgnl_wipe(*buf, cap);
				_aligned_free(*buf);
			}
			*buf = _aligned_malloc(size, 8);
			if (!*buf)
				return -ENOMEM;
			cap = size;
		}
		size = cap;
		ctx->stats.get_msgs++;
		if (st->get_config(h, (WIREGUARD_INTERFACE *)*buf, &size)) {
			ctx->stats.recv_msgs++;
			*bytes = size;
			st->last_size = size;
			return 0;
		}
		if (GetLastError() != ERROR_MORE_DATA)
			return nt_error(ctx, "read configuration of", name, GetLastError());
	}
	wgi_set_error(ctx, "the configuration of '%s' kept growing while read", name);
	return -EAGAIN;
}

static int nt_get_device(struct wgnl_ctx *ctx, const char *ifname, struct wgnl_device **ret)
{
	WIREGUARD_ADAPTER_HANDLE h;
	struct wgnl_device *dev = NULL;
	struct nt_state *st;
	uint8_t *buf = NULL;
	DWORD bytes = 0;
	bool close_it;
	int r;

	*ret = NULL;
	r = nt_adapter(ctx, &st, ifname, &h, &close_it);
	if (r < 0)
		return r;
	r = nt_read_blob(ctx, st, h, ifname, &buf, &bytes);
	if (close_it)
		st->close_adapter(h);
	if (r == 0) {
		dev = wgnl_device_new(ifname);
		r = dev ? nt_parse(ctx, buf, bytes, dev) : -ENOMEM;
	}
	if (buf) {
		wgnl_wipe(buf, bytes);
		_aligned_free(buf);
	}
	if (r < 0) {
		wgnl_device_free(dev);
		return r;
	}
	*ret = dev;
	return 0;
}

/* ------------------------------------------------------------- writing */

static bool nt_sends(const struct wgnl_peer *p)
{
	return !(p->flags & WGNL_PEER_SKIP);
}

/* Refuse what the driver cannot do before anything is sent. Returns the
 * blob's size in *bytes. */
static int nt_check(struct wgnl_ctx *ctx, const struct wgnl_device *dev, size_t *bytes)
{
	wgnl_key_b64 key;
	size_t n = sizeof(WIREGUARD_INTERFACE);

	if ((dev->flags & WGNL_DEV_HAS_FWMARK) && dev->fwmark) {
		wgi_set_error(ctx,
			      "FwMark is not supported by wireguard-nt (Windows has no "
			      "firewall marks); remove FwMark = 0x%x",
			      dev->fwmark);
		return -EOPNOTSUPP;
	}
	for (size_t i = 0; i < dev->n_peers; i++) {
		const struct wgnl_peer *p = &dev->peers[i];

		if (!nt_sends(p))
			continue;
		n += sizeof(WIREGUARD_PEER);
		if (p->flags & WGNL_PEER_REMOVE)
			continue;
		wgnl_key_to_base64(key, p->public_key);
		if ((p->flags & WGNL_PEER_HAS_ENDPOINT) && p->endpoint.addr.sa_family != AF_INET &&
		    p->endpoint.addr.sa_family != AF_INET6) {
			wgi_set_error(ctx, "peer %s: endpoint has no address", key);
			return -EINVAL;
		}
		for (size_t j = 0; j < p->n_allowedips; j++) {
			const struct wgnl_prefix *a = &p->allowedips[j];

			if (a->flags & WGNL_PREFIX_REMOVE) {
				wgi_set_error(ctx,
					      "peer %s: wireguard-nt cannot remove one allowed "
					      "IP; replace the list instead",
					      key);
				return -EOPNOTSUPP;
			}
			if (!((a->family == AF_INET && a->cidr <= 32) ||
			      (a->family == AF_INET6 && a->cidr <= 128))) {
				wgi_set_error(ctx,
					      "peer %s: allowed IP #%lu has a bad family or "
					      "prefix length",
					      key, (unsigned long)j + 1);
				return -EINVAL;
			}
		}
		n += p->n_allowedips * sizeof(WIREGUARD_ALLOWED_IP);
	}
	if (n > MAXDWORD) {
		wgi_set_error(ctx, "the configuration of '%s' needs over 4 GiB", dev->name);
		return -E2BIG;
	}
	*bytes = n;
	return 0;
}

static uint8_t *nt_put_peer(const struct wgnl_peer *p, WIREGUARD_PEER *out)
{
	WIREGUARD_ALLOWED_IP *ip = (WIREGUARD_ALLOWED_IP *)(out + 1);

	out->Flags = WIREGUARD_PEER_HAS_PUBLIC_KEY;
	memcpy(out->PublicKey, p->public_key, WGNL_KEY_LEN);
	if (p->flags & WGNL_PEER_REMOVE) {
		out->Flags |= WIREGUARD_PEER_REMOVE;
		return (uint8_t *)ip;
	}
	if (p->flags & WGNL_PEER_UPDATE_ONLY)
		out->Flags |= WIREGUARD_PEER_UPDATE;
	if (p->flags & WGNL_PEER_REPLACE_ALLOWEDIPS)
		out->Flags |= WIREGUARD_PEER_REPLACE_ALLOWED_IPS;
	if (p->flags & WGNL_PEER_HAS_PRESHARED_KEY) {
		out->Flags |= WIREGUARD_PEER_HAS_PRESHARED_KEY;
		memcpy(out->PresharedKey, p->preshared_key, WGNL_KEY_LEN);
	}
	if (p->flags & WGNL_PEER_HAS_KEEPALIVE) {
		out->Flags |= WIREGUARD_PEER_HAS_PERSISTENT_KEEPALIVE;
		out->PersistentKeepalive = p->persistent_keepalive;
	}
	if (p->flags & WGNL_PEER_HAS_ENDPOINT) {
		out->Flags |= WIREGUARD_PEER_HAS_ENDPOINT;
		if (p->endpoint.addr.sa_family == AF_INET)
			memcpy(&out->Endpoint.Ipv4, &p->endpoint.addr4, sizeof(SOCKADDR_IN));
		else
			memcpy(&out->Endpoint.Ipv6, &p->endpoint.addr6, sizeof(SOCKADDR_IN6));
	}
	out->AllowedIPsCount = (DWORD)p->n_allowedips;
	for (size_t j = 0; j < p->n_allowedips; j++, ip++) {
		const struct wgnl_prefix *a = &p->allowedips[j];

		ip->AddressFamily = a->family;
		ip->Cidr = a->cidr;
		if (a->family == AF_INET)
			memcpy(&ip->Address.V4, &a->ip4, sizeof(a->ip4));
		else
			memcpy(&ip->Address.V6, &a->ip6, sizeof(a->ip6));
	}
	return (uint8_t *)ip;
}

/* The blob for @dev into @buf (@bytes, zeroed: reserved fields and padding
 * stay zero). */
static void nt_build(const struct wgnl_device *dev, uint8_t *buf)
{
	WIREGUARD_INTERFACE *iface = (WIREGUARD_INTERFACE *)buf;
	uint8_t *at = buf + sizeof(*iface);

	if (dev->flags & WGNL_DEV_HAS_PRIVATE_KEY) {
		iface->Flags |= WIREGUARD_INTERFACE_HAS_PRIVATE_KEY;
		memcpy(iface->PrivateKey, dev->private_key, WGNL_KEY_LEN);
	}
	if (dev->flags & WGNL_DEV_HAS_LISTEN_PORT) {
		iface->Flags |= WIREGUARD_INTERFACE_HAS_LISTEN_PORT;
		iface->ListenPort = dev->listen_port;
	}
	if (dev->flags & WGNL_DEV_REPLACE_PEERS)
		iface->Flags |= WIREGUARD_INTERFACE_REPLACE_PEERS;
	for (size_t i = 0; i < dev->n_peers; i++) {
		if (!nt_sends(&dev->peers[i]))
			continue;
		at = nt_put_peer(&dev->peers[i], (WIREGUARD_PEER *)at);
		iface->PeersCount++;
	}
}

static int nt_set_device(struct wgnl_ctx *ctx, const struct wgnl_device *dev)
{
	WIREGUARD_ADAPTER_HANDLE h;
	struct nt_state *st;
	uint8_t *buf;
	size_t bytes;
	bool close_it;
	BOOL ok;
	DWORD err;
	int r;

	r = nt_check(ctx, dev, &bytes);
	if (r < 0)
		return r;
	r = nt_adapter(ctx, &st, dev->name, &h, &close_it);
	if (r < 0)
		return r;
	buf = _aligned_malloc(bytes, 8);
	if (!buf) {
		if (close_it)
			st->close_adapter(h);
		return -ENOMEM;
	}
	memset(buf, 0, bytes);
	nt_build(dev, buf);
	ctx->stats.set_msgs++;
	ok = st->set_config(h, (const WIREGUARD_INTERFACE *)buf, (DWORD)bytes);
	err = GetLastError();
	wgnl_wipe(buf, bytes);
	_aligned_free(buf);
	if (close_it)
		st->close_adapter(h);
	if (!ok)
		return nt_error(ctx, "set configuration of", dev->name, err);
	return 0;
}

/* ------------------------------------------------------------ the rest */

/* wireguard-nt 0.10 has no enumeration: the WireGuard adapters are the
 * network interfaces whose name opens as one. */
static int nt_list_devices(struct wgnl_ctx *ctx, char ***names, size_t *n)
{
	MIB_IF_TABLE2 *table = NULL;
	struct nt_state *st;
	int r = nt_load(ctx, &st);

	if (r < 0)
		return r;
	if (GetIfTable2(&table) != NO_ERROR)
		return 0;
	for (ULONG i = 0; i < table->NumEntries && r == 0; i++) {
		const WCHAR *alias = table->Table[i].Alias;
		char name[WGNL_IFNAMSIZ];
		WIREGUARD_ADAPTER_HANDLE h;

		if (WideCharToMultiByte(CP_UTF8, 0, alias, -1, name, sizeof(name), NULL, NULL) <= 0)
			continue;
		h = st->open_adapter(alias);
		if (!h)
			continue;
		st->close_adapter(h);
		r = wgi_strv_push(names, n, name);
	}
	FreeMibTable(table);
	return r;
}

static int nt_caps(struct wgnl_ctx *ctx)
{
	return WGNL_CAP_NO_FWMARK;
}

int wgi_nt_adapter_create(struct wgnl_ctx *ctx, const char *name)
{
	WCHAR wname[WGI_NT_MAX_NAME];
	WIREGUARD_ADAPTER_HANDLE h;
	struct nt_created *c;
	struct nt_state *st;
	int r;

	if (!name || strlen(name) >= WGNL_IFNAMSIZ)
		return -EINVAL;
	r = nt_load(ctx, &st);
	if (r == 0)
		r = nt_wide_name(ctx, name, wname, WGI_ARRAY_SIZE(wname));
	if (r < 0)
		return r;
	c = realloc(st->created, (st->n_created + 1) * sizeof(*c));
	if (!c)
		return -ENOMEM;
	st->created = c;
	h = st->create_adapter(wname, NT_TUNNEL_TYPE, NULL);
	if (!h) {
		if (GetLastError() == ERROR_ALREADY_EXISTS) {
			wgi_set_error(ctx, "an adapter named '%s' already exists", name);
			return -EEXIST;
		}
		return nt_error(ctx, "create adapter", name, GetLastError());
	}
	c = &st->created[st->n_created++];
	strcpy(c->name, name);
	c->handle = h;
	return 0;
}

int wgi_nt_adapter_delete(struct wgnl_ctx *ctx, const char *name)
{
	WIREGUARD_ADAPTER_HANDLE h;
	struct nt_created *c;
	struct nt_state *st;
	bool close_it;
	int r = nt_adapter(ctx, &st, name, &h, &close_it);

	if (r < 0)
		return r;
	if (close_it) {
		st->close_adapter(h);
		wgi_set_error(ctx,
			      "adapter '%s' was created by another process; only its "
			      "creator can remove it",
			      name);
		return -EBUSY;
	}
	c = nt_find_created(st, name);
	st->close_adapter(c->handle);
	*c = st->created[--st->n_created];
	return 0;
}

int wgi_nt_adapter_luid(struct wgnl_ctx *ctx, const char *name, uint64_t *luid)
{
	WIREGUARD_ADAPTER_HANDLE h;
	struct nt_state *st;
	NET_LUID l = { 0 };
	bool close_it;
	int r = nt_adapter(ctx, &st, name, &h, &close_it);

	if (r < 0)
		return r;
	st->get_luid(h, &l);
	if (close_it)
		st->close_adapter(h);
	*luid = l.Value;
	return 0;
}

int wgi_nt_adapter_set_up(struct wgnl_ctx *ctx, const char *name, bool up)
{
	WIREGUARD_ADAPTER_HANDLE h;
	struct nt_state *st;
	bool close_it;
	BOOL ok;
	DWORD err;
	int r = nt_adapter(ctx, &st, name, &h, &close_it);

	if (r < 0)
		return r;
	ok = st->set_state(h, up ? WIREGUARD_ADAPTER_STATE_UP : WIREGUARD_ADAPTER_STATE_DOWN);
	err = GetLastError();
	if (close_it)
		st->close_adapter(h);
	return ok ? 0 : nt_error(ctx, up ? "set up" : "set down", name, err);
}

int wgi_nt_adapter_is_up(struct wgnl_ctx *ctx, const char *name)
{
	WIREGUARD_ADAPTER_STATE state = WIREGUARD_ADAPTER_STATE_DOWN;
	WIREGUARD_ADAPTER_HANDLE h;
	struct nt_state *st;
	bool close_it;
	BOOL ok;
	DWORD err;
	int r = nt_adapter(ctx, &st, name, &h, &close_it);

	if (r < 0)
		return r;
	ok = st->get_state(h, &state);
	err = GetLastError();
	if (close_it)
		st->close_adapter(h);
	if (!ok)
		return nt_error(ctx, "read the state of", name, err);
	return state == WIREGUARD_ADAPTER_STATE_UP;
}

int wgi_nt_driver_version(struct wgnl_ctx *ctx, uint32_t *version)
{
	struct nt_state *st;
	DWORD v;
	int r = nt_load(ctx, &st);

	if (r < 0)
		return r;
	v = st->driver_version();
	if (!v) {
		if (GetLastError() == ERROR_FILE_NOT_FOUND) {
			wgi_set_error(ctx, "the wireguard-nt driver is not loaded (no adapter "
					   "exists)");
			return -ENOENT;
		}
		return nt_error(ctx, "read the driver version of", "wireguard.dll", GetLastError());
	}
	*version = v;
	return 0;
}

/* The only WireGuard of Windows: it claims every name (no claims op) and
 * reads a device whole (the generic stream over get_device). */
const struct wgi_backend_ops wgi_nt_backend = {
	.name = "wireguard-nt",
	.kind = WGNL_BACKEND_KERNEL,
	.open = nt_open,
	.close = nt_close,
	.claims = NULL,
	.get_device = nt_get_device,
	.get_device_stream = NULL,
	.set_device = nt_set_device,
	.list_devices = nt_list_devices,
	.caps = nt_caps,
	.clear_peers = NULL,
	.release_stale = NULL,
};
