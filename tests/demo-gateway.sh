#!/bin/sh
# make demo, part 2 (after tests/demo.sh): two wg-gatewayd nodes sharing an
# anycast address announced by BGP (bird2), one registry (the directory
# source: a folder of [Peer] files both nodes watch), a client pinging
# through the anycast address; a peer added to the registry reaches both
# nodes; node 1 killed, the client carries on through node 2.
# Namespaces dm-r, dm-g1, dm-g2, dm-c; everything is torn down at the end.
BUILD=${1:-build}
cd "$(dirname "$0")/.." || exit 1
case $BUILD in /*) ;; *) BUILD=$PWD/$BUILD ;; esac
GWD=$BUILD/wg-gatewayd
. tests/lib.sh
suite_init demo-gateway
TMP=$SUITE_TMP
P=dm
. tests/gateway/topo.sh

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }
die() { echo "demo: $*" >&2; exit 1; }
readyz() { ip netns exec "dm-g$1" curl -s -m 1 http://127.0.0.1:9580/readyz; }
peers() { ip netns exec "dm-g$1" wg show "dmg$1" peers | wc -l; }
router_says() {
	r=$(ip -n $NSR route show $AC4/32 proto bird)
	echo "router: ${r:-no route to $AC4} ($(route_via | sed 's/g1/node 1/; s/g2/node 2/'))"
}

for t in bird birdc wireguard-go wg nft curl; do
	command -v $t >/dev/null 2>&1 || die "part 2 (anycast gateways) needs $t"
done
[ -x "$GWD" ] || die "$GWD missing: run make"
for n in $NSR $NSG1 $NSG2 $NSC; do ns_del "$n"; done

say "9. Anycast gateways: a router, two gateway nodes, a client"
topology || die "cannot build the namespaces"
echo "router dm-r (bird2, AS 65000) - node 1 dm-g1 (AS 65001, preferred), node 2 dm-g2 (AS 65002)"
echo "client dm-c behind the router; both nodes will announce $AC4/32 and $AC6/128"
for b in r:$NSR g1:$NSG1 g2:$NSG2; do bird_start ${b%%:*} ${b#*:}; done
bgp_up >/dev/null || die "BGP did not come up"
birdc -s "$TMP/r/bird.ctl" show protocols | awk 'NR > 1 && /BGP/ { print "  " $1, $4, $6 }'

say "10. One registry for both nodes: a folder of [Peer] files (the directory source)"
(umask 077 && wg genkey >"$TMP/node.key" && wg genkey >"$TMP/c.key")
KNODE=$(wg pubkey <"$TMP/node.key")
KC=$(wg pubkey <"$TMP/c.key")
mkdir -p "$TMP/peers.d"
cat >"$TMP/peers.d/client.conf" <<EOF
[Peer]
# the client
PublicKey = $KC
AllowedIPs = $TUN_C/32
EOF
run cat "$TMP/peers.d/client.conf"
for i in 1 2; do
	cat >"$TMP/g$i/gateway.conf" <<EOF
[Interface]
Name = dmg$i
PrivateKeyFile = $TMP/node.key
ListenPort = $WGPORT
Backend = userspace

[Registry]
Source = directory
Path = $TMP/peers.d

[Apply]
DriftCheckSeconds = 5

[Anycast]
Address = $AC4/32
Address = $AC6/128
Link = lo
LifetimeSeconds = $LFT

[Http]
Listen = 127.0.0.1:9580
EOF
done
echo "both nodes: the same node key, the same folder; gateway.conf of node 1:"
sed -n '/^\[Registry\]/,$p' "$TMP/g1/gateway.conf" | sed 's/^/  /'

say "11. wg-gatewayd on both nodes (wireguard-go: this kernel has no WireGuard)"
for i in 1 2; do
	wg_gateway $i bare >/dev/null 2>&1 || die "wireguard-go on node $i"
	ip netns exec "dm-g$i" setsid "$GWD" -c "$TMP/g$i/gateway.conf" >"$TMP/gwd-g$i.log" 2>&1 &
	eval "GWD$i=\$!"
	# Tear-down runs last first: the daemon stops, then its state file goes.
	at_exit rm -f "/run/wgkit/dmg$i.gwstate"
	# Before wireguard-go goes: a running daemon would make its device again.
	eval "at_exit stop_pid \$GWD$i"
done
for i in 1 2; do
	n=0
	until [ "$(readyz $i)" = ready ] || [ $n -ge 100 ]; do sleep 0.1; n=$((n + 1)); done
	printf 'node %s: /readyz says %s; log: %s\n' $i "$(readyz $i | head -n 1)" "$(tail -n 1 "$TMP/gwd-g$i.log")"
	[ "$(readyz $i)" = ready ] || die "node $i not ready after 10 s"
done
wait_route g1 >/dev/null || die "the router has no route via node 1"
router_says

say "12. The client's endpoint is the anycast address; it pings through it"
wg_client >/dev/null 2>&1 || die "wireguard-go on the client"
echo "client peer: $KNODE endpoint $AC4:$WGPORT"
tunnel_ping >/dev/null || die "no ping through the tunnel"
run ip netns exec $NSC ping -c 3 -i 0.2 -W 1 $TUN_GW | grep -E 'bytes from|transmitted'

say "13. A peer added to the registry reaches both nodes"
echo "before: node 1 has $(peers 1) peer(s), node 2 has $(peers 2)"
KL=$(wg genkey | wg pubkey)
printf '[Peer]\n# a laptop\nPublicKey = %s\nAllowedIPs = 10.72.0.3/32\n' "$KL" >"$TMP/peers.d/laptop.conf"
echo "\$ cat > peers.d/laptop.conf   (PublicKey = $KL)"
t0=$(now)
n=0
until { [ "$(peers 1)" = 2 ] && [ "$(peers 2)" = 2 ]; } || [ $n -ge 100 ]; do sleep 0.05; n=$((n + 1)); done
echo "after $(since "$t0") s: node 1 has $(peers 1) peers, node 2 has $(peers 2)"

say "14. Node 1's daemon killed (SIGKILL): nobody refreshes its anycast address"
WH=$BUILD/wghealth
FAST=""
if [ -x "$WH" ] && "$WH" failover --help 2>&1 | grep -q 'Usage: wghealth failover'; then
	FAST=1
	echo "the client runs wghealth failover: when rx stalls while tx goes on, a fresh handshake"
	echo "\$ wghealth failover dmc &"
	ip netns exec $NSC "$WH" failover dmc >"$TMP/failover.log" 2>&1 &
fi
ip netns exec $NSC ping -D -i 0.2 -W 1 $TUN_GW >"$TMP/ping" 2>&1 &
PING=$!
sleep 1
t0=$(now)
run kill -9 "$GWD1"
wait_route g2 >/dev/null
echo "after $(since "$t0") s the kernel dropped the address, BIRD withdrew the route:"
router_says
if [ -n "$FAST" ]; then
	echo "the client's WireGuard still holds its session with node 1; wghealth failover sees rx stall..."
else
	echo "the client's WireGuard keeps its session with node 1 until its handshake times out (~15 s),"
	echo "then shakes hands with node 2 through the same address..."
fi
t1=$(now)
n=0
until awk -v t="$t1" -F'[][]' '/bytes from/ && $2 > t { f = 1 } END { exit !f }' "$TMP/ping" || [ $n -ge 300 ]; do
	sleep 0.1
	n=$((n + 1))
done
echo "replies again $(since "$t0") s after the kill, now from node 2:"
sleep 0.6
kill "$PING" 2>/dev/null
tail -n 3 "$TMP/ping" | grep 'bytes from'
[ -n "$FAST" ] && tail -n 1 "$TMP/failover.log"
echo "node 2 latest handshake: $(ip netns exec $NSG2 wg show dmg2 latest-handshakes | awk -v k="$KC" '$1 == k { print $2 }') (unix time)"

say "15. Tear down (daemons, bird, wireguard-go, namespaces)"
echo
echo "demo: done: 2 anycast gateway nodes, a peer added to both, node 1 killed, the client carried on via node 2"
