# tests/gateway/lab-daemon.sh: part 2 of the gateway lab, sourced by
# tests/gateway/lab.sh once part 1 left the topology up (router, g1, g2,
# client, bird2, wireguard-go, the refresh loops). wg-gatewayd replaces the
# loops on both gateways, with one PostgreSQL registry; the issue's five
# scenarios, then the client's fast failover (wghealth).
GWD=$BUILD/wg-gatewayd
WH=$BUILD/wghealth
HTTP=127.0.0.1:9580

echo "=== gateway-lab part 2: wg-gatewayd on both gateways, PostgreSQL registry"
part2_missing=""
[ -x "$GWD" ] || part2_missing="$part2_missing $GWD(make)"
[ -f "$HERE/pglib.sh" ] || part2_missing="$part2_missing tests/gateway/pglib.sh"
command -v curl >/dev/null 2>&1 || part2_missing="$part2_missing curl"
if [ -z "$part2_missing" ]; then
	. "$HERE/pglib.sh"
	part2_missing=$(pg_missing)
fi
if [ -n "$part2_missing" ]; then
	skip "part 2: wg-gatewayd scenarios 1-5 and fast failover" "MISSING:$part2_missing"
	return 0 2>/dev/null || finish
fi

# ------------------------------------------------------------ helpers
# http i PATH: the body; $HTTP_CODE the status.
http() {
	_b=$(ip netns exec gwl-g$1 curl -s -m 2 -w '\n%{http_code}' "http://$HTTP$2" 2>/dev/null)
	HTTP_CODE=$(printf '%s\n' "$_b" | tail -n 1)
	printf '%s\n' "$_b" | sed '$d'
}
# metric i NAME: the value of an unlabelled sample ("" when absent).
metric() {
	http "$1" /metrics | awk -v n="$2" '$1 == n { print $2; exit }'
}
ready_code() { http "$1" /readyz >/dev/null; echo "$HTTP_CODE"; }
# wait_ready i [SECONDS]
wait_ready() {
	_i=0
	while [ $_i -lt $((${2:-15} * 10)) ]; do
		[ "$(ready_code "$1")" = 200 ] && return 0
		sleep 0.1
		_i=$((_i + 1))
	done
	return 1
}
# pub_on i KEY: the peer is on gateway i's device; aips_of i KEY: its allowed IPs.
pub_on() { ip netns exec gwl-g$1 wg show gwlg$1 peers | grep -qx "$2"; }
aips_of() {
	ip netns exec gwl-g$1 wg show gwlg$1 allowed-ips | awk -v k="$2" '$1 == k { $1 = ""; print substr($0, 2) }'
}
# until_both SECONDS CMD...: CMD 1 and CMD 2 both succeed (every 50 ms).
until_both() {
	_s=$1
	shift
	_i=0
	while [ $_i -lt $((_s * 20)) ]; do
		"$@" 1 && "$@" 2 && return 0
		sleep 0.05
		_i=$((_i + 1))
	done
	return 1
}
has_peer() { pub_on "$1" "$PK"; }
lacks_peer() { ! pub_on "$1" "$PK"; }
has_aips() { [ "$(aips_of "$1" "$PK")" = "$WANT" ]; }

gwd_conf() { # i
	cat <<EOF
# gateway-lab: node $1
[Interface]
Name = gwlg$1
PrivateKeyFile = $TMP/node.key
ListenPort = $WGPORT
Backend = userspace

[Registry]
Source = postgresql
Conninfo = $PG_CONNINFO
FullRereadSeconds = 300
StaleSeconds = 30

[Apply]
DriftCheckSeconds = 2

[Anycast]
Address = $AC4/32
Address = $AC6/128
Link = lo
LifetimeSeconds = $LFT
DrainSeconds = 1

[Stun]
Listen = 0.0.0.0:3478

[Http]
Listen = $HTTP
EOF
}
GWD_PID1="" GWD_PID2=""
gwd_start() { # i
	ip netns exec gwl-g$1 setsid "$GWD" -c "$TMP/g$1/gateway.conf" >>"$TMP/gwd-g$1.log" 2>&1 &
	eval "GWD_PID$1=\$!"
}
gwd_stop() { # i
	eval "_p=\$GWD_PID$1"
	[ -n "$_p" ] && kill -CONT "$_p" 2>/dev/null
	stop_pid "$_p"
	eval "GWD_PID$1="
}
at_exit gwd_stop 1
at_exit gwd_stop 2
genpub() { wg genkey | wg pubkey; }

# ------------------------------------------------------------ set-up
if ! pg_start "$TMP/pg" >"$TMP/pg.out" 2>&1; then
	fail_log "PostgreSQL start (tests/gateway/pglib.sh)" "$TMP/pg.out"
	finish
fi
for i in 1 2; do gwd_conf $i >"$TMP/g$i/gateway.conf"; done
check "wg-gatewayd check-config" "$GWD" check-config -c "$TMP/g1/gateway.conf"
check "wg-gatewayd migrate (creates the schema)" "$GWD" migrate -c "$TMP/g1/gateway.conf"
check "wg-gatewayd migrate again (no change)" "$GWD" migrate -c "$TMP/g1/gateway.conf"
# The client is a registry peer like any other.
pg_sql "INSERT INTO wgkit_peer (public_key, allowed_ips) VALUES ('$KC', '$TUN_C/32')" >"$TMP/sql" 2>&1 ||
	fail_log "registry: insert the client's row" "$TMP/sql"
# The daemons take over from the loops (the addresses outlive the loops by
# up to $LFT s, long enough for the daemons to start refreshing them).
# Part 1 left a session between the client and each gateway: a daemon
# starting over a device that already holds what the registry says must
# leave the peer alone (handshake and counters kept).
hs_before="$(handshake 1) $(handshake 2)"
refresh_stop 1
refresh_stop 2
gwd_start 1
gwd_start 2
t0=$(now)
sleep 0.5
if grep -q 'not built yet' "$TMP/gwd-g1.log"; then
	skip "part 2: wg-gatewayd scenarios 1-5 and fast failover" "MISSING: $(head -n 1 "$TMP/gwd-g1.log")"
	finish
fi
if wait_ready 1 10 && wait_ready 2 10; then
	ok "both daemons ready ($(since "$t0") s)"
else
	# The device already holds what the registry says (part 1 set the
	# client up): a start-up with nothing to send must still be ready.
	fail "daemons not ready within 10 s of a start-up with nothing to change" \
		"g1 /readyz: $(http 1 /readyz)" "g2 /readyz: $(http 2 /readyz)" "$(tail -n 4 "$TMP/gwd-g1.log")"
	# One change, so the rest of the scenarios still run.
	pg_sql "INSERT INTO wgkit_peer (public_key, allowed_ips) VALUES ('$(genpub)', '10.9.0.1/32')" >/dev/null
	if wait_ready 1 && wait_ready 2; then
		ok "both daemons ready after one registry change ($(since "$t0") s)"
	else
		fail "daemons not ready within 15 s, even after a change" "g1 /readyz: $(http 1 /readyz)" \
			"g2 /readyz: $(http 2 /readyz)" "$(tail -n 8 "$TMP/gwd-g1.log")"
		finish
	fi
fi
hs_after="$(handshake 1) $(handshake 2)"
if [ "$hs_before" = "$hs_after" ]; then
	ok "start-up over devices in step kept the client's sessions (handshakes g1 g2: $hs_before)"
else
	fail "start-up over devices in step lost the client's sessions (handshakes g1 g2: $hs_before -> $hs_after)" \
		"$(grep -E 'start|apply|plan' "$TMP/gwd-g1.log" | head -n 6)"
fi
sleep $((LFT + 1)) # the loops' last refresh has run out: the daemons alone hold the addresses
check "router: anycast via g1 with the daemons announcing" test "$(route_via)" = g1
check "healthz 200 on both" sh -c "[ \"\$(ip netns exec $NSG1 curl -s -o /dev/null -w '%{http_code}' http://$HTTP/healthz)\" = 200 ] &&
	[ \"\$(ip netns exec $NSG2 curl -s -o /dev/null -w '%{http_code}' http://$HTTP/healthz)\" = 200 ]"
check "wgkit_gateway_announced 1 on both" test "$(metric 1 wgkit_gateway_announced)" = 1 -a "$(metric 2 wgkit_gateway_announced)" = 1
client_rekey
check "client pings through the tunnel (daemon-managed g1)" tunnel_ping

# ------------------------------------------------------------ 1. changes
echo "--- 1. insert, change, delete reach both nodes"
PK=$(genpub)
pg_sql "INSERT INTO wgkit_peer (public_key, allowed_ips) VALUES ('$PK', '10.9.0.2/32')" >/dev/null
if until_both 5 has_peer; then ok "inserted peer on both devices"; else fail "inserted peer missing (g1: $(aips_of 1 "$PK"), g2: $(aips_of 2 "$PK"))"; fi
pg_sql "UPDATE wgkit_peer SET allowed_ips = '10.9.0.3/32,fd09::3/128' WHERE public_key = '$PK'" >/dev/null
WANT="10.9.0.3/32 fd09::3/128"
if until_both 5 has_aips; then ok "changed allowed IPs on both devices"; else fail "change not applied (g1: '$(aips_of 1 "$PK")', g2: '$(aips_of 2 "$PK")')"; fi
pg_sql "DELETE FROM wgkit_peer WHERE public_key = '$PK'" >/dev/null
if until_both 5 lacks_peer; then ok "deleted peer gone from both devices"; else fail "deleted peer still there"; fi
if python3 "$HERE/commit_latency.py" 200 "$WGGO_SOCKDIR/gwlg1.sock" "$WGGO_SOCKDIR/gwlg2.sock" >"$TMP/lat" 2>&1; then
	ok "200 changes, COMMIT to device: $(grep 'latency all' "$TMP/lat" | sed 's/^latency all //')"
	sed 's/^/    /' "$TMP/lat"
else
	fail_log "200 changes, COMMIT to device" "$TMP/lat"
fi
ca1=$(metric 1 wgkit_gateway_change_id_applied) ck1=$(metric 1 wgkit_gateway_change_id_known)
check "metrics: change id applied = known on g1 ($ca1 = $ck1)" test -n "$ca1" -a "$ca1" = "$ck1"

# ------------------------------------------------------------ 2. PostgreSQL down
echo "--- 2. PostgreSQL stopped, then started"
pinger_start "$TMP/ping-pg"
pg_stop
sleep 4
up1=$(metric 1 wgkit_gateway_registry_up) up2=$(metric 2 wgkit_gateway_registry_up)
lag1=$(metric 1 wgkit_gateway_registry_lag_seconds) lag2=$(metric 2 wgkit_gateway_registry_lag_seconds)
check "registry down reported: registry_up g1=$up1 g2=$up2, lag g1=$lag1 g2=$lag2 s" \
	sh -c "[ '$up1' = 0 ] && [ '$up2' = 0 ] && awk 'BEGIN { exit !($lag1 >= 2 && $lag2 >= 2) }'"
check "g2's device still holds the client while PostgreSQL is down" pub_on 2 "$KC"
an1=$(metric 1 wgkit_gateway_announced) an2=$(metric 2 wgkit_gateway_announced)
check "both still announce within StaleSeconds (announced g1=$an1 g2=$an2, route via $(route_via))" \
	test "$an1" = 1 -a "$an2" = 1 -a "$(route_via)" = g1
# g2's daemon restarted while the registry is unreachable: it has nothing
# to go by, so it must neither empty the device nor claim to be ready.
gwd_stop 2
gwd_start 2
sleep 3
rc2=$(ready_code 2)
check "g2 restarted during the outage keeps the device's peers (client still there)" pub_on 2 "$KC"
check "g2 restarted during the outage is not ready before it reads the registry (/readyz $rc2: $(http 2 /readyz | head -n 1))" \
	test "$rc2" != 200
pg_restart >"$TMP/pg.out" 2>&1 || fail_log "PostgreSQL restart" "$TMP/pg.out"
check "g2 ready once the registry is back" wait_ready 2
PK=$(genpub)
pg_sql "INSERT INTO wgkit_peer (public_key, allowed_ips) VALUES ('$PK', '10.9.0.4/32')" >/dev/null
if until_both 20 has_peer; then ok "caught up after the restart (a new row on both nodes)"; else fail "new row not applied after the restart"; fi
up1=$(metric 1 wgkit_gateway_registry_up) rc1=$(metric 1 wgkit_gateway_registry_reconnects_total)
check "registry up again on g1" test "$up1" = 1
check "wgkit_gateway_registry_reconnects_total counts the reconnection (g1: $rc1)" test "${rc1:-0}" -ge 1
pinger_stop
lost=$(gap_report "$TMP/ping-pg" 0 | sed 's/ pings.*//; s/lost //')
check "the client kept pinging through the outage (longest gap $lost pings)" test "${lost:-99}" -le 3

# ------------------------------------------------------------ 3. node 1 dies
# failover SIGNAL LABEL: stop g1's daemon with SIGNAL; the route via g1 must
# go within 5 s and the client's ping resume via g2.
failover() {
	pinger_start "$TMP/ping-$1"
	sleep 1
	eval "_p=\$GWD_PID1"
	hs2=$(handshake 2)
	t_sig=$(now)
	kill -"$1" "$_p"
	if el=$(wait_route g2); then
		ok "SIG$1 on g1's daemon: route via g1 gone in $(since "$t_sig") s (bound 5 s)"
	else
		fail "SIG$1: route still via $(route_via) $(since "$t_sig") s after the signal"
	fi
	t_moved=$(now)
	if wait_route g2 -6 >/dev/null; then
		ok "SIG$1: and the /128 via g1 gone ($(since "$t_sig") s after the signal)"
	else
		fail "SIG$1: /128 still via $(route_via -6)"
	fi
	if wait_reply_after "$TMP/ping-$1" "$t_moved"; then
		ok "SIG$1 $2: ping resumed via g2: $(gap_report "$TMP/ping-$1" "$t_moved")"
		hs2b=$(handshake 2)
		check "SIG$1: the new session is g2's (g2 handshake $hs2 -> $hs2b)" test "${hs2b:-0}" -gt "${hs2:-0}"
	else
		fail "SIG$1 $2: no reply within 30 s after the route moved"
	fi
	pinger_stop
}
# restore: g1 ready before its route comes back (polled every 50 ms; the
# route is read before /readyz, so a route seen while not ready is caught).
restore_check() { # what
	early=0 seen_ready=0 i=0 n_peers=0 has_c=0
	while [ $i -lt 300 ]; do
		r=$(route_via)
		c=$(ready_code 1)
		[ "$c" = 200 ] && seen_ready=1
		if [ "$r" = g1 ]; then
			[ "$c" = 200 ] || early=1
			# Announced means able to serve: the registry's peers are on the device.
			n_peers=$(ip netns exec $NSG1 wg show gwlg1 peers | wc -l)
			has_c=0
			pub_on 1 "$KC" && has_c=1
			break
		fi
		sleep 0.05
		i=$((i + 1))
	done
	check "$1: g1 re-announces only once ready (route via g1: $r, ready seen: $seen_ready)" \
		test "$r" = g1 -a "$early" = 0 -a "$seen_ready" = 1
	check "$1: when the route came back g1 held the registry's peers (client: $has_c, peers: $n_peers of $(pg_sql "SELECT count(*) FROM wgkit_peer WHERE enabled"))" \
		test "$has_c" = 1
	client_rekey
}

echo "--- 3. node 1's daemon SIGKILLed, then SIGSTOPped"
failover KILL "(no fast failover)"
gwd_start 1
restore_check "restarted after SIGKILL"
check "client pings through g1 again" tunnel_ping

# The client-side fast failover: `wghealth failover` re-handshakes when rx
# stalls while tx goes on (the issue's goal: under 3 s after the withdrawal).
WH_PID=""
if [ -x "$WH" ] && "$WH" failover --help 2>&1 | grep -q 'Usage: wghealth failover'; then
	ip netns exec $NSC "$WH" failover gwlc >"$TMP/wh-failover.log" 2>&1 &
	WH_PID=$!
	at_exit stop_pid "$WH_PID"
	sleep 1
	failover STOP "(wghealth failover on the client)"
	t_res=$(gap_report "$TMP/ping-STOP" "$t_moved" | sed 's/.*resumed \([0-9.]*\) s.*/\1/')
	check "with wghealth failover the ping resumed under 3 s after the withdrawal ($t_res s)" \
		awk -v t="$t_res" 'BEGIN { exit !(t != "" && t < 3) }'
	check "wghealth failover logged its kick" grep -q . "$TMP/wh-failover.log"
else
	skip "wghealth failover" "MISSING: $WH has no failover mode"
	failover STOP "(no fast failover)"
fi
eval "kill -CONT \$GWD_PID1"
restore_check "SIGCONT after SIGSTOP"
check "client pings through g1 again" tunnel_ping
stop_pid "$WH_PID"

# ------------------------------------------------------------ 4. drift
echo "--- 4. a peer removed behind the daemon's back"
PK=$(genpub)
pg_sql "INSERT INTO wgkit_peer (public_key, allowed_ips) VALUES ('$PK', '10.9.0.5/32')" >/dev/null
until_both 5 has_peer || fail "drift: the peer never arrived"
dr0=$(metric 1 wgkit_gateway_drift_repairs_total)
ip netns exec $NSG1 wg set gwlg1 peer "$PK" remove
t0=$(now)
i=0
while ! has_peer 1 && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
if has_peer 1; then
	ok "drift repaired in $(since "$t0") s (DriftCheckSeconds 2)"
else
	fail "drift not repaired within 10 s"
fi
dr1=$(metric 1 wgkit_gateway_drift_repairs_total)
check "wgkit_gateway_drift_repairs_total counts it ($dr0 -> $dr1)" test "${dr1:-0}" -gt "${dr0:-0}"

# ------------------------------------------------------------ 5. bad rows
echo "--- 5. malformed rows are skipped and reported, the others applied"
PK=$(genpub) PKBAD=$(genpub)
br0=$(metric 1 wgkit_gateway_bad_rows_total)
# The second row has one good and one bad prefix: nothing of it may land.
if pg_sql "BEGIN;
INSERT INTO wgkit_peer (public_key, allowed_ips) VALUES ('not-a-key', '10.9.0.6/32');
INSERT INTO wgkit_peer (public_key, allowed_ips) VALUES ('$PKBAD', '10.9.0.8/32,10.9.0.300/32');
INSERT INTO wgkit_peer (public_key, allowed_ips) VALUES ('$PK', '10.9.0.7/32');
COMMIT;" >"$TMP/sql" 2>&1; then
	if until_both 5 has_peer; then ok "the good row of the batch applied on both"; else fail "the good row was not applied"; fi
	id_key=$(pg_sql "SELECT id FROM wgkit_peer WHERE public_key = 'not-a-key'")
	id_pfx=$(pg_sql "SELECT id FROM wgkit_peer WHERE public_key = '$PKBAD'")
	br1=$(metric 1 wgkit_gateway_bad_rows_total)
	check "wgkit_gateway_bad_rows_total +2 ($br0 -> $br1)" test "$br1" -ge $((${br0:-0} + 2))
	check "g1's log names both rows (id=$id_key, id=$id_pfx)" \
		sh -c "grep -q 'id=$id_key\\b' '$TMP/gwd-g1.log' && grep -q 'id=$id_pfx\\b' '$TMP/gwd-g1.log'"
	check "nothing of the bad rows on either device (not half of one)" sh -c "! ip netns exec $NSG1 wg show gwlg1 allowed-ips | grep -qE '10.9.0.6/32|10.9.0.8/32|$PKBAD' &&
		! ip netns exec $NSG2 wg show gwlg2 allowed-ips | grep -qE '10.9.0.6/32|10.9.0.8/32|$PKBAD'"
else
	# A CHECK constraint in the schema refusing the rows is fine too.
	ok "the schema refuses malformed rows itself: $(grep -m1 ERROR "$TMP/sql")"
fi
check "g1 and g2 hold the same peers" sh -c "[ \"\$(ip netns exec $NSG1 wg show gwlg1 peers | sort)\" = \"\$(ip netns exec $NSG2 wg show gwlg2 peers | sort)\" ]"
