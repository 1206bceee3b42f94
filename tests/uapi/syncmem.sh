# Part 11 of tests/uapi/run.sh (sourced): the sync driven from a desired state
# held in memory, through the public headers only (tests/tools/sync_mem.c):
# no config file, no state directory. 1000 peers added, 10 changed, 10
# removed; after each step the device equals the desired state (`wg
# showconf`), and the step sent only what changed, as counted on the wire by
# a proxy in front of wireguard-go's UAPI socket: 1000, 10 and 10 peers (the
# last 10 as remove=true). Uses run.sh's helpers and variables.

echo "=== uapi part 11: sync from a desired state in memory (sync_mem)"
SM_TOOL=$BUILD/tests/tools/sync_mem
if [ ! -x "$SM_TOOL" ]; then
	skipped "syncmem: $SM_TOOL does not exist (make tests)"
	return
fi
destroy_instances
if ! start_instances >"$TMP/setup" 2>&1; then
	bad "part 11 set-up (namespaces, veth, wireguard-go)"; cat "$TMP/setup"
	return
fi
SM_DIR="$TMP/sm"
mkdir -p "$SM_DIR"
# Called by sync_mem after each step N: the device equals stepN.conf.
cat >"$SM_DIR/check.sh" <<SMEOF
wg showconf "$IFA" >"$SM_DIR/run\$1.conf" &&
	python3 "$HERE/compare.py" conf "$SM_DIR/step\$1.conf" "$SM_DIR/run\$1.conf" >"$SM_DIR/cmp\$1" 2>&1
echo \$? >"$SM_DIR/equal\$1"
exit 0
SMEOF
if "$SM_TOOL" "$IFA" "$SOCKDIR" "$SM_DIR" "sh $SM_DIR/check.sh" >"$SM_DIR/out" 2>"$SM_DIR/err"; then
	ok "syncmem: three steps planned and applied from memory, each re-plan empty"
else
	bad "syncmem: sync_mem failed"; sed 's/^/    /' "$SM_DIR/err"
fi
sed 's/^/    /' "$SM_DIR/out"
# sm_field STEP KEY: a figure from sync_mem's line for that step.
sm_field() { sed -n "s/^step $1 .* $2=\([0-9]*\).*/\1/p" "$SM_DIR/out"; }
for s in 1 2 3; do
	case $s in
	1) what="add 1000"; peers=1000; rm=0; add=1000; upd=0; del=0 ;;
	2) what="change 10"; peers=10; rm=0; add=0; upd=10; del=0 ;;
	3) what="remove 10"; peers=10; rm=10; add=0; upd=0; del=10 ;;
	esac
	if [ "$(cat "$SM_DIR/equal$s" 2>/dev/null)" = 0 ]; then
		ok "syncmem: step $s ($what): wg showconf equals the desired state"
	else
		bad "syncmem: step $s ($what): wg showconf differs from the desired state"
		sed 's/^/    /' "$SM_DIR/cmp$s" 2>/dev/null | head -n 20
	fi
	got="$(sm_field $s wire_peers) $(sm_field $s wire_removes) $(sm_field $s wire_set)"
	if [ "$got" = "$peers $rm 1" ]; then
		ok "syncmem: step $s ($what): one set request on the wire, $peers public_key= lines, $rm remove=true"
	else
		bad "syncmem: step $s ($what): on the wire (peers removes sets) '$got', want '$peers $rm 1'"
	fi
	got="$(sm_field $s plan_add) $(sm_field $s plan_update) $(sm_field $s plan_remove)"
	if [ "$got" = "$add $upd $del" ]; then
		ok "syncmem: step $s ($what): the plan adds $add, updates $upd, removes $del"
	else
		bad "syncmem: step $s ($what): plan (add update remove) '$got', want '$add $upd $del'"
	fi
done
n=$(wg show "$IFA" peers | wc -l)
[ "$n" = 990 ] && ok "syncmem: wg counts 990 peers at the end" || bad "syncmem: wg counts $n peers, not 990"
