#!/bin/sh
# tests/health/run.sh BUILD: wghealth against real userspace WireGuard.
#
# Two wireguard-go instances in network namespaces joined by veth, with
# short thresholds: a healthy tunnel is Healthy; the far side killed ->
# Degraded, then Disconnected with the right reasons, remedies with backoff,
# cooldown; the far side back -> Healthy, and all of it in `history`. Then
# the underlay: an HTTP server on loopback inside namespace A is the URL
# check; stopping it takes the tunnel down, starting it brings it back.
# Also: exit codes, bad settings (file:line), a corrupt state file, the
# lock, status, the Prometheus textfile.
#
# Needs root, wireguard-go, wg, ip, python3, flock. Namespaces "hl-<pid>-*",
# interfaces "hl<pid>*"; everything is removed on exit. Traffic stays in
# the namespaces. Closing line: "health: N passed, N failed, N skipped".
BUILD=${1:-build}
cd "$(dirname "$0")/../.." || exit 1
case $BUILD in /*) ;; *) BUILD=$PWD/$BUILD ;; esac
WH=$BUILD/wghealth
SOCKDIR=/var/run/wireguard

ID=$$
NSA=hl-$ID-a NSB=hl-$ID-b
IFA=hl${ID}a IFB=hl${ID}b
VA=hl${ID}va VB=hl${ID}vb
UA=198.18.243.1 UB=198.18.243.2
TA=10.243.0.1 TB=10.243.0.2
PA=51841 PB=51842
HTTP_PORT=18943
. tests/lib.sh
suite_init health
TMP=$SUITE_TMP
# wgctl sync records (written by up, sync) stay inside the test.
export WGCTL_STATE_DIR="$TMP/state"
STATE=$TMP/state
PIDA="" PIDB="" PIDH="" PIDF="" PIDG=""
# The old name of fail; the HTTP server and the fake UAPI daemons (the
# wireguard-go instances and the namespaces are tests/lib.sh's).
bad() { fail "$*"; }
stop_helpers() {
	stop_pid "$PIDH"; stop_pid "$PIDF"; stop_pid "$PIDG"
	rm -f "$SOCKDIR/hl${ID}f.sock" "$SOCKDIR/hl${ID}g.sock"
}
at_exit stop_helpers

missing=""
[ "$(id -u)" = 0 ] || missing="$missing root"
for t in wireguard-go wg ip python3 flock; do command -v $t >/dev/null 2>&1 || missing="$missing $t"; done
[ -x "$WH" ] || missing="$missing $WH(make)"
[ -z "$missing" ] || cannot "missing:$missing"

(umask 077 && wg genkey >"$TMP/a.key" && wg genkey >"$TMP/b.key")
KA=$(wg pubkey <"$TMP/a.key"); KB=$(wg pubkey <"$TMP/b.key")

start_b() {
	wggo_start "$NSB" "$IFB" "$TMP/wg-b.log" || return 1
	PIDB=$WGGO_PID
	ip netns exec "$NSB" wg set "$IFB" private-key "$TMP/b.key" listen-port $PB \
		peer "$KA" allowed-ips $TA/32 endpoint $UA:$PA &&
	ip -n "$NSB" addr add $TB/24 dev "$IFB" && ip -n "$NSB" link set "$IFB" up
}

setup() {
	ns_add "$NSA" && ns_add "$NSB" || return 1
	veth_pair "$NSA" "$VA" "$NSB" "$VB" || return 1
	ip -n "$NSA" addr add $UA/24 dev "$VA" && ip -n "$NSB" addr add $UB/24 dev "$VB" || return 1
	wggo_start "$NSA" "$IFA" "$TMP/wg-a.log" || return 1
	PIDA=$WGGO_PID
	ip netns exec "$NSA" wg set "$IFA" private-key "$TMP/a.key" listen-port $PA \
		peer "$KB" allowed-ips $TB/32 endpoint $UB:$PB persistent-keepalive 1 &&
	ip -n "$NSA" addr add $TA/24 dev "$IFA" && ip -n "$NSA" link set "$IFA" up || return 1
	start_b
}

# Short thresholds: the whole story in about a minute.
cat >"$TMP/wghealth.conf" <<EOF
# wghealth test settings
[defaults]
handshake_timeout = 25
disconnect_after = 2
reconnect_timeout = 2
max_retries = 3
retry_interval = 1
backoff_max = 2
jitter = 0
cooldown = 8
ping_count = 2
ping_timeout = 400ms
url_timeout = 1

[$IFA]
ping = $TB
EOF

# wh ARGS...: wghealth in namespace A with the test's settings and state.
wh() {
	ip netns exec "$NSA" "$WH" "$@"
}
check_a() { # extra args...: one check, JSON on $TMP/out, exit code in $rc
	rc=0
	wh check "$IFA" --json --config "$TMP/wghealth.conf" --state-dir "$STATE" \
		--textfile "$TMP/wghealth.prom" "$@" >"$TMP/out" 2>"$TMP/err" || rc=$?
	cat "$TMP/out" >>"$TMP/all.json"
	echo "    check: exit $rc $(head -c 400 "$TMP/out")" >>"$TMP/trace"
}
# jget FIELD: a top-level string/array field of the last check's JSON.
jget() {
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); v=d
for k in sys.argv[2].split("."): v=v[k] if isinstance(v,dict) else v
print(",".join(x if isinstance(x,str) else json.dumps(x) for x in v) if isinstance(v,list) else v)' "$TMP/out" "$1" 2>/dev/null
}
show_trace() { tail -n 12 "$TMP/trace" 2>/dev/null; sed 's/^/    stderr: /' "$TMP/err" | tail -n 3; }

tunnel_ping() {
	# Up to ~40 s: on a loaded 2-core machine (a qemu guest beside us) the
	# first handshake of wireguard-go can take several seconds.
	i=0
	while [ $i -lt 40 ]; do
		ip netns exec "$NSA" "$WH" probe --quiet --timeout 500 "$TB" >/dev/null 2>&1 && return 0
		sleep 0.5
		i=$((i + 1))
	done
	return 1
}

echo "=== health: set-up (namespaces, veth, two wireguard-go)"
if ! setup >"$TMP/setup" 2>&1; then
	bad "set-up"; cat "$TMP/setup" "$TMP"/wg-*.log
	finish
fi
if tunnel_ping; then ok "tunnel up (A pings B through it)"; else
	bad "no ping through the tunnel"
	wg show all 2>&1 | sed 's/^/    /'
	tail -n 5 "$TMP"/wg-*.log 2>/dev/null | sed 's/^/    /'
	finish
fi

# ------------------------------------------------------------ basics
rc=0
wh check "$IFA" --config "$TMP/nope.conf" >"$TMP/out" 2>"$TMP/err" || rc=$?
[ $rc = 3 ] && grep -q "nope.conf" "$TMP/err" && ok "missing --config: exit 3 (unknown), names the file" ||
	bad "missing --config: exit $rc: $(cat "$TMP/err")"
printf '[defaults]\nretry_interval = 1\n[%s]\nping = 10.0.0.1\nmax_retries = lots\n' "$IFA" >"$TMP/bad.conf"
rc=0
wh check "$IFA" --config "$TMP/bad.conf" --state-dir "$STATE" >"$TMP/out" 2>"$TMP/err" || rc=$?
[ $rc = 3 ] && grep -q "bad.conf:5: max_retries" "$TMP/err" &&
	ok "bad setting rejected with file:line:key, exit 3: $(cat "$TMP/err")" ||
	bad "bad setting: exit $rc: $(cat "$TMP/err")"

check_a
if [ $rc = 0 ] && [ "$(jget verdict)" = healthy ]; then ok "healthy tunnel: Healthy, exit 0"
else bad "healthy tunnel: exit $rc verdict $(jget verdict) reasons $(jget reasons)"; show_trace; fi
check_a
[ $rc = 0 ] && ok "second check (with counter deltas): Healthy" || { bad "second check: exit $rc $(jget reasons)"; show_trace; }
rc=0
wh check "$IFA" --config "$TMP/wghealth.conf" --state-dir "$STATE" >"$TMP/text" 2>&1 || rc=$?
grep -q "^$IFA: healthy" "$TMP/text" && ok "text output: $(head -n 1 "$TMP/text")" || bad "text output: $(cat "$TMP/text")"

# Nagios-style read-only run: --dry-run changes no state.
cp "$STATE/$IFA.state" "$TMP/state.before"
wh check "$IFA" --config "$TMP/wghealth.conf" --state-dir "$STATE" --dry-run >/dev/null 2>&1
cmp -s "$STATE/$IFA.state" "$TMP/state.before" && ok "--dry-run leaves the state alone" ||
	bad "--dry-run changed the state file"

# A corrupt state file: reported, replaced, the check still answers.
printf 'wghealth-state 1\nattempt \377\377\n' >"$STATE/$IFA.state"
check_a
if [ $rc = 0 ] && grep -q "corrupt" "$TMP/err" && [ "$(jget state_replaced)" = True ] &&
	head -n 1 "$STATE/$IFA.state" | grep -q '^wghealth-state 1$' && tail -n 1 "$STATE/$IFA.state" | grep -q '^end '; then
	ok "corrupt state file reported and replaced: $(cat "$TMP/err")"
else
	bad "corrupt state file: exit $rc, stderr $(cat "$TMP/err")"; show_trace
fi
check_a # counters again, so the next check has deltas

# The lock: an overlapping run waits for it, with a bound (exit 3 after
# --lock-wait, says why); a --read-only check (monitoring) takes no lock and
# answers at once, writing nothing.
flock "$STATE/$IFA.lock" sleep 3 &
LPID=$!
sleep 0.3
cp "$STATE/$IFA.state" "$TMP/state.before"
t0=$(date +%s%N)
rc=0
wh check "$IFA" --read-only --config "$TMP/wghealth.conf" --state-dir "$STATE" >"$TMP/text" 2>&1 || rc=$?
t1=$(date +%s%N)
[ $rc = 0 ] && grep -q "^$IFA: healthy" "$TMP/text" && [ $(((t1 - t0) / 1000000)) -lt 1500 ] &&
	cmp -s "$STATE/$IFA.state" "$TMP/state.before" &&
	ok "--read-only during another run: no lock, answers ($(head -n 1 "$TMP/text")) in $(((t1 - t0) / 1000000)) ms, writes nothing" ||
	bad "--read-only under the lock: exit $rc $(cat "$TMP/text")"
check_a --lock-wait 500ms
wait $LPID
[ $rc = 3 ] && grep -q "another wghealth run holds the lock (waited 0.5 s" "$TMP/out" &&
	ok "overlapping run waits --lock-wait, then exit 3: $(jget error)" ||
	bad "lock: exit $rc $(cat "$TMP/out")"
grep -q "^wghealth_verdict{interface=\"$IFA\",verdict=\"unknown\"} 1" "$TMP/wghealth.prom" &&
grep -q "^# TYPE wghealth_remedies_total counter" "$TMP/wghealth.prom" &&
	ok "Prometheus textfile written" || { bad "textfile:"; cat "$TMP/wghealth.prom"; }
flock "$STATE/$IFA.lock" sleep 1 &
LPID=$!
sleep 0.3
check_a
wait $LPID
# (any verdict but unknown: a ping lost on a loaded machine is not the point)
[ $rc != 3 ] && [ "$(jget verdict)" != unknown ] &&
	ok "a run overlapping a short one waits for the lock and checks (exit $rc, $(jget verdict))" ||
	bad "lock wait: exit $rc $(head -c 300 "$TMP/out")"
check_a
# One series per verdict, 1 for the current one (an alert on "> 0" of a coded
# value fired on idle tunnels).
if grep -q "^wghealth_verdict{interface=\"$IFA\",verdict=\"healthy\"} 1$" "$TMP/wghealth.prom" &&
	[ "$(grep -c "^wghealth_verdict{interface=\"$IFA\",verdict=\"[a-z]*\"} 0$" "$TMP/wghealth.prom")" = 5 ] &&
	! grep -q 'peer=' "$TMP/wghealth.prom"; then
	ok "textfile: one verdict series per state (healthy 1, the other 5 at 0), no per-peer series unless asked"
else
	bad "textfile after healthy check: $(grep wghealth_verdict "$TMP/wghealth.prom" | tr '\n' ' ')"
fi

# Planted symlinks at the old predictable temporary names (NAME.tmp.PID) in
# directories others may write (textfile collectors): never followed. The
# sh -c ... exec (and ip netns exec) keep the PID the tool will run with.
echo precious >"$TMP/victim"
rc=0
sh -c 'ln -s "$1" "$2.tmp.$$" && ln -s "$1" "$3.tmp.$$" && shift 3 && exec "$@"' sh \
	"$TMP/victim" "$STATE/$IFA.state" "$TMP/wghealth.prom" \
	ip netns exec "$NSA" "$WH" check "$IFA" --config "$TMP/wghealth.conf" --state-dir "$STATE" \
	--textfile "$TMP/wghealth.prom" >"$TMP/out" 2>"$TMP/err" || rc=$?
if [ "$(cat "$TMP/victim")" = precious ] && [ ! -L "$STATE/$IFA.state" ] && [ ! -L "$TMP/wghealth.prom" ] &&
	[ "$(stat -c %a "$STATE/$IFA.state")" = 600 ] && [ "$(stat -c %a "$TMP/wghealth.prom")" = 644 ] &&
	grep -q "^wghealth_verdict" "$TMP/wghealth.prom" && head -n 1 "$STATE/$IFA.state" | grep -q '^wghealth-state 1$'; then
	ok "planted temp-name symlinks not followed; state 0600, textfile 0644"
else
	bad "planted symlinks: exit $rc victim '$(head -c 60 "$TMP/victim")' state $(stat -c '%F %a' "$STATE/$IFA.state") prom $(stat -c '%F %a' "$TMP/wghealth.prom") $(cat "$TMP/err")"
fi
rm -f "$STATE/$IFA.state.tmp."* "$TMP/wghealth.prom.tmp."*
# The story below starts from a healthy check (a ping lost on a loaded
# machine would leave a bad count behind).
i=0
while [ $i -lt 10 ]; do
	check_a
	[ $rc = 0 ] && break
	sleep 0.5; i=$((i + 1))
done

# ------------------------------------------------------------ far side dies
echo "=== health: the far side dies"
stop_pid "$PIDB"; PIDB=""
rm -f "$SOCKDIR/$IFB.sock"
: >"$TMP/trace"
check_a
if [ $rc = 1 ] && [ "$(jget verdict)" = degraded ] && echo ",$(jget reasons)," | grep -q ",probe_lost,"; then
	ok "far side dead: Degraded (exit 1) with $(jget reasons)"
else
	bad "far side dead: exit $rc verdict $(jget verdict) reasons $(jget reasons)"; show_trace
fi
sleep 1
check_a
if [ $rc = 2 ] && echo ",$(jget reasons)," | grep -q ",degraded_persistent,"; then
	ok "second bad check: Disconnected (exit 2) with $(jget reasons)"
else
	bad "second bad check: exit $rc reasons $(jget reasons)"; show_trace
fi
# Remedies with backoff (1 s, 2 s, 2 s capped), then the cooldown.
i=0
while [ $i -lt 14 ]; do
	sleep 1
	check_a
	[ "$(jget policy.entered_cooldown)" = True ] && break
	i=$((i + 1))
done
python3 - "$TMP/all.json" >"$TMP/remedies" <<'EOF'
import json, sys
seen = []
for line in open(sys.argv[1]):
    line = line.strip()
    if not line:
        continue
    d = json.loads(line)
    for r in d.get("remedies", []):
        seen.append("%s:%s:%s:%s" % (r["attempt"], r["remedy"], r["result"], d["checked_at_ms"]))
print("\n".join(seen))
EOF
# A's ListenPort is set (and no wg_config says it may move): move_port is
# skipped and the endpoints are set again instead.
if grep -q '^1:reset_endpoint:ok' "$TMP/remedies" && grep -q '^2:move_port:skipped' "$TMP/remedies" &&
	grep -q '^2:reset_endpoint:ok' "$TMP/remedies" && grep -q '^3:restart:ok' "$TMP/remedies"; then
	ok "remedies in order: $(cut -d: -f1-3 "$TMP/remedies" | tr '\n' ' ')"
else
	bad "remedies: $(tr '\n' ' ' <"$TMP/remedies")"; show_trace
fi
port=$(ip netns exec "$NSA" wg show "$IFA" listen-port)
[ "$port" = $PA ] && ok "the configured listen port was not moved ($port)" || bad "listen port moved: $PA -> $port"
# Backoff: the gaps between attempts grow (1 s, then 2 s).
gaps=$(awk -F: 'NR > 1 && $1 != prev_a { print $4 - prev } { if ($1 != prev_a) { prev = $4; prev_a = $1 } }' "$TMP/remedies" | tr '\n' ' ')
set -- $gaps
if [ $# -ge 2 ] && [ "$1" -ge 1000 ] && [ "$2" -ge 2000 ]; then ok "backoff between remedies: $gaps ms"
else bad "backoff gaps: '$gaps'"; fi
if [ "$(jget policy.entered_cooldown)" = True ] && [ $rc = 2 ] && echo ",$(jget reasons)," | grep -q ",cooldown,"; then
	ok "cooldown entered after the retries: $(jget reasons)"
else
	bad "no cooldown: exit $rc reasons $(jget reasons)"; show_trace
fi
echo ",$(jget reasons)," | grep -q ",reconnect_timeout," && ok "reconnect_timeout reported after a remedy without handshake" ||
	bad "no reconnect_timeout: $(jget reasons)"
check_a
[ "$(jget policy.action)" = cooldown ] && [ "$(jget remedies)" = "" ] && ok "no remedy during the cooldown" ||
	bad "during cooldown: action $(jget policy.action) remedies $(jget remedies)"

# ------------------------------------------------------------ far side back
echo "=== health: the far side comes back"
if ! start_b >>"$TMP/setup" 2>&1; then bad "restart B"; cat "$TMP/setup"; fi
i=0
while [ $i -lt 20 ]; do
	check_a
	[ $rc = 0 ] && break
	sleep 1
	i=$((i + 1))
done
if [ $rc = 0 ] && [ "$(jget verdict)" = healthy ]; then ok "far side back: Healthy again after ${i} s"
else bad "far side back: exit $rc reasons $(jget reasons)"; show_trace; fi
rc=0
wh status "$IFA" --state-dir "$STATE" >"$TMP/status" 2>&1 || rc=$?
grep -q "^$IFA: healthy" "$TMP/status" && ok "status: $(cat "$TMP/status")" || bad "status: $(cat "$TMP/status")"

wh history "$IFA" --state-dir "$STATE" --json >"$TMP/hist.json" 2>"$TMP/err"
wh history "$IFA" --state-dir "$STATE" >"$TMP/hist.txt" 2>>"$TMP/err"
if python3 - "$TMP/hist.json" <<'EOF'
import json, sys
ev = json.load(open(sys.argv[1]))
kinds = [(e["kind"], e["verdict"], ",".join(e["reasons"]), e["action"], e["result"]) for e in ev]
def find(pred, start=0):
    for i in range(start, len(kinds)):
        if pred(kinds[i]):
            return i
    sys.exit("missing after %d: %s" % (start, kinds))
a = find(lambda k: k[0] == "transition" and k[1] == "degraded" and "probe_lost" in k[2])
b = find(lambda k: k[0] == "transition" and k[1] == "disconnected" and "degraded_persistent" in k[2], a)
c = find(lambda k: k[0] == "remedy" and k[3] == "reset_endpoint", b)
d = find(lambda k: k[0] == "remedy" and k[3] == "move_port", c)
e = find(lambda k: k[0] == "remedy" and k[3] == "restart", d)
f = find(lambda k: k[0] == "cooldown", e)
g = find(lambda k: k[0] == "recovered" and k[1] == "healthy", f)
EOF
then ok "history tells the story: degraded, disconnected, 3 remedies, cooldown, recovered ($(wc -l <"$TMP/hist.txt") rows)"
else bad "history incomplete:"; sed 's/^/    /' "$TMP/hist.txt" | tail -n 20; fi
since=$(($(date +%s) + 3600))
wh history "$IFA" --state-dir "$STATE" --since "$since" >"$TMP/hist2" 2>&1
[ ! -s "$TMP/hist2" ] && ok "history --since in the future: empty" || bad "history --since: $(head -n 2 "$TMP/hist2")"

# Exit codes: status and history use the codes shared by all
# wgkit tools (cmd/common/exitcodes.h): no state or history 3, no permission
# 4; check keeps the monitoring-plugin codes (no permission: 3 UNKNOWN).
code_is() { # name want command...
	n=$1 want=$2; shift 2
	got=0
	"$@" >"$TMP/xc" 2>&1 || got=$?
	[ "$got" = "$want" ] && ok "$n" || bad "$n: exit $got, want $want: $(head -c 300 "$TMP/xc")"
}
code_is "status of an interface without state exits 3" 3 wh status hlnosuch0 --state-dir "$STATE"
code_is "history without a history database exits 3" 3 \
	wh history "$IFA" --db "$TMP/nosuch/history.db"
if command -v setpriv >/dev/null 2>&1; then
	# $STATE is inside the 0700 root temporary directory.
	NOBODY="setpriv --reuid=65534 --regid=65534 --clear-groups --"
	code_is "status without permission to read the state exits 4" 4 \
		ip netns exec "$NSA" $NOBODY "$WH" status --state-dir "$STATE"
	code_is "status IF without permission to read its state exits 4" 4 \
		ip netns exec "$NSA" $NOBODY "$WH" status "$IFA" --state-dir "$STATE"
	code_is "history without permission to read it exits 4" 4 \
		ip netns exec "$NSA" $NOBODY "$WH" history "$IFA" --state-dir "$STATE"
	code_is "check without permission keeps the plugin code 3 (UNKNOWN)" 3 \
		ip netns exec "$NSA" $NOBODY "$WH" check "$IFA" --state-dir "$STATE"
else
	skip "health: permission exit codes" "setpriv not installed"
fi

# ------------------------------------------------------------ underlay
echo "=== health: the underlay URL check"
start_http() {
	ip netns exec "$NSA" setsid python3 -m http.server --bind 127.0.0.1 $HTTP_PORT \
		--directory "$TMP" >"$TMP/http.log" 2>&1 &
	PIDH=$!
	i=0
	while [ $i -lt 50 ]; do
		# "refused" also exits 0 for probe: wait for an HTTP answer.
		ip netns exec "$NSA" "$WH" probe --timeout 300 "http://127.0.0.1:$HTTP_PORT/" 2>/dev/null |
			grep -q ' http reachable ' && return 0
		sleep 0.1; i=$((i + 1))
	done
	return 1
}
echo "url = http://127.0.0.1:$HTTP_PORT/" >>"$TMP/wghealth.conf"
start_http || bad "HTTP server did not start: $(cat "$TMP/http.log")"
check_a
[ $rc = 0 ] && [ "$(jget underlay)" = up ] && ok "URL answers: underlay up, Healthy" ||
	{ bad "underlay up: exit $rc underlay $(jget underlay) ($(jget underlay_error)) reasons $(jget reasons)"; cat "$TMP/http.log"; }
stop_pid "$PIDH"; PIDH=""
check_a
if [ $rc = 2 ] && [ "$(jget reasons)" = underlay_down ] && grep -q '"remedy":"tunnel_down","attempt":0,"result":"ok"' "$TMP/out" &&
	! ip -n "$NSA" link show "$IFA" | grep -q '[<,]UP[,>]'; then
	ok "URL fails: underlay_down, tunnel taken down"
else
	bad "underlay down: exit $rc reasons $(jget reasons) link: $(ip -n "$NSA" link show "$IFA" | head -n 1)"; show_trace
fi
sleep 1
check_a
[ $rc = 2 ] && [ "$(jget remedies)" = "" ] && [ "$(jget policy.action)" = none ] &&
	ok "network still down: no remedies (no hammering), reasons $(jget reasons)" ||
	{ bad "still down: exit $rc action $(jget policy.action)"; show_trace; }
start_http || bad "HTTP server did not restart"
check_a
if grep -q '"remedy":"tunnel_up"' "$TMP/out" && ip -n "$NSA" link show "$IFA" | grep -q '[<,]UP[,>]'; then
	ok "URL answers again: tunnel brought back up"
else
	bad "underlay back: $(head -c 300 "$TMP/out")"; show_trace
fi
i=0
while [ $i -lt 20 ]; do
	check_a
	[ $rc = 0 ] && break
	sleep 1; i=$((i + 1))
done
[ $rc = 0 ] && ok "after the underlay returned: Healthy again" || { bad "after underlay: exit $rc $(jget reasons)"; show_trace; }
wh history "$IFA" --state-dir "$STATE" >"$TMP/hist.txt" 2>&1
grep -q "action=tunnel_down result=ok" "$TMP/hist.txt" && grep -q "action=tunnel_up result=ok" "$TMP/hist.txt" &&
	ok "history has tunnel_down and tunnel_up" || { bad "history lacks the underlay story"; tail -n 8 "$TMP/hist.txt"; }

# ------------------------------------------------------------ daemon
echo "=== health: daemon"
ip netns exec "$NSA" "$WH" daemon "$IFA" --config "$TMP/wghealth.conf" --state-dir "$STATE" \
	--interval 300ms --json --textfile "$TMP/daemon.prom" >"$TMP/daemon.out" 2>"$TMP/daemon.err" &
DPID=$!
sleep 2
kill -TERM $DPID 2>/dev/null
i=0
while kill -0 $DPID 2>/dev/null && [ $i -lt 30 ]; do sleep 0.1; i=$((i + 1)); done
if ! kill -0 $DPID 2>/dev/null && [ "$(grep -c '"interface"' "$TMP/daemon.out")" -ge 2 ] && [ -s "$TMP/daemon.prom" ]; then
	ok "daemon checks repeatedly and stops on SIGTERM ($(grep -c '"interface"' "$TMP/daemon.out") checks)"
else
	kill -9 $DPID 2>/dev/null
	bad "daemon: $(head -c 300 "$TMP/daemon.out") $(cat "$TMP/daemon.err")"
fi
wait $DPID 2>/dev/null

# ------------------------------------------------------------ link down, maintenance
echo "=== health: a link taken down on purpose"
check_a
[ $rc = 0 ] || { bad "before link down: not healthy (exit $rc $(jget reasons))"; show_trace; }
touch "$STATE/$IFA.maintenance"
ip -n "$NSA" link set "$IFA" down
cp "$STATE/$IFA.state" "$TMP/state.before"
check_a
if [ $rc = 0 ] && [ "$(jget verdict)" = maintenance ] && ! ip -n "$NSA" link show "$IFA" | grep -q '[<,]UP[,>]' &&
	cmp -s "$STATE/$IFA.state" "$TMP/state.before" &&
	grep -q "^wghealth_verdict{interface=\"$IFA\",verdict=\"maintenance\"} 1$" "$TMP/wghealth.prom"; then
	ok "IF.maintenance: left alone (exit 0, verdict maintenance, link still down, state untouched)"
else
	bad "maintenance: exit $rc $(head -c 300 "$TMP/out")"
fi
rm -f "$STATE/$IFA.maintenance"
check_a
if [ "$(jget remedies)" != "" ] && python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
r = d["remedies"]
assert len(r) == 1 and r[0]["remedy"] == "link_up" and r[0]["result"] == "ok" and r[0]["attempt"] == 1, r' "$TMP/out" &&
	ip -n "$NSA" link show "$IFA" | grep -q '[<,]UP[,>]'; then
	ok "interface_down: the first remedy sets the link up ($(jget reasons))"
else
	bad "link down: exit $rc reasons $(jget reasons) remedies $(head -c 400 "$TMP/out")"
fi
i=0
while [ $i -lt 20 ]; do
	check_a
	[ $rc = 0 ] && break
	sleep 1; i=$((i + 1))
done
[ $rc = 0 ] && ok "after link_up: Healthy again" || { bad "after link_up: exit $rc $(jget reasons)"; show_trace; }

# ------------------------------------------------------------ missing interface
rc=0
ip netns exec "$NSA" "$WH" check hl${ID}zz --config "$TMP/wghealth.conf" --state-dir "$STATE" --no-remedies --json >"$TMP/out" 2>"$TMP/err" || rc=$?
[ $rc = 2 ] && [ "$(jget reasons)" = interface_missing ] && ok "missing interface: Disconnected, interface_missing" ||
	bad "missing interface: exit $rc $(cat "$TMP/out" "$TMP/err")"
# A typo (never existed, no state, nothing to create it): no state, lock or
# history left behind.
wh check hl${ID}zz --config "$TMP/wghealth.conf" --state-dir "$STATE" >/dev/null 2>&1
wh history hl${ID}zz --state-dir "$STATE" >"$TMP/hist2" 2>&1
[ ! -e "$STATE/hl${ID}zz.state" ] && [ ! -e "$STATE/hl${ID}zz.lock" ] && [ ! -s "$TMP/hist2" ] &&
	ok "an interface that never existed leaves no state, lock or history" ||
	bad "typo interface: $(ls "$STATE") history: $(head -c 200 "$TMP/hist2")"

# Nagios performance data on the first line; --limit N gives the newest N.
rc=0
wh check "$IFA" --read-only --config "$TMP/wghealth.conf" --state-dir "$STATE" >"$TMP/text" 2>&1 || rc=$?
head -n 1 "$TMP/text" | grep -Eq "^$IFA: [a-z]+.* \| handshake_age=[0-9]+s peers_healthy=1 peers_unhealthy=0 peers_idle=0 ping_loss=[0-9]+% rtt=[0-9.]+ms$" &&
	[ "$(head -n 1 "$TMP/text" | tr -cd '|' | wc -c)" = 1 ] &&
	ok "performance data on the first line: $(head -n 1 "$TMP/text")" || bad "perfdata: $(head -n 1 "$TMP/text")"
wh history "$IFA" --state-dir "$STATE" --json >"$TMP/hall.json" 2>&1
wh history "$IFA" --state-dir "$STATE" --json --limit 3 >"$TMP/h3.json" 2>&1
python3 -c '
import json, sys
a = json.load(open(sys.argv[1])); b = json.load(open(sys.argv[2]))
assert len(a) > 3 and b == a[-3:], (len(a), b)' "$TMP/hall.json" "$TMP/h3.json" &&
	ok "history --limit 3: the newest 3, oldest first" || bad "history --limit: $(head -c 300 "$TMP/h3.json")"

# ------------------------------------------------------------ move_port on a client
# A client (wg_config without ListenPort, every peer with an Endpoint) does
# get a new port at attempt 2. The state says attempt 1 was spent; the far
# side is gone again (ping loss).
echo "=== health: move_port on a client"
stop_pid "$PIDB"; PIDB=""
rm -f "$SOCKDIR/$IFB.sock"
cat >"$TMP/client.conf" <<EOF
[Interface]
PrivateKey = $(cat "$TMP/a.key")

[Peer]
PublicKey = $KB
Endpoint = $UB:$PB
AllowedIPs = $TB/32
EOF
chmod 600 "$TMP/client.conf"
now=$(($(date +%s) * 1000))
printf 'wghealth-state 1\nlast_check %s\nverdict disconnected\nreasons 0\nconsecutive_bad 5\nattempt 1\nnext_attempt 0\ncooldown_until 0\nlast_remedy 0\nlast_remedy_failed 0\nunderlay_down 0\nremedies_total 1\nend 12\n' \
	$((now - 1000)) >"$STATE/$IFA.state"
check_a --wg-config "$TMP/client.conf"
port=$(ip netns exec "$NSA" wg show "$IFA" listen-port)
if grep -q '"remedy":"move_port","attempt":2,"result":"ok","detail":"listen port '$PA' -> ' "$TMP/out" && [ "$port" != $PA ]; then
	ok "client without ListenPort: move_port moved the port ($PA -> $port)"
else
	bad "move_port on a client: exit $rc port $port $(head -c 600 "$TMP/out") $(cat "$TMP/err")"
fi

# ------------------------------------------------------------ absurd UAPI handshake time
# A UAPI daemon that reports a handshake time near INT64_MAX: refused on
# input (exit 3, says which field), and it never poisons the state file, so
# the next runs load their state and count on. A fake daemon: python3 on
# the UAPI socket of a tun link.
IFF=hl${ID}f
echo 9223372036854775807 >"$TMP/fake.hs"
cat >"$TMP/fake_uapi.py" <<'EOF'
import base64, os, socket, sys
path, hsfile, pub = sys.argv[1], sys.argv[2], base64.b64decode(sys.argv[3]).hex()
try:
    os.unlink(path)
except OSError:
    pass
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(path)
s.listen(8)
while True:
    c, _ = s.accept()
    buf = b""
    while b"\n\n" not in buf:
        d = c.recv(4096)
        if not d:
            break
        buf += d
    if buf.startswith(b"get=1"):
        hs = open(hsfile).read().strip()
        c.sendall(("listen_port=51999\npublic_key=%s\nendpoint=198.18.243.2:51842\n"
                   "last_handshake_time_sec=%s\nlast_handshake_time_nsec=0\nrx_bytes=100\n"
                   "tx_bytes=100\npersistent_keepalive_interval=25\nallowed_ip=10.243.9.0/24\n"
                   "protocol_version=1\nerrno=0\n\n" % (pub, hs)).encode())
    else:
        c.sendall(b"errno=0\n\n")
    c.close()
EOF
python3 "$TMP/fake_uapi.py" "$SOCKDIR/$IFF.sock" "$TMP/fake.hs" "$KB" >"$TMP/fake.log" 2>&1 &
PIDF=$!
ip -n "$NSA" tuntap add dev "$IFF" mode tun && ip -n "$NSA" link set "$IFF" up
wait_sock "$IFF"
fcheck() {
	rc=0
	wh check "$IFF" --json --config "$TMP/wghealth.conf" --state-dir "$STATE" --no-remedies \
		--disconnect-after 1 >"$TMP/out" 2>"$TMP/err" || rc=$?
	cat "$TMP/err" >>"$TMP/ferr"
}
fcheck
[ $rc = 3 ] && grep -q "last_handshake_time_sec" "$TMP/out" && ! grep -q "^peer" "$STATE/$IFF.state" 2>/dev/null &&
	ok "handshake time near INT64_MAX refused on input: exit 3, $(jget error)" ||
	bad "absurd handshake time: exit $rc $(cat "$TMP/out" "$TMP/err") state: $(grep ^peer "$STATE/$IFF.state" 2>&1)"
fcheck
echo 0 >"$TMP/fake.hs"
fcheck
fcheck
if [ $rc = 2 ] && [ -s "$STATE/$IFF.state" ] && ! grep -q corrupt "$TMP/ferr" && [ "$(jget policy.consecutive_bad)" = 2 ]; then
	ok "the state file loads on every later run (consecutive_bad $(jget policy.consecutive_bad))"
else
	bad "state after the absurd time: exit $rc $(cat "$TMP/ferr") consecutive_bad $(jget policy.consecutive_bad)"
fi
stop_pid "$PIDF"; PIDF=""
rm -f "$SOCKDIR/$IFF.sock"

# ------------------------------------------------------------ a gateway: 10,000 peers, 5% dead
# A fake UAPI daemon with 10,000 peers that all keep a keepalive; every 20th
# has not handshaked for an hour. The tunnel stays Healthy (exit 0); the
# dead peers are reported one by one, and once persistently dead each gets
# its own remedy: one set request that names exactly those 500 peers and
# nothing of the interface.
IFG=hl${ID}g
cat >"$TMP/fake_gw.py" <<'EOF'
import hashlib, os, socket, sys, time
path, log, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
keys = [hashlib.sha256(b"gw%d" % i).hexdigest() for i in range(n)]
try:
    os.unlink(path)
except OSError:
    pass
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(path)
s.listen(8)
while True:
    c, _ = s.accept()
    buf = b""
    while b"\n\n" not in buf:
        d = c.recv(65536)
        if not d:
            break
        buf += d
    if buf.startswith(b"get=1"):
        now = int(time.time())
        out = ["listen_port=51998"]
        for i, k in enumerate(keys):
            hs = now - 3600 if i % 20 == 0 else now - 5
            out.append("public_key=%s\nendpoint=198.18.%d.%d:51820\nlast_handshake_time_sec=%d\n"
                       "last_handshake_time_nsec=0\nrx_bytes=%d\ntx_bytes=%d\n"
                       "persistent_keepalive_interval=25\nallowed_ip=10.%d.%d.%d/32"
                       % (k, 100 + i // 250, i % 250 + 1, hs, 1000 + i, 1000 + i,
                          64 + i // 65536, i // 256 % 256, i % 256))
        out.append("errno=0\n\n")
        c.sendall("\n".join(out).encode())
    else:
        lines = buf.decode().split("\n")
        peers = [l.split("=", 1)[1] for l in lines if l.startswith("public_key=")]
        dead = sum(1 for p in peers if keys.index(p) % 20 == 0)
        with open(log, "a") as f:
            f.write("set peers=%d dead=%d listen_port=%d endpoints=%d\n" % (
                len(peers), dead, sum(1 for l in lines if l.startswith("listen_port=")),
                sum(1 for l in lines if l.startswith("endpoint="))))
        c.sendall(b"errno=0\n\n")
    c.close()
EOF
: >"$TMP/gw.sets"
python3 "$TMP/fake_gw.py" "$SOCKDIR/$IFG.sock" "$TMP/gw.sets" 10000 >"$TMP/fake_gw.log" 2>&1 &
PIDG=$!
ip -n "$NSA" tuntap add dev "$IFG" mode tun && ip -n "$NSA" link set "$IFG" up
wait_sock "$IFG"
gcheck() {
	rc=0
	wh check "$IFG" --json --config "$TMP/wghealth.conf" --state-dir "$STATE" >"$TMP/out" 2>"$TMP/err" || rc=$?
}
gcheck
npeers=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(sum(1 for p in d["peers"] if p["verdict"] != "healthy"))' "$TMP/out" 2>/dev/null)
if [ $rc = 0 ] && [ "$(jget verdict)" = healthy ] && [ "$(jget peers_unhealthy)" = 500 ] && [ "$npeers" = 500 ] &&
	[ "$(jget peers_healthy)" = 9500 ]; then
	ok "10,000 peers, 5% dead: the tunnel is Healthy (exit 0), 500 peers reported Degraded"
else
	bad "10k gateway: exit $rc verdict $(jget verdict) reasons $(jget reasons) unhealthy $(jget peers_unhealthy) $(head -c 300 "$TMP/err")"
fi
sleep 0.2
gcheck
gcheck
# One set (two when the third check came after the 1 s backoff), each
# naming exactly the dead peers.
if [ $rc = 0 ] && grep -q "^set peers=500 dead=500 listen_port=0 endpoints=500$" "$TMP/gw.sets" &&
	! grep -vq "^set peers=500 dead=500 listen_port=0 endpoints=500$" "$TMP/gw.sets" && python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
bad = [p for p in d["peers"] if p["verdict"] != "healthy"]
assert len(bad) == 500 and all(p["verdict"] == "disconnected" for p in bad), "verdicts"
assert d["policy"]["action"] == "none"' "$TMP/out"; then
	ok "the 500 dead peers got a per-peer remedy (one set of their endpoints only), the interface none: $(cat "$TMP/gw.sets")"
else
	bad "10k gateway remedies: exit $rc sets: $(cat "$TMP/gw.sets") reasons $(jget reasons) action $(jget policy.action)"
fi
wh history "$IFG" --state-dir "$STATE" --json >"$TMP/hist.json" 2>"$TMP/err"
python3 -c '
import json, sys
ev = json.load(open(sys.argv[1]))
peer = [e for e in ev if e["kind"] == "peer"]
assert len(peer) >= 500 and not [e for e in ev if e["kind"] == "transition" and e["verdict"] != "healthy"], (len(peer), ev[:3])' "$TMP/hist.json" &&
	ok "history: per-peer verdicts recorded, no tunnel transition" || bad "10k gateway history: $(head -c 300 "$TMP/hist.json")"
stop_pid "$PIDG"; PIDG=""
rm -f "$SOCKDIR/$IFG.sock"

# ------------------------------------------------------------ restart in-process
# The restart of a wg_config (down + up) runs in wghealth itself: a copy of
# wghealth beside a fake wgctl that records being called and exits 1, also
# named by --wgctl (accepted, ignored), must bring a missing interface back
# from its file (wireguard-go started as wg-quick would) without the fake.
# Its PostUp runs the real `wgctl set %i` under the interface's lock, which
# the in-process up holds: the hook must not wait for it.
echo "=== health: restart in-process"
IFQ=hl${ID}q
mkdir -p "$TMP/qbin" "$TMP/q" "$TMP/qlocks"
cp "$WH" "$TMP/qbin/wghealth"
printf '#!/bin/sh\necho "$*" >>"%s"\nexit 1\n' "$TMP/qbin/called" >"$TMP/qbin/wgctl"
chmod 755 "$TMP/qbin/wgctl"
q_del() { ip -n "$NSA" link del "$IFQ" 2>/dev/null; }
at_exit q_del
cat >"$TMP/q/$IFQ.conf" <<EOF
[Interface]
PrivateKey = $(cat "$TMP/a.key")
ListenPort = 51849
Address = 10.249.0.1/24
Table = off
PostUp = $BUILD/wgctl --wait 3 set %i fwmark 0x42

[Peer]
PublicKey = $KB
AllowedIPs = 10.249.0.2/32
Endpoint = $UB:$PB
EOF
chmod 600 "$TMP/q/$IFQ.conf"
i=0 restarted=""
while [ $i -lt 8 ]; do
	rc=0
	ip netns exec "$NSA" env WG_QUICK_USERSPACE_IMPLEMENTATION=wireguard-go \
		WGCTL_LOCK_DIR="$TMP/qlocks" "$TMP/qbin/wghealth" check "$IFQ" --json \
		--config "$TMP/wghealth.conf" --state-dir "$STATE" --wg-config "$TMP/q/$IFQ.conf" \
		--wgctl "$TMP/qbin/wgctl" >"$TMP/out" 2>"$TMP/err" || rc=$?
	echo "    restart check: exit $rc $(head -c 400 "$TMP/out")" >>"$TMP/trace"
	if grep -q '"remedy":"restart"' "$TMP/out"; then restarted=1; break; fi
	sleep 1
	i=$((i + 1))
done
if [ -n "$restarted" ] && grep -q '"remedy":"restart","attempt":[0-9]*,"result":"ok"' "$TMP/out"; then
	ok "restart of wg_config: ok ($(grep -o '"detail":"[^"]*"' "$TMP/out" | head -n 1))"
else
	bad "restart of wg_config: exit $rc $(head -c 600 "$TMP/out") $(head -c 300 "$TMP/err")"
fi
[ ! -e "$TMP/qbin/called" ] && ok "restart ran in-process: the wgctl beside wghealth (and --wgctl) never ran" ||
	bad "restart ran wgctl: $(cat "$TMP/qbin/called")"
pub=$(ip netns exec "$NSA" wg show "$IFQ" public-key 2>&1)
port=$(ip netns exec "$NSA" wg show "$IFQ" listen-port 2>&1)
[ "$pub" = "$KA" ] && [ "$port" = 51849 ] && ip -n "$NSA" -o addr show dev "$IFQ" | grep -q 10.249.0.1/24 &&
	ok "the tunnel is back from its file: key, ListenPort, Address" ||
	bad "after the restart: key '$pub' port '$port' $(ip -n "$NSA" -o addr show dev "$IFQ" 2>&1 | head -c 200)"
[ "$(ip netns exec "$NSA" wg show "$IFQ" fwmark 2>&1)" = 0x42 ] &&
	ok "PostUp's wgctl set under the in-process lock: no wait, applied" ||
	bad "PostUp's wgctl set: fwmark '$(ip netns exec "$NSA" wg show "$IFQ" fwmark 2>&1)' $(head -c 300 "$TMP/err")"
ip netns exec "$NSA" env WGCTL_LOCK_DIR="$TMP/qlocks" "$BUILD/wgctl" down "$TMP/q/$IFQ.conf" >/dev/null 2>&1

# ------------------------------------------------------------ systemd units
if command -v systemd-analyze >/dev/null 2>&1; then
	mkdir -p "$TMP/units"
	# The units name the installed path; point them at this build to verify.
	for u in systemd/wghealth@.service systemd/wghealth@.timer systemd/wghealth.service; do
		sed "s|/usr/local/sbin/wghealth|$WH|" "$u" >"$TMP/units/$(basename "$u")"
	done
	ln -s wghealth@.service "$TMP/units/wghealth@wg0.service"
	ln -s wghealth@.timer "$TMP/units/wghealth@wg0.timer"
	if (cd "$TMP/units" && systemd-analyze verify --man=no ./wghealth@wg0.service ./wghealth@wg0.timer \
		./wghealth.service) >"$TMP/verify" 2>&1 && [ ! -s "$TMP/verify" ]; then
		ok "systemd-analyze verify: wghealth@.service, wghealth@.timer, wghealth.service clean"
	else
		bad "systemd-analyze verify:"; sed 's/^/    /' "$TMP/verify"
	fi
else
	skip "health: systemd units" "systemd-analyze not installed (tests/deps.sh installs systemd): units NOT verified"
fi

finish
