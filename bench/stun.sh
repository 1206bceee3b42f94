#!/bin/sh
# STUN benchmarks (see bench/README.md): wgpunch stun-server vs coturn's
# turnserver (STUN only) on loopback in namespace s2-bench, same load
# generator (bench/stun_load.c), server pinned to CPU 0 and the load to CPU 1,
# ROUNDS rounds of SECS seconds, medians; then system calls per answered
# request under strace -c -f; then the codec's cost per message.
# Last lines: "bench: NAME ours=... ref=... ratio=..." (ratio ours/ref).
BUILD=${1:-build}
BEFORE=${BEFORE:-}
ROUNDS=${ROUNDS:-3}
SECS=${SECS:-3}
cd "$(dirname "$0")/.." || exit 1
[ "$(id -u)" = 0 ] || { echo "bench-stun: SKIPPED: needs root (namespaces)"; exit 0; }
. bench/lib.sh
bench_init stun
NS=s2-bench
SP=
stop_server() { [ -n "$SP" ] && kill "$SP" 2>/dev/null; wait 2>/dev/null; }
at_exit stop_server
LIBS=$(pkg-config --libs libmnl libsodium liburing libcurl)
CC=${CC:-cc}
$CC -O2 -D_GNU_SOURCE -Iinclude -o "$T"/stun_load bench/stun_load.c "$BUILD"/libwg-netlink.a $LIBS || exit 1
$CC -O2 -D_GNU_SOURCE -Iinclude -o "$T"/stun_codec bench/stun_codec.c "$BUILD"/libwg-netlink.a $LIBS || exit 1
# BEFORE=DIR: the codec of another build too, timed in the same run.
[ -n "$BEFORE" ] && { $CC -O2 -D_GNU_SOURCE -Iinclude -o "$T"/stun_codec_before bench/stun_codec.c \
	"$BEFORE"/libwg-netlink.a $LIBS || exit 1; }
ns_add $NS || exit 1
X="ip netns exec $NS"
NCPU=$(nproc)
PIN_S="taskset -c 0"; PIN_L="taskset -c $((NCPU > 1 ? 1 : 0))"

# --rate 0: the per-source rate limit (on by default) is turned off here, or
# the single load source would measure the limit, not the server.
start_ours() { $X $PIN_S "$BUILD"/wgpunch stun-server --listen 127.0.0.1:3478 --rate 0 > "$T"/ours.out 2>&1 & SP=$!; sleep 0.3; }
start_coturn() {
	$X $PIN_S turnserver -n --stun-only --no-cli --no-tls --no-dtls -L 127.0.0.1 \
		--listening-port 3478 --userdb "$T"/turndb --log-file stdout --no-stdout-log \
		> /dev/null 2>&1 & SP=$!; sleep 1
}
stop() { kill "$SP" 2>/dev/null; wait "$SP" 2>/dev/null; SP=; }
load() { $X $PIN_L "$T"/stun_load 127.0.0.1 3478 "$1"; }
field() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p"; }

: > "$T"/o; : > "$T"/r
for i in $(seq "$ROUNDS"); do
	start_ours; load "$SECS" > "$T"/l; stop; cat "$T"/l | sed 's/^/  ours:   /'
	field rate < "$T"/l >> "$T"/o; field malformed < "$T"/l >> "$T"/om
	if command -v turnserver > /dev/null; then
		start_coturn; load "$SECS" > "$T"/l; stop; cat "$T"/l | sed 's/^/  coturn: /'
		field rate < "$T"/l >> "$T"/r; field malformed < "$T"/l >> "$T"/rm
	fi
done
ours=$(median < "$T"/o); ref=$(median < "$T"/r)
om=$(awk '{s+=$1} END {print s+0}' "$T"/om); rm_=$(awk '{s+=$1} END {print s+0}' "$T"/rm 2>/dev/null)

# System calls per answered request: strace -c on the server while loaded.
sc_per() { # start-fn
	$1
	$X strace -c -f -p "$SP" -o "$T"/strace 2>/dev/null & ST=$!
	sleep 0.5
	load 2 > "$T"/l
	kill -INT $ST 2>/dev/null; wait $ST 2>/dev/null
	stop
	calls=$(awk '/total$/ {print $4}' "$T"/strace)
	ans=$(field answered < "$T"/l)
	awk -v c="${calls:-0}" -v a="${ans:-0}" 'BEGIN { if (a > 0) printf "%.4f\n", c / a; else print "nan" }'
}
if command -v strace > /dev/null; then
	sco=$(sc_per start_ours); scr=nan
	command -v turnserver > /dev/null && scr=$(sc_per start_coturn)
else
	sco=nan scr=nan
fi
ns=$($X "$T"/stun_codec | field ns_per_msg)
if [ -n "$BEFORE" ]; then
	nsb=$($X "$T"/stun_codec_before | field ns_per_msg)
fi

echo "stun server: ours runs with --rate 0 (its default per-source rate limit off: all load comes from one address)"
echo "stun server: answered/s ours=$ours coturn=${ref:-n/a} malformed ours=$om coturn=${rm_:-n/a}"
echo "stun server: syscalls per answered request (strace -c, under load) ours=$sco coturn=$scr"
echo "stun codec: one request parse + response build + response parse: $ns ns, no allocation"
bench_line stun_server_rps "$ours" "${ref:-0}"
bench_line stun_malformed_replies "$om" "${rm_:-0}" nan
bench_line stun_syscalls_per_reply "$sco" "$scr"
bench_line stun_codec_ns "$ns" nan nan
if [ -n "$BEFORE" ]; then
	bench_line stun_codec_ns_vs_before "$ns" "$nsb"
fi
# Everything measured: 0 (a trailing `[ ... ] && echo` made this 1 without
# BEFORE). Our server's or the codec's figure missing: 1.
if [ -z "$ours" ] || [ -z "$ns" ]; then
	echo "bench-stun: no figure for our server or the codec"
	exit 1
fi
exit 0
