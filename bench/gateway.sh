#!/bin/sh
# bench/gateway.sh BUILD: wg-gatewayd (issue 12) side by side with what an
# operator otherwise runs, in the qemu guest with Debian's kernel
# (bench/gateway_guest.sh): a 1% change of a 10,000-peer registry (the
# directory source, one file) against `wg syncconf` of the regenerated file;
# single-peer changes (a folder of 100 files), p50/p99 against `wg syncconf`;
# the daemon restarted over its loaded device (netlink set messages counted,
# must be 0) against the bare dump; RSS per peer at 10,000 and 100,000 peers
# against the issue's 200-byte target. On the host: COMMIT-to-device
# latency of the PostgreSQL source (tests/gateway/pg.sh, 200 single changes)
# against the issue's 50 ms target.
# Knobs: ROUNDS (5), CHURN (10 rounds of the 1% change), N (10000), SINGLE (100), BIG (100000; 0 skips),
# PG (1; 0 skips the host part), BENCH_TIMEOUT (VM seconds, 3600),
# KTEST_APPEND (the guest's kernel arguments: idle=poll, bench/lib.sh).
# Output: bench: NAME ours=S ref=S ratio=R lines. Exit 0, 1 on failure,
# 77 when the guest cannot run here.
set -u
BUILD=${1:-build}
cd "$(dirname "$0")/.." || exit 1
case $BUILD in /*) ;; *) BUILD=$PWD/$BUILD ;; esac
. bench/lib.sh
out=$BUILD/bench
mkdir -p "$out"
for b in wg-gatewayd libwg-netlink.a; do
	[ -e "$BUILD/$b" ] || { echo "bench/gateway: $BUILD/$b not built (run make)" >&2; exit 1; }
done
CC=${CC:-cc}
guest_tools "$BUILD" "$out" || exit 1
$CC -std=gnu11 -O2 -Wall -Wextra -Werror -o "$out/gw_bench" bench/gw_bench.c || exit 1

params="ROUNDS=${ROUNDS:-5} CHURN=${CHURN:-10} N=${N:-10000} SINGLE=${SINGLE:-100} BIG=${BIG:-100000}"
log=$out/gateway-serial.log
echo "bench/gateway: booting the guest ($params); several minutes (TCG)" >&2
rc=0
KTEST_SUITE=bench-gateway KTEST_LOG=$log KTEST_TIMEOUT=${BENCH_TIMEOUT:-3600} KTEST_FILTER=$params \
	sh tests/kernel/vm.sh bench/gateway_guest.sh "$BUILD/wg-gatewayd" "$out/sync_bench" \
	"$out/gw_bench" "$out/nlcount.so" >"$out/gateway-verdict" 2>&1 || rc=$?
cat "$out/gateway-verdict"
[ $rc = 77 ] && { echo "bench/gateway: SKIPPED: the guest cannot run here"; exit 77; }
tr -d '\r' <"$log" | grep -a '^KTEST info bench-gateway' | sed 's/^KTEST info //'
tr -d '\r' <"$log" | grep -a '^BENCHRES ' >"$out/gateway-results" || true
[ -s "$out/gateway-results" ] || rc=1
{
	printf '%-28s %12s %12s %8s\n' case ours ref ratio
	awk '{
		for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
		ratio = (v["ref"] != "-" && v["ref"] + 0 > 0 && v["ours"] != "-") ? sprintf("%.3f", v["ours"] / v["ref"]) : "-"
		printf "%-28s %12s %12s %8s\n", v["case"], v["ours"], v["ref"], ratio
		delete v
	}' "$out/gateway-results"
	echo
	echo "(seconds, or bytes for rss; ratio = ours/ref, lower is better; rss ref = the 200-byte target)"
	awk '{
		for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
		ratio = (v["ref"] != "-" && v["ref"] + 0 > 0 && v["ours"] != "-") ? sprintf("%.3f", v["ours"] / v["ref"]) : "-"
		printf "%s|%s|%s|%s|%s\n", v["case"], v["ours"], v["ref"], ratio, (v["ours_msgs"] != "" ? "ours_msgs=" v["ours_msgs"] : "")
		delete v
	}' "$out/gateway-results" | while IFS='|' read -r c o r q m; do bench_line "$c" "$o" "$r" "$q" $m; done
} | tee "$out/gateway-summary.txt"

# The host part: PostgreSQL COMMIT to device, 200 single changes.
if [ "${PG:-1}" = 1 ]; then
	sh tests/gateway/pg.sh "$BUILD" >"$out/gateway-pg.out" 2>&1 || rc=1
	line=$(grep '^bench: gateway_pg_commit_to_device' "$out/gateway-pg.out" | tail -n 1)
	p99=$(echo "$line" | sed -n 's/.*p99_ms=\([0-9.]*\).*/\1/p')
	p50=$(echo "$line" | sed -n 's/.*p50_ms=\([0-9.]*\).*/\1/p')
	if [ -n "$p99" ]; then
		bench_line gateway_pg_commit_p99_ms "$p99" 50 "$(awk -v a="$p99" 'BEGIN { printf "%.3f", a / 50 }')" "p50_ms=$p50"
	else
		echo "bench/gateway: no COMMIT-to-device figure from tests/gateway/pg.sh (see $out/gateway-pg.out)"
		rc=1
	fi
fi
exit $rc
