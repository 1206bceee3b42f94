# Part 6 of tests/uapi/run.sh (sourced): one change to an interface at a
# time. Concurrent syncs of different files end equal to one of them, with a
# record that agrees (the same file again sends nothing); a held lock makes
# the next caller wait up to --wait, then fail clearly, changing nothing.
# Uses run.sh's helpers and variables.

echo "=== uapi part 6: the per-interface lock"
destroy_instances
if ! start_instances >"$TMP/setup" 2>&1; then
	bad "part 6 set-up (namespaces, veth, wireguard-go)"; cat "$TMP/setup"
	return
fi
LK_STATE="$TMP/lk-state"
LOCKF=/run/wgkit/$IFA.lock
LK() { "$WGCTL" sync --state-dir "$LK_STATE" "$@"; }
genkey "$TMP/lk.key"
# lk_conf FILE FIRST LAST PORT: peers FIRST..LAST.
lk_conf() {
	awk -v k="$(cat "$TMP/lk.key")" -v a="$2" -v b="$3" -v port="$4" 'BEGIN {
		printf "[Interface]\nPrivateKey = %s\nListenPort = %d\n", k, port
		for (i = a; i <= b; i++)
			printf "\n[Peer]\nPublicKey = UapiLockPeer%030dA=\nAllowedIPs = 10.%d.%d.0/24\n", i, 100 + int(i / 256), i % 256
	}' >"$1"
	chmod 600 "$1"
}
lk_conf "$TMP/lkA.conf" 1 2000 52951
lk_conf "$TMP/lkB.conf" 1001 3000 52952
lk_conf "$TMP/lkC.conf" 5000 5002 52953
lk_equal() { wg showconf "$IFA" >"$TMP/lk-run.conf" && python3 "$HERE/compare.py" conf "$1" "$TMP/lk-run.conf" >/dev/null 2>&1; }
lk_stat() { sed -n "s/.*sync: stats: .*$1=\([0-9]*\).*/\1/p" "$TMP/lk-err"; }

round=1 good=0 detail=""
while [ $round -le 6 ]; do
	# Alternate which starts first, and whether a record exists.
	[ $((round % 3)) = 0 ] && rm -rf "$LK_STATE"
	if [ $((round % 2)) = 0 ]; then f1=lkA f2=lkB; else f1=lkB f2=lkA; fi
	# From a third state, so that two plans made from the same dump would
	# both apply: the device would end with the peers of both files.
	wg setconf "$IFA" "$TMP/lkC.conf"
	LK "$IFA" "$TMP/$f1.conf" >"$TMP/lk-o1" 2>&1 &
	p1=$!
	LK "$IFA" "$TMP/$f2.conf" >"$TMP/lk-o2" 2>&1 &
	p2=$!
	r1=0 r2=0
	wait $p1 || r1=$?
	wait $p2 || r2=$?
	won=""
	lk_equal "$TMP/lkA.conf" && won=lkA
	lk_equal "$TMP/lkB.conf" && won=lkB
	rc=0
	[ -n "$won" ] && { LK --detailed-exitcode --stats "$IFA" "$TMP/$won.conf" >/dev/null 2>"$TMP/lk-err" || rc=$?; }
	if [ $r1 = 0 ] && [ $r2 = 0 ] && [ -n "$won" ] && [ $rc = 0 ] && [ "$(lk_stat set_msgs)" = 0 ]; then
		good=$((good + 1))
	else
		detail="$detail round $round: exits $r1/$r2, device equals '${won:-neither}', resync exit $rc set_msgs '$(lk_stat set_msgs)';"
	fi
	round=$((round + 1))
done
if [ $good = 6 ]; then
	ok "wgctl lock: 6 rounds of two concurrent syncs: each ends equal to one file, whose resync sends nothing"
else
	bad "wgctl lock: concurrent syncs:$detail $(cat "$TMP/lk-o1" "$TMP/lk-o2" | head -n 4)"
fi

# A held lock: the caller waits --wait seconds, then fails (exit 5, one
# line naming the lock), nothing applied.
LK "$IFA" "$TMP/lkA.conf" >/dev/null 2>&1
flock "$LOCKF" sleep 6 &
hp=$!
sleep 0.3
for c in sync syncconf setconf addconf; do
	t0=$(date +%s.%N)
	rc=0
	if [ $c = sync ]; then
		LK --wait 1 "$IFA" "$TMP/lkC.conf" >"$TMP/lk-out" 2>"$TMP/lk-err" || rc=$?
	else
		"$WGCTL" --wait 1 $c "$IFA" "$TMP/lkC.conf" >"$TMP/lk-out" 2>"$TMP/lk-err" || rc=$?
	fi
	t=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
	if [ $rc = 5 ] && grep -q "busy.*$LOCKF" "$TMP/lk-err" && [ "$(grep -vc ' note: ' "$TMP/lk-err")" = 1 ] &&
		awk -v t="$t" 'BEGIN { exit !(t >= 0.9 && t < 4) }' && lk_equal "$TMP/lkA.conf"; then
		ok "wgctl lock: $c while the lock is held: waited $t s, exit 5 naming the lock, nothing changed"
	else
		bad "wgctl lock: $c while held: exit $rc after $t s: $(cat "$TMP/lk-err")"
	fi
done
for c in "set $IFA listen-port 52959" "peer remove $IFA UapiLockPeer000000000000000000000000000001A="; do
	rc=0
	"$WGCTL" --wait 0 $c >"$TMP/lk-out" 2>"$TMP/lk-err" || rc=$?
	if [ $rc = 5 ] && grep -q "busy" "$TMP/lk-err" && lk_equal "$TMP/lkA.conf"; then
		ok "wgctl lock: ${c%% *} while held, --wait 0: exit 5 at once, nothing changed"
	else
		bad "wgctl lock: ${c%% *} while held: exit $rc: $(cat "$TMP/lk-err")"
	fi
done
# Waiting long enough: it runs once the holder is done.
rc=0
LK --wait 20 "$IFA" "$TMP/lkC.conf" >"$TMP/lk-out" 2>"$TMP/lk-err" || rc=$?
wait $hp
if [ $rc = 0 ] && lk_equal "$TMP/lkC.conf"; then
	ok "wgctl lock: sync --wait 20 runs once the holder lets go"
else
	bad "wgctl lock: sync --wait 20: exit $rc: $(cat "$TMP/lk-err")"
fi
rc=0
"$WGCTL" --wait -1 sync "$IFA" "$TMP/lkC.conf" >"$TMP/lk-out" 2>"$TMP/lk-err" || rc=$?
[ $rc = 1 ] && grep -q -- "--wait" "$TMP/lk-err" && ok "wgctl lock: --wait -1 is a usage error" ||
	bad "wgctl lock: --wait -1: exit $rc: $(cat "$TMP/lk-err")"
# A hook of up runs under up's lock: a `wgctl set %i` in it does not wait.
mkdir -p "$TMP/lk-etc"
printf '[Interface]\nPrivateKey = %s\nListenPort = 52954\nPostUp = %s --wait 5 set %%i listen-port 52958\n' \
	"$(cat "$TMP/lk.key")" "$WGCTL" >"$TMP/lk-etc/$IFA.conf"
chmod 600 "$TMP/lk-etc/$IFA.conf"
# up refuses a configured device: a fresh wireguard-go for it.
destroy_instances
start_instances >"$TMP/setup" 2>&1 || { bad "wgctl lock: restart wireguard-go for up"; cat "$TMP/setup"; }
t0=$(date +%s.%N)
rc=0
ip netns exec "$NSA" "$WGCTL" up --userspace "$TMP/lk-etc/$IFA.conf" >"$TMP/lk-out" 2>"$TMP/lk-err" || rc=$?
t=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
if [ $rc = 0 ] && [ "$(wg show "$IFA" listen-port)" = 52958 ] &&
	awk -v t="$t" 'BEGIN { exit !(t < 3) }'; then
	ok "wgctl lock: up whose PostUp runs wgctl set on the interface: no wait ($t s)"
else
	bad "wgctl lock: up with a wgctl hook: exit $rc after $t s, port $(wg show "$IFA" listen-port): $(cat "$TMP/lk-err")"
fi
rm -f "$LOCKF"
destroy_instances
