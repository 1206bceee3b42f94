#!/bin/sh
# wghealth.exe and the Service Control Manager under wine (issue 13, proof 2).
# A stand-in tunnel service (tests/windows/standin/tunnelsvc.c) is registered
# with wine's service manager as WireGuardTunnel$NAME; NAME.mode in its
# folder picks what it does. Each case runs `wghealth.exe check` over ~13 s
# with short intervals (retry 1 s, no jitter, 3 retries, cooldown 3 s, stop
# and start timeouts 1 s) and reads the story back from the SQLite history:
#   missing service      -> service_not_found
#   stopped service      -> restarted (RUNNING afterwards, ok in the history)
#   stuck in STOP_PENDING -> reconnect_stop_timeout
#   start never RUNNING  -> reconnect_start_timeout
#   start exits at once  -> reconnect_start_failed
# each with the backoff 1 -> 2 -> 4 s, the cooldown and the next round;
# then `wghealth.exe service install|uninstall` and the service's stop.
#
# Alone: sh tests/windows/scm.sh [WIN_BUILD]   (suite "windows-scm")
# Sourced by tests/windows/run.sh after suite_init, with WIN_BUILD set: only
# the cases (scm_cases), counted in the harness's suite. The stand-in
# wireguard.dll: $WGKIT_STANDIN_DLL, else $WIN_DLLDIR/wireguard.dll (default
# $WIN_BUILD/tests/standin), else $WIN_BUILD/tests/windows/wireguard.dll.
# No lock needed: wine only, no namespace, no port. Own WINEPREFIX.

scm_winpath() { printf 'Z:%s' "$1" | tr / '\\'; }

scm_wine() {
	WINEPREFIX=$SCM_PREFIX WINEDEBUG=-all WGKIT_STANDIN_DIR=$(scm_winpath "$SCM_DIR/nt") \
		"$SCM_WINE" "$@"
}

# scm_story NAME: remedy and cooldown rows as "ts kind attempt result reasons".
scm_story() {
	scm_wine "$SCM_EXE" history "$1" --json --state-dir "$SCM_WSTATE" > "$SCM_DIR/$1.hist" 2>&1
	jq -r '.[] | select(.kind == "remedy" or .kind == "cooldown") |
		"\(.ts_ms) \(.kind) \((.detail | capture("^attempt (?<a>[0-9]+)").a) // "-") \(.result) \(.reasons | join(","))"' \
		"$SCM_DIR/$1.hist" 2> /dev/null | tr -d '\r'
}

# scm_sequence NAME CODE RESULT: the rows show attempts 1, 2, 3 (each RESULT,
# CODE among the reasons when given) at least 1 s and 2 s apart, the
# cooldown at least 4 s after the third, and attempt 1 again at least 3 s
# after the cooldown. Each gap at most 4 s longer (checks every ~0.5 s).
scm_sequence() {
	scm_story "$1" > "$SCM_DIR/$1.story"
	if awk -v code="$2" -v res="$3" '
		function bad(m) { print "  " m; err = 1 }
		{ ts[NR] = $1; kind[NR] = $2; att[NR] = $3; r[NR] = $4; rs[NR] = $5 }
		END {
			if (NR < 5) { bad("only " NR " remedy/cooldown rows"); exit 1 }
			want_k = "remedy remedy remedy cooldown remedy"; split(want_k, k, " ")
			want_a = "1 2 3 - 1"; split(want_a, a, " ")
			split("1000 2000 4000 3000", gap, " ")
			for (i = 1; i <= 5; i++) {
				if (kind[i] != k[i] || att[i] != a[i])
					bad("row " i ": " kind[i] " attempt " att[i] ", want " k[i] " " a[i])
				if (kind[i] == "remedy" && r[i] != res)
					bad("row " i ": result " r[i] ", want " res)
				if (kind[i] == "remedy" && code != "" && index("," rs[i] ",", "," code ",") == 0)
					bad("row " i ": reasons " rs[i] " lack " code)
				if (i > 1) {
					d = ts[i] - ts[i - 1]
					if (d < gap[i - 1] || d > gap[i - 1] + 4000)
						bad("row " i ": " d " ms after the last, want " gap[i - 1] "-" gap[i - 1] + 4000)
				}
			}
			exit err
		}' "$SCM_DIR/$1.story" > "$SCM_DIR/$1.why"; then
		return 0
	fi
	cat "$SCM_DIR/$1.why" "$SCM_DIR/$1.story" > "$SCM_DIR/$1.fail"
	return 1
}

# scm_register NAME MODE: WireGuardTunnel$NAME running the stand-in in MODE.
# Each service its own copy of the image: wine 8 hands a service to a
# running process of the same image (one process for all), where Windows
# starts one process per SERVICE_WIN32_OWN_PROCESS service.
scm_register() {
	echo "$2" > "$SCM_DIR/$1.mode"
	echo 20 > "$SCM_DIR/$1.hold"
	cp "$SCM_SVC" "$SCM_DIR/bin/tunnelsvc-$1.exe"
	scm_wine sc create "WireGuardTunnel\$$1" \
		binPath= "$(scm_winpath "$SCM_DIR/bin/tunnelsvc-$1.exe") $(scm_winpath "$SCM_DIR")" \
		> "$SCM_DIR/$1.create" 2>&1
}

# scm_wait NAME STATE: up to 10 s for WireGuardTunnel$NAME to be in STATE.
scm_wait() {
	_w=0
	while [ $_w -lt 50 ] && [ "$(scm_state "$1")" != "$2" ]; do
		sleep 0.2
		_w=$((_w + 1))
	done
	[ $_w -lt 50 ]
}

scm_state() {
	scm_wine sc query "WireGuardTunnel\$$1" 2> /dev/null | tr -d '\r' |
		sed -n 's/.*STATE *: *[0-9]* *\([A-Z_]*\).*/\1/p'
}

# scm_run NAME: `wghealth.exe daemon NAME` checking every 300 ms for ~13 s.
# One long process, as on a machine: wine shuts a prefix's services down
# (and kills one in STOP_PENDING) within ~2 s once no ordinary process is
# left, which separate check runs would let happen between two checks.
scm_run() {
	scm_wine "$SCM_EXE" daemon "$1" --json --interval 300ms --state-dir "$SCM_WSTATE" \
		--config "$(scm_winpath "$SCM_DIR/wghealth.conf")" > "$SCM_DIR/$1.checks" 2>&1 &
	_scm_pid=$!
	sleep 13
	stop_pid $_scm_pid
}

# scm_case NAME MODE CODE RESULT TITLE: one case of proof 2.
scm_case() {
	_n=$1
	[ "$2" != missing ] && scm_register "$_n" "$2"
	if [ "$2" = stuck_stop ]; then
		echo 60 > "$SCM_DIR/$_n.hold"
		scm_wine sc start "WireGuardTunnel\$$_n" > /dev/null 2>&1
		scm_wait "$_n" RUNNING
	fi
	scm_run "$_n"
	if ! grep -q '"interface":"'"$_n"'"' "$SCM_DIR/$_n.checks"; then
		fail_log "$5: wghealth.exe check ran" "$SCM_DIR/$_n.checks"
		return
	fi
	if grep -q '"verdict":"unknown"' "$SCM_DIR/$_n.checks"; then
		fail_log "$5: the tunnel could be looked at" "$SCM_DIR/$_n.checks"
		return
	fi
	if [ -n "$3" ] && ! grep -q '"remedy":"restart",[^}]*"error":"'"$3"'"' "$SCM_DIR/$_n.checks"; then
		fail_log "$5: $3 in the check's JSON" "$SCM_DIR/$_n.checks"
	elif scm_sequence "$_n" "$3" "$4"; then
		ok "$5: ${3:-ok} in JSON and history, backoff 1/2/4 s, cooldown 3 s, next round"
	else
		fail_log "$5: the history's remedy sequence" "$SCM_DIR/$_n.fail"
	fi
}

scm_cases() {
	SCM_WINE=${WINE:-/usr/lib/wine/wine64}
	SCM_DIR=$SUITE_TMP/scm
	# wghealth.exe with the stand-in wireguard.dll beside it, as on a real
	# machine (WireGuard for Windows' folder): a missing adapter is then
	# -ENODEV, interface_missing.
	SCM_EXE=$(scm_winpath "$SCM_DIR/bin/wghealth.exe")
	SCM_DLL=${WGKIT_STANDIN_DLL:-${WIN_DLLDIR:-$WIN_BUILD/tests/standin}/wireguard.dll}
	[ -f "$SCM_DLL" ] || [ -n "${WGKIT_STANDIN_DLL:-}" ] ||
		SCM_DLL=$WIN_BUILD/tests/windows/wireguard.dll
	SCM_PREFIX=$SUITE_TMP/scm-wine
	SCM_SVC=$SCM_DIR/tunnelsvc.exe
	mkdir -p "$SCM_DIR/state" "$SCM_DIR/nt" "$SCM_DIR/bin"
	SCM_WSTATE=$(scm_winpath "$SCM_DIR/state")
	if [ ! -x "$SCM_WINE" ]; then
		skip "SCM cases" "no wine64 at $SCM_WINE (make deps)"
		return
	fi
	if [ ! -f "$WIN_BUILD/wghealth.exe" ]; then
		skip "SCM cases" "no $WIN_BUILD/wghealth.exe (make windows)"
		return
	fi
	if [ ! -f "$SCM_DLL" ]; then
		skip "SCM cases" "no stand-in wireguard.dll at $SCM_DLL (make windows): wghealth.exe cannot look at a tunnel without it"
		return
	fi
	cp "$WIN_BUILD/wghealth.exe" "$SCM_DLL" "$SCM_DIR/bin/"
	if ! x86_64-w64-mingw32-gcc -municode -O2 -Wall -Wextra -Werror -o "$SCM_SVC" \
		tests/windows/standin/tunnelsvc.c > "$SCM_DIR/cc" 2>&1; then
		fail_log "the stand-in tunnel service builds" "$SCM_DIR/cc"
		return
	fi
	at_exit env WINEPREFIX="$SCM_PREFIX" /usr/lib/wine/wineserver -k
	cat > "$SCM_DIR/wghealth.conf" <<-EOF
		[defaults]
		retry_interval = 1s
		jitter = 0
		max_retries = 3
		cooldown = 3s
		service_stop_timeout = 1s
		service_start_timeout = 1s
	EOF
	scm_wine wineboot -i > /dev/null 2>&1
	# The new prefix's first session must end (registry saved) before the
	# service manager is used; then one process holds the next session for
	# the whole suite (tunnelsvc.c --session says why), under its own image
	# name (see scm_register).
	WINEPREFIX=$SCM_PREFIX /usr/lib/wine/wineserver -w
	cp "$SCM_SVC" "$SCM_DIR/bin/session.exe"
	scm_wine "$SCM_DIR/bin/session.exe" --session 900 > /dev/null 2>&1 &
	at_exit stop_pid $!
	sleep 1
	# The stand-in itself: started by the service manager, it goes RUNNING.
	scm_register scmprobe normal
	scm_wine sc start 'WireGuardTunnel$scmprobe' > "$SCM_DIR/probe.start" 2>&1
	if scm_wait scmprobe RUNNING && grep -q '^running' "$SCM_DIR/scmprobe.log"; then
		ok "the stand-in tunnel service runs under wine's service manager"
	else
		fail "the stand-in tunnel service runs under wine's service manager" \
			"state: $(scm_state scmprobe)" "$(cat "$SCM_DIR/probe.start" \
				"$SCM_DIR/scmprobe.log" 2> /dev/null)"
	fi
	scm_wine sc stop 'WireGuardTunnel$scmprobe' > /dev/null 2>&1

	scm_case scmmiss missing service_not_found failed "service missing"
	scm_case scmstop normal "" ok "service stopped"
	if grep -q '^running' "$SCM_DIR/scmstop.log" && [ "$(scm_state scmstop)" = RUNNING ]; then
		ok "service stopped: restarted through the SCM, RUNNING afterwards"
	else
		fail "service stopped: restarted through the SCM, RUNNING afterwards" \
			"state: $(scm_state scmstop)" "$(cat "$SCM_DIR/scmstop.log" 2> /dev/null)"
	fi
	scm_case scmhang stuck_stop reconnect_stop_timeout failed "service stuck in STOP_PENDING"
	scm_case scmslow stuck_start reconnect_start_timeout failed "start never RUNNING"
	scm_case scmexit exit reconnect_start_failed failed "service exits while starting"
	if grep -q misuse "$SCM_DIR"/*.log; then
		fail "the stand-in saw no misuse" "$(grep misuse "$SCM_DIR"/*.log)"
	else
		ok "the stand-in saw no misuse"
	fi
	scm_service_mode
}

# wghealth.exe as a service: install (registered with its arguments), run
# by the service manager (checks land in the history), stop, uninstall.
scm_service_mode() {
	scm_register scmsvc normal
	scm_wine "$SCM_EXE" service install --state-dir "$SCM_WSTATE" --interval 500ms \
		--config "$(scm_winpath "$SCM_DIR/wghealth.conf")" scmsvc > "$SCM_DIR/inst" 2>&1
	scm_wine reg query 'HKLM\System\CurrentControlSet\Services\wghealth' > "$SCM_DIR/reg" 2>&1
	if grep -q 'ImagePath.*wghealth.exe" service run --state-dir .* scmsvc' "$SCM_DIR/reg" &&
		grep -q 'Start.*0x2' "$SCM_DIR/reg"; then
		ok "service install: registered, auto-start, with its arguments"
	else
		cat "$SCM_DIR/inst" >> "$SCM_DIR/reg"
		fail_log "service install: registered, auto-start, with its arguments" "$SCM_DIR/reg"
	fi
	scm_wine sc start wghealth > /dev/null 2>&1
	sleep 4
	scm_story scmsvc > "$SCM_DIR/svc.story"
	if grep -q ' remedy 1 ok' "$SCM_DIR/svc.story" && [ "$(scm_state scmsvc)" = RUNNING ]; then
		ok "the wghealth service checks and restarts the tunnel service"
	else
		cat "$SCM_DIR/svc.story" "$SCM_DIR/scmsvc.hist" > "$SCM_DIR/svc.fail"
		fail_log "the wghealth service checks and restarts the tunnel service" "$SCM_DIR/svc.fail"
	fi
	scm_wine sc stop wghealth > /dev/null 2>&1
	_i=0
	while [ $_i -lt 50 ] && [ "$(scm_wine sc query wghealth 2> /dev/null | tr -d '\r' |
		sed -n 's/.*STATE *: *[0-9]* *\([A-Z_]*\).*/\1/p')" != STOPPED ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
	if [ $_i -lt 50 ]; then
		ok "the wghealth service stops on the stop control ($((_i * 100)) ms)"
	else
		fail "the wghealth service stops on the stop control" "still running after 5 s"
	fi
	scm_wine "$SCM_EXE" service uninstall > "$SCM_DIR/uninst" 2>&1
	if ! scm_wine reg query 'HKLM\System\CurrentControlSet\Services\wghealth' > /dev/null 2>&1; then
		ok "service uninstall: removed"
	else
		fail_log "service uninstall: removed" "$SCM_DIR/uninst"
	fi
	scm_wine "$SCM_EXE" service uninstall > /dev/null 2>&1
	_rc=$?
	if [ $_rc -eq 3 ]; then ok "service uninstall again: not found (exit 3)"
	else fail "service uninstall again: not found (exit 3)" "exit $_rc"; fi
}

if [ -z "${SUITE_TMP:-}" ]; then
	WIN_BUILD=${1:-build-win}
	cd "$(dirname "$0")/../.." || exit 1
	. tests/lib.sh
	suite_init windows-scm
	scm_cases
	finish
fi
