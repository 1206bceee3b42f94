#!/bin/sh
# The kernel suite: wgkit against real in-kernel WireGuard in a qemu guest.
# One VM runs every tests/kernel/guest/test_*.sh (a boot costs 4-20 s under
# TCG), with BUILD/wgctl and BUILD/tests/tools/* in its PATH when built.
#
# Usage: tests/kernel/run.sh [BUILD] [TEST...]
#   TEST  guest script names to run (test_wg_basic or wg_basic); default all
# Environment: KTEST_TIMEOUT (VM seconds, default 480), KTEST_VERBOSE=1
# (serial console to stderr), KTEST_LOG (default BUILD/tests/kernel-serial.log).
# Prints one line per guest test case and "kernel: N passed, N failed, N skipped";
# exits 1 on any failure (a VM that does not boot or finish is one). When
# qemu or the kernel cannot be prepared here every script counts as skipped,
# loudly, and the exit status is 0.
set -u
here=$(cd "$(dirname "$0")" && pwd)
BUILD=${1:-build}
[ $# -gt 0 ] && shift
KTEST_FILTER="$*"

bins=""
if [ -x "$BUILD/wgctl" ]; then
	bins="$BUILD/wgctl"
else
	echo "kernel: NOTE: $BUILD/wgctl not built: the wgctl cases will skip (run make first)" >&2
fi
[ -x "$BUILD/wghealth" ] && bins="$bins $BUILD/wghealth"
[ -x "$BUILD/wg-gatewayd" ] && bins="$bins $BUILD/wg-gatewayd"
for t in "$BUILD"/tests/tools/*; do
	[ -f "$t" ] && [ -x "$t" ] && bins="$bins $t"
done

log=${KTEST_LOG:-}
if [ -z "$log" ]; then
	if [ -d "$BUILD" ]; then
		mkdir -p "$BUILD/tests"
		log="$BUILD/tests/kernel-serial.log"
	else
		log="$here/cache/serial.log"
	fi
fi

rc=0
# $bins: paths from the build tree, no spaces in them.
# shellcheck disable=SC2086
KTEST_SUITE=kernel-vm KTEST_LOG=$log KTEST_FILTER=$KTEST_FILTER \
	sh "$here/vm.sh" "$here/guest/runner.sh" $bins >"$log.results" || rc=$?
grep -v '^kernel-vm: [0-9]* passed' "$log.results"
counts=$(sed -n 's/^kernel-vm: \([0-9]*\) passed, \([0-9]*\) failed, \([0-9]*\) skipped$/\1 \2 \3/p' "$log.results")
rm -f "$log.results"
set -- $counts
pass=${1:-0} fail=${2:-0} skip=${3:-0}
case $rc in
0) ;;
77)
	# Nothing ran: every guest script counts as skipped.
	skip=$(ls "$here"/guest/test_*.sh 2>/dev/null | wc -l)
	echo "SKIP kernel: qemu or the Debian kernel cannot be prepared here; no kernel test ran"
	;;
*) [ "$fail" -gt 0 ] || fail=1 ;;
esac
[ -s "$log" ] && echo "kernel: serial log: $log"
echo "kernel: $pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
