# tests/kernel/vmlib.sh: what the two qemu runners share (POSIX sh, sourced):
# tests/kernel/vm.sh (busybox guest) and tests/systemd/run.sh (a Debian
# root with systemd as init).
#
#   vm_libs PROG    the loader and libraries PROG needs, one path a line, as
#                   this machine's ldd names them (the guest has no
#                   ld.so.cache; the paths are where the loader looks)
#   vm_verdict SUITE ELAPSED QRC LOG [STYLE]
#                   read the serial log LOG and print one line per result,
#                   then "SUITE: N passed, N failed, N skipped"; returns 1
#                   on a failure. Only whole lines starting with KTEST count
#                   (serial lines end in \r\n; kernel messages interleave):
#                     KTEST ok NAME | KTEST fail NAME REASON |
#                     KTEST skip NAME REASON | KTEST info TEXT | KTEST done
#                   STYLE "name" (default) prints NAME alone for an ok;
#                   "text" prints the whole line (the systemd guest's
#                   results are sentences). A kernel crash, or no KTEST
#                   done (QRC 124/137: the timeout killed it), is a failure.

vm_libs() {
	ldd "$1" 2>/dev/null | awk '
		$2 == "=>" && $3 ~ /^\// { print $3 }
		$1 ~ /^\// { print $1 }'
}

vm_verdict() {
	tr -d '\r' <"$4" | awk -v suite="$1" -v elapsed="$2" -v qrc="$3" -v logf="$4" \
		-v style="${5:-name}" '
	# The line without its first n words.
	function rest(n,   r, i) { r = $0; for (i = 0; i < n; i++) sub(/^[^ ]+ ?/, "", r); return r }
	$1 == "KTEST" && $2 == "ok"   { pass++; print "ok   " (style == "text" ? "- " rest(2) : $3); next }
	$1 == "KTEST" && $2 == "fail" { fail++; print (style == "text" ? "FAIL - " rest(2) : "FAIL " $3 ": " rest(3)); next }
	$1 == "KTEST" && $2 == "skip" { skip++; print (style == "text" ? "skip - " rest(2) : "skip " $3 ": " rest(3)); next }
	$1 == "KTEST" && $2 == "info" { print "info " rest(2); next }
	$1 == "KTEST" && $2 == "done" { done = 1; next }
	$1 == "KTEST-LOG" { print "     | " rest(1); next }
	# A kernel crash fails the run even if the guest got to its end.
	/Kernel panic|BUG:|Oops:/ { fail++; print "FAIL kernel: " $0; next }
	/WARNING:/ { print "kern " $0 }
	END {
		if (!done) {
			fail++
			if (qrc == 124 || qrc == 137)
				print "FAIL vm: the guest did not finish within the timeout (" elapsed " s); serial log: " logf
			else
				print "FAIL vm: the guest never printed KTEST done (qemu exit " qrc ", " elapsed " s); serial log: " logf
		}
		printf "info VM ran %d s\n", elapsed
		printf "%s: %d passed, %d failed, %d skipped\n", suite, pass, fail, skip
		exit fail > 0 ? 1 : 0
	}'
}
