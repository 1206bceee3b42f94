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
destroy_instances
