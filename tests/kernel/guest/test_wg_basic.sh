# The harness itself, with ip and wg only: two namespaces joined by veth, a
# WireGuard interface in each, handshake and ping.
. /ktest/lib.sh

case_handshake_ping() {
	ns_add k-a k-b
	veth_pair k-a 192.168.241.1/24 k-b 192.168.241.2/24
	key_file /tmp/k-a.key
	key_file /tmp/k-b.key
	must nsx k-a ip link add wga type wireguard
	must nsx k-b ip link add wgb type wireguard
	must nsx k-a wg set wga private-key /tmp/k-a.key listen-port 51801 \
		peer "$(pub_of /tmp/k-b.key)" allowed-ips 10.241.0.2/32 endpoint 192.168.241.2:51802
	must nsx k-b wg set wgb private-key /tmp/k-b.key listen-port 51802 \
		peer "$(pub_of /tmp/k-a.key)" allowed-ips 10.241.0.1/32 endpoint 192.168.241.1:51801
	must nsx k-a ip addr add 10.241.0.1/24 dev wga
	must nsx k-b ip addr add 10.241.0.2/24 dev wgb
	must nsx k-a ip link set wga up
	must nsx k-b ip link set wgb up
	ping_until k-a 10.241.0.2
	ping_until k-b 10.241.0.1
	hs=$(nsx k-a wg show wga latest-handshakes | awk '{print $2}')
	[ -n "$hs" ] && [ "$hs" != 0 ] || die "wga reports no handshake after ping ($hs)"
	rx=$(nsx k-b wg show wgb transfer | awk '{print $2}')
	[ "${rx:-0}" -gt 0 ] || die "wgb received no bytes"
}

ktest_case handshake_ping case_handshake_ping
