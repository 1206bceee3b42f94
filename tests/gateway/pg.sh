#!/bin/sh
# tests/gateway/pg.sh BUILD: wg-gatewayd's PostgreSQL registry (suite
# gateway-pg) against a real PostgreSQL started in a temp directory
# (tests/gateway/pglib.sh: unix socket only, no TCP).
#
# Part 1, the source alone (BUILD/tests/tools/gw_pgsrc prints what the
# source hands its sink): migrate twice (idempotent), change ids in COMMIT
# order, insert/update/disable/delete, bad rows skipped with their id,
# PostgreSQL stopped (nothing removed, reconnect with backoff) and started
# (catches up with what changed meanwhile).
# Part 2, the daemon on wireguard-go (skipped, loudly, while wg-gatewayd's
# main loop is not built): rows reach the device, COMMIT-to-device latency
# over 200 changes (p50/p99 printed, not asserted), PostgreSQL down: peers
# stay, registry_up 0, stale; back: catches up; bad rows in the log and
# wgkit_gateway_bad_rows_total.
#
# Needs root, PostgreSQL 15 (initdb, pg_ctl, psql), python3. Names carry
# "gwp". Closing line: "gateway-pg: N passed, N failed, N skipped".
BUILD=${1:-build}
cd "$(dirname "$0")/../.." || exit 1
case $BUILD in /*) ;; *) BUILD=$PWD/$BUILD ;; esac
GWD=$BUILD/wg-gatewayd
DRV=$BUILD/tests/tools/gw_pgsrc
. tests/lib.sh
. tests/gateway/pglib.sh
suite_init gateway-pg
T=$SUITE_TMP
CHECK_OUT=$T/out

missing=$(pg_missing)
[ -x "$GWD" ] || missing="$missing $GWD(make)"
[ -x "$DRV" ] || missing="$missing $DRV(make tests)"
command -v python3 >/dev/null 2>&1 || missing="$missing python3"
[ -z "$missing" ] || cannot "missing:$missing"

# wait_grep PATTERN FILE [TENTHS]: until an extended regex matches a line;
# wait_str the same for a fixed string (keys hold + and /).
wait_str() { WAIT_GREP=-Fq wait_grep "$@"; }
wait_grep() {
	_i=0
	while ! grep ${WAIT_GREP:--Eq} -- "$1" "$2" 2>/dev/null; do
		[ $_i -ge "${3:-100}" ] && return 1
		sleep 0.1
		_i=$((_i + 1))
	done
}
key() { wg genkey | wg pubkey; }

echo "=== gateway-pg: PostgreSQL in $T/pg"
pg_start "$T/pg" 2>"$T/pg.err" || { fail "PostgreSQL start" "$(cat "$T/pg.err")"; finish; }
(umask 077 && wg genkey >"$T/gw.key")
write_conf() { # FILE [extra lines]
	_f=$1
	shift
	{
		printf '[Interface]\nName = gwp0\nPrivateKeyFile = %s\nListenPort = 51871\nBackend = userspace\n' "$T/gw.key"
		printf '[Registry]\nSource = postgresql\nConninfo = %s\nStaleSeconds = 3\n' "$PG_CONNINFO"
		for _l in "$@"; do printf '%s\n' "$_l"; done
	} >"$_f"
}
write_conf "$T/gw.conf"

# ------------------------------------------------------------ migrate
rc=0
"$GWD" migrate -c "$T/gw.conf" >"$T/m1" 2>&1 || rc=$?
[ $rc = 0 ] && grep -q "migrated from version 0 to 1" "$T/m1" &&
	ok "migrate: creates the schema: $(cat "$T/m1")" || fail "migrate: exit $rc" "$(cat "$T/m1")"
runuser -u postgres -- pg_dump -s -h "$PGHOST" -p "$PGPORT" wgkit 2>&1 | grep -v "^.\(un\)\{0,1\}restrict " >"$T/schema1"
rc=0
"$GWD" migrate -c "$T/gw.conf" >"$T/m2" 2>&1 || rc=$?
runuser -u postgres -- pg_dump -s -h "$PGHOST" -p "$PGPORT" wgkit 2>&1 | grep -v "^.\(un\)\{0,1\}restrict " >"$T/schema2"
[ $rc = 0 ] && grep -q "already at version 1" "$T/m2" && cmp -s "$T/schema1" "$T/schema2" &&
	[ "$(pg_sql 'SELECT count(*) FROM wgkit_schema')" = 1 ] &&
	ok "migrate twice: exit 0, schema unchanged (pg_dump -s identical)" ||
	fail "migrate twice: exit $rc" "$(cat "$T/m2")" "$(diff "$T/schema1" "$T/schema2" | head)"
write_conf "$T/gw-nodb.conf"
sed -i "s|^Conninfo = .*|Conninfo = host=$T/nowhere port=5 dbname=wgkit user=postgres|" "$T/gw-nodb.conf"
rc=0
"$GWD" migrate -c "$T/gw-nodb.conf" >"$T/m3" 2>&1 || rc=$?
[ $rc = 5 ] && grep -q "cannot connect to the registry" "$T/m3" &&
	ok "migrate without a database: exit 5, says why" || fail "migrate without a database: exit $rc" "$(cat "$T/m3")"
# libpq is loaded at run time (gateway/dl.c): one that cannot load (a file
# that is no ELF library, first on LD_LIBRARY_PATH) is a clear error, no crash.
mkdir -p "$T/badlib" && echo "not a library" >"$T/badlib/libpq.so.5"
rc=0
LD_LIBRARY_PATH=$T/badlib "$GWD" migrate -c "$T/gw.conf" >"$T/m4" 2>&1 || rc=$?
[ $rc = 5 ] && grep -q "cannot load libpq.so.5: .*install Debian's libpq5" "$T/m4" &&
	ok "migrate with a broken libpq.so.5: exit 5, names it and libpq5 ($(sed 's/^wg-gatewayd: //' "$T/m4"))" ||
	fail "migrate with a broken libpq: exit $rc" "$(cat "$T/m4")"

# ------------------------------------------------------------ change ids in COMMIT order
# A slow transaction takes its id first and commits late: a second writer
# waits on the counter row and gets the next id only after that COMMIT.
KS=$(key) KF=$(key)
runuser -u postgres -- psql -X -q -At -h "$PGHOST" -p "$PGPORT" -d wgkit -c \
	"BEGIN; INSERT INTO wgkit_peer (public_key, allowed_ips) VALUES ('$KS', '10.9.1.1/32'); SELECT pg_sleep(1); COMMIT;" \
	>/dev/null 2>&1 &
SLOW=$!
sleep 0.3
t0=$(date +%s%N)
pg_sql "INSERT INTO wgkit_peer (public_key, allowed_ips) VALUES ('$KF', '10.9.1.2/32')"
t1=$(date +%s%N)
wait $SLOW
cs=$(pg_sql "SELECT change_id FROM wgkit_peer WHERE public_key = '$KS'")
cf=$(pg_sql "SELECT change_id FROM wgkit_peer WHERE public_key = '$KF'")
[ -n "$cs" ] && [ -n "$cf" ] && [ "$cf" -gt "$cs" ] && [ $(((t1 - t0) / 1000000)) -ge 400 ] &&
	ok "change ids in COMMIT order: slow transaction $cs, the writer after it $cf (waited $(((t1 - t0) / 1000000)) ms)" ||
	fail "change ids: slow $cs, fast $cf, fast writer took $(((t1 - t0) / 1000000)) ms"
cid=$(pg_sql "SELECT last FROM wgkit_change_counter")
pg_sql "UPDATE wgkit_peer SET last_seen = now(), assigned_address = '10.9.1.1' WHERE public_key = '$KS'"
[ "$(pg_sql "SELECT last FROM wgkit_change_counter")" = "$cid" ] &&
	ok "an enrolment update (last_seen, assigned_address) is no change" ||
	fail "last_seen update moved the change id"
pg_sql "DELETE FROM wgkit_peer"

# ------------------------------------------------------------ the source alone
K1=$(key) K2=$(key) K3=$(key) K4=$(key)
pg_sql "INSERT INTO wgkit_peer (public_key, allowed_ips) VALUES ('$K1', '10.9.0.2/32')"
"$DRV" "$PG_CONNINFO" 120 3 >"$T/drv" 2>"$T/drv.err" &
DRVPID=$!
at_exit stop_pid $DRVPID
wait_grep "^state up" "$T/drv" &&
	grep -qF "add $K1 10.9.0.2/32" "$T/drv" && grep -q "^full_end" "$T/drv" &&
	ok "source: connects, full read at start" || fail_log "source: start" "$T/drv.err"
pg_sql "INSERT INTO wgkit_peer (public_key, allowed_ips, preshared_key) VALUES ('$K2', ' 10.9.0.3/32 ,fd00::3/128', '$(wg genpsk)')"
wait_str "add $K2 10.9.0.3/32,fd00::3/128 psk" "$T/drv" 30 &&
	ok "source: an INSERT arrives (allowed IPs list, preshared key)" || fail "insert" "$(tail -n 5 "$T/drv")"
pg_sql "UPDATE wgkit_peer SET allowed_ips = '10.9.0.22/32' WHERE public_key = '$K1'"
wait_str "add $K1 10.9.0.22/32" "$T/drv" 30 && ok "source: an UPDATE arrives" || fail "update" "$(tail -n 5 "$T/drv")"
pg_sql "DELETE FROM wgkit_peer WHERE public_key = '$K2'"
wait_str "remove $K2" "$T/drv" 30 && ok "source: a DELETE arrives as a removal (tombstone)" || fail "delete" "$(tail -n 5 "$T/drv")"
pg_sql "UPDATE wgkit_peer SET enabled = false WHERE public_key = '$K1'"
wait_str "remove $K1" "$T/drv" 30 && ok "source: enabled = false is a removal" || fail "disable" "$(tail -n 5 "$T/drv")"
pg_sql "UPDATE wgkit_peer SET enabled = true WHERE public_key = '$K1'"
# Bad rows in one statement with a good one: each bad row skipped by id,
# the good one applied.
pg_sql "INSERT INTO wgkit_peer (public_key, allowed_ips) VALUES ('not-a-key', '10.9.0.5/32'), ('$K3', '10.9.0.300/32'), ('$K4', '10.9.0.6/32')"
idk=$(pg_sql "SELECT id FROM wgkit_peer WHERE public_key = 'not-a-key'")
idp=$(pg_sql "SELECT id FROM wgkit_peer WHERE public_key = '$K3'")
wait_str "add $K4 10.9.0.6/32" "$T/drv" 30 &&
	grep -q "^bad $idk public_key: not a 44-character base64 WireGuard key" "$T/drv" &&
	grep -q "^bad $idp allowed_ips: '10.9.0.300/32' is not an IP prefix" "$T/drv" &&
	! grep -qF -e "not-a-key" -e "add $K3" "$T/drv" &&
	ok "source: bad rows skipped by id ($(grep '^bad' "$T/drv" | tr '\n' ';')), the good row in the same statement applied" ||
	fail "bad rows" "$(tail -n 8 "$T/drv")"

# PostgreSQL stopped: nothing removed; rows changed meanwhile arrive after.
n_before=$(wc -l <"$T/drv")
pg_stop
wait_grep "^state down" "$T/drv" 50 && ok "source: PostgreSQL stopped -> disconnected" || fail "no disconnect seen"
sleep 1.5
tail -n +"$n_before" "$T/drv" | grep -q "remove\|full_begin" &&
	fail "source: removals while the database is down" "$(tail -n +"$n_before" "$T/drv")" ||
	ok "source: nothing removed while the database is down"
# Changes made while the source cannot see them (it retries every <= 5 s).
pg_restart
pg_sql "DELETE FROM wgkit_peer WHERE public_key = '$K4'; UPDATE wgkit_peer SET allowed_ips = '10.9.0.7/32' WHERE public_key = '$K1'"
wait_grep "^state up 1" "$T/drv" 80 && wait_str "remove $K4" "$T/drv" 30 && wait_str "add $K1 10.9.0.7/32" "$T/drv" 30 &&
	ok "source: reconnects (reconnects=1) and catches up with what changed meanwhile" ||
	fail "catch up" "$(tail -n 8 "$T/drv")" "$(tail -n 4 "$T/drv.err")"
grep -q "registry lost" "$T/drv.err" && grep -q "registry connected change_id=[0-9]* reconnects=1" "$T/drv.err" &&
	ok "source: lost and reconnected are logged" || fail_log "source log" "$T/drv.err"
! grep -qi "password\|PrivateKey" "$T/drv.err" && ok "source: log holds no secret" || fail_log "log" "$T/drv.err"
stop_pid $DRVPID

# ------------------------------------------------------------ the daemon
. tests/gateway/pgdaemon.sh
finish
