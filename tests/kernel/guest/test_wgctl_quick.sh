# wgctl up / down (wg-quick configs) in two namespaces joined by veth:
# handshake and ping through the tunnel, then tear down.
. /ktest/lib.sh

# quick_conf FILE PRIVKEY_FILE ADDR PORT PEER_PUB PEER_ALLOWED PEER_ENDPOINT
quick_conf() {
	(umask 077; cat >"$1" <<CONF
[Interface]
Address = $3
ListenPort = $4
PrivateKey = $(cat "$2")

[Peer]
PublicKey = $5
AllowedIPs = $6
Endpoint = $7
CONF
	)
}

case_up_ping_down() {
	need_wgctl
	ns_add k-qa k-qb
	veth_pair k-qa 192.168.242.1/24 k-qb 192.168.242.2/24
	mkdir -p /tmp/k-q /etc/wireguard
	key_file /tmp/k-q/a.key
	key_file /tmp/k-q/b.key
	# Side A by path, side B by name (/etc/wireguard/k-qb.conf).
	quick_conf /tmp/k-q/k-qwa.conf /tmp/k-q/a.key 10.242.0.1/24 51811 \
		"$(pub_of /tmp/k-q/b.key)" 10.242.0.2/32 192.168.242.2:51812
	quick_conf /etc/wireguard/k-qwb.conf /tmp/k-q/b.key 10.242.0.2/24 51812 \
		"$(pub_of /tmp/k-q/a.key)" 10.242.0.1/32 192.168.242.1:51811

	must nsx k-qa wgctl up /tmp/k-q/k-qwa.conf
	must nsx k-qb wgctl up k-qwb

	# What wg sees must be what the configs say.
	port=$(nsx k-qa wg show k-qwa listen-port)
	assert_eq "$port" 51811 "k-qwa listen port (wg show)"
	priv=$(nsx k-qa wg show k-qwa private-key)
	assert_eq "$priv" "$(cat /tmp/k-q/a.key)" "k-qwa private key (wg show)"
	peers=$(nsx k-qa wg show k-qwa allowed-ips)
	assert_eq "$peers" "$(pub_of /tmp/k-q/b.key)	10.242.0.2/32" "k-qwa peer and allowed IPs"
	ep=$(nsx k-qb wg show k-qwb endpoints | awk '{print $2}')
	assert_eq "$ep" 192.168.242.1:51811 "k-qwb peer endpoint"
	nsx k-qa ip -o addr show dev k-qwa | grep -q 'inet 10.242.0.1/24' ||
		die "k-qwa has no address 10.242.0.1/24: $(nsx k-qa ip -o addr show dev k-qwa)"
	nsx k-qa ip -o link show dev k-qwa | grep -q '[<,]UP[,>]' || die "k-qwa is not up"

	ping_until k-qa 10.242.0.2
	ping_until k-qb 10.242.0.1
	hs=$(nsx k-qa wg show k-qwa latest-handshakes | awk '{print $2}')
	[ -n "$hs" ] && [ "$hs" != 0 ] || die "k-qwa reports no handshake after ping"

	must nsx k-qa wgctl down /tmp/k-q/k-qwa.conf
	must nsx k-qb wgctl down k-qwb
	nsx k-qa ip link show k-qwa >/dev/null 2>&1 && die "k-qwa still exists after wgctl down"
	nsx k-qb ip link show k-qwb >/dev/null 2>&1 && die "k-qwb still exists after wgctl down"
	rm -f /etc/wireguard/k-qwb.conf
}

# A second up of a running interface must fail cleanly and leave it working.
case_up_twice() {
	need_wgctl
	ns_add k-qa
	mkdir -p /tmp/k-q
	key_file /tmp/k-q/a.key
	quick_conf /tmp/k-q/k-qwa.conf /tmp/k-q/a.key 10.242.1.1/24 51813 \
		"$(fake_key 1)" 10.242.1.2/32 192.168.243.2:51814
	must nsx k-qa wgctl up /tmp/k-q/k-qwa.conf
	nsx k-qa wg showconf k-qwa | norm_conf >/tmp/k-q/before
	expect_error any k-qwa nsx k-qa wgctl up /tmp/k-q/k-qwa.conf
	nsx k-qa wg showconf k-qwa | norm_conf >/tmp/k-q/after
	assert_same /tmp/k-q/before /tmp/k-q/after "k-qwa config before and after the refused second up"
	must nsx k-qa wgctl down /tmp/k-q/k-qwa.conf
	nsx k-qa ip link show k-qwa >/dev/null 2>&1 && die "k-qwa still exists after wgctl down"
	return 0
}

# An allowed IP equal to the subnet of an Address: the route the kernel made
# for the address stays as it made it (src, proto kernel), never replaced.
case_kernel_subnet_route_kept() {
	need_wgctl
	ns_add k-qa
	mkdir -p /tmp/k-q
	key_file /tmp/k-q/a.key
	quick_conf /tmp/k-q/k-qwa.conf /tmp/k-q/a.key 10.242.7.1/24 51815 \
		"$(fake_key 7)" "10.242.7.0/24, 10.242.8.0/24" 192.168.247.2:51816
	nsx k-qa ip route show table all >/tmp/k-q/before
	must nsx k-qa wgctl up /tmp/k-q/k-qwa.conf
	nsx k-qa ip route show 10.242.7.0/24 >/tmp/k-q/r
	cat /tmp/k-q/r
	assert_eq "$(wc -l </tmp/k-q/r)" 1 "routes to 10.242.7.0/24"
	grep -q 'src 10.242.7.1' /tmp/k-q/r || die "the kernel's subnet route lost its src: $(cat /tmp/k-q/r)"
	nsx k-qa ip route show 10.242.8.0/24 | grep -q 'dev k-qwa' || die "no route to 10.242.8.0/24"
	# A sync that drops the allowed IP leaves the kernel's route too.
	sed -i 's|^AllowedIPs = .*|AllowedIPs = 10.242.8.0/24|' /tmp/k-q/k-qwa.conf
	must nsx k-qa wgctl sync k-qwa /tmp/k-q/k-qwa.conf
	nsx k-qa ip route show 10.242.7.0/24 | grep -q 'src 10.242.7.1' ||
		die "sync removed the kernel's subnet route: $(nsx k-qa ip route show dev k-qwa)"
	must nsx k-qa wgctl down /tmp/k-q/k-qwa.conf
	nsx k-qa ip route show table all >/tmp/k-q/after
	assert_same /tmp/k-q/before /tmp/k-q/after "routes before up and after down"
}

# pol_conf FILE ALLOWED [LISTENPORT]: a wg-quick file for k-qwp with AllowedIPs ALLOWED.
pol_conf() {
	(umask 077; cat >"$1" <<CONF
[Interface]
Address = 10.242.5.1/24, fd42:5::1/64
PrivateKey = $(cat /tmp/k-q/p.key)
${3:+ListenPort = $3}

[Peer]
PublicKey = $(fake_key 5)
AllowedIPs = $2
CONF
	)
}
# Everything policy routing is made of in k-qp: rules, every table's routes
# (link-local ones vary with each new link), the device's fwmark.
pol_state() {
	{
		nsx k-qp ip -4 rule show | sed 's/^/rule4 /'
		nsx k-qp ip -6 rule show | sed 's/^/rule6 /'
		nsx k-qp ip -4 route show table all | sed 's/^/route4 /'
		nsx k-qp ip -6 route show table all | sed 's/^/route6 /'
		echo "fwmark $(nsx k-qp wg show k-qwp fwmark)"
	} | grep -v 'fe80:\|ff00::' | sed 's/  *$//' | sort
}
# pol_step ALLOWED [PORT]: sync the file to ALLOWED, then check that the
# result equals what down + up of the same file makes.
pol_step() {
	pol_conf /tmp/k-q/k-qwp.conf "$1" "${2:-}"
	must nsx k-qp wgctl sync k-qwp /tmp/k-q/k-qwp.conf
	pol_state >/tmp/k-q/synced
	must nsx k-qp wgctl down /tmp/k-q/k-qwp.conf
	pol_state >/tmp/k-q/down
	must nsx k-qp wgctl up /tmp/k-q/k-qwp.conf
	pol_state >/tmp/k-q/upped
	assert_same /tmp/k-q/upped /tmp/k-q/synced "policy routing after sync to '$1' vs down + up"
}

# wgctl sync of a wg-quick file whose AllowedIPs gain or lose 0.0.0.0/0 or
# ::/0 converges the fwmark, both rules of each family, the default route in
# the policy table and src_valid_mark exactly as down + up would.
case_sync_policy_routing() {
	need_wgctl
	ns_add k-qp
	mkdir -p /tmp/k-q/state
	export WGCTL_STATE_DIR=/tmp/k-q/state
	key_file /tmp/k-q/p.key
	pol_conf /tmp/k-q/k-qwp.conf "0.0.0.0/0, ::/0"
	must nsx k-qp wgctl up /tmp/k-q/k-qwp.conf
	pol_state >/tmp/k-q/full
	grep -q '^fwmark 0xca6c$' /tmp/k-q/full || die "no fwmark 0xca6c after up: $(grep fwmark /tmp/k-q/full)"
	for f in 4 6; do
		# (This iproute2 prints an inverted rule without its "not".)
		grep -q "^rule$f .*from all fwmark 0xca6c lookup 51820" /tmp/k-q/full ||
			die "no IPv$f 'not fwmark' rule after up"
		grep -q "^rule$f .*from all lookup main suppress_prefixlength 0" /tmp/k-q/full ||
			die "no IPv$f suppress rule after up"
		grep -q "^route$f default dev k-qwp table 51820" /tmp/k-q/full ||
			die "no IPv$f default route in table 51820 after up"
	done

	# Narrowed: every trace of policy routing goes, the prefixes go to main.
	pol_step "10.0.0.0/8, fd00::/8"
	! grep -q '51820\|suppress_prefixlength\|0xca6c' /tmp/k-q/synced ||
		die "policy routing left after narrowing: $(grep '51820\|suppress\|0xca6c' /tmp/k-q/synced | tr '\n' ' ')"
	grep -q '^fwmark off$' /tmp/k-q/synced || die "fwmark not off after narrowing"
	grep -q '^route4 10.0.0.0/8 dev k-qwp' /tmp/k-q/synced || die "no route 10.0.0.0/8 after narrowing"
	grep -q '^route6 fd00::/8 dev k-qwp' /tmp/k-q/synced || die "no route fd00::/8 after narrowing"

	# Widened again: rules, default routes, fwmark and src_valid_mark back.
	nsx k-qp sh -c 'echo 0 >/proc/sys/net/ipv4/conf/all/src_valid_mark'
	pol_conf /tmp/k-q/k-qwp.conf "0.0.0.0/0, ::/0"
	must nsx k-qp wgctl sync k-qwp /tmp/k-q/k-qwp.conf
	pol_state >/tmp/k-q/synced
	assert_same /tmp/k-q/full /tmp/k-q/synced "policy routing after widening vs after the first up"
	assert_eq "$(nsx k-qp cat /proc/sys/net/ipv4/conf/all/src_valid_mark)" 1 "src_valid_mark after widening"

	# One family at a time, and a new table (ListenPort names it).
	pol_step "0.0.0.0/0, fd00::/8"
	grep -q '^rule6 .*suppress_prefixlength' /tmp/k-q/synced && die "IPv6 suppress rule left"
	grep -q '^rule4 .*from all fwmark 0xca6c lookup 51820' /tmp/k-q/synced || die "IPv4 rule gone"
	pol_step "10.0.0.0/8, ::/0"
	grep -q '^rule4 .*suppress_prefixlength' /tmp/k-q/synced && die "IPv4 suppress rule left"
	pol_step "0.0.0.0/0, ::/0" 51999
	grep -q '^fwmark 0xcb1f$' /tmp/k-q/synced || die "fwmark not 0xcb1f for ListenPort 51999"
	grep -q '51820' /tmp/k-q/synced && die "table 51820 left after the move to 51999"
	pol_step "10.0.0.0/8, fd00::/8"

	# down leaves nothing behind.
	pol_conf /tmp/k-q/k-qwp.conf "0.0.0.0/0, ::/0"
	must nsx k-qp wgctl sync k-qwp /tmp/k-q/k-qwp.conf
	must nsx k-qp wgctl down /tmp/k-q/k-qwp.conf
	! nsx k-qp ip -4 rule show | grep -q 'fwmark\|suppress' || die "IPv4 rules left after down"
	! nsx k-qp ip -6 rule show | grep -q 'fwmark\|suppress' || die "IPv6 rules left after down"
	return 0
}

ktest_case up_ping_down case_up_ping_down
ktest_case up_twice_refused case_up_twice
ktest_case sync_policy_routing case_sync_policy_routing
ktest_case kernel_subnet_route_kept case_kernel_subnet_route_kept
