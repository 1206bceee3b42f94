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

NSR=gwl-r NSG1=gwl-g1 NSG2=gwl-g2 NSC=gwl-c
AC4=10.71.255.1 AC6=fd71:ff::1       # the anycast addresses
TUN_GW=10.72.0.1 TUN_C=10.72.0.2     # tunnel addresses (same on g1 and g2)
WGPORT=51820
LFT=2                                # the anycast address lifetime (s)

missing=""
[ "$(id -u)" = 0 ] || missing="$missing root"
for t in ip nft bird birdc wireguard-go wg ping python3; do
	command -v $t >/dev/null 2>&1 || missing="$missing $t"
done
[ -z "$missing" ] || cannot "missing:$missing"

# Leftovers of an aborted run (names are this suite's own).
for n in $NSR $NSG1 $NSG2 $NSC gwl-pg; do ns_del "$n"; done
rm -f "$WGGO_SOCKDIR"/gwlg1.sock "$WGGO_SOCKDIR"/gwlg2.sock "$WGGO_SOCKDIR"/gwlc.sock

now() { date +%s.%N; }
# since T0: seconds elapsed, 2 decimals.
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }

# ------------------------------------------------------------ topology
# gw_idx NS: 1 for g1, 2 for g2.
topology() {
	for n in $NSR $NSG1 $NSG2 $NSC; do ns_add $n || return 1; done
	i=1
	for g in $NSG1 $NSG2; do
		veth_pair $NSR r-g$i $g g$i-r || return 1
		ip -n $NSR addr add 10.71.$i.1/24 dev r-g$i &&
			ip -n $NSR addr add fd71:$i::1/64 dev r-g$i nodad &&
			ip -n $g addr add 10.71.$i.2/24 dev g$i-r &&
			ip -n $g addr add fd71:$i::2/64 dev g$i-r nodad &&
			ip -n $g route add default via 10.71.$i.1 &&
			ip -n $g -6 route add default via fd71:$i::1 || return 1
		i=$((i + 1))
	done
	for g in $NSG1 $NSG2; do only_anycast_replies $g || return 1; done
	veth_pair $NSR r-c $NSC c-r || return 1
	ip -n $NSR addr add 10.71.3.1/24 dev r-c &&
		ip -n $NSR addr add fd71:3::1/64 dev r-c nodad &&
		ip -n $NSC addr add 10.71.3.2/24 dev c-r &&
		ip -n $NSC addr add fd71:3::2/64 dev c-r nodad &&
		ip -n $NSC route add default via 10.71.3.1 &&
		ip -n $NSC -6 route add default via fd71:3::1 || return 1
	ip netns exec $NSR sysctl -qw net.ipv4.ip_forward=1 &&
		ip netns exec $NSR sysctl -qw net.ipv6.conf.all.forwarding=1
}

# A gateway answers WireGuard only from the anycast address. Without this,
# once the address has expired the node's WireGuard (still running: only the
# daemon died) answers a packet still in flight from its own address, the
# client roams its endpoint to that unicast address (WireGuard follows the
# source of authenticated packets) and never fails over. Seen in this lab.
only_anycast_replies() { # ns
	ip netns exec "$1" nft -f - <<EOF
table inet gwl {
	chain out {
		type filter hook output priority 0; policy accept;
		udp sport $WGPORT ip saddr != $AC4 counter drop
		udp sport $WGPORT ip6 saddr != $AC6 counter drop
	}
}
EOF
}
# Packets the rule above dropped in gateway i.
unicast_drops() { # i
	ip netns exec gwl-g$1 nft list chain inet gwl out | awk '/drop/ { for (i = 1; i < NF; i++) if ($i == "packets") n += $(i + 1) } END { print n + 0 }'
}

# ------------------------------------------------------------ BIRD
# Short BGP timers: a session comes up in a second or two and a lost peer is
# noticed soon; withdrawals themselves are UPDATE messages, sent at once.
BGP_TIMERS="connect delay time 1; connect retry time 2; error wait time 1, 4; hold time 6; keepalive time 2;"

bird_conf_router() {
	cat <<EOF
router id 10.71.0.1;
log "$TMP/r/bird.log" all;
protocol device { }
protocol kernel k4 { ipv4 { import none; export all; }; }
protocol kernel k6 { ipv6 { import none; export all; }; }
EOF
	for i in 1 2; do
		pref=$((300 - 100 * i)) # g1 200, g2 100: g1 preferred
		cat <<EOF
protocol bgp g${i}v4 {
	local 10.71.$i.1 as 65000; neighbor 10.71.$i.2 as 6500$i; $BGP_TIMERS
	ipv4 { import filter { if net = $AC4/32 then { bgp_local_pref = $pref; accept; } reject; }; export none; };
}
protocol bgp g${i}v6 {
	local fd71:$i::1 as 65000; neighbor fd71:$i::2 as 6500$i; $BGP_TIMERS
	ipv6 { import filter { if net = $AC6/128 then { bgp_local_pref = $pref; accept; } reject; }; export none; };
}
EOF
	done
}

# The gateway announces exactly the anycast /32 and /128 while they are on lo.
bird_conf_gw() { # i
	cat <<EOF
router id 10.71.$1.2;
log "$TMP/g$1/bird.log" all;
protocol device { }
protocol direct { ipv4; ipv6; interface "lo"; }
protocol bgp r4 {
	local 10.71.$1.2 as 6500$1; neighbor 10.71.$1.1 as 65000; $BGP_TIMERS
	ipv4 { import none; export where net = $AC4/32; };
}
protocol bgp r6 {
	local fd71:$1::2 as 6500$1; neighbor fd71:$1::1 as 65000; $BGP_TIMERS
	ipv6 { import none; export where net = $AC6/128; };
}
EOF
}

bird_start() { # name ns
	mkdir -p "$TMP/$1" || return 1
	if [ "$1" = r ]; then bird_conf_router; else bird_conf_gw "${1#g}"; fi >"$TMP/$1/bird.conf"
	ip netns exec "$2" bird -f -s "$TMP/$1/bird.ctl" -c "$TMP/$1/bird.conf" \
		-P "$TMP/$1/bird.pid" >>"$TMP/$1/bird.out" 2>&1 &
}
birdc_r() { birdc -s "$TMP/r/bird.ctl" "$@"; }

# bgp_up: all four of the router's sessions Established (up to 20 s).
bgp_up() {
	i=0
	while [ $i -lt 200 ]; do
		n=$(birdc_r show protocols 2>/dev/null | grep -c 'Established')
		[ "$n" = 4 ] && return 0
		sleep 0.1
		i=$((i + 1))
	done
	birdc_r show protocols
	return 1
}

# The router's kernel route for the anycast /32 (or /128 with -6): "g1",
# "g2" or "none".
route_via() { # [-6]
	if [ "${1:-}" = -6 ]; then
		r=$(ip -n $NSR -6 route show $AC6/128 proto bird 2>/dev/null)
	else
		r=$(ip -n $NSR route show $AC4/32 proto bird 2>/dev/null)
	fi
	case $r in
	*r-g1*) echo g1 ;;
	*r-g2*) echo g2 ;;
	*) echo none ;;
	esac
}
# wait_route WANT [-6]: up to 10 s; prints how long it took.
wait_route() {
	_t0=$(now)
	i=0
	while [ $i -lt 200 ]; do
		[ "$(route_via ${2:-})" = "$1" ] && { since "$_t0"; return 0; }
		sleep 0.05
		i=$((i + 1))
	done
	since "$_t0"
	return 1
}

# ------------------------------------------------------------ stand-in
# A shell loop in the gateway's namespace keeps the anycast addresses alive,
# as the daemon will while ready. `ip addr replace` renews the lifetimes.
refresh_start() { # i
	ip netns exec gwl-g$1 sh -c "while :; do
		ip addr replace $AC4/32 dev lo valid_lft $LFT preferred_lft $LFT
		ip addr replace $AC6/128 dev lo valid_lft $LFT preferred_lft $LFT nodad
		sleep 0.5
	done" >/dev/null 2>&1 &
	eval "REFRESH$1=\$!"
}
refresh_stop() { # i
	eval "_p=\${REFRESH$1:-}"
	[ -n "$_p" ] && kill -9 "$_p" 2>/dev/null
	eval "REFRESH$1="
	return 0
}

# ------------------------------------------------------------ WireGuard
(umask 077 && wg genkey >"$TMP/node.key" && wg genkey >"$TMP/c.key") || cannot "wg genkey failed"
KNODE=$(wg pubkey <"$TMP/node.key")
KC=$(wg pubkey <"$TMP/c.key")

wg_gateway() { # i: wireguard-go with the anycast node key, the client as peer
	wggo_start gwl-g$1 gwlg$1 "$TMP/wg-g$1.log" || return 1
	ip netns exec gwl-g$1 wg set gwlg$1 private-key "$TMP/node.key" listen-port $WGPORT \
		peer "$KC" allowed-ips $TUN_C/32 &&
		ip -n gwl-g$1 addr add $TUN_GW/24 dev gwlg$1 && ip -n gwl-g$1 link set gwlg$1 up
}
wg_client() {
	wggo_start $NSC gwlc "$TMP/wg-c.log" || return 1
	ip netns exec $NSC wg set gwlc private-key "$TMP/c.key" \
		peer "$KNODE" allowed-ips 10.72.0.0/24 endpoint $AC4:$WGPORT &&
		ip -n $NSC addr add $TUN_C/24 dev gwlc && ip -n $NSC link set gwlc up
}
# A fresh handshake from the client: the peer removed and added again (its
# session is forgotten; the next packet starts a handshake with whichever
# node holds the anycast route now).
client_rekey() {
	ip netns exec $NSC wg set gwlc peer "$KNODE" remove &&
		ip netns exec $NSC wg set gwlc peer "$KNODE" allowed-ips 10.72.0.0/24 endpoint $AC4:$WGPORT
}
tunnel_ping() { # up to ~20 s
	i=0
	while [ $i -lt 20 ]; do
		ip netns exec $NSC ping -c 1 -W 1 $TUN_GW >/dev/null 2>&1 && return 0
		i=$((i + 1))
	done
	return 1
}
# Received packets on the gateway's underlay veth (the router sends there).
rx_packets() { # i
	ip -n gwl-g$1 -s -j link show g$1-r | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["stats64"]["rx"]["packets"])'
}
# The latest handshake the gateway has with the client (0: none).
handshake() { # i
	ip netns exec gwl-g$1 wg show gwlg$1 latest-handshakes 2>/dev/null | awk '{ print $2 }'
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
client_rekey
check "after a fresh handshake the client pings through g1" tunnel_ping

if [ -f "$HERE/lab-daemon.sh" ]; then
	. "$HERE/lab-daemon.sh"
else
	skip "part 2 (wg-gatewayd on both gateways)" "tests/gateway/lab-daemon.sh missing"
fi
finish
