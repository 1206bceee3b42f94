#!/bin/sh
# tests/windows/nt.sh [WIN_BUILD] [BUILD]: the wireguard-nt backend under
# wine, against the strict stand-in wireguard.dll (tests/windows/standin).
#
#  1. blobtest.exe calls the stand-in directly: good blobs are taken, each
#     deliberately corrupted one (wrong size, packed peers, unknown flag, bad
#     family, ...) is refused with a VIOLATION: the validation can fail.
#  2. nt_tool.exe selftest: the backend through the library (set/get round
#     trip, LastHandshake conversion, FwMark and per-IP removal refused,
#     10,000 peers through ERROR_MORE_DATA, adapters, driver version), and
#     nodll: the clear error when wireguard.dll is missing.
#  3. wgctl.exe set/setconf/sync/show/showconf against the stand-in give the
#     same JSON (and showconf text) as the Linux wgctl on wireguard-go for the
#     same configs, 10,000 peers and a peer with 5,000 allowed IPs included.
#     Masked: "link" (the Linux TUN's MTU/addresses vs IP Helper's view) and
#     the order of peers and of allowed IPs (the implementation's, as
#     docs/json.md says). FwMark lines are dropped from the generated configs
#     (wireguard-nt has none; refusing it is checked in 2), and showconf's
#     "FwMark = off" line, which Linux prints for the kernel's zero mark and
#     a device without one (Windows) leaves out.
#  4. A normal run leaves no violations file.
# Part 3 needs root, wireguard-go and BUILD/wgctl; it runs wireguard-go in a
# namespace "wnt-<pid>" under flock /tmp/wgkit-net.lock. Wine uses its own
# prefix, fresh in the suite's temporary folder (win_init of
# tests/windows/lib.sh).
# Closing line: "windows-nt: N passed, N failed, N skipped".
WIN_BUILD=${1:-build-win}
BUILD=${2:-build}
cd "$(dirname "$0")/../.." || exit 1
case $WIN_BUILD in /*) ;; *) WIN_BUILD=$PWD/$WIN_BUILD ;; esac
case $BUILD in /*) ;; *) BUILD=$PWD/$BUILD ;; esac
. tests/lib.sh
. tests/windows/lib.sh
. tests/gen_config.sh
suite_init windows-nt
TMP=$SUITE_TMP
T=$WIN_BUILD/tests/windows
STANDIN=$WIN_BUILD/tests/standin/wireguard.dll

win_have_tools || cannot "mingw-w64 or wine64 ($WINE) missing: run make deps"
if ! make --no-print-directory -j2 WIN_BUILD="$WIN_BUILD" windows >"$TMP/make.log" 2>&1; then
	fail_log "make windows" "$TMP/make.log"
	finish windows-nt
fi
missing=""
for f in "$STANDIN" "$T/blobtest.exe" "$T/nt_tool.exe"; do
	[ -f "$f" ] || missing="$missing $f"
done
[ -z "$missing" ] && ok "make windows: the stand-in wireguard.dll, blobtest.exe, nt_tool.exe" ||
	cannot "make windows did not build:$missing"
win_init "$TMP/wine" || cannot "wine64 does not start (see $TMP/wine-init.log)"

# A Windows path for a host one (wine maps Z: to /).
winpath() { printf 'Z:%s' "$1" | tr / '\\'; }

# The programs run from one folder with the stand-in beside them, as
# wireguard.dll sits beside wgctl.exe on a real machine.
RUN=$TMP/bin
mkdir -p "$RUN"
cp "$STANDIN" "$T/blobtest.exe" "$T/nt_tool.exe" "$RUN/"
# wgctl.exe reads the MTU through IP Helper: wine's own aborts on those
# calls, so the IP Helper stand-in takes its place (as in iphlp.sh).
cp "$WIN_BUILD/tests/standin/iphlpapi.dll" "$RUN/"
export WINEDLLOVERRIDES="iphlpapi=n"
[ -f "$WIN_BUILD/wgctl.exe" ] && cp "$WIN_BUILD/wgctl.exe" "$RUN/"
run() { # PROGRAM ARGS...: a program of $RUN under wine
	p=$1
	shift
	"$WINE" "$RUN/$p" "$@"
}

# ------------------------------------------------------------ 1. blobtest
SD=$TMP/standin-blob
mkdir -p "$SD"
if WGKIT_STANDIN_DIR=$(winpath "$SD") run blobtest.exe >"$TMP/blob.out" 2>"$TMP/blob.err"; then
	ok "blobtest: $(tail -n 1 "$TMP/blob.out" | sed 's/^blobtest: //')"
else
	fail_log "blobtest: the stand-in's checks" "$TMP/blob.out"
fi
n=$(grep -c 'VIOLATION' "$SD/violations" 2>/dev/null)
nerr=$(grep -c '^wireguard.dll stand-in: VIOLATION: ' "$TMP/blob.err")
n=${n:-0} nerr=${nerr:-0}
if [ "$n" -ge 14 ] && [ "$nerr" = "$n" ]; then
	ok "stand-in: $n corrupted blobs, $n VIOLATION lines in the file and on stderr"
else
	fail "stand-in: expected >= 14 VIOLATION lines in file and stderr, got $n and $nerr"
fi

# ------------------------------------------------------------ 2. the library
SD=$TMP/standin
mkdir -p "$SD"
export WGKIT_STANDIN_DIR
WGKIT_STANDIN_DIR=$(winpath "$SD")
if run nt_tool.exe selftest >"$TMP/self.out" 2>&1; then
	ok "nt backend: $(tail -n 1 "$TMP/self.out" | sed 's/^nt_tool selftest: //')"
else
	fail_log "nt backend selftest" "$TMP/self.out"
fi
mkdir -p "$TMP/nodll"
cp "$T/nt_tool.exe" "$RUN/iphlpapi.dll" "$TMP/nodll/"
if "$WINE" "$TMP/nodll/nt_tool.exe" nodll >"$TMP/nodll.out" 2>&1; then
	ok "no wireguard.dll: -ENOENT, 'wireguard.dll not found: install WireGuard for Windows ...'"
else
	fail_log "no wireguard.dll" "$TMP/nodll.out"
fi

# ------------------------------------------------------------ 3. JSON vs Linux
IFN=wnt$$
NS=wnt-$$
HOLDERS=""
hold() { # NAME: an adapter created and kept by nt_tool.exe (as the tunnel service would)
	rm -f "$SD/$1.ready" "$SD/$1.stop"
	run nt_tool.exe hold "$1" "$WGKIT_STANDIN_DIR" >"$TMP/hold-$1.log" 2>&1 &
	HOLDERS="$HOLDERS $!:$1"
	i=0
	while [ ! -f "$SD/$1.ready" ] && [ $i -lt 200 ]; do sleep 0.1; i=$((i + 1)); done
	[ -f "$SD/$1.ready" ]
}
release_all() {
	for h in $HOLDERS; do
		: >"$SD/${h#*:}.stop"
		wait "${h%%:*}" 2>/dev/null
	done
	HOLDERS=""
}
at_exit release_all

# Normalise one `show IF --json` document: link masked, peers sorted by key,
# allowed IPs sorted.
norm() {
	python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
d["link"] = "(masked)"
for p in d["peers"]:
    p["allowed_ips"].sort()
d["peers"].sort(key=lambda p: p["public_key"])
json.dump(d, sys.stdout, indent=1, sort_keys=True)
print()' "$1"
}
# Sorted showconf text: [Peer] blocks in key order, AllowedIPs sorted.
norm_conf() {
	python3 -c '
import sys
blocks, cur = [], []
for line in open(sys.argv[1], encoding="utf-8", errors="replace"):
    line = line.rstrip("\r\n")
    if line.startswith("[") and cur:
        blocks.append(cur); cur = []
    if line == "FwMark = off":
        continue
    if line.startswith("AllowedIPs = "):
        line = "AllowedIPs = " + ", ".join(sorted(line[13:].split(", ")))
    if line:
        cur.append(line)
blocks.append(cur)
head, peers = blocks[0], sorted(blocks[1:], key=lambda b: [l for l in b if l.startswith("PublicKey")])
for b in [head] + peers:
    print("\n".join(b)); print()' "$1"
}

# Compare the two sides' JSON and showconf after STEP.
compare() { # STEP
	ip netns exec "$NS" "$BUILD/wgctl" show "$IFN" --json --show-keys >"$TMP/l.json" 2>"$TMP/l.err" ||
		{ fail_log "$1: Linux wgctl show" "$TMP/l.err"; return; }
	run wgctl.exe show "$IFN" --json --show-keys >"$TMP/w.json" 2>"$TMP/w.err" ||
		{ fail_log "$1: wgctl.exe show" "$TMP/w.err"; return; }
	norm "$TMP/l.json" >"$TMP/l.norm" && norm "$TMP/w.json" >"$TMP/w.norm" ||
		{ fail "$1: JSON does not parse"; return; }
	if cmp -s "$TMP/l.norm" "$TMP/w.norm"; then
		ok "$1: same JSON ($(grep -c '"public_key"' "$TMP/w.norm") keys)"
	else
		diff "$TMP/l.norm" "$TMP/w.norm" | head -n 20 >"$TMP/d"
		fail_log "$1: JSON differs (Linux <, Windows >)" "$TMP/d"
	fi
	ip netns exec "$NS" "$BUILD/wgctl" showconf "$IFN" >"$TMP/l.conf" 2>&1 &&
		run wgctl.exe showconf "$IFN" >"$TMP/w.conf" 2>&1 &&
		norm_conf "$TMP/l.conf" >"$TMP/l.cn" && norm_conf "$TMP/w.conf" >"$TMP/w.cn"
	if cmp -s "$TMP/l.cn" "$TMP/w.cn"; then
		ok "$1: same showconf"
	else
		diff "$TMP/l.cn" "$TMP/w.cn" | head -n 20 >"$TMP/d"
		fail_log "$1: showconf differs (Linux <, Windows >)" "$TMP/d"
	fi
}

both() { # STEP CMD ARGS... (IF stands for the interface): run on both sides
	step=$1
	shift
	la="" wa=""
	for a in "$@"; do
		case $a in IF) a=$IFN ;; esac
		la="$la $(_lib_q "$a")"
	done
	eval "set -- $la"
	if ! ip netns exec "$NS" env WGCTL_STATE_DIR="$TMP/lstate" "$BUILD/wgctl" "$@" \
		>"$TMP/l.out" 2>&1; then
		fail_log "$step: Linux wgctl $1" "$TMP/l.out"
		return 1
	fi
	# Windows paths for files given to wgctl.exe.
	wa=""
	for a in "$@"; do
		case $a in "$TMP"/*) a=$(winpath "$a") ;; esac
		wa="$wa $(_lib_q "$a")"
	done
	eval "set -- $wa"
	if ! WGCTL_STATE_DIR=$(winpath "$TMP/wstate") run wgctl.exe "$@" >"$TMP/w.out" 2>&1; then
		fail_log "$step: wgctl.exe $1" "$TMP/w.out"
		return 1
	fi
	# What the command itself said (a sync's summary, any warning) too.
	if ! cmp -s "$TMP/l.out" "$TMP/w.out"; then
		diff "$TMP/l.out" "$TMP/w.out" | head -n 10 >"$TMP/d"
		fail_log "$step: wgctl and wgctl.exe said different things (Linux <, Windows >)" "$TMP/d"
	fi
	compare "$step"
}

KEYA=$("$BUILD/wgctl" genkey 2>/dev/null)
KEYB=$("$BUILD/wgctl" genkey 2>/dev/null)
PSKA=$("$BUILD/wgctl" genpsk 2>/dev/null)
PSKB=$("$BUILD/wgctl" genpsk 2>/dev/null)

# A peer with 5,000 allowed IPs (10.80.x.y/32) and a few plain ones.
big_peer_conf() {
	{
		printf '[Interface]\nPrivateKey = %s\nListenPort = 51900\n' "$KEYA"
		printf '[Peer]\nPublicKey = %s\nAllowedIPs = ' "$("$BUILD/wgctl" pubkey <<EOF
$KEYB
EOF
)"
		awk 'BEGIN { for (i = 0; i < 5000; i++) printf "%s10.80.%d.%d/32", (i ? ", " : ""), int(i / 250), i % 250 + 1; print "" }'
		printf '[Peer]\nPublicKey = xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=\n'
		printf 'Endpoint = [2001:db8::7]:51820\nPersistentKeepalive = 21\n'
		printf 'AllowedIPs = fd00:80::/48, 10.81.0.0/16\n'
	} >"$1"
}

json_part() {
	# Key files 0600, or the Linux build warns (Windows has no modes to check).
	umask 077
	ns_add "$NS" || return 1
	wggo_start "$NS" "$IFN" "$TMP/wggo.log" || { fail_log "wireguard-go" "$TMP/wggo.log"; return 1; }
	hold "$IFN" || { fail_log "nt_tool hold $IFN" "$TMP/hold-$IFN.log"; return 1; }

	gen_config 1 20 nt 51850 "$KEYA" "$KEYB" "$PSKA" "$PSKB" | grep -v '^FwMark' >"$TMP/c1.conf"
	both "setconf (20-peer pool)" setconf IF "$TMP/c1.conf"
	for seed in 2 3 4; do
		gen_config $seed 20 nt 51850 "$KEYA" "$KEYB" "$PSKA" "$PSKB" | grep -v '^FwMark' \
			>"$TMP/c$seed.conf"
		both "sync to random config $seed" sync IF "$TMP/c$seed.conf"
	done
	both "set: a peer added by hand" set IF peer TrMvSoP4jYQlY6RIzBgbssQqY3vxI2Pi+y71lOWWXX0= \
		endpoint 192.0.2.9:51999 allowed-ips 10.99.0.0/16,fd99::/64 persistent-keepalive 15
	both "set: that peer removed" set IF peer TrMvSoP4jYQlY6RIzBgbssQqY3vxI2Pi+y71lOWWXX0= remove
	big_peer_conf "$TMP/big.conf"
	both "setconf: a peer with 5,000 allowed IPs" setconf IF "$TMP/big.conf"
	gen_config 5 10000 nt 51850 "$KEYA" "$KEYB" "$PSKA" "$PSKB" | grep -v '^FwMark' >"$TMP/c10k.conf"
	both "setconf: 10,000-peer pool" setconf IF "$TMP/c10k.conf"
	gen_config 6 10000 nt 51850 "$KEYA" "$KEYB" "$PSKA" "$PSKB" | grep -v '^FwMark' >"$TMP/c10k2.conf"
	both "sync: 10,000-peer pool changed" sync IF "$TMP/c10k2.conf"
}

# wgctl.exe's own errors: the exit codes of wgctl(8) and the library's words.
tool_errors() {
	mkdir -p "$TMP/nodll-wgctl"
	cp "$RUN/wgctl.exe" "$RUN/iphlpapi.dll" "$TMP/nodll-wgctl/"
	"$WINE" "$TMP/nodll-wgctl/wgctl.exe" show wg0 >"$TMP/e.out" 2>&1
	rc=$?
	if [ $rc = 3 ] && grep -q "^wgctl: cannot read 'wg0': wireguard.dll not found: install WireGuard for Windows or put wireguard.dll beside the program" "$TMP/e.out"; then
		ok "wgctl.exe without wireguard.dll: exit 3 and what to install"
	else
		fail_log "wgctl.exe without wireguard.dll: exit $rc" "$TMP/e.out"
	fi
	run wgctl.exe show ntnosuch >"$TMP/e.out" 2>&1
	rc=$?
	if [ $rc = 3 ] && grep -q "ntnosuch" "$TMP/e.out"; then
		ok "wgctl.exe show of a missing adapter: exit 3"
	else
		fail_log "wgctl.exe show of a missing adapter: exit $rc" "$TMP/e.out"
	fi
	run wgctl.exe show "$IFN" --json >"$TMP/before.json" 2>&1
	run wgctl.exe set "$IFN" fwmark 0x42 >"$TMP/e.out" 2>&1
	rc=$?
	run wgctl.exe show "$IFN" --json >"$TMP/after.json" 2>&1
	if [ $rc != 0 ] && grep -q "FwMark" "$TMP/e.out" && cmp -s "$TMP/before.json" "$TMP/after.json"; then
		ok "wgctl.exe set fwmark 0x42: refused (exit $rc) naming FwMark, nothing changed"
	else
		fail_log "wgctl.exe set fwmark: exit $rc" "$TMP/e.out"
	fi
}

if [ ! -f "$RUN/wgctl.exe" ]; then
	skip "JSON vs Linux" "no $WIN_BUILD/wgctl.exe (make windows)"
elif [ "$(id -u)" != 0 ] || ! command -v wireguard-go >/dev/null 2>&1 || [ ! -x "$BUILD/wgctl" ]; then
	skip "JSON vs Linux" "needs root, wireguard-go and $BUILD/wgctl"
else
	json_part
	tool_errors
	release_all
fi

# ------------------------------------------------------------ 4. clean runs
if [ -f "$SD/violations" ]; then
	fail_log "normal runs left $SD/violations" "$SD/violations"
else
	ok "normal runs left no violations file"
fi
finish windows-nt
