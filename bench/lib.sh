# bench/lib.sh: what the host benchmarks share (POSIX sh). Source it from the
# repository root after `cd`; it sources tests/lib.sh for the tear-down
# registry and the namespace / wireguard-go helpers (at_exit, ns_add,
# wggo_start, stop_pid: everything is removed on EXIT, INT and TERM).
#
#   bench_init NAME      $T, a scratch directory removed on exit; traps
#   now                  seconds since the epoch, with nanoseconds
#   wall CMD...          run CMD once; print its wall time in seconds (%.4f);
#                        its stdout in $T/out, its stderr in $T/err (in $T/out
#                        too when WALL_MERGE=1); returns CMD's exit status
#   median               the median of the numbers on stdin (the lower middle
#                        one for an even count)
#   ratio A B            A / B (%.3f), "nan" when B is not positive
#   bench_line NAME OURS REF [RATIO [EXTRA...]]
#                        the machine-readable line `make bench` collects:
#                        "bench: NAME ours=OURS ref=REF ratio=RATIO EXTRA..."
#                        (RATIO computed from OURS / REF when not given)
#   guest_tools BUILD OUT  sync_bench and nlcount.so for the guest benches
. tests/lib.sh

# The guest benches boot with idle=poll (tests/kernel/vm.sh's KTEST_APPEND):
# under TCG a vCPU that halted when idle runs a task woken for it 0.3 to 7
# ms later (real hardware: microseconds), and every timed path wakes another
# CPU (a daemon woken by inotify, the RCU grace period of each peer removal,
# a timing process). KTEST_APPEND= (empty) boots them halting. See
# bench/README.md.
KTEST_APPEND=${KTEST_APPEND-idle=poll}
export KTEST_APPEND

# guest_tools BUILD OUT: build the guest-side helpers both guest benches ship
# (sync_bench and the nlcount.so netlink counter) into OUT; 1 on failure.
guest_tools() {
	_gt_pkg=$(pkg-config --cflags --libs libmnl libsodium liburing libcurl 2>/dev/null)
	# shellcheck disable=SC2086
	${CC:-cc} -std=gnu11 -O2 -Wall -Wextra -Werror -Iinclude -o "$2/sync_bench" bench/sync_bench.c \
		"$1/libwg-netlink.a" $_gt_pkg -lm || return 1
	${CC:-cc} -std=gnu11 -O2 -Wall -Wextra -Werror -shared -fPIC -o "$2/nlcount.so" bench/nlcount.c \
		-ldl || return 1
	chmod 755 "$2/nlcount.so"
}

bench_init() { # NAME
	suite_init "bench-$1"
	T=$SUITE_TMP
}

now() { date +%s.%N; }

wall() {
	_b_s=$(now)
	_b_rc=0
	if [ "${WALL_MERGE:-0}" = 1 ]; then
		"$@" >"$T/out" 2>&1 || _b_rc=$?
	else
		"$@" >"$T/out" 2>"$T/err" || _b_rc=$?
	fi
	_b_e=$(now)
	awk -v s="$_b_s" -v e="$_b_e" 'BEGIN {printf "%.4f\n", e - s}'
	return $_b_rc
}

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.3f", a / b; else print "nan" }'; }

bench_line() {
	_b_n=$1 _b_o=$2 _b_r=$3
	shift 3
	if [ $# -gt 0 ]; then
		_b_q=$1
		shift
	else
		_b_q=$(ratio "$_b_o" "$_b_r")
	fi
	echo "bench: $_b_n ours=$_b_o ref=$_b_r ratio=$_b_q${*:+ $*}"
}
