#!/bin/sh
# tests/gateway/edge.sh BUILD: wg-gatewayd's edge on wireguard-go in a
# network namespace: /metrics parses as Prometheus text with every contract
# name; /readyz 503 with reasons before the first apply, 200 after, 503 with
# the reason when the WireGuard link is down or STUN stops answering (its
# port blocked with nftables); /healthz; HTTP only on [Http] Listen (another
# address of the node refused), GET only, 404 elsewhere; STUN answers a
# client in another namespace from the anycast address it asked (IPv4 on
# 0.0.0.0, IPv6 and v4-mapped on a second listener [::]); the anycast
# /32 and /128 on lo while ready, gone within LifetimeSeconds + 1 s after
# SIGSTOP and after SIGKILL of the daemon (the kernel's valid_lft, no one
# cleans up), and withdrawn at once on SIGTERM while STUN keeps answering for
# DrainSeconds.
#
# Needs root, wireguard-go, wg, ip, curl, python3 (nft for the STUN case).
# Namespaces "gwe-<pid>-*", interfaces "gwe<pid>*"; everything is removed on
# exit. Run it under `flock /tmp/wgkit-net.lock`.
# Closing line: "gateway-edge: N passed, N failed, N skipped".
BUILD=${1:-build}
cd "$(dirname "$0")/../.." || exit 1
case $BUILD in /*) ;; *) BUILD=$PWD/$BUILD ;; esac
GWD=$BUILD/wg-gatewayd
. tests/lib.sh
suite_init gateway-edge
T=$SUITE_TMP
CHECK_OUT=$T/out

ID=$$
NS=gwe-$ID-n NSC=gwe-$ID-c
IF=gwe${ID}w
# The daemon's state file (/run/wgkit/IF.gwstate) goes with the suite.
at_exit rm -f "/run/wgkit/$IF.gwstate" "/run/wgkit/$IF.gwstate.tmp"
VN=gwe${ID}vn VC=gwe${ID}vc
UN=198.18.251.1 UC=198.18.251.2
A4=192.0.2.77 A6=2001:db8:77::1
U6N=fd98:251::1 U6C=fd98:251::2
HP=9581 SP=3478 SP6=3479 LIFE=2 DRAIN=3
PY=$(command -v python3)

missing=""
[ "$(id -u)" = 0 ] || missing="$missing root"
for t in wireguard-go wg ip curl python3; do command -v $t >/dev/null 2>&1 || missing="$missing $t"; done
[ -x "$GWD" ] || missing="$missing $GWD(make all)"
[ -n "$missing" ] && cannot "missing:$missing"

ns_add "$NS" || cannot "cannot create namespace $NS"
ns_add "$NSC" || cannot "cannot create namespace $NSC"
veth_pair "$NS" "$VN" "$NSC" "$VC" || cannot "cannot create veth $VN/$VC"
ip -n "$NS" addr add $UN/24 dev "$VN"
ip -n "$NSC" addr add $UC/24 dev "$VC"
ip -n "$NSC" route add $A4/32 via $UN
ip -n "$NS" addr add $U6N/64 dev "$VN" nodad
ip -n "$NSC" addr add $U6C/64 dev "$VC" nodad
ip -n "$NSC" route add $A6/128 via $U6N

(umask 077 && wg genkey >"$T/gw.key")
mkdir "$T/peers"
printf '[Peer]\nPublicKey = gwepeer%035dA=\nAllowedIPs = 10.251.0.2/32\n' 1 >"$T/peers/one.conf"
cat >"$T/gw.conf" <<EOF
[Interface]
Name = $IF
PrivateKeyFile = $T/gw.key
ListenPort = 51960
Backend = userspace

[Registry]
Source = directory
Path = $T/peers

[Anycast]
Address = $A4/32
Address = $A6/128
Link = lo
LifetimeSeconds = $LIFE
DrainSeconds = $DRAIN

[Stun]
Listen = 0.0.0.0:$SP
Listen = [::]:$SP6

[Http]
Listen = 127.0.0.1:$HP
EOF

X() { ip netns exec "$NS" "$@"; }
# get PATH [METHOD]: the status code; the body in $T/body.
get() { X curl -s -o "$T/body" -w '%{http_code}' -m 2 -X "${2:-GET}" "http://127.0.0.1:$HP$1"; }
ready_is() { [ "$(get /readyz)" = "$1" ]; }
on_lo() { ip -n "$NS" addr show dev lo | grep -q "inet6\{0,1\} $1/"; }
both_on_lo() { on_lo $A4 && on_lo $A6; }
ready_and_announced() { wait_for 80 ready_is 200 && wait_for 30 both_on_lo; }
none_on_lo() { ! on_lo $A4 && ! on_lo $A6; }
# gone_within TENTHS: both anycast addresses gone; the time in $GONE_MS.
gone_within() {
	_t0=$(date +%s%N)
	wait_for "$1" none_on_lo || return 1
	GONE_MS=$((($(date +%s%N) - _t0) / 1000000))
}
# stun_from_client ADDR [PORT]: a Binding request from the client namespace;
# prints "SOURCE-ADDR SOURCE-PORT TYPE" of the answer.
stun_from_client() {
	ip netns exec "$NSC" "$PY" - "$1" "${2:-$SP}" <<'EOF'
import os, socket, struct, sys
s = socket.socket(socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
tid = os.urandom(12)
s.sendto(struct.pack("!HHI", 1, 0, 0x2112A442) + tid, (sys.argv[1], int(sys.argv[2])))
data, src = s.recvfrom(2048)
typ, _, cookie = struct.unpack("!HHI", data[:8])
assert cookie == 0x2112A442 and data[8:20] == tid, "not our transaction"
print(src[0], src[1], "0x%04x" % typ)
EOF
}

DPID=""
# Not through X: a shell function in the background is a subshell, and
# $! must be the daemon itself (ip netns exec execs it).
start_gw() {
	ip netns exec "$NS" "$GWD" -c "$T/gw.conf" >>"$T/gw.log" 2>&1 &
	DPID=$!
	at_exit sh -c "kill -9 $DPID 2>/dev/null; true"
}

# ------------------------------------------------- before the first apply
# The link is there (a persistent tun) but no wireguard-go serves it yet:
# the daemon runs and answers, its first apply fails and is retried. Then
# wireguard-go takes the same tun over and the next turn applies.
ip -n "$NS" tuntap add dev "$IF" mode tun || cannot "cannot create tun $IF"
start_gw
check "http answers before the first apply" wait_for 50 sh -c "[ \"\$(ip netns exec $NS curl -s -o /dev/null -w '%{http_code}' -m 1 http://127.0.0.1:$HP/readyz)\" = 503 ]"
check "readyz before the first apply: the reason says so" wait_for 30 sh -c \
	"ip netns exec $NS curl -s -m 1 http://127.0.0.1:$HP/readyz | grep -q '^not applied yet'"
get /readyz >/dev/null
cp "$T/body" "$T/ready.before"
echo "note: /readyz before the first apply: $(tr "\n" ";" <"$T/ready.before")"
check_detail() { cat "$T/ready.before"; }
code=$(get /readyz)
check "readyz before the first apply: 503, one reason per line, not 'ready'" sh -c \
	"[ $code = 503 ] && ! grep -qx ready $T/body && [ \"\$(grep -c . $T/ready.before)\" = \"\$(wc -l <$T/ready.before)\" ]"
check_detail() { :; }
check "healthz 200 although not ready (the loop turns)" sh -c "[ \"\$(ip netns exec $NS curl -s -m 2 http://127.0.0.1:$HP/healthz)\" = ok ]"
check "anycast not announced before ready" none_on_lo
wggo_start "$NS" "$IF" "$T/wggo.log" || cannot "wireguard-go did not start"

# ------------------------------------------------------------- ready
check "readyz 200 after the first apply (within 8 s)" wait_for 80 ready_is 200
check "readyz body is 'ready'" grep -qx ready "$T/body"
check "healthz 200 ok" sh -c "[ \"\$(ip netns exec $NS curl -s -m 2 http://127.0.0.1:$HP/healthz)\" = ok ]"
check_detail() { grep '\.so' "/proc/$DPID/maps" | awk '{print $6}' | sort -u; }
check "[Http] Listen: libmicrohttpd.so.12 mapped, /healthz answers; libpq not (directory source)" sh -c \
	"grep -q 'libmicrohttpd\.so\.12' /proc/$DPID/maps && ! grep -q 'libpq\.so' /proc/$DPID/maps && [ \"\$(ip netns exec $NS curl -s -m 2 http://127.0.0.1:$HP/healthz)\" = ok ]"
check_detail() { :; }
check "anycast $A4/32 and $A6/128 on lo while ready" wait_for 30 both_on_lo
check "anycast addresses carry valid_lft <= $LIFE s (the dead-man switch)" sh -c \
	"ip -n $NS -j addr show dev lo | $PY -c 'import json,sys; a=[x for l in json.load(sys.stdin) for x in l[\"addr_info\"] if x[\"local\"] in (\"$A4\",\"$A6\")]; sys.exit(not (len(a)==2 and all(x[\"valid_life_time\"]<=$LIFE for x in a)))'"

# ------------------------------------------------------------- /metrics
code=$(get /metrics)
cp "$T/body" "$T/metrics"
check "metrics: 200" test "$code" = 200
check "metrics: Content-Type is Prometheus text 0.0.4" sh -c \
	"ip netns exec $NS curl -s -m 2 -D - -o /dev/null http://127.0.0.1:$HP/metrics | grep -qi '^content-type: text/plain; version=0.0.4'"
# Every line a comment or "name{labels} value"; every TYPE'd family has a sample.
prom_ok() {
	"$PY" - "$T/metrics" <<'EOF'
import re, sys
sample = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*"(?:,[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*")*\})? (-?[0-9.eE+-]+|NaN|\+Inf|-Inf)$')
types, seen = {}, set()
for n, line in enumerate(open(sys.argv[1]), 1):
    line = line.rstrip("\n")
    if line.startswith("# TYPE "):
        _, _, name, t = line.split(" ")
        assert t in ("counter", "gauge", "histogram", "untyped"), line
        types[name] = t
    elif line.startswith("# HELP ") or not line:
        continue
    else:
        m = sample.match(line)
        assert m, "line %d does not parse: %r" % (n, line)
        base = re.sub(r'_(bucket|sum|count)$', '', m.group(1))
        seen.add(base if types.get(base) == "histogram" else m.group(1))
missing = [t for t in types if t not in seen]
assert not missing, "families without samples: %s" % missing
EOF
}
check_detail() { head -c 2000 "$T/metrics"; }
check "metrics: parses as Prometheus text" prom_ok
for m in ready announced desired_peers applied_peers change_id_applied change_id_known \
	apply_seconds registry_up registry_lag_seconds registry_reconnects_total bad_rows_total \
	drift_repairs_total peers_handshake_recent stun_requests_total stun_answered_total \
	stun_dropped_total; do
	check "metrics: wgkit_gateway_$m present" grep -q "^# TYPE wgkit_gateway_$m " "$T/metrics"
done
check "metrics: ready 1, announced 1" sh -c "grep -qx 'wgkit_gateway_ready 1' $T/metrics && grep -qx 'wgkit_gateway_announced 1' $T/metrics"
check "metrics: desired and applied peers 1" sh -c "grep -qx 'wgkit_gateway_desired_peers 1' $T/metrics && grep -qx 'wgkit_gateway_applied_peers 1' $T/metrics"
check "metrics: apply_seconds is a histogram with le=\"+Inf\"" sh -c "grep -q '^# TYPE wgkit_gateway_apply_seconds histogram' $T/metrics && grep -q '^wgkit_gateway_apply_seconds_bucket{le=\"+Inf\"} ' $T/metrics"
check_detail() { :; }

# ------------------------------------------------------------- HTTP
check "GET /nope: 404" test "$(get /nope)" = 404
check "POST /metrics: 405" test "$(get /metrics POST)" = 405
check "http listens on 127.0.0.1:$HP only" sh -c \
	"ip netns exec $NS ss -Hltn | awk '{print \$4}' | grep -q '^127.0.0.1:$HP\$' && [ \"\$(ip netns exec $NS ss -Hltn | awk '{print \$4}' | grep -c ':$HP\$')\" = 1 ]"
check "http on the node's other address refused (from the node)" sh -c \
	"! ip netns exec $NS curl -s -m 2 -o /dev/null http://$UN:$HP/healthz"
check "http on the node's address refused (from the client)" sh -c \
	"! ip netns exec $NSC curl -s -m 2 -o /dev/null http://$UN:$HP/healthz"

# ------------------------------------------------------------- STUN
if stun_from_client $A4 >"$T/stun" 2>"$T/stun.err"; then
	ok "stun: a client in another namespace gets an answer at $A4:$SP"
else
	fail_log "stun: a client in another namespace gets an answer at $A4:$SP" "$T/stun.err"
fi
check_detail() { cat "$T/stun"; }
check "stun: the answer comes from the anycast address $A4:$SP" grep -q "^$A4 $SP 0x0101\$" "$T/stun"
stun_from_client $UN >"$T/stun2" 2>/dev/null
check "stun: asked at $UN, the answer comes from $UN" grep -q "^$UN $SP 0x0101\$" "$T/stun2"
stun_from_client $A6 $SP6 >"$T/stun6" 2>&1
check "stun: a second listener [::]:$SP6 answers at $A6 from $A6" grep -q "^$A6 $SP6 0x0101\$" "$T/stun6"
stun_from_client $A4 $SP6 >"$T/stun46" 2>&1
check "stun: [::]:$SP6 is dual stack, answers at $A4 from $A4" grep -q "^$A4 $SP6 0x0101\$" "$T/stun46"
check_detail() { :; }
sleep 0.7 # the servers publish their counters every 0.5 s
get /metrics >/dev/null
check "metrics: stun_answered_total counts the answers" sh -c \
	"[ \"\$(sed -n 's/^wgkit_gateway_stun_answered_total //p' $T/body)\" -ge 2 ]"

# ------------------------------------------------------------- link down
ip -n "$NS" link set "$IF" down
check "link down: readyz 503 within 5 s" wait_for 50 ready_is 503
check_detail() { cat "$T/body"; }
check "link down: the reason names the link" grep -q "link $IF down" "$T/body"
check_detail() { :; }
check "link down: anycast withdrawn" wait_for 20 none_on_lo
ip -n "$NS" link set "$IF" up
check "link up again: ready and announced" ready_and_announced

# ------------------------------------------------------------- STUN blocked
if command -v nft >/dev/null 2>&1 && X nft add table inet gwe_t 2>/dev/null; then
	X nft add chain inet gwe_t in '{ type filter hook input priority 0; }'
	X nft add rule inet gwe_t in udp dport $SP drop
	check "stun blocked: readyz 503 within 14 s" wait_for 140 ready_is 503
	check_detail() { cat "$T/body"; }
	check "stun blocked: the reason names STUN" grep -q "^stun: " "$T/body"
	check_detail() { :; }
	check "stun blocked: anycast withdrawn" wait_for 20 none_on_lo
	X nft delete table inet gwe_t
	check "stun answering again: ready within 5 s" wait_for 50 ready_is 200
	check "stun answering again: announced" wait_for 30 both_on_lo
else
	skip "stun blocked: readyz 503" "nftables unusable here (no nft or no nf_tables)"
fi

# ------------------------------------------------------------- SIGSTOP
kill -STOP "$DPID"
check "SIGSTOP: both addresses gone within ${LIFE}+1 s" gone_within $(((LIFE + 1) * 10))
echo "note: SIGSTOP: addresses gone ${GONE_MS:-?} ms after the stop"
kill -CONT "$DPID"
check "SIGCONT: announced again" wait_for 40 both_on_lo

# ------------------------------------------------------------- SIGKILL
kill -9 "$DPID"
wait "$DPID" 2>/dev/null
check "SIGKILL: both addresses gone within ${LIFE}+1 s" gone_within $(((LIFE + 1) * 10))
echo "note: SIGKILL: addresses gone ${GONE_MS:-?} ms after the kill"

# ------------------------------------------------------------- SIGTERM drain
start_gw
check "restart: ready and announced" ready_and_announced
kill -TERM "$DPID"
check "SIGTERM: both addresses withdrawn at once (within 0.5 s)" wait_for 5 none_on_lo
check "SIGTERM: still alive while draining" kill -0 "$DPID"
stun_from_client $UN >"$T/stun3" 2>/dev/null
check "SIGTERM: STUN still answers while draining" grep -q "^$UN $SP 0x0101\$" "$T/stun3"
check "SIGTERM: readyz 503 'draining' while draining" sh -c "[ \"\$(ip netns exec $NS curl -s -m 2 http://127.0.0.1:$HP/readyz)\" != ready ]"
i=0
while kill -0 "$DPID" 2>/dev/null && [ $i -lt $(((DRAIN + 5) * 10)) ]; do
	sleep 0.1
	i=$((i + 1))
done
wait "$DPID"
RC=$?
check "SIGTERM: exit 0 after DrainSeconds" test "$RC" = 0
check "SIGTERM: the drain lasted about DrainSeconds (>= $((DRAIN - 1)) s)" test "$i" -ge $(((DRAIN - 1) * 10))
check "SIGTERM: addresses still gone after exit" none_on_lo
check_log "log: no key material printed" "$T/gw.log" sh -c "! grep -qF \"\$(cat $T/gw.key)\" $T/gw.log"

finish
