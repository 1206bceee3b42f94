#!/bin/sh
# bench/sync.sh BUILD: wgctl sync / show / down against the reference `wg`
# (and `ip link del`) on the same 10,000- and 100,000-peer configs, in the
# qemu guest with Debian's kernel (tests/kernel/vm.sh). See bench/README.md.
# Knobs (environment): ROUNDS (default 3), N (10000), BIG (100000; 0 skips
# the 100k part), BIG_REF (1: wg at 100k too), DOWN_SMALL (1000), DOWN (1;
# 0 skips the teardown cases, ~4 minutes of the run),
# BENCH_TIMEOUT (VM seconds, default 3600), KTEST_APPEND (the guest's kernel
# arguments: idle=poll, bench/lib.sh).
# Output: a table, then machine-readable lines
#   bench: NAME ours=S ref=S ratio=R ours_msgs=SENT/SET ref_msgs=SENT/SET
# Exit: 0, 1 on failure, 77 when the guest cannot run here.
set -u
BUILD=${1:-build}
cd "$(dirname "$0")/.." || exit 1
case $BUILD in /*) ;; *) BUILD=$PWD/$BUILD ;; esac
. bench/lib.sh
out=$BUILD/bench
mkdir -p "$out"

[ -x "$BUILD/wgctl" ] || { echo "bench/sync: $BUILD/wgctl not built (run make)" >&2; exit 1; }
[ -f "$BUILD/libwg-netlink.a" ] || { echo "bench/sync: $BUILD/libwg-netlink.a not built" >&2; exit 1; }
CC=${CC:-cc}
guest_tools "$BUILD" "$out" || exit 1

params="ROUNDS=${ROUNDS:-3} N=${N:-10000} BIG=${BIG:-100000} BIG_REF=${BIG_REF:-1} DOWN_SMALL=${DOWN_SMALL:-1000} DOWN=${DOWN:-1}"
log=$out/sync-serial.log
echo "bench/sync: booting the guest ($params); this takes several minutes (TCG)" >&2
rc=0
KTEST_SUITE=bench-sync KTEST_LOG=$log KTEST_TIMEOUT=${BENCH_TIMEOUT:-3600} KTEST_FILTER=$params \
	sh tests/kernel/vm.sh bench/sync_guest.sh "$BUILD/wgctl" "$out/sync_bench" "$out/nlcount.so" \
	>"$out/sync-verdict" 2>&1 || rc=$?
cat "$out/sync-verdict"
[ $rc = 77 ] && { echo "bench/sync: SKIPPED: the guest cannot run here"; exit 77; }

tr -d '\r' <"$log" | grep -a '^BENCHRES ' >"$out/sync-results" || true
{
	printf '%-22s %10s %10s %8s %14s %14s\n' case ours_s ref_s ratio ours_msgs ref_msgs
	awk '{
		for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = (kv[2] == "/" ? "-" : kv[2]) }
		ratio = (v["ref"] != "-" && v["ref"] + 0 > 0 && v["ours"] != "-") ? sprintf("%.3f", v["ours"] / v["ref"]) : "-"
		printf "%-22s %10s %10s %8s %14s %14s\n", v["case"], v["ours"], v["ref"], ratio, v["ours_msgs"], v["ref_msgs"]
	}' "$out/sync-results"
	echo
	echo "(ratio = ours/ref, lower is better; msgs = netlink messages sent/of which WireGuard set requests)"
	# The bare dump is the floor for any sync: no-op sync relative to it.
	awk '{
		for (i = 2; i <= NF; i++) { split($i, kv, "="); v[$0, kv[1]] = kv[2]; c[kv[1] == "case" ? kv[2] : ""] = $0 }
	}
	END {
		for (s in c) if (s ~ /^noop_/) {
			t = s; sub(/^noop_/, "", t); b = c["bare_" t]
			if (b != "" && v[b, "ours"] + 0 > 0)
				printf "no-op sync / bare dump (%s): %.2f\n", t, v[c[s], "ours"] / v[b, "ours"]
		}
	}' "$out/sync-results"
	awk '{
		for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = (kv[2] == "/" ? "-" : kv[2]) }
		ratio = (v["ref"] != "-" && v["ref"] + 0 > 0 && v["ours"] != "-") ? sprintf("%.3f", v["ours"] / v["ref"]) : "-"
		printf "%s|%s|%s|%s|ours_msgs=%s|ref_msgs=%s\n", v["case"], v["ours"], v["ref"], ratio, v["ours_msgs"], v["ref_msgs"]
	}' "$out/sync-results" | while IFS='|' read -r c o r q om rm; do bench_line "$c" "$o" "$r" "$q" "$om" "$rm"; done
} | tee "$out/sync-summary.txt"
[ -s "$out/sync-results" ] || rc=1
exit $rc
