# Errors, including the kernel's, surface as one clear line on stderr with a
# non-zero documented exit code (1 usage, 2 bad input, 3 no such interface
# or peer, 5 kernel or system error), and nothing changes.
. /ktest/lib.sh

setup() {
	ns_add k-e
	mkdir -p /tmp/k-e
	key_file /tmp/k-e/priv
	key_file /tmp/k-e/priv2
	P=$(fake_key 7)
	must nsx k-e ip link add k-we type wireguard
	must nsx k-e ip link add k-we2 type wireguard
	must nsx k-e wg set k-we private-key /tmp/k-e/priv listen-port 51910 \
		peer "$P" allowed-ips 10.9.0.0/24
	must nsx k-e wg set k-we2 private-key /tmp/k-e/priv2 listen-port 51911
	# Up, so that listen ports are bound (no peer has an endpoint: silent).
	must nsx k-e ip link set k-we up
	must nsx k-e ip link set k-we2 up
	snapshot /tmp/k-e/before
}

snapshot() {
	{ nsx k-e wg showconf k-we; echo "# k-we2"; nsx k-e wg showconf k-we2; } >"$1"
}
unchanged() { # WHAT
	snapshot /tmp/k-e/after
	assert_same /tmp/k-e/before /tmp/k-e/after "config before and after $1"
}

case_bad_cidr() {
	need_wgctl
	setup
	expect_error "1 2" "10.0.0.0/33" nsx k-e wgctl set k-we peer "$P" allowed-ips 10.0.0.0/33
	unchanged "allowed-ips 10.0.0.0/33"
	# A valid change before the bad one in the same command must not be applied.
	expect_error "1 2" "10.0.0.0/33" nsx k-e wgctl set k-we listen-port 51920 \
		peer "$P" allowed-ips 10.0.0.0/33
	unchanged "listen-port 51920 with allowed-ips 10.0.0.0/33"
}

case_no_such_interface() {
	need_wgctl
	setup
	expect_error 3 k-nonexist nsx k-e wgctl set k-nonexist listen-port 51920
	expect_error 3 k-nonexist nsx k-e wgctl show k-nonexist
	expect_error 3 k-nonexist nsx k-e wgctl showconf k-nonexist
	nsx k-e ip link show k-nonexist >/dev/null 2>&1 && die "wgctl set created k-nonexist"
	unchanged "set on a missing interface"
}

# The kernel refuses: the port is bound by the other interface.
case_port_in_use() {
	need_wgctl
	setup
	# First make sure the kernel really refuses it here (wg must fail too).
	nsx k-e wg set k-we2 listen-port 51910 >/dev/null 2>&1 &&
		die "setup: the kernel accepted a listen port already in use (wg set succeeded)"
	unchanged "wg set k-we2 listen-port 51910 (refused)"
	expect_error 5 k-we2 nsx k-e wgctl set k-we2 listen-port 51910
	grep -qi 'in use' /tmp/ktest.err || die "error line does not give the kernel's reason (address in use): $(cat /tmp/ktest.err)"
	unchanged "listen-port already in use"
}

# A link that is not WireGuard: the kernel's generic netlink family refuses it.
case_not_wireguard() {
	need_wgctl
	setup
	must nsx k-e ip link add k-ve0 type veth peer name k-ve1
	expect_error "3 5" k-ve0 nsx k-e wgctl set k-ve0 listen-port 51920
	expect_error "3 5" k-ve0 nsx k-e wgctl show k-ve0
	unchanged "set on a veth link"
}

case_bad_input() {
	need_wgctl
	setup
	expect_error "1 2" "not-a-key" nsx k-e wgctl set k-we peer not-a-key allowed-ips 10.1.0.0/24
	unchanged "a malformed public key"
	expect_error any /tmp/k-e/missing nsx k-e wgctl set k-we private-key /tmp/k-e/missing
	unchanged "a missing private-key file"
	expect_error "1 2" 70000 nsx k-e wgctl set k-we listen-port 70000
	unchanged "listen-port 70000"
	# A config with an error on line 6: file and line in the message.
	printf '[Interface]\nListenPort = 51920\n\n[Peer]\nPublicKey = %s\nAllowedIPs = 10.0.0.0/33\n' "$P" \
		>/tmp/k-e/bad.conf
	expect_error 2 "bad.conf:6" nsx k-e wgctl setconf k-we /tmp/k-e/bad.conf
	unchanged "setconf of a config with an error on line 6"
}

# A full-length link-local endpoint scoped to a 15-character interface name:
# the scope reaches the kernel as that link's index, a
# numeric scope as given; a name that does not exist is bad input (2) and
# changes nothing.
case_scoped_endpoint() {
	need_wgctl
	setup
	local fe80=fe80:1234:5678:9abc:def0:1234:5678:9abc name=k-scope0123456 idx got
	must nsx k-e ip link add "$name" type veth peer name k-scopep
	idx=$(nsx k-e ip -o link show dev "$name" | cut -d: -f1)
	[ -n "$idx" ] || die "no index for $name"
	must nsx k-e wgctl set k-we peer "$P" endpoint "[$fe80%$name]:51820"
	got=$(nsx k-e wg show k-we endpoints | cut -f2)
	case $got in
	"[$fe80%$idx]:51820" | "[$fe80%$name]:51820") ;;
	*) die "scoped endpoint: wg shows '$got', want [$fe80%$idx]:51820 or %$name" ;;
	esac
	got=$(nsx k-e wgctl show k-we endpoints | cut -f2)
	assert_eq "$got" "[$fe80%$idx]:51820" "wgctl show of the scoped endpoint"
	must nsx k-e wgctl set k-we peer "$P" endpoint "[$fe80%$idx]:51821"
	got=$(nsx k-e wg show k-we endpoints | cut -f2)
	case $got in
	"[$fe80%$idx]:51821" | "[$fe80%$name]:51821") ;;
	*) die "numeric scope: wg shows '$got'" ;;
	esac
	# The config file path (wgnl_endpoint_parse) too.
	printf '[Peer]\nPublicKey = %s\nEndpoint = [%s%%%s]:51822\n' "$P" "$fe80" "$name" \
		>/tmp/k-e/scope.conf
	must nsx k-e wgctl addconf k-we /tmp/k-e/scope.conf
	got=$(nsx k-e wgctl show k-we endpoints | cut -f2)
	assert_eq "$got" "[$fe80%$idx]:51822" "the scoped endpoint from a config file"
	snapshot /tmp/k-e/before
	expect_error 2 "no such interface for the IPv6 scope" \
		nsx k-e wgctl set k-we peer "$P" endpoint "[$fe80%k-nosuchscope1]:51820"
	unchanged "an endpoint scoped to a missing interface"
}

ktest_case bad_cidr case_bad_cidr
ktest_case no_such_interface case_no_such_interface
ktest_case port_in_use case_port_in_use
ktest_case not_wireguard case_not_wireguard
ktest_case bad_input case_bad_input
ktest_case scoped_endpoint case_scoped_endpoint
