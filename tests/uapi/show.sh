# Part 9 of tests/uapi/run.sh (sourced): wgctl show on errors and stale
# sockets. Not allowed to read: nothing on stdout (so `| jq length` cannot
# take a failure for "no interfaces"), exit 4. A wireguard-go killed with
# SIGKILL leaves its socket: `show interfaces` leaves it out, as `wg` does.
# Uses run.sh's helpers and variables.

echo "=== uapi part 9: wgctl show: permission errors, dead sockets"
destroy_instances
if ! start_instances >"$TMP/setup" 2>&1; then
	bad "part 9 set-up (namespaces, veth, wireguard-go)"; cat "$TMP/setup"
	return
fi
if command -v setpriv >/dev/null 2>&1; then
	NB() { setpriv --reuid=65534 --regid=65534 --clear-groups -- "$WGCTL" "$@"; }
	for args in "show --json" "show all --json" "show $IFA --json" "show" "show $IFA"; do
		rc=0
		# shellcheck disable=SC2086
		NB $args >"$TMP/sh-out" 2>"$TMP/sh-err" || rc=$?
		if [ $rc = 4 ] && [ ! -s "$TMP/sh-out" ] && [ "$(wc -l <"$TMP/sh-err")" = 1 ]; then
			ok "wgctl $args as nobody: exit 4, nothing on stdout ($(cat "$TMP/sh-err"))"
		else
			bad "wgctl $args as nobody: exit $rc, stdout '$(head -c 100 "$TMP/sh-out")': $(cat "$TMP/sh-err")"
		fi
	done
	# The socket directory readable (the listing works), the sockets not:
	# the devices cannot be read. (Its mode is put back at once; the suite
	# runs under the global test lock.)
	mode=$(stat -c %a "$SOCKDIR")
	chmod 0755 "$SOCKDIR"
	rc=0
	NB show --json >"$TMP/sh-out" 2>"$TMP/sh-err" || rc=$?
	chmod "$mode" "$SOCKDIR"
	if [ $rc = 4 ] && [ ! -s "$TMP/sh-out" ] && [ "$(wc -l <"$TMP/sh-err")" = 1 ]; then
		ok "wgctl show --json as nobody, listing allowed, reading not: exit 4, nothing on stdout"
	else
		bad "wgctl show --json as nobody, listing allowed: exit $rc, stdout '$(head -c 100 "$TMP/sh-out")': $(cat "$TMP/sh-err")"
	fi
else
	skipped "wgctl show as nobody: no setpriv: SKIPPED"
fi
# Kill B's wireguard-go hard: its socket stays.
pb=$(pgrep -f "wireguard-go -f $IFB\$" | head -n 1)
if [ -n "$pb" ] && kill -9 "$pb" 2>/dev/null; then
	i=0
	while kill -0 "$pb" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	if [ -S "$SOCKDIR/$IFB.sock" ]; then
		"$WGCTL" show interfaces >"$TMP/sh-out" 2>"$TMP/sh-err"
		if tr ' ' '\n' <"$TMP/sh-out" | grep -qx "$IFA" && ! tr ' ' '\n' <"$TMP/sh-out" | grep -qx "$IFB" &&
			! wg show interfaces | tr ' ' '\n' | grep -qx "$IFB"; then
			ok "wgctl show interfaces: the dead wireguard-go's socket is left out (as wg does)"
		else
			bad "wgctl show interfaces with a dead socket: '$(cat "$TMP/sh-out")', wg: '$(wg show interfaces)'"
		fi
		rc=0
		"$WGCTL" show all --json >"$TMP/sh-out" 2>"$TMP/sh-err" || rc=$?
		if [ $rc = 0 ] && python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); n=[x["name"] for x in d]; assert sys.argv[2] in n and sys.argv[3] not in n, n' \
			"$TMP/sh-out" "$IFA" "$IFB" 2>"$TMP/sh-cmp"; then
			ok "wgctl show all --json: exit 0, the dead socket left out"
		else
			bad "wgctl show all --json with a dead socket: exit $rc: $(cat "$TMP/sh-err" "$TMP/sh-cmp")"
		fi
	else
		skipped "wgctl show interfaces: the killed wireguard-go left no socket: SKIPPED"
	fi
else
	bad "part 9: cannot find or kill B's wireguard-go"
fi
destroy_instances
