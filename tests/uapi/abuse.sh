# Part 10 of tests/uapi/run.sh (sourced): wgctl called the way people will.
# 10,000 peers through a pipe and <(...); a sync killed with SIGKILL halfway,
# then re-run; syncs racing each other and up/down; a config over the size
# limit, a 1 MB line, a directory, a missing file, a symlink loop and a
# dangling symlink. Each check compares the device with the file (`wg
# showconf`, compare.py). Uses run.sh's helpers and variables.
# `UAPI_ONLY=abuse sh tests/uapi/run.sh build` runs just this part.

echo "=== uapi part 10: wgctl abuse (10k peers via pipes, kill -9, races, huge and broken inputs)"
destroy_instances
if ! start_instances >"$TMP/setup" 2>&1; then
	bad "part 10 set-up (namespaces, veth, wireguard-go)"; cat "$TMP/setup"
	return
fi
AB_STATE="$TMP/ab-state"
AB() { "$WGCTL" sync --state-dir "$AB_STATE" "$@"; }
genkey "$TMP/ab.key"
# ab_gen OUT SEED N [MUTATE]: N peers with random keys (from SEED), one /32
# each (the same addresses whatever the seed, so that a change of seed moves
# every allowed IP to another peer), an endpoint and keepalive on every 7th.
# MUTATE: peer i%100==0 gets another key, i%100==50 another allowed IP
# (1% added, 1% removed, 1% updated).
cat >"$TMP/ab-gen.py" <<'PYEOF'
import base64, random, sys
out, seed, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
mutate = len(sys.argv) > 5
rng, alt = random.Random(seed), random.Random(seed + 1000003)
with open(out, "w") as f:
    f.write("[Interface]\nPrivateKey = %s\nListenPort = %d\n" % (open(sys.argv[-1]).read().strip(), 53001))
    for i in range(n):
        k = base64.b64encode(rng.randbytes(32)).decode()
        ip = "10.%d.%d.%d/32" % (100 + i // 65536, (i // 256) % 256, i % 256)
        if mutate and i % 100 == 0:
            k = base64.b64encode(alt.randbytes(32)).decode()
        if mutate and i % 100 == 50:
            ip = "10.250.%d.%d/32" % ((i // 256) % 256, i % 256)
        f.write("\n[Peer]\nPublicKey = %s\nAllowedIPs = %s\n" % (k, ip))
        if i % 7 == 0:
            f.write("Endpoint = 192.0.2.%d:%d\nPersistentKeepalive = 25\n" % (i % 250 + 1, 1024 + i % 60000))
PYEOF
ab_gen() { # OUT SEED N [mutate]
	python3 "$TMP/ab-gen.py" "$1" "$2" "$3" ${4:+mutate} "$TMP/ab.key" && chmod 600 "$1"
}
ab_equal() { wg showconf "$IFA" >"$TMP/ab-run.conf" && python3 "$HERE/compare.py" conf "$1" "$TMP/ab-run.conf" >"$TMP/ab-cmp" 2>&1; }
ab_stat() { sed -n "s/.*sync: stats: .*$1=\([a-z0-9]*\).*/\1/p" "$TMP/ab-err"; }
# Anything in the state directory but the record files of an interface.
ab_stray() { [ -d "$AB_STATE" ] && ls -A "$AB_STATE" | grep -Ev "^[A-Za-z0-9_.=-]+\.(conf|sec|fast|path)$"; }
# A wrapper bash runs with <(...) (AB is a function of this shell).
cat >"$TMP/ab_bash" <<EOF
#!/bin/sh
exec "$WGCTL" sync --state-dir "$AB_STATE" "\$@"
EOF
chmod +x "$TMP/ab_bash"
ab_gen "$TMP/ab1.conf" 1 10000
ab_gen "$TMP/ab1m.conf" 1 10000 mutate
ab_gen "$TMP/ab2.conf" 2 10000
sed -n 's/^PublicKey = //p' "$TMP/ab2.conf" >"$TMP/ab2.keys"

# ------------------------------------------------ 1. 10,000 peers via pipes
rc=0
cat "$TMP/ab1.conf" | AB "$IFA" /dev/stdin >"$TMP/ab-out" 2>"$TMP/ab-err" || rc=$?
if [ $rc = 0 ] && ab_equal "$TMP/ab1.conf"; then
	ok "wgctl abuse: sync of 10000 peers from a pipe: exit 0, device equals the file"
else
	bad "wgctl abuse: sync of 10000 peers from a pipe: exit $rc: $(cat "$TMP/ab-err" "$TMP/ab-cmp" | head -n 6)"
fi
if command -v bash >/dev/null 2>&1; then
	rc=0
	bash -c '"$1" "$2" <(cat "$3")' sh "$TMP/ab_bash" "$IFA" "$TMP/ab1m.conf" >"$TMP/ab-out" 2>"$TMP/ab-err" || rc=$?
	if [ $rc = 0 ] && ab_equal "$TMP/ab1m.conf"; then
		ok "wgctl abuse: sync of 1% changed from <(...): exit 0, device equals the file"
	else
		bad "wgctl abuse: sync of 1% changed from <(...): exit $rc: $(cat "$TMP/ab-err" "$TMP/ab-cmp" | head -n 6)"
	fi
else
	skipped "wgctl abuse: <(...) process substitution (no bash): SKIPPED"
	AB "$IFA" "$TMP/ab1m.conf" >/dev/null 2>&1
fi
rc=0
cat "$TMP/ab1.conf" | AB --plan "$IFA" /dev/stdin >"$TMP/ab-out" 2>"$TMP/ab-err" || rc=$?
if [ $rc = 0 ] && python3 -c 'import json,sys; c=json.load(open(sys.argv[1]))["counts"]; assert (c["add"], c["remove"], c["update"]) == (100, 100, 100), c' "$TMP/ab-out" 2>"$TMP/ab-cmp" &&
	ab_equal "$TMP/ab1m.conf"; then
	ok "wgctl abuse: sync --plan of 10000 peers from a pipe: 100 to add, remove, update; nothing changed"
else
	bad "wgctl abuse: sync --plan from a pipe: exit $rc: $(cat "$TMP/ab-err" "$TMP/ab-cmp" | tail -n 4)"
fi
rc=0
cat "$TMP/ab1m.conf" | AB --detailed-exitcode --stats "$IFA" /dev/stdin >"$TMP/ab-out" 2>"$TMP/ab-err" || rc=$?
if [ $rc = 0 ] && [ "$(ab_stat set_msgs)" = 0 ] && ab_equal "$TMP/ab1m.conf"; then
	ok "wgctl abuse: the same 10000 peers again from a pipe: a no-op (--detailed-exitcode 0, path=$(ab_stat path), 0 sets)"
else
	bad "wgctl abuse: second sync from a pipe: exit $rc: $(cat "$TMP/ab-err" "$TMP/ab-cmp" | head -n 4)"
fi

# ------------------------------------------------ 2. a sync killed halfway
# From ab1m to ab2 (every peer replaced, every allowed IP moved; the same
# [Interface]), killed with SIGKILL after DELAY: with the record (the
# incremental path, which stages the new record before applying) and without
# (the full path). wireguard-go applies a transaction as it reads it, so a
# kill leaves part of it applied. A plain re-run converges; a third run
# sends nothing (the record does not claim what the device lacks); nothing
# is left behind in the state directory.
mid=0
for round in inc:0.3 inc:1.0 full:0.3 full:1.0; do
	how=${round%%:*} delay=${round#*:}
	AB "$IFA" "$TMP/ab1m.conf" >/dev/null 2>&1
	[ $how = full ] && rm -rf "$AB_STATE"
	# wgctl itself in the background (not a function: $! must be its PID).
	"$WGCTL" sync --state-dir "$AB_STATE" "$IFA" "$TMP/ab2.conf" >"$TMP/ab-kout" 2>"$TMP/ab-kerr" &
	kp=$!
	sleep $delay
	kill -9 $kp 2>/dev/null
	wait $kp 2>/dev/null
	# Killed before its summary: the kill landed mid-sync.
	if [ ! -s "$TMP/ab-kout" ]; then mid=$((mid + 1)); where="killed mid-sync"; else where="finished first"; fi
	n=$(wg show "$IFA" peers | grep -cxFf "$TMP/ab2.keys")
	stray1=$(ab_stray)
	rc=0
	AB "$IFA" "$TMP/ab2.conf" >"$TMP/ab-out" 2>"$TMP/ab-err" || rc=$?
	e1=0; ab_equal "$TMP/ab2.conf" || e1=1
	rc3=0
	AB --detailed-exitcode --stats "$IFA" "$TMP/ab2.conf" >"$TMP/ab-out3" 2>"$TMP/ab-err" || rc3=$?
	path=$(ab_stat path) sets=$(ab_stat set_msgs)
	stray=$(ab_stray)
	if [ $rc = 0 ] && [ $e1 = 0 ] && [ $rc3 = 0 ] && [ "$sets" = 0 ] &&
		{ [ "$path" = fast ] || [ "$path" = incremental ]; } && [ -z "$stray" ] && ab_equal "$TMP/ab2.conf"; then
		ok "wgctl abuse: $how sync killed after ${delay}s ($where, $n of 10000 new peers in): re-run converges, third run path=$path 0 sets, no temp files${stray1:+ (the re-run removed $(echo $stray1))}"
	else
		bad "wgctl abuse: $how sync killed after ${delay}s ($where, $n new peers in): re-run exit $rc (equal: $((1 - e1))), third exit $rc3 path=$path sets=$sets, left in the state dir: $(echo $stray): $(head -n 4 "$TMP/ab-cmp")"
	fi
done
[ $mid -gt 0 ] && ok "wgctl abuse: $mid of 4 kills landed mid-sync" ||
	bad "wgctl abuse: no kill landed mid-sync (every sync printed its summary first): the case tested nothing"

# ------------------------------------------------ 3. races
# Two syncs of different files at once, 10 rounds from a third state, one
# of them from a pipe; every other round with --wait 0 so that one loses:
# the device ends equal to one file, never a mix; each exits 0 (waited,
# then applied) or 5 with one line naming the lock.
ab_gen "$TMP/abA.conf" 3 2000
ab_gen "$TMP/abB.conf" 4 2000
ab_gen "$TMP/abC.conf" 5 3
# ab_loser RC ERRFILE: 0, or 5 with one line saying the lock is busy.
ab_loser() { [ "$1" = 0 ] || { [ "$1" = 5 ] && grep -q "busy.*$IFA" "$2" && [ "$(grep -vc ' note: ' "$2")" = 1 ]; }; }
round=1 good=0 lost=0 detail=""
while [ $round -le 10 ]; do
	if [ $((round % 2)) = 0 ]; then w="--wait 0"; else w=""; fi
	if [ $((round % 4)) -lt 2 ]; then f1=abA f2=abB; else f1=abB f2=abA; fi
	wg setconf "$IFA" "$TMP/abC.conf"
	# shellcheck disable=SC2086
	cat "$TMP/$f1.conf" | "$WGCTL" $w sync --state-dir "$AB_STATE" "$IFA" /dev/stdin >"$TMP/ab-o1" 2>"$TMP/ab-e1" &
	p1=$!
	# shellcheck disable=SC2086
	"$WGCTL" $w sync --state-dir "$AB_STATE" "$IFA" "$TMP/$f2.conf" >"$TMP/ab-o2" 2>"$TMP/ab-e2" &
	p2=$!
	r1=0 r2=0
	wait $p1 || r1=$?
	wait $p2 || r2=$?
	won=""
	ab_equal "$TMP/abA.conf" && won=abA
	ab_equal "$TMP/abB.conf" && won=abB
	[ $r1 = 5 ] || [ $r2 = 5 ] && lost=$((lost + 1))
	rc=0
	[ -n "$won" ] && { AB --detailed-exitcode --stats "$IFA" "$TMP/$won.conf" >/dev/null 2>"$TMP/ab-err" || rc=$?; }
	if [ -n "$won" ] && ab_loser $r1 "$TMP/ab-e1" && ab_loser $r2 "$TMP/ab-e2" && { [ $r1 = 0 ] || [ $r2 = 0 ]; } &&
		{ [ $r1 = 0 ] || [ $won = $f2 ]; } && { [ $r2 = 0 ] || [ $won = $f1 ]; } &&
		[ $rc = 0 ] && [ "$(ab_stat set_msgs)" = 0 ]; then
		good=$((good + 1))
	else
		detail="$detail round $round${w:+ ($w)}: exits $r1/$r2, device equals '${won:-neither}', resync exit $rc sets '$(ab_stat set_msgs)': $(cat "$TMP/ab-e1" "$TMP/ab-e2" | head -n 2);"
	fi
	round=$((round + 1))
done
if [ $good = 10 ]; then
	ok "wgctl abuse: 10 rounds of two concurrent syncs of 2000 peers: each ends equal to one file; $lost losers exited 5 naming the lock, the rest waited and applied"
else
	bad "wgctl abuse: concurrent syncs:$detail"
fi

# up and down, each racing a sync of the same interface (from the host, as
# a control plane would run it), first, at once and second. up on a device
# the sync configured first refuses (exit 5); a sync after down finds no
# device (exit 3). Either way the device ends with the sync's file, then gone.
mkdir -p "$TMP/ab-etc"
cp "$TMP/abC.conf" "$TMP/ab-etc/$IFA.conf"
ab_race_ok=0 ab_race_detail=""
for round in 1 2 3; do
	destroy_instances
	if ! start_instances >"$TMP/setup" 2>&1; then
		ab_race_detail="$ab_race_detail round $round: set-up failed: $(head -n 2 "$TMP/setup");"
		continue
	fi
	rm -rf "$AB_STATE"
	# Round 1: up first; 2: both at once; 3: the sync first.
	[ $round = 3 ] || { ip netns exec "$NSA" "$WGCTL" up "$TMP/ab-etc/$IFA.conf" >"$TMP/ab-o1" 2>"$TMP/ab-e1" & p1=$!; }
	[ $round = 1 ] && sleep 0.5
	"$WGCTL" sync --state-dir "$AB_STATE" "$IFA" "$TMP/abA.conf" >"$TMP/ab-o2" 2>"$TMP/ab-e2" &
	p2=$!
	[ $round = 3 ] && { sleep 0.3; ip netns exec "$NSA" "$WGCTL" up "$TMP/ab-etc/$IFA.conf" >"$TMP/ab-o1" 2>"$TMP/ab-e1" & p1=$!; }
	r1=0 r2=0
	wait $p1 || r1=$?
	wait $p2 || r2=$?
	# Either order ends with the sync's file on the device.
	e=0; ab_equal "$TMP/abA.conf" || e=1
	if [ $e = 0 ] && [ $r2 = 0 ] && { [ $r1 = 0 ] || { [ $r1 = 5 ] && [ "$(wc -l <"$TMP/ab-e1")" = 1 ] && grep -q "$IFA" "$TMP/ab-e1"; }; }; then
		up_how=$([ $r1 = 0 ] && echo "up first" || echo "up refused: $(cat "$TMP/ab-e1")")
	else
		ab_race_detail="$ab_race_detail round $round up+sync: exits $r1/$r2, equal to the sync's file: $((1 - e)): $(cat "$TMP/ab-e1" "$TMP/ab-e2" "$TMP/ab-cmp" | head -n 3);"
		continue
	fi
	# Round 1: down first; 2: both at once; 3: the sync first.
	[ $round = 3 ] || { ip netns exec "$NSA" "$WGCTL" down "$TMP/ab-etc/$IFA.conf" >"$TMP/ab-o1" 2>"$TMP/ab-e1" & p1=$!; }
	[ $round = 1 ] && sleep 0.5
	cat "$TMP/abB.conf" | "$WGCTL" sync --state-dir "$AB_STATE" "$IFA" /dev/stdin >"$TMP/ab-o2" 2>"$TMP/ab-e2" &
	p2=$!
	[ $round = 3 ] && { sleep 0.3; ip netns exec "$NSA" "$WGCTL" down "$TMP/ab-etc/$IFA.conf" >"$TMP/ab-o1" 2>"$TMP/ab-e1" & p1=$!; }
	r1=0 r2=0
	wait $p1 || r1=$?
	wait $p2 || r2=$?
	gone=0
	[ ! -S "$SOCKDIR/$IFA.sock" ] && ! ip -n "$NSA" link show "$IFA" >/dev/null 2>&1 && gone=1
	if [ $gone = 1 ] && [ $r1 = 0 ] &&
		{ [ $r2 = 0 ] || { { [ $r2 = 3 ] || [ $r2 = 5 ]; } && [ "$(wc -l <"$TMP/ab-e2")" = 1 ] && grep -q "$IFA" "$TMP/ab-e2"; }; }; then
		ab_race_ok=$((ab_race_ok + 1))
		echo "    round $round: $up_how; down + sync: sync exit $r2 $(cat "$TMP/ab-e2")"
	else
		ab_race_detail="$ab_race_detail round $round down+sync: exits $r1/$r2, gone: $gone: $(cat "$TMP/ab-e1" "$TMP/ab-e2" | head -n 3);"
	fi
done
if [ $ab_race_ok = 3 ]; then
	ok "wgctl abuse: 3 rounds of up, then down, each racing a sync: the sync's file, then no device; losers exit with one line"
else
	bad "wgctl abuse: up/down racing sync:$ab_race_detail"
fi
destroy_instances
start_instances >"$TMP/setup" 2>&1 || { bad "part 10: restart wireguard-go"; cat "$TMP/setup"; return; }
rm -rf "$AB_STATE"

# ------------------------------------------------ 4. huge and broken input
AB "$IFA" "$TMP/abA.conf" >/dev/null 2>&1
# ab_refused NAME RC WANT_RC PATTERN: exit WANT_RC, one line on stderr that
# matches PATTERN and holds no run of 64 garbage bytes, device still abA.
ab_refused() {
	if [ "$2" = "$3" ] && [ "$(wc -l <"$TMP/ab-err")" = 1 ] && grep -q -- "$4" "$TMP/ab-err" &&
		! grep -q 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx' "$TMP/ab-err" &&
		[ "$(wc -c <"$TMP/ab-err")" -lt 400 ] && ab_equal "$TMP/abA.conf"; then
		ok "wgctl abuse: $1: exit $3, '$(cat "$TMP/ab-err")', device unchanged"
	else
		bad "wgctl abuse: $1: exit $2 (want $3), stderr $(wc -c <"$TMP/ab-err") bytes: $(head -c 300 "$TMP/ab-err"); $(head -n 3 "$TMP/ab-cmp")"
	fi
}
ab_each() { # NAME FILE WANT_RC PATTERN: every command that reads a config
	for c in sync syncconf setconf addconf; do
		rc=0
		if [ $c = sync ]; then AB "$IFA" "$2" >"$TMP/ab-out" 2>"$TMP/ab-err" || rc=$?
		else "$WGCTL" $c "$IFA" "$2" >"$TMP/ab-out" 2>"$TMP/ab-err" || rc=$?; fi
		ab_refused "$c of $1" $rc "$3" "$4"
	done
}
truncate -s 300M "$TMP/ab-huge.conf"
ab_each "a 300 MB sparse file" "$TMP/ab-huge.conf" 2 "'$TMP/ab-huge.conf'.*larger than 256 MiB"
rm -f "$TMP/ab-huge.conf"
rc=0
head -c 300M /dev/zero | AB "$IFA" /dev/stdin >"$TMP/ab-out" 2>"$TMP/ab-err" || rc=$?
ab_refused "sync of 300 MB from a pipe" $rc 2 "'/dev/stdin'.*larger than 256 MiB"
python3 -c 'import sys; open(sys.argv[1], "w").write("[Interface]\nListenPort = 53001\n\n[Peer]\nPublicKey = " + "x" * (1 << 20) + "\nAllowedIPs = 10.9.9.9/32\n")' "$TMP/ab-long.conf"
ab_each "a 1 MB PublicKey line" "$TMP/ab-long.conf" 2 "$TMP/ab-long.conf:5: PublicKey"
python3 -c 'import sys; open(sys.argv[1], "w").write("[Interface]\nListenPort = 53001\n" + "x" * (1 << 20) + "\n")' "$TMP/ab-long.conf"
ab_each "a 1 MB line of garbage" "$TMP/ab-long.conf" 2 "$TMP/ab-long.conf:3:"
python3 -c 'import sys; open(sys.argv[1], "w").write("[Interface]\nPrivateKey = " + "x" * (1 << 20) + "\n")' "$TMP/ab-long.conf"
chmod 600 "$TMP/ab-long.conf"
ab_each "a 1 MB PrivateKey line" "$TMP/ab-long.conf" 2 "$TMP/ab-long.conf:2: PrivateKey"
mkdir -p "$TMP/ab-dir"
ab_each "a directory" "$TMP/ab-dir" 2 "'$TMP/ab-dir'.*Is a directory"
ab_each "a missing file" "$TMP/ab-missing.conf" 2 "'$TMP/ab-missing.conf'.*No such file or directory"

# ------------------------------------------------ 5. broken symlinks
ln -s "$TMP/ab-loop2.conf" "$TMP/ab-loop1.conf"
ln -s "$TMP/ab-loop1.conf" "$TMP/ab-loop2.conf"
ln -s "$TMP/ab-nowhere.conf" "$TMP/ab-dangling.conf"
ab_each "a symlink loop" "$TMP/ab-loop1.conf" 2 "'$TMP/ab-loop1.conf'.*Too many levels of symbolic links"
ab_each "a dangling symlink" "$TMP/ab-dangling.conf" 2 "'$TMP/ab-dangling.conf'.*No such file or directory"
destroy_instances
