# Part 4 of tests/uapi/run.sh (sourced): where a config comes from. Every
# command that reads one (sync, syncconf, setconf, addconf, up) must read it
# to its end from a pipe into /dev/stdin, process substitution <(...), a
# FIFO and a symlink, exactly as from a regular file; an empty desired config
# must not silently remove every peer. Uses run.sh's helpers and variables.

echo "=== uapi part 4: config input (pipes, /dev/stdin, <(...), FIFO, symlink, empty)"
destroy_instances
if ! start_instances >"$TMP/setup" 2>&1; then
	bad "part 4 set-up (namespaces, veth, wireguard-go)"; cat "$TMP/setup"
	return
fi
IN_STATE="$TMP/in-state"
genkey "$TMP/in.key"; genkey "$TMP/in2.key"
IN_P1=$(wg pubkey <"$TMP/in2.key")
IN_P2=UapiInputPeer00000000000000000000000000002A=
IN_R=UapiInputPeer00000000000000000000000000009A=
# The desired state: key, port, two peers.
printf '[Interface]\nPrivateKey = %s\nListenPort = 52931\n\n[Peer]\nPublicKey = %s\nAllowedIPs = 10.231.0.1/32\nEndpoint = 192.0.2.31:51820\n\n[Peer]\nPublicKey = %s\nAllowedIPs = 10.231.0.2/32, fd31::2/128\n' \
	"$(cat "$TMP/in.key")" "$IN_P1" "$IN_P2" >"$TMP/in.conf"
chmod 600 "$TMP/in.conf"
# What runs before each command: another key, another port, another peer.
printf '[Interface]\nPrivateKey = %s\nListenPort = 52939\n\n[Peer]\nPublicKey = %s\nAllowedIPs = 10.231.9.9/32\n' \
	"$(cat "$TMP/in2.key")" "$IN_R" >"$TMP/in-reset.conf"
ln -s "$TMP/in.conf" "$TMP/in-link.conf"
: >"$TMP/in-empty.conf"
printf '# rendered by a template that failed\n\n[Interface]\n' >"$TMP/in-comments.conf"

in_reset() { wg setconf "$IFA" "$TMP/in-reset.conf"; }
# in_is_desired CMD: the device holds in.conf (addconf: plus the old peer,
# whose key and port it keeps only where in.conf does not set them).
in_is_desired() {
	wg showconf "$IFA" >"$TMP/in-run.conf" || return 1
	if [ "$1" = addconf ]; then
		wg show "$IFA" peers | grep -qx "$IN_R" && wg show "$IFA" peers | grep -qx "$IN_P1" &&
			wg show "$IFA" peers | grep -qx "$IN_P2" &&
			[ "$(wg show "$IFA" listen-port)" = 52931 ]
	else
		python3 "$HERE/compare.py" conf "$TMP/in.conf" "$TMP/in-run.conf"
	fi
}
in_is_reset() {
	wg showconf "$IFA" >"$TMP/in-run.conf" && python3 "$HERE/compare.py" conf "$TMP/in-reset.conf" "$TMP/in-run.conf"
}
in_cmd() { # CMD ARGS...: wgctl CMD with the test's state directory for sync
	c=$1; shift
	if [ "$c" = sync ]; then "$WGCTL" sync --state-dir "$IN_STATE" "$@"; else "$WGCTL" "$c" "$@"; fi
}
# A wrapper bash can run with <(...) (in_cmd is a function of this shell).
cat >"$TMP/in_cmd_bash" <<EOF
#!/bin/sh
c=\$1; shift
if [ "\$c" = sync ]; then exec "$WGCTL" sync --state-dir "$IN_STATE" "\$@"; else exec "$WGCTL" "\$c" "\$@"; fi
EOF
chmod +x "$TMP/in_cmd_bash"
# in_mode MODE CMD [OPTION...]: wgctl CMD [OPTION...] IFA <in.conf as MODE>.
in_mode() {
	m=$1 c=$2; shift 2
	case $m in
	file) in_cmd "$c" "$@" "$IFA" "$TMP/in.conf" ;;
	pipe) cat "$TMP/in.conf" | in_cmd "$c" "$@" "$IFA" /dev/stdin ;;
	procsub)
		bash -c 'f=$1; w=$2; shift 2; "$w" "$@" <(cat "$f")' sh "$TMP/in.conf" \
			"$TMP/in_cmd_bash" "$c" "$@" "$IFA" ;;
	fifo)
		rm -f "$TMP/in.fifo" && mkfifo "$TMP/in.fifo" || return 1
		# Bounded: a writer nobody opens the FIFO for must not hang.
		timeout 10 sh -c 'cat "$1" >"$2"' sh "$TMP/in.conf" "$TMP/in.fifo" &
		wp=$!
		in_cmd "$c" "$@" "$IFA" "$TMP/in.fifo"
		r=$?; wait $wp; return $r ;;
	symlink) in_cmd "$c" "$@" "$IFA" "$TMP/in-link.conf" ;;
	esac
}

if ! command -v bash >/dev/null 2>&1; then
	skipped "wgctl input: <(...) process substitution (no bash): SKIPPED"
fi
for cmd in sync syncconf setconf addconf; do
	for mode in pipe procsub fifo symlink; do
		[ $mode = procsub ] && ! command -v bash >/dev/null 2>&1 && continue
		in_reset
		rm -rf "$IN_STATE"
		rc=0
		in_mode $mode $cmd >"$TMP/in-out" 2>"$TMP/in-err" || rc=$?
		if [ $rc = 0 ] && in_is_desired $cmd >"$TMP/in-cmp" 2>&1; then
			ok "wgctl input: $cmd from $mode: exit 0, device holds the file"
		else
			bad "wgctl input: $cmd from $mode: exit $rc: $(cat "$TMP/in-out" "$TMP/in-err" "$TMP/in-cmp" | head -n 8)"
		fi
	done
done
# sync a second time through a pipe: the record exists now (the .fast
# digests, the file read on a second thread); still the whole file.
for mode in pipe procsub; do
	[ $mode = procsub ] && ! command -v bash >/dev/null 2>&1 && continue
	in_reset
	rm -rf "$IN_STATE"
	in_mode file sync >/dev/null 2>&1
	rc=0
	in_mode $mode sync --detailed-exitcode >/dev/null 2>"$TMP/in-err" || rc=$?
	in_reset
	rc2=0
	in_mode $mode sync >"$TMP/in-out" 2>>"$TMP/in-err" || rc2=$?
	if [ $rc = 0 ] && [ $rc2 = 0 ] && in_is_desired sync >"$TMP/in-cmp" 2>&1; then
		ok "wgctl input: sync from $mode with a record: exit 0, device holds the file"
	else
		bad "wgctl input: sync from $mode with a record: exit $rc then $rc2: $(cat "$TMP/in-out" "$TMP/in-err" "$TMP/in-cmp" | head -n 8)"
	fi
done

# --plan reads the file the same way (it used to read it another way).
in_reset
rc=0
cat "$TMP/in.conf" | in_cmd sync --plan "$IFA" /dev/stdin >"$TMP/in-out" 2>"$TMP/in-err" || rc=$?
if [ $rc = 0 ] && python3 -c 'import json,sys; c=json.load(open(sys.argv[1]))["counts"]; assert (c["add"], c["remove"]) == (2, 1), c' "$TMP/in-out" 2>"$TMP/in-cmp" &&
	in_is_reset >/dev/null 2>&1; then
	ok "wgctl input: sync --plan from a pipe: plans the whole file (2 to add, 1 to remove), changes nothing"
else
	bad "wgctl input: sync --plan from a pipe: exit $rc: $(cat "$TMP/in-err" "$TMP/in-cmp" | tail -n 3)"
fi

# Empty desired configs: refused (exit 2, nothing changed) by sync, syncconf
# and setconf unless --allow-empty; addconf of nothing changes nothing.
for cmd in sync syncconf setconf; do
	for src in empty-file empty-pipe comments; do
		in_reset
		rc=0
		case $src in
		empty-file) in_cmd $cmd "$IFA" "$TMP/in-empty.conf" >"$TMP/in-out" 2>"$TMP/in-err" || rc=$? ;;
		empty-pipe) printf '' | in_cmd $cmd "$IFA" /dev/stdin >"$TMP/in-out" 2>"$TMP/in-err" || rc=$? ;;
		comments) in_cmd $cmd "$IFA" "$TMP/in-comments.conf" >"$TMP/in-out" 2>"$TMP/in-err" || rc=$? ;;
		esac
		if [ $rc = 2 ] && grep -q "allow-empty" "$TMP/in-err" && [ "$(wc -l <"$TMP/in-err")" = 1 ] &&
			in_is_reset >"$TMP/in-cmp" 2>&1; then
			ok "wgctl input: $cmd of an empty config ($src): exit 2, one line naming --allow-empty, nothing changed"
		else
			bad "wgctl input: $cmd of an empty config ($src): exit $rc: $(cat "$TMP/in-out" "$TMP/in-err" "$TMP/in-cmp" | head -n 6)"
		fi
	done
	in_reset
	rc=0
	in_cmd $cmd --allow-empty "$IFA" "$TMP/in-empty.conf" >"$TMP/in-out" 2>"$TMP/in-err" || rc=$?
	if [ $rc = 0 ] && [ -z "$(wg show "$IFA" peers)" ] && [ "$(wg show "$IFA" private-key)" = "(none)" ]; then
		ok "wgctl input: $cmd --allow-empty of an empty file: exit 0, every peer and the key removed"
	else
		bad "wgctl input: $cmd --allow-empty: exit $rc, peers: $(wg show "$IFA" peers | wc -l): $(cat "$TMP/in-err")"
	fi
done
in_reset
rc=0
in_cmd addconf "$IFA" "$TMP/in-empty.conf" >"$TMP/in-out" 2>"$TMP/in-err" || rc=$?
if [ $rc = 0 ] && in_is_reset >/dev/null 2>&1; then
	ok "wgctl input: addconf of an empty file: exit 0, nothing changed"
else
	bad "wgctl input: addconf of an empty file: exit $rc: $(cat "$TMP/in-err")"
fi
# A directory is no config: one clear line, exit 2.
rc=0
in_cmd sync "$IFA" "$TMP" >"$TMP/in-out" 2>"$TMP/in-err" || rc=$?
if [ $rc = 2 ] && grep -q "Is a directory" "$TMP/in-err" && in_is_reset >/dev/null 2>&1; then
	ok "wgctl input: sync of a directory: exit 2, says so, nothing changed"
else
	bad "wgctl input: sync of a directory: exit $rc: $(cat "$TMP/in-err")"
fi

# A file holding a private key that group or others can read: a warning (the
# file named, the key not printed) from every command that reads one; none
# for a 0600 file.
cp "$TMP/in.conf" "$TMP/in-644.conf" && chmod 0644 "$TMP/in-644.conf"
for cmd in sync syncconf setconf addconf; do
	in_reset
	rc=0
	in_cmd $cmd "$IFA" "$TMP/in-644.conf" >"$TMP/in-out" 2>"$TMP/in-err" || rc=$?
	in_reset
	rc2=0
	in_cmd $cmd "$IFA" "$TMP/in.conf" >"$TMP/in-out" 2>"$TMP/in-err2" || rc2=$?
	if [ $rc = 0 ] && [ $rc2 = 0 ] && grep -q "warning: $cmd: '$TMP/in-644.conf' holds a private key and is accessible by group or others (mode 0644" "$TMP/in-err" &&
		! grep -qF "$(cat "$TMP/in.key")" "$TMP/in-err" && ! grep -q "accessible" "$TMP/in-err2"; then
		ok "wgctl input: $cmd of a 0644 file holding a private key warns (no key printed); of a 0600 file, no warning"
	else
		bad "wgctl input: $cmd key file mode warning: exit $rc/$rc2: $(cat "$TMP/in-err" "$TMP/in-err2")"
	fi
done

# up: wg-quick takes the interface name from the file name, so a pipe,
# /dev/stdin or <(...) cannot name one: refused, nothing done. A symlink
# or a FIFO named IF.conf works. Each up gets a fresh wireguard-go.
printf '[Interface]\nPrivateKey = %s\nListenPort = 52932\n\n[Peer]\nPublicKey = %s\nAllowedIPs = 10.232.0.0/24\n' \
	"$(cat "$TMP/in.key")" "$IN_P2" >"$TMP/in-up.conf"
chmod 600 "$TMP/in-up.conf"
UPX() { ip netns exec "$NSA" "$WGCTL" up --userspace "$@"; }
rc=0
cat "$TMP/in-up.conf" | UPX /dev/stdin >"$TMP/in-out" 2>"$TMP/in-err" || rc=$?
if [ $rc = 2 ] && grep -q "interface" "$TMP/in-err" && [ "$(wg show "$IFA" listen-port)" != 52932 ]; then
	ok "wgctl input: up /dev/stdin: exit 2, names the rule ($(cat "$TMP/in-err")), nothing done"
else
	bad "wgctl input: up /dev/stdin: exit $rc: $(cat "$TMP/in-err")"
fi
if command -v bash >/dev/null 2>&1; then
	rc=0
	bash -c '"$1" netns exec "$2" "$3" up --userspace <(cat "$4")' sh ip "$NSA" "$WGCTL" "$TMP/in-up.conf" \
		>"$TMP/in-out" 2>"$TMP/in-err" || rc=$?
	if [ $rc = 2 ] && grep -q "interface" "$TMP/in-err" && [ "$(wg show "$IFA" listen-port)" != 52932 ]; then
		ok "wgctl input: up <(...): exit 2, names the rule, nothing done"
	else
		bad "wgctl input: up <(...): exit $rc: $(cat "$TMP/in-err")"
	fi
fi
mkdir -p "$TMP/in-etc" "$TMP/in-fifo"
ln -s "$TMP/in-up.conf" "$TMP/in-etc/$IFA.conf"
# up refuses a configured device: a fresh wireguard-go for each up.
destroy_instances
start_instances >"$TMP/setup" 2>&1 || { bad "part 4: restart wireguard-go for up"; cat "$TMP/setup"; }
rc=0
UPX "$TMP/in-etc/$IFA.conf" >"$TMP/in-out" 2>"$TMP/in-err" || rc=$?
if [ $rc = 0 ] && [ "$(wg show "$IFA" listen-port)" = 52932 ] && [ "$(wg show "$IFA" peers)" = "$IN_P2" ]; then
	ok "wgctl input: up of a symlink IF.conf: exit 0, configured"
else
	bad "wgctl input: up of a symlink: exit $rc: $(cat "$TMP/in-err")"
fi
destroy_instances
if start_instances >"$TMP/setup" 2>&1; then
	mkfifo "$TMP/in-fifo/$IFA.conf"
	timeout 10 sh -c 'cat "$1" >"$2"' sh "$TMP/in-up.conf" "$TMP/in-fifo/$IFA.conf" &
	wp=$!
	rc=0
	UPX "$TMP/in-fifo/$IFA.conf" >"$TMP/in-out" 2>"$TMP/in-err" || rc=$?
	wait $wp
	if [ $rc = 0 ] && [ "$(wg show "$IFA" listen-port)" = 52932 ] && [ "$(wg show "$IFA" peers)" = "$IN_P2" ]; then
		ok "wgctl input: up of a FIFO named IF.conf: exit 0, configured"
	else
		bad "wgctl input: up of a FIFO: exit $rc: $(cat "$TMP/in-err")"
	fi
else
	bad "part 4: restart wireguard-go for up"; cat "$TMP/setup"
fi
destroy_instances
