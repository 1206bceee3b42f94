# The guest's main script (run by /init as /ktest/main.sh): every
# /ktest/test_*.sh in order (or those named in /ktest/filter), each under a
# time limit; a script that dies or reports nothing is a failure.
. /ktest/lib.sh

filter=$(cat /ktest/filter 2>/dev/null || true)
script_timeout=${KTEST_SCRIPT_TIMEOUT:-240}
echo "KTEST info wg $(wg --version 2>&1 | head -n 1)"
if have_wgctl; then
	echo "KTEST info wgctl $(wgctl --version 2>&1 | head -n 1)"
else
	echo "KTEST info wgctl absent: its tests will skip"
fi
ran=0
for t in /ktest/test_*.sh; do
	[ -e "$t" ] || continue
	n=$(basename "$t" .sh)
	if [ -n "$filter" ]; then
		case " $filter " in *" $n "* | *" ${n#test_} "*) ;; *) continue ;; esac
	fi
	: >"$KTEST_RESULTS"
	ran=$((ran + 1))
	rc=0
	KTEST_SCRIPT=$n timeout "$script_timeout" sh "$t" </dev/null || rc=$?
	if [ $rc != 0 ] && ! grep -q '^fail ' "$KTEST_RESULTS"; then
		if [ $rc = 143 ]; then
			echo "KTEST fail ${n#test_} script killed after ${script_timeout}s"
		else
			echo "KTEST fail ${n#test_} script exited $rc"
		fi
	elif [ ! -s "$KTEST_RESULTS" ]; then
		echo "KTEST fail ${n#test_} script reported no result"
	fi
	ktest_cleanup
done
[ $ran -gt 0 ] || echo "KTEST fail runner no guest test script matched '$filter'"
