#!/bin/sh
# bench/health.sh BUILD: `wghealth check` of a 10,000-peer wireguard-go
# device against a bare dump of the same device (`wgctl show IF dump`), as
# root in namespace "bh-PID". The check runs with its state saved by a
# warm-up run (the expensive case: every peer is matched with its previous
# counters), --no-remedies, its history and state in a temporary directory.
# The peers have no endpoint and no keepalive (idle): nothing leaves the
# namespace. Medians of ROUNDS. Knobs: N (10000), ROUNDS (5).
# Needs the machine's network test lock when others share it:
#   flock /tmp/wgkit-net.lock sh bench/health.sh build
# Last line: "bench: health_check_10k ours=S ref=S ratio=R" (ratio ours/ref;
# the target is <= 1.5). Exit: 0 when it measured, 1 on failure, 77 when it
# cannot run here.
set -u
BUILD=${1:-build}
N=${N:-10000}
ROUNDS=${ROUNDS:-5}
cd "$(dirname "$0")/.." || exit 1
case $BUILD in /*) ;; *) BUILD=$PWD/$BUILD ;; esac
[ "$(id -u)" = 0 ] || { echo "bench/health: SKIPPED: needs root (namespaces)"; exit 77; }
for t in wireguard-go ip python3; do
	command -v $t >/dev/null 2>&1 || { echo "bench/health: SKIPPED: $t not installed"; exit 77; }
done
[ -x "$BUILD/wghealth" ] && [ -x "$BUILD/wgctl" ] || { echo "bench/health: $BUILD/wghealth, wgctl not built (run make)"; exit 1; }
. bench/lib.sh
bench_init health
NS=bh-$$ IF=bh$$
ns_add "$NS" || exit 1
X="ip netns exec $NS"
wggo_start "$NS" "$IF" "$T/wg.log" || { echo "bench/health: wireguard-go did not start: $(cat "$T/wg.log")"; exit 1; }
python3 - "$N" >"$T/wg.conf" <<'EOF'
import base64, os, sys
n = int(sys.argv[1])
k = bytearray(os.urandom(32)); k[0] &= 248; k[31] = (k[31] & 127) | 64
print("[Interface]\nPrivateKey = %s\nListenPort = 51999\n" % base64.b64encode(bytes(k)).decode())
for i in range(n):
    print("[Peer]\nPublicKey = %s\nAllowedIPs = 10.%d.%d.%d/32\n" % (
        base64.b64encode(os.urandom(32)).decode(), 64 + i // 65536, i // 256 % 256, i % 256))
EOF
(umask 077 && chmod 600 "$T/wg.conf")
$X "$BUILD/wgctl" setconf "$IF" "$T/wg.conf" >"$T/set.log" 2>&1 &&
	$X ip link set "$IF" up || { echo "bench/health: setconf: $(cat "$T/set.log")"; exit 1; }
got=$($X "$BUILD/wgctl" show "$IF" dump | tail -n +2 | wc -l)
[ "$got" = "$N" ] || { echo "bench/health: device has $got peers, not $N"; exit 1; }

WH="$BUILD/wghealth check $IF --no-remedies --state-dir $T/state --config /dev/null"
# Warm-up: the first check (no state) writes the state the timed ones read.
$X $WH >/dev/null 2>"$T/err"
rc=$?
[ $rc -le 2 ] && [ -s "$T/state/$IF.state" ] || { echo "bench/health: warm-up check exit $rc: $(cat "$T/err")"; exit 1; }
: >"$T/o"; : >"$T/r"
for i in $(seq "$ROUNDS"); do
	wall $X "$BUILD/wgctl" show "$IF" dump >>"$T/r" || { echo "bench/health: dump failed: $(cat "$T/err")"; exit 1; }
	wall $X $WH >>"$T/o"
	rc=$?
	[ $rc -le 2 ] || { echo "bench/health: check exit $rc: $(cat "$T/err")"; exit 1; }
	[ "$(grep -c '^  peer ' "$T/out")" = "$N" ] || { echo "bench/health: check did not report $N peers"; exit 1; }
done
ours=$(median <"$T/o") ref=$(median <"$T/r")
echo "bench/health: $N peers, $ROUNDS rounds: wghealth check $(tr '\n' ' ' <"$T/o")s; wgctl show dump $(tr '\n' ' ' <"$T/r")s"
bench_line health_check_10k "$ours" "$ref"
exit 0
