# Part 3 of tests/uapi/run.sh (sourced): `wgctl sync` against wireguard-go
# through the UAPI backend. Random desired states applied in sequence must
# end equal to the file (read back with `wg showconf`); a second sync of the
# same file sends no set transaction and exits 0 under --detailed-exitcode;
# an endpoint the peer roamed to survives a sync of an unchanged file.
# Uses run.sh's helpers and variables.

SY() { "$WGCTL" sync --state-dir "$TMP/sync-state" "$@"; }
SY_POOL=200
SY_STATES=5

# sy_conf FILE SEED: a random desired state (see tests/kernel/guest/test_sync.sh).
sy_conf() {
	awk -v seed="$2" -v pool=$SY_POOL -v k1="$(cat "$TMP/sy1.key")" -v k2="$(cat "$TMP/sy2.key")" \
		-v s1="$(cat "$TMP/sypsk")" 'BEGIN {
		srand(seed)
		printf "[Interface]\nPrivateKey = %s\n", rand() < 0.5 ? k1 : k2
		printf "ListenPort = %d\n", 52900 + int(rand() * 3)
		if (rand() < 0.5) printf "FwMark = 0x%x\n", 1 + int(rand() * 3)
		for (i = 1; i <= pool; i++) {
			if (rand() >= 0.75) continue
			printf "\n[Peer]\nPublicKey = UapiSyncPeer%030dA=\n", i
			v = int(rand() * 3)
			a = sprintf("10.%d.%d.%d/32", 100 + v, int(i / 256), i % 256)
			r = rand()
			if (r < 0.3) a = a sprintf(", fd%02x::%x/128", v + 1, i)
			else if (r < 0.4) a = a sprintf(", 172.%d.%d.%d/31", 16 + v, int(i / 128), (i % 128) * 2)
			else if (r < 0.45) a = ""
			if (a != "") printf "AllowedIPs = %s\n", a
			# TEST-NET-1: the namespace has no route there, nothing leaves.
			if (i % 3 == 0) printf "Endpoint = 192.0.2.%d:%d\n", 1 + int(rand() * 3), 10000 + i
			if (rand() < 0.1) printf "PresharedKey = %s\n", s1
		}
	}' >"$1"
}

sy_equal() { # FILE: wireguard-go holds exactly FILE
	wg showconf "$IFA" >"$TMP/sy-run.conf" && python3 "$HERE/compare.py" conf "$1" "$TMP/sy-run.conf"
}

sy_stat() { sed -n "s/.*sync: stats: .*$1=\([0-9]*\).*/\1/p" "$TMP/sy-err"; }

echo "=== uapi part 3: wgctl sync against wireguard-go"
destroy_instances
if ! start_instances >"$TMP/setup" 2>&1; then
	bad "part 3 set-up (namespaces, veth, wireguard-go)"; cat "$TMP/setup"
	return
fi
genkey "$TMP/sy1.key"; genkey "$TMP/sy2.key"; (umask 077 && wg genpsk >"$TMP/sypsk")

i=1
while [ $i -le $SY_STATES ]; do
	sy_conf "$TMP/sy$i.conf" $((i * 7919))
	n=$(grep -c '^\[Peer\]' "$TMP/sy$i.conf")
	rc=0
	SY --detailed-exitcode "$IFA" "$TMP/sy$i.conf" >"$TMP/sy-out" 2>"$TMP/sy-err" || rc=$?
	if [ $rc = 2 ]; then ok "wgctl sync: random state $i ($n peers) applied, exit 2 (changed)"
	else bad "wgctl sync: random state $i: exit $rc, want 2: $(head -n 2 "$TMP/sy-err")"; fi
	check "wgctl sync: random state $i equals wg showconf" sy_equal "$TMP/sy$i.conf"
	rc=0
	SY --detailed-exitcode --stats "$IFA" "$TMP/sy$i.conf" >"$TMP/sy-out" 2>"$TMP/sy-err" || rc=$?
	if [ $rc = 0 ] && [ "$(sy_stat set_msgs)" = 0 ]; then
		ok "wgctl sync: state $i again: exit 0, 0 set transactions"
	else
		bad "wgctl sync: state $i again: exit $rc, set_msgs '$(sy_stat set_msgs)': $(cat "$TMP/sy-err")"
	fi
	i=$((i + 1))
done

# Roaming: the endpoint the peer moved to survives a sync of the same file.
P=UapiSyncPeer000000000000000000000000000003A=
printf '[Interface]\nPrivateKey = %s\nListenPort = 52900\n\n[Peer]\nPublicKey = %s\nAllowedIPs = 10.9.0.3/32\nEndpoint = 192.0.2.9:51820\n' \
	"$(cat "$TMP/sy1.key")" "$P" >"$TMP/syr.conf"
check "wgctl sync: one peer with an endpoint" SY "$IFA" "$TMP/syr.conf"
wg set "$IFA" peer "$P" endpoint 198.51.100.7:40000
rc=0
SY --detailed-exitcode --stats "$IFA" "$TMP/syr.conf" >"$TMP/sy-out" 2>"$TMP/sy-err" || rc=$?
ep=$(wg show "$IFA" endpoints | cut -f2)
if [ $rc = 0 ] && [ "$ep" = 198.51.100.7:40000 ] && [ "$(sy_stat set_msgs)" = 0 ]; then
	ok "wgctl sync: roamed endpoint survives a sync of the unchanged file"
else
	bad "wgctl sync: after roaming: exit $rc, endpoint $ep, set_msgs '$(sy_stat set_msgs)'"
fi
sed 's/192.0.2.9:51820/192.0.2.10:51820/' "$TMP/syr.conf" >"$TMP/syr2.conf"
rc=0
SY --detailed-exitcode "$IFA" "$TMP/syr2.conf" >"$TMP/sy-out" 2>"$TMP/sy-err" || rc=$?
ep=$(wg show "$IFA" endpoints | cut -f2)
if [ $rc = 2 ] && [ "$ep" = 192.0.2.10:51820 ]; then
	ok "wgctl sync: a changed Endpoint line is applied"
else
	bad "wgctl sync: changed Endpoint line: exit $rc, endpoint $ep"
fi
destroy_instances
