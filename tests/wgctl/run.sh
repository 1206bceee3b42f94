#!/bin/sh
# Host-side CLI tests for wgctl. Key commands run anywhere; everything that
# needs a device runs against wireguard-go (the UAPI backend: the host kernel
# has no WireGuard) in network namespaces wc-* with interfaces wc*, which are
# stopped by PID and removed on exit. Only loopback and namespace-local
# addresses are used; nothing is sent anywhere.
#   sh tests/wgctl/run.sh BUILD
# Prints "wgctl: N passed, N failed, N skipped"; exits non-zero on failure.
# check() takes shell code in single quotes, evaluated later, by design:
# shellcheck disable=SC2016,SC2034
set -u
BUILD=${1:-build}
cd "$(dirname "$0")/../.." || exit 1
WGCTL=$(cd "$BUILD" 2>/dev/null && pwd)/wgctl
. tests/lib.sh
suite_init wgctl
T=$SUITE_TMP
# Sync records (written by up, dropped by down) stay inside the test.
export WGCTL_STATE_DIR="$T/state"
# So do the per-interface locks.
export WGCTL_LOCK_DIR="$T/locks"
chmod 700 "$T"
# Userspace implementations wgctl up starts in our namespaces go with them
# (tests/lib.sh stops every process left in a namespace it removes).

# The old names of the helpers.
nok() { fail "$@"; }
skp() { skip "$@"; }
# run CMD...: stdout in $T/out, stderr in $T/err, exit status in $rc.
run() { "$@" >"$T/out" 2>"$T/err"; rc=$?; }
# check NAME CONDITION [DETAIL]: both are shell code, DETAIL runs on failure.
check() { if eval "$2"; then ok "$1"; else nok "$1" "$(eval "${3:-true}" 2>&1 | head -c 600)"; fi; }
# expect NAME RC: the last run() exited RC; errors (RC != 0) are one line.
expect() {
	if [ "$rc" != "$2" ]; then
		nok "$1" "exit $rc, want $2; stderr: $(head -c 400 "$T/err")"
	elif [ "$2" != 0 ] && [ "$(wc -l <"$T/err")" != 1 ]; then
		nok "$1" "want one stderr line, got: $(head -c 400 "$T/err")"
	else
		ok "$1"
	fi
}
b64() { python3 -c "import base64,sys;print(base64.b64encode(bytes.fromhex(sys.argv[1])).decode())" "$1"; }

if [ ! -x "$WGCTL" ]; then
	fail "wgctl: $WGCTL not built (make first)"
	finish
fi

# ------------------------------------------------------------ no device
run "$WGCTL" --version
check "version" '[ $rc = 0 ] && grep -q "^wgctl " "$T/out"'
run "$WGCTL" --help
check "help" '[ $rc = 0 ] && grep -q "Exit codes" "$T/out"'
run "$WGCTL" frobnicate
expect "unknown command is a usage error" 1

# The JSON writer of cmd/common, with strings that need escaping.
if command -v cc >/dev/null && command -v python3 >/dev/null &&
	cc -std=gnu11 -Wall -Wextra -Werror -Icmd/common -o "$T/json_check" \
		tests/wgctl/json_check.c cmd/common/json.c 2>"$T/err"; then
	for mode in compact pretty; do
		run "$T/json_check" "$mode"
		check "json writer ($mode): valid JSON holding what was written" '[ $rc = 0 ] && python3 - "$T/out" <<"EOP"
import json, sys
raw = open(sys.argv[1], "rb").read()
raw.decode("utf-8")  # strict: the writer must emit valid UTF-8 only
d = json.loads(raw)
s = d["strings"]
assert s[0] == "plain"
assert s[1] == "quote \" backslash \\ slash /"
assert s[2] == "control \x01\x02\x1f del \x7f"
assert s[3] == "newline \n tab \t cr \r bs \b ff \f"
assert s[4] == "utf8 \u00e9 \u20ac \U0001f511"
assert s[5].startswith("bad utf8 \ufffd \ufffd") and s[5].endswith(" end"), s[5]
assert "\ufffd" in s[5] and all(c == "\ufffd" or c < "\u0080" for c in s[5]), s[5]
assert s[6] == ""
assert d["key \"needing\" \\escapes\n"] == "v"
assert d["u64max"] == 2**64 - 1 and d["i64min"] == -2**63
assert d["t"] is True and d["n"] is None
assert d["empty_object"] == {} and d["empty_array"] == [] and d["nested"] == [{"a": 1}, []]
EOP' 'cat "$T/out"'
	done
else
	skp "json writer" "cannot build tests/wgctl/json_check.c: $(head -c 200 "$T/err")"
fi

umask 077
run "$WGCTL" genkey
k1=$(cat "$T/out")
run "$WGCTL" genkey
k2=$(cat "$T/out")
check "genkey: 44 base64 characters" '[ ${#k1} = 44 ] && echo "$k1" | grep -Eq "^[A-Za-z0-9+/]{43}=$"'
check "genkey: new key each time" '[ "$k1" != "$k2" ]'
run "$WGCTL" genkey --json
expect "genkey --json is a usage error" 1
(umask 022 && "$WGCTL" genkey >"$T/exposed.key" 2>"$T/err")
check "genkey warns about a world-readable file" 'grep -q "warning" "$T/err"'
"$WGCTL" genkey >"$T/private.key" 2>"$T/err"
check "genkey: no warning with umask 077" '[ ! -s "$T/err" ]'

# RFC 7748 section 6.1 test vectors (Alice and Bob).
for pair in \
	77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a:8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a \
	5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb:de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f; do
	priv=$(b64 "${pair%%:*}") pub=$(b64 "${pair#*:}")
	out=$(echo "$priv" | "$WGCTL" pubkey)
	check "pubkey: RFC 7748 vector ${pair%%:*}" '[ "$out" = "$pub" ]' 'echo "got $out, want $pub"'
done
echo "not a key" >"$T/bad.key"
run "$WGCTL" pubkey <"$T/bad.key"
expect "pubkey: invalid input exits 2" 2
check "pubkey: the input is not echoed" '! grep -q "not a key" "$T/err"'
if command -v wg >/dev/null; then
	check "pubkey agrees with wg pubkey" '[ "$(echo "$k1" | "$WGCTL" pubkey)" = "$(echo "$k1" | wg pubkey)" ]'
else
	skp "pubkey agrees with wg pubkey" "wg is not installed"
fi
run "$WGCTL" genpsk
check "genpsk: 44 base64 characters" '[ $rc = 0 ] && [ "$(wc -c <"$T/out")" = 45 ]'

# Subcommand options go through getopt_long: an unknown one is a usage
# error naming it, wherever it stands; wg's keyword grammar after the
# interface of `set` is left alone.
for args in "genkey --bogus" "pubkey -x" "showconf --bogus" "setconf wcx0 --bogus" \
	"syncconf --bogus wcx0 f" "reresolve wcx0 --bogus" "peer --bogus"; do
	# shellcheck disable=SC2086
	run "$WGCTL" $args
	check "$args: unknown option, usage error" '[ $rc = 1 ] && grep -q "unknown option .--*[a-z]*." "$T/err" && [ "$(wc -l <"$T/err")" = 1 ]' 'cat "$T/err"'
done
run "$WGCTL" syncconf --max-remove=x wcx0 f
check "syncconf --max-remove=x: invalid number" '[ $rc = 1 ] && grep -q "max-remove: invalid number .x." "$T/err"' 'cat "$T/err"'
run "$WGCTL" syncconf wcx0 f --max-change
check "syncconf ... --max-change: needs a number" '[ $rc = 1 ] && grep -q -- "--max-change needs a number" "$T/err"' 'cat "$T/err"'
run "$WGCTL" set wcx0 peer "$k1" allowed-ips -10.0.0.0/8
check "set: a keyword value starting with '-' is not an option" '! grep -q "unknown option" "$T/err"' 'cat "$T/err"'

# ------------------------------------------------------------ devices
why=""
[ "$(id -u)" = 0 ] || why="not root"
[ -z "$why" ] && ! command -v wireguard-go >/dev/null && why="wireguard-go is not installed"
[ -z "$why" ] && ! command -v python3 >/dev/null && why="python3 is not installed"
[ -z "$why" ] && [ ! -c /dev/net/tun ] && why="no /dev/net/tun"
if [ -n "$why" ]; then
	echo "wgctl: SKIPPING every device test: $why" >&2
	skp "device tests" "$why"
	finish
fi

ID=$$
# start_wg NS IF: a namespace with a wireguard-go device in it.
start_wg() {
	ns_add "$1" && wggo_start "$1" "$2" "$T/$2.log"
}
NS=wc-t$ID
IF=wct$ID
if ! start_wg "$NS" "$IF"; then
	nok "start wireguard-go" "$(cat "$T/$IF.log" 2>/dev/null)"
	finish
fi
W() { ip netns exec "$NS" "$WGCTL" "$@"; }
# Dumps and lists with each peer's allowed IPs sorted (their order is the
# implementation's), for comparison.
sorted_ips() { awk -F'\t' '{ n = split($2, a, " "); for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t } s = a[1]; for (i = 2; i <= n; i++) s = s " " a[i]; print $1 "\t" s }'; }
ips() { W show "$IF" allowed-ips | sorted_ips | grep "^$1	" | cut -f2; }
# The state, without the counters that move on their own (the peer with an
# endpoint sends handshake initiations to a port where nobody listens).
dump() { W show "$IF" dump --show-keys | awk -F'\t' -v OFS='\t' 'NF == 8 { $5 = $6 = $7 = "-" } { print }' | sort; }

PRIV=$(cat "$T/private.key")
PUB=$(echo "$PRIV" | "$WGCTL" pubkey)
"$WGCTL" genpsk >"$T/psk"
PSK=$(cat "$T/psk")
P1=$("$WGCTL" genkey | "$WGCTL" pubkey)
P2=$("$WGCTL" genkey | "$WGCTL" pubkey)
P3=$("$WGCTL" genkey | "$WGCTL" pubkey)
cat >"$T/a.conf" <<EOC
[Interface]
PrivateKey = $PRIV
ListenPort = 51901
FwMark = 0x42

[Peer]
PublicKey = $P1
PresharedKey = $PSK
Endpoint = 127.0.0.1:51902
AllowedIPs = 10.1.0.0/24, fd00:1::/64
PersistentKeepalive = 25

[Peer]
PublicKey = $P2
AllowedIPs = 10.2.0.2/32
EOC

run W show "$IF"
expect "show a fresh device" 0
run W setconf "$IF" "$T/a.conf"
expect "setconf" 0
run W show "$IF" public-key
check "setconf: public key derived from the file's private key" '[ "$(cat "$T/out")" = "$PUB" ]'
run W show "$IF" listen-port
check "setconf: listen port" '[ "$(cat "$T/out")" = 51901 ]'
run W show "$IF" fwmark
check "setconf: fwmark" '[ "$(cat "$T/out")" = 0x42 ]'
run W show "$IF" allowed-ips
check "setconf: allowed ips" '[ "$(ips "$P1")" = "10.1.0.0/24 fd00:1::/64" ] && [ "$(ips "$P2")" = 10.2.0.2/32 ]'

run W showconf "$IF"
cp "$T/out" "$T/shown.conf"
check "showconf prints the private key" '[ $rc = 0 ] && grep -q "^PrivateKey = $PRIV$" "$T/shown.conf"'
dump >"$T/before"
run W setconf "$IF" "$T/shown.conf"
dump >"$T/after"
check "setconf/showconf round trip" '[ $rc = 0 ] && cmp -s "$T/before" "$T/after"' 'echo "$(diff "$T/before" "$T/after")"'
if command -v wg >/dev/null; then
	wg show "$IF" dump | awk -F'\t' -v OFS='\t' 'NF == 8 { $5 = $6 = $7 = "-" } { print }' | sort >"$T/wgdump"
	check "show dump --show-keys matches wg show dump" 'cmp -s "$T/before" "$T/wgdump"' 'echo "$(diff "$T/before" "$T/wgdump")"'
else
	skp "show dump matches wg show dump" "wg is not installed"
fi
run W show "$IF" dump
check "show dump hides private and preshared keys" '! grep -q "$PRIV" "$T/out" && ! grep -q "$PSK" "$T/out" && grep -q "(hidden)" "$T/out"'
run W show "$IF"
check "show hides keys" '[ $rc = 0 ] && ! grep -q "$PRIV" "$T/out" && ! grep -q "$PSK" "$T/out" && grep -q "private key: (hidden)" "$T/out"'
run W show "$IF" private-key
check "show IF private-key prints it (asked for)" '[ "$(cat "$T/out")" = "$PRIV" ]'

# JSON
run W show "$IF" --json
check "show --json is valid JSON" '[ $rc = 0 ] && python3 -m json.tool "$T/out" >/dev/null'
cat >"$T/check.py" <<'EOC'
import json, sys
d = json.load(open(sys.argv[1]))
mode, pub, p1, p2 = sys.argv[2:6]
secret = sys.argv[6] if len(sys.argv) > 6 else None
assert d["name"] and d["public_key"] == pub, d
if mode == "hidden":
    assert d["private_key"] == "(hidden)", d["private_key"]
else:
    assert d["private_key"] == secret, "private key not shown"
assert d["listen_port"] == 51901 and d["fwmark"] == 0x42
peers = {p["public_key"]: p for p in d["peers"]}
assert set(peers) == {p1, p2}, peers
a, b = peers[p1], peers[p2]
assert a["preshared_key"] == ("(hidden)" if mode == "hidden" else sys.argv[7]), a
assert b["preshared_key"] == "(none)", b
assert a["endpoint"] == "127.0.0.1:51902" and b["endpoint"] is None
assert sorted(a["allowed_ips"]) == ["10.1.0.0/24", "fd00:1::/64"] and b["allowed_ips"] == ["10.2.0.2/32"]
assert a["persistent_keepalive"] == 25 and b["persistent_keepalive"] == 0
for p in (a, b):
    assert p["latest_handshake"] == 0  # nobody answers: no handshake
    assert all(isinstance(p[k], int) for k in ("latest_handshake", "rx_bytes", "tx_bytes"))
EOC
check "show --json: schema, private key hidden" 'python3 "$T/check.py" "$T/out" hidden "$PUB" "$P1" "$P2" 2>"$T/pyerr"' 'echo "$(cat "$T/pyerr")"'
check "show --json: no secret anywhere" '! grep -q "$PRIV" "$T/out" && ! grep -q "$PSK" "$T/out"'
run W show "$IF" --json --show-keys
check "show --json --show-keys shows the keys" 'python3 "$T/check.py" "$T/out" shown "$PUB" "$P1" "$P2" "$PRIV" "$PSK" 2>"$T/pyerr"' 'echo "$(cat "$T/pyerr")"'
run W show all --json
check "show all --json: an array holding the device" '[ $rc = 0 ] && python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert isinstance(d, list) and sys.argv[2] in [x[\"name\"] for x in d]" "$T/out" "$IF"'
run W show interfaces --json
check "show interfaces --json" '[ $rc = 0 ] && python3 -c "import json,sys; assert sys.argv[2] in json.load(open(sys.argv[1]))" "$T/out" "$IF"'
run W show "$IF" peers --json
expect "show IF FIELD --json is a usage error" 1

# set
run W set "$IF" listen-port 51911 fwmark off
expect "set listen-port, fwmark off" 0
check "set: listen-port and fwmark applied" '[ "$(W show "$IF" listen-port)" = 51911 ] && [ "$(W show "$IF" fwmark)" = off ]'
run W set "$IF" fwmark 0x1234
check "set fwmark in hex" '[ $rc = 0 ] && [ "$(W show "$IF" fwmark)" = 0x1234 ]'
run W set "$IF" peer "$P1" allowed-ips "10.9.0.0/16, 10.8.0.1/32" persistent-keepalive off
check "set: allowed-ips replace the list" '[ $rc = 0 ] && [ "$(ips "$P1")" = "10.8.0.1/32 10.9.0.0/16" ]' 'echo "$(W show "$IF" allowed-ips)"'
check "set: persistent-keepalive off" 'W show "$IF" persistent-keepalive | grep -q "^$P1	off$"'
run W set "$IF" peer "$P1" allowed-ips +10.7.0.0/24,-10.9.0.0/16
check "set: +ip/-ip edit the list" '[ $rc = 0 ] && [ "$(ips "$P1")" = "10.7.0.0/24 10.8.0.1/32" ]' 'echo "rc=$rc $(cat "$T/err") $(W show "$IF" allowed-ips)"'
run W set "$IF" peer "$P2" allowed-ips ""
check "set: allowed-ips \"\" clears the list" '[ $rc = 0 ] && W show "$IF" allowed-ips | grep -q "^$P2	(none)$"'
run W set "$IF" peer "$P1" preshared-key /dev/null
check "set: an empty preshared-key file removes the key" '[ $rc = 0 ] && W show "$IF" preshared-keys | grep -q "^$P1	(none)$"'
run W set "$IF" peer "$P1" endpoint "[::1]:51903"
check "set: IPv6 endpoint" '[ $rc = 0 ] && W show "$IF" endpoints | grep -q "^$P1	\[::1\]:51903$"'
run W set "$IF" peer "$P3" allowed-ips 10.3.0.0/24
check "set: a new peer" '[ $rc = 0 ] && W show "$IF" peers | grep -q "^$P3$"'
run W set "$IF" peer "$P3" remove
check "set: peer remove" '[ $rc = 0 ] && ! W show "$IF" peers | grep -q "^$P3$"'
"$WGCTL" genkey >"$T/second.key"
run W set "$IF" private-key "$T/second.key"
check "set: private-key from a file" '[ $rc = 0 ] && [ "$(W show "$IF" public-key)" = "$("$WGCTL" pubkey <"$T/second.key")" ]'
check "set: the key file's content is never printed" '! grep -q "$(cat "$T/second.key")" "$T/out" "$T/err"'
chmod 644 "$T/second.key"
run W set "$IF" private-key "$T/second.key"
check "set: warns about a readable key file" '[ $rc = 0 ] && grep -q warning "$T/err"'

# Bad input changes nothing.
W setconf "$IF" "$T/a.conf"
dump >"$T/before"
unchanged() { dump >"$T/after"; cmp -s "$T/before" "$T/after"; }
run W set "$IF" listen-port 4000 peer "$P3" allowed-ips 10.0.0.0/99
expect "set: bad allowed IP exits 2" 2
check "set: a bad argument anywhere changes nothing" 'unchanged'
run W set "$IF" listen-port 4000 peer notakey
expect "set: bad public key exits 2" 2
check "set: bad public key changes nothing" 'unchanged'
for v in 65536 -1 "1 " 0x10 "" 1e3; do
	run W set "$IF" listen-port "$v"
	expect "set: listen-port '$v' refused" 2
done
run W set "$IF" peer "$P1" persistent-keepalive 70000
expect "set: persistent-keepalive out of range" 2
run W set "$IF" fwmark 0x1ffffffff
expect "set: fwmark out of range" 2
run W set "$IF" peer "$P1" endpoint "1.2.3.4"
expect "set: endpoint without a port" 2
run W set "$IF" listen-port
expect "set: missing value is a usage error" 1
run W set "$IF" bogus 1
expect "set: unknown keyword is a usage error" 1
run W set "$IF" peer "$P1" allowed-ips "10.1.0.0/24,-10.2.0.0/24"
expect "set: list mixed with edits refused" 2
check "set: refused edits changed nothing" 'unchanged'

sed 's|^AllowedIPs = 10.2.0.2/32$|AllowedIPs = 10.2.0.2/33|' "$T/a.conf" >"$T/bad.conf"
sed -i 's|^ListenPort = 51901$|ListenPort = 4444|' "$T/bad.conf"
line=$(grep -n '10.2.0.2/33' "$T/bad.conf" | cut -d: -f1)
run W setconf "$IF" "$T/bad.conf"
expect "setconf: malformed config exits 2" 2
check "setconf: error names file:line:key" 'grep -q "^wgctl: $T/bad.conf:$line: AllowedIPs: " "$T/err"' 'echo "$(cat "$T/err")"'
check "setconf: malformed config changes nothing" 'unchanged'
printf '[Interface]\nListenPort = 1\nBogusKey = 2\n' >"$T/bad2.conf"
run W addconf "$IF" "$T/bad2.conf"
expect "addconf: unknown key exits 2" 2
check "addconf: error names file:line:key" 'grep -q "^wgctl: $T/bad2.conf:3: BogusKey: " "$T/err"' 'echo "$(cat "$T/err")"'
printf '[Interface]\nAddress = 10.0.0.1/24\n' >"$T/quick.conf"
run W setconf "$IF" "$T/quick.conf"
expect "setconf: wg-quick keys are refused" 2
run W setconf "$IF" "$T/missing.conf"
expect "setconf: missing file exits 2" 2
check "all refused configs changed nothing" 'unchanged'

# Key text put where it does not belong is refused without echoing it: no
# 8-character piece of the private key reaches stderr.
no_piece() { # FILE: no 8-character piece of $PRIV in FILE
	i=0
	while [ $i -le $((${#PRIV} - 8)) ]; do
		piece=$(printf '%s' "$PRIV" | cut -c$((i + 1))-$((i + 8)))
		grep -qF -- "$piece" "$1" && { echo "piece '$piece' echoed: $(cat "$1")"; return 1; }
		i=$((i + 1))
	done
	return 0
}
PRIV31=$(printf '%s' "$PRIV" | cut -c1-31)
printf '[Interface]\nPrivateKey: %s\n' "$PRIV" >"$T/colon.conf"
printf '[Interface]\nListenPort = 51901\n%s\n' "$PRIV" >"$T/bare.conf"
printf '[Interface]\nPrivateKey = %s\nListenPort = %s\n' "$PRIV" "$PRIV" >"$T/value.conf"
printf '[Interface]\n%s = 1\n' "$PRIV31" >"$T/cut.conf"
printf '[%s]\n' "$PRIV" >"$T/section.conf"
printf '[Interface]\nPrivateKey = %s\n[Peer]\nPublicKey = %s\nEndpoint = %s\n' "$PRIV" "$P1" "$PRIV" >"$T/ep.conf"
for f in colon bare value cut section ep; do
	run W setconf "$IF" "$T/$f.conf"
	expect "setconf: key text in the wrong place ($f) exits 2" 2
	check "setconf: key text in the wrong place ($f) is not echoed, the line is named" \
		'no_piece "$T/err" && grep -q "^wgctl: $T/$f.conf:[0-9]" "$T/err"' 'cat "$T/err"'
done
run W setconf "$IF" "$T/colon.conf"
check "setconf: a ':' for '=' names the line and says what was expected" \
	'grep -q "^wgctl: $T/colon.conf:2: PrivateKey: expected .PrivateKey = <value>." "$T/err"' 'cat "$T/err"'
for args in "set $IF private-key $PRIV" "set $IF peer $P1 preshared-key $PRIV" \
	"set $IF listen-port $PRIV" "set $IF fwmark $PRIV" "set $IF $PRIV" \
	"set $IF peer $P1 endpoint $PRIV" "set $IF peer $P1 allowed-ips $PRIV" \
	"set $IF peer $P1 persistent-keepalive $PRIV" "set $IF peer $P1 $PRIV" \
	"set $IF peer $PRIV31" "set $PRIV listen-port 1" "setconf $IF $PRIV" "syncconf $IF $PRIV" "addconf $IF $PRIV" "sync $IF $PRIV" \
	"peer add $IF $P1 $PRIV" "pubkey $PRIV"; do
	# shellcheck disable=SC2086
	run W $args
	check "wgctl ${args%% *} with key text as an argument: refused, key not echoed" \
		'[ $rc != 0 ] && [ -s "$T/err" ] && no_piece "$T/err"' 'echo "rc=$rc"; cat "$T/err"'
done
check "key text as arguments changed nothing" 'unchanged'

# A full-length link-local endpoint scoped to a 15-character interface name:
# the name resolves in the namespace, a missing one is a
# clear input error that changes nothing. wireguard-go keeps no zone (it
# reports the address without one), so the scope itself is checked in the
# unit tests and in the kernel guest; here the full literal must get through.
SCOPE=enp0s31f6scope0
FE80=fe80:1234:5678:9abc:def0:1234:5678:9abc
if ip -n "$NS" link add "$SCOPE" type veth peer name "scopepeer" 2>"$T/err"; then
	idx=$(ip netns exec "$NS" cat "/sys/class/net/$SCOPE/ifindex")
	scoped_ep_ok() { grep -qxF -e "$P2	[$FE80]:51820" -e "$P2	[$FE80%$idx]:51820" -e "$P2	[$FE80%$SCOPE]:51820"; }
	run W set "$IF" peer "$P2" endpoint "[$FE80%$SCOPE]:51820"
	check "set: endpoint [fe80 (full length)%$SCOPE]:51820 accepted" '[ $rc = 0 ]' 'cat "$T/err"'
	check "set: the scoped endpoint reaches the device" \
		'W show "$IF" endpoints | scoped_ep_ok' 'W show "$IF" endpoints'
	printf '[Interface]\nPrivateKey = %s\n[Peer]\nPublicKey = %s\nEndpoint = [%s%%%s]:51820\n' "$PRIV" "$P2" "$FE80" "$SCOPE" >"$T/scope.conf"
	run W setconf "$IF" "$T/scope.conf"
	check "setconf: the scoped endpoint in a config file" '[ $rc = 0 ] && W show "$IF" endpoints | scoped_ep_ok' 'cat "$T/err"; W show "$IF" endpoints'
	ip -n "$NS" link del "$SCOPE"
	W setconf "$IF" "$T/a.conf"
	dump >"$T/before"
	run W set "$IF" peer "$P2" endpoint "[$FE80%$SCOPE]:51820"
	expect "set: endpoint scoped to a missing interface exits 2" 2
	check "set: ... and says so" 'grep -q "no such interface for the IPv6 scope" "$T/err"' 'cat "$T/err"'
	run W setconf "$IF" "$T/scope.conf"
	expect "setconf: endpoint scoped to a missing interface exits 2" 2
	check "setconf: ... names file:line:key and says so" \
		'grep -q "^wgctl: $T/scope.conf:5: Endpoint: .*no such interface for the IPv6 scope" "$T/err"' 'cat "$T/err"'
	check "a missing scope interface changed nothing" 'unchanged'
else
	skp "scoped endpoint" "cannot create a veth pair: $(cat "$T/err")"
fi

# addconf, syncconf
printf '[Peer]\nPublicKey = %s\nAllowedIPs = 10.3.0.0/24\n' "$P3" >"$T/add.conf"
run W addconf "$IF" "$T/add.conf"
check "addconf adds a peer and keeps the others" '[ $rc = 0 ] && [ "$(W show "$IF" peers | wc -l)" = 3 ] && [ "$(W show "$IF" listen-port)" = 51901 ]'
printf '[Interface]\nPrivateKey = %s\n\n[Peer]\nPublicKey = %s\nAllowedIPs = 10.33.0.0/24\n' "$PRIV" "$P3" >"$T/sync.conf"
run W syncconf "$IF" "$T/sync.conf"
check "syncconf removes the peers absent from the file" '[ $rc = 0 ] && [ "$(W show "$IF" peers)" = "$P3" ]' 'echo "rc=$rc $(cat "$T/err"); $(W show "$IF" peers)"'
check "syncconf replaces allowed ips" 'W show "$IF" allowed-ips | grep -q "^$P3	10.33.0.0/24$"'
check "syncconf keeps the port when the file has none" '[ "$(W show "$IF" listen-port)" = 51901 ]'
check "syncconf: fwmark absent from the file is cleared" '[ "$(W show "$IF" fwmark)" = off ]'
run W syncconf "$IF" "$T/bad.conf"
expect "syncconf: malformed config exits 2" 2

# peer add / remove
K=$("$WGCTL" genkey | "$WGCTL" pubkey)
run W peer add "$IF" "$K" allowed-ips 10.5.0.0/24 endpoint 127.0.0.1:5 persistent-keepalive 10 --json
check "peer add: changed" '[ $rc = 0 ] && python3 -c "import json,sys; assert json.load(open(sys.argv[1]))[\"changed\"] is True" "$T/out"' 'echo "$(cat "$T/out" "$T/err")"'
run W peer add "$IF" "$K" allowed-ips 10.5.0.0/24 endpoint 127.0.0.1:5 persistent-keepalive 10 --json
check "peer add again: unchanged, exit 0" '[ $rc = 0 ] && python3 -c "import json,sys; assert json.load(open(sys.argv[1]))[\"changed\"] is False" "$T/out"' 'echo "$(cat "$T/out" "$T/err")"'
run W peer add "$IF" "$K" allowed-ips 10.6.0.0/24 --json
check "peer add with new allowed ips: changed" '[ $rc = 0 ] && grep -q "\"changed\":true" "$T/out" && W show "$IF" allowed-ips | grep -q "^$K	10.6.0.0/24$"'
run W peer remove "$IF" "$K" --json
check "peer remove: changed" '[ $rc = 0 ] && grep -q "\"changed\":true" "$T/out" && ! W show "$IF" peers | grep -q "$K"'
run W peer remove "$IF" "$K" --json
check "peer remove again: exit 0, changed false" '[ $rc = 0 ] && grep -q "\"changed\":false" "$T/out"'
run W peer remove "$IF" "$K"
check "peer remove again (text) says nothing changed" '[ $rc = 0 ] && grep -q "nothing changed" "$T/out"'
run W peer add "$IF" notakey
expect "peer add: bad key exits 2" 2
run W peer frob "$IF" "$K"
expect "peer: unknown subcommand is a usage error" 1

# reresolve: endpoint names resolved again (localhost: /etc/hosts, no DNS
# query leaves the machine); only a peer the device has, only its endpoint.
W set "$IF" peer "$P1" endpoint 127.0.0.2:51960 allowed-ips 10.61.0.0/24
printf '[Interface]\nPrivateKey = %s\n\n[Peer]\nPublicKey = %s\nEndpoint = localhost:51960\nAllowedIPs = 10.61.0.0/24\n\n[Peer]\nPublicKey = %s\nEndpoint = localhost:51961\nAllowedIPs = 10.62.0.0/24\n' \
	"$PRIV" "$P1" "$P2" >"$T/rr.conf"
W set "$IF" peer "$P2" remove
peers_before=$(W show "$IF" peers | sort)
run W reresolve "$IF" "$T/rr.conf"
expect "reresolve" 0
check "reresolve: the moved endpoint is set" 'W show "$IF" endpoints | awk -F"\t" -v k="$P1" "\$1 == k" | cut -f2 | grep -Eqx "(127\.0\.0\.1|\[::1\]):51960"' 'W show "$IF" endpoints; cat "$T/out" "$T/err"'
check "reresolve: reports one change" 'grep -q "^$IF: 1 endpoint(s) changed" "$T/out"' 'cat "$T/out"'
check "reresolve: no peer created, allowed IPs untouched" '[ "$(W show "$IF" peers | sort)" = "$peers_before" ] && [ "$(ips "$P1")" = 10.61.0.0/24 ]'
run W reresolve "$IF" "$T/rr.conf"
check "reresolve again: exit 0, nothing changed" '[ $rc = 0 ] && grep -q "nothing changed" "$T/out"' 'cat "$T/out" "$T/err"'
run W reresolve "wcnone$ID" "$T/rr.conf"
expect "reresolve: unknown interface exits 3" 3

# Not found
for c in "show wcnone$ID" "showconf wcnone$ID" "set wcnone$ID listen-port 1" "peer remove wcnone$ID $K" "peer add wcnone$ID $K" "syncconf wcnone$ID $T/a.conf"; do
	# shellcheck disable=SC2086
	run W $c
	expect "unknown interface: ${c% wcnone*} exits 3" 3
done
check "unknown interface: the error quotes the name" 'grep -q "'"'"'wcnone$ID'"'"'" "$T/err"'

# Unprivileged
if command -v setpriv >/dev/null; then
	U() { setpriv --reuid=65534 --regid=65534 --clear-groups -- "$WGCTL" "$@"; }
	run U show "$IF"
	expect "unprivileged show exits 4" 4
	run U set "$IF" listen-port 1
	expect "unprivileged set exits 4" 4
	run U peer add "$IF" "$P1"
	expect "unprivileged peer add exits 4" 4
	# A socket directory nobody may search (0700) is still a permission
	# error, not "No such device".
	mode=$(stat -c %a /var/run/wireguard)
	chmod 0700 /var/run/wireguard
	run U show "$IF"
	expect "unprivileged show, socket dir 0700: exits 4" 4
	chmod 0755 /var/run/wireguard
	run U show "$IF"
	expect "unprivileged show, socket dir 0755: exits 4" 4
	chmod "$mode" /var/run/wireguard
else
	skp "unprivileged user" "setpriv is not installed"
fi

# -------------------------------------------------------------- up/down
# wireguard-go made the device: up configures the existing (userspace)
# device, down deletes the link (wireguard-go then exits).
IF2=wcu$ID
NS2=wc-u$ID
if start_wg "$NS2" "$IF2"; then
	W2() { ip netns exec "$NS2" "$WGCTL" "$@"; }
	mkdir -p "$T/etc"
	cat >"$T/etc/$IF2.conf" <<EOC
[Interface]
PrivateKey = $PRIV
Address = 10.44.0.1/24, fd44::1/64
MTU = 1380
PreUp = echo pre %i > $T/preup
PostUp = echo post %i > $T/postup
PreDown = echo pre %i > $T/predown
PostDown = echo post %i > $T/postdown
SaveConfig = true

[Peer]
PublicKey = $P1
AllowedIPs = 0.0.0.0/0, 10.45.0.0/16, fd45::/64
Endpoint = 127.0.0.1:51820
EOC
	chmod 600 "$T/etc/$IF2.conf"
	# The config is reached through a symlink: SaveConfig must write the
	# file it points at and leave the link.
	mkdir -p "$T/real"
	mv "$T/etc/$IF2.conf" "$T/real/$IF2.conf"
	ln -s "$T/real/$IF2.conf" "$T/etc/$IF2.conf"
	run W2 up "$T/etc/$IF2.conf"
	expect "up: existing userspace device" 0
	check "up: PreUp and PostUp ran with %i" 'grep -q "^pre $IF2$" "$T/preup" && grep -q "^post $IF2$" "$T/postup"'
	check "up: addresses" 'ip -n "$NS2" addr show "$IF2" | grep -q "inet 10.44.0.1/24" && ip -n "$NS2" addr show "$IF2" | grep -q "inet6 fd44::1/64"'
	check "up: MTU and link up" 'ip -n "$NS2" link show "$IF2" | grep -q "mtu 1380" && ip -n "$NS2" link show "$IF2" | grep -q ",UP"'
	check "up: routes in main" 'ip -n "$NS2" route show dev "$IF2" | grep -q "^10.45.0.0/16" && ip -n "$NS2" -6 route show dev "$IF2" | grep -q "^fd45::/64"'
	check "up: default route in table 51820" 'ip -n "$NS2" route show table 51820 | grep -q "^default dev $IF2"'
	check "up: fwmark set for policy routing" '[ "$(W2 show "$IF2" fwmark)" = 0xca6c ]'
	check "up: policy rules" 'ip -n "$NS2" rule | grep -q "not from all fwmark 0xca6c lookup 51820" && ip -n "$NS2" rule | grep -q "lookup main suppress_prefixlength 0"'
	check "up: no v6 policy rules without ::/0" '! ip -n "$NS2" -6 rule | grep -q 51820'
	check "up: sync record written, 0600" '[ "$(stat -c %a "$T/state/$IF2.conf")" = 600 ] && ! grep -q PrivateKey "$T/state/$IF2.conf"'
	# sync of the file narrowed from 0.0.0.0/0 and back: the policy routing
	# follows (fwmark, both rules, the route in table 51820), as down + up.
	sed 's|^AllowedIPs = .*|AllowedIPs = 10.45.0.0/16, fd45::/64|' "$T/etc/$IF2.conf" >"$T/narrow.conf"
	chmod 600 "$T/narrow.conf"
	run W2 sync --plan "$IF2" "$T/narrow.conf"
	check "sync --plan narrowing: rules_remove and the table 51820 route" '[ $rc = 0 ] && python3 -c "
import json, sys
d = json.load(open(sys.argv[1]))[\"device\"]
rr = d[\"rules_remove\"]
assert sorted((r[\"family\"], r[\"table\"], r.get(\"not_fwmark\"), r.get(\"suppress_prefixlength\")) for r in rr) == [(4, 254, None, 0), (4, 51820, 51820, None)], rr
assert {\"destination\": \"0.0.0.0/0\", \"table\": 51820} in d[\"routes_remove\"], d
assert d[\"fwmark\"] == 0 and \"rules_add\" not in d, d
" "$T/out"' 'cat "$T/out" "$T/err"'
	check "sync --plan changed nothing" 'ip -n "$NS2" rule | grep -q "fwmark 0xca6c lookup 51820"'
	run W2 sync "$IF2" "$T/narrow.conf"
	expect "sync narrowing 0.0.0.0/0 away" 0
	check "sync narrowing: fwmark off, no policy rule, table 51820 empty" '[ "$(W2 show "$IF2" fwmark)" = off ] && ! ip -n "$NS2" rule | grep -q "51820\|suppress_prefixlength" && [ -z "$(ip -n "$NS2" route show table 51820)" ]' 'W2 show "$IF2" fwmark; ip -n "$NS2" rule; ip -n "$NS2" route show table all'
	run W2 sync "$IF2" "$T/etc/$IF2.conf"
	expect "sync widening back to 0.0.0.0/0" 0
	check "sync widening: fwmark, both rules and the default route back" '[ "$(W2 show "$IF2" fwmark)" = 0xca6c ] && ip -n "$NS2" rule | grep -q "not from all fwmark 0xca6c lookup 51820" && ip -n "$NS2" rule | grep -q "lookup main suppress_prefixlength 0" && ip -n "$NS2" route show table 51820 | grep -q "^default dev $IF2"' 'W2 show "$IF2" fwmark; ip -n "$NS2" rule; ip -n "$NS2" route show table all'
	# A second up of the running interface is refused and changes nothing.
	rm -f "$T/postup" "$T/preup"
	lp=$(W2 show "$IF2" listen-port)
	run W2 up "$T/etc/$IF2.conf"
	expect "up: a second up of a running interface exits 5" 5
	check "up: the refusal says it exists and points to sync" 'grep -q "already exists" "$T/err" && grep -q "wgctl sync" "$T/err"' 'cat "$T/err"'
	check "up: refused, so no PreUp/PostUp ran and the port is unchanged" '[ ! -e "$T/preup" ] && [ ! -e "$T/postup" ] && [ "$(W2 show "$IF2" listen-port)" = "$lp" ]'
	W2 set "$IF2" peer "$P2" allowed-ips 10.46.0.0/24
	check "up: the config path is recorded for down" '[ "$(cat "$T/state/$IF2.path")" = "$(realpath "$T/etc/$IF2.conf")" ]'
	# By name: there is no /etc/wireguard/$IF2.conf, the recorded path is used.
	run W2 down "$IF2"
	expect "down IF finds the config up used" 0
	check "down: PreDown and PostDown ran" 'grep -q "^pre $IF2$" "$T/predown" && grep -q "^post $IF2$" "$T/postdown"'
	check "down: link deleted" '! ip -n "$NS2" link show "$IF2" >/dev/null 2>&1'
	check "down: sync record dropped" '[ ! -e "$T/state/$IF2.conf" ]'
	check "down: policy rules removed" '! ip -n "$NS2" rule | grep -q "51820\|suppress_prefixlength"'
	check "down: SaveConfig file is 0600" '[ "$(stat -L -c %a "$T/etc/$IF2.conf")" = 600 ]'
	check "down: SaveConfig wrote through the symlink" '[ -L "$T/etc/$IF2.conf" ] && [ -z "$(find "$T/real" "$T/etc" \( -name "*.wgctl-*" -o -name "*.tmp.*" \))" ]'
	check "down: SaveConfig wrote the running peers" 'grep -q "^PublicKey = $P2$" "$T/etc/$IF2.conf" && grep -q "^Address = 10.44.0.1/24, fd44::1/64$" "$T/etc/$IF2.conf"' 'echo "$(cat "$T/etc/$IF2.conf")"'
	check "down: SaveConfig kept the hooks" 'grep -q "^PostUp = echo post %i" "$T/etc/$IF2.conf"'
	check "down: the path record dropped" '[ ! -e "$T/state/$IF2.path" ]'
	run W2 down "$T/etc/$IF2.conf"
	expect "down again: exit 0" 0
	check "down again: says nothing changed" 'grep -q "nothing changed" "$T/out"' 'cat "$T/out" "$T/err"'
	run W2 down "$IF2"
	expect "down again by name (no config anywhere): exit 0" 0
	run W2 down "wcnever$ID"
	expect "down of an interface never up, without a config: exit 0" 0

	# down made wireguard-go exit; up starts the userspace implementation
	# as wg-quick does ($WG_QUICK_USERSPACE_IMPLEMENTATION, --userspace=PROG).
	run env WG_QUICK_USERSPACE_IMPLEMENTATION=wireguard-go ip netns exec "$NS2" "$WGCTL" up "$T/etc/$IF2.conf"
	expect "up after down: starts \$WG_QUICK_USERSPACE_IMPLEMENTATION" 0
	check "up after down: the device runs and is configured" '[ -S "/var/run/wireguard/$IF2.sock" ] && [ "$(W2 show "$IF2" public-key)" = "$PUB" ] && ip -n "$NS2" addr show "$IF2" | grep -q "inet 10.44.0.1/24"' 'cat "$T/err"'
	run W2 down "$IF2"
	expect "down of the started implementation" 0
	check "down: the implementation is gone with its socket" '[ ! -S "/var/run/wireguard/$IF2.sock" ] && ! ip -n "$NS2" link show "$IF2" >/dev/null 2>&1'
	run W2 up --userspace=wireguard-go "$T/etc/$IF2.conf"
	expect "up --userspace=wireguard-go" 0
	check "up --userspace=PROG: the device runs" '[ "$(W2 show "$IF2" public-key)" = "$PUB" ]'
	run W2 down "$IF2"
	expect "down after up --userspace=PROG" 0
	# A wg-quick file with no wg-quick key at all (no Address, MTU, Table,
	# DNS): synced after up, it is still the file up used, so the policy
	# routing follows its edits as down + up would.
	mkdir -p "$T/plain"
	printf '[Interface]\nPrivateKey = %s\n\n[Peer]\nPublicKey = %s\nAllowedIPs = 0.0.0.0/0\nEndpoint = 127.0.0.1:51820\n' "$PRIV" "$P1" >"$T/plain/$IF2.conf"
	chmod 600 "$T/plain/$IF2.conf"
	run W2 up --userspace=wireguard-go "$T/plain/$IF2.conf"
	expect "up of a file without wg-quick keys" 0
	check "up of a file without wg-quick keys: policy rules" 'ip -n "$NS2" rule | grep -q "not from all fwmark 0xca6c lookup 51820"' 'ip -n "$NS2" rule; cat "$T/err"'
	sed -i 's|^AllowedIPs = .*|AllowedIPs = 10.47.0.0/16|' "$T/plain/$IF2.conf"
	run W2 sync "$IF2" "$T/plain/$IF2.conf"
	expect "sync of up's file without wg-quick keys, narrowed" 0
	check "sync of up's plain file: rules, table 51820 and fwmark gone, the new route in main" '[ "$(W2 show "$IF2" fwmark)" = off ] && ! ip -n "$NS2" rule | grep -q "51820\|suppress_prefixlength" && [ -z "$(ip -n "$NS2" route show table 51820)" ] && ip -n "$NS2" route show dev "$IF2" | grep -q "^10.47.0.0/16"' 'W2 show "$IF2" fwmark; ip -n "$NS2" rule; ip -n "$NS2" route show table all; cat "$T/err"'
	sed -i 's|^AllowedIPs = .*|AllowedIPs = 0.0.0.0/0|' "$T/plain/$IF2.conf"
	run W2 sync "$IF2" "$T/plain/$IF2.conf"
	expect "sync of up's plain file, widened back" 0
	check "sync of up's plain file: rules and the default route back" '[ "$(W2 show "$IF2" fwmark)" = 0xca6c ] && ip -n "$NS2" rule | grep -q "not from all fwmark 0xca6c lookup 51820" && ip -n "$NS2" route show table 51820 | grep -q "^default dev $IF2"' 'W2 show "$IF2" fwmark; ip -n "$NS2" rule; ip -n "$NS2" route show table all; cat "$T/err"'
	run W2 down "$IF2"
	expect "down of up's plain file" 0
	check "down of up's plain file: no rule left" '! ip -n "$NS2" rule | grep -q "51820\|suppress_prefixlength"' 'ip -n "$NS2" rule'
	run W2 up --userspace=false "$T/etc/$IF2.conf"
	expect "up --userspace=false: a failing implementation exits 5" 5
	check "up --userspace=false: the error names it and nothing is left" 'grep -q "userspace implementation .false." "$T/err" && ! ip -n "$NS2" link show "$IF2" >/dev/null 2>&1' 'cat "$T/err"'
	run W2 up --userspace=/nonexistent/wg-impl "$T/etc/$IF2.conf"
	expect "up --userspace=missing program exits 5" 5
	# A failed up undoes the device it started: the link goes, and with it
	# the implementation and its socket.
	mkdir -p "$T/fail"
	sed 's|^PostUp = .*|PostUp = false|; /^SaveConfig/d' "$T/etc/$IF2.conf" >"$T/fail/$IF2.conf"
	chmod 600 "$T/fail/$IF2.conf"
	run W2 up --userspace=wireguard-go "$T/fail/$IF2.conf"
	expect "up --userspace=PROG, failing PostUp: exit 5" 5
	i=0
	while [ -S "/var/run/wireguard/$IF2.sock" ] && [ $i -lt 30 ]; do sleep 0.1; i=$((i + 1)); done
	check "failed up: the started implementation is gone (link, socket)" '! ip -n "$NS2" link show "$IF2" >/dev/null 2>&1 && [ ! -S "/var/run/wireguard/$IF2.sock" ]' 'cat "$T/err"; ls -l /var/run/wireguard/'
	check "failed up: no rule left" '! ip -n "$NS2" rule | grep -q "51820\|suppress_prefixlength"'
	run W2 down "$IF2"
	expect "down after a failed up: nothing to do, exit 0" 0
else
	nok "up/down: start wireguard-go" "$(cat "$T/$IF2.log")"
fi

# A failing PostUp undoes everything up did.
IF3=wcv$ID
NS3=wc-v$ID
if start_wg "$NS3" "$IF3"; then
	W3() { ip netns exec "$NS3" "$WGCTL" "$@"; }
	cat >"$T/etc/$IF3.conf" <<EOC
[Interface]
PrivateKey = $PRIV
Address = 10.55.0.1/24
Table = 1234
PostUp = false

[Peer]
PublicKey = $P1
AllowedIPs = 10.56.0.0/16, ::/0
EOC
	run W3 up "$T/etc/$IF3.conf"
	expect "up: failing PostUp exits 5" 5
	check "up: the error names the hook" 'grep -q "PostUp hook .false." "$T/err"' 'echo "$(cat "$T/err")"'
	check "up: rollback removed the address" '! ip -n "$NS3" addr show "$IF3" | grep -q 10.55.0.1'
	check "up: rollback removed the routes" '[ -z "$(ip -n "$NS3" route show table 1234)" ] && [ -z "$(ip -n "$NS3" -6 route show table 1234)" ]'
	check "up: rollback restored the device" '[ -z "$(W3 show "$IF3" peers)" ] && [ "$(W3 show "$IF3" public-key)" = "(none)" ]'
	check "up: rollback set the link down again" '! ip -n "$NS3" link show "$IF3" | grep -q ",UP"'
	sed -i 's/^PostUp = false$/PostUp = true/' "$T/etc/$IF3.conf"
	run W3 up "$T/etc/$IF3.conf"
	expect "up: Table = 1234" 0
	check "up: routes go to table 1234, not main" 'ip -n "$NS3" route show table 1234 | grep -q "^10.56.0.0/16" && ip -n "$NS3" -6 route show table 1234 | grep -q "^default" && ! ip -n "$NS3" route show dev "$IF3" | grep -q 10.56'
	check "up: Table = N adds no policy rules" '! ip -n "$NS3" -6 rule | grep -q suppress'
	run W3 down "$T/etc/$IF3.conf"
	expect "down: Table = 1234" 0
else
	nok "up rollback: start wireguard-go" "$(cat "$T/$IF3.log")"
fi
# The library's up/down in-process with NULL options (as a daemon calls
# them: no callbacks, nothing forks): a config with a hook is refused before
# any change; one without comes up on the fresh userspace device and down.
IF5=wcq$ID
NS5=wc-q$ID
QDRV=$(cd "$BUILD" 2>/dev/null && pwd)/tests/tools/quick_drive
if [ ! -x "$QDRV" ]; then
	skp "library up/down with NULL hooks" "$QDRV is not built (make tests)"
elif start_wg "$NS5" "$IF5"; then
	Q5() { ip netns exec "$NS5" "$QDRV" "$@"; }
	cat >"$T/etc/$IF5.conf" <<EOC
[Interface]
PrivateKey = $PRIV
Address = 10.66.0.1/24
PostUp = touch $T/q5-hook-ran

[Peer]
PublicKey = $P1
AllowedIPs = 10.67.0.0/16
EOC
	run Q5 up "$IF5" "$T/etc/$IF5.conf"
	expect "library up, PostUp and NULL hooks: refused" 1
	check "library up, NULL hooks: -EOPNOTSUPP, nothing ran, nothing changed" 'grep -q "^rc=-95 " "$T/err" && [ ! -e "$T/q5-hook-ran" ] && ! ip -n "$NS5" addr show "$IF5" | grep -q 10.66.0.1 && [ "$(ip netns exec "$NS5" "$WGCTL" show "$IF5" public-key)" = "(none)" ]' 'cat "$T/err"'
	sed -i '/^PostUp/d' "$T/etc/$IF5.conf"
	run Q5 up "$IF5" "$T/etc/$IF5.conf"
	expect "library up, no hooks, NULL options" 0
	check "library up: address, route, link up" 'ip -n "$NS5" addr show "$IF5" | grep -q "inet 10.66.0.1/24" && ip -n "$NS5" route show dev "$IF5" | grep -q "^10.67.0.0/16" && ip -n "$NS5" link show "$IF5" | grep -q ",UP"' 'cat "$T/err"'
	run Q5 down "$IF5" "$T/etc/$IF5.conf"
	expect "library down, NULL options" 0
	check "library down: the link is gone" '! ip -n "$NS5" link show "$IF5" >/dev/null 2>&1'
else
	nok "library up/down: start wireguard-go" "$(cat "$T/$IF5.log")"
fi
# Routes and rules up did not create are not up's to undo: a failed up
# leaves the ones that were there; a route through another interface is a
# conflict (reported, left alone); the kernel's subnet route stays as made.
IF4=wcw$ID
NS4=wc-w$ID
if start_wg "$NS4" "$IF4"; then
	W4() { ip netns exec "$NS4" "$WGCTL" "$@"; }
	cat >"$T/etc/$IF4.conf" <<EOC
[Interface]
PrivateKey = $PRIV
Address = 10.60.0.1/24
PostUp = false

[Peer]
PublicKey = $P1
AllowedIPs = 0.0.0.0/0, 10.57.0.0/16, fd57::/64, 10.60.0.0/24
EOC
	ip -n "$NS4" link set "$IF4" up
	ip -n "$NS4" addr add 10.60.0.1/24 dev "$IF4"
	ip -n "$NS4" route add 10.57.0.0/16 dev "$IF4"
	ip -n "$NS4" -6 route add fd57::/64 dev "$IF4"
	ip -n "$NS4" route add default dev "$IF4" table 51820
	ip -n "$NS4" rule add table main suppress_prefixlength 0
	ip -n "$NS4" route show table all >"$T/routes.before"
	run W4 up "$T/etc/$IF4.conf"
	expect "up over existing routes, failing PostUp exits 5" 5
	check "failed up: the routes that were there survive" 'ip -n "$NS4" route show dev "$IF4" | grep -q "^10.57.0.0/16" && ip -n "$NS4" -6 route show dev "$IF4" | grep -q "^fd57::/64" && ip -n "$NS4" route show table 51820 | grep -q "^default dev $IF4"' 'ip -n "$NS4" route show table all'
	check "failed up: the address that was there survives" 'ip -n "$NS4" addr show "$IF4" | grep -q "inet 10.60.0.1/24"'
	check "failed up: the rule that was there survives" 'ip -n "$NS4" rule | grep -q "from all lookup main suppress_prefixlength 0"' 'ip -n "$NS4" rule'
	check "failed up: the rule up added is gone" '! ip -n "$NS4" rule | grep -q "fwmark 0xca6c"' 'ip -n "$NS4" rule'
	sed -i 's/^PostUp = false$/PostUp = true/' "$T/etc/$IF4.conf"
	run W4 up "$T/etc/$IF4.conf"
	expect "up over existing routes" 0
	check "up: the kernel's subnet route keeps proto kernel and src" 'ip -n "$NS4" route show dev "$IF4" | grep -q "^10.60.0.0/24 proto kernel scope link src 10.60.0.1"' 'ip -n "$NS4" route show dev "$IF4"'
	run W4 down "$T/etc/$IF4.conf"
	expect "down after up over existing routes" 0
	# A route through another interface (lo) is a conflict.
	start_wg "$NS4" "$IF4" || nok "restart wireguard-go" "$(cat "$T/$IF4.log")"
	ip -n "$NS4" route add 10.57.0.0/16 dev lo
	run W4 up "$T/etc/$IF4.conf"
	expect "up: a route through another interface is a conflict (exit 5)" 5
	check "up conflict: the error names the route and says why" 'grep -q "cannot add route 10.57.0.0/16 via .$IF4.: a route to it already exists in table main through another interface" "$T/err"' 'cat "$T/err"'
	check "up conflict: the other interface keeps its route" 'ip -n "$NS4" route show 10.57.0.0/16 | grep -q "dev lo"' 'ip -n "$NS4" route show table all'
	check "up conflict: rolled back (no route, rule or address left)" '[ -z "$(ip -n "$NS4" route show table all dev "$IF4" | grep -v "^local\|^multicast\|^fe80\|^ff00")" ] && ! ip -n "$NS4" rule | grep -q 0xca6c && ! ip -n "$NS4" addr show "$IF4" | grep -q 10.60.0.1' 'ip -n "$NS4" route show table all dev "$IF4"; ip -n "$NS4" rule'
else
	nok "existing routes: start wireguard-go" "$(cat "$T/$IF4.log")"
fi
printf '[Interface]\nPrivateKey = %s\nAddress = 10.0.0.300/24\n' "$PRIV" >"$T/etc/wcx$ID.conf"
run "$WGCTL" up "$T/etc/wcx$ID.conf"
expect "up: malformed config exits 2" 2
check "up: malformed config error names file:line:key" 'grep -q "wcx$ID.conf:3: Address: " "$T/err"' 'echo "$(cat "$T/err")"'
run "$WGCTL" up "$T/etc/not a name.conf"
expect "up: config name that is no interface name" 2

finish
