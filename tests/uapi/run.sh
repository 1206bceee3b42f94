#!/bin/sh
# tests/uapi/run.sh BUILD: the UAPI backend against real userspace WireGuard.
#
# Two wireguard-go instances, each in its own network namespace, joined by a
# veth pair. Part 1 drives them with BUILD/tests/tools/uapi_ctl (the library
# alone); part 2 configures fresh instances ONLY through BUILD/wgctl and
# checks its view against `wg` (the reference client). Part 2 is skipped,
# loudly, when BUILD/wgctl does not exist.
#
# Needs root, wireguard-go, wg, ip and ping (iputils or busybox). Everything
# it creates carries the prefix "ua" (interfaces) or "ua-" (namespaces) and a
# per-run id, and is removed on exit. Traffic stays inside the namespaces.
# Closing line: "uapi: N passed, N failed, N skipped"; exit 1 on any failure.
BUILD=${1:-build}
cd "$(dirname "$0")/../.." || exit 1
case $BUILD in /*) ;; *) BUILD=$PWD/$BUILD ;; esac
HERE=$PWD/tests/uapi
CTL=$BUILD/tests/tools/uapi_ctl
WGCTL=$BUILD/wgctl
SOCKDIR=/var/run/wireguard

ID=$$
NSA=ua-$ID-a NSB=ua-$ID-b
IFA=ua${ID}a IFB=ua${ID}b          # wireguard-go TUN devices (<= 15 chars)
VA=ua${ID}va VB=ua${ID}vb          # the veth pair
UA=198.18.241.1 UB=198.18.241.2    # veth (underlay), inside the namespaces only
TA=10.241.0.1 TB=10.241.0.2        # tunnel
TA6=fd41::1 TB6=fd41::2
PA=51821 PB=51822
. tests/lib.sh
suite_init uapi
TMP=$SUITE_TMP
# wgctl sync records (written by up, sync) stay inside the test.
export WGCTL_STATE_DIR="$TMP/state"
at_exit rm -f "/run/wgkit/$IFA.lock" "/run/wgkit/$IFB.lock"
# The old names of the helpers; check NAME CMD... leaves CMD's output in $TMP/out.
bad() { fail "$*"; }
skipped() { skip "$*"; }
CHECK_OUT=$TMP/out

# ------------------------------------------------------------ preconditions
PING=""
if command -v ping >/dev/null 2>&1; then PING=ping
elif command -v busybox >/dev/null 2>&1; then PING="busybox ping"; fi
missing=""
[ "$(id -u)" = 0 ] || missing="$missing root"
for t in wireguard-go wg ip python3; do command -v $t >/dev/null 2>&1 || missing="$missing $t"; done
[ -n "$PING" ] || missing="$missing ping"
[ -x "$CTL" ] || missing="$missing $CTL(make tests)"
if [ -n "$missing" ]; then
	cannot "missing:$missing"
fi

# ------------------------------------------------------------ the instances
# Namespaces, veth, and one wireguard-go per namespace, not configured yet.
start_instances() {
	ns_add "$NSA" && ns_add "$NSB" || return 1
	veth_pair "$NSA" "$VA" "$NSB" "$VB" || return 1
	ip -n "$NSA" addr add $UA/24 dev "$VA" && ip -n "$NSB" addr add $UB/24 dev "$VB" || return 1
	# Its banner about kernel support is noise.
	wggo_start "$NSA" "$IFA" "$TMP/wg-$IFA.log" && wggo_start "$NSB" "$IFB" "$TMP/wg-$IFB.log" ||
		{ cat "$TMP"/wg-*.log; return 1; }
	# TUN links: addresses through ip (nothing WireGuard-specific).
	ip -n "$NSA" addr add $TA/24 dev "$IFA" && ip -n "$NSA" addr add $TA6/64 dev "$IFA" &&
	ip -n "$NSB" addr add $TB/24 dev "$IFB" && ip -n "$NSB" addr add $TB6/64 dev "$IFB" &&
	ip -n "$NSA" link set "$IFA" up && ip -n "$NSB" link set "$IFB" up
}

stop_instances() {
	wggo_stop "$IFA"
	wggo_stop "$IFB"
}
destroy_instances() {
	stop_instances
	ns_del "$NSA"
	ns_del "$NSB"
}

# Ping through the tunnel; the first packets also trigger the handshake.
tunnel_ping() { # ns addr
	i=0
	while [ $i -lt 6 ]; do
		ip netns exec "$1" $PING -c 1 -W 1 "$2" >/dev/null 2>&1 && return 0
		i=$((i + 1))
	done
	ip netns exec "$1" $PING -c 1 -W 1 "$2"
}

# Latest handshake of the only peer of IF, from `wg show IF dump`.
wg_handshake() { wg show "$1" dump | awk 'NR == 2 { print $5 }'; }

# Compare a `wg show IF dump`-style table with the reference, reading the
# reference before and after (counters and handshake must lie between).
compare_dump() { # IF command...
	ifc=$1; shift
	wg show "$ifc" dump >"$TMP/ref1" || return 1
	"$@" >"$TMP/ours" || return 1
	wg show "$ifc" dump >"$TMP/ref2" || return 1
	python3 "$HERE/compare.py" dump "$TMP/ref1" "$TMP/ours" "$TMP/ref2"
}

genkey() { (umask 077 && wg genkey >"$1"); }

# UAPI_ONLY="input sync ...": only those sourced parts (a quicker run while
# working on one; make check runs everything).
if [ -n "${UAPI_ONLY:-}" ] && [ -x "$WGCTL" ]; then
	for part in $UAPI_ONLY; do . "$HERE/$part.sh"; done
	finish
fi

# =================================================== part 1: the library
echo "=== uapi part 1: libwg-netlink UAPI backend (uapi_ctl) against wireguard-go"
if ! start_instances >"$TMP/setup" 2>&1; then
	bad "part 1 set-up (namespaces, veth, wireguard-go)"; cat "$TMP/setup"
	finish
fi
genkey "$TMP/a.key"; genkey "$TMP/b.key"; (umask 077 && wg genpsk >"$TMP/psk")
KA=$(wg pubkey <"$TMP/a.key"); KB=$(wg pubkey <"$TMP/b.key")

check "lib: list finds both UAPI devices" sh -c "'$CTL' list | grep -qx '$IFA' && '$CTL' list | grep -qx '$IFB'"
check "lib: configure A (key, port, fwmark, peer with psk, endpoint, allowed IPs)" \
	"$CTL" set "$IFA" private-key "$TMP/a.key" listen-port $PA fwmark 0x2a \
	peer "$KB" preshared-key "$TMP/psk" endpoint $UB:$PB persistent-keepalive 25 \
	allowed-ips $TB/32,$TB6/128,10.99.0.0/16
check "lib: configure B" \
	"$CTL" set "$IFB" private-key "$TMP/b.key" listen-port $PB \
	peer "$KA" preshared-key "$TMP/psk" endpoint $UA:$PA allowed-ips $TA/32,$TA6/128
check "lib: ping A -> B through the tunnel" tunnel_ping "$NSA" $TB
check "lib: ping B -> A over IPv6 through the tunnel" tunnel_ping "$NSB" $TA6
hs=$(wg_handshake "$IFA")
if [ -n "$hs" ] && [ "$hs" != 0 ]; then ok "lib: handshake recorded ($hs)"; else bad "lib: no handshake (latest handshake '$hs')"; fi
check "lib: dump of A equals wg show dump" compare_dump "$IFA" "$CTL" dump "$IFA"
check "lib: dump of B equals wg show dump" compare_dump "$IFB" "$CTL" dump "$IFB"

# Allowed-IP removal: this wireguard-go has no removal syntax, so the backend
# replaces the peer's list; the others must stay and the tunnel keep working.
check "lib: remove one allowed IP, add another" \
	"$CTL" set "$IFA" peer "$KB" allowed-ips -10.99.0.0/16,+10.98.0.0/16
wg show "$IFA" allowed-ips | tr '\t ' '\n\n' | sort >"$TMP/aips"
if grep -qx 10.98.0.0/16 "$TMP/aips" && ! grep -qx 10.99.0.0/16 "$TMP/aips" &&
	grep -qx $TB/32 "$TMP/aips" && grep -qx $TB6/128 "$TMP/aips"; then
	ok "lib: allowed IPs after removal are exactly the expected ones"
else
	bad "lib: allowed IPs after removal:"; sed 's/^/    /' "$TMP/aips"
fi
check "lib: ping still works after the removal" tunnel_ping "$NSA" $TB

# 10k peers in one set transaction, then removed again; the real peer stays.
check "lib: add 10000 peers in one transaction" "$CTL" bulk "$IFB" 10000
n=$(wg show "$IFB" peers | wc -l)
[ "$n" = 10001 ] && ok "lib: wg counts 10001 peers" || bad "lib: wg counts $n peers, not 10001"
check "lib: remove the 10000 peers" "$CTL" bulk "$IFB" 10000 remove
[ "$(wg show "$IFB" peers)" = "$KA" ] && ok "lib: only the real peer is left" ||
	bad "lib: peers left: $(wg show "$IFB" peers | wc -l)"
check "lib: ping after the bulk change" tunnel_ping "$NSB" $TA

if "$CTL" dump "ua${ID}nope" >"$TMP/out" 2>&1; then
	bad "lib: dump of an unknown interface succeeded"
elif grep -q "ua${ID}nope" "$TMP/out"; then
	ok "lib: unknown interface fails and names it: $(cat "$TMP/out")"
else
	bad "lib: unknown interface error does not name it:"; cat "$TMP/out"
fi
destroy_instances

# =================================================== part 2: wgctl
echo "=== uapi part 2: wgctl against wireguard-go, compared with wg"
if [ ! -x "$WGCTL" ]; then
	echo "SKIP: uapi: $WGCTL does not exist (run make): every wgctl test below is SKIPPED" >&2
	# One SKIP per test part 2 would have run, so the count is honest.
	grep -E '^[[:space:]]*(check|expect_fail) "|ok "wgctl:' "$HERE/wgctl.sh" |
		sed -E 's/.*(check|expect_fail|ok) "wgctl: ([^"]*)".*/\2/' >"$TMP/part2"
	while IFS= read -r t; do skipped "wgctl: $t (no wgctl)"; done <"$TMP/part2"
	finish
fi
. "$HERE/wgctl.sh"
. "$HERE/sync.sh"
. "$HERE/input.sh"
. "$HERE/record.sh"
. "$HERE/lock.sh"
. "$HERE/dup.sh"
. "$HERE/limits.sh"
. "$HERE/show.sh"
. "$HERE/abuse.sh"
. "$HERE/syncmem.sh"
finish
