# Part 8 of tests/uapi/run.sh (sourced): safety limits for big peer sets.
# --max-remove N and --max-change PCT refuse (exit 2, nothing applied) a
# plan over the limit, on every path of sync and in syncconf; --plan=text
# prints the plan for people. Uses run.sh's helpers and variables.

echo "=== uapi part 8: wgctl sync --max-remove / --max-change / --plan=text"
destroy_instances
if ! start_instances >"$TMP/setup" 2>&1; then
	bad "part 8 set-up (namespaces, veth, wireguard-go)"; cat "$TMP/setup"
	return
fi
LM_STATE="$TMP/lm-state"
LM() { "$WGCTL" sync --state-dir "$LM_STATE" "$@"; }
# lm_conf FILE N: peers 1..N.
lm_conf() {
	awk -v n="$2" 'BEGIN {
		printf "[Interface]\nListenPort = 52971\n"
		for (i = 1; i <= n; i++)
			printf "\n[Peer]\nPublicKey = UapiLimitPeer%029dA=\nAllowedIPs = 10.71.%d.0/24\n", i, i
	}' >"$1"
}
lm_conf "$TMP/lm10.conf" 10
lm_conf "$TMP/lm2.conf" 2
lm_equal() { wg showconf "$IFA" >"$TMP/lm-run.conf" && python3 "$HERE/compare.py" conf "$1" "$TMP/lm-run.conf" >/dev/null 2>&1; }
lm_path() { sed -n 's/.*sync: stats: .* path=\([a-z]*\).*/\1/p' "$TMP/lm-err"; }
LM "$IFA" "$TMP/lm10.conf" >/dev/null 2>&1
LM "$IFA" "$TMP/lm10.conf" >/dev/null 2>&1
# 8 of 10 removed: over --max-remove 5 and --max-change 50, on the
# incremental path (a record exists) and the full one (--no-state).
for args in "--max-remove 5" "--max-change 50" "--max-change 50% --no-state" "--max-remove 7 --no-state"; do
	rc=0
	# shellcheck disable=SC2086
	LM --stats $args "$IFA" "$TMP/lm2.conf" >"$TMP/lm-out" 2>"$TMP/lm-err" || rc=$?
	if [ $rc = 2 ] && grep -q "nothing applied" "$TMP/lm-err" && lm_equal "$TMP/lm10.conf"; then
		ok "wgctl sync $args: removing 8 of 10 refused, exit 2, nothing applied ($(grep -v stats: "$TMP/lm-err"))"
	else
		bad "wgctl sync $args: exit $rc: $(cat "$TMP/lm-err")"
	fi
done
rc=0
"$WGCTL" syncconf --max-remove 5 "$IFA" "$TMP/lm2.conf" >"$TMP/lm-out" 2>"$TMP/lm-err" || rc=$?
if [ $rc = 2 ] && grep -q "more than --max-remove 5" "$TMP/lm-err" && lm_equal "$TMP/lm10.conf"; then
	ok "wgctl syncconf --max-remove 5: refused, exit 2, nothing applied"
else
	bad "wgctl syncconf --max-remove 5: exit $rc: $(cat "$TMP/lm-err")"
fi
rc=0
"$WGCTL" --allow-empty syncconf --max-remove 3 "$IFA" /dev/null >"$TMP/lm-out" 2>"$TMP/lm-err" || rc=$?
if [ $rc = 2 ] && lm_equal "$TMP/lm10.conf"; then
	ok "wgctl syncconf --allow-empty --max-remove 3 of an empty file: still refused by the limit"
else
	bad "wgctl syncconf --allow-empty --max-remove 3: exit $rc: $(cat "$TMP/lm-err")"
fi
rc=0
LM --plan=text "$IFA" "$TMP/lm2.conf" >"$TMP/lm-out" 2>"$TMP/lm-err" || rc=$?
if [ $rc = 0 ] && grep -q "^$IFA: plan: 0 to add, 8 to remove, 0 to update, 2 unchanged" "$TMP/lm-out" &&
	[ "$(grep -c '^  - peer UapiLimitPeer' "$TMP/lm-out")" = 8 ] && lm_equal "$TMP/lm10.conf"; then
	ok "wgctl sync --plan=text: a summary line and one line per removed peer, nothing applied"
else
	bad "wgctl sync --plan=text: exit $rc: $(cat "$TMP/lm-out" "$TMP/lm-err" | head -n 5)"
fi
rc=0
LM --plan=text --max-remove 1 "$IFA" "$TMP/lm2.conf" >"$TMP/lm-out" 2>"$TMP/lm-err" || rc=$?
[ $rc = 2 ] && grep -q "to remove" "$TMP/lm-out" && grep -q "max-remove" "$TMP/lm-err" &&
	ok "wgctl sync --plan=text --max-remove 1: the plan printed, and exit 2 saying it would be refused" ||
	bad "wgctl sync --plan=text --max-remove 1: exit $rc: $(cat "$TMP/lm-err")"
# Within the limits: applied.
rc=0
LM --max-remove 8 --max-change 80 "$IFA" "$TMP/lm2.conf" >"$TMP/lm-out" 2>"$TMP/lm-err" || rc=$?
if [ $rc = 0 ] && lm_equal "$TMP/lm2.conf"; then
	ok "wgctl sync --max-remove 8 --max-change 80: applied"
else
	bad "wgctl sync within the limits: exit $rc: $(cat "$TMP/lm-err")"
fi
rc=0
LM --max-change 101 "$IFA" "$TMP/lm2.conf" >"$TMP/lm-out" 2>"$TMP/lm-err" || rc=$?
[ $rc = 1 ] && ok "wgctl sync --max-change 101: usage error" || bad "wgctl sync --max-change 101: exit $rc"

# Small things: the JSON stats say the path; -q prints no summary; the
# summary says what changed around the device; show rejects an option.
rc=0
LM --json --stats "$IFA" "$TMP/lm10.conf" >"$TMP/lm-out" 2>"$TMP/lm-err" || rc=$?
if [ $rc = 0 ] && python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["stats"]["path"] == "full", d["stats"]' "$TMP/lm-out" 2>"$TMP/lm-cmp"; then
	ok "wgctl sync --json --stats: stats.path is there (\"full\")"
else
	bad "wgctl sync --json --stats: exit $rc: $(cat "$TMP/lm-err" "$TMP/lm-cmp")"
fi
rc=0
"$WGCTL" -q sync --state-dir "$LM_STATE" "$IFA" "$TMP/lm2.conf" >"$TMP/lm-out" 2>"$TMP/lm-err" || rc=$?
[ $rc = 0 ] && [ ! -s "$TMP/lm-out" ] && lm_equal "$TMP/lm2.conf" &&
	ok "wgctl -q sync: applied, nothing printed" || bad "wgctl -q sync: exit $rc: $(cat "$TMP/lm-out" "$TMP/lm-err")"
printf '[Interface]\nListenPort = 52972\nAddress = 10.241.77.1/24\nMTU = 1380\n\n[Peer]\nPublicKey = UapiLimitPeer%029dA=\nAllowedIPs = 10.241.78.0/24\n' 1 >"$TMP/lmq.conf"
rc=0
ip netns exec "$NSA" "$WGCTL" sync --state-dir "$LM_STATE" "$IFA" "$TMP/lmq.conf" >"$TMP/lm-out" 2>"$TMP/lm-err" || rc=$?
if [ $rc = 0 ] && grep -q "; device: listen port; MTU 1380; addresses +1 -2; routes +1 -0$" "$TMP/lm-out"; then
	ok "wgctl sync of a wg-quick file: the summary says what changed ($(cat "$TMP/lm-out"))"
else
	bad "wgctl sync summary: exit $rc: $(cat "$TMP/lm-out" "$TMP/lm-err")"
fi
rc=0
"$WGCTL" show "$IFA" --bogus >"$TMP/lm-out" 2>"$TMP/lm-err" || rc=$?
[ $rc = 1 ] && grep -q "unknown option '--bogus'" "$TMP/lm-err" && ok "wgctl show IF --bogus: unknown option, exit 1" ||
	bad "wgctl show IF --bogus: exit $rc: $(cat "$TMP/lm-err")"
destroy_instances
