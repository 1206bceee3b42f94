# Part 5 of tests/uapi/run.sh (sourced): the sync record is distrusted.
# A corrupted .sec table (an entry pointing into another section,
# overlapping, out of range, lengths whose sum overflows) sends sync down
# the full path and leaves the device equal to the file; a state directory
# someone else can write is refused. Uses run.sh's helpers and variables.

echo "=== uapi part 5: wgctl sync distrusts its state directory"
destroy_instances
if ! start_instances >"$TMP/setup" 2>&1; then
	bad "part 5 set-up (namespaces, veth, wireguard-go)"; cat "$TMP/setup"
	return
fi
RS_STATE="$TMP/rs-state"
RS() { "$WGCTL" sync --state-dir "$RS_STATE" "$@"; }
genkey "$TMP/rs.key"
# rs_conf FILE SKIP: six peers, peer SKIP (1-6, 0 none) left out.
rs_conf() {
	{
		printf '[Interface]\nPrivateKey = %s\nListenPort = 52941\n' "$(cat "$TMP/rs.key")"
		for i in 1 2 3 4 5 6; do
			[ "$i" = "$2" ] && continue
			printf '\n[Peer]\nPublicKey = UapiRecordPeer%028dA=\nAllowedIPs = 10.241.%d.0/24\n' "$i" "$i"
		done
	} >"$1"
}
rs_conf "$TMP/rs0.conf" 0
chmod 600 "$TMP/rs0.conf"
rs_conf "$TMP/rs1.conf" 3
chmod 600 "$TMP/rs1.conf"
rs_path() { sed -n 's/.*sync: stats: .* path=\([a-z]*\).*/\1/p' "$TMP/rs-err"; }
rs_equal() { wg showconf "$IFA" >"$TMP/rs-run.conf" && python3 "$HERE/compare.py" conf "$1" "$TMP/rs-run.conf"; }
# rs_corrupt HOW: rewrite $RS_STATE/IF.sec (head: magic, text hash, [Interface]
# hash, count = 48 bytes; entries: hash (16), offset, length).
rs_corrupt() {
	python3 - "$RS_STATE/$IFA.sec" "$1" <<'PYEOF'
import struct, sys
path, how = sys.argv[1:3]
b = bytearray(open(path, "rb").read())
n = struct.unpack_from("=Q", b, 40)[0]
ent = [list(struct.unpack_from("=QQQQ", b, 48 + 32 * i)) for i in range(n)]
M = (1 << 64) - 1
if how == "none":
	pass
elif how == "other-section":   # the third peer's entry names the fourth's bytes
	ent[2][2], ent[2][3] = ent[3][2], ent[3][3]
elif how == "overlap":       # the third starts inside the second
	ent[2][2] -= 8
	ent[2][3] += 8
elif how == "out-of-range":
	ent[2][2] = 1 << 40
elif how == "overflow":      # lengths whose sum wraps around
	ent[2][3] = M - 7
	ent[4][3] = 16
elif how == "count":         # more entries said than there are
	struct.pack_into("=Q", b, 40, n + (1 << 60))
for i, e in enumerate(ent):
	struct.pack_into("=QQQQ", b, 48 + 32 * i, *e)
open(path, "wb").write(b)
PYEOF
}
for how in none other-section overlap out-of-range overflow count; do
	want=full
	[ $how = none ] && want=incremental
	# A fresh history: the full path, then the fast one writes nothing new.
	rm -rf "$RS_STATE"
	wg setconf "$IFA" /dev/null
	RS "$IFA" "$TMP/rs0.conf" >/dev/null 2>"$TMP/rs-err"
	rc=0
	RS --detailed-exitcode --stats "$IFA" "$TMP/rs0.conf" >/dev/null 2>"$TMP/rs-err" || rc=$?
	if [ $rc != 0 ] || [ "$(rs_path)" != fast ] || [ ! -s "$RS_STATE/$IFA.sec" ]; then
		bad "wgctl sync: .sec $how: set-up (exit $rc, path '$(rs_path)'): $(cat "$TMP/rs-err")"
		continue
	fi
	rs_corrupt $how
	# The third peer leaves the file: its section is the one read back.
	rc=0
	RS --detailed-exitcode --stats "$IFA" "$TMP/rs1.conf" >"$TMP/rs-out" 2>"$TMP/rs-err" || rc=$?
	if [ $rc = 2 ] && [ "$(rs_path)" = $want ] && rs_equal "$TMP/rs1.conf" >"$TMP/rs-cmp" 2>&1; then
		ok "wgctl sync: corrupted .sec ($how): path $want, device equals the file"
	else
		bad "wgctl sync: corrupted .sec ($how): exit $rc, path '$(rs_path)': $(cat "$TMP/rs-out" "$TMP/rs-err" "$TMP/rs-cmp" | head -n 6)"
	fi
	# And what was recorded then is right: the same file again changes nothing.
	rc=0
	RS --detailed-exitcode --stats "$IFA" "$TMP/rs1.conf" >"$TMP/rs-out" 2>"$TMP/rs-err" || rc=$?
	if [ $rc = 0 ] && rs_equal "$TMP/rs1.conf" >/dev/null 2>&1; then
		ok "wgctl sync: after the corrupted .sec ($how): the same file again, exit 0"
	else
		bad "wgctl sync: after the corrupted .sec ($how): exit $rc: $(cat "$TMP/rs-out" "$TMP/rs-err" | head -n 4)"
	fi
done

# A state directory another user could write: refused before anything is
# read or applied (--state-dir and $WGCTL_STATE_DIR alike).
wg setconf "$IFA" /dev/null
mkdir -p "$TMP/rs-g" "$TMP/rs-o"
chmod 0775 "$TMP/rs-g"
chown nobody "$TMP/rs-o" && chmod 0700 "$TMP/rs-o"
for d in rs-g rs-o; do
	for via in option env; do
		rc=0
		if [ $via = option ]; then
			"$WGCTL" sync --state-dir "$TMP/$d" "$IFA" "$TMP/rs0.conf" >"$TMP/rs-out" 2>"$TMP/rs-err" || rc=$?
		else
			WGCTL_STATE_DIR="$TMP/$d" "$WGCTL" sync "$IFA" "$TMP/rs0.conf" >"$TMP/rs-out" 2>"$TMP/rs-err" || rc=$?
		fi
		case $d in rs-g) why="writable by group or others" ;; *) why="owned by uid" ;; esac
		if [ $rc = 2 ] && grep -q "refusing the state directory.*$why" "$TMP/rs-err" &&
			[ -z "$(wg show "$IFA" peers)" ] && [ -z "$(ls -A "$TMP/$d")" ]; then
			ok "wgctl sync: state directory $why ($via): refused, exit 2, nothing changed"
		else
			bad "wgctl sync: state directory $d ($via): exit $rc, peers $(wg show "$IFA" peers | wc -l): $(cat "$TMP/rs-err")"
		fi
	done
done
destroy_instances
