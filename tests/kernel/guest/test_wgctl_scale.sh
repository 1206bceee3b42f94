# 1,000 peers through wgctl setconf / syncconf, read back by wgctl and wg.
. /ktest/lib.sh

N=1000

# big_conf FILE PRIVKEY_FILE FIRST LAST [VARIANT]: a config with peers
# FIRST..LAST; peer i has a /32, every second an IPv6 /128, every third an
# endpoint, every tenth a preshared key, every seventh a keepalive. VARIANT 1
# moves every 50th peer's IPv4 address (a change for syncconf).
big_conf() {
	awk -v first="$3" -v last="$4" -v variant="${5:-0}" -v priv="$(cat "$2")" 'BEGIN {
		printf "[Interface]\nPrivateKey = %s\nListenPort = 51830\nFwMark = 0x42\n", priv
		for (i = first; i <= last; i++) {
			printf "\n[Peer]\nPublicKey = KtestPeer%033dA=\n", i
			if (i % 10 == 0) printf "PresharedKey = KtestPsk%034dA=\n", i
			net = (variant == 1 && i % 50 == 0) ? 201 : 200
			a = sprintf("10.%d.%d.%d/32", net, int(i / 256), i % 256)
			if (i % 2 == 0) a = a sprintf(", fd00:200::%x/128", i)
			printf "AllowedIPs = %s\n", a
			if (i % 3 == 0) printf "Endpoint = 192.0.2.%d:%d\n", i % 250 + 1, 10000 + i
			if (i % 7 == 0) printf "PersistentKeepalive = 25\n"
		}
	}' >"$1"
}

setup() {
	ns_add k-s
	mkdir -p /tmp/k-s
	key_file /tmp/k-s/priv
	# Down on purpose: nothing is sent to the endpoints.
	must nsx k-s ip link add k-ws type wireguard
}

# The running config, as wg and wgctl print it, against the file.
check_against() { # CONF WHAT
	nsx k-s wg showconf k-ws >/tmp/k-s/wg.conf || die "wg showconf k-ws failed"
	nsx k-s wgctl showconf k-ws >/tmp/k-s/wgctl.conf || die "wgctl showconf k-ws failed"
	norm_conf <"$1" >/tmp/k-s/want
	norm_conf </tmp/k-s/wg.conf >/tmp/k-s/got.wg
	norm_conf </tmp/k-s/wgctl.conf >/tmp/k-s/got.wgctl
	assert_same /tmp/k-s/got.wg /tmp/k-s/got.wgctl "$2: wg showconf and wgctl showconf"
	assert_same /tmp/k-s/want /tmp/k-s/got.wg "$2: the file and wg showconf"
}

# count_peers N: wg and wgctl show --json both list N peers, and the JSON
# says what wg's dump says (wgctl coalescing a dump split over many netlink
# messages). The JSON is parsed by busybox awk: seconds under TCG at 1,000
# peers, so only where it adds something.
count_peers() {
	wgn=$(nsx k-s wg show k-ws peers | wc -l)
	assert_eq "$wgn" "$1" "peers counted by wg show peers"
	nsx k-s wg show k-ws dump | norm_dump >/tmp/k-s/dump || die "wg show k-ws dump failed"
	nsx k-s wgctl show k-ws --json --show-keys >/tmp/k-s/show.json ||
		die "wgctl show k-ws --json failed"
	json_to_dump </tmp/k-s/show.json | norm_dump >/tmp/k-s/jdump
	jn=$(grep -c '^P ' /tmp/k-s/jdump)
	assert_eq "$jn" "$1" "peers counted in wgctl show --json"
	assert_same /tmp/k-s/dump /tmp/k-s/jdump "wg show dump and wgctl show --json ($1 peers)"
}

case_setconf_1000() {
	need_wgctl
	setup
	big_conf /tmp/k-s/big.conf /tmp/k-s/priv 1 $N
	must nsx k-s wgctl setconf k-ws /tmp/k-s/big.conf
	count_peers $N
	check_against /tmp/k-s/big.conf "setconf of $N peers"
	# setconf again with the same file changes nothing.
	must nsx k-s wgctl setconf k-ws /tmp/k-s/big.conf
	check_against /tmp/k-s/big.conf "second setconf of the same $N peers"
	# setconf with no peers removes them all.
	printf '[Interface]\nPrivateKey = %s\n' "$(cat /tmp/k-s/priv)" >/tmp/k-s/none.conf
	must nsx k-s wgctl setconf k-ws /tmp/k-s/none.conf
	count_peers 0
	check_against /tmp/k-s/none.conf "setconf with no peers"
}

case_syncconf_1000() {
	need_wgctl
	setup
	big_conf /tmp/k-s/big.conf /tmp/k-s/priv 1 $N
	must nsx k-s wg setconf k-ws /tmp/k-s/big.conf
	# 10 peers gone, 10 new, 20 with a moved address.
	big_conf /tmp/k-s/next.conf /tmp/k-s/priv 11 $((N + 10)) 1
	must nsx k-s wgctl syncconf k-ws /tmp/k-s/next.conf
	wgn=$(nsx k-s wg show k-ws peers | wc -l)
	assert_eq "$wgn" "$N" "peers counted by wg show peers"
	check_against /tmp/k-s/next.conf "syncconf of $N peers (1% replaced, 2% changed)"
}

ktest_case setconf_1000_peers case_setconf_1000
ktest_case syncconf_1000_peers case_syncconf_1000
