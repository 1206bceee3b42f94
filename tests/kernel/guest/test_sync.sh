# wgctl sync against the real kernel: random desired states applied in
# sequence always end equal to the file (read back with the reference
# `wg showconf`), a second sync of the same file sends no set message and
# exits 0 under --detailed-exitcode, an endpoint the peer roamed to survives
# a sync of an unchanged file, --plan changes nothing and leaks no key, and
# a wg-quick file's addresses, MTU and routes follow the file; an edited
# file takes the incremental path and still ends equal.
. /ktest/lib.sh

S=/tmp/k-y
IF=k-wy
POOL=400   # peer keys the random states draw from
STATES=6   # random states applied in sequence

setup() {
	ns_add k-y
	mkdir -p $S/state
	key_file $S/priv1
	key_file $S/priv2
	wg genpsk >$S/psk1
	wg genpsk >$S/psk2
	# Down on purpose: nothing is sent to the endpoints.
	must nsx k-y ip link add $IF type wireguard
}

mtu_of() { nsx k-y ip -o link show $IF | sed -n 's/.* mtu \([0-9]*\).*/\1/p'; }
# The routes through $IF in table 1234 (this ip cannot parse "table 1234").
routes_1234() {
	{ nsx k-y ip route show table all; nsx k-y ip -6 route show table all; } |
		awk -v dev=$IF '/ table 1234 / && $0 ~ (" dev " dev " ") { print $1 }' | sort -u
}
ysync() { nsx k-y wgctl sync --state-dir $S/state "$@"; }

# rand_conf FILE SEED: a random desired state over the POOL keys
# (tests/gen_config.sh, shared with tests/uapi/sync.sh).
. /ktest/gen_config.sh
rand_conf() {
	gen_config "$2" $POOL KtestPeer 51900 "$(cat $S/priv1)" "$(cat $S/priv2)" \
		"$(cat $S/psk1)" "$(cat $S/psk2)" >"$1"
}

# check_equal FILE WHAT: the kernel holds exactly FILE (wg showconf).
check_equal() {
	nsx k-y wg showconf $IF >$S/run.conf || die "$2: wg showconf failed"
	norm_conf <"$1" >$S/want
	norm_conf <$S/run.conf >$S/got
	assert_same $S/want $S/got "$2: the file and wg showconf"
}

# stat_of NAME ERRFILE: the number after NAME= in the --stats line.
stat_of() { sed -n "s/.*sync: stats: .*$1=\([0-9]*\).*/\1/p" "$2"; }

case_random_sequence() {
	need_wgctl
	setup
	i=1
	while [ $i -le $STATES ]; do
		rand_conf $S/s$i.conf $((i * 7919))
		rc=0
		ysync --detailed-exitcode --stats $IF $S/s$i.conf >$S/out 2>$S/err || rc=$?
		cat $S/out $S/err
		assert_eq "$rc" 2 "state $i: exit code of a sync that changes something"
		check_equal $S/s$i.conf "state $i ($(grep -c '^\[Peer\]' $S/s$i.conf) peers)"
		# The same file again: nothing to send.
		rc=0
		ysync --detailed-exitcode --stats $IF $S/s$i.conf >$S/out 2>$S/err || rc=$?
		cat $S/out $S/err
		assert_eq "$rc" 0 "state $i: exit code of the second sync of the same file"
		assert_eq "$(stat_of set_msgs $S/err)" 0 "state $i: set messages of a no-op sync"
		check_equal $S/s$i.conf "state $i after the second sync"
		i=$((i + 1))
	done
	# Everything gone: an empty file removes every peer.
	printf '[Interface]\nPrivateKey = %s\nListenPort = 51900\n' "$(cat $S/priv1)" >$S/none.conf
	must ysync $IF $S/none.conf
	check_equal $S/none.conf "no peers"
}

# Same sequence without a record (first sync after an upgrade, --no-state):
# the running endpoints are the reference, and the end state still matches.
case_random_no_state() {
	need_wgctl
	setup
	for i in 1 2 3; do
		rand_conf $S/n$i.conf $((i * 104729))
		must nsx k-y wgctl sync --no-state $IF $S/n$i.conf
		check_equal $S/n$i.conf "state $i without a record"
	done
}

case_noop_sends_nothing() {
	need_wgctl
	setup
	rand_conf $S/a.conf 4242
	must ysync $IF $S/a.conf
	rc=0
	ysync --stats --detailed-exitcode $IF $S/a.conf >$S/out 2>$S/err || rc=$?
	cat $S/out $S/err
	assert_eq "$rc" 0 "exit code of a no-op sync"
	assert_eq "$(stat_of set_msgs $S/err)" 0 "set messages of a no-op sync"
	assert_eq "$(stat_of get_msgs $S/err)" 1 "get requests of a no-op sync"
	[ ! -s $S/out ] || die "a no-op sync printed on stdout: $(head -n 2 $S/out)"
	# --plan agrees and changes nothing.
	must ysync --plan $IF $S/a.conf >$S/plan.json
	json_flat <$S/plan.json >$S/plan.flat
	grep -qx '.changed	false' $S/plan.flat || die "--plan of a no-op: $(head -c 300 $S/plan.json)"
	# syncconf goes through the planner too: nothing to send either.
	must nsx k-y wgctl syncconf $IF $S/a.conf
	check_equal $S/a.conf "after syncconf of the same file"
}

case_roamed_endpoint_survives() {
	need_wgctl
	setup
	P=$(fake_key 9)
	cat >$S/r.conf <<CONF
[Interface]
PrivateKey = $(cat $S/priv1)

[Peer]
PublicKey = $P
AllowedIPs = 10.9.0.9/32
Endpoint = 192.0.2.9:51820
CONF
	must ysync $IF $S/r.conf
	# The peer "roams": the kernel learns a new source address from an
	# authenticated packet; setting it with wg has the same effect on the
	# device's state.
	must nsx k-y wg set $IF peer "$P" endpoint 198.51.100.7:40000
	rc=0
	ysync --detailed-exitcode --stats $IF $S/r.conf >$S/out 2>$S/err || rc=$?
	cat $S/out $S/err
	assert_eq "$rc" 0 "exit code of a sync of the unchanged file after roaming"
	assert_eq "$(nsx k-y wg show $IF endpoints | cut -f2)" 198.51.100.7:40000 \
		"endpoint after a sync of the unchanged file"
	assert_eq "$(stat_of set_msgs $S/err)" 0 "set messages"
	# wg syncconf would have reset it (the behaviour this avoids):
	# `wgctl syncconf` keeps wg's semantics.
	must nsx k-y wgctl syncconf $IF $S/r.conf
	assert_eq "$(nsx k-y wg show $IF endpoints | cut -f2)" 192.0.2.9:51820 "endpoint after syncconf"
	# A changed Endpoint line is applied even though the peer roamed.
	must nsx k-y wg set $IF peer "$P" endpoint 198.51.100.7:40000
	sed 's/192.0.2.9:51820/192.0.2.10:51820/' $S/r.conf >$S/r2.conf
	rc=0
	ysync --detailed-exitcode $IF $S/r2.conf >$S/out 2>&1 || rc=$?
	assert_eq "$rc" 2 "exit code of a sync with a new Endpoint line"
	assert_eq "$(nsx k-y wg show $IF endpoints | cut -f2)" 192.0.2.10:51820 \
		"endpoint after the file changed it"
}

case_plan_json() {
	need_wgctl
	setup
	P1=$(fake_key 1) P2=$(fake_key 2) P3=$(fake_key 3)
	cat >$S/p1.conf <<CONF
[Interface]
PrivateKey = $(cat $S/priv1)
ListenPort = 51910

[Peer]
PublicKey = $P1
AllowedIPs = 10.1.0.0/24, 10.1.1.0/24

[Peer]
PublicKey = $P2
AllowedIPs = 10.2.0.0/24
CONF
	cat >$S/p2.conf <<CONF
[Interface]
PrivateKey = $(cat $S/priv2)
ListenPort = 51910

[Peer]
PublicKey = $P1
PresharedKey = $(cat $S/psk1)
AllowedIPs = 10.1.0.0/24, 10.1.2.0/24

[Peer]
PublicKey = $P3
AllowedIPs = 10.3.0.0/24
Endpoint = 192.0.2.3:3
CONF
	must ysync $IF $S/p1.conf
	nsx k-y wg showconf $IF >$S/before
	must ysync --plan $IF $S/p2.conf >$S/plan.json
	cat $S/plan.json
	nsx k-y wg showconf $IF >$S/after
	assert_same $S/before $S/after "the device before and after --plan"
	for secret in "$(cat $S/priv2)" "$(cat $S/psk1)"; do
		! grep -qF "$secret" $S/plan.json || die "--plan printed a key"
	done
	json_flat <$S/plan.json >$S/flat
	cat $S/flat
	for want in '.changed	true' '.device.private_key	(changed)' ".add[0].public_key	$P3" \
		'.add[0].endpoint	192.0.2.3:3' ".remove[0]	$P2" ".update[0].public_key	$P1" \
		'.update[0].preshared_key	(changed)' '.counts.add	1' '.counts.remove	1' \
		'.counts.update	1' '.counts.unchanged	0'; do
		grep -qxF "$want" $S/flat || die "--plan lacks '$want'"
	done
	! grep -q '^\.device\.listen_port' $S/flat || die "--plan lists the unchanged listen port"
	# This kernel (6.1) has no per-IP removal: the changed list is replaced.
	if grep -q '^\.allowed_ips_mode	replace' $S/flat; then
		grep -qxF '.update[0].allowed_ips_replace[1]	10.1.2.0/24' $S/flat ||
			die "--plan: the replaced list"
	else
		grep -qxF '.update[0].allowed_ips_add[0]	10.1.2.0/24' $S/flat ||
			die "--plan: the added allowed IP"
		grep -qxF '.update[0].allowed_ips_remove[0]	10.1.1.0/24' $S/flat ||
			die "--plan: the removed allowed IP"
	fi
	must ysync $IF $S/p2.conf
	check_equal $S/p2.conf "after applying the plan"
	# The record holds no private or preshared key, and is 0600 in 0700.
	for secret in "$(cat $S/priv2)" "$(cat $S/psk1)"; do
		! grep -qF "$secret" $S/state/$IF.conf || die "the record holds a key"
	done
	assert_eq "$(stat -c %a $S/state/$IF.conf)" 600 "mode of the record"
	assert_eq "$(stat -c %a $S/state)" 700 "mode of the record's directory"
}

case_quick_addresses_mtu_routes() {
	need_wgctl
	setup
	P1=$(fake_key 1) P2=$(fake_key 2)
	cat >$S/q1.conf <<CONF
[Interface]
PrivateKey = $(cat $S/priv1)
Address = 10.77.0.1/24, fd77::1/64
MTU = 1380
Table = 1234

[Peer]
PublicKey = $P1
AllowedIPs = 10.78.1.0/24

[Peer]
PublicKey = $P2
AllowedIPs = 10.78.2.0/24, fd78:2::/64
CONF
	cat >$S/q2.conf <<CONF
[Interface]
PrivateKey = $(cat $S/priv1)
Address = 10.77.0.2/24
MTU = 1400
Table = 1234

[Peer]
PublicKey = $P1
AllowedIPs = 10.78.1.0/24, 10.78.3.0/24
CONF
	must nsx k-y ip link set $IF up
	rc=0
	ysync --detailed-exitcode $IF $S/q1.conf >$S/out 2>&1 || rc=$?
	cat $S/out
	assert_eq "$rc" 2 "exit code of the first quick sync"
	nsx k-y ip -o addr show dev $IF | awk '$3 == "inet" || ($3 == "inet6" && $4 !~ /^fe80/) { print $4 }' | sort >$S/addrs
	assert_eq "$(tr '\n' ' ' <$S/addrs)" "10.77.0.1/24 fd77::1/64 " "addresses"
	assert_eq "$(mtu_of)" 1380 "MTU"
	routes_1234 >$S/r4
	: >$S/r6
	assert_eq "$(cat $S/r4 $S/r6 | tr '\n' ' ')" "10.78.1.0/24 10.78.2.0/24 fd78:2::/64 " "routes in table 1234"
	rc=0
	ysync --detailed-exitcode $IF $S/q1.conf >$S/out 2>&1 || rc=$?
	assert_eq "$rc" 0 "exit code of the same quick file again"
	must ysync $IF $S/q2.conf
	nsx k-y ip -o addr show dev $IF | awk '$3 == "inet" || ($3 == "inet6" && $4 !~ /^fe80/) { print $4 }' | sort >$S/addrs
	assert_eq "$(tr '\n' ' ' <$S/addrs)" "10.77.0.2/24 " "addresses after the change"
	assert_eq "$(mtu_of)" 1400 "MTU after the change"
	routes_1234 >$S/r4
	: >$S/r6
	assert_eq "$(cat $S/r4 $S/r6 | tr '\n' ' ')" "10.78.1.0/24 10.78.3.0/24 " "routes after the change"
	nsx k-y wg showconf $IF | norm_conf | grep '^P ' >$S/got
	norm_conf <$S/q2.conf | grep '^P ' >$S/want
	assert_same $S/want $S/got "peers of the quick file and wg showconf"
}

# mutate IN OUT SEED: IN with some [Peer] sections removed, some with a new
# AllowedIPs line or a new preshared key, and new peers appended; the
# [Interface] part untouched (what the incremental path handles).
mutate() {
	awk -v seed="$3" -v pool=$POOL -v s2="$(cat $S/psk2)" '
	function flush(   k, r, id) {
		if (!n) return
		r = rand(); id = sec[2]; sub(/.*KtestPeer0*/, "", id); sub(/A=.*/, "", id); id += 0
		if (r < 0.05) { n = 0; return }
		for (k = 1; k <= n; k++) {
			if (r < 0.10 && sec[k] ~ /^AllowedIPs/) continue
			if (r >= 0.10 && r < 0.13 && sec[k] ~ /^PresharedKey/) continue
			print sec[k]
		}
		if (r < 0.10) printf "AllowedIPs = 10.%d.%d.%d/32\n", 200 + seed % 50, int(id / 256), id % 256
		if (r >= 0.10 && r < 0.13) printf "PresharedKey = %s\n", s2
		print ""
		n = 0
	}
	BEGIN { srand(seed) }
	/^\[Peer\]/ { flush(); inpeer = 1 }
	!inpeer { print; next }
	/^$/ { next }
	{ sec[++n] = $0 }
	END {
		flush()
		for (j = 1; j <= 5; j++) {
			id = pool + seed * 10 + j
			printf "[Peer]\nPublicKey = KtestPeer%033dA=\nAllowedIPs = 10.250.%d.%d/32\n\n", id, int(id / 256), id % 256
		}
	}' "$1" >"$2"
}

path_of() { sed -n 's/.*sync: stats: .* path=\([a-z]*\).*/\1/p' "$1"; }

# The incremental path: the same [Interface], some [Peer] sections changed.
# Only those are parsed; the device must still end equal to the file, and
# the same file again takes the fast path and sends nothing.
case_incremental_sequence() {
	need_wgctl
	setup
	rand_conf $S/i0.conf 31337
	must ysync $IF $S/i0.conf
	i=1
	while [ $i -le 6 ]; do
		mutate $S/i$((i - 1)).conf $S/i$i.conf $i
		rc=0
		ysync --detailed-exitcode --stats $IF $S/i$i.conf >$S/out 2>$S/err || rc=$?
		cat $S/out $S/err
		assert_eq "$rc" 2 "step $i: exit code"
		assert_eq "$(path_of $S/err)" incremental "step $i: path"
		check_equal $S/i$i.conf "step $i ($(grep -c '^\[Peer\]' $S/i$i.conf) peers)"
		rc=0
		ysync --detailed-exitcode --stats $IF $S/i$i.conf >$S/out 2>$S/err || rc=$?
		assert_eq "$rc" 0 "step $i again: exit code"
		assert_eq "$(path_of $S/err)" fast "step $i again: path"
		assert_eq "$(stat_of set_msgs $S/err)" 0 "step $i again: set messages"
		i=$((i + 1))
	done
	# Someone else removes a peer: the digest no longer matches, the full
	# path puts it back.
	P=$(grep -m 1 '^PublicKey' $S/i6.conf | sed 's/^PublicKey = //')
	must nsx k-y wg set $IF peer "$P" remove
	mutate $S/i6.conf $S/i7.conf 7
	rc=0
	ysync --detailed-exitcode --stats $IF $S/i7.conf >$S/out 2>$S/err || rc=$?
	assert_eq "$(path_of $S/err)" full "after an outside change: path"
	check_equal $S/i7.conf "after an outside change"
	# A roamed endpoint survives a change to its section; a changed
	# Endpoint line is applied.
	R=$(fake_key 999)
	printf '[Peer]\nPublicKey = %s\nAllowedIPs = 10.99.0.1/32\nEndpoint = 192.0.2.50:5000\n' "$R" |
		cat $S/i7.conf - >$S/i8.conf
	must ysync $IF $S/i8.conf
	must nsx k-y wg set $IF peer "$R" endpoint 198.51.100.9:9000
	sed 's|^AllowedIPs = 10.99.0.1/32$|AllowedIPs = 10.99.0.1/32, 10.99.0.2/32|' $S/i8.conf >$S/i9.conf
	ysync --stats $IF $S/i9.conf >$S/out 2>$S/err || die "sync i9: $(cat $S/err)"
	assert_eq "$(path_of $S/err)" incremental "roaming: path"
	assert_eq "$(nsx k-y wg show $IF endpoints | grep "^$R" | cut -f2)" 198.51.100.9:9000 \
		"roamed endpoint after its section changed"
	sed 's|192.0.2.50:5000|192.0.2.51:5001|' $S/i9.conf >$S/i10.conf
	ysync --stats $IF $S/i10.conf >$S/out 2>$S/err || die "sync i10: $(cat $S/err)"
	assert_eq "$(path_of $S/err)" incremental "new Endpoint line: path"
	assert_eq "$(nsx k-y wg show $IF endpoints | grep "^$R" | cut -f2)" 192.0.2.51:5001 \
		"endpoint after its line changed"
	check_equal $S/i10.conf "after the endpoint change"
}

# `wgctl down` of an interface holding many peers goes through
# wgnl_link_del, which empties it in one set first (the time is printed for
# people, never asserted on).
case_down_populated() {
	need_wgctl
	setup
	awk -v priv="$(cat $S/priv1)" 'BEGIN {
		printf "[Interface]\nPrivateKey = %s\nTable = off\n", priv
		for (i = 1; i <= 1000; i++)
			printf "\n[Peer]\nPublicKey = KtestPeer%033dA=\nAllowedIPs = 10.60.%d.%d/32\n", i, int(i / 256), i % 256
	}' >$S/$IF.conf
	must nsx k-y ip link del $IF
	must nsx k-y wgctl up $S/$IF.conf
	assert_eq "$(nsx k-y wg show $IF peers | wc -l)" 1000 "peers after up"
	t0=$(cut -d' ' -f1 /proc/uptime)
	must nsx k-y wgctl down $S/$IF.conf
	t1=$(cut -d' ' -f1 /proc/uptime)
	echo "KTEST info sync/down_populated: wgctl down of 1000 peers took $(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }') s"
	! nsx k-y ip link show $IF >/dev/null 2>&1 || die "the link is still there after down"
}

ktest_case random_sequence case_random_sequence
ktest_case random_no_state case_random_no_state
ktest_case noop_sends_nothing case_noop_sends_nothing
ktest_case incremental_sequence case_incremental_sequence
ktest_case roamed_endpoint_survives case_roamed_endpoint_survives
ktest_case plan_json case_plan_json
ktest_case quick_addresses_mtu_routes case_quick_addresses_mtu_routes
ktest_case down_populated case_down_populated
