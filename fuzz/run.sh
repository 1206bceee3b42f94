#!/bin/sh
# Run every libFuzzer harness built in BUILD/fuzz for SECONDS each, seeded
# from a scratch copy of fuzz/corpus/NAME/ (the checked-in corpus is never
# written). Prints per harness the inputs run (libFuzzer's
# stat::number_of_executed_units) and closes with
# "fuzz: N passed, N failed, N skipped". A crash leaves its input in
# BUILD/fuzz/crash-NAME-* and the log in BUILD/fuzz/NAME.log.
#   sh fuzz/run.sh BUILD SECONDS [NAME...]
BUILD=${1:-build}
SECS=${2:-12}
shift 2 2>/dev/null
cd "$(dirname "$0")/.." || exit 1
pass=0 fail=0 skip=0
names=$*
if [ -z "$names" ]; then
	for f in fuzz/*.c; do names="$names $(basename "$f" .c)"; done
fi
for n in $names; do
	bin=$BUILD/fuzz/$n
	if [ ! -x "$bin" ]; then
		echo "SKIP fuzz $n: $bin not built (make fuzz needs clang)"
		skip=$((skip + 1))
		continue
	fi
	d=$(mktemp -d /tmp/wgkit-fuzz-"$n".XXXXXX) || exit 1
	[ -d "fuzz/corpus/$n" ] && cp fuzz/corpus/"$n"/* "$d"/ 2>/dev/null
	seeds=$(find "$d" -type f | wc -l)
	log=$BUILD/fuzz/$n.log
	ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		"$bin" -max_total_time="$SECS" -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="$BUILD/fuzz/crash-$n-" "$d" >"$log" 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\).*/\1/p' "$log" | tail -n 1)
	cov=$(grep -E '^#[0-9]+[[:space:]]+(DONE|pulse|NEW|REDUCE|INITED)' "$log" | tail -n 1 |
		sed -n 's/.*cov: \([0-9]*\).*/\1/p')
	rm -rf "$d"
	if [ "$rc" = 0 ] && [ -n "$runs" ]; then
		echo "ok   fuzz $n: $runs inputs run in ${SECS}s from $seeds seeds, cov ${cov:-?}, no crash"
		pass=$((pass + 1))
	else
		echo "FAIL fuzz $n: exit $rc after ${runs:-?} inputs; log $log:"
		grep -E 'ERROR|SUMMARY|runtime error|^    #[0-9] ' "$log" | head -n 20
		ls "$BUILD/fuzz/crash-$n-"* 2>/dev/null | head -n 3
		fail=$((fail + 1))
	fi
done
echo "fuzz: $pass passed, $fail failed, $skip skipped"
[ "$fail" = 0 ]
