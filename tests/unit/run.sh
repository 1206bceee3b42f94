#!/bin/sh
# Run every unit test binary in BUILD/tests; exit 77 means skipped.
# Prints one closing "N passed, N failed, N skipped" line.
# UNIT_WRAP runs each binary under a wrapper (make check-valgrind uses valgrind).
BUILD=${1:-build}
NAME=${UNIT_NAME:-unit}
pass=0 fail=0 skip=0
for t in "$BUILD"/tests/test_*; do
	[ -x "$t" ] || continue
	$UNIT_WRAP "$t"
	rc=$?
	case $rc in
	0) pass=$((pass + 1)) ;;
	77) skip=$((skip + 1)); echo "SKIP: $(basename "$t")" ;;
	*) fail=$((fail + 1)); echo "FAIL: $(basename "$t") (exit $rc)" ;;
	esac
done
echo "$NAME: $pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
