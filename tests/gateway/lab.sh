#!/bin/sh
# tests/gateway/lab.sh BUILD: the anycast gateway lab (issue 12), real
# components in network namespaces on this machine.
#
#                       gwl-g1 (bird2, wireguard-go gwlg1, anycast on lo)
#                      /  10.71.1.0/24 fd71:1::/64   AS 65001, local_pref 200
#   gwl-c --- gwl-r --+
#   client   router   \  10.71.2.0/24 fd71:2::/64   AS 65002, local_pref 100
#  10.71.3.0/24 AS 65000 gwl-g2 (bird2, wireguard-go gwlg2, anycast on lo)
#
# Anycast 10.71.255.1/32 and fd71:ff::1/128 live on lo of g1 and g2 with a
# short lifetime (valid_lft = preferred_lft = 2 s); whoever keeps refreshing
# them announces them through BIRD's `protocol direct` + BGP, and the kernel
# removes them by itself when the refreshing stops (a dead-man switch). The
# router prefers g1. g1 and g2 hold the same WireGuard private key (the anycast
# node key); the client's peer has the anycast address as its endpoint and
# pings 10.72.0.1 (the gateways' tunnel address) through the tunnel.
#
# Part 1 (always): the topology with a shell loop standing in for the daemon.
# Killing g1's loop must take the router's route via g1 away within 5 s, and
# the client's traffic must reach g2; the ping gap is printed as a figure.
# Part 2: wg-gatewayd on both gateways (tests/gateway/lab-daemon.sh), skipped
# loudly when the daemon or its pieces are missing.
#
# Needs root, ip, bird + birdc (bird2), wireguard-go, wg, ping. Namespaces
# gwl-*, wireguard-go devices gwl*, everything removed on exit. Run under
# flock /tmp/wgkit-net.lock (make check does). Closing line:
# "gateway-lab: N passed, N failed, N skipped".
BUILD=${1:-build}
cd "$(dirname "$0")/../.." || exit 1
case $BUILD in /*) ;; *) BUILD=$PWD/$BUILD ;; esac
HERE=$PWD/tests/gateway
. tests/lib.sh
suite_init gateway-lab
TMP=$SUITE_TMP
CHECK_OUT=$TMP/check.out

P=gwl

missing=""
[ "$(id -u)" = 0 ] || missing="$missing root"
for t in ip nft bird birdc wireguard-go wg ping python3; do
	command -v $t >/dev/null 2>&1 || missing="$missing $t"
done
[ -z "$missing" ] || cannot "missing:$missing"

. "$HERE/topo.sh"
# Leftovers of an aborted run (names are this suite's own).
for n in $NSR $NSG1 $NSG2 $NSC; do ns_del "$n"; done
rm -f "$WGGO_SOCKDIR"/gwlg1.sock "$WGGO_SOCKDIR"/gwlg2.sock "$WGGO_SOCKDIR"/gwlc.sock

# ------------------------------------------------------------ WireGuard
(umask 077 && wg genkey >"$TMP/node.key" && wg genkey >"$TMP/c.key") || cannot "wg genkey failed"
KNODE=$(wg pubkey <"$TMP/node.key")
KC=$(wg pubkey <"$TMP/c.key")

# Received packets on the gateway's underlay veth (the router sends there).
rx_packets() { # i
	ip -n $P-g$1 -s -j link show g$1-r | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["stats64"]["rx"]["packets"])'
}
# The latest handshake gateway i has with the client (0: none).
handshake() { # i
	ip netns exec $P-g$1 wg show ${P}g$1 latest-handshakes 2>/dev/null | awk -v k="$KC" '$1 == k { print $2 }'
}

# ------------------------------------------------------------ ping gap
# A ping every 100 ms through the tunnel, with receive timestamps.
PINGER=""
pinger_start() { # log
	ip netns exec $NSC ping -D -i 0.1 -W 1 $TUN_GW >"$1" 2>&1 &
	PINGER=$!
}
pinger_stop() { [ -n "$PINGER" ] && kill "$PINGER" 2>/dev/null; PINGER=""; return 0; }
at_exit pinger_stop
# wait_reply_after LOG T: up to 30 s for a reply received after time T.
wait_reply_after() {
	i=0
	while [ $i -lt 300 ]; do
		awk -v t="$2" -F'[][]' '/bytes from/ && $2 > t { f = 1 } END { exit !f }' "$1" && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}
# gap_report LOG T: "lost N pings, replies resumed X s after T" (T: when the
# route moved away from g1).
gap_report() {
	awk -v t="$2" -F'[][]' '
		/bytes from/ {
			match($0, /icmp_seq=[0-9]+/); s = substr($0, RSTART + 9, RLENGTH - 9) + 0
			if (last != "" && s - last - 1 > lost) { lost = s - last - 1 }
			if ($2 > t && resume == "") resume = $2 - t
			last = s
		}
		END { printf "lost %d pings (%.1f s at 100 ms), replies resumed %.2f s after the withdrawal\n", lost, lost / 10, resume }' "$1"
}

# ================================================================== part 1
echo "=== gateway-lab part 1: topology, bird2, wireguard-go, a shell loop as the daemon"
if ! topology >"$TMP/setup" 2>&1; then
	fail_log "topology (namespaces, veths, addresses)" "$TMP/setup"
	finish
fi
ok "topology: router, two gateways, a client (namespaces gwl-*)"
refresh_start 1
refresh_start 2
at_exit refresh_stop 1
at_exit refresh_stop 2
for b in r:$NSR g1:$NSG1 g2:$NSG2; do bird_start ${b%%:*} ${b#*:}; done
t0=$(now)
if bgp_up >"$TMP/bgp" 2>&1; then
	ok "bird2: 4 BGP sessions Established in $(since "$t0") s"
else
	fail_log "bird2: BGP sessions not Established within 20 s" "$TMP/bgp"
	cat "$TMP"/*/bird.out | head -n 20
	finish
fi
if el=$(wait_route g1) && el6=$(wait_route g1 -6); then
	ok "router: anycast /32 and /128 via g1 (the preferred node)"
else
	fail "router: anycast routes not via g1" "$(ip -n $NSR route; ip -n $NSR -6 route)" "$(birdc_r show route all)"
fi
if wg_gateway 1 >"$TMP/wg" 2>&1 && wg_gateway 2 >>"$TMP/wg" 2>&1 && wg_client >>"$TMP/wg" 2>&1; then
	ok "wireguard-go: g1 and g2 with the same node key, client endpoint $AC4:$WGPORT"
else
	fail_log "wireguard-go set-up" "$TMP/wg"
	finish
fi
if tunnel_ping; then
	ok "client pings $TUN_GW through the tunnel"
else
	fail "client cannot ping through the tunnel" "$(wg show all 2>&1)"
	finish
fi
# Replies come from the anycast address (wireguard-go's sticky source), or
# the client would roam its endpoint to g1's own address and never fail over.
ep=$(ip netns exec $NSC wg show gwlc endpoints | awk '{ print $2 }')
check "client's endpoint stays the anycast address ($ep)" test "$ep" = "$AC4:$WGPORT"
hs1=$(handshake 1) hs2=$(handshake 2)
check "the session is with g1 (handshake g1=$hs1 g2=$hs2)" test "${hs1:-0}" != 0 -a "${hs2:-0}" = 0

pinger_start "$TMP/ping1"
sleep 1
rx2=$(rx_packets 2)
t_kill=$(now)
refresh_stop 1
if el=$(wait_route g2); then
	ok "g1's loop killed: the router's route moved to g2 in $el s (bound 5 s, lifetime $LFT s)"
else
	fail "route still via $(route_via) $el s after g1's loop was killed"
fi
t_moved=$(now)
if el6=$(wait_route g2 -6); then
	ok "and the /128 moved to g2 ($(since "$t_kill") s after the kill)"
else
	fail "/128 still via $(route_via -6)"
fi
sleep 0.5
rx2b=$(rx_packets 2)
check "the client's traffic now reaches g2 (g2 veth rx $rx2 -> $rx2b)" test "$rx2b" -gt $((rx2 + 3))
# Without a fast failover the client keeps its session with g1 (which g2
# cannot decrypt) until its own handshake timer gives up (~15 s).
if wait_reply_after "$TMP/ping1" "$t_moved"; then
	ok "the client's ping resumed via g2 (no fast failover): $(gap_report "$TMP/ping1" "$t_moved")"
	hs2=$(handshake 2)
	check "g2 now has a session with the client (handshake $hs2)" test "${hs2:-0}" != 0
	ep=$(ip netns exec $NSC wg show gwlc endpoints | awk '{ print $2 }')
	check "the client's endpoint is still the anycast address ($ep; g1 answers from its own address dropped: $(unicast_drops 1))" \
		test "$ep" = "$AC4:$WGPORT"
else
	fail "no reply through the tunnel within 30 s after the route moved" "$(tail -n 5 "$TMP/ping1")"
fi
pinger_stop

# g1 back: its route returns (preferred); the client needs a fresh
# handshake to reach g1 (g1 never saw the session the client has with g2).
refresh_start 1
if el=$(wait_route g1); then ok "g1's loop restarted: route via g1 again in $el s"; else fail "route not back to g1"; fi
hs1=$(handshake 1)
client_rekey
check "after a fresh handshake the client pings through g1" tunnel_ping
hs1b=$(handshake 1)
check "g1 made that handshake ($hs1 -> $hs1b)" test "${hs1b:-0}" -gt "${hs1:-0}"

if [ -f "$HERE/lab-daemon.sh" ]; then
	. "$HERE/lab-daemon.sh"
else
	skip "part 2 (wg-gatewayd on both gateways)" "tests/gateway/lab-daemon.sh missing"
fi
finish
