/* SPDX-License-Identifier: MIT */
/* The wireguard-nt API (wireguard.dll, WireGuardNT 0.10 and later) as its
 * documentation states it: written here from the documented facts (function
 * names and signatures, struct fields, flag values, sizes), not copied from
 * the project's header. Shared by the backend (lib/windows/nt.c) and nothing
 * else: the stand-in DLL in tests/windows/standin reads blobs through its
 * own offset table, so a mistake here cannot hide behind a shared one.
 *
 * The configuration is one blob: a WIREGUARD_INTERFACE, then PeersCount
 * times a WIREGUARD_PEER each followed by its AllowedIPsCount
 * WIREGUARD_ALLOWED_IPs. Every struct is 8-byte aligned and its size a
 * multiple of 8, so the parts stack without gaps.
 *
 * Where each figure below comes from (x86_64, the only target we build):
 *   struct                 size  field offsets
 *   WIREGUARD_ALLOWED_IP    24   Address 0 (IN_ADDR | IN6_ADDR, 16),
 *                                AddressFamily 16 (ADDRESS_FAMILY = USHORT),
 *                                Cidr 18 (BYTE), 19..23 padding
 *   WIREGUARD_PEER         136   Flags 0, Reserved 4, PublicKey 8,
 *                                PresharedKey 40, PersistentKeepalive 72
 *                                (WORD), 74..75 padding, Endpoint 76
 *                                (SOCKADDR_INET, 28 bytes, 4-aligned),
 *                                TxBytes 104, RxBytes 112, LastHandshake 120,
 *                                AllowedIPsCount 128, 132..135 padding
 *   WIREGUARD_INTERFACE     80   Flags 0, ListenPort 4 (WORD), PrivateKey 6,
 *                                PublicKey 38, 70..71 padding, PeersCount 72,
 *                                76..79 padding
 * Sources: the documented struct definitions (field order and types, each
 * struct ALIGNED(8)) and the layout tests of the bindgen bindings generated
 * from that header (NordSecurity/wireguard-nt-rust-wrapper,
 * src/wireguard_nt_raw.rs: sizes 24/136/80, alignment 8 and every offset
 * above). The padding bytes are written as zero: later drivers give some of
 * them a meaning (peer Reserved became a protocol version, allowed-IP
 * bytes 20..23 a flags word whose bit 0 removes the prefix), so garbage
 * there would be read as a request.
 *
 * Win32 facts the backend relies on: SOCKADDR_INET is the union of
 * SOCKADDR_IN (16), SOCKADDR_IN6 (28) and si_family; AF_INET6 is 23 on
 * Windows; ports are in network byte order; LastHandshake is in 100 ns
 * units since 1601-01-01 UTC (FILETIME), 0 = never. */
#ifndef WGI_NT_API_H
#define WGI_NT_API_H

#include <winsock2.h>
#include <windows.h>
#include <ws2ipdef.h>
#include <ifdef.h>
#include <stddef.h>

/* An adapter as the DLL hands it out; opaque. */
typedef struct wgi_nt_adapter_opaque *WIREGUARD_ADAPTER_HANDLE;

#define WIREGUARD_KEY_LENGTH 32
/* Names (adapter, tunnel type) are at most MAX_ADAPTER_NAME - 1 = 127 UTF-16
 * units plus the terminating zero. */
#define WGI_NT_MAX_NAME 128

typedef enum {
	WIREGUARD_ADAPTER_STATE_DOWN = 0,
	WIREGUARD_ADAPTER_STATE_UP = 1,
} WIREGUARD_ADAPTER_STATE;

typedef enum {
	WIREGUARD_ADAPTER_LOG_OFF = 0,
	WIREGUARD_ADAPTER_LOG_ON = 1,
	WIREGUARD_ADAPTER_LOG_ON_WITH_PREFIX = 2,
} WIREGUARD_ADAPTER_LOG_STATE;

typedef enum {
	WIREGUARD_LOG_INFO = 0,
	WIREGUARD_LOG_WARN = 1,
	WIREGUARD_LOG_ERR = 2,
} WIREGUARD_LOGGER_LEVEL;

/* Flags of WIREGUARD_INTERFACE. On a get the driver sets the HAS_* bits of
 * what it reports; on a set it reads the fields whose bit is set (PublicKey
 * is derived from PrivateKey and never read). */
enum {
	WIREGUARD_INTERFACE_HAS_PUBLIC_KEY = 1U << 0,
	WIREGUARD_INTERFACE_HAS_PRIVATE_KEY = 1U << 1,
	WIREGUARD_INTERFACE_HAS_LISTEN_PORT = 1U << 2,
	WIREGUARD_INTERFACE_REPLACE_PEERS = 1U << 3,
};
#define WGI_NT_INTERFACE_FLAGS_ALL 0xfU

/* Flags of WIREGUARD_PEER. Bit 4 is not part of the documented API. */
enum {
	WIREGUARD_PEER_HAS_PUBLIC_KEY = 1U << 0,
	WIREGUARD_PEER_HAS_PRESHARED_KEY = 1U << 1,
	WIREGUARD_PEER_HAS_PERSISTENT_KEEPALIVE = 1U << 2,
	WIREGUARD_PEER_HAS_ENDPOINT = 1U << 3,
	WIREGUARD_PEER_REPLACE_ALLOWED_IPS = 1U << 5,
	WIREGUARD_PEER_REMOVE = 1U << 6,
	WIREGUARD_PEER_UPDATE = 1U << 7, /* update only: never create the peer */
};
#define WGI_NT_PEER_FLAGS_ALL 0xefU

typedef struct __attribute__((aligned(8))) {
	union {
		IN_ADDR V4;
		IN6_ADDR V6;
	} Address;
	ADDRESS_FAMILY AddressFamily; /* AF_INET or AF_INET6 */
	BYTE Cidr;		      /* 0..32 or 0..128 */
} WIREGUARD_ALLOWED_IP;

typedef struct __attribute__((aligned(8))) {
	DWORD Flags;	/* WIREGUARD_PEER_* */
	DWORD Reserved; /* zero */
	BYTE PublicKey[WIREGUARD_KEY_LENGTH];
	BYTE PresharedKey[WIREGUARD_KEY_LENGTH];
	WORD PersistentKeepalive; /* seconds, 0 = off */
	SOCKADDR_INET Endpoint;
	DWORD64 TxBytes;
	DWORD64 RxBytes;
	DWORD64 LastHandshake; /* 100 ns since 1601-01-01 UTC, 0 = never */
	DWORD AllowedIPsCount; /* WIREGUARD_ALLOWED_IPs that follow */
} WIREGUARD_PEER;

typedef struct __attribute__((aligned(8))) {
	DWORD Flags; /* WIREGUARD_INTERFACE_* */
	WORD ListenPort;
	BYTE PrivateKey[WIREGUARD_KEY_LENGTH];
	BYTE PublicKey[WIREGUARD_KEY_LENGTH];
	DWORD PeersCount; /* WIREGUARD_PEERs that follow */
} WIREGUARD_INTERFACE;

/* The documented layout, checked wherever this header is compiled. */
_Static_assert(sizeof(SOCKADDR_INET) == 28, "SOCKADDR_INET");
_Static_assert(sizeof(NET_LUID) == 8, "NET_LUID");
_Static_assert(AF_INET == 2 && AF_INET6 == 23, "Windows address families");
_Static_assert(sizeof(WIREGUARD_ALLOWED_IP) == 24, "WIREGUARD_ALLOWED_IP size");
_Static_assert(_Alignof(WIREGUARD_ALLOWED_IP) == 8, "WIREGUARD_ALLOWED_IP alignment");
_Static_assert(offsetof(WIREGUARD_ALLOWED_IP, Address) == 0, "ALLOWED_IP.Address");
_Static_assert(offsetof(WIREGUARD_ALLOWED_IP, AddressFamily) == 16, "ALLOWED_IP.AddressFamily");
_Static_assert(offsetof(WIREGUARD_ALLOWED_IP, Cidr) == 18, "ALLOWED_IP.Cidr");
_Static_assert(sizeof(WIREGUARD_PEER) == 136, "WIREGUARD_PEER size");
_Static_assert(_Alignof(WIREGUARD_PEER) == 8, "WIREGUARD_PEER alignment");
_Static_assert(offsetof(WIREGUARD_PEER, Flags) == 0, "PEER.Flags");
_Static_assert(offsetof(WIREGUARD_PEER, Reserved) == 4, "PEER.Reserved");
_Static_assert(offsetof(WIREGUARD_PEER, PublicKey) == 8, "PEER.PublicKey");
_Static_assert(offsetof(WIREGUARD_PEER, PresharedKey) == 40, "PEER.PresharedKey");
_Static_assert(offsetof(WIREGUARD_PEER, PersistentKeepalive) == 72, "PEER.PersistentKeepalive");
_Static_assert(offsetof(WIREGUARD_PEER, Endpoint) == 76, "PEER.Endpoint");
_Static_assert(offsetof(WIREGUARD_PEER, TxBytes) == 104, "PEER.TxBytes");
_Static_assert(offsetof(WIREGUARD_PEER, RxBytes) == 112, "PEER.RxBytes");
_Static_assert(offsetof(WIREGUARD_PEER, LastHandshake) == 120, "PEER.LastHandshake");
_Static_assert(offsetof(WIREGUARD_PEER, AllowedIPsCount) == 128, "PEER.AllowedIPsCount");
_Static_assert(sizeof(WIREGUARD_INTERFACE) == 80, "WIREGUARD_INTERFACE size");
_Static_assert(_Alignof(WIREGUARD_INTERFACE) == 8, "WIREGUARD_INTERFACE alignment");
_Static_assert(offsetof(WIREGUARD_INTERFACE, Flags) == 0, "INTERFACE.Flags");
_Static_assert(offsetof(WIREGUARD_INTERFACE, ListenPort) == 4, "INTERFACE.ListenPort");
_Static_assert(offsetof(WIREGUARD_INTERFACE, PrivateKey) == 6, "INTERFACE.PrivateKey");
_Static_assert(offsetof(WIREGUARD_INTERFACE, PublicKey) == 38, "INTERFACE.PublicKey");
_Static_assert(offsetof(WIREGUARD_INTERFACE, PeersCount) == 72, "INTERFACE.PeersCount");

/* The exported functions, by the names GetProcAddress finds them under.
 * Every one is WINAPI; failures return NULL / FALSE / 0 with the reason in
 * GetLastError(). */
typedef WIREGUARD_ADAPTER_HANDLE(WINAPI *wgi_nt_create_adapter_fn)(LPCWSTR name,
								   LPCWSTR tunnel_type,
								   const GUID *requested_guid);
/* ERROR_FILE_NOT_FOUND: no adapter of that name. */
typedef WIREGUARD_ADAPTER_HANDLE(WINAPI *wgi_nt_open_adapter_fn)(LPCWSTR name);
/* Releases the handle; an adapter created through it is removed. */
typedef VOID(WINAPI *wgi_nt_close_adapter_fn)(WIREGUARD_ADAPTER_HANDLE adapter);
typedef VOID(WINAPI *wgi_nt_get_adapter_luid_fn)(WIREGUARD_ADAPTER_HANDLE adapter, NET_LUID *luid);
/* 0 and ERROR_FILE_NOT_FOUND when the driver is not loaded. */
typedef DWORD(WINAPI *wgi_nt_get_running_driver_version_fn)(VOID);
typedef VOID(CALLBACK *wgi_nt_logger_cb)(WIREGUARD_LOGGER_LEVEL level, DWORD64 timestamp,
					 LPCWSTR message);
typedef VOID(WINAPI *wgi_nt_set_logger_fn)(wgi_nt_logger_cb logger);
typedef BOOL(WINAPI *wgi_nt_set_adapter_logging_fn)(WIREGUARD_ADAPTER_HANDLE adapter,
						    WIREGUARD_ADAPTER_LOG_STATE state);
typedef BOOL(WINAPI *wgi_nt_set_adapter_state_fn)(WIREGUARD_ADAPTER_HANDLE adapter,
						  WIREGUARD_ADAPTER_STATE state);
typedef BOOL(WINAPI *wgi_nt_get_adapter_state_fn)(WIREGUARD_ADAPTER_HANDLE adapter,
						  WIREGUARD_ADAPTER_STATE *state);
/* @bytes: the size of the blob at @config. */
typedef BOOL(WINAPI *wgi_nt_set_configuration_fn)(WIREGUARD_ADAPTER_HANDLE adapter,
						  const WIREGUARD_INTERFACE *config, DWORD bytes);
/* *@bytes in: the buffer's size; on ERROR_MORE_DATA out: the size needed
 * (which may grow again before the next call: retry in a loop). */
typedef BOOL(WINAPI *wgi_nt_get_configuration_fn)(WIREGUARD_ADAPTER_HANDLE adapter,
						  WIREGUARD_INTERFACE *config, DWORD *bytes);

/* 100 ns units between 1601-01-01 and 1970-01-01 UTC. */
#define WGI_NT_EPOCH_DIFF 116444736000000000ULL

#endif
