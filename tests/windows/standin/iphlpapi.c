// SPDX-License-Identifier: MIT
/* A strict stand-in iphlpapi.dll for the wine tests (wine 8's own leaves
 * CreateUnicastIpAddressEntry, CreateIpForwardEntry2, Get/SetIpInterfaceEntry
 * and the Initialize* calls unimplemented: calling one aborts the process,
 * and what it does implement reads the host's real interfaces).
 *
 * Loaded beside the .exe with WINEDLLOVERRIDES=iphlpapi=n, it implements the
 * documented calls the library makes on an in-memory table kept in
 * $WGKIT_STANDIN_DIR/iphlpapi.state (each .exe run is a new process, as the
 * real state lives in the kernel). Interfaces it knows: the adapters of the
 * wireguard.dll stand-in (its $WGKIT_STANDIN_DIR/adapter-NAME.state files,
 * which hold the LUID) and the LUIDs listed in
 * $WGKIT_STANDIN_DIR/iphlpapi.adapters ("LUID-hex name" per line: the test's
 * "physical" adapters, which carry the default route). A row on
 * an interface that went away is dropped on load, as Windows drops them
 * with the interface.
 *
 * Every row is validated as the documentation states it (Initialize* first,
 * families, prefix lengths, lifetimes, metric, protocol, DadState, the
 * fields that must be zero); on any misuse it prints
 * "iphlpapi stand-in: VIOLATION: <what>" to stderr, appends the line to
 * $WGKIT_STANDIN_DIR/violations and fails the call with
 * ERROR_INVALID_PARAMETER. */
#include <winsock2.h>
#include <ws2tcpip.h>
#include <windows.h>
#include <iphlpapi.h>
#include <netioapi.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ROWS 4096
#define ILLEGAL_PLEN 255
#define ILLEGAL_METRIC 0xffffffffUL
#define ILLEGAL_PROTOCOL ((NL_ROUTE_PROTOCOL)0xffffffff)
#define INFINITE_LIFE 0xffffffffUL

struct addr_row {
	ULONG64 luid;
	int family;
	unsigned char addr[16];
	unsigned plen;
};

struct route_row {
	ULONG64 luid;
	int family;
	unsigned char dst[16];
	unsigned plen;
	unsigned char hop[16];
	ULONG metric;
	ULONG protocol;
};

struct if_row {
	ULONG64 luid;
	int family;
	ULONG mtu;
	ULONG metric;
};

static struct addr_row addrs[MAX_ROWS];
static struct route_row routes[MAX_ROWS];
static struct if_row ifs[MAX_ROWS];
static int n_addrs, n_routes, n_ifs;

static const char *dir(void)
{
	static char buf[MAX_PATH];
	const char *d = getenv("WGKIT_STANDIN_DIR");

	if (d && *d)
		return d;
	if (!buf[0]) {
		GetTempPathA(sizeof(buf) - 32, buf);
		strcat(buf, "wgkit-standin");
		CreateDirectoryA(buf, NULL);
	}
	return buf;
}

static void path(char *out, size_t len, const char *name)
{
	snprintf(out, len, "%s\\%s", dir(), name);
}

static DWORD violation(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static DWORD violation(const char *fmt, ...)
{
	char msg[512], p[MAX_PATH];
	va_list ap;
	FILE *f;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "iphlpapi stand-in: VIOLATION: %s\n", msg);
	fflush(stderr);
	path(p, sizeof(p), "violations");
	f = fopen(p, "a");
	if (f) {
		fprintf(f, "iphlpapi stand-in: VIOLATION: %s\n", msg);
		fclose(f);
	}
	return ERROR_INVALID_PARAMETER;
}

/* ------------------------------------------------------ known interfaces */

/* The wireguard.dll stand-in's adapter file: "WGSTAND1", state and log
 * state (2 x u32), the LUID (u64) at offset 16. */
static BOOL adapter_file(const char *file, ULONG64 *luid, DWORD *state)
{
	unsigned char h[24];
	FILE *f = fopen(file, "rb");
	BOOL ok;

	if (!f)
		return FALSE;
	ok = fread(h, 1, sizeof(h), f) == sizeof(h) && !memcmp(h, "WGSTAND1", 8);
	fclose(f);
	if (ok) {
		memcpy(state, h + 8, 4);
		memcpy(luid, h + 16, 8);
	}
	return ok;
}

/* Call @fn for each adapter the stand-ins know (the wireguard.dll
 * stand-in's, then the test's physical ones) until it returns TRUE. */
typedef BOOL (*adapter_fn)(void *arg, ULONG64 luid, const char *name, BOOL up);

static BOOL each_adapter(adapter_fn fn, void *arg)
{
	char p[MAX_PATH], pat[MAX_PATH], line[256], name[128];
	WIN32_FIND_DATAA fd;
	HANDLE h;
	ULONG64 luid;
	DWORD state;
	FILE *f;

	path(pat, sizeof(pat), "adapter-*.state");
	h = FindFirstFileA(pat, &fd);
	if (h != INVALID_HANDLE_VALUE) {
		do {
			size_t n = strlen(fd.cFileName);

			snprintf(p, sizeof(p), "%s\\%s", dir(), fd.cFileName);
			if (n < 14 || n - 14 >= sizeof(name) || !adapter_file(p, &luid, &state))
				continue;
			memcpy(name, fd.cFileName + 8, n - 14);
			name[n - 14] = '\0';
			if (fn(arg, luid, name, state == 1)) {
				FindClose(h);
				return TRUE;
			}
		} while (FindNextFileA(h, &fd));
		FindClose(h);
	}
	path(p, sizeof(p), "iphlpapi.adapters");
	f = fopen(p, "r");
	if (!f)
		return FALSE;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long v;

		if (sscanf(line, "%llx %127s", &v, name) == 2 && fn(arg, v, name, TRUE)) {
			fclose(f);
			return TRUE;
		}
	}
	fclose(f);
	return FALSE;
}

static BOOL is_luid(void *arg, ULONG64 luid, const char *name, BOOL up)
{
	(void)name;
	(void)up;
	return luid == *(ULONG64 *)arg;
}

static BOOL luid_known(ULONG64 luid)
{
	return luid && each_adapter(is_luid, &luid);
}

/* ------------------------------------------------------------ the state */

static int alen(int family)
{
	return family == AF_INET ? 4 : 16;
}

static void put_ip(FILE *f, int family, const unsigned char *a)
{
	char txt[64];

	InetNtopA(family, a, txt, sizeof(txt));
	fputs(txt, f);
}

static BOOL get_ip(const char *s, int family, unsigned char *a)
{
	memset(a, 0, 16);
	return InetPtonA(family, s, a) == 1;
}

static int fam_of(const char *s)
{
	return !strcmp(s, "inet") ? AF_INET : !strcmp(s, "inet6") ? AF_INET6 : 0;
}

static const char *fam_name(int family)
{
	return family == AF_INET ? "inet" : "inet6";
}

static void save(void);

static void load(void)
{
	int dropped = 0;
	char p[MAX_PATH], line[512], f1[64], f2[64], f3[64], f4[64];
	unsigned long long luid;
	unsigned a, b, c;
	FILE *f;

	n_addrs = n_routes = n_ifs = 0;
	path(p, sizeof(p), "iphlpapi.state");
	f = fopen(p, "r");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "addr %llx %63s %63s %u", &luid, f1, f2, &a) == 4 &&
		    n_addrs < MAX_ROWS) {
			struct addr_row *r = &addrs[n_addrs];

			r->luid = luid;
			r->family = fam_of(f1);
			r->plen = a;
			if (r->family && get_ip(f2, r->family, r->addr) && luid_known(luid))
				n_addrs++;
			else
				dropped = 1;
		} else if (sscanf(line, "route %llx %63s %63s %u %63s %u %u", &luid, f1, f3, &a, f4,
				  &b, &c) == 7 &&
			   n_routes < MAX_ROWS) {
			struct route_row *r = &routes[n_routes];

			r->luid = luid;
			r->family = fam_of(f1);
			r->plen = a;
			r->metric = b;
			r->protocol = c;
			if (r->family && get_ip(f3, r->family, r->dst) &&
			    get_ip(f4, r->family, r->hop) && luid_known(luid))
				n_routes++;
			else
				dropped = 1;
		} else if (sscanf(line, "if %llx %63s %u %u", &luid, f1, &a, &b) == 4 &&
			   n_ifs < MAX_ROWS) {
			struct if_row *r = &ifs[n_ifs];

			r->luid = luid;
			r->family = fam_of(f1);
			r->mtu = a;
			r->metric = b;
			if (r->family && luid_known(luid))
				n_ifs++;
			else
				dropped = 1;
		}
	}
	fclose(f);
	/* Windows drops what an interface held when it goes. */
	if (dropped)
		save();
}

static void save(void)
{
	char p[MAX_PATH], tmp[MAX_PATH];
	FILE *f;

	path(p, sizeof(p), "iphlpapi.state");
	snprintf(tmp, sizeof(tmp), "%s.tmp", p);
	f = fopen(tmp, "wb"); /* LF: the test reads it with sh tools */
	if (!f)
		return;
	for (int i = 0; i < n_ifs; i++)
		fprintf(f, "if %016llx %s %lu %lu\n", (unsigned long long)ifs[i].luid,
			fam_name(ifs[i].family), ifs[i].mtu, ifs[i].metric);
	for (int i = 0; i < n_addrs; i++) {
		fprintf(f, "addr %016llx %s ", (unsigned long long)addrs[i].luid,
			fam_name(addrs[i].family));
		put_ip(f, addrs[i].family, addrs[i].addr);
		fprintf(f, " %u\n", addrs[i].plen);
	}
	for (int i = 0; i < n_routes; i++) {
		fprintf(f, "route %016llx %s ", (unsigned long long)routes[i].luid,
			fam_name(routes[i].family));
		put_ip(f, routes[i].family, routes[i].dst);
		fprintf(f, " %u ", routes[i].plen);
		put_ip(f, routes[i].family, routes[i].hop);
		fprintf(f, " %lu %lu\n", routes[i].metric, routes[i].protocol);
	}
	fclose(f);
	MoveFileExA(tmp, p, MOVEFILE_REPLACE_EXISTING);
}

/* -------------------------------------------------------------- checking */

static BOOL zero(const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i])
			return FALSE;
	return TRUE;
}

/* A SOCKADDR_INET of @what: its family, and the bytes past the address
 * that the documentation leaves zero. Fills @a. */
static DWORD check_sockaddr(const SOCKADDR_INET *s, const char *what, int *family, unsigned char *a)
{
	if (s->si_family == AF_INET) {
		if (s->Ipv4.sin_port || !zero(s->Ipv4.sin_zero, sizeof(s->Ipv4.sin_zero)))
			return violation("%s: IPv4 port or sin_zero not zero", what);
		memset(a, 0, 16);
		memcpy(a, &s->Ipv4.sin_addr, 4);
	} else if (s->si_family == AF_INET6) {
		if (s->Ipv6.sin6_port || s->Ipv6.sin6_flowinfo)
			return violation("%s: IPv6 port or flow info not zero", what);
		memcpy(a, &s->Ipv6.sin6_addr, 16);
	} else {
		return violation("%s: family %u is neither AF_INET (2) nor AF_INET6 (23)", what,
				 s->si_family);
	}
	*family = s->si_family;
	return 0;
}

/* The index the stand-in reports for @luid (GetIfTable2, the tables): its
 * NetLuidIndex. */
static NET_IFINDEX index_of(ULONG64 luid)
{
	NET_LUID l;

	l.Value = luid;
	return (NET_IFINDEX)l.Info.NetLuidIndex;
}

static DWORD check_luid(const NET_LUID *luid, NET_IFINDEX index, const char *what)
{
	/* Documented: the LUID wins when both are set; an index that names
	 * another interface is a caller's mix-up all the same. */
	if (index && index != index_of(luid->Value))
		return violation("%s: InterfaceIndex %lu is not the index of InterfaceLuid %016llx",
				 what, index, (unsigned long long)luid->Value);
	if (!luid_known(luid->Value))
		return violation("%s: InterfaceLuid %016llx is no adapter the stand-ins know", what,
				 (unsigned long long)luid->Value);
	return 0;
}

static BOOL host_bits(const unsigned char *a, int family, unsigned plen)
{
	for (unsigned bit = plen; bit < (unsigned)alen(family) * 8; bit++)
		if (a[bit / 8] & (0x80 >> (bit % 8)))
			return TRUE;
	return FALSE;
}

/* ------------------------------------------------------------- addresses */

VOID WINAPI InitializeUnicastIpAddressEntry(MIB_UNICASTIPADDRESS_ROW *row)
{
	memset(row, 0, sizeof(*row));
	row->PrefixOrigin = IpPrefixOriginUnchanged;
	row->SuffixOrigin = IpSuffixOriginUnchanged;
	row->OnLinkPrefixLength = ILLEGAL_PLEN;
	row->ValidLifetime = INFINITE_LIFE;
	row->PreferredLifetime = INFINITE_LIFE;
}

static DWORD check_addr_row(const MIB_UNICASTIPADDRESS_ROW *row, BOOL create, struct addr_row *out)
{
	const char *w = create ? "CreateUnicastIpAddressEntry" : "DeleteUnicastIpAddressEntry";
	DWORD e;

	if (!row)
		return violation("%s: NULL row", w);
	e = check_sockaddr(&row->Address, w, &out->family, out->addr);
	if (!e)
		e = check_luid(&row->InterfaceLuid, row->InterfaceIndex, w);
	if (e)
		return e;
	out->luid = row->InterfaceLuid.Value;
	out->plen = row->OnLinkPrefixLength;
	if (!create)
		return 0;
	if (row->OnLinkPrefixLength == ILLEGAL_PLEN)
		return violation("%s: OnLinkPrefixLength left at the illegal value of "
				 "InitializeUnicastIpAddressEntry",
				 w);
	if (row->OnLinkPrefixLength > (unsigned)alen(out->family) * 8)
		return violation("%s: OnLinkPrefixLength %u too long for the family", w,
				 row->OnLinkPrefixLength);
	if (row->ValidLifetime == 0 || row->PreferredLifetime > row->ValidLifetime)
		return violation(
			"%s: lifetimes valid %lu preferred %lu (InitializeUnicastIpAddressEntry "
			"not called? it sets both infinite)",
			w, row->ValidLifetime, row->PreferredLifetime);
	if (row->PrefixOrigin != IpPrefixOriginUnchanged &&
	    row->PrefixOrigin != IpPrefixOriginManual)
		return violation("%s: PrefixOrigin %d (Initialize sets Unchanged; Manual is the "
				 "other for a static address)",
				 w, row->PrefixOrigin);
	if (row->SuffixOrigin != IpSuffixOriginUnchanged &&
	    row->SuffixOrigin != IpSuffixOriginManual)
		return violation("%s: SuffixOrigin %d", w, row->SuffixOrigin);
	if (row->DadState != IpDadStateInvalid && row->DadState != IpDadStatePreferred &&
	    row->DadState != IpDadStateTentative)
		return violation("%s: DadState %d", w, row->DadState);
	if (row->ScopeId.Value || row->CreationTimeStamp.QuadPart)
		return violation("%s: ScopeId or CreationTimeStamp set (output fields)", w);
	if (out->family == AF_INET && row->Address.Ipv4.sin_addr.s_addr == 0)
		return violation("%s: address 0.0.0.0", w);
	return 0;
}

static int find_addr(const struct addr_row *a)
{
	for (int i = 0; i < n_addrs; i++)
		if (addrs[i].luid == a->luid && addrs[i].family == a->family &&
		    !memcmp(addrs[i].addr, a->addr, 16))
			return i;
	return -1;
}

DWORD WINAPI CreateUnicastIpAddressEntry(const MIB_UNICASTIPADDRESS_ROW *row)
{
	struct addr_row a;
	DWORD e;

	load();
	e = check_addr_row(row, TRUE, &a);
	if (e)
		return e;
	if (find_addr(&a) >= 0)
		return ERROR_OBJECT_ALREADY_EXISTS;
	if (n_addrs == MAX_ROWS)
		return ERROR_NOT_ENOUGH_MEMORY;
	addrs[n_addrs++] = a;
	save();
	return NO_ERROR;
}

DWORD WINAPI DeleteUnicastIpAddressEntry(const MIB_UNICASTIPADDRESS_ROW *row)
{
	struct addr_row a;
	DWORD e;
	int i;

	load();
	e = check_addr_row(row, FALSE, &a);
	if (e)
		return e;
	i = find_addr(&a);
	if (i < 0)
		return ERROR_NOT_FOUND;
	addrs[i] = addrs[--n_addrs];
	save();
	return NO_ERROR;
}

static DWORD check_table_family(ADDRESS_FAMILY family, const char *w)
{
	if (family != AF_UNSPEC && family != AF_INET && family != AF_INET6)
		return violation("%s: family %u", w, family);
	return 0;
}

DWORD WINAPI GetUnicastIpAddressTable(ADDRESS_FAMILY family, MIB_UNICASTIPADDRESS_TABLE **table)
{
	MIB_UNICASTIPADDRESS_TABLE *t;
	DWORD e = check_table_family(family, "GetUnicastIpAddressTable");
	ULONG n = 0;

	if (e)
		return e;
	if (!table)
		return violation("GetUnicastIpAddressTable: NULL table");
	load();
	t = calloc(1, sizeof(*t) + (size_t)(n_addrs + 1) * sizeof(t->Table[0]));
	if (!t)
		return ERROR_NOT_ENOUGH_MEMORY;
	for (int i = 0; i < n_addrs; i++) {
		MIB_UNICASTIPADDRESS_ROW *r = &t->Table[n];

		if (family != AF_UNSPEC && addrs[i].family != family)
			continue;
		InitializeUnicastIpAddressEntry(r);
		r->InterfaceLuid.Value = addrs[i].luid;
		r->InterfaceIndex = index_of(addrs[i].luid);
		r->Address.si_family = (ADDRESS_FAMILY)addrs[i].family;
		if (addrs[i].family == AF_INET)
			memcpy(&r->Address.Ipv4.sin_addr, addrs[i].addr, 4);
		else
			memcpy(&r->Address.Ipv6.sin6_addr, addrs[i].addr, 16);
		r->OnLinkPrefixLength = (UINT8)addrs[i].plen;
		r->PrefixOrigin = IpPrefixOriginManual;
		r->SuffixOrigin = IpSuffixOriginManual;
		r->DadState = IpDadStatePreferred;
		n++;
	}
	t->NumEntries = n;
	*table = t;
	return NO_ERROR;
}

VOID WINAPI FreeMibTable(PVOID memory)
{
	free(memory);
}

/* ---------------------------------------------------------------- routes */

VOID WINAPI InitializeIpForwardEntry(MIB_IPFORWARD_ROW2 *row)
{
	memset(row, 0, sizeof(*row));
	row->ValidLifetime = INFINITE_LIFE;
	row->PreferredLifetime = INFINITE_LIFE;
	row->Loopback = TRUE;
	row->AutoconfigureAddress = TRUE;
	row->Publish = TRUE;
	row->Immortal = TRUE;
	row->SitePrefixLength = ILLEGAL_PLEN;
	row->Metric = ILLEGAL_METRIC;
	row->Protocol = ILLEGAL_PROTOCOL;
}

static DWORD check_route_row(const MIB_IPFORWARD_ROW2 *row, BOOL create, struct route_row *out)
{
	const char *w = create ? "CreateIpForwardEntry2" : "DeleteIpForwardEntry2";
	int hop_family;
	DWORD e;

	if (!row)
		return violation("%s: NULL row", w);
	e = check_sockaddr(&row->DestinationPrefix.Prefix, w, &out->family, out->dst);
	if (!e)
		e = check_sockaddr(&row->NextHop, w, &hop_family, out->hop);
	if (!e)
		e = check_luid(&row->InterfaceLuid, row->InterfaceIndex, w);
	if (e)
		return e;
	if (hop_family != out->family)
		return violation("%s: NextHop family %d differs from the destination's %d", w,
				 hop_family, out->family);
	out->luid = row->InterfaceLuid.Value;
	out->plen = row->DestinationPrefix.PrefixLength;
	out->metric = row->Metric;
	out->protocol = (ULONG)row->Protocol;
	if (out->plen > (unsigned)alen(out->family) * 8)
		return violation("%s: PrefixLength %u too long for the family", w, out->plen);
	if (host_bits(out->dst, out->family, out->plen))
		return violation("%s: destination has host bits set past /%u", w, out->plen);
	if (!create)
		return 0;
	if (row->ValidLifetime != INFINITE_LIFE || row->PreferredLifetime != INFINITE_LIFE)
		return violation(
			"%s: lifetimes %lu/%lu, not infinite (InitializeIpForwardEntry not "
			"called?)",
			w, row->ValidLifetime, row->PreferredLifetime);
	if (row->Metric == ILLEGAL_METRIC)
		return violation("%s: Metric left at the illegal value of InitializeIpForwardEntry",
				 w);
	if (row->Protocol == ILLEGAL_PROTOCOL)
		return violation(
			"%s: Protocol left at the illegal value of InitializeIpForwardEntry", w);
	if (row->Protocol != MIB_IPPROTO_NETMGMT)
		return violation("%s: Protocol %d: a static route is MIB_IPPROTO_NETMGMT (3)", w,
				 row->Protocol);
	if (row->SitePrefixLength != ILLEGAL_PLEN && row->SitePrefixLength > out->plen)
		return violation("%s: SitePrefixLength %u longer than the prefix /%u", w,
				 row->SitePrefixLength, out->plen);
	if (row->Age || row->Origin)
		return violation("%s: Age or Origin set (output fields)", w);
	return 0;
}

static int find_route(const struct route_row *r)
{
	for (int i = 0; i < n_routes; i++)
		if (routes[i].luid == r->luid && routes[i].family == r->family &&
		    routes[i].plen == r->plen && !memcmp(routes[i].dst, r->dst, 16) &&
		    !memcmp(routes[i].hop, r->hop, 16))
			return i;
	return -1;
}

DWORD WINAPI CreateIpForwardEntry2(const MIB_IPFORWARD_ROW2 *row)
{
	struct route_row r;
	DWORD e;

	load();
	e = check_route_row(row, TRUE, &r);
	if (e)
		return e;
	if (find_route(&r) >= 0)
		return ERROR_OBJECT_ALREADY_EXISTS;
	if (n_routes == MAX_ROWS)
		return ERROR_NOT_ENOUGH_MEMORY;
	routes[n_routes++] = r;
	save();
	return NO_ERROR;
}

DWORD WINAPI DeleteIpForwardEntry2(const MIB_IPFORWARD_ROW2 *row)
{
	struct route_row r;
	DWORD e;
	int i;

	load();
	e = check_route_row(row, FALSE, &r);
	if (e)
		return e;
	i = find_route(&r);
	if (i < 0)
		return ERROR_NOT_FOUND;
	routes[i] = routes[--n_routes];
	save();
	return NO_ERROR;
}

static void fill_sockaddr(SOCKADDR_INET *s, int family, const unsigned char *a)
{
	memset(s, 0, sizeof(*s));
	s->si_family = (ADDRESS_FAMILY)family;
	if (family == AF_INET)
		memcpy(&s->Ipv4.sin_addr, a, 4);
	else
		memcpy(&s->Ipv6.sin6_addr, a, 16);
}

DWORD WINAPI GetIpForwardTable2(ADDRESS_FAMILY family, MIB_IPFORWARD_TABLE2 **table)
{
	MIB_IPFORWARD_TABLE2 *t;
	DWORD e = check_table_family(family, "GetIpForwardTable2");
	ULONG n = 0;

	if (e)
		return e;
	if (!table)
		return violation("GetIpForwardTable2: NULL table");
	load();
	t = calloc(1, sizeof(*t) + (size_t)(n_routes + 1) * sizeof(t->Table[0]));
	if (!t)
		return ERROR_NOT_ENOUGH_MEMORY;
	for (int i = 0; i < n_routes; i++) {
		MIB_IPFORWARD_ROW2 *r = &t->Table[n];

		if (family != AF_UNSPEC && routes[i].family != family)
			continue;
		InitializeIpForwardEntry(r);
		r->InterfaceLuid.Value = routes[i].luid;
		r->InterfaceIndex = index_of(routes[i].luid);
		fill_sockaddr(&r->DestinationPrefix.Prefix, routes[i].family, routes[i].dst);
		r->DestinationPrefix.PrefixLength = (UINT8)routes[i].plen;
		fill_sockaddr(&r->NextHop, routes[i].family, routes[i].hop);
		r->SitePrefixLength = 0;
		r->Metric = routes[i].metric;
		r->Protocol = (NL_ROUTE_PROTOCOL)routes[i].protocol;
		r->Origin = NlroManual;
		n++;
	}
	t->NumEntries = n;
	*table = t;
	return NO_ERROR;
}

/* ------------------------------------------------------------ interfaces */

VOID WINAPI InitializeIpInterfaceEntry(MIB_IPINTERFACE_ROW *row)
{
	memset(row, 0, sizeof(*row));
	/* Documented: "illegal values" in the members a Set must not change
	 * unknowingly; zero elsewhere. */
	row->SitePrefixLength = ILLEGAL_PLEN;
	row->Metric = ILLEGAL_METRIC;
	row->NlMtu = ILLEGAL_METRIC;
}

static int find_if(ULONG64 luid, int family)
{
	for (int i = 0; i < n_ifs; i++)
		if (ifs[i].luid == luid && ifs[i].family == family)
			return i;
	return -1;
}

static DWORD check_if_row(const MIB_IPINTERFACE_ROW *row, const char *w)
{
	if (!row)
		return violation("%s: NULL row", w);
	if (row->Family != AF_INET && row->Family != AF_INET6)
		return violation("%s: Family %u is neither AF_INET (2) nor AF_INET6 (23)", w,
				 row->Family);
	return check_luid(&row->InterfaceLuid, row->InterfaceIndex, w);
}

DWORD WINAPI GetIpInterfaceEntry(MIB_IPINTERFACE_ROW *row)
{
	DWORD e = check_if_row(row, "GetIpInterfaceEntry");
	int i;

	if (e)
		return e;
	load();
	i = find_if(row->InterfaceLuid.Value, row->Family);
	/* Windows reports the site prefix length 64 here even for IPv4, and
	 * refuses it back in a Set: a caller must clear it (a known trap). */
	row->SitePrefixLength = 64;
	row->NlMtu = i >= 0 ? ifs[i].mtu : 1500;
	row->Metric = i >= 0 ? ifs[i].metric : 5;
	row->UseAutomaticMetric = i < 0;
	row->Connected = TRUE;
	row->SupportsWakeUpPatterns = FALSE;
	return NO_ERROR;
}

DWORD WINAPI SetIpInterfaceEntry(MIB_IPINTERFACE_ROW *row)
{
	DWORD e = check_if_row(row, "SetIpInterfaceEntry");
	int i;

	if (e)
		return e;
	if (row->NlMtu == ILLEGAL_METRIC || row->SitePrefixLength == ILLEGAL_PLEN)
		return violation(
			"SetIpInterfaceEntry: a row not read with GetIpInterfaceEntry first "
			"(NlMtu or SitePrefixLength at Initialize's illegal value)");
	if (row->Family == AF_INET && row->SitePrefixLength != 0)
		return violation(
			"SetIpInterfaceEntry: SitePrefixLength %lu on an IPv4 row (must be 0)",
			row->SitePrefixLength);
	if (row->NlMtu < (row->Family == AF_INET ? 576U : 1280U) || row->NlMtu > 65535)
		return violation("SetIpInterfaceEntry: NlMtu %lu out of range for %s", row->NlMtu,
				 fam_name(row->Family));
	load();
	i = find_if(row->InterfaceLuid.Value, row->Family);
	if (i < 0) {
		if (n_ifs == MAX_ROWS)
			return ERROR_NOT_ENOUGH_MEMORY;
		i = n_ifs++;
		ifs[i].luid = row->InterfaceLuid.Value;
		ifs[i].family = row->Family;
	}
	ifs[i].mtu = row->NlMtu;
	ifs[i].metric = row->UseAutomaticMetric ? 5 : row->Metric;
	save();
	return NO_ERROR;
}

/* ------------------------------------------------------ interface list */

struct if_walk {
	MIB_IF_TABLE2 *t;
	ULONG cap;
	const char *want; /* if_nametoindex */
	ULONG64 found;
};

static BOOL add_if(void *arg, ULONG64 luid, const char *name, BOOL up)
{
	struct if_walk *w = arg;
	MIB_IF_ROW2 *r;

	if (w->want) {
		if (strcmp(w->want, name))
			return FALSE;
		w->found = luid;
		return TRUE;
	}
	if (w->t->NumEntries == w->cap)
		return FALSE;
	r = &w->t->Table[w->t->NumEntries++];
	memset(r, 0, sizeof(*r));
	r->InterfaceLuid.Value = luid;
	r->InterfaceIndex = (NET_IFINDEX)r->InterfaceLuid.Info.NetLuidIndex;
	MultiByteToWideChar(CP_UTF8, 0, name, -1, r->Alias, IF_MAX_STRING_SIZE);
	r->Type = r->InterfaceLuid.Info.IfType;
	r->Mtu = 1420;
	r->OperStatus = up ? IfOperStatusUp : IfOperStatusDown;
	r->AdminStatus = up ? NET_IF_ADMIN_STATUS_UP : NET_IF_ADMIN_STATUS_DOWN;
	r->MediaConnectState = up ? MediaConnectStateConnected : MediaConnectStateDisconnected;
	return FALSE;
}

DWORD WINAPI GetIfTable2(MIB_IF_TABLE2 **table)
{
	struct if_walk w = { .cap = 256 };

	if (!table)
		return violation("GetIfTable2: NULL table");
	w.t = calloc(1, sizeof(*w.t) + w.cap * sizeof(w.t->Table[0]));
	if (!w.t)
		return ERROR_NOT_ENOUGH_MEMORY;
	each_adapter(add_if, &w);
	*table = w.t;
	return NO_ERROR;
}

/* The NetLuidIndex stands in for the index, as GetIfTable2 reports it. */
NET_IFINDEX WINAPI if_nametoindex(PCSTR name)
{
	struct if_walk w = { .want = name };
	NET_LUID l;

	if (!name || !each_adapter(add_if, &w))
		return 0;
	l.Value = w.found;
	return (NET_IFINDEX)l.Info.NetLuidIndex;
}

BOOL WINAPI DllMain(HINSTANCE inst, DWORD reason, LPVOID reserved);
BOOL WINAPI DllMain(HINSTANCE inst, DWORD reason, LPVOID reserved)
{
	(void)inst;
	(void)reason;
	(void)reserved;
	return TRUE;
}
