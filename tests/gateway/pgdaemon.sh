# tests/gateway/pgdaemon.sh: part 2 of tests/gateway/pg.sh (sourced; uses
# its T, GWD, key, wait_grep, wait_str, pg_*): wg-gatewayd with Source =
# postgresql on wireguard-go in namespace gwp-<pid>-g.
ID=$$
NSG=gwp-$ID-g IFG=gwp${ID}g
HTTP=127.0.0.1:19871
DPID=""
stop_gwd() {
	[ -n "$DPID" ] || return 0
	kill "$DPID" 2>/dev/null
	wait "$DPID" 2>/dev/null
	DPID=""
}
at_exit stop_gwd

# Whether wg-gatewayd has a main loop (a stub says "not built yet").
if "$GWD" -c /nonexistent/gw.conf 2>&1 | grep -q "not built yet"; then
	skip "daemon on wireguard-go + PostgreSQL" "wg-gatewayd's main loop is not built in this tree"
	return 0 2>/dev/null || true
fi

dev_keys() { wg show "$IFG" peers 2>/dev/null | sort; }
dev_has() { wg show "$IFG" allowed-ips 2>/dev/null | grep -qF -- "$1	$2"; }
dev_lacks() { ! wg show "$IFG" peers 2>/dev/null | grep -qF -- "$1"; }
# metric NAME: its value from /metrics, "" when there is no HTTP server.
metric() {
	ip netns exec "$NSG" python3 -c 'import sys, urllib.request
try:
    t = urllib.request.urlopen("http://'$HTTP'/metrics", timeout=2).read().decode()
except Exception:
    sys.exit(0)
for l in t.splitlines():
    if l.split(" ")[0] == sys.argv[1]:
        print(l.split(" ")[1])' "$1" 2>/dev/null
}
readyz() {
	ip netns exec "$NSG" python3 -c 'import urllib.request, urllib.error
try:
    r = urllib.request.urlopen("http://'$HTTP'/readyz", timeout=2); print(r.status, r.read().decode().replace("\n", ";"))
except urllib.error.HTTPError as e:
    print(e.code, e.read().decode().replace("\n", ";"))
except Exception as e:
    print("none", e)' 2>/dev/null
}

echo "=== gateway-pg: the daemon on wireguard-go ($IFG) with PostgreSQL"
ns_add "$NSG" && wggo_start "$NSG" "$IFG" "$T/wggo.log" || { fail_log "set-up" "$T/wggo.log"; return 0 2>/dev/null; }
ip -n "$NSG" link set "$IFG" up
# Rows are deleted by the hundred and the ten thousand on purpose here: no
# shrink guard (run.sh tests MaxShrinkPercent).
write_conf "$T/gwd.conf" "[Apply]" "MaxShrinkPercent = 100" "[Anycast]" "DrainSeconds = 0" "[Http]" "Listen = $HTTP"
sed -i "s/^Name = gwp0/Name = $IFG/" "$T/gwd.conf"
pg_sql "DELETE FROM wgkit_peer"
A1=$(key) A2=$(key)
pg_sql "INSERT INTO wgkit_peer (public_key, allowed_ips) VALUES ('$A1', '10.8.0.1/32'), ('$A2', '10.8.0.2/32, fd08::2/128'), ('$(key | cut -c1-40)', '10.8.0.3/32'), ('$(key)', '10.8.0.4/33')"
bad1=$(pg_sql "SELECT id FROM wgkit_peer WHERE allowed_ips = '10.8.0.3/32'")
bad2=$(pg_sql "SELECT id FROM wgkit_peer WHERE allowed_ips = '10.8.0.4/33'")
# libpq that cannot load: exit 5 before anything is changed (no peer set,
# no HTTP listener), the error names libpq.so.5 and the package.
rc=0
LD_LIBRARY_PATH=$T/badlib ip netns exec "$NSG" "$GWD" -c "$T/gwd.conf" >"$T/gwd-nolib.log" 2>&1 || rc=$?
[ $rc = 5 ] && grep -q "cannot load libpq.so.5: .*install Debian's libpq5" "$T/gwd-nolib.log" &&
	[ -z "$(wg show "$IFG" peers)" ] && ! ip netns exec "$NSG" ss -Hltn | grep -q ":${HTTP##*:} " &&
	ok "daemon with a broken libpq.so.5: exit 5, says so, nothing changed" ||
	fail "daemon with a broken libpq: exit $rc" "$(cat "$T/gwd-nolib.log")"
ip netns exec "$NSG" "$GWD" -c "$T/gwd.conf" >"$T/gwd.log" 2>&1 &
DPID=$!
if wait_for 100 dev_has "$A1" 10.8.0.1/32 && dev_has "$A2" 10.8.0.2/32 && [ "$(wg show "$IFG" peers | wc -l)" = 2 ]; then
	ok "daemon: the registry's good rows on the device at start"
else
	fail "daemon start" "$(wg show "$IFG" allowed-ips 2>&1)" "$(tail -n 8 "$T/gwd.log")"
fi
grep -q 'libpq\.so\.5' "/proc/$DPID/maps" && grep -q 'libmicrohttpd\.so\.12' "/proc/$DPID/maps" &&
	ok "daemon: Source = postgresql and [Http]: libpq and libmicrohttpd loaded" ||
	fail "daemon: libpq/libmicrohttpd not mapped" "$(grep '\.so' "/proc/$DPID/maps" | awk '{print $6}' | sort -u)"
grep -q "bad row id=$bad1: public_key: " "$T/gwd.log" && grep -q "bad row id=$bad2: allowed_ips: '10.8.0.4/33' is not an IP prefix" "$T/gwd.log" &&
	ok "daemon: bad rows skipped, logged with their id ($(grep 'bad row' "$T/gwd.log" | sed 's/^warning: //' | tr '\n' ';'))" ||
	fail_log "bad rows not logged" "$T/gwd.log"
m=$(metric wgkit_gateway_bad_rows_total)
if [ -z "$m" ]; then skip "bad_rows_total" "no /metrics in this tree (edge's HTTP not merged)"
elif [ "$m" -ge 2 ]; then ok "daemon: wgkit_gateway_bad_rows_total $m"
else fail "bad_rows_total $m"; fi

B=$(key)
pg_sql "INSERT INTO wgkit_peer (public_key, allowed_ips) VALUES ('$B', '10.8.1.1/32')"
wait_for 50 dev_has "$B" 10.8.1.1/32 && ok "daemon: INSERT reaches the device" || fail "insert" "$(tail -n 4 "$T/gwd.log")"
pg_sql "UPDATE wgkit_peer SET allowed_ips = '10.8.1.2/32' WHERE public_key = '$B'"
wait_for 50 dev_has "$B" 10.8.1.2/32 && ! dev_has "$B" 10.8.1.1/32 && ok "daemon: UPDATE reaches the device" ||
	fail "update" "$(wg show "$IFG" allowed-ips)"
pg_sql "DELETE FROM wgkit_peer WHERE public_key = '$B'"
wait_for 50 dev_lacks "$B" && ok "daemon: DELETE reaches the device" || fail "delete"

# A good peer updated to a bad prefix: skipped, the peer keeps its last good
# allowed IPs, also through a full re-read (SIGHUP).
pg_sql "UPDATE wgkit_peer SET allowed_ips = '10.8.0.1/32, 10.8.0.x/32' WHERE public_key = '$A1'"
idA1=$(pg_sql "SELECT id FROM wgkit_peer WHERE public_key = '$A1'")
wait_str "bad row id=$idA1: allowed_ips: '10.8.0.x/32'" "$T/gwd.log" 50 && dev_has "$A1" 10.8.0.1/32 &&
	ok "daemon: an update to a bad prefix is skipped, the peer keeps 10.8.0.1/32" ||
	fail "bad update" "$(wg show "$IFG" allowed-ips)" "$(tail -n 3 "$T/gwd.log")"
nbad=$(grep -c "bad row id=$idA1:" "$T/gwd.log")
kill -HUP "$DPID"
wait_grep "bad row id=$idA1:.*" "$T/gwd.log" 1 # (already there)
i=0
while [ "$(grep -c "bad row id=$idA1:" "$T/gwd.log")" -le "$nbad" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
sleep 0.3
[ "$(grep -c "bad row id=$idA1:" "$T/gwd.log")" -gt "$nbad" ] && dev_has "$A1" 10.8.0.1/32 &&
	ok "daemon: SIGHUP full re-read reports the bad row again and keeps the peer as it was" ||
	fail "full re-read with a bad row" "$(wg show "$IFG" allowed-ips)" "$(tail -n 4 "$T/gwd.log")"
pg_sql "UPDATE wgkit_peer SET allowed_ips = '10.8.0.1/32' WHERE public_key = '$A1'"

# A bad row as the newest change must not keep the node unready: the
# source's position() says every change up to it was handed over.
pg_sql "INSERT INTO wgkit_peer (public_key, allowed_ips) VALUES ('$(key)', '10.8.3.1/40')"
bad3=$(pg_sql "SELECT id FROM wgkit_peer WHERE allowed_ips = '10.8.3.1/40'")
wait_str "bad row id=$bad3: allowed_ips" "$T/gwd.log" 50
sleep 1.2
last_ready=$(grep "ready: " "$T/gwd.log" | tail -n 1)
rz=$(readyz)
case "$last_ready|$rz" in
*"ready: yes"*"|200"* | *"ready: yes"*"|none"*) ok "daemon: ready with a bad row as the newest change ($last_ready, /readyz ${rz%% *})" ;;
*) fail "a bad newest row: $last_ready, /readyz $rz" ;;
esac

# COMMIT to device: one psql session (a \echo after each autocommitted
# INSERT says its COMMIT is done), the device read over its UAPI socket.
python3 - "$IFG" 200 >"$T/lat" 2>"$T/lat.err" <<'PY'
import base64, os, socket, subprocess, sys, time
ifname, n = sys.argv[1], int(sys.argv[2])
def peers():
    s = socket.socket(socket.AF_UNIX)
    s.connect("/var/run/wireguard/%s.sock" % ifname)
    s.sendall(b"get=1\n\n")
    buf = b""
    while not buf.endswith(b"\n\n"):
        c = s.recv(65536)
        if not c:
            break
        buf += c
    s.close()
    return {l[11:] for l in buf.decode().split("\n") if l.startswith("public_key=")}
psql = subprocess.Popen(["runuser", "-u", "postgres", "--", "psql", "-X", "-q", "-At"],
                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
lat = []
for i in range(n):
    key = base64.b64encode(os.urandom(32)).decode()
    hexkey = base64.b64decode(key).hex()
    psql.stdin.write("INSERT INTO wgkit_peer (public_key, allowed_ips) VALUES ('%s', '10.7.%d.%d/32');\n\\echo done\n" % (key, i // 250, i % 250 + 1))
    if psql.stdout.readline().strip() != "done":
        sys.exit("psql said something else")
    t0 = time.monotonic()
    while hexkey not in peers():
        if time.monotonic() - t0 > 5:
            sys.exit("change %d not on the device after 5 s" % i)
    lat.append((time.monotonic() - t0) * 1000)
psql.stdin.write("DELETE FROM wgkit_peer WHERE allowed_ips LIKE '10.7.%';\n\\echo done\n")
psql.stdout.readline()
psql.stdin.close()
lat.sort()
print("%.1f %.1f %.1f" % (lat[len(lat) // 2], lat[int(len(lat) * 0.99) - 1], lat[-1]))
PY
if read -r p50 p99 pmax <"$T/lat" 2>/dev/null && [ -n "$p99" ]; then
	ok "daemon: 200 single changes, COMMIT to device p50 $p50 ms, p99 $p99 ms, max $pmax ms"
	echo "bench: gateway_pg_commit_to_device p50_ms=$p50 p99_ms=$p99 max_ms=$pmax n=200"
else
	fail "latency run" "$(cat "$T/lat.err")" "$(tail -n 4 "$T/gwd.log")"
fi
wait_for 50 sh -c "[ \$(wg show '$IFG' peers | wc -l) = 2 ]" || fail "the 200 peers were not removed"

# 10,000 peers in one statement (one NOTIFY): COMMIT to all on the device,
# then all gone again (a figure; only "they arrive" is asserted).
python3 - "$T/bulk.sql" <<'PY'
import base64, os, sys
with open(sys.argv[1], "w") as f:
    f.write("INSERT INTO wgkit_peer (public_key, allowed_ips) VALUES\n")
    f.write(",\n".join("('%s', '10.%d.%d.%d/32')" % (base64.b64encode(os.urandom(32)).decode(),
            20 + i // 65536, (i // 256) % 256, i % 256) for i in range(10000)))
    f.write(";\n")
PY
n0=$(wg show "$IFG" peers | wc -l)
runuser -u postgres -- psql -X -q -v ON_ERROR_STOP=1 -f "$T/bulk.sql" >/dev/null 2>&1
t0=$(date +%s%N)
if wait_for 300 sh -c "[ \$(wg show '$IFG' peers | wc -l) -ge $((n0 + 10000)) ]"; then
	t1=$(date +%s%N)
	pg_sql "DELETE FROM wgkit_peer WHERE allowed_ips LIKE '10.2_.%'"
	t2=$(date +%s%N)
	wait_for 300 sh -c "[ \$(wg show '$IFG' peers | wc -l) -le $n0 ]"
	t3=$(date +%s%N)
	ok "daemon: 10,000 rows in one INSERT on the device $(((t1 - t0) / 1000000)) ms after COMMIT; one DELETE of them gone in $(((t3 - t2) / 1000000)) ms"
	echo "bench: gateway_pg_bulk_10000 insert_ms=$(((t1 - t0) / 1000000)) delete_ms=$(((t3 - t2) / 1000000))"
else
	fail "10,000 rows: $(wg show "$IFG" peers | wc -l) peers on the device" "$(tail -n 4 "$T/gwd.log")"
fi

# PostgreSQL stopped: the peers stay, registry down, stale after StaleSeconds.
before=$(dev_keys)
pg_stop
wait_str "registry lost" "$T/gwd.log" 50 && ok "daemon: PostgreSQL stopped -> registry lost (logged)" || fail_log "no registry lost" "$T/gwd.log"
sleep 4
[ "$(dev_keys)" = "$before" ] && ok "daemon: the peers stay while the database is down" ||
	fail "peers changed while the database was down" "$(dev_keys)"
up=$(metric wgkit_gateway_registry_up)
if [ -z "$up" ]; then
	skip "registry_up / stale in /metrics and /readyz" "no /metrics in this tree (edge's HTTP not merged)"
else
	rz=$(readyz)
	[ "$up" = 0 ] && ok "daemon: wgkit_gateway_registry_up 0 while down" || fail "registry_up $up while down"
	case $rz in 503*registry*) ok "daemon: /readyz $rz" ;; *) fail "readyz while stale: $rz" ;; esac
fi
if grep -q "ready: no: .*registry" "$T/gwd.log"; then ok "daemon: not ready while stale ($(grep 'ready: no: .*registry' "$T/gwd.log" | tail -n 1))"
elif [ -z "$up" ]; then skip "stale readiness in the log" "this tree's readiness has no registry rule (edge's ready.c not merged)"
else fail_log "no 'ready: no ... registry' in the log" "$T/gwd.log"; fi

# Changes made while the daemon is cut off, then the database back.
C=$(key)
pg_restart
pg_sql "INSERT INTO wgkit_peer (public_key, allowed_ips) VALUES ('$C', '10.8.2.1/32'); DELETE FROM wgkit_peer WHERE public_key = '$A2'; UPDATE wgkit_peer SET allowed_ips = '10.8.0.9/32' WHERE public_key = '$A1'"
if wait_for 100 dev_has "$C" 10.8.2.1/32 && wait_for 30 dev_lacks "$A2" && wait_for 30 dev_has "$A1" 10.8.0.9/32; then
	ok "daemon: reconnects and catches up with the changes made while it was cut off"
else
	fail "catch up" "$(wg show "$IFG" allowed-ips)" "$(tail -n 6 "$T/gwd.log")"
fi
grep -q "registry connected change_id=[0-9]* reconnects=1" "$T/gwd.log" && ok "daemon: reconnect logged" || fail_log "reconnect log" "$T/gwd.log"
up=$(metric wgkit_gateway_registry_up)
rc=$(metric wgkit_gateway_registry_reconnects_total)
if [ -z "$up" ]; then skip "registry_up back to 1" "no /metrics in this tree"
else [ "$up" = 1 ] && [ "$rc" = 1 ] && ok "daemon: registry_up 1, registry_reconnects_total 1" || fail "registry_up $up reconnects $rc"; fi
! grep -qF -e "$(cat "$T/gw.key")" -e "PrivateKey =" "$T/gwd.log" && ok "daemon: no key material in the log" || fail "key in the log"
stop_gwd

# PostgreSQL down when the daemon starts (a power cut: the gateways boot
# before the database). After StartWaitSeconds systemd hears READY=1, with
# a STATUS= saying what the daemon waits for, so the unit neither fails its
# start timeout nor restarts in a loop; the node stays not ready and the
# device is left as it is. PostgreSQL up: the first read is applied.
before=$(dev_keys)
pg_stop
# (With the shrink guard at its default: the TRUNCATE case below.)
sed -e 's/^StaleSeconds = 3$/StaleSeconds = 3\nStartWaitSeconds = 1/' -e '/^MaxShrinkPercent = 100$/d' \
	"$T/gwd.conf" >"$T/gwd-wait.conf"
python3 tests/gateway/notify_listen.py "$T/notify.sock" "$T/notify.log" &
NPID=$!
at_exit kill $NPID
_i=0
while [ ! -S "$T/notify.sock" ] && [ $_i -lt 50 ]; do sleep 0.1; _i=$((_i + 1)); done
ip netns exec "$NSG" env NOTIFY_SOCKET="$T/notify.sock" "$GWD" -c "$T/gwd-wait.conf" >"$T/gwd-wait.log" 2>&1 &
DPID=$!
if wait_str "READY=1" "$T/notify.log" 80 &&
	grep -q "^STATUS=waiting for the first registry read (registry unreachable)" "$T/notify.log" &&
	grep -q "start: no registry read applied after 1 s (StartWaitSeconds): started for systemd, not ready to serve" "$T/gwd-wait.log"; then
	ok "daemon: PostgreSQL down at start: READY=1 after StartWaitSeconds, $(grep -m1 '^STATUS=' "$T/notify.log")"
else
	fail "start with PostgreSQL down" "$(cat "$T/notify.log")" "$(tail -n 5 "$T/gwd-wait.log")"
fi
rz=$(readyz)
case $rz in
503*"not applied yet"*) ok "daemon: ... and not ready: /readyz ${rz%%;*}" ;;
*) fail "readyz before the first read: $rz" ;;
esac
! grep -q "anycast: announced" "$T/gwd-wait.log" && [ "$(dev_keys)" = "$before" ] &&
	ok "daemon: ... announces nothing, and the device keeps its $(echo "$before" | grep -c .) peers" ||
	fail "before the first read" "$(dev_keys | wc -l) peers" "$(tail -n 5 "$T/gwd-wait.log")"
pg_restart
if wait_str "start: ready to serve" "$T/gwd-wait.log" 150 && wait_str "ready: yes" "$T/gwd-wait.log" 50 &&
	[ "$(grep -cx READY=1 "$T/notify.log")" = 1 ] && wait_grep "^STATUS=peers=" "$T/notify.log" 30; then
	ok "daemon: PostgreSQL up: $(grep -m1 -o 'start: ready to serve.*' "$T/gwd-wait.log"), ready, READY=1 sent once"
else
	fail "PostgreSQL back after a start without it" "$(cat "$T/notify.log")" "$(tail -n 6 "$T/gwd-wait.log")"
fi

# The shrink guard on this source. TRUNCATE fires no row trigger, so the
# daemon hears of it at its next full read (SIGHUP here, else the timer),
# which finds the registry empty: refused, the device keeps its peers, and
# nothing is tried again until the registry changes. The rows back: in step.
n=$(($(dev_keys | wc -l) + 100))
pg_sql "INSERT INTO wgkit_peer (public_key, allowed_ips) SELECT encode(decode(md5('t-' || i) || md5('u-' || i), 'hex'), 'base64'), '10.7.' || (i / 200) || '.' || (i % 200 + 1) || '/32' FROM generate_series(1, 100) i"
wait_for 100 sh -c "[ \$(wg show '$IFG' peers | wc -l) = $n ]"
before=$(dev_keys)
pg_sql "CREATE TABLE gwtest_keep AS SELECT public_key, allowed_ips FROM wgkit_peer; TRUNCATE wgkit_peer"
kill -HUP "$DPID"
if wait_str "apply: refused: it would take $IFG from $n to 0 peers (remove $n, add 0; MaxShrinkPercent=50)" "$T/gwd-wait.log" 50 &&
	sleep 3 && [ "$(dev_keys)" = "$before" ] && [ "$(metric wgkit_gateway_apply_held)" = 1 ] &&
	[ "$(grep -c 'apply: refused' "$T/gwd-wait.log")" = 1 ]; then
	ok "daemon: TRUNCATE of the registry, then a full read: refused once (not again at each heartbeat), the device keeps its $n peers, apply_held 1"
else
	fail "TRUNCATE and a full read" "$(dev_keys | wc -l) peers, apply_held $(metric wgkit_gateway_apply_held)" "$(tail -n 4 "$T/gwd-wait.log")"
fi
pg_sql "INSERT INTO wgkit_peer (public_key, allowed_ips) SELECT public_key, allowed_ips FROM gwtest_keep; DROP TABLE gwtest_keep"
if wait_str "replan: device in step, 0 set peers=$n" "$T/gwd-wait.log" 50 && [ "$(dev_keys)" = "$before" ] &&
	sleep 0.3 && [ "$(metric wgkit_gateway_apply_held)" = 0 ]; then
	ok "daemon: the rows back: $(grep -o 'replan: device in step, 0 set peers=[0-9]*' "$T/gwd-wait.log" | tail -n 1), apply_held 0"
else
	fail "rows back after a refused TRUNCATE" "$(tail -n 4 "$T/gwd-wait.log")" "apply_held $(metric wgkit_gateway_apply_held)"
fi
stop_gwd
