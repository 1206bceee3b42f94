#!/bin/sh
# make check: run every suite, keep going after a failure, and close with one
# total line. A suite that cannot run reports its tests as skipped, never passed.
BUILD=${1:-build}
cd "$(dirname "$0")/.." || exit 1
LOG=$(mktemp -d)
trap 'rm -rf "$LOG"' EXIT
total_p=0 total_f=0 total_s=0 bad=""

suite() { # name command...
	name=$1; shift
	echo "=== $name: $*"
	"$@" 2>&1 | tee "$LOG/$name"
	rc=$(cat "$LOG/rc" 2>/dev/null)
	line=$(grep -E '[0-9]+ passed, [0-9]+ failed' "$LOG/$name" | tail -n 1)
	p=$(echo "$line" | sed -n 's/.*\b\([0-9][0-9]*\) passed.*/\1/p')
	f=$(echo "$line" | sed -n 's/.*\b\([0-9][0-9]*\) failed.*/\1/p')
	s=$(echo "$line" | sed -n 's/.*\b\([0-9][0-9]*\) skipped.*/\1/p')
	total_p=$((total_p + ${p:-0})); total_f=$((total_f + ${f:-0})); total_s=$((total_s + ${s:-0}))
	if [ -z "$line" ] || [ "$rc" != 0 ] || [ "${f:-0}" != 0 ]; then
		[ -z "$line" ] && total_f=$((total_f + 1))
		bad="$bad $name"
	fi
}
# Run a command and record its exit status for suite().
run() { "$@"; echo $? > "$LOG/rc"; }

suite unit run sh tests/unit/run.sh "$BUILD"
[ -f tests/style/run.sh ] && suite style run sh tests/style/run.sh
[ -f tests/abi/run.sh ] && suite abi run sh tests/abi/run.sh "$BUILD"
[ -f tests/install/run.sh ] && suite install run sh tests/install/run.sh "$BUILD"
suite asan run make --no-print-directory check-asan
suite valgrind run make --no-print-directory BUILD="$BUILD" check-valgrind
[ -f tests/rtnl/run.sh ] && suite rtnl run sh tests/rtnl/run.sh "$BUILD"
[ -f tests/wgctl/run.sh ] && suite wgctl run sh tests/wgctl/run.sh "$BUILD"
[ -f tests/uapi/run.sh ] && suite uapi run sh tests/uapi/run.sh "$BUILD"
[ -f tests/health/run.sh ] && suite health run sh tests/health/run.sh "$BUILD"
[ -f tests/health/failover.sh ] && suite health-failover run sh tests/health/failover.sh "$BUILD"
[ -f tests/gateway/run.sh ] && suite gateway run sh tests/gateway/run.sh "$BUILD"
[ -f tests/gateway/pg.sh ] && suite gateway-pg run sh tests/gateway/pg.sh "$BUILD"
[ -f tests/stun/run.sh ] && suite stun run sh tests/stun/run.sh "$BUILD"
[ -f tests/gateway/edge.sh ] && suite gateway-edge run sh tests/gateway/edge.sh "$BUILD"
# The same three against wg-gatewayd built with ASan+UBSan (built by the asan suite above).
[ -f tests/gateway/sanitized.sh ] && suite gateway-asan run sh tests/gateway/sanitized.sh build-asan
[ -f tests/gateway/lab.sh ] && suite gateway-lab run sh tests/gateway/lab.sh "$BUILD"
[ -f fuzz/run.sh ] && suite fuzz run make --no-print-directory BUILD="$BUILD" check-fuzz
[ -f tests/windows/run.sh ] && suite windows run sh tests/windows/run.sh "$BUILD"
[ -f tests/windows/nt.sh ] && suite windows-nt run sh tests/windows/nt.sh build-win "$BUILD"
[ -f tests/windows/iphlp.sh ] && suite windows-iphlp run sh tests/windows/iphlp.sh build-win "$BUILD"
[ -f tests/kernel/run.sh ] && suite kernel run sh tests/kernel/run.sh "$BUILD"
[ -f tests/systemd/run.sh ] && suite systemd run sh tests/systemd/run.sh "$BUILD"

echo
if [ -n "$bad" ]; then
	echo "check: FAILED suites:$bad"
fi
echo "check: $total_p passed, $total_f failed, $total_s skipped"
[ -z "$bad" ]
