# tests/gateway/topo.sh: the anycast topology shared by the gateway lab
# (tests/gateway/lab.sh, P=gwl) and the demo (tests/demo-gateway.sh, P=dm).
# Source after tests/lib.sh with P (namespace prefix) and TMP (a private
# directory) set. Namespaces $P-r (router, AS 65000), $P-g1 and $P-g2
# (gateways, AS 65001/65002, g1 preferred by local_pref), $P-c (client);
# bird2 in r, g1, g2 with its control socket in $TMP/NAME/bird.ctl.
#
#   topology                 namespaces, veths, addresses, routes, nft rule
#   bird_start NAME NS       bird2 (NAME r, g1 or g2) in NS, foreground
#   bgp_up                   the router's 4 sessions Established (<= 20 s)
#   route_via [-6]           g1, g2 or none: the router's anycast route
#   wait_route WANT [-6]     up to 10 s for it; prints the seconds taken
#   refresh_start I / refresh_stop I
#                            a shell loop refreshing the anycast addresses
#                            on gateway I (a stand-in for wg-gatewayd)
#   wg_gateway I [bare] / wg_client
#                            wireguard-go ${P}g1, ${P}g2 (the node key
#                            $TMP/node.key), ${P}c ($TMP/c.key; endpoint:
#                            the anycast address); KNODE, KC: public keys
#   client_rekey             the client forgets its session (fresh handshake)
#   tunnel_ping              the client pings $TUN_GW (up to ~20 s)
AC4=10.71.255.1 AC6=fd71:ff::1       # the anycast addresses
TUN_GW=10.72.0.1 TUN_C=10.72.0.2     # tunnel addresses (same on g1 and g2)
WGPORT=51820
LFT=${LFT:-2}                        # the anycast address lifetime (s)
NSR=$P-r NSG1=$P-g1 NSG2=$P-g2 NSC=$P-c

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
	ip netns exec $P-g$1 nft list chain inet gwl out | awk '/drop/ { for (i = 1; i < NF; i++) if ($i == "packets") n += $(i + 1) } END { print n + 0 }'
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
	ip netns exec $P-g$1 sh -c "while :; do
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
wg_gateway() { # i [bare]: wireguard-go with the anycast node key, the client
	# as peer (bare: neither, wg-gatewayd configures them)
	wggo_start $P-g$1 ${P}g$1 "$TMP/wg-g$1.log" || return 1
	if [ "${2:-}" != bare ]; then
		ip netns exec $P-g$1 wg set ${P}g$1 private-key "$TMP/node.key" listen-port $WGPORT \
			peer "$KC" allowed-ips $TUN_C/32 || return 1
	fi
	ip -n $P-g$1 addr add $TUN_GW/24 dev ${P}g$1 && ip -n $P-g$1 link set ${P}g$1 up
}
wg_client() {
	wggo_start $NSC ${P}c "$TMP/wg-c.log" || return 1
	ip netns exec $NSC wg set ${P}c private-key "$TMP/c.key" \
		peer "$KNODE" allowed-ips 10.72.0.0/24 endpoint $AC4:$WGPORT &&
		ip -n $NSC addr add $TUN_C/24 dev ${P}c && ip -n $NSC link set ${P}c up
}
# A fresh handshake from the client: the peer removed and added again (its
# session is forgotten; the next packet starts a handshake with whichever
# node holds the anycast route now).
client_rekey() {
	ip netns exec $NSC wg set ${P}c peer "$KNODE" remove &&
		ip netns exec $NSC wg set ${P}c peer "$KNODE" allowed-ips 10.72.0.0/24 endpoint $AC4:$WGPORT
}
tunnel_ping() { # up to ~20 s
	i=0
	while [ $i -lt 20 ]; do
		ip netns exec $NSC ping -c 1 -W 1 $TUN_GW >/dev/null 2>&1 && return 0
		i=$((i + 1))
	done
	return 1
}
