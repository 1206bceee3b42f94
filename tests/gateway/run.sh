#!/bin/sh
# tests/gateway/run.sh BUILD: wg-gatewayd (the directory source) on
# wireguard-go in a network namespace, checked with `wg` (the reference
# client): start-up applies the peers; a file added, changed, removed is
# applied (one set, logged as `apply: add=A update=U remove=R`); a bad file
# is skipped and reported while the others apply; drift made with `wg`
# behind the daemon is repaired; a restart over a device in step sends
# nothing (a client's handshake and rx/tx survive); 10,000 peers; a bad
# gateway.conf, a key file 0644, a key in the text are refused and no key
# is ever printed; SIGTERM drains DrainSeconds then exits 0; READY=1,
# WATCHDOG=1 and STOPPING=1 reach a NOTIFY_SOCKET the test listens on.
#
# Needs root, wireguard-go, wg, ip, ping, python3. Namespaces "gwc-<pid>-*",
# interfaces "gwc<pid>*"; everything is removed on exit. Run it under
# `flock /tmp/wgkit-net.lock`. Closing line: "gateway: N passed, N failed, N skipped".
BUILD=${1:-build}
cd "$(dirname "$0")/../.." || exit 1
case $BUILD in /*) ;; *) BUILD=$PWD/$BUILD ;; esac
GWD=$BUILD/wg-gatewayd
. tests/lib.sh
suite_init gateway
T=$SUITE_TMP
CHECK_OUT=$T/out

ID=$$
NS=gwc-$ID-g NSC=gwc-$ID-c
IF=gwc${ID}g IFC=gwc${ID}c
VG=gwc${ID}vg VC=gwc${ID}vc
UG=198.18.250.1 UC=198.18.250.2
TG=10.250.0.1 TC=10.250.0.2
PORT=51950 PORTC=51951

missing=""
[ "$(id -u)" = 0 ] || missing="$missing root"
for t in wireguard-go wg ip python3 ping; do command -v $t >/dev/null 2>&1 || missing="$missing $t"; done
[ -x "$GWD" ] || missing="$missing $GWD(make all)"
[ -n "$missing" ] && cannot "missing:$missing"

genkey() { (umask 077 && wg genkey >"$1"); }
# A peer key of our own making: 44 characters of base64 ending "A=".
pk() { printf 'gwcpeer%035dA=' "$1"; }
# peers FILE FROM TO [NET]: [Peer] sections for keys FROM..TO.
peers() {
	python3 - "$@" <<'EOF'
import sys
f, a, b = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
net = sys.argv[4] if len(sys.argv) > 4 else "10.9"
with open(f + ".tmp", "w") as o:
    for i in range(a, b + 1):
        o.write("[Peer]\nPublicKey = gwcpeer%035dA=\nAllowedIPs = %s.%d.%d/32\n\n"
                % (i, net, i // 250, i % 250 + 1))
import os
os.rename(f + ".tmp", f)
EOF
}
npeers() { wg show "$IF" peers 2>/dev/null | wc -l; }
log_has() { grep -q -- "$2" "$1"; }
count_is() { [ "$(npeers)" = "$1" ]; }

DPID=""
# start_gw CONF LOG [ENV...]: the daemon in the namespace, in the background.
start_gw() {
	_c=$1 _l=$2
	shift 2
	env "$@" ip netns exec "$NS" "$GWD" -c "$_c" >"$_l" 2>&1 &
	DPID=$!
}
stop_gw() { # exit status in $RC
	RC=""
	[ -n "$DPID" ] || return 0
	kill "$DPID" 2>/dev/null
	wait "$DPID"
	RC=$?
	DPID=""
}
# Tear-down runs last first: the daemon stops, then its state file goes.
at_exit rm -f "/run/wgkit/$IF.gwstate" "/run/wgkit/$IF.gwstate.tmp"
at_exit stop_gw

# ------------------------------------------------------------ command line
check "--version names the version" sh -c "'$GWD' --version | grep -q '^wg-gatewayd '"
check "--help lists check-config and migrate" sh -c "'$GWD' --help | grep -q check-config && '$GWD' --help | grep -q migrate"
"$GWD" --bogus >/dev/null 2>&1
rc=$?
if [ $rc = 1 ]; then ok "unknown option: exit 1"; else fail "unknown option: exit $rc, not 1"; fi

# ------------------------------------------------------------ config
genkey "$T/gw.key"
GWPUB=$(wg pubkey <"$T/gw.key")
mkdir -p "$T/peers.d"
write_conf() { # FILE PATH [extra lines]
	_f=$1 _p=$2
	shift 2
	{
		printf '[Interface]\nName = %s   # the device\nPrivateKeyFile = %s\nListenPort = %s\n' "$IF" "$T/gw.key" $PORT
		printf '[Registry]\nSource = directory\nPath = %s\n' "$_p"
		printf '[Apply]\nDriftCheckSeconds = 1\n'
		printf '[Anycast]\nDrainSeconds = 1\n'
		for _x in "$@"; do printf '%s\n' "$_x"; done
	} >"$_f"
}
write_conf "$T/gw.conf" "$T/peers.d"
check "check-config: a good config prints ok" sh -c "'$GWD' check-config -c '$T/gw.conf' | grep -qx ok"

bad_conf() { # NAME EXPECT LINE...: appended LINEs must be refused with EXPECT
	_name=$1 _exp=$2
	shift 2
	write_conf "$T/bad.conf" "$T/peers.d" "$@"
	"$GWD" check-config -c "$T/bad.conf" >"$T/bad.out" 2>&1
	_rc=$?
	cat "$T/bad.out" >>"$T/all-output"
	if [ $_rc = 2 ] && grep -q -- "$_exp" "$T/bad.out"; then ok "check-config refuses $_name (exit 2, $(cat "$T/bad.out" | sed 's/.*: \([^:]*: [^:]*\)$/\1/'))"
	else fail "check-config: $_name (exit $_rc)" "$(cat "$T/bad.out")"; fi
}
bad_conf "an unknown key" "bad.conf:12: Bogus: unknown key in \[Anycast\]" "Bogus = 1"
bad_conf "a bad value" "bad.conf:12: LifetimeSeconds: " "LifetimeSeconds = soon"
bad_conf "a key repeated" "bad.conf:12: DrainSeconds: given twice" "DrainSeconds = 2"
bad_conf "a /24 anycast address" "bad.conf:12: Address: " "Address = 192.0.2.0/24"
bad_conf "an unknown section" "bad.conf:12: Nope: unknown section" "[Nope]"
bad_conf "a shrink guard of 0%" "bad.conf:13: MaxShrinkPercent: '0' is not a percentage in 1..100" "[Apply]" "MaxShrinkPercent = 0"
bad_conf "a start wait of an hour and a day" "bad.conf:13: StartWaitSeconds: '90000' is not a number of seconds in 0..86400" "[Registry]" "StartWaitSeconds = 90000"
bad_conf "a private key in the text" "bad.conf:12: PrivateKey: keys do not belong" "PrivateKey = $(cat "$T/gw.key")"
printf '[Interface]\nName = x\nPrivateKeyFile = %s\n' "$T/gw.key" >"$T/bad.conf"
"$GWD" check-config -c "$T/bad.conf" >"$T/bad.out" 2>&1
rc=$?
cat "$T/bad.out" >>"$T/all-output"
if [ $rc = 2 ] && grep -q "Source: missing" "$T/bad.out"; then ok "check-config refuses a missing [Registry] Source"; else fail "missing Source (exit $rc)" "$(cat "$T/bad.out")"; fi
cp "$T/gw.key" "$T/loose.key" && chmod 0644 "$T/loose.key"
sed "s|$T/gw.key|$T/loose.key|" "$T/gw.conf" >"$T/loose.conf"
"$GWD" -c "$T/loose.conf" >"$T/loose.out" 2>&1
rc=$?
cat "$T/loose.out" >>"$T/all-output"
if [ $rc = 4 ] && grep -q "loose.conf:3: PrivateKeyFile: .*mode 0644.*refused" "$T/loose.out"; then
	ok "a key file of mode 0644 is refused (exit 4, nothing started)"
else fail "key file 0644 (exit $rc)" "$(cat "$T/loose.out")"; fi
mkdir -p "$T/creds" && cp "$T/gw.key" "$T/creds/gateway.key"
sed "s|^PrivateKeyFile = .*|PrivateKeyCredential = gateway.key|" "$T/gw.conf" >"$T/cred.conf"
check "PrivateKeyCredential is read from \$CREDENTIALS_DIRECTORY" \
	sh -c "CREDENTIALS_DIRECTORY='$T/creds' '$GWD' check-config -c '$T/cred.conf' | grep -qx ok"
check "PrivateKeyCredential without \$CREDENTIALS_DIRECTORY is refused" \
	sh -c "! env -u CREDENTIALS_DIRECTORY '$GWD' check-config -c '$T/cred.conf' 2>&1 | grep -q '^ok'"

# ------------------------------------------------------------ the lab
setup() {
	ns_add "$NS" && ns_add "$NSC" || return 1
	veth_pair "$NS" "$VG" "$NSC" "$VC" || return 1
	ip -n "$NS" addr add $UG/24 dev "$VG" && ip -n "$NSC" addr add $UC/24 dev "$VC" || return 1
	wggo_start "$NS" "$IF" "$T/wggo-g.log" && wggo_start "$NSC" "$IFC" "$T/wggo-c.log" || return 1
	ip -n "$NS" addr add $TG/24 dev "$IF" && ip -n "$NSC" addr add $TC/24 dev "$IFC" || return 1
	genkey "$T/c.key"
	wg set "$IFC" private-key "$T/c.key" listen-port $PORTC \
		peer "$GWPUB" endpoint $UG:$PORT allowed-ips $TG/32 || return 1
	ip -n "$NSC" link set "$IFC" up
}
if ! setup >"$T/setup" 2>&1; then
	fail "set-up (namespaces, veth, wireguard-go)" "$(cat "$T/setup")"
	finish
fi
CPUB=$(wg pubkey <"$T/c.key")

peers "$T/peers.d/a.conf" 0 9
peers "$T/peers.d/b.conf" 10 19
peers "$T/peers.d/c.conf" 20 29
printf '[Peer]\nPublicKey = %s\nAllowedIPs = %s/32\n' "$CPUB" $TC >"$T/peers.d/client.conf"

python3 tests/gateway/notify_listen.py "$T/notify.sock" "$T/notify.log" &
NPID=$!
at_exit kill $NPID
wait_for 30 test -S "$T/notify.sock"

start_gw "$T/gw.conf" "$T/d1.log" NOTIFY_SOCKET="$T/notify.sock" WATCHDOG_USEC=400000
if wait_for 100 count_is 31; then ok "start: the 31 peers of 4 files applied ($(grep -o 'start: add=.*' "$T/d1.log"))"
else fail "start: $(npeers) peers, not 31" "$(cat "$T/d1.log")"; fi
check "start: private key and listen port set" sh -c "wg show '$IF' public-key | grep -qx '$GWPUB' && wg show '$IF' listen-port | grep -qx $PORT"
check "READY=1 reaches \$NOTIFY_SOCKET" wait_for 30 grep -qx READY=1 "$T/notify.log"
check "WATCHDOG=1 every WATCHDOG_USEC/2 (at least 3 in 1 s)" sh -c "sleep 1; [ \$(grep -cx WATCHDOG=1 '$T/notify.log') -ge 3 ]"
check "STATUS= names the peers" grep -q "^STATUS=peers=31 " "$T/notify.log"
# Directory source, no [Http]: libpq and libmicrohttpd (and what they pull
# in) never loaded (gateway/dl.c loads them only for configs that need them).
# (A sanitizer build links libcurl and what it pulls in itself: there only
# the two libraries loaded on demand are checked.)
check_detail() { grep '\.so' "/proc/$DPID/maps" | awk '{print $6}' | sort -u; }
if grep -q libasan "/proc/$DPID/maps"; then
	check "no PostgreSQL, no [Http]: libpq, libmicrohttpd not mapped (ASan build)" sh -c \
		"grep -q wg-gatewayd /proc/$DPID/maps && ! grep -qE 'libpq\.so|libmicrohttpd\.so' /proc/$DPID/maps"
else
	check "no PostgreSQL, no [Http]: libpq, libmicrohttpd, gnutls, libssl, krb5 not mapped" sh -c \
		"grep -q wg-gatewayd /proc/$DPID/maps && ! grep -qE 'libpq\.so|libmicrohttpd\.so|libgnutls|libssl|libkrb5' /proc/$DPID/maps"
fi
check_detail() { :; }
# Transparent huge pages off for the daemon (gateway/loop.c: khugepaged
# would fill the heap the start's peak left sparse).
check "transparent huge pages off for the daemon (THP_enabled: 0)" grep -qx 'THP_enabled:[[:space:]]*0' "/proc/$DPID/status"

# ---- two at once: the second is refused, the first untouched
ip netns exec "$NS" "$GWD" -c "$T/gw.conf" >"$T/second.log" 2>&1
rc=$?
if [ $rc = 5 ] && grep -q "'$IF' is busy: another wgctl or wg-gatewayd holds" "$T/second.log" && count_is 31; then
	ok "a second wg-gatewayd on the same interface: refused (exit 5), the first untouched"
else fail "second daemon (exit $rc, $(npeers) peers)" "$(cat "$T/second.log")"; fi

# ---- changes
peers "$T/peers.d/d.conf" 100 100 10.7
if wait_for 30 log_has "$T/d1.log" "apply: add=1 update=0 remove=0" && wg show "$IF" peers | grep -qx "$(pk 100)" &&
	log_has "$T/d1.log" "source: $T/peers.d/d.conf: a new file, 1 peers; no full read"; then
	ok "a file added: its peer applied, the other files not read nor stat'ed ($(grep -o 'apply: add=1 update=0 remove=0 ms=[0-9.]*' "$T/d1.log"))"
else fail "file added" "$(cat "$T/d1.log")"; fi
printf '[Peer]\nPublicKey = %s\nAllowedIPs = 10.6.0.1/32, 10.6.1.0/24\n' "$(pk 100)" >"$T/peers.d/d.conf.tmp"
mv "$T/peers.d/d.conf.tmp" "$T/peers.d/d.conf"
if wait_for 30 log_has "$T/d1.log" "apply: add=0 update=1 remove=0" &&
	wg show "$IF" allowed-ips | grep "^$(pk 100)" | grep -q "10.6.1.0/24"; then
	ok "a file changed (atomic rename): the peer updated, nothing else sent"
else fail "file changed" "$(cat "$T/d1.log")" "$(wg show "$IF" allowed-ips | grep "^$(pk 100)")"; fi
rm "$T/peers.d/c.conf"
if wait_for 30 log_has "$T/d1.log" "apply: add=0 update=0 remove=10" && wait_for 10 count_is 22 &&
	log_has "$T/d1.log" "source: $T/peers.d/c.conf: gone, its 10 peers removed; no full read"; then
	ok "a file removed: its 10 peers removed, no full read"
else fail "file removed ($(npeers) peers)" "$(cat "$T/d1.log")"; fi

# ---- a changed file is parsed by its changed sections only
peers "$T/peers.d/g.conf" 300 309 10.8
wait_for 30 log_has "$T/d1.log" "apply: add=10 update=0 remove=0"
python3 - "$T/peers.d/g.conf" <<'EOF'
import os, sys
f = sys.argv[1]
t = open(f).read().replace("AllowedIPs = 10.8.1.56/32", "AllowedIPs = 10.8.1.56/32, 10.8.9.0/24")
open(f + ".tmp", "w").write("# a comment changes nothing\n" + t)
os.rename(f + ".tmp", f)
EOF
if wait_for 30 log_has "$T/d1.log" "g.conf: 1 of 10 \[Peer\] sections changed, only those parsed" &&
	wait_for 30 sh -c "wg show '$IF' allowed-ips | grep '^$(pk 305)' | grep -q 10.8.9.0/24"; then
	ok "one section of ten changed: only it parsed and sent ($(grep -o 'g.conf: 1 of 10.*' "$T/d1.log" | head -n 1))"
else fail "one section changed" "$(tail -n 5 "$T/d1.log")"; fi
python3 - "$T/peers.d/g.conf" <<'EOF'
import os, sys
f = sys.argv[1]
t = open(f).read().replace("AllowedIPs = 10.8.1.60/32", "AllowedIPs = 10.8.1.999/32")
open(f + ".tmp", "w").write(t)
os.rename(f + ".tmp", f)
EOF
# Line 40: the comment, nine 4-line sections, then [Peer], PublicKey, AllowedIPs.
if wait_for 30 log_has "$T/d1.log" "bad row id=0: $T/peers.d/g.conf:40: AllowedIPs" &&
	wg show "$IF" allowed-ips | grep "^$(pk 309)" | grep -q "10.8.1.60/32"; then
	ok "a section gone bad in a parsed file: reported at its line in the whole file, the peer kept"
else fail "bad section" "$(grep 'g.conf' "$T/d1.log" | tail -n 3)"; fi
rm "$T/peers.d/g.conf"
wait_for 30 log_has "$T/d1.log" "apply: add=0 update=0 remove=10"
# ---- a changed file's sections handed over alone (no full read)
peers "$T/peers.d/h.conf" 400 409 10.10
wait_for 30 log_has "$T/d1.log" "apply: add=10 update=0 remove=0"
# A key replaced, a section dropped, an allowed IP changed: one file, one rename.
python3 - "$T/peers.d/h.conf" "$(pk 401)" "$(pk 402)" "$(pk 410)" <<'EOF'
import os, sys
f, k1, k2, k3 = sys.argv[1:5]
t = open(f).read().replace(k1, k3).replace("10.10.1.155/32", "10.10.1.155/32, 10.10.9.0/24")
t = "[Peer]".join(p for p in t.split("[Peer]") if k2 not in p)
open(f + ".tmp", "w").write(t)
os.rename(f + ".tmp", f)
EOF
if wait_for 30 log_has "$T/d1.log" "h.conf: 2 of 9 \[Peer\] sections changed, only those parsed; 3 gone; no full read" &&
	wait_for 30 log_has "$T/d1.log" "apply: add=1 update=1 remove=2" &&
	wg show "$IF" peers | grep -qx "$(pk 410)" && ! wg show "$IF" peers | grep -qx "$(pk 402)" &&
	wg show "$IF" allowed-ips | grep "^$(pk 404)" | grep -q 10.10.9.0/24; then
	ok "a key replaced, a section dropped, an IP added in one file: only those handed over, no full read"
else fail "quick rescan" "$(grep 'h.conf\|apply:' "$T/d1.log" | tail -n 4)"; fi
# A new section whose key another file holds: the full rescan reports it.
printf '\n[Peer]\nPublicKey = %s\nAllowedIPs = 10.2.0.9/32\n' "$(pk 1)" >>"$T/peers.d/h.conf"
if wait_for 30 log_has "$T/d1.log" "h.conf: peer 10: its PublicKey is already in a.conf; skipped" &&
	! wg show "$IF" allowed-ips | grep "^$(pk 1)" | grep -q 10.2.0.9; then
	ok "a new section with a key of another file: left to the full rescan, reported, not applied"
else fail "new key in two files" "$(grep 'h.conf' "$T/d1.log" | tail -n 3)"; fi
# Rewritten in place (truncate, then write) again and again while read: the
# daemon survives (a mapped file that shrinks is read again) and ends with
# the last version.
peers "$T/h1" 400 409 10.10
peers "$T/h2" 400 409 10.11
for i in $(seq 1 40); do cp "$T/h1" "$T/peers.d/h.conf"; cp "$T/h2" "$T/peers.d/h.conf"; done
if wait_for 50 sh -c "wg show '$IF' allowed-ips | grep '^$(pk 405)' | grep -q 10.11.1.156/32" &&
	kill -0 "$DPID" 2>/dev/null && count_is 32; then
	ok "80 in-place rewrites (truncate, write) while the daemon reads: alive, ends with the last version"
else fail "in-place rewrites" "$(tail -n 5 "$T/d1.log")" "$(npeers) peers"; fi
rm "$T/peers.d/h.conf"
wait_for 30 log_has "$T/d1.log" "apply: add=0 update=0 remove=10"

# ---- a bad file among good ones
echo "this is not a config" >"$T/peers.d/b.conf"
peers "$T/peers.d/e.conf" 200 201 10.5
if wait_for 30 log_has "$T/d1.log" "bad row id=0: $T/peers.d/b.conf:1: " && wait_for 30 count_is 24 &&
	wg show "$IF" peers | grep -qx "$(pk 15)" && wg show "$IF" peers | grep -qx "$(pk 201)"; then
	ok "a bad file: reported with file:line, its last good peers kept, the other files applied"
else fail "bad file ($(npeers) peers)" "$(cat "$T/d1.log")"; fi
printf '[Peer]\nPublicKey = %s\nAllowedIPs = 10.4.0.1/32\nAllowedIPs = 10.4.0.300/32\n' "$(pk 15)" >"$T/peers.d/b.conf"
if wait_for 30 sh -c "[ \$(grep -c 'bad row id=0: $T/peers.d/b.conf' '$T/d1.log') -ge 2 ]" && count_is 24 &&
	! wg show "$IF" allowed-ips | grep "^$(pk 15)" | grep -q 10.4.0.1; then
	ok "a file bad half way down: nothing of it applied"
else fail "half-bad file" "$(cat "$T/d1.log")"; fi
peers "$T/peers.d/b.conf" 10 19
printf '[Peer]\nPublicKey = %s\nAllowedIPs = 10.2.0.1/32\n' "$(pk 0)" >"$T/peers.d/dup.conf"
if wait_for 30 log_has "$T/d1.log" "dup.conf: peer 1: its PublicKey is already in a.conf; skipped" &&
	! wg show "$IF" allowed-ips | grep "^$(pk 0)" | grep -q 10.2.0.1; then
	ok "a key in two files: the second reported and skipped"
else fail "key in two files" "$(cat "$T/d1.log")"; fi
rm "$T/peers.d/dup.conf"

# ---- the folder itself switched (what deploys do: a new folder renamed in,
# a symlink flipped) or gone a while: the daemon follows the path, and the
# folder it names now is the one watched (else its changes would wait for
# the timed full read, 300 s here).
wait_for 30 count_is 24
cp -a "$T/peers.d" "$T/peers.new"
peers "$T/peers.new/s.conf" 500 500 10.12
mv "$T/peers.d" "$T/peers.v1"
mv "$T/peers.new" "$T/peers.d"
if wait_for 50 count_is 25 && wait_for 30 log_has "$T/d1.log" "source: '$T/peers.d' is another folder now: watching it"; then
	peers "$T/peers.d/t.conf" 501 501 10.12
	if wait_for 30 count_is 26; then
		ok "a new folder renamed over the path: applied, and a change in it seen at once (the new folder watched)"
	else fail "a change in the new folder" "$(npeers) peers" "$(tail -n 4 "$T/d1.log")"; fi
else fail "folder renamed over the path" "$(npeers) peers" "$(tail -n 4 "$T/d1.log")"; fi
# The path a symlink: flipped atomically to another folder (ln -s; mv -T).
rm -rf "$T/peers.v1"
mv "$T/peers.d" "$T/peers.v1"
ln -s peers.v1 "$T/peers.lnk" && mv -T "$T/peers.lnk" "$T/peers.d"
cp -a "$T/peers.v1" "$T/peers.v2"
peers "$T/peers.v2/u.conf" 502 502 10.12
wait_for 30 count_is 26
ln -s peers.v2 "$T/peers.lnk" && mv -T "$T/peers.lnk" "$T/peers.d"
if wait_for 50 count_is 27; then
	peers "$T/peers.d/v.conf" 503 503 10.12
	if wait_for 30 count_is 28; then
		ok "a symlink to the folder flipped to another: applied, its changes seen at once"
	else fail "a change in the folder the symlink names now" "$(npeers) peers" "$(tail -n 4 "$T/d1.log")"; fi
else fail "symlink flipped" "$(npeers) peers" "$(tail -n 4 "$T/d1.log")"; fi
# Gone a while: the peers stay, one line says so (the swap above may have
# been seen between its two renames: counted from here); back: read.
n0=$(grep -c "cannot watch '$T/peers.d'" "$T/d1.log")
rm "$T/peers.d"
if wait_for 30 sh -c "[ \$(grep -c \"cannot watch '$T/peers.d': No such file or directory; the peers stay as they are, looking again every second\" '$T/d1.log') -gt $n0 ]" &&
	sleep 1.5 && count_is 28 && [ "$(grep -c "cannot watch '$T/peers.d'" "$T/d1.log")" = $((n0 + 1)) ]; then
	ok "the folder gone: the peers stay, logged once"
else fail "the folder gone" "$(npeers) peers" "$(grep 'source:' "$T/d1.log" | tail -n 8)"; fi
rm "$T/peers.v2/s.conf" "$T/peers.v2/t.conf" "$T/peers.v2/u.conf" "$T/peers.v2/v.conf"
rm -rf "$T/peers.v1"
mv "$T/peers.v2" "$T/peers.d"
if wait_for 50 log_has "$T/d1.log" "source: '$T/peers.d' is there again" && wait_for 30 count_is 24; then
	ok "the folder back (with four files fewer): read, watched again, 24 peers"
else fail "the folder back" "$(npeers) peers" "$(tail -n 4 "$T/d1.log")"; fi
# A symlink on the way to the folder flipped (Path = cur/peers.d, cur a
# release): no event in the folder nor in its parent says so; the path is
# looked at every second. A second daemon, on a device of its own.
IF2=gwc${ID}h
at_exit rm -f "/run/wgkit/$IF2.gwstate" "/run/wgkit/$IF2.gwstate.tmp"
mkdir -p "$T/rel1/peers.d" "$T/rel2/peers.d"
peers "$T/rel1/peers.d/a.conf" 600 601 10.13
peers "$T/rel2/peers.d/a.conf" 600 602 10.13
ln -s rel1 "$T/cur"
printf '[Interface]\nName = %s\nPrivateKeyFile = %s\nListenPort = %s\n[Registry]\nSource = directory\nPath = %s\n[Anycast]\nDrainSeconds = 0\n' \
	"$IF2" "$T/gw.key" $((PORT + 10)) "$T/cur/peers.d" >"$T/gw2.conf"
ip netns exec "$NS" "$GWD" -c "$T/gw2.conf" >"$T/e1.log" 2>&1 &
EPID=$!
at_exit stop_pid "$EPID"
n2() { [ "$(wg show "$IF2" peers 2>/dev/null | wc -l)" = "$1" ]; }
if wait_for 150 n2 2; then
	ln -s rel2 "$T/cur.new" && mv -T "$T/cur.new" "$T/cur"
	if wait_for 40 n2 3 && wait_for 20 log_has "$T/e1.log" "source: '$T/cur/peers.d' is another folder now: watching it"; then
		peers "$T/rel2/peers.d/b.conf" 603 603 10.13
		if wait_for 30 n2 4; then
			ok "a symlink on the way to the folder flipped: seen within a second, the new folder watched"
		else fail "a change after the flip" "$(tail -n 4 "$T/e1.log")"; fi
	else fail "a symlink on the way flipped" "$(wg show "$IF2" peers 2>&1 | wc -l) peers" "$(tail -n 4 "$T/e1.log")"; fi
else fail "a second daemon on $IF2" "$(tail -n 4 "$T/e1.log")"; fi
kill "$EPID" 2>/dev/null
wait "$EPID" 2>/dev/null

# ---- a file of the folder that is a symlink to a file elsewhere (kept by
# another tool): the target's changes make no event in the folder; its own
# watch sees them at once (not at the full read, 300 s here).
wait_for 30 count_is 24
mkdir -p "$T/ext"
peers "$T/ext/x.conf" 800 801 10.15
ln -s ../ext/x.conf "$T/peers.d/x.conf"
add_x() { printf '\n[Peer]\nPublicKey = %s\nAllowedIPs = 10.15.9.%s/32\n' "$(pk "$1")" "$2" >>"$T/ext/x.conf"; }
if wait_for 30 count_is 26; then
	add_x 810 1 # in place (>>): written through the target's own path
	if wait_for 30 count_is 27 && log_has "$T/d1.log" "source: $T/peers.d/x.conf: [0-9]* of 3 \[Peer\] sections changed.*no full read"; then
		ok "a symlinked file's target edited in place elsewhere: applied at once, by its changed section"
	else fail "symlink target edited in place" "$(npeers) peers" "$(tail -n 4 "$T/d1.log")"; fi
	peers "$T/ext/x.conf" 800 800 10.15 # renamed over the target
	add_x 811 2                         # and then the new inode edited
	x_is() { [ "$(wg show "$IF" peers | grep '^gwcpeer0*8[01][0-9]A=' | sort | tr '\n' ' ')" = "$(pk 800) $(pk 811) " ]; }
	if wait_for 30 x_is && count_is 26; then
		ok "the target renamed over, then edited: both applied at once (the watch follows the new file)"
	else fail "symlink target renamed over" "$(npeers) peers" "$(tail -n 4 "$T/d1.log")"; fi
	rm "$T/ext/x.conf"
	if wait_for 30 count_is 24; then
		peers "$T/ext/x.conf" 802 802 10.15
		if wait_for 40 count_is 25; then
			ok "the target deleted: its peers removed; made again: read within a second or two"
		else fail "symlink target made again" "$(npeers) peers" "$(tail -n 4 "$T/d1.log")"; fi
	else fail "symlink target deleted" "$(npeers) peers" "$(tail -n 4 "$T/d1.log")"; fi
else fail "a symlinked file" "$(npeers) peers" "$(tail -n 4 "$T/d1.log")"; fi
rm -f "$T/peers.d/x.conf"
wait_for 30 count_is 24

# ---- a file holding a preshared key that others can read: said once (as
# wgctl says it of configs), the key itself never
PSK=$(wg genpsk)
psk_file() { # MODE IP
	printf '[Peer]\nPublicKey = %s\nPresharedKey = %s\nAllowedIPs = %s/32\n' "$(pk 700)" "$PSK" "$2" >"$T/peers.d/.psk.tmp"
	chmod "$1" "$T/peers.d/.psk.tmp"
	mv "$T/peers.d/.psk.tmp" "$T/peers.d/psk.conf"
}
psk_warn="source: $T/peers.d/psk.conf holds a preshared key and is accessible by group or others (mode 0644; chmod 600 it)"
psk_file 644 10.14.0.1
if wait_for 30 count_is 25 && wait_for 20 log_has "$T/d1.log" "$psk_warn"; then
	psk_file 644 10.14.0.2
	wait_for 30 sh -c "wg show '$IF' allowed-ips | grep '^$(pk 700)' | grep -q 10.14.0.2/32"
	psk_file 600 10.14.0.3
	if wait_for 30 sh -c "wg show '$IF' allowed-ips | grep '^$(pk 700)' | grep -q 10.14.0.3/32" &&
		[ "$(grep -c 'holds a preshared key' "$T/d1.log")" = 1 ] && ! grep -qF -- "$PSK" "$T/d1.log"; then
		ok "a peers file with a PresharedKey, mode 0644: warned once (not again when rewritten), the key never printed"
	else fail "preshared key warning" "$(grep -c 'holds a preshared key' "$T/d1.log") warnings" "$(tail -n 4 "$T/d1.log")"; fi
else fail "a peers file with a PresharedKey, mode 0644" "$(npeers) peers" "$(tail -n 4 "$T/d1.log")"; fi
rm "$T/peers.d/psk.conf"
wait_for 30 count_is 24

# ---- drift
wait_for 30 count_is 24
wg set "$IF" peer "$(pk 3)" remove
wg set "$IF" peer "$(pk 4)" allowed-ips 10.3.3.3/32
if wait_for 40 log_has "$T/d1.log" "drift: repaired" && wait_for 20 count_is 24 &&
	wg show "$IF" allowed-ips | grep "^$(pk 4)" | grep -q "10.9.0.5/32" &&
	! wg show "$IF" allowed-ips | grep "^$(pk 4)" | grep -q "10.3.3.3/32"; then
	ok "drift behind the daemon's back repaired ($(grep -o 'drift: repaired.*' "$T/d1.log" | head -n 1))"
else fail "drift not repaired" "$(cat "$T/d1.log")"; fi

# ---- SIGHUP
kill -HUP "$DPID"
check "SIGHUP: a full re-read, logged" wait_for 30 log_has "$T/d1.log" "signal: SIGHUP, full re-read"

# ---- the device deleted behind the daemon: made again (the userspace
# implementation, as wgctl up starts it), with its peers
ip -n "$NS" link del "$IF"
if wait_for 150 log_has "$T/d1.log" "device: created $IF (userspace" && wait_for 50 count_is 24; then
	ok "device deleted: created again with its 24 peers ($(grep -o 'replan: add=[0-9]*' "$T/d1.log"))"
else fail "device deleted ($(npeers) peers)" "$(tail -n 8 "$T/d1.log")"; fi
ip -n "$NS" addr add $TG/24 dev "$IF" 2>/dev/null

# ---- the client's handshake survives a restart
if ip netns exec "$NSC" ping -c 2 -W 2 $TG >"$T/ping" 2>&1; then ok "client pings the gateway through the tunnel"
else fail "client ping" "$(cat "$T/ping")"; fi
sleep 1
wg show "$IF" dump | grep "^$CPUB" | cut -f 5,6,7 >"$T/hs1"
t0=$(date +%s%N)
stop_gw
t1=$(date +%s%N)
ms=$(((t1 - t0) / 1000000))
if [ "$RC" = 0 ] && [ $ms -ge 900 ] && [ $ms -lt 4000 ]; then ok "SIGTERM: drained DrainSeconds (1 s) and exited 0 after $ms ms"
else fail "SIGTERM: exit $RC after $ms ms" "$(tail -n 5 "$T/d1.log")"; fi
check "STOPPING=1 reaches \$NOTIFY_SOCKET" grep -qx STOPPING=1 "$T/notify.log"
start_gw "$T/gw.conf" "$T/d2.log"
wait_for 50 log_has "$T/d2.log" "start: ready"
wg show "$IF" dump | grep "^$CPUB" | cut -f 5,6,7 >"$T/hs2"
if log_has "$T/d2.log" "start: device in step, 0 set"; then ok "restart over a device in step: $(grep -o 'start: device in step.*' "$T/d2.log")"
else fail "restart sent something" "$(cat "$T/d2.log")"; fi
if [ -s "$T/hs1" ] && ! grep -q "^0" "$T/hs1" && cmp -s "$T/hs1" "$T/hs2"; then
	ok "restart: the client's latest handshake and rx/tx unchanged ($(tr '\t' ' ' <"$T/hs2"))"
else fail "restart: handshake/counters changed" "$(cat "$T/hs1")" "$(cat "$T/hs2")"; fi
check "restart: the registry read right after, as the state file said" wait_for 50 log_has "$T/d2.log" "start: registry read: as the state file said, 0 set peers=24"
check "the state file: 0600, in the run folder" sh -c "[ \"\$(stat -c %a /run/wgkit/$IF.gwstate)\" = 600 ]"
stop_gw
# A file changed while the daemon was down: the state file names other
# content, so the start reads the registry (and applies the change).
peers "$T/peers.d/e.conf" 200 202 10.5
start_gw "$T/gw.conf" "$T/d2b.log"
if wait_for 50 log_has "$T/d2b.log" "start: add=1 update=0 remove=0" &&
	! log_has "$T/d2b.log" "state file says"; then
	ok "restart after a file changed meanwhile: read and applied, the state file not used"
else fail "restart after a change" "$(grep 'start:' "$T/d2b.log")"; fi
stop_gw
# The device changed while the daemon was down: its digest is not the state
# file's, so the registry is read and the device planned back.
wg set "$IF" peer "$(pk 3)" remove
start_gw "$T/gw.conf" "$T/d2c.log"
if wait_for 50 log_has "$T/d2c.log" "start: the device is not as the state file says" &&
	wait_for 50 log_has "$T/d2c.log" "start: add=1 update=0 remove=0" && wait_for 20 count_is 25; then
	ok "restart over a device changed meanwhile: the state file refused, the peer put back"
else fail "restart over a changed device ($(npeers))" "$(grep 'start:' "$T/d2c.log")"; fi
stop_gw
# A torn or foreign state file is ignored.
printf 'garbage' >/run/wgkit/$IF.gwstate
start_gw "$T/gw.conf" "$T/d2d.log"
if wait_for 50 log_has "$T/d2d.log" "start: device in step, 0 set peers=25" && ! log_has "$T/d2d.log" "state file says"; then
	ok "a torn state file: ignored, the registry read, nothing sent"
else fail "torn state file" "$(grep 'start:' "$T/d2d.log")"; fi
stop_gw

# ---- 10,000 peers, from one whole config (its [Interface] ignored)
{
	printf '[Interface]\nPrivateKey = %s\nListenPort = 1\nAddress = 10.0.0.1/24\n\n' "$(wg genkey)"
} >"$T/big.conf"
peers "$T/big.peers" 1000 10999 10.10
cat "$T/big.peers" >>"$T/big.conf"
chmod 600 "$T/big.conf"
write_conf "$T/big-gw.conf" "$T/big.conf"
start_gw "$T/big-gw.conf" "$T/d3.log"
if wait_for 300 log_has "$T/d3.log" "start: ready" && count_is 10000; then
	ok "10,000 peers from one config applied ($(grep -o 'start: add=.*' "$T/d3.log"))"
else fail "10,000 peers ($(npeers))" "$(cat "$T/d3.log")"; fi
check "10,000: [Interface] of the file ignored (key and port are the daemon's)" \
	sh -c "wg show '$IF' public-key | grep -qx '$GWPUB' && wg show '$IF' listen-port | grep -qx $PORT"
sed -i "s|^PublicKey = $(pk 5000)|PublicKey = $(pk 99999)|" "$T/big.conf"
if wait_for 50 log_has "$T/d3.log" "apply: add=1 update=0 remove=1" && count_is 10000 &&
	wg show "$IF" peers | grep -qx "$(pk 99999)"; then
	ok "10,000: one peer changed in place: one set of 2 peers ($(grep -o 'apply: add=1 update=0 remove=1 ms=[0-9.]*' "$T/d3.log"))"
else fail "10,000: one change" "$(tail -n 5 "$T/d3.log")"; fi
# The file truncated to 100 peers (a deploy cut short): taking the device
# from 10,000 to 100 peers is refused (MaxShrinkPercent, default 50), the
# device kept; the file whole again: nothing to send, the hold lifted.
head -n 400 "$T/big.peers" >"$T/big.cut"
cp "$T/big.conf" "$T/big.full"
{ sed -n '1,/^\[Peer\]/p' "$T/big.conf" | sed '$d'; cat "$T/big.cut"; } >"$T/big.tmp"
mv "$T/big.tmp" "$T/big.conf"
if wait_for 50 log_has "$T/d3.log" "apply: refused: it would take $IF from 10000 to 100 peers (remove 9900, add 0; MaxShrinkPercent=50)" &&
	sleep 1 && count_is 10000; then
	ok "10,000: a file cut to 100 peers: the removal of 9,900 refused, the device kept"
else fail "10,000: truncation guard ($(npeers) peers)" "$(tail -n 3 "$T/d3.log")"; fi
cp "$T/big.full" "$T/big.tmp"
mv "$T/big.tmp" "$T/big.conf"
if wait_for 50 log_has "$T/d3.log" "replan: device in step, 0 set peers=10000" && count_is 10000; then
	ok "10,000: the file whole again: planned against the device, nothing to send"
else fail "10,000: after the guard" "$(tail -n 3 "$T/d3.log")"; fi
stop_gw
start_gw "$T/big-gw.conf" "$T/d4.log"
if wait_for 300 log_has "$T/d4.log" "start: device in step, 0 set"; then
	ok "10,000: restart in step: $(grep -o 'start: device in step.*' "$T/d4.log")"
else fail "10,000: restart" "$(cat "$T/d4.log")"; fi
stop_gw
[ "$RC" = 0 ] || fail "10,000: SIGTERM exit $RC"

# ---- no key material anywhere in what was printed
cat "$T"/d*.log "$T/notify.log" >>"$T/all-output"
leak=""
for k in "$T/gw.key" "$T/c.key"; do
	grep -qF "$(cat "$k")" "$T/all-output" && leak="$leak $k"
	grep -qF "$(cut -c 1-20 "$k")" "$T/all-output" && leak="$leak $k(part)"
done
if [ -z "$leak" ]; then ok "no private key, nor 20 characters of one, in any output"
else fail "key material printed:$leak"; fi

finish
