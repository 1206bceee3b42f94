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
# Link state in show --json (MTU, up, addresses), read in the namespace the
# link lives in; null where it is not visible (the TUN is in another one).
KP1=UapiShowPeer000000000000000000000000000001A=
KP2=UapiShowPeer000000000000000000000000000002A=
wg set "$IFA" listen-port 52981 peer "$KP1" allowed-ips 10.81.0.0/24 endpoint 192.0.2.81:5181 \
	peer "$KP2" allowed-ips 10.82.0.0/24,fd82::/64 persistent-keepalive 25
ip -n "$NSA" link set "$IFA" mtu 1370
rc=0
ip netns exec "$NSA" "$WGCTL" show "$IFA" --json >"$TMP/sh-out" 2>"$TMP/sh-err" || rc=$?
if [ $rc = 0 ] && python3 - "$TMP/sh-out" "$TA" "$TA6" <<'PYEOF2' 2>"$TMP/sh-cmp"
import json, sys
d = json.load(open(sys.argv[1]))
l = d["link"]
assert l["mtu"] == 1370 and l["up"] is True, l
assert sys.argv[2] + "/24" in l["addresses"] and sys.argv[3] + "/64" in l["addresses"], l
PYEOF2
then
	ok "wgctl show IF --json: link object with MTU, up and the addresses (as ip shows them)"
else
	bad "wgctl show IF --json link: exit $rc: $(cat "$TMP/sh-err" "$TMP/sh-cmp" | tail -n 3)"
fi
ip -n "$NSA" link set "$IFA" down
rc=0
ip netns exec "$NSA" "$WGCTL" show all --json >"$TMP/sh-out" 2>"$TMP/sh-err" || rc=$?
if [ $rc = 0 ] && python3 -c 'import json,sys; d=[x for x in json.load(open(sys.argv[1])) if x["name"]==sys.argv[2]][0]; assert d["link"]["up"] is False, d["link"]' "$TMP/sh-out" "$IFA" 2>"$TMP/sh-cmp"; then
	ok "wgctl show all --json: a link set down says up: false"
else
	bad "wgctl show all --json link down: exit $rc: $(cat "$TMP/sh-err" "$TMP/sh-cmp" | tail -n 3)"
fi
ip -n "$NSA" link set "$IFA" up
rc=0
"$WGCTL" show "$IFA" --json >"$TMP/sh-out" 2>"$TMP/sh-err" || rc=$?
if [ $rc = 0 ] && python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["link"] is None, d["link"]' "$TMP/sh-out" 2>"$TMP/sh-cmp"; then
	ok "wgctl show IF --json from another namespace: link is null"
else
	bad "wgctl show IF --json link from the host: exit $rc: $(cat "$TMP/sh-err" "$TMP/sh-cmp" | tail -n 3)"
fi
# peer list / peer show against wg.
rc=0
"$WGCTL" peer list "$IFA" >"$TMP/sh-out" 2>"$TMP/sh-err" || rc=$?
if [ $rc = 0 ] && [ "$(sort "$TMP/sh-out")" = "$(wg show "$IFA" peers | sort)" ]; then
	ok "wgctl peer list: the same keys as wg show IF peers"
else
	bad "wgctl peer list: exit $rc: $(cat "$TMP/sh-out" "$TMP/sh-err")"
fi
rc=0
"$WGCTL" peer list "$IFA" --json >"$TMP/sh-out" 2>"$TMP/sh-err" || rc=$?
if [ $rc = 0 ] && python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert sorted(p["public_key"] for p in d) == sorted(sys.argv[2:]), d' "$TMP/sh-out" "$KP1" "$KP2" 2>"$TMP/sh-cmp"; then
	ok "wgctl peer list --json: an array of peer objects"
else
	bad "wgctl peer list --json: exit $rc: $(cat "$TMP/sh-err" "$TMP/sh-cmp" | tail -n 3)"
fi
rc=0
"$WGCTL" peer show "$IFA" "$KP2" --json >"$TMP/sh-out" 2>"$TMP/sh-err" || rc=$?
if [ $rc = 0 ] && python3 -c 'import json,sys; p=json.load(open(sys.argv[1])); assert p["public_key"] == sys.argv[2] and sorted(p["allowed_ips"]) == ["10.82.0.0/24", "fd82::/64"] and p["persistent_keepalive"] == 25, p' "$TMP/sh-out" "$KP2" 2>"$TMP/sh-cmp"; then
	ok "wgctl peer show --json: the peer object"
else
	bad "wgctl peer show --json: exit $rc: $(cat "$TMP/sh-err" "$TMP/sh-cmp" | tail -n 3)"
fi
rc=0
"$WGCTL" peer show "$IFA" "$KP1" >"$TMP/sh-out" 2>"$TMP/sh-err" || rc=$?
if [ $rc = 0 ] && grep -qx "endpoint: 192.0.2.81:5181" "$TMP/sh-out" && grep -qx "allowed ips: 10.81.0.0/24" "$TMP/sh-out"; then
	ok "wgctl peer show: text"
else
	bad "wgctl peer show: exit $rc: $(cat "$TMP/sh-out" "$TMP/sh-err")"
fi
rc=0
"$WGCTL" peer show "$IFA" UapiShowPeer000000000000000000000000000009A= >"$TMP/sh-out" 2>"$TMP/sh-err" || rc=$?
[ $rc = 3 ] && [ ! -s "$TMP/sh-out" ] && ok "wgctl peer show of an absent peer: exit 3, nothing on stdout" ||
	bad "wgctl peer show absent: exit $rc: $(cat "$TMP/sh-err")"

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
