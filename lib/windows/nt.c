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
#include "windows/nt_blob.h"
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
		r = dev ? wgi_nt_blob_parse(ctx, buf, bytes, dev) : -ENOMEM;
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

	r = wgi_nt_blob_size(ctx, dev, &bytes);
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
	wgi_nt_blob_build(dev, buf);
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
