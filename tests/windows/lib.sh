# tests/windows/lib.sh: running the Windows build under wine (POSIX sh).
# Sourced after tests/lib.sh by tests/windows/run.sh and by any suite that
# runs a .exe of build-win/ (the wireguard-nt stand-in, wghealth's service
# tests):
#
#   win_init [DIR]         a fresh WINEPREFIX in DIR (default $SUITE_TMP/wine),
#                          created now (about 6 s), its wineserver stopped on
#                          exit; exports WINEPREFIX, WINEDEBUG=-all and
#                          WGKIT_STANDIN_DIR (the stand-ins' state, a fresh
#                          folder under $SUITE_TMP). 1 if wine cannot start.
#   win_run EXE [ARG...]   run EXE under wine64 with $WIN_DLLDIR (the stand-in
#                          wireguard.dll's folder) first on the DLL search path;
#                          stdin, stdout, stderr and the exit status are the
#                          program's own.
#   json_diff A B          0 when the JSON documents in files A and B are equal
#                          (objects compared by key, not by order); else 1
#                          and a unified diff of both, pretty-printed, on stdout.
#   win_have_tools         0 when mingw-w64 and wine64 are installed.
#
# Knobs: WINE (default /usr/lib/wine/wine64), WIN_BUILD (default build-win),
# WIN_DLLDIR (default $WIN_BUILD/tests/standin).
WINE=${WINE:-/usr/lib/wine/wine64}
WIN_BUILD=${WIN_BUILD:-build-win}
WIN_DLLDIR=${WIN_DLLDIR:-$WIN_BUILD/tests/standin}

win_have_tools() {
	command -v x86_64-w64-mingw32-gcc >/dev/null 2>&1 && [ -x "$WINE" ]
}

_win_server_stop() {
	if command -v wineserver >/dev/null 2>&1; then
		WINEPREFIX="$1" wineserver -k >/dev/null 2>&1
	elif [ -x /usr/lib/wine/wineserver64 ]; then
		WINEPREFIX="$1" /usr/lib/wine/wineserver64 -k >/dev/null 2>&1
	fi
	return 0
}

win_init() {
	WINEPREFIX=${1:-$SUITE_TMP/wine}
	WINEDEBUG=-all
	WGKIT_STANDIN_DIR=${WGKIT_STANDIN_DIR:-$SUITE_TMP/standin}
	export WINEPREFIX WINEDEBUG WGKIT_STANDIN_DIR
	mkdir -p "$WGKIT_STANDIN_DIR"
	at_exit _win_server_stop "$WINEPREFIX"
	# Creating the prefix prints its own notes: here, not in a test's output.
	"$WINE" cmd.exe /c exit 0 >"$SUITE_TMP/wine-init.log" 2>&1 </dev/null
}

win_run() {
	_win_exe=$1
	shift
	# The folder a Windows path names: wine maps / to Z:, so a Unix path
	# works as it is.
	WINEPATH="$(cd "$WIN_DLLDIR" 2>/dev/null && pwd || echo "$WIN_DLLDIR")" "$WINE" "$_win_exe" "$@"
}

json_diff() {
	python3 - "$1" "$2" <<'PYEOF'
import difflib, json, sys
docs = []
for path in sys.argv[1:3]:
    try:
        with open(path, "rb") as f:
            docs.append(json.loads(f.read().decode("utf-8")))
    except Exception as e:
        print("json_diff: %s: not JSON: %s" % (path, e))
        sys.exit(1)
if docs[0] == docs[1]:
    sys.exit(0)
a, b = (json.dumps(d, indent=1, sort_keys=True).splitlines() for d in docs)
sys.stdout.write("\n".join(difflib.unified_diff(a, b, sys.argv[1], sys.argv[2], lineterm="")) + "\n")
sys.exit(1)
PYEOF
}
