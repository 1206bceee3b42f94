#!/bin/sh
# tests/windows/iphlp.sh [WIN_BUILD [BUILD]]: the IP Helper seam of the
# Windows port (lib/windows/iphlp.c) under wine64, with the strict stand-ins
# wireguard.dll and iphlpapi.dll (tests/windows/standin) beside the test
# program iphlp_test.exe, which drives wgnl_quick_up/down in one process.
# The stand-ins keep their state in files under a private folder: the test
# reads iphlpapi.state snapshots (addresses, routes, MTU per LUID) and the
# violations file. A "physical" adapter eth0 with a default route via
# 192.168.1.1 is seeded so the bypass route has something to go through.
# Nothing here touches the host's interfaces: wine's own iphlpapi is never
# loaded (WINEDLLOVERRIDES=iphlpapi=n), and wine 8's could not change them.
# Needs: mingw-w64, wine64, the mingw libsodium/SQLite of
# tests/windows/sodium.sh (it builds the library and wgctl.exe itself) and
# the Linux wgctl (BUILD/wgctl) for keys. Closing line:
# "windows-iphlp: N passed, N failed, N skipped".
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh
. tests/windows/lib.sh
suite_init windows-iphlp

WIN_BUILD=${1:-build-win}
BUILD=${2:-build}
WINE=${WINE:-/usr/lib/wine/wine64}
CC=${WIN_CC:-x86_64-w64-mingw32-gcc}
command -v "$CC" >/dev/null 2>&1 || cannot "$CC not installed (make deps)"
[ -x "$WINE" ] || cannot "$WINE not installed (make deps)"
[ -x "$BUILD/wgctl" ] || cannot "$BUILD/wgctl missing (make all)"
eval "$(sh tests/windows/sodium.sh)" || cannot "no mingw libsodium (tests/windows/sodium.sh)"
# What this suite needs of make windows, and no more.
check "make $WIN_BUILD/libwg-netlink.a $WIN_BUILD/wgctl.exe" make --no-print-directory -j2 \
	WIN_BUILD="$WIN_BUILD" WIN_SODIUM="$sodium" WIN_SQLITE="$sqlite" \
	"$WIN_BUILD/libwg-netlink.a" "$WIN_BUILD/wgctl.exe"

# ---------------------------------------------------------------- build
OUT=$WIN_BUILD/tests/windows
mkdir -p "$OUT"
W="-Wall -Wextra -Werror -O2"
check "build stand-in iphlpapi.dll" $CC $W -shared -o "$OUT/iphlpapi.dll" \
	tests/windows/standin/iphlpapi.c tests/windows/standin/iphlpapi.def -lws2_32
check "build stand-in wireguard.dll" $CC $W -shared -o "$OUT/wireguard.dll" \
	tests/windows/standin/wireguard.c tests/windows/standin/x25519.c
check "build iphlp_test.exe" $CC $W -std=gnu11 -D__USE_MINGW_ANSI_STDIO=1 -DSODIUM_STATIC \
	-Iinclude -static -o "$OUT/iphlp_test.exe" tests/windows/iphlp_test.c \
	"$WIN_BUILD/libwg-netlink.a" -L"$sodium/lib" -lsodium \
	-lwinpthread -lws2_32 -liphlpapi -ladvapi32 -lbcrypt
[ "$fail" -eq 0 ] || finish

# The program must take these from the stand-in, or the loader refuses it:
# every IP Helper import of the program has to be one the stand-in exports.
imports=$(x86_64-w64-mingw32-objdump -p "$OUT/iphlp_test.exe" |
	awk '/DLL Name: (IPHLPAPI|iphlpapi)/{f=1;next} /DLL Name/{f=0} f && NF==3 {print $3}' | sort)
missing=""
for fn in $imports; do
	grep -qx "	$fn" tests/windows/standin/iphlpapi.def || missing="$missing $fn"
done
if [ -z "$missing" ]; then ok "stand-in exports every IP Helper import ($(echo $imports | wc -w))"
else fail "stand-in exports every IP Helper import" "missing:$missing"; fi

# ---------------------------------------------------------------- set-up
# A fresh prefix (its own wineserver, so the named objects of wgctl.exe's
# holder are this suite's alone), stopped on exit.
SD=$SUITE_TMP/standin
WGKIT_STANDIN_DIR=$SD win_init || cannot "wine64 cannot start a prefix"
export WINEDLLOVERRIDES="iphlpapi=n"
export WGKIT_STANDIN_DIR="Z:$(echo "$SD" | tr / '\\')"
ETH=0006000001000000 # IfType 6 (ethernet), NetLuidIndex 1
seed() {
	rm -rf "$SD" && mkdir -p "$SD"
	echo "$ETH eth0" >"$SD/iphlpapi.adapters"
	printf '%s\n' "if $ETH inet 1500 25" "addr $ETH inet 192.168.1.50 24" \
		"route $ETH inet 0.0.0.0 0 192.168.1.1 0 3" >"$SD/iphlpapi.state"
}
run() { # IFNAME FILE STEP... -> $SUITE_TMP/out
	(cd "$OUT" && "$WINE" iphlp_test.exe "$@") 2>&1 | tr -d '\r' |
		grep -v '^wine: ' >"$SUITE_TMP/out"
}
# The LUID the wireguard.dll stand-in gave adapter $1 (its file, offset 16).
luid_of() {
	od -An -tx8 -j16 -N8 "$SD/adapter-$1.state" 2>/dev/null | tr -d ' \n'
}
has() { grep -qxF "$2" "$SD/$1"; }

# The peer's key is another key's: a peer with the device's own key is
# ignored, as by the driver.
priv=$("$BUILD/wgctl" genkey) && pub=$("$BUILD/wgctl" genkey | "$BUILD/wgctl" pubkey) ||
	cannot "wgctl genkey failed"
CONF=$SUITE_TMP/wgt0.conf
cat >"$CONF" <<EOF
[Interface]
PrivateKey = $priv
Address = 10.66.0.2/32, fd66::2/128
MTU = 1380

[Peer]
PublicKey = $pub
Endpoint = 198.51.100.7:51820
AllowedIPs = 0.0.0.0/0, 10.9.0.0/16
EOF
chmod 600 "$CONF"
WCONF="Z:$(echo "$CONF" | tr / '\\')"

# ---------------------------------------------- up, a flap, a repair, down
seed
run wgt0 "$WCONF" up snap:after-up addrs flap snap:after-flap up snap:after-repair flap repair \
	snap:after-repair2 repair flap health snap:after-health down snap:after-down
cp "$SUITE_TMP/out" "$SUITE_TMP/full.out"
if grep -qx "up: 0" "$SUITE_TMP/out"; then ok "up succeeds"
else fail "up succeeds" "$(cat "$SUITE_TMP/out")"; fi
L=$(grep -o 'event: bypass-add.*' "$SUITE_TMP/out" | head -1)
[ "$L" = "event: bypass-add 198.51.100.7/32" ] && ok "up adds the endpoint bypass route" ||
	fail "up adds the endpoint bypass route" "$(cat "$SUITE_TMP/out")"
# The tunnel's LUID is gone with its adapter after down; read it from the
# snapshot's addresses instead: the one that is not eth0's.
T=$(awk '$1 == "addr" && $2 != "'$ETH'" {print $2; exit}' "$SD/after-up")
if [ -n "$T" ] && has after-up "addr $T inet 10.66.0.2 32" &&
	has after-up "addr $T inet6 fd66::2 128"; then ok "addresses on the adapter's LUID"
else fail "addresses on the adapter's LUID" "$(cat "$SD/after-up")"; fi
if has after-up "if $T inet 1380 5" && has after-up "if $T inet6 1380 5"; then
	ok "MTU 1380 for both families"
else fail "MTU 1380 for both families" "$(cat "$SD/after-up")"; fi
if has after-up "route $T inet 0.0.0.0 0 0.0.0.0 0 3" &&
	has after-up "route $T inet 10.9.0.0 16 0.0.0.0 0 3"; then ok "routes for AllowedIPs"
else fail "routes for AllowedIPs" "$(cat "$SD/after-up")"; fi
BYPASS="route $ETH inet 198.51.100.7 32 192.168.1.1 51820 3"
has after-up "$BYPASS" && ok "bypass route via the default route (eth0, 192.168.1.1)" ||
	fail "bypass route via the default route (eth0, 192.168.1.1)" "$(cat "$SD/after-up")"
has after-up "route $ETH inet 0.0.0.0 0 192.168.1.1 0 3" &&
	ok "the LAN's default route is left alone" ||
	fail "the LAN's default route is left alone" "$(cat "$SD/after-up")"
grep -qx "link: wgt0 mtu 1380 up" "$SUITE_TMP/out" && grep -qx "addr: 10.66.0.2/32" "$SUITE_TMP/out" &&
	grep -qx "route: 10.9.0.0/16" "$SUITE_TMP/out" && ok "link_get, addr_list, route_list" ||
	fail "link_get, addr_list, route_list" "$(cat "$SUITE_TMP/out")"
! has after-flap "$BYPASS" && has after-repair "$BYPASS" &&
	grep -q "^up: -[0-9]* .*exists\|^up: -[0-9]*" "$SUITE_TMP/out" &&
	grep -q 'event: bypass-readded 198.51.100.7/32' "$SUITE_TMP/out" &&
	ok "an up of the running tunnel re-adds the lost bypass route" ||
	fail "an up of the running tunnel re-adds the lost bypass route" "$(cat "$SUITE_TMP/out")" \
		"$(cat "$SD/after-flap")" "$(cat "$SD/after-repair")"
if has after-repair2 "$BYPASS" && grep -qx "repair: 1" "$SUITE_TMP/out" &&
	grep -qx "repair: 0" "$SUITE_TMP/out"; then
	ok "wgnl_quick_bypass_repair re-adds a lost bypass route (1), then has nothing to do (0)"
else fail "wgnl_quick_bypass_repair re-adds a lost bypass route" "$(cat "$SUITE_TMP/out")"; fi
if has after-health "$BYPASS" && grep -qx "health: 0 present 1" "$SUITE_TMP/out"; then
	ok "a wghealth check (wgnl_health_check_step) re-adds a lost bypass route"
else fail "a wghealth check re-adds a lost bypass route" "$(cat "$SUITE_TMP/out")" \
	"$(cat "$SD/after-health")"; fi
grep -qx "down: 0" "$SUITE_TMP/out" && ok "down succeeds" ||
	fail "down succeeds" "$(cat "$SUITE_TMP/out")"
printf '%s\n' "if $ETH inet 1500 25" "addr $ETH inet 192.168.1.50 24" \
	"route $ETH inet 0.0.0.0 0 192.168.1.1 0 3" >"$SUITE_TMP/seeded"
if cmp -s "$SUITE_TMP/seeded" "$SD/after-down" && [ ! -e "$SD/adapter-wgt0.state" ]; then
	ok "down leaves exactly the state before up"
else fail "down leaves exactly the state before up" "$(diff "$SUITE_TMP/seeded" "$SD/after-down")"; fi
[ ! -e "$SD/violations" ] && ok "no VIOLATION in a normal run" ||
	fail "no VIOLATION in a normal run" "$(cat "$SD/violations")"

# ------------------------------------------------------ Table = N refused
seed
sed 's/^MTU = 1380$/MTU = 1380\nTable = 1234/' "$CONF" >"$SUITE_TMP/table.conf"
run wgt0 "Z:$(echo "$SUITE_TMP/table.conf" | tr / '\\')" badtable snap:after-table
if grep -q "^badtable: -[0-9]* Table = 1234: " "$SUITE_TMP/out" &&
	cmp -s "$SUITE_TMP/seeded" "$SD/after-table" && [ ! -e "$SD/adapter-wgt0.state" ]; then
	ok "Table = 1234 refused before any change"
else fail "Table = 1234 refused before any change" "$(cat "$SUITE_TMP/out")"; fi

# ----------------------------------------------- the stand-in can refuse
seed
run wgt0 "$WCONF" badrow
for what in "badrow:CreateIpForwardEntry2: lifetimes" "badaddr:CreateUnicastIpAddressEntry: InterfaceLuid" \
	"badmtu:SetIpInterfaceEntry: SitePrefixLength 64"; do
	call=${what%%:*} v=${what#*:}
	if grep -qx "$call: 87" "$SUITE_TMP/out" &&
		grep -q "iphlpapi stand-in: VIOLATION: $v" "$SD/violations" 2>/dev/null; then
		ok "a wrong row is refused: $call (87, VIOLATION: $v ...)"
	else fail "a wrong row is refused: $call" "$(cat "$SUITE_TMP/out")"; fi
done
cmp -s "$SUITE_TMP/seeded" "$SD/iphlpapi.state" && ok "refused rows change nothing" ||
	fail "refused rows change nothing" "$(diff "$SUITE_TMP/seeded" "$SD/iphlpapi.state")"

# ------------------------------------------- a leftover of a crashed up
seed
run wgt0 "$WCONF" linkadd crash
[ -e "$SD/adapter-wgt0.state" ] && ok "a crash leaves the adapter behind (stand-in)" ||
	fail "a crash leaves the adapter behind (stand-in)" "$(cat "$SUITE_TMP/out")"
run wgt0 "$WCONF" up snap:stale-up down
if grep -qx "up: 0" "$SUITE_TMP/out" && grep -qx "down: 0" "$SUITE_TMP/out"; then
	ok "up removes the leftover adapter and comes up"
else fail "up removes the leftover adapter and comes up" "$(cat "$SUITE_TMP/out")"; fi

# --------------------------------------------- wgctl.exe up / down
# wgctl.exe up holds the tunnel (its process created the adapter) until
# wgctl.exe down asks it to stop; show and a second up run beside it.
if [ -x "$WIN_BUILD/wgctl.exe" ]; then
	cp "$WIN_BUILD/wgctl.exe" "$OUT/"
	# Relative: wgctl's quick_target() takes the interface name after the
	# last '/', not '\\' (a win-build matter).
	cp "$CONF" "$OUT/wgt0.conf"
	seed
	sed 's/^MTU = 1380$/MTU = 1380\nTable = 1234/' "$CONF" >"$OUT/wgt1.conf"
	(cd "$OUT" && "$WINE" wgctl.exe up wgt1.conf) >"$SUITE_TMP/t.out" 2>&1
	rc=$?
	if [ $rc -eq 5 ] && grep -q "Table = 1234: this OS has one routing table" "$SUITE_TMP/t.out" &&
		[ ! -e "$SD/adapter-wgt1.state" ] && cmp -s "$SUITE_TMP/seeded" "$SD/iphlpapi.state"; then
		ok "wgctl.exe up of Table = 1234: refused, exit 5, nothing changed"
	else fail "wgctl.exe up of Table = 1234: refused, exit 5, nothing changed" "rc=$rc" \
		"$(cat "$SUITE_TMP/t.out")"; fi
	(cd "$OUT" && "$WINE" wgctl.exe up wgt0.conf >"$SUITE_TMP/hold.out" 2>&1
	echo "rc=$?" >>"$SUITE_TMP/hold.out") &
	HOLDER=$!
	at_exit stop_pid "$HOLDER"
	i=0
	while [ $i -lt 100 ] && ! grep -q "$BYPASS" "$SD/iphlpapi.state" 2>/dev/null; do
		sleep 0.2
		i=$((i + 1))
	done
	cp "$SD/iphlpapi.state" "$SD/exe-up"
	T=$(luid_of wgt0)
	if [ -n "$T" ] && has exe-up "addr $T inet 10.66.0.2 32" && has exe-up "if $T inet 1380 5" &&
		has exe-up "route $T inet 0.0.0.0 0 0.0.0.0 0 3" && has exe-up "$BYPASS"; then
		ok "wgctl.exe up: addresses, MTU, routes, bypass route"
	else fail "wgctl.exe up: addresses, MTU, routes, bypass route" "$(cat "$SD/exe-up")" \
		"$(cat "$SUITE_TMP/hold.out")"; fi
	(cd "$OUT" && "$WINE" wgctl.exe show wgt0) 2>&1 | tr -d '\r' >"$SUITE_TMP/show.out"
	grep -q "^interface: wgt0" "$SUITE_TMP/show.out" && grep -q "endpoint: 198.51.100.7:51820" "$SUITE_TMP/show.out" &&
		ok "wgctl.exe show from another process" ||
		fail "wgctl.exe show from another process" "$(cat "$SUITE_TMP/show.out")"
	# No interface named: every WireGuard adapter, found through GetIfTable2
	# (wireguard-nt cannot enumerate its adapters itself).
	(cd "$OUT" && "$WINE" wgctl.exe show) 2>&1 | tr -d '\r' >"$SUITE_TMP/showall.out"
	grep -q "^interface: wgt0" "$SUITE_TMP/showall.out" && [ "$(grep -c '^interface: ' "$SUITE_TMP/showall.out")" = 1 ] &&
		ok "wgctl.exe show (no interface): the one adapter up, found through GetIfTable2" ||
		fail "wgctl.exe show (no interface)" "$(cat "$SUITE_TMP/showall.out")"
	# sync of a changed file on the running tunnel: MTU, address, a route.
	sed -i 's|^Address = .*|Address = 10.66.0.3/32|; s|^MTU = 1380|MTU = 1300|; s|^AllowedIPs = .*|AllowedIPs = 0.0.0.0/0, 10.20.0.0/16|' \
		"$OUT/wgt0.conf"
	(cd "$OUT" && "$WINE" wgctl.exe sync wgt0 wgt0.conf) >"$SUITE_TMP/sync.out" 2>&1
	rc=$?
	if [ $rc -eq 0 ] && has iphlpapi.state "addr $T inet 10.66.0.3 32" &&
		! has iphlpapi.state "addr $T inet 10.66.0.2 32" &&
		has iphlpapi.state "if $T inet 1300 5" &&
		has iphlpapi.state "route $T inet 10.20.0.0 16 0.0.0.0 0 3" &&
		has iphlpapi.state "$BYPASS"; then
		ok "wgctl.exe sync: MTU, address and route of the changed file"
	else fail "wgctl.exe sync: MTU, address and route of the changed file" "rc=$rc" \
		"$(cat "$SUITE_TMP/sync.out")" "$(cat "$SD/iphlpapi.state")"; fi
	# A media-sense flap of the LAN adapter: Windows drops its routes.
	grep -vxF "$BYPASS" "$SD/iphlpapi.state" >"$SD/flapped" && cp "$SD/flapped" "$SD/iphlpapi.state"
	(cd "$OUT" && "$WINE" wgctl.exe up wgt0.conf) >"$SUITE_TMP/again.out" 2>&1
	rc=$?
	if [ $rc -ne 0 ] && grep -q "already exists" "$SUITE_TMP/again.out" &&
		grep -qxF "$BYPASS" "$SD/iphlpapi.state"; then
		ok "wgctl.exe up of the running tunnel re-adds the bypass route (exit $rc)"
	else fail "wgctl.exe up of the running tunnel re-adds the bypass route" \
		"rc=$rc" "$(cat "$SUITE_TMP/again.out")" "$(cat "$SD/iphlpapi.state")"; fi
	(cd "$OUT" && "$WINE" wgctl.exe down wgt0.conf) >"$SUITE_TMP/down.out" 2>&1
	rc=$?
	wait "$HOLDER"
	run wgt0 "$WCONF" snap:exe-down
	if [ $rc -eq 0 ] && grep -qx "rc=0" "$SUITE_TMP/hold.out" &&
		cmp -s "$SUITE_TMP/seeded" "$SD/exe-down" && [ ! -e "$SD/adapter-wgt0.state" ]; then
		ok "wgctl.exe down: the holder takes it down, nothing left"
	else fail "wgctl.exe down: the holder takes it down, nothing left" "rc=$rc" \
		"$(cat "$SUITE_TMP/down.out")" "$(cat "$SUITE_TMP/hold.out")" \
		"$(diff "$SUITE_TMP/seeded" "$SD/exe-down")"; fi
	# A tunnel another program holds (iphlp_test.exe here, WireGuard for
	# Windows' service in the field): down refuses before any change.
	seed
	(cd "$OUT" && "$WINE" iphlp_test.exe wgt0 "$WCONF" up sleep:6 down) >"$SUITE_TMP/other.out" 2>&1 &
	OTHER=$!
	i=0
	while [ $i -lt 100 ] && ! grep -q "$BYPASS" "$SD/iphlpapi.state" 2>/dev/null; do
		sleep 0.2
		i=$((i + 1))
	done
	cp "$SD/iphlpapi.state" "$SD/other-up"
	(cd "$OUT" && "$WINE" wgctl.exe down wgt0.conf) >"$SUITE_TMP/down2.out" 2>&1
	rc=$?
	if [ $rc -eq 5 ] && grep -q "is not held by a wgctl up" "$SUITE_TMP/down2.out" &&
		cmp -s "$SD/other-up" "$SD/iphlpapi.state" && [ -e "$SD/adapter-wgt0.state" ]; then
		ok "wgctl.exe down of a tunnel another program holds: refused, exit 5, nothing changed"
	else fail "wgctl.exe down of a tunnel another program holds: refused, nothing changed" \
		"rc=$rc" "$(cat "$SUITE_TMP/down2.out")" "$(diff "$SD/other-up" "$SD/iphlpapi.state")"; fi
	wait "$OTHER"
	[ ! -e "$SD/violations" ] && ok "wgctl.exe: no VIOLATION" ||
		fail "wgctl.exe: no VIOLATION" "$(cat "$SD/violations")"
else
	skip "wgctl.exe up/down" "$WIN_BUILD/wgctl.exe missing (make windows)"
fi

finish
