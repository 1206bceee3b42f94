#!/bin/sh
# tests/gateway/sanitized.sh [ASAN_BUILD]: the gateway suites that drive the
# daemon itself (run.sh: the directory source; edge.sh: HTTP, STUN, anycast;
# pg.sh: PostgreSQL) against wg-gatewayd built with ASan+UBSan (build-asan/,
# which `make check-asan` builds). Every sanitizer report, leaks at exit
# included, goes to a file; any file fails the suite. One total line.
cd "$(dirname "$0")/../.." || exit 1
AB=${1:-build-asan}
SUITE=gateway-asan
if [ ! -x "$AB/wg-gatewayd" ] || ! grep -q __asan_init "$AB/wg-gatewayd" 2>/dev/null; then
	echo "$SUITE: CANNOT RUN: no ASan build of wg-gatewayd in $AB (make check-asan makes it)" >&2
	echo "SKIP - $SUITE suite: no ASan build in $AB"
	echo "$SUITE: 0 passed, 0 failed, 1 skipped"
	exit 0
fi
R=$(mktemp -d)
trap 'rm -rf "$R"' EXIT
p=0 f=0 s=0
for t in run edge pg; do
	ASAN_OPTIONS="detect_leaks=1:log_path=$R/asan" \
		UBSAN_OPTIONS="print_stacktrace=1:log_path=$R/ubsan" \
		sh "tests/gateway/$t.sh" "$AB" >"$R/$t.out" 2>&1
	grep -E '^(FAIL|SKIP) ' "$R/$t.out" | sed "s/^/[$t] /"
	line=$(grep -E '[0-9]+ passed, [0-9]+ failed' "$R/$t.out" | tail -n 1)
	echo "  $t.sh: ${line:-no total line}"
	if [ -z "$line" ]; then
		f=$((f + 1))
		continue
	fi
	p=$((p + $(echo "$line" | sed -n 's/.* \([0-9][0-9]*\) passed.*/\1/p')))
	f=$((f + $(echo "$line" | sed -n 's/.* \([0-9][0-9]*\) failed.*/\1/p')))
	s=$((s + $(echo "$line" | sed -n 's/.* \([0-9][0-9]*\) skipped.*/\1/p')))
done
# The tests' own tools (wg, python) are not sanitized: every report is the
# daemon's (or a test helper's built in $AB).
if ls "$R"/asan.* "$R"/ubsan.* >/dev/null 2>&1; then
	echo "FAIL - no sanitizer report from wg-gatewayd"
	head -n 40 "$R"/asan.* "$R"/ubsan.* 2>/dev/null | sed 's/^/    | /'
	f=$((f + 1))
else
	echo "ok   - no sanitizer report from wg-gatewayd (ASan+UBSan, leaks at exit included)"
	p=$((p + 1))
fi
echo "$SUITE: $p passed, $f failed, $s skipped"
[ "$f" = 0 ]
