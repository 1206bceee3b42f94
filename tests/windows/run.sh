#!/bin/sh
# The Windows build under wine: `make windows`, then wgctl.exe and
# wghealth.exe in a fresh WINEPREFIX, compared with the Linux build: the
# version, keys (genkey/pubkey), and every hostile input of the Linux suites
# (tests/wgctl, tests/uapi abuse.sh and input.sh) giving the same error line
# and exit code. Helpers for other Windows suites: tests/windows/lib.sh.
#   sh tests/windows/run.sh BUILD
# Prints "windows: N passed, N failed, N skipped"; exits non-zero on failure.
# shellcheck disable=SC2016
set -u
BUILD=${1:-build}
cd "$(dirname "$0")/../.." || exit 1
ROOT=$(pwd)
. tests/lib.sh
. tests/windows/lib.sh
suite_init windows
T=$SUITE_TMP
# check NAME CONDITION [DETAIL]: shell code in single quotes, evaluated
# later by design; DETAIL shown on failure.
check() { if eval "$2"; then ok "$1"; else fail "$1" "$(eval "${3:-true}" 2>&1 | head -c 800)"; fi; }

if ! win_have_tools; then
	cannot "mingw-w64 (x86_64-w64-mingw32-gcc) or wine64 ($WINE) missing: run make deps"
fi
WGCTL=$ROOT/$BUILD/wgctl
if [ ! -x "$WGCTL" ]; then
	fail "windows: $WGCTL not built (make first)"
	finish
fi
if ! make --no-print-directory -j2 windows >"$T/make.log" 2>&1; then
	fail_log "make windows" "$T/make.log"
	finish
fi
ok "make windows: libwg-netlink.dll, its import library, wgctl.exe, wghealth.exe"
WEXE=$ROOT/$WIN_BUILD/wgctl.exe
HEXE=$ROOT/$WIN_BUILD/wghealth.exe

# The DLL exports the Linux map minus lib/windows/not-exported.txt, exactly.
sed -n 's/^[[:space:]]*\(wgnl_[a-z0-9_]*\);.*/\1/p' lib/libwg-netlink.map |
	grep -vxF -f lib/windows/not-exported.txt | sort >"$T/want.syms"
x86_64-w64-mingw32-objdump -p "$WIN_BUILD/libwg-netlink.dll" |
	sed -n '/\[Ordinal\/Name Pointer\] Table/,/^$/p' | awk '/wgnl_/ {print $NF}' | sort >"$T/have.syms"
if [ -s "$T/want.syms" ] && cmp -s "$T/want.syms" "$T/have.syms"; then
	ok "libwg-netlink.dll exports the $(wc -l <"$T/want.syms") symbols of the map not in not-exported.txt"
else
	fail "libwg-netlink.dll exports" "$(diff "$T/want.syms" "$T/have.syms" | head -n 20)"
fi
# And the list names only symbols the map has (no stale entry hides a gap).
stale=$(grep -v '^#' lib/windows/not-exported.txt | while read -r sym; do
	grep -q "^[[:space:]]*$sym;" lib/libwg-netlink.map || echo "$sym"
done)
check "lib/windows/not-exported.txt names only symbols of the map" '[ -z "$stale" ]' 'echo "$stale"'
# Only system DLLs (and wireguard.dll, loaded at run time): nothing of mingw's.
bad_dlls=""
for f in "$WIN_BUILD/libwg-netlink.dll" "$WEXE" "$HEXE"; do
	for d in $(x86_64-w64-mingw32-objdump -p "$f" | sed -n 's/^[[:space:]]*DLL Name: //p'); do
		case $(echo "$d" | tr '[:upper:]' '[:lower:]') in
		kernel32.dll | advapi32.dll | ws2_32.dll | iphlpapi.dll | msvcrt.dll | bcrypt.dll) ;;
		*) bad_dlls="$bad_dlls $(basename "$f"):$d" ;;
		esac
	done
done
check "the DLL and the .exe import only Windows system DLLs" '[ -z "$bad_dlls" ]' 'echo "$bad_dlls"'

if ! win_init; then
	fail_log "wine64 starts in a fresh WINEPREFIX" "$T/wine-init.log"
	finish
fi

# ------------------------------------------------------------ helpers
printf '{"a": 1, "b": [1, 2, {"c": "x"}]}' >"$T/j1.json"
printf '{\n  "b": [1, 2, {"c": "x"}],\n  "a": 1\n}\n' >"$T/j2.json"
printf '{"a": 1, "b": [2, 1, {"c": "x"}]}' >"$T/j3.json"
json_diff "$T/j1.json" "$T/j2.json" >"$T/jd.out"
r1=$?
json_diff "$T/j1.json" "$T/j3.json" >"$T/jd.out"
r2=$?
check "json_diff: equal across key order and layout, unequal across array order" \
	'[ $r1 = 0 ] && [ $r2 = 1 ] && grep -q "^-" "$T/jd.out"' 'echo "r1=$r1 r2=$r2"; cat "$T/jd.out"'

# ------------------------------------------------------------ the POSIX layer
# compat_test.exe (tests/windows/compat_test.c): one "ok - " or "FAIL - "
# line per case, each counted here.
mkdir -p "$T/compat"
win_run "$ROOT/$WIN_BUILD/tests/compat_test.exe" "$T/compat" >"$T/compat.out" 2>&1
rc=$?
while IFS= read -r line; do
	case $line in
	"ok - "*) ok "compat: ${line#ok - }" ;;
	"FAIL - "*) fail "compat: ${line#FAIL - }" ;;
	*) fail "compat: unexpected output" "$line" ;;
	esac
done <"$T/compat.out"
check "compat_test.exe: exit 0 after its $(wc -l <"$T/compat.out") cases" '[ $rc = 0 ] && [ -s "$T/compat.out" ]'

# ------------------------------------------------------------ version
"$WGCTL" --version >"$T/l.out" 2>&1
win_run "$WEXE" --version >"$T/w.out" 2>&1
rc=$?
check "wgctl.exe --version: exit 0, the Linux wgctl's line" '[ $rc = 0 ] && cmp -s "$T/l.out" "$T/w.out"' \
	'echo "linux: $(cat "$T/l.out")"; echo "wine (exit $rc): $(cat "$T/w.out")"'
"$ROOT/$BUILD/wghealth" --version >"$T/l.out" 2>&1
win_run "$HEXE" --version >"$T/w.out" 2>&1
rc=$?
check "wghealth.exe --version: exit 0, the Linux wghealth's line" '[ $rc = 0 ] && cmp -s "$T/l.out" "$T/w.out"' \
	'echo "linux: $(cat "$T/l.out")"; echo "wine (exit $rc): $(cat "$T/w.out")"'
win_run "$HEXE" probe 192.0.2.1 >"$T/w.out" 2>"$T/w.err"
rc=$?
check "wghealth.exe probe (Linux-only): exit 1, 'not supported on Windows'" \
	'[ $rc = 1 ] && [ "$(cat "$T/w.err")" = "wghealth: probe: not supported on Windows" ] && [ ! -s "$T/w.out" ]' \
	'echo "exit $rc: $(cat "$T/w.err")"'

# wghealth.exe history over a SQLite file written on Linux: the static
# SQLite, the --since parser (strptime) and local times (localtime_r) give
# the Linux output.
sqlite3 "$T/hist.db" "CREATE TABLE events (id INTEGER PRIMARY KEY, ts_ms INTEGER NOT NULL,
	interface TEXT NOT NULL, kind TEXT NOT NULL, verdict TEXT NOT NULL DEFAULT '',
	reason TEXT NOT NULL DEFAULT '', action TEXT NOT NULL DEFAULT '',
	result TEXT NOT NULL DEFAULT '', detail TEXT NOT NULL DEFAULT '');
	INSERT INTO events (ts_ms, interface, kind, verdict, reason, action, result) VALUES
	(1700000000000, 'wg0', 'transition', 'degraded', 'handshake_stale', '', ''),
	(1700000300000, 'wg0', 'remedy', '', '', 'restart', 'ok'),
	(1700000600500, 'wg0', 'transition', 'healthy', '', '', '');" 2>"$T/sqlite.err"
hist_same=0 hist_diff=""
for a in "--json" "" "--since 2023-11-14T22:15:00 --json" "--since 2023-11-14 --json" "--limit 1"; do
	# shellcheck disable=SC2086
	"$ROOT/$BUILD/wghealth" history wg0 --db "$T/hist.db" $a >"$T/l.out" 2>&1
	lr=$?
	# shellcheck disable=SC2086
	win_run "$HEXE" history wg0 --db "$T/hist.db" $a >"$T/w.out" 2>&1
	wr=$?
	case $a in
	*--json*) json_diff "$T/l.out" "$T/w.out" >"$T/jd.out" ;;
	*) diff "$T/l.out" "$T/w.out" >"$T/jd.out" ;;
	esac
	if [ $? = 0 ] && [ $lr = 0 ] && [ $wr = 0 ] && [ -s "$T/l.out" ]; then
		hist_same=$((hist_same + 1))
	else
		hist_diff="$hist_diff
history $a: linux exit $lr, wine exit $wr: $(head -n 6 "$T/jd.out")"
	fi
done
check "wghealth.exe history (SQLite, --since, local times): the Linux output in all 5 forms" \
	'[ $hist_same = 5 ]' 'cat "$T/sqlite.err"; echo "$hist_diff"'

# ------------------------------------------------------------ keys
# The same private keys through both pubkeys: fixed bytes (clamped or not),
# and keys each build generated.
python3 - "$T" <<'PYEOF'
import base64, random, sys
rng = random.Random(13)
keys = [bytes(32), bytes([255] * 32)] + [rng.randbytes(32) for _ in range(6)]
for i, k in enumerate(keys):
    open("%s/fixed%d.key" % (sys.argv[1], i), "w").write(base64.b64encode(k).decode() + "\n")
# CRLF, as a Windows editor saves it.
open("%s/fixed%d.key" % (sys.argv[1], len(keys)), "w", newline="").write(base64.b64encode(keys[3]).decode() + "\r\n")
PYEOF
"$WGCTL" genkey >"$T/linux-gen.key" 2>/dev/null
win_run "$WEXE" genkey >"$T/win-gen.key" 2>"$T/w.err"
rc=$?
check "wgctl.exe genkey: exit 0, one base64 key of 32 bytes, nothing on stderr" \
	'[ $rc = 0 ] && [ ! -s "$T/w.err" ] && python3 -c "import base64,sys; s=open(sys.argv[1],\"rb\").read(); assert s.endswith(b\"=\\n\") and len(s) == 45 and len(base64.b64decode(s)) == 32" "$T/win-gen.key"' \
	'od -c "$T/win-gen.key" | head -n 4; cat "$T/w.err"'
win_run "$WEXE" genpsk >"$T/win-psk.key" 2>"$T/w.err"
rc=$?
check "wgctl.exe genpsk: exit 0, one base64 key of 32 bytes" \
	'[ $rc = 0 ] && python3 -c "import base64,sys; s=open(sys.argv[1],\"rb\").read(); assert len(s) == 45 and len(base64.b64decode(s)) == 32" "$T/win-psk.key"' \
	'od -c "$T/win-psk.key" | head -n 4; cat "$T/w.err"'
nkeys=0 same=0 diffs=""
for k in "$T"/fixed*.key "$T/linux-gen.key" "$T/win-gen.key"; do
	nkeys=$((nkeys + 1))
	"$WGCTL" pubkey <"$k" >"$T/l.out" 2>&1
	lr=$?
	win_run "$WEXE" pubkey <"$k" >"$T/w.out" 2>&1
	wr=$?
	if [ $lr = 0 ] && [ $wr = 0 ] && cmp -s "$T/l.out" "$T/w.out"; then
		same=$((same + 1))
	else
		diffs="$diffs
$(basename "$k"): linux exit $lr '$(cat "$T/l.out")', wine exit $wr '$(cat "$T/w.out")'"
	fi
done
check "pubkey: the same public key as Linux for all $nkeys private keys (fixed, CRLF, generated by each)" \
	'[ $same = $nkeys ]' 'echo "$diffs"'

# ------------------------------------------------------------ hostile input
# Every bad input of the Linux suites, run by both builds in the same folder
# with the same relative paths: the same stderr (one line), the same stdout
# and the same exit code. The interface never exists: each is refused before
# any device is looked at.
H=$T/h
mkdir -p "$H/etc" "$H/state" "$H/locks" "$H/a-dir"
export WGCTL_STATE_DIR="$H/state" WGCTL_LOCK_DIR="$H/locks"
PRIV=$(cat "$T/fixed3.key")
PUB=$("$WGCTL" pubkey <"$T/fixed3.key")
cd "$H" || exit 1
printf '[Interface]\nPrivateKey = %s\nListenPort = 4444\n\n[Peer]\nPublicKey = %s\nAllowedIPs = 10.2.0.2/33\n' \
	"$PRIV" "$PUB" >bad-prefix.conf
printf '[Interface]\nListenPort = 1\nBogusKey = 2\n' >bogus-key.conf
printf '[Interface]\nPrivateKey = %s\nAddress = 10.0.0.300/24\n' "$PRIV" >etc/wcx0.conf
printf '[Interface]\nPrivateKey = %s\nListenPort = 70000\n' "$PRIV" >bad-port.conf
printf '[Peer]\nPublicKey = %s\nEndpoint = [::1:51820\n' "$PUB" >bad-endpoint.conf
printf '[Interface]\nPrivateKey = notakey\n' >bad-private.conf
printf 'PrivateKey = %s\n' "$PRIV" >no-section.conf
printf '[Interface]\r\nListenPort = 1\r\n[Bogus]\r\n' >crlf-section.conf
: >empty.conf
printf '# rendered by a template that failed\n\n[Interface]\n' >comments.conf
echo "not a key" >bad.key
python3 -c 'import sys; open(sys.argv[1], "w").write("[Interface]\nListenPort = 53001\n\n[Peer]\nPublicKey = " + "x" * (1 << 20) + "\nAllowedIPs = 10.9.9.9/32\n")' long-pubkey.conf
python3 -c 'import sys; open(sys.argv[1], "w").write("[Interface]\nListenPort = 53001\n" + "x" * (1 << 20) + "\n")' long-garbage.conf
python3 -c 'import sys; open(sys.argv[1], "w").write("[Interface]\nPrivateKey = " + "x" * (1 << 20) + "\n")' long-private.conf
truncate -s 300M huge.conf
ln -s loop2.conf loop1.conf
ln -s loop1.conf loop2.conf
ln -s nowhere.conf dangling.conf
chmod 600 ./*.conf ./*.key etc/*.conf 2>/dev/null

# hostile NAME STDIN ARGS...: wgctl ARGS on both (STDIN a file or /dev/null).
nhostile=0
hostile() {
	_n=$1 _in=$2
	shift 2
	nhostile=$((nhostile + 1))
	"$WGCTL" "$@" <"$_in" >"$T/l.out" 2>"$T/l.err"
	lr=$?
	win_run "$WEXE" "$@" <"$_in" >"$T/w.out" 2>"$T/w.err"
	wr=$?
	if [ $lr = 0 ]; then
		fail "hostile: $_n: the Linux wgctl accepted it (exit 0): not a bad input"
	elif [ $lr = $wr ] && cmp -s "$T/l.err" "$T/w.err" && cmp -s "$T/l.out" "$T/w.out" &&
		[ "$(wc -l <"$T/w.err")" = 1 ]; then
		ok "hostile: $_n: exit $wr, '$(head -c 160 "$T/w.err")'"
	else
		fail "hostile: $_n: linux exit $lr, wine exit $wr" \
			"$(diff "$T/l.err" "$T/w.err" | head -n 8)" "$(diff "$T/l.out" "$T/w.out" | head -n 4)"
	fi
}
N=/dev/null
for c in sync syncconf setconf addconf; do
	hostile "$c of a prefix /33" $N $c wcx0 bad-prefix.conf
	hostile "$c of an unknown key" $N $c wcx0 bogus-key.conf
	hostile "$c of a 300 MB sparse file" $N $c wcx0 huge.conf
	hostile "$c of a 1 MB PublicKey line" $N $c wcx0 long-pubkey.conf
	hostile "$c of a 1 MB line of garbage" $N $c wcx0 long-garbage.conf
	hostile "$c of a 1 MB PrivateKey line" $N $c wcx0 long-private.conf
	hostile "$c of a directory" $N $c wcx0 a-dir
	hostile "$c of a missing file" $N $c wcx0 missing.conf
	hostile "$c of a symlink loop" $N $c wcx0 loop1.conf
	hostile "$c of a dangling symlink" $N $c wcx0 dangling.conf
	hostile "$c of ListenPort 70000" $N $c wcx0 bad-port.conf
	hostile "$c of a broken endpoint" $N $c wcx0 bad-endpoint.conf
	hostile "$c of a bad private key" $N $c wcx0 bad-private.conf
	hostile "$c of a key outside any section" $N $c wcx0 no-section.conf
	hostile "$c of an unknown section (CRLF lines)" $N $c wcx0 crlf-section.conf
done
for c in sync syncconf setconf; do
	hostile "$c of an empty file" $N $c wcx0 empty.conf
	hostile "$c of comments only" $N $c wcx0 comments.conf
	hostile "$c of an empty stdin" $N $c wcx0 /dev/stdin
done
hostile "pubkey of 'not a key'" bad.key pubkey
hostile "pubkey of an empty stdin" $N pubkey
hostile "pubkey of a 1 MB line" long-garbage.conf pubkey
hostile "up of Address 10.0.0.300/24" $N up etc/wcx0.conf
hostile "up of a config name that is no interface name" $N up "etc/not a name.conf"
hostile "down of a config name that is no interface name" $N down "etc/not a name.conf"
hostile "set: bad allowed IP" $N set wcx0 listen-port 4000 peer "$PUB" allowed-ips 10.0.0.0/99
hostile "set: bad public key" $N set wcx0 listen-port 4000 peer notakey
for v in 65536 -1 "1 " 0x10 "" 1e3; do
	hostile "set: listen-port '$v'" $N set wcx0 listen-port "$v"
done
hostile "set: private-key from a directory" $N set wcx0 private-key a-dir
hostile "set: private-key from a missing file" $N set wcx0 private-key missing.key
hostile "set: private-key from a symlink loop" $N set wcx0 private-key loop1.conf
hostile "set: private-key that is a key, not a file" $N set wcx0 private-key "$PRIV"
hostile "set: private-key file holding no key" $N set wcx0 private-key bad.key
hostile "peer add: bad key" $N peer add wcx0 notakey
hostile "peer: unknown subcommand" $N peer frob wcx0 "$PUB"
hostile "an unknown command" $N frobnicate
hostile "an invalid interface name" $N show "a/b"
hostile "--wait out of range" $N --wait 4000 show
for args in "genkey --bogus" "pubkey -x" "showconf --bogus" "setconf wcx0 --bogus" \
	"syncconf --bogus wcx0 f" "reresolve wcx0 --bogus" "peer --bogus" \
	"syncconf --max-remove=x wcx0 f" "syncconf wcx0 f --max-change"; do
	# shellcheck disable=SC2086
	hostile "$args" $N $args
done

# Windows only: a config with hooks is refused before any change (with the
# stub backend, any change would have failed with another message).
printf '[Interface]\nPrivateKey = %s\nAddress = 10.0.0.1/24\nPostUp = echo hi\n' "$PRIV" >etc/wch0.conf
win_run "$WEXE" up etc/wch0.conf >"$T/w.out" 2>"$T/w.err"
rc=$?
check "up of a config with a PostUp hook: exit 2, refused before any change" \
	'[ $rc = 2 ] && [ "$(cat "$T/w.err")" = "wgctl: up: '"'"'wch0'"'"': PostUp hooks are not supported on Windows: nothing changed" ]' \
	'echo "exit $rc: $(cat "$T/w.err")"'
cd "$ROOT" || exit 1
echo "windows: $nhostile hostile inputs compared"
# wghealth.exe and the Service Control Manager (issue 13, proof 2).
. tests/windows/scm.sh && scm_cases
finish
