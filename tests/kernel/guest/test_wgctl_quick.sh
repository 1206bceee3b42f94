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

ktest_case up_ping_down case_up_ping_down
ktest_case up_twice_refused case_up_twice
