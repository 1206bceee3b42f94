# wg-gatewayd on in-kernel WireGuard: it creates the link, applies 2,000
# peers of a directory source in one plan, applies a changed file as one
# set, repairs drift made with wg, and a restart over the device in step
# sends nothing.
. /ktest/lib.sh

gw_wait() { # LOG PATTERN: up to 30 s for PATTERN in LOG
	local i=0
	while ! grep -q -- "$2" "$1" 2>/dev/null; do
		i=$((i + 1))
		[ $i -gt 300 ] && return 1
		sleep 0.1
	done
}

case_gateway_kernel() {
	command -v wg-gatewayd >/dev/null 2>&1 || skip_case "build/wg-gatewayd not built (run make first)"
	ns_add k-gw
	key_file /tmp/k-gw.key
	mkdir -p /tmp/k-gw.d
	awk 'BEGIN { for (i = 0; i < 2000; i++)
		printf "[Peer]\nPublicKey = gwk%039dA=\nAllowedIPs = 10.%d.%d.%d/32\n\n",
			i, 20 + int(i / 62500), int(i / 250) % 250, i % 250 + 1 }' >/tmp/k-gw.d/a.conf
	cat >/tmp/k-gw.conf <<EOC
[Interface]
Name = gwk0
PrivateKeyFile = /tmp/k-gw.key
ListenPort = 51960
Backend = kernel
[Registry]
Source = directory
Path = /tmp/k-gw.d
[Apply]
DriftCheckSeconds = 1
[Anycast]
DrainSeconds = 0
EOC
	/usr/sbin/ip netns exec k-gw wg-gatewayd -c /tmp/k-gw.conf >/tmp/k-gw.log 2>&1 &
	pid=$! # not the ip() function (a subshell): the pid is the daemon's
	gw_wait /tmp/k-gw.log "start: ready" || { cat /tmp/k-gw.log; kill $pid; die "daemon not ready in 30 s"; }
	grep -q "device: created gwk0 (kernel)" /tmp/k-gw.log || { kill $pid; die "no kernel link created: $(head -n 3 /tmp/k-gw.log)"; }
	assert_eq "$(nsx k-gw wg show gwk0 peers | wc -l)" 2000 "peers after start"
	assert_eq "$(nsx k-gw wg show gwk0 listen-port)" 51960 "listen port"
	grep -o 'start: add=.*' /tmp/k-gw.log
	printf '[Peer]\nPublicKey = gwk%039dA=\nAllowedIPs = 10.30.0.1/32\n' 99999 >/tmp/k-gw.d/b.conf
	gw_wait /tmp/k-gw.log "apply: add=1 update=0 remove=0" || { kill $pid; die "added file not applied: $(tail -n 3 /tmp/k-gw.log)"; }
	grep -o 'apply: add=1 .*' /tmp/k-gw.log
	nsx k-gw wg set gwk0 peer "$(printf 'gwk%039dA=' 7)" remove
	gw_wait /tmp/k-gw.log "drift: repaired add=1" || { kill $pid; die "drift not repaired: $(tail -n 3 /tmp/k-gw.log)"; }
	assert_eq "$(nsx k-gw wg show gwk0 peers | wc -l)" 2001 "peers after the repair"
	kill $pid
	wait $pid || die "SIGTERM: exit $?: $(tail -n 4 /tmp/k-gw.log | tr "\n" " ")"
	/usr/sbin/ip netns exec k-gw wg-gatewayd -c /tmp/k-gw.conf >/tmp/k-gw2.log 2>&1 &
	pid=$! # not the ip() function (a subshell): the pid is the daemon's
	gw_wait /tmp/k-gw2.log "start: ready" || { kill $pid; die "restart not ready: $(tail -n 3 /tmp/k-gw2.log)"; }
	grep -q "start: device in step, 0 set" /tmp/k-gw2.log || { kill $pid; die "restart sent something: $(grep start: /tmp/k-gw2.log | tr '\n' ' ')"; }
	grep -o 'start: device in step.*' /tmp/k-gw2.log
	kill $pid
	wait $pid || die "second SIGTERM: exit $?"
}

ktest_case gateway_kernel case_gateway_kernel
