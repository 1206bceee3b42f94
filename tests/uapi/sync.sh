# Part 3 of tests/uapi/run.sh (sourced): `wgctl sync` against wireguard-go
# through the UAPI backend. Random desired states applied in sequence must
# end equal to the file (read back with `wg showconf`); a second sync of the
# same file sends no set transaction and exits 0 under --detailed-exitcode;
# an endpoint the peer roamed to survives a sync of an unchanged file.
# Uses run.sh's helpers and variables.

SY() { "$WGCTL" sync --state-dir "$TMP/sync-state" "$@"; }
SY_POOL=200
SY_STATES=5

# sy_conf FILE SEED: a random desired state (tests/gen_config.sh, shared with
# tests/kernel/guest/test_sync.sh).
. tests/gen_config.sh
sy_conf() {
	gen_config "$2" $SY_POOL UapiSyncPeer 52900 "$(cat "$TMP/sy1.key")" "$(cat "$TMP/sy2.key")" \
		"$(cat "$TMP/sypsk")" "$(cat "$TMP/sypsk2")" >"$1"
}

sy_equal() { # FILE: wireguard-go holds exactly FILE
	wg showconf "$IFA" >"$TMP/sy-run.conf" && python3 "$HERE/compare.py" conf "$1" "$TMP/sy-run.conf"
}

sy_stat() { sed -n "s/.*sync: stats: .*$1=\([0-9]*\).*/\1/p" "$TMP/sy-err"; }

echo "=== uapi part 3: wgctl sync against wireguard-go"
destroy_instances
if ! start_instances >"$TMP/setup" 2>&1; then
	bad "part 3 set-up (namespaces, veth, wireguard-go)"; cat "$TMP/setup"
	return
fi
genkey "$TMP/sy1.key"; genkey "$TMP/sy2.key"; (umask 077 && wg genpsk >"$TMP/sypsk" && wg genpsk >"$TMP/sypsk2")

i=1
while [ $i -le $SY_STATES ]; do
	sy_conf "$TMP/sy$i.conf" $((i * 7919))
	n=$(grep -c '^\[Peer\]' "$TMP/sy$i.conf")
	rc=0
	SY --detailed-exitcode "$IFA" "$TMP/sy$i.conf" >"$TMP/sy-out" 2>"$TMP/sy-err" || rc=$?
	if [ $rc = 2 ]; then ok "wgctl sync: random state $i ($n peers) applied, exit 2 (changed)"
	else bad "wgctl sync: random state $i: exit $rc, want 2: $(head -n 2 "$TMP/sy-err")"; fi
	check "wgctl sync: random state $i equals wg showconf" sy_equal "$TMP/sy$i.conf"
	rc=0
	SY --detailed-exitcode --stats "$IFA" "$TMP/sy$i.conf" >"$TMP/sy-out" 2>"$TMP/sy-err" || rc=$?
	if [ $rc = 0 ] && [ "$(sy_stat set_msgs)" = 0 ]; then
		ok "wgctl sync: state $i again: exit 0, 0 set transactions"
	else
		bad "wgctl sync: state $i again: exit $rc, set_msgs '$(sy_stat set_msgs)': $(cat "$TMP/sy-err")"
	fi
	i=$((i + 1))
done

# Roaming: the endpoint the peer moved to survives a sync of the same file.
P=UapiSyncPeer000000000000000000000000000003A=
printf '[Interface]\nPrivateKey = %s\nListenPort = 52900\n\n[Peer]\nPublicKey = %s\nAllowedIPs = 10.9.0.3/32\nEndpoint = 192.0.2.9:51820\n' \
	"$(cat "$TMP/sy1.key")" "$P" >"$TMP/syr.conf"
check "wgctl sync: one peer with an endpoint" SY "$IFA" "$TMP/syr.conf"
wg set "$IFA" peer "$P" endpoint 198.51.100.7:40000
rc=0
SY --detailed-exitcode --stats "$IFA" "$TMP/syr.conf" >"$TMP/sy-out" 2>"$TMP/sy-err" || rc=$?
ep=$(wg show "$IFA" endpoints | cut -f2)
if [ $rc = 0 ] && [ "$ep" = 198.51.100.7:40000 ] && [ "$(sy_stat set_msgs)" = 0 ]; then
	ok "wgctl sync: roamed endpoint survives a sync of the unchanged file"
else
	bad "wgctl sync: after roaming: exit $rc, endpoint $ep, set_msgs '$(sy_stat set_msgs)'"
fi
sed 's/192.0.2.9:51820/192.0.2.10:51820/' "$TMP/syr.conf" >"$TMP/syr2.conf"
rc=0
SY --detailed-exitcode "$IFA" "$TMP/syr2.conf" >"$TMP/sy-out" 2>"$TMP/sy-err" || rc=$?
ep=$(wg show "$IFA" endpoints | cut -f2)
if [ $rc = 2 ] && [ "$ep" = 192.0.2.10:51820 ]; then
	ok "wgctl sync: a changed Endpoint line is applied"
else
	bad "wgctl sync: changed Endpoint line: exit $rc, endpoint $ep"
fi
# The incremental path: an edited file with the same [Interface] is
# planned from the [Peer] sections that differ from the record (version 2:
# the last file, keys hashed), after a digest of the dump proves the device
# still holds the last file. `--stats` names the path taken.
echo "=== uapi part 3b: wgctl sync, only the changed [Peer] sections"
sy_path() { sed -n 's/.*sync: stats: .* path=\([a-z]*\).*/\1/p' "$TMP/sy-err"; }
# sy_edit IN OUT PY: OUT = IN with the [Peer] sections (list "peers", each
# a list of lines) changed by the python statements PY.
sy_edit() {
	python3 - "$1" "$2" "$3" <<'PYEOF'
import sys
src, dst, code = sys.argv[1:4]
text = open(src).read()
head, *rest = text.split("\n[Peer]\n")
peers = [("[Peer]\n" + r).rstrip("\n").split("\n") for r in rest]
exec(code)
open(dst, "w").write(head.rstrip("\n") + "\n" + "".join("\n" + "\n".join(p) + "\n" for p in peers))
PYEOF
}
# sy_step NAME FILE WANT_RC WANT_PATH: sync FILE, check the exit code, the
# path, and that the device equals FILE.
sy_step() {
	local rc=0
	: >"$TMP/sy-cmp"
	SY --detailed-exitcode --stats "$IFA" "$2" >"$TMP/sy-out" 2>"$TMP/sy-err" || rc=$?
	if [ $rc = "$3" ] && [ "$(sy_path)" = "$4" ] && sy_equal "$2" >"$TMP/sy-cmp" 2>&1; then
		ok "wgctl sync: $1: exit $rc, path $4, device equals the file"
	else
		bad "wgctl sync: $1: exit $rc (want $3), path '$(sy_path)' (want $4): $(cat "$TMP/sy-err" "$TMP/sy-cmp")"
	fi
}
(umask 077 && wg genpsk >"$TMP/sypsk2")
sy_conf "$TMP/syi0.conf" 4242
# A port no earlier state used: the first sync below takes the full path.
sed -i 's/^ListenPort = .*/ListenPort = 52920/' "$TMP/syi0.conf"
sy_step "incremental base (new record)" "$TMP/syi0.conf" 2 full
rec="$TMP/sync-state/$IFA.conf"
if head -n 1 "$rec" | grep -q '^# wgctl sync record 2 text=' &&
	! grep -qF -e "$(cat "$TMP/sy1.key")" -e "$(cat "$TMP/sy2.key")" -e "$(cat "$TMP/sypsk")" "$rec" &&
	[ "$(stat -c %a "$rec")" = 600 ]; then
	ok "wgctl sync: the record (version 2) holds no private or preshared key, mode 0600"
else
	bad "wgctl sync: record: $(head -n 1 "$rec"), mode $(stat -c %a "$rec")"
fi
# Add, remove, change allowed IPs, keepalive and a preshared key.
sy_edit "$TMP/syi0.conf" "$TMP/syi1.conf" "
del peers[3]
peers[0] = [l for l in peers[0] if not l.startswith('AllowedIPs')] + ['AllowedIPs = 10.77.0.1/32, fd77::1/128']
peers[1].append('PersistentKeepalive = 25')
peers[2] = [l for l in peers[2] if not l.startswith('PresharedKey')] + ['PresharedKey = $(cat "$TMP/sypsk2")']
peers.append(['[Peer]', 'PublicKey = UapiSyncPeer000000000000000000000000000901A=', 'AllowedIPs = 10.77.1.1/32', 'PresharedKey = $(cat "$TMP/sypsk")'])
peers.insert(5, ['[Peer]', 'PublicKey = UapiSyncPeer000000000000000000000000000902A=', 'Endpoint = 192.0.2.77:1000'])
"
sy_step "add, remove and change peers" "$TMP/syi1.conf" 2 incremental
n_upd=$(sed -n 's/.* \([0-9]*\) updated.*/\1/p' "$TMP/sy-out")
[ "$n_upd" = 3 ] && ok "wgctl sync: incremental: 3 peers updated ($(cat "$TMP/sy-out"))" ||
	bad "wgctl sync: incremental summary: $(cat "$TMP/sy-out")"
sy_step "same file again" "$TMP/syi1.conf" 0 fast
# Comments and blank lines only: the same canonical text, the fast path.
{ printf '# managed by a test\n\n'; sed 's/^\(PublicKey = .*\)$/  \1   # the key/' "$TMP/syi1.conf"; } >"$TMP/syi1c.conf"
rc=0
SY --detailed-exitcode --stats "$IFA" "$TMP/syi1c.conf" >"$TMP/sy-out" 2>"$TMP/sy-err" || rc=$?
if [ $rc = 0 ] && [ "$(sy_stat set_msgs)" = 0 ] && [ "$(sy_path)" = fast ]; then
	ok "wgctl sync: comments, blank lines and indentation only: exit 0, 0 set transactions, fast path"
else
	bad "wgctl sync: comments only: exit $rc: $(cat "$TMP/sy-err")"
fi
# Spacing around '=' and key case: other canonical text, still no change.
sed -e 's/^AllowedIPs = /allowedips=  /' -e 's/^\[Peer\]$/[Peer]   # a comment/' "$TMP/syi1.conf" >"$TMP/syi2.conf"
printf '# trailing comment\n\n' >>"$TMP/syi2.conf"
rc=0
SY --detailed-exitcode --stats "$IFA" "$TMP/syi2.conf" >"$TMP/sy-out" 2>"$TMP/sy-err" || rc=$?
if [ $rc = 0 ] && [ "$(sy_stat set_msgs)" = 0 ] && [ "$(sy_path)" = incremental ]; then
	ok "wgctl sync: key case and spacing only: exit 0, 0 set transactions, incremental"
else
	bad "wgctl sync: comments only: exit $rc: $(cat "$TMP/sy-err")"
fi
# A roamed endpoint survives when its section changes but not its Endpoint line.
P=UapiSyncPeer000000000000000000000000000902A=
wg set "$IFA" peer "$P" endpoint 198.51.100.8:4000
sy_edit "$TMP/syi1.conf" "$TMP/syi3.conf" "
for p in peers:
    if 'PublicKey = $P' in p: p.append('AllowedIPs = 10.77.2.0/24')
"
rc=0
SY --detailed-exitcode --stats "$IFA" "$TMP/syi3.conf" >"$TMP/sy-out" 2>"$TMP/sy-err" || rc=$?
ep=$(wg show "$IFA" endpoints | grep "^$P" | cut -f2)
if [ $rc = 2 ] && [ "$(sy_path)" = incremental ] && [ "$ep" = 198.51.100.8:4000 ]; then
	ok "wgctl sync: incremental: a roamed endpoint survives a change to its peer's section"
else
	bad "wgctl sync: incremental roaming: exit $rc, path '$(sy_path)', endpoint '$ep'"
fi
# Roamed back, so that the device equals the files below.
wg set "$IFA" peer "$P" endpoint 192.0.2.77:1000
# Changed behind our back: the digest differs, the full path repairs it.
wg set "$IFA" peer UapiSyncPeer000000000000000000000000000901A= remove
sy_edit "$TMP/syi3.conf" "$TMP/syi4.conf" "peers[0].append('PersistentKeepalive = 7')"
sy_step "device changed by someone else" "$TMP/syi4.conf" 2 full
# A new section repeating a key of an unchanged one: refused like the full
# parser refuses it (file and line), nothing changes.
sy_edit "$TMP/syi4.conf" "$TMP/syi5.conf" "peers.append([l for l in peers[6] if l.startswith(('[', 'PublicKey'))] + ['AllowedIPs = 10.77.3.3/32'])"
rc=0
SY --stats "$IFA" "$TMP/syi5.conf" >"$TMP/sy-out" 2>"$TMP/sy-err" || rc=$?
if [ $rc = 2 ] && grep -q "syi5.conf:[0-9]*:.*[Dd]uplicate" "$TMP/sy-err" && sy_equal "$TMP/syi4.conf" >/dev/null 2>&1; then
	ok "wgctl sync: a duplicate peer in a new section: exit 2, error names the line, nothing changed"
else
	bad "wgctl sync: duplicate in new section: exit $rc: $(cat "$TMP/sy-err")"
fi
sy_step "back to the last good file" "$TMP/syi4.conf" 0 fast
left=$(ls "$TMP/sync-state" | grep -E '\.[A-Za-z0-9]{6}$' || true)
[ -z "$left" ] && ok "wgctl sync: no temporary file left in the state directory" ||
	bad "wgctl sync: temporary files left: $left"
# [Interface] changed: the full path.
sed 's/^ListenPort = .*/ListenPort = 52911/' "$TMP/syi4.conf" >"$TMP/syi6.conf"
sy_step "ListenPort changed" "$TMP/syi6.conf" 2 full
destroy_instances
