# Part 7 of tests/uapi/run.sh (sourced): an allowed IP listed under two
# [Peer] sections. `wg setconf` leaves it with the later section (each
# insert moves it); `wgctl sync` and `syncconf` must leave the device exactly
# so, every time (not flip it between the peers), and warn naming both
# file:lines. Uses run.sh's helpers and variables.

echo "=== uapi part 7: an allowed IP under two [Peer] sections"
destroy_instances
if ! start_instances >"$TMP/setup" 2>&1; then
	bad "part 7 set-up (namespaces, veth, wireguard-go)"; cat "$TMP/setup"
	return
fi
DP_STATE="$TMP/dp-state"
DP() { "$WGCTL" sync --state-dir "$DP_STATE" "$@"; }
genkey "$TMP/dp.key"
K1=UapiDupPeer0000000000000000000000000000001A=
K2=UapiDupPeer0000000000000000000000000000002A=
K3=UapiDupPeer0000000000000000000000000000003A=
# Line numbers matter: 10.61.0.0/24 on lines 6 and 10, 10.61.2.0/24 (as
# 10.61.2.7/24, the same after masking) on lines 6 and 14.
cat >"$TMP/dp.conf" <<EOF
[Interface]
PrivateKey = $(cat "$TMP/dp.key")
ListenPort = 52961
[Peer]
PublicKey = $K1
AllowedIPs = 10.61.0.0/24, 10.61.1.1/32, 10.61.2.7/24

[Peer]
PublicKey = $K2
AllowedIPs = 10.61.3.0/24, 10.61.0.0/24

[Peer]
PublicKey = $K3
AllowedIPs = 10.61.2.0/24
EOF
chmod 600 "$TMP/dp.conf"
wg setconf "$IFA" "$TMP/dp.conf" 2>/dev/null
wg showconf "$IFA" >"$TMP/dp-ref.conf"
dp_is_ref() { wg showconf "$IFA" >"$TMP/dp-run.conf" && python3 "$HERE/compare.py" conf "$TMP/dp-ref.conf" "$TMP/dp-run.conf"; }

# From setconf's own result, and from an empty device; three times each.
for start in setconf empty; do
	if [ $start = empty ]; then wg setconf "$IFA" /dev/null; fi
	rm -rf "$DP_STATE"
	n=1 good=0 detail=""
	while [ $n -le 3 ]; do
		rc=0
		DP "$IFA" "$TMP/dp.conf" >"$TMP/dp-out" 2>"$TMP/dp-err" || rc=$?
		if [ $rc = 0 ] && dp_is_ref >"$TMP/dp-cmp" 2>&1; then
			good=$((good + 1))
		else
			detail="$detail run $n: exit $rc: $(cat "$TMP/dp-out" "$TMP/dp-cmp" | head -n 4);"
		fi
		n=$((n + 1))
	done
	if [ $good = 3 ]; then
		ok "wgctl sync: allowed IP in two sections, from $start: 3 syncs, each equal to wg setconf of the file"
	else
		bad "wgctl sync: allowed IP in two sections, from $start:$detail"
	fi
done
if grep -q "dp.conf:6 and .*dp.conf:10: allowed IP 10.61.0.0/24" "$TMP/dp-err" &&
	grep -q "dp.conf:6 and .*dp.conf:14: allowed IP 10.61.2.0/24" "$TMP/dp-err"; then
	ok "wgctl sync: the warning names both file:lines ($(head -n 1 "$TMP/dp-err"))"
else
	bad "wgctl sync: warning: $(cat "$TMP/dp-err")"
fi
rc=0
DP --detailed-exitcode "$IFA" "$TMP/dp.conf" >"$TMP/dp-out" 2>"$TMP/dp-err" || rc=$?
[ $rc = 0 ] && dp_is_ref >/dev/null 2>&1 && ok "wgctl sync: --detailed-exitcode again: 0 (stable)" ||
	bad "wgctl sync: again: exit $rc: $(cat "$TMP/dp-out")"
for start in setconf empty; do
	if [ $start = empty ]; then wg setconf "$IFA" /dev/null; else wg setconf "$IFA" "$TMP/dp.conf" 2>/dev/null; fi
	rc=0
	"$WGCTL" syncconf "$IFA" "$TMP/dp.conf" >"$TMP/dp-out" 2>"$TMP/dp-err" || rc=$?
	if [ $rc = 0 ] && dp_is_ref >"$TMP/dp-cmp" 2>&1 && grep -q "dp.conf:6 and .*dp.conf:10" "$TMP/dp-err"; then
		ok "wgctl syncconf: allowed IP in two sections, from $start: equal to wg setconf, warned"
	else
		bad "wgctl syncconf: from $start: exit $rc: $(cat "$TMP/dp-err" "$TMP/dp-cmp" | head -n 4)"
	fi
done

# The incremental path: a changed section that takes an allowed IP an
# unchanged one holds (before it and after it in the file).
awk 'BEGIN {
	printf "[Interface]\nListenPort = 52962\n"
	for (i = 1; i <= 8; i++)
		printf "\n[Peer]\nPublicKey = UapiDupPeer%031dA=\nAllowedIPs = 10.62.%d.0/24\n", 10 + i, i
}' >"$TMP/dpi0.conf"
for where in later earlier; do
	wg setconf "$IFA" /dev/null
	rm -rf "$DP_STATE"
	DP "$IFA" "$TMP/dpi0.conf" >/dev/null 2>&1
	DP "$IFA" "$TMP/dpi0.conf" >/dev/null 2>&1
	# Peer 2 (changed) takes 10.62.7.0/24 of peer 7, or peer 7 that of peer 2.
	if [ $where = later ]; then
		sed 's|^AllowedIPs = 10.62.2.0/24$|AllowedIPs = 10.62.2.0/24, 10.62.7.0/24|' "$TMP/dpi0.conf" >"$TMP/dpi1.conf"
	else
		sed 's|^AllowedIPs = 10.62.7.0/24$|AllowedIPs = 10.62.7.0/24, 10.62.2.0/24|' "$TMP/dpi0.conf" >"$TMP/dpi1.conf"
	fi
	# The reference: wg setconf of the same file on the other wireguard-go.
	wg setconf "$IFB" "$TMP/dpi1.conf"
	wg showconf "$IFB" | grep -v '^ListenPort\|^PrivateKey' >"$TMP/dpi-ref.conf"
	rc=0
	DP --stats "$IFA" "$TMP/dpi1.conf" >"$TMP/dp-out" 2>"$TMP/dp-err" || rc=$?
	wg showconf "$IFA" | grep -v '^ListenPort\|^PrivateKey' >"$TMP/dpi-run.conf"
	if [ $rc = 0 ] && python3 "$HERE/compare.py" conf "$TMP/dpi-ref.conf" "$TMP/dpi-run.conf" >"$TMP/dp-cmp" 2>&1; then
		ok "wgctl sync: a changed section doubling an unchanged one's allowed IP (it comes $where): equal to wg setconf ($(sed -n 's/.*\(path=[a-z]*\).*/\1/p' "$TMP/dp-err"))"
	else
		bad "wgctl sync: changed section doubling an IP ($where): exit $rc: $(cat "$TMP/dp-err" "$TMP/dp-cmp" | head -n 5)"
	fi
done
destroy_instances
