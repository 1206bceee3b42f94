#!/bin/sh
# Probe benchmark (see bench/README.md): wghealth probe vs fping -i 0 -r 0 on
# 10,000 loopback targets (127.1.0.0/16 on lo) in namespace s2-pbench, as
# root; medians of ROUNDS; system calls per probe under strace -c -f; then
# the same with 10% of the targets silently dropped by nftables (timeout
# 500 ms for both), verdicts compared.
# Then a mixed list (10,000 ICMP + one HTTP GET answered after 300 ms):
# wall time of the mix against the sum of its two halves run apart.
# BEFORE=DIR also times DIR/wghealth in the same rounds (before/after).
# Last lines: "bench: NAME ours=... ref=... ratio=..." (ratio ours/ref).
BUILD=${1:-build}
ROUNDS=${ROUNDS:-5}
BEFORE=${BEFORE:-}
cd "$(dirname "$0")/.." || exit 1
[ "$(id -u)" = 0 ] || { echo "bench-probe: SKIPPED: needs root (namespaces, fping)"; exit 0; }
command -v fping > /dev/null || { echo "bench-probe: SKIPPED: fping not installed"; exit 0; }
. bench/lib.sh
bench_init probe
NS=s2-pbench
SP=
stop_server() { [ -n "$SP" ] && kill $SP 2>/dev/null; }
at_exit stop_server
ns_add $NS || exit 1
# fping's verdicts go to stdout, its errors to stderr: both are compared.
WALL_MERGE=1
X="ip netns exec $NS"
python3 -c "
for i in range(10000): print('127.1.%d.%d' % (i//250, i%250+1))" > "$T"/t
strace_per_probe() { # command...
	$X strace -c -f -o "$T"/st "$@" > /dev/null 2>&1
	awk '/total$/ {printf "%.4f\n", $4 / 10000}' "$T"/st
}

: > "$T"/o; : > "$T"/r; : > "$T"/b
for i in $(seq "$ROUNDS"); do
	wall $X "$BUILD"/wghealth probe --quiet --file "$T"/t --timeout 1000 >> "$T"/o
	grep -q '10000 reachable' "$T"/out || { echo "ours: not all reachable:"; cat "$T"/out; }
	wall $X fping -i 0 -r 0 -q -f "$T"/t >> "$T"/r
	[ -n "$BEFORE" ] && wall $X "$BEFORE"/wghealth probe --quiet --file "$T"/t --timeout 1000 >> "$T"/b
done
ours=$(median < "$T"/o); ref=$(median < "$T"/r)
[ -n "$BEFORE" ] && before=$(median < "$T"/b)
sco=$(strace_per_probe "$BUILD"/wghealth probe --quiet --file "$T"/t)
scr=$(strace_per_probe fping -i 0 -r 0 -q -f "$T"/t)

# Mixed: HTTP alongside the ring, against the two halves run apart.
cat > "$T"/slow.py <<'PYEOF2'
import http.server, time
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        time.sleep(0.3); self.send_response(200); self.end_headers()
    def log_message(self, *a): pass
print('ready', flush=True)
http.server.ThreadingHTTPServer(('127.0.0.1', 8000), H).serve_forever()
PYEOF2
$X python3 "$T"/slow.py > "$T"/slow.out 2>&1 & SP=$!
i=0; while [ $i -lt 50 ] && ! grep -q ready "$T"/slow.out; do sleep 0.1; i=$((i + 1)); done
{ cat "$T"/t; echo http://127.0.0.1:8000/; } > "$T"/tm
: > "$T"/mi; : > "$T"/mh; : > "$T"/mm
for i in $(seq "$ROUNDS"); do
	wall $X "$BUILD"/wghealth probe --quiet --file "$T"/t >> "$T"/mi
	wall $X "$BUILD"/wghealth probe --quiet http://127.0.0.1:8000/ >> "$T"/mh
	wall $X "$BUILD"/wghealth probe --quiet --file "$T"/tm >> "$T"/mm
	grep -q '10001 reachable' "$T"/out || { echo "mixed: not all reachable:"; cat "$T"/out; }
done
kill $SP 2>/dev/null; wait $SP 2>/dev/null; SP=
mixi=$(median < "$T"/mi); mixh=$(median < "$T"/mh); mixm=$(median < "$T"/mm)
mixsum=$(awk -v a="$mixi" -v b="$mixh" 'BEGIN {printf "%.4f", a + b}')

python3 -c "
print('table ip st {\n set st_drop { type ipv4_addr; elements = { ' + ', '.join('127.1.%d.%d' % (i//250, i%250+1) for i in range(0,10000,10)) + ' } }')
print(' chain input { type filter hook input priority 0; icmp type echo-request ip daddr @st_drop drop; }\n}')" > "$T"/drop.nft
$X nft -f "$T"/drop.nft
: > "$T"/od; : > "$T"/rd
for i in $(seq "$ROUNDS"); do
	wall $X "$BUILD"/wghealth probe --json --file "$T"/t --timeout 500 >> "$T"/od
	cp "$T"/out "$T"/ours.json
	wall $X fping -i 0 -r 0 -t 500 -u -f "$T"/t >> "$T"/rd
	sort "$T"/out > "$T"/fping.unreach
done
oursd=$(median < "$T"/od); refd=$(median < "$T"/rd)
grep -o '"target":"[0-9.]*","kind":"icmp","status":"timeout"' "$T"/ours.json | cut -d'"' -f4 | sort > "$T"/ours.unreach
same=no; cmp -s "$T"/ours.unreach "$T"/fping.unreach && same=yes
echo "probe 10k loopback: wall s ours=$ours fping=$ref; syscalls/probe ours=$sco fping=$scr"
echo "probe 10k, 10% dropped (timeout 500 ms): wall s ours=$oursd fping=$refd; unreachable ours=$(wc -l < "$T"/ours.unreach) fping=$(wc -l < "$T"/fping.unreach) same verdicts: $same"
echo "probe mixed (10k ICMP + HTTP answered in 300 ms): wall s mixed=$mixm icmp-only=$mixi http-only=$mixh sum=$mixsum"
bench_line probe_10k_wall_s "$ours" "$ref"
[ -n "$BEFORE" ] && bench_line probe_10k_wall_s_before "$before" "$ref"
bench_line probe_10k_syscalls_per_probe "$sco" "$scr"
bench_line probe_10k_drop10_wall_s "$oursd" "$refd"
bench_line probe_10k_drop10_same_verdicts "$same" yes nan
bench_line probe_mixed_http_icmp_wall_s "$mixm" "$mixsum"
