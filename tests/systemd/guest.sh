#!/bin/sh
# Inside the systemd guest (tests/systemd/run.sh): run by wgkit-test.service
# once the system is up, with systemd as PID 1 and Debian's kernel with its
# WireGuard module. Drives the shipped systemd/wg-gatewayd.service through
# systemctl: started (Type=notify), sandboxed (capabilities, seccomp, no new
# privileges, ProtectSystem=strict with its RuntimeDirectory), a hung daemon
# withdrawn and restarted by the watchdog, stop drains, a killed daemon
# restarted, a bad config refused by ExecStartPre, the key as a systemd
# credential; then wghealth's units (the check, its timer, the daemon).
# Results as "KTEST ok|fail NAME" on the serial console.
set -u
# wait_for from the host suites' harness; its ok/fail are replaced below.
. /ktest/lib.sh
tty=/dev/ttyS0
out() { echo "$*" >"$tty"; }
ok() { out "KTEST ok $1"; }
fail() { out "KTEST fail $1 $2"; }
info() { out "KTEST info $*"; }
U=wg-gatewayd
AC=192.0.2.53
peers() { wg show gw0 peers 2>/dev/null | wc -l; }
has_peers() { [ "$(peers)" = "$1" ]; }
prop() { systemctl show -p "$1" --value $U; }
anycast_up() { ip -o addr show dev lo | grep -q " $AC/32 "; }
anycast_gone() { ! anycast_up; }
ms() { echo $(($(date +%s%N) / 1000000)); }
journal() { journalctl -q -o cat -u $U --no-pager 2>/dev/null; }
info_tail() { journal | tail -n 4 | while read -r l; do info "  $l"; done; }

while read -r m; do
	insmod "/ktest/modules/$m" || fail modules "insmod $m"
done </ktest/modules/order
info "systemd $(systemctl --version | head -n 1 | cut -d' ' -f2), kernel $(uname -r), state $(systemctl is-system-running)"

umask 077
mkdir -p /etc/wgkit/peers.d
wg genkey >/etc/wgkit/gateway.key
for i in 1 2 3; do
	printf '[Peer]\nPublicKey = %s\nAllowedIPs = 10.9.0.%d/32\n' "$(wg genkey | wg pubkey)" $i \
		>/etc/wgkit/peers.d/p$i.conf
done
conf() { # KEYLINE: the [Interface] line that names the private key
	cat >/etc/wgkit/gateway.conf <<EOF
[Interface]
Name = gw0
$1
ListenPort = 51820
Backend = kernel
[Registry]
Source = directory
Path = /etc/wgkit/peers.d
[Anycast]
Address = $AC/32
Link = lo
LifetimeSeconds = 3
DrainSeconds = 1
[Stun]
Listen = 127.0.0.1:3478
[Http]
Listen = 127.0.0.1:9586
EOF
}
conf "PrivateKeyFile = /etc/wgkit/gateway.key"
# A shorter watchdog and restart delay than the shipped unit's, so the
# test waits seconds, not tens of seconds.
mkdir -p /etc/systemd/system/$U.service.d
printf '[Service]\nWatchdogSec=3\nRestartSec=1\n' >/etc/systemd/system/$U.service.d/test.conf
systemctl daemon-reload

# ---------------------------------------------------------------- start
t0=$(ms)
if systemctl start $U; then
	ok "systemctl start returned after READY=1 ($(($(ms) - t0)) ms): $(systemctl is-active $U)"
else
	fail start "systemctl start failed"
	info_tail
fi
has_peers 3 && ok "the device holds the registry's 3 peers" || fail peers "$(peers) peers, not 3"
[ "$(prop Type)" = notify ] && ok "Type=notify" || fail type "$(prop Type)"
info "StatusText: $(prop StatusText)"
prop StatusText | grep -q . && ok "STATUS= reached systemd" || fail status "no StatusText"
pid=$(prop MainPID)
st=/proc/$pid/status
cap=$(sed -n 's/^CapEff:\t*//p' "$st")
# CAP_NET_BIND_SERVICE (10) and CAP_NET_ADMIN (12): 0x1400, nothing more.
[ "$cap" = 0000000000001400 ] && ok "only CAP_NET_ADMIN and CAP_NET_BIND_SERVICE effective" ||
	fail caps "CapEff $cap"
[ "$(sed -n 's/^CapBnd:\t*//p' "$st")" = 0000000000001400 ] && ok "bounding set the same" ||
	fail capbnd "CapBnd $(sed -n 's/^CapBnd:\t*//p' "$st")"
[ "$(sed -n 's/^NoNewPrivs:\t*//p' "$st")" = 1 ] && ok "NoNewPrivs" || fail nnp "NoNewPrivs off"
[ "$(sed -n 's/^Seccomp:\t*//p' "$st")" = 2 ] && ok "a seccomp filter (SystemCallFilter)" ||
	fail seccomp "Seccomp $(sed -n 's/^Seccomp:\t*//p' "$st")"
grep -qx 'THP_enabled:[[:space:]]*0' "$st" && ok "transparent huge pages off (prctl allowed by SystemCallFilter)" ||
	fail thp "$(grep THP_enabled "$st")"
awk '$5 == "/" { print $6 }' "/proc/$pid/mountinfo" | grep -q '^ro' && ok "ProtectSystem=strict: / read-only for it" ||
	fail protect "/ not read-only in its mount namespace"
systemd-run -q --wait -p ProtectSystem=strict touch /run/strict-probe 2>/dev/null
[ -e /run/strict-probe ] && rw=writable || rw=read-only
info "under ProtectSystem=strict alone, /run is $rw"
info "its mounts: $(awk '$5 ~ /^\/run/ { printf "%s %s; ", $5, substr($6, 1, 2) }' "/proc/$pid/mountinfo")"
[ -e /run/wgkit/gw0.gwstate ] && ok "RuntimeDirectory: the state file written in /run/wgkit" ||
	fail state "no /run/wgkit/gw0.gwstate: $(ls /run/wgkit 2>&1)"
anycast_up && ok "anycast $AC/32 on lo while ready" || fail anycast "not on lo"
code=$(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:9586/readyz)
[ "$code" = 200 ] && ok "/readyz 200 (libmicrohttpd loaded in the sandbox)" || fail readyz "HTTP $code"
curl -s http://127.0.0.1:9586/metrics | grep -q '^wgkit_gateway_desired_peers 3' &&
	ok "/metrics: desired peers 3" || fail metrics "no wgkit_gateway_desired_peers 3"

# ---------------------------------------------------------------- a change, a reload
printf '[Peer]\nPublicKey = %s\nAllowedIPs = 10.9.0.4/32\n' "$(wg genkey | wg pubkey)" \
	>/etc/wgkit/peers.d/p4.conf
wait_for 50 has_peers 4 && ok "a new peers file applied (inotify works in the sandbox)" ||
	fail inotify "$(peers) peers"
if systemctl reload $U && sleep 0.5 && [ "$(systemctl is-active $U)" = active ] && has_peers 4 &&
	journal | grep -q 'SIGHUP'; then
	ok "systemctl reload (ExecReload, SIGHUP): reread, still active, 4 peers"
else
	fail reload "$(systemctl is-active $U), $(peers) peers"
	info_tail
fi

# ---------------------------------------------------------------- hung: the watchdog
pid=$(prop MainPID)
kill -STOP "$pid"
t0=$(ms)
if wait_for 60 anycast_gone; then
	ok "SIGSTOP: anycast withdrawn after $(($(ms) - t0)) ms (within 5 s)"
else
	fail hung-withdraw "still on lo 6 s after SIGSTOP"
fi
restarted() { [ "$(prop MainPID)" != "$pid" ] && [ "$(systemctl is-active $U)" = active ]; }
if wait_for 200 restarted; then
	ok "WatchdogSec: the hung daemon killed and restarted after $(($(ms) - t0)) ms (NRestarts=$(prop NRestarts))"
else
	fail watchdog "not restarted 20 s after SIGSTOP: $(systemctl is-active $U)"
	info_tail
fi
journal | grep -qi 'watchdog timeout' && ok "the journal says: watchdog timeout" ||
	fail watchdog-log "no watchdog timeout in the journal"
journal | grep -q 'start: device in step, 0 set' && ok "restarted over its device: 0 set" ||
	fail restart-set "$(journal | grep 'start:' | tail -n 1)"
wait_for 50 anycast_up && ok "anycast back once ready again" || fail anycast-back "not on lo"

# ---------------------------------------------------------------- killed: Restart=on-failure
pid=$(prop MainPID)
n0=$(prop NRestarts)
systemctl kill -s KILL $U
if wait_for 100 restarted; then
	ok "SIGKILL: restarted (NRestarts $n0 -> $(prop NRestarts)), $(peers) peers"
else
	fail killed "not restarted: $(systemctl is-active $U)"
fi

# ---------------------------------------------------------------- stop drains
wait_for 50 anycast_up
t0=$(ms)
systemctl stop $U &
sp=$!
if wait_for 30 anycast_gone; then
	ok "systemctl stop: anycast withdrawn at once ($(($(ms) - t0)) ms)"
else
	fail drain "still on lo 3 s after stop"
fi
wait "$sp"
took=$(($(ms) - t0))
[ "$(prop Result)" = success ] && [ "$(systemctl is-active $U)" = inactive ] && [ $took -ge 900 ] &&
	ok "stopped after draining DrainSeconds ($took ms), Result=success" ||
	fail stop "Result=$(prop Result) $(systemctl is-active $U) after $took ms"
has_peers 4 && ok "stopped: the device keeps its 4 peers" || fail stop-peers "$(peers) peers"

# ---------------------------------------------------------------- a bad config
cp /etc/wgkit/gateway.conf /tmp/good.conf
echo 'Bogus = 1' >>/etc/wgkit/gateway.conf
if systemctl start $U 2>/dev/null; then
	fail bad-config "started with a bad config"
else
	ok "a bad config: the start fails ($(systemctl is-active $U), ExecStartPre exit $(prop ExecStartPre | sed -n 's/.*status=\([0-9]*\).*/\1/p'))"
fi
journal | grep -q 'gateway.conf:[0-9]*: Bogus' && ok "ExecStartPre check-config named file, line, key" ||
	fail bad-config-log "$(journal | tail -n 2 | tr '\n' ' ')"
has_peers 4 && ok "the refused start left the device alone" || fail bad-config-peers "$(peers) peers"
# Restart=on-failure retries the refused start; systemd's start limit
# (DefaultStartLimitBurst=5 in 10 s) ends it failed, not retried for ever.
is_failed() { [ "$(systemctl is-active $U)" = failed ]; }
if wait_for 250 is_failed; then
	ok "a bad config: the unit is failed after $(prop NRestarts) retries, not retried for ever"
else
	fail bad-config-loop "$(systemctl is-active $U) after 25 s, NRestarts $(prop NRestarts)"
fi
cp /tmp/good.conf /etc/wgkit/gateway.conf
systemctl reset-failed $U

# ---------------------------------------------------------------- the key as a credential
conf "PrivateKeyCredential = gateway.key"
printf '[Service]\nLoadCredential=gateway.key:/etc/wgkit/gateway.key\n' \
	>/etc/systemd/system/$U.service.d/cred.conf
systemctl daemon-reload
if systemctl start $U && [ "$(wg show gw0 public-key)" = "$(wg pubkey </etc/wgkit/gateway.key)" ]; then
	ok "LoadCredential=: started with the key from \$CREDENTIALS_DIRECTORY"
else
	fail credential "$(systemctl is-active $U)"
	info_tail
fi
systemctl stop $U
journal | grep -qF "$(cat /etc/wgkit/gateway.key)" && fail key-log "the private key is in the journal" ||
	ok "the private key never in the journal"
# ---------------------------------------------------------------- wghealth's units
uprop() { systemctl show -p "$2" --value "$1"; }
if systemctl start wghealth@gw0.service; then
	ok "wghealth@gw0.service ran: Result=$(uprop wghealth@gw0.service Result), exit $(uprop wghealth@gw0.service ExecMainStatus)"
else
	fail wghealth-oneshot "Result=$(uprop wghealth@gw0.service Result) exit $(uprop wghealth@gw0.service ExecMainStatus)"
fi
v=$(journalctl -q -o cat -u wghealth@gw0.service --no-pager | grep -m 1 -E '^(HEALTHY|IDLE|DEGRADED|DISCONNECTED|UNKNOWN)|\|')
info "wghealth verdict: $v"
[ -n "$v" ] && ok "its verdict in the journal" || fail wghealth-verdict "none in the journal"
[ -e /var/lib/wghealth/gw0.state ] && [ "$(stat -c %a /var/lib/wghealth)" = 700 ] &&
	ok "StateDirectory: /var/lib/wghealth (0700) holds gw0.state" ||
	fail wghealth-state "$(ls -la /var/lib/wghealth 2>&1 | tr '\n' ' ')"
systemctl start wghealth@gw0.timer
[ "$(systemctl is-active wghealth@gw0.timer)" = active ] &&
	[ "$(uprop wghealth@gw0.timer NextElapseUSecMonotonic)" != 0 ] &&
	ok "wghealth@gw0.timer active, next run scheduled" ||
	fail wghealth-timer "$(systemctl is-active wghealth@gw0.timer)"
systemctl stop wghealth@gw0.timer
mkdir -p /etc/systemd/system/wghealth.service.d
printf '[Service]\nEnvironment=WGHEALTH_INTERFACES=gw0\n' >/etc/systemd/system/wghealth.service.d/test.conf
systemctl daemon-reload
systemctl start wghealth.service
sleep 3
hp=$(uprop wghealth.service MainPID)
if [ "$(systemctl is-active wghealth.service)" = active ] &&
	[ "$(sed -n 's/^CapEff:\t*//p' "/proc/$hp/status")" = 0000000000003000 ]; then
	ok "wghealth.service (daemon) running with only CAP_NET_ADMIN and CAP_NET_RAW"
else
	fail wghealth-daemon "$(systemctl is-active wghealth.service) CapEff $(sed -n 's/^CapEff:\t*//p' "/proc/$hp/status" 2>/dev/null)"
	journalctl -q -o cat -u wghealth.service --no-pager | tail -n 4 | while read -r l; do info "  $l"; done
fi
systemctl stop wghealth.service
[ "$(uprop wghealth.service Result)" = success ] && ok "wghealth.service stopped cleanly" ||
	fail wghealth-stop "Result=$(uprop wghealth.service Result)"

out "KTEST done"
sync
systemctl poweroff --force --force
