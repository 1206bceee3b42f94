#!/bin/sh
# tests/health/failover.sh BUILD: `wghealth failover` (fast failover for
# anycast peers) against real userspace WireGuard (suite health-failover).
#
# Two wireguard-go "nodes" (gwf-*-n1, gwf-*-n2) share one private key, one
# tunnel address and the anycast address 192.0.2.77 (on lo in each); a
# router namespace routes the anycast /32 to node 1; a client namespace
# behind the router has one peer: endpoint 192.0.2.77:51877. The client
# pings through the tunnel every 100 ms; the router's route moves to node 2
# and node 1's link goes down (node 1 vanished; BGP withdrew it). The gap in the replies is measured
# without and with `wghealth failover` on the client. Figures printed;
# asserted: pings resume in both runs, and with < without.
#
# Needs root, wireguard-go, wg, ip, ping, python3. Names carry "gwf".
# Closing line: "health-failover: N passed, N failed, N skipped".
BUILD=${1:-build}
cd "$(dirname "$0")/../.." || exit 1
case $BUILD in /*) ;; *) BUILD=$PWD/$BUILD ;; esac
WH=$BUILD/wghealth
ID=$$
NSC=gwf-$ID-c NSR=gwf-$ID-r NS1=gwf-$ID-n1 NS2=gwf-$ID-n2
IFC=gwf${ID}c IF1=gwf${ID}n1 IF2=gwf${ID}n2
ANY=192.0.2.77 PORT=51877
. tests/lib.sh
suite_init health-failover
T=$SUITE_TMP
PINGPID="" FOPID=""
stop_helpers() { stop_pid "$PINGPID"; stop_pid "$FOPID"; }
at_exit stop_helpers

missing=""
[ "$(id -u)" = 0 ] || missing="$missing root"
for t in wireguard-go wg ip ping python3; do command -v $t >/dev/null 2>&1 || missing="$missing $t"; done
[ -x "$WH" ] || missing="$missing $WH(make)"
[ -z "$missing" ] || cannot "missing:$missing"

(umask 077 && wg genkey >"$T/node.key" && wg genkey >"$T/client.key")
KN=$(wg pubkey <"$T/node.key") KC=$(wg pubkey <"$T/client.key")

# node NS IF VETH_R VETH_N SUBNET: a node behind the router on 198.18.SUBNET.0/30.
node() {
	ns_add "$1" && veth_pair "$NSR" "$3" "$1" "$4" &&
		ip -n "$NSR" addr add "198.18.$5.1/30" dev "$3" &&
		ip -n "$1" addr add "198.18.$5.2/30" dev "$4" &&
		ip -n "$1" addr add $ANY/32 dev lo &&
		ip -n "$1" route add default via "198.18.$5.1" src $ANY || return 1
	wggo_start "$1" "$2" "$T/wg-$2.log" || return 1
	ip netns exec "$1" wg set "$2" private-key "$T/node.key" listen-port $PORT \
		peer "$KC" allowed-ips 10.77.0.2/32 &&
		ip -n "$1" addr add 10.77.0.1/24 dev "$2" && ip -n "$1" link set "$2" up
}

setup() {
	ns_add "$NSR" && ns_add "$NSC" || return 1
	ip netns exec "$NSR" sysctl -qw net.ipv4.ip_forward=1 || return 1
	veth_pair "$NSC" gwfc0 "$NSR" gwfrc || return 1
	ip -n "$NSC" addr add 198.18.77.1/30 dev gwfc0 && ip -n "$NSR" addr add 198.18.77.2/30 dev gwfrc &&
		ip -n "$NSC" route add default via 198.18.77.2 || return 1
	node "$NS1" "$IF1" gwfr1 gwfn1 78 && node "$NS2" "$IF2" gwfr2 gwfn2 79 || return 1
	ip -n "$NSR" route add $ANY/32 via 198.18.78.2 || return 1
	wggo_start "$NSC" "$IFC" "$T/wg-c.log" || return 1
	ip netns exec "$NSC" wg set "$IFC" private-key "$T/client.key" \
		peer "$KN" allowed-ips 10.77.0.1/32 endpoint $ANY:$PORT &&
		ip -n "$NSC" addr add 10.77.0.2/24 dev "$IFC" && ip -n "$NSC" link set "$IFC" up
}

T0=$(date +%s)
echo "=== health-failover: set-up (router, client, two nodes sharing one key and $ANY)"
if ! setup >"$T/setup" 2>&1; then
	fail_log "set-up" "$T/setup"
	finish
fi

# One run: route to node 1, ping every 100 ms, move the route to node 2 after
# 3 s and take node 1's link down, ping on for MAX s. Prints the gap in ms (longest silence between two
# replies from the move on), or "none" when no reply came after the move.
gap_run() { # NAME MAX_S
	ip -n "$NS1" link set gwfn1 up
	ip -n "$NS1" route replace default via 198.18.78.1 src $ANY
	ip -n "$NSR" route replace $ANY/32 via 198.18.78.2
	# a fresh session with node 1 first (the client's peer set anew)
	ip netns exec "$NSC" wg set "$IFC" peer "$KN" remove
	ip netns exec "$NSC" wg set "$IFC" peer "$KN" allowed-ips 10.77.0.1/32 endpoint $ANY:$PORT
	i=0
	while ! ip netns exec "$NSC" ping -c 1 -W 1 -q 10.77.0.1 >/dev/null 2>&1; do
		i=$((i + 1))
		[ $i -ge 20 ] && { echo "no-tunnel"; return; }
	done
	ip netns exec "$NSC" ping -D -i 0.1 -W 1 10.77.0.1 >"$T/ping-$1" 2>&1 &
	PINGPID=$!
	sleep 3
	t_move=$(date +%s.%N)
	ip -n "$NSR" route replace $ANY/32 via 198.18.79.2
	# Node 1 vanishes too: alive, it could still send the client a packet
	# of the old session (a keepalive), which resets the client's own
	# new-handshake timer and hides the failure.
	ip -n "$NS1" link set gwfn1 down
	sleep "$2"
	stop_pid "$PINGPID"
	PINGPID=""
	python3 - "$T/ping-$1" "$t_move" <<'PY'
import re, sys
move = float(sys.argv[2])
ts = [float(m.group(1)) for m in (re.match(r'\[(\d+\.\d+)\].*bytes from', l) for l in open(sys.argv[1])) if m]
before = [t for t in ts if t <= move]
after = [t for t in ts if t > move]
if not after:
    print("none")
else:
    last = before[-1] if before else move
    print(int((after[0] - last) * 1000))
PY
}

# Without: WireGuard's own timers (about 15 s of silence, then a handshake;
# 28 s leave room for a lost first handshake, retried 5 s later).
g0=$(gap_run without 28)
echo "    gap without failover: $g0 ms"
case $g0 in
none | no-tunnel) fail "without failover: pings never resumed ($g0)" "$(tail -n 3 "$T/ping-without")" \
	"$(ip netns exec "$NSC" wg show "$IFC" 2>&1)" "$(ip netns exec "$NS2" wg show "$IF2" 2>&1)" "$(ip netns exec "$NS1" wg show "$IF1" 2>&1)" ;;
*) ok "without failover: pings resume after $g0 ms" ;;
esac

# With: wghealth failover on the client.
ip netns exec "$NSC" "$WH" failover "$IFC" --interval 200ms --stall 1.5s >"$T/fo.out" 2>"$T/fo.err" &
FOPID=$!
sleep 0.5
g1=$(gap_run with 8)
echo "    gap with failover: $g1 ms"
case $g1 in
none | no-tunnel) fail "with failover: pings never resumed ($g1)" "$(tail -n 5 "$T/ping-with")" "$(cat "$T/fo.out" "$T/fo.err")" ;;
*) ok "with failover: pings resume after $g1 ms" ;;
esac
grep -qF "peer $KN: rx flat" "$T/fo.out" && grep -q "set again for a fresh handshake" "$T/fo.out" &&
	ok "failover logged its kick: $(head -n 1 "$T/fo.out")" || fail "no kick logged" "$(cat "$T/fo.out" "$T/fo.err")"
case "$g0.$g1" in
*none* | *no-tunnel*) skip "with < without" "a run had no gap figure" ;;
*) [ "$g1" -lt "$g0" ] && ok "with failover ($g1 ms) < without ($g0 ms)" || fail "with $g1 ms not below without $g0 ms" ;;
esac
# The peer kept (the nodes answer from the anycast address: no roaming) its configuration across the re-set.
ip netns exec "$NSC" wg show "$IFC" dump | awk -v k="$KN" '$1 == k { print $3, $4 }' >"$T/peer"
grep -q "^$ANY:$PORT 10.77.0.1/32$" "$T/peer" && ok "peer kept its endpoint and allowed IPs" ||
	fail "peer after the re-set: $(cat "$T/peer")"
stop_pid "$FOPID"
FOPID=""
echo "    took $(($(date +%s) - T0)) s"
echo "bench: failover_gap with_ms=$g1 without_ms=$g0"
finish
