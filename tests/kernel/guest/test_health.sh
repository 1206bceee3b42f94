# wghealth against in-kernel WireGuard: a healthy tunnel, the far side
# removed (Degraded -> Disconnected, remedies with backoff incl. a restart
# and a move_port that keeps the configured ListenPort
# through `wgctl down/up` of the config, cooldown), the far side back
# (Healthy), and the story in `wghealth history`.
. /ktest/lib.sh

case_story() {
	need_wgctl
	command -v wghealth >/dev/null 2>&1 || skip_case "build/wghealth not in the guest (run make; tests/kernel/run.sh copies it)"
	ns_add k-ha k-hb
	veth_pair k-ha 192.168.244.1/24 k-hb 192.168.244.2/24
	mkdir -p /tmp/k-h
	key_file /tmp/k-h/a.key
	key_file /tmp/k-h/b.key
	cat >/tmp/k-h/k-wa.conf <<CONF
[Interface]
PrivateKey = $(cat /tmp/k-h/a.key)
ListenPort = 51861
Address = 10.244.0.1/24
Table = off

[Peer]
PublicKey = $(pub_of /tmp/k-h/b.key)
AllowedIPs = 10.244.0.2/32
Endpoint = 192.168.244.2:51862
PersistentKeepalive = 1
CONF
	must nsx k-ha wgctl up /tmp/k-h/k-wa.conf
	far_up() {
		must nsx k-hb ip link add k-wb type wireguard
		must nsx k-hb wg set k-wb private-key /tmp/k-h/b.key listen-port 51862 \
			peer "$(pub_of /tmp/k-h/a.key)" allowed-ips 10.244.0.1/32 endpoint 192.168.244.1:51861
		must nsx k-hb ip addr add 10.244.0.2/24 dev k-wb
		must nsx k-hb ip link set k-wb up
	}
	far_up
	ping_until k-ha 10.244.0.2
	wh() {
		rc=0
		nsx k-ha wghealth check k-wa --json --state-dir /tmp/k-h/state \
			--config /tmp/k-h/none.conf --handshake-timeout 60 --disconnect-after 2 \
			--reconnect-timeout 2 --max-retries 3 --retry-interval 1 --backoff-max 2 \
			--jitter 0 --cooldown 6 --ping 10.244.0.2 --ping-count 2 --ping-timeout 400ms \
			--wg-config /tmp/k-h/k-wa.conf >/tmp/k-h/out 2>/tmp/k-h/err || rc=$?
		echo "check exit $rc: $(cat /tmp/k-h/out) $(cat /tmp/k-h/err)"
	}
	: >/tmp/k-h/none.conf
	wh
	assert_eq "$rc" 0 "healthy tunnel: exit code"
	grep -q '"verdict":"healthy"' /tmp/k-h/out || die "healthy tunnel not Healthy: $(cat /tmp/k-h/out)"

	# The far side disappears.
	must nsx k-hb ip link del k-wb
	wh
	assert_eq "$rc" 1 "far side gone, first check (Degraded)"
	grep -q '"probe_lost"' /tmp/k-h/out || die "no probe_lost: $(cat /tmp/k-h/out)"
	sleep 1
	wh
	assert_eq "$rc" 2 "far side gone, second check (Disconnected)"
	grep -q '"degraded_persistent"' /tmp/k-h/out || die "no degraded_persistent: $(cat /tmp/k-h/out)"
	i=0
	while [ $i -lt 15 ]; do
		sleep 1
		wh
		grep -q '"entered_cooldown":true' /tmp/k-h/out && break
		i=$((i + 1))
	done
	grep -q '"entered_cooldown":true' /tmp/k-h/out || die "no cooldown after the retries"
	# The restart went through wgctl down/up and left a working interface.
	nsx k-ha wg show k-wa >/dev/null 2>&1 || die "k-wa missing after the restart remedy"

	far_up
	i=0
	while [ $i -lt 20 ]; do
		wh
		[ "$rc" = 0 ] && break
		sleep 1
		i=$((i + 1))
	done
	assert_eq "$rc" 0 "far side back: Healthy"
	nsx k-ha wghealth history k-wa --state-dir /tmp/k-h/state >/tmp/k-h/hist 2>&1
	cat /tmp/k-h/hist
	for want in "transition degraded" "transition disconnected" "action=reset_endpoint result=ok" \
		"action=move_port result=skipped" "action=restart result=ok" " cooldown " "recovered healthy"; do
		grep -q -- "$want" /tmp/k-h/hist || die "history lacks '$want'"
	done
	# The config sets ListenPort: move_port never moved it (peers name it).
	grep -q "listen port 51861 kept: the config sets ListenPort" /tmp/k-h/hist ||
		die "move_port did not say why it kept the port"
	assert_eq "$(nsx k-ha wg show k-wa listen-port)" 51861 "the configured listen port"
}

ktest_case story case_story
