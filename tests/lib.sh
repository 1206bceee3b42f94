# tests/lib.sh: the harness every host shell suite sources (POSIX sh).
#
#   cd to the repository root, then
#   . tests/lib.sh
#   suite_init NAME            # $SUITE_TMP (removed on exit), traps
#   ok NAME                    # ok   - NAME
#   fail NAME [DETAIL...]      # FAIL - NAME, each DETAIL indented below it
#   fail_log NAME FILE         # FAIL - NAME, the head of FILE indented below it
#   skip NAME WHY              # SKIP - NAME: WHY (and again just before the total;
#                              # a NAME that says why may go without WHY)
#   check NAME CMD...          # ok when CMD succeeds, else FAIL with its output
#   check_log NAME FILE CMD... # ok when CMD succeeds, else FAIL with FILE
#   cannot WHY                 # the whole suite cannot run: one skip, finish
#   finish [SUITE]             # "SUITE: N passed, N failed, N skipped"; exit 0 or 1
#
# The counters are plain variables (pass, fail, skip) so a suite may still
# count by hand. tests/run-all.sh parses only the closing line.
#
# Tear-down: at_exit CMD [ARG...] registers a command; on EXIT, INT, TERM and
# HUP they run once, last registered first. ns_add and wggo_start register
# their own: every namespace (and every process left in it) and every
# wireguard-go is gone when the suite ends, however it ends.
#
# Network helpers (need root and iproute2):
#   ns_add NAME                          namespace with lo up (reused if it exists)
#   veth_pair NS_A IF_A NS_B IF_B        a veth between two namespaces, both up
#   wggo_start NS IF [LOG]               wireguard-go -f IF in NS; waits for its
#                                        socket; $WGGO_PID; 1 if it never came
#   wggo_stop IF                         stop it (TERM, 5 s, KILL), remove its socket
#   wait_sock IF [PID]                   wait up to 10 s for IF's UAPI socket
#   stop_pid PID                         TERM, up to 5 s, then KILL
# Suites whose `check` takes other arguments (tests/wgctl: shell code) define
# their own on top of ok and fail after sourcing this file.

pass=0 fail=0 skip=0
SUITE=${SUITE:-tests}
LIB_SKIPS=""
LIB_ATEXIT=""
LIB_WGGO=""
LIB_DOWN=0
WGGO_SOCKDIR=${WGGO_SOCKDIR:-/var/run/wireguard}

# _lib_indent: the detail below a FAIL line.
_lib_indent() { sed 's/^/    | /'; }

ok() {
	pass=$((pass + 1))
	printf 'ok   - %s\n' "$1"
}

fail() {
	fail=$((fail + 1))
	printf 'FAIL - %s\n' "$1"
	shift
	for _lib_d in "$@"; do
		[ -n "$_lib_d" ] && printf '%s\n' "$_lib_d" | head -n 40 | _lib_indent
	done
	return 0
}

fail_log() {
	fail "$1"
	[ -n "${2:-}" ] && [ -f "$2" ] && head -n 40 "$2" | _lib_indent
	return 0
}

skip() {
	skip=$((skip + 1))
	printf 'SKIP - %s%s\n' "$1" "${2:+: $2}"
	LIB_SKIPS="$LIB_SKIPS
SKIPPED - $1${2:+: $2}"
}

# check NAME CMD...: the output of CMD goes to $CHECK_OUT (default
# $SUITE_TMP/check.out), shown under the FAIL line when CMD fails, followed by
# what the suite's check_detail prints (nothing unless it defines one).
check_detail() { :; }
check() {
	_lib_n=$1
	shift
	_lib_o=${CHECK_OUT:-$SUITE_TMP/check.out}
	if "$@" >"$_lib_o" 2>&1; then
		ok "$_lib_n"
	else
		fail "$_lib_n" "$(head -n 40 "$_lib_o")" "$(check_detail)"
	fi
}

check_log() {
	_lib_n=$1 _lib_f=$2
	shift 2
	if "$@"; then ok "$_lib_n"; else fail_log "$_lib_n" "$_lib_f"; fi
}

finish() {
	[ -n "${1:-}" ] && SUITE=$1
	[ -n "$LIB_SKIPS" ] && printf '%s\n' "$LIB_SKIPS" | sed 1d
	echo "$SUITE: $pass passed, $fail failed, $skip skipped"
	[ "$fail" -eq 0 ]
	exit $?
}

cannot() {
	echo "$SUITE: CANNOT RUN: $1" >&2
	skip "$SUITE suite" "$1"
	finish
}

# ------------------------------------------------------------ tear-down
# _lib_q ARG: ARG single-quoted for eval.
_lib_q() { printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"; }

at_exit() {
	_lib_c=""
	for _lib_a in "$@"; do _lib_c="$_lib_c $(_lib_q "$_lib_a")"; done
	LIB_ATEXIT="$_lib_c
$LIB_ATEXIT"
}

_lib_teardown() {
	[ "$LIB_DOWN" = 1 ] && return
	LIB_DOWN=1
	eval "$LIB_ATEXIT"
}

suite_init() { # NAME
	SUITE=$1
	SUITE_TMP=$(mktemp -d "/tmp/wgkit-$1.XXXXXX") || exit 1
	at_exit rm -rf "$SUITE_TMP"
	trap _lib_teardown EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	trap 'exit 129' HUP
}

# ------------------------------------------------------------ processes
stop_pid() {
	[ -n "${1:-}" ] || return 0
	kill "$1" 2>/dev/null || return 0
	_lib_i=0
	while kill -0 "$1" 2>/dev/null && [ $_lib_i -lt 50 ]; do
		sleep 0.1
		_lib_i=$((_lib_i + 1))
	done
	kill -9 "$1" 2>/dev/null
	return 0
}

# ------------------------------------------------------------ namespaces
ns_add() { # NAME
	if [ ! -e "/run/netns/$1" ]; then
		ip netns add "$1" || return 1
		at_exit ns_del "$1"
	fi
	ip -n "$1" link set lo up
}

# ns_del NAME: every process still in it is stopped, then it is deleted.
ns_del() {
	for _lib_p in $(ip netns pids "$1" 2>/dev/null); do kill "$_lib_p" 2>/dev/null; done
	for _lib_p in $(ip netns pids "$1" 2>/dev/null); do stop_pid "$_lib_p"; done
	ip netns del "$1" 2>/dev/null
	return 0
}

veth_pair() { # NS_A IF_A NS_B IF_B
	ip link add "$2" netns "$1" type veth peer name "$4" netns "$3" &&
		ip -n "$1" link set "$2" up && ip -n "$3" link set "$4" up
}

# ------------------------------------------------------------ wireguard-go
# Foreground under setsid, stopped by PID (daemon mode does not outlive the
# shell that started it).
wggo_start() { # NS IF [LOG]
	ip netns exec "$1" setsid wireguard-go -f "$2" >>"${3:-${SUITE_TMP:-/tmp}/wg-$2.log}" 2>&1 &
	WGGO_PID=$!
	LIB_WGGO="$LIB_WGGO $2:$WGGO_PID"
	at_exit wggo_stop "$2"
	wait_sock "$2" "$WGGO_PID"
}

# wait_for TENTHS CMD...: run CMD (output dropped) every 0.1 s until it
# succeeds, at most TENTHS times; its status at the last try.
wait_for() {
	_lib_n=$1
	shift
	while [ "$_lib_n" -gt 0 ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
		_lib_n=$((_lib_n - 1))
	done
	"$@" >/dev/null 2>&1
}

# wait_sock IF [PID]: up to 10 s for the UAPI socket of IF (sooner given up
# when PID, the process that should make it, is gone).
wait_sock() {
	_lib_i=0
	while [ ! -S "$WGGO_SOCKDIR/$1.sock" ] && [ $_lib_i -lt 100 ]; do
		[ -n "${2:-}" ] && ! kill -0 "$2" 2>/dev/null && break
		sleep 0.1
		_lib_i=$((_lib_i + 1))
	done
	[ -S "$WGGO_SOCKDIR/$1.sock" ]
}

wggo_stop() { # IF
	_lib_keep=""
	for _lib_e in $LIB_WGGO; do
		if [ "${_lib_e%%:*}" = "$1" ]; then
			# Only if that PID is still a wireguard-go (a suite may have
			# stopped it itself, and PIDs are reused).
			grep -qx wireguard-go "/proc/${_lib_e#*:}/comm" 2>/dev/null && stop_pid "${_lib_e#*:}"
		else
			_lib_keep="$_lib_keep $_lib_e"
		fi
	done
	LIB_WGGO=$_lib_keep
	rm -f "$WGGO_SOCKDIR/$1.sock"
}
