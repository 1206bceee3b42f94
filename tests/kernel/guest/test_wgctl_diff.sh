# Differential: the same changes applied with wgctl to interface A (namespace
# k-da) and with wg to interface B (namespace k-db), same keys; after every
# step the two kernels must hold the same configuration, and wgctl's JSON
# must say what wg's dump says.
. /ktest/lib.sh

D=/tmp/k-d
IF=k-wd

# compare STEP: A against B (wg showconf), and wgctl show --json against
# wg show dump on each side.
compare() {
	local ns
	nsx k-da wg showconf $IF | norm_conf >$D/a.conf || die "step $1: wg showconf in k-da failed"
	nsx k-db wg showconf $IF | norm_conf >$D/b.conf || die "step $1: wg showconf in k-db failed"
	assert_same $D/a.conf $D/b.conf "step $1: wg showconf of A (wgctl) and B (wg)"
	for ns in k-da k-db; do
		nsx $ns wg show $IF dump | norm_dump >$D/dump || die "step $1: wg show dump in $ns failed"
		nsx $ns wgctl show $IF --json --show-keys >$D/json ||
			die "step $1: wgctl show $IF --json --show-keys in $ns failed"
		json_to_dump <$D/json | norm_dump >$D/jdump
		assert_same $D/dump $D/jdump "step $1 ($ns): wg show dump and wgctl show --json"
	done
}

# step N ARGS...: "wgctl set $IF ARGS" in A, "wg set $IF ARGS" in B; both
# must succeed (or both fail), then compare.
step() {
	local n=$1 ra=0 rb=0
	shift
	echo "step $n: set $*"
	nsx k-da wgctl set $IF "$@" >$D/a.out 2>&1 || ra=$?
	nsx k-db wg set $IF "$@" >$D/b.out 2>&1 || rb=$?
	[ $ra = 0 ] || [ $rb != 0 ] || die "step $n: 'wgctl set $IF $*' exited $ra but wg succeeded: $(head -n 2 $D/a.out)"
	[ $rb = 0 ] || [ $ra != 0 ] || die "step $n: 'wg set $IF $*' failed ($(head -n 1 $D/b.out)) but wgctl succeeded"
	compare "$n ($*)"
}

# conf_step N VERB FILE: "wgctl VERB" in A, "wg VERB" in B.
conf_step() {
	echo "step $1: $2 $3"
	must nsx k-da wgctl "$2" $IF "$3"
	must nsx k-db wg "$2" $IF "$3"
	compare "$1 ($2 $(basename "$3"))"
}

setup() {
	ns_add k-da k-db
	mkdir -p $D
	key_file $D/priv
	wg genpsk >$D/psk
	wg genpsk >$D/psk2
	: >$D/empty
	for i in 1 2 3 4 5; do
		wg genkey | wg pubkey >$D/p$i
	done
	P1=$(cat $D/p1) P2=$(cat $D/p2) P3=$(cat $D/p3) P4=$(cat $D/p4) P5=$(cat $D/p5)
	# Both down: no socket, no traffic; the same listen port in both.
	must nsx k-da ip link add $IF type wireguard
	must nsx k-db ip link add $IF type wireguard
	compare "0 (new interfaces)"
}

case_set_sequence() {
	need_wgctl
	setup
	step 1 private-key $D/priv
	step 2 listen-port 51900
	step 3 fwmark 0x1234
	step 4 peer "$P1" allowed-ips 10.1.0.0/24,fd01::/64 endpoint 192.0.2.1:51820
	step 5 peer "$P2" allowed-ips 10.2.0.1/32 persistent-keepalive 25 endpoint '[2001:db8::2]:51821'
	step 6 peer "$P3" preshared-key $D/psk allowed-ips 10.3.0.0/16
	step 7 peer "$P1" allowed-ips 10.1.1.0/24
	# An allowed IP moves from P2 to P3.
	step 8 peer "$P3" allowed-ips 10.2.0.1/32,10.3.0.0/16
	step 9 peer "$P2" persistent-keepalive off
	step 10 peer "$P3" preshared-key $D/psk2
	step 11 peer "$P3" preshared-key $D/empty
	step 12 peer "$P1" remove
	step 13 peer "$P4" allowed-ips 0.0.0.0/0,::/0 endpoint 192.0.2.4:51824 peer "$P1" allowed-ips 10.1.2.0/24
	step 14 peer "$P2" allowed-ips ""
	step 15 fwmark off
	step 16 listen-port 51901 peer "$P4" endpoint 192.0.2.44:1 persistent-keepalive 7
	# Host bits as written are masked by the kernel.
	step 17 peer "$P5" allowed-ips 10.5.5.5/24,fd05::1/48
	step 18 peer "$P4" remove peer "$P5" remove peer "$P1" remove
	step 19 peer "$P1" remove
	step 20 private-key $D/empty
	step 21 private-key $D/priv listen-port 0
}

case_conf_files() {
	need_wgctl
	setup
	cat >$D/one.conf <<CONF
[Interface]
PrivateKey = $(cat $D/priv)
ListenPort = 51902
FwMark = 0x99

[Peer]
PublicKey = $P1
PresharedKey = $(cat $D/psk)
AllowedIPs = 10.11.0.0/16, fd11::/64
Endpoint = 192.0.2.11:51811

[Peer]
PublicKey = $P2
AllowedIPs = 10.12.0.1/32
PersistentKeepalive = 15
CONF
	cat >$D/two.conf <<CONF
[Interface]
ListenPort = 51903

[Peer]
PublicKey = $P2
AllowedIPs = 10.12.0.2/32

[Peer]
PublicKey = $P3
AllowedIPs = 10.13.0.0/24
Endpoint = [2001:db8::13]:51813
CONF
	cat >$D/three.conf <<CONF
[Interface]
PrivateKey = $(cat $D/priv)
ListenPort = 51904

[Peer]
PublicKey = $P3
AllowedIPs = 10.13.1.0/24

[Peer]
PublicKey = $P4
PresharedKey = $(cat $D/psk2)
AllowedIPs = 10.14.0.0/24
CONF
	conf_step 1 setconf $D/one.conf
	conf_step 2 addconf $D/two.conf
	conf_step 3 syncconf $D/three.conf
	conf_step 4 setconf $D/two.conf
	conf_step 5 syncconf $D/one.conf
}

ktest_case set_sequence case_set_sequence
ktest_case conf_files case_conf_files
