# Helpers for guest tests (busybox sh inside the qemu guest). Sourced by
# /ktest/runner.sh and by every /ktest/test_*.sh.
#
# A test script defines one function per case and calls
#     ktest_case NAME FUNCTION
# which runs FUNCTION in a subshell and prints exactly one result line:
#     KTEST ok SCRIPT/NAME | KTEST fail SCRIPT/NAME REASON | KTEST skip SCRIPT/NAME REASON
# Inside a case: die REASON (fail), skip_case REASON (skip), must CMD...,
# must_fail CMD..., assert_eq. After each case every k-* namespace and link
# is removed (interfaces emptied of peers first: deleting a populated
# WireGuard interface costs ~17 ms per peer on this kernel).

# Busybox sh runs its own applets before PATH, and busybox ip knows neither
# netns nor wireguard links: always iproute2.
ip() { /usr/sbin/ip "$@"; }
export WG_COLOR_MODE=never

KTEST_RESULTS=/tmp/ktest.results
KTEST_REASON=/tmp/ktest.reason
KTEST_CASELOG=/tmp/ktest.case.log
ktest_script=${KTEST_SCRIPT:-$(basename "$0" .sh)}
ktest_script=${ktest_script#test_}

# One line, whatever the reason text held.
ktest_line() { printf '%s\n' "$*" | tr '\n\r\t' '   ' | sed 's/  *$//'; }

ktest_result() { # ok|fail|skip NAME [REASON]
	local v=$1 n=$2
	shift 2
	echo "$v $n" >>"$KTEST_RESULTS"
	if [ $# -gt 0 ]; then
		echo "KTEST $v $n $(ktest_line "$*")"
	else
		echo "KTEST $v $n"
	fi
}

# ktest_case NAME FUNCTION: run one case, report it, clean up after it.
ktest_case() {
	local name="$ktest_script/$1" fn=$2 rc=0
	: >"$KTEST_REASON"
	if ! command -v wg >/dev/null 2>&1; then
		ktest_result skip "$name" "wg not in the guest: install wireguard-tools on the host (tests/deps.sh)"
		return 0
	fi
	t0=$(cut -d' ' -f1 /proc/uptime)
	(set -u; umask 077; "$fn") >"$KTEST_CASELOG" 2>&1 </dev/null || rc=$?
	t1=$(cut -d' ' -f1 /proc/uptime)
	case $rc in
	0) ktest_result ok "$name" ;;
	77) ktest_result skip "$name" "$(cat "$KTEST_REASON")" ;;
	*)
		if [ -s "$KTEST_REASON" ]; then
			ktest_result fail "$name" "$(cat "$KTEST_REASON")"
		else
			ktest_result fail "$name" "exit $rc: $(tail -n 1 "$KTEST_CASELOG")"
		fi
		# The details go to the serial log (vm.sh shows KTEST-LOG lines).
		tail -n 30 "$KTEST_CASELOG" | sed 's/^/KTEST-LOG /'
		;;
	esac
	ktest_cleanup
	# For people reading the log; never asserted on.
	echo "KTEST info time $name $(awk -v t0="$t0" -v t1="$t1" \
		'{ printf "%.1f s, cleanup %.1f s", t1 - t0, $1 - t1 }' /proc/uptime)"
}

die() { ktest_line "$*" >"$KTEST_REASON"; echo "die: $*"; exit 1; }
skip_case() { ktest_line "$*" >"$KTEST_REASON"; echo "skip: $*"; exit 77; }

# must CMD...: run CMD; fail the case with its output if it fails.
must() {
	local out rc=0
	out=$("$@" 2>&1) || rc=$?
	[ -n "$out" ] && printf '%s\n' "$out"
	[ $rc = 0 ] || die "'$*' exited $rc: $(printf '%s' "$out" | tail -n 3)"
}
# must_fail CMD...: CMD must exit non-zero.
must_fail() {
	"$@" >/dev/null 2>&1 && die "'$*' succeeded but should have failed"
	return 0
}
assert_eq() { # GOT WANT WHAT
	[ "$1" = "$2" ] || die "$3: got '$1', want '$2'"
}
# assert_same FILE_A FILE_B WHAT: identical files, or fail showing the diff.
assert_same() {
	if ! cmp -s "$1" "$2"; then
		echo "--- $3: diff $1 $2"
		diff "$1" "$2" | head -n 40
		die "$3 differ: $(diff "$1" "$2" | grep '^[-+][^-+]' | head -n 4 | tr '\n' ' ')"
	fi
}

have_wgctl() { command -v wgctl >/dev/null 2>&1; }
need_wgctl() {
	have_wgctl || skip_case "build/wgctl not built (run make first); this case drives wgctl"
}

# nsx NS CMD...: run CMD in network namespace NS. busybox nsenter costs a
# third of "ip netns exec" (no mount namespace, no sysfs remount), which
# adds up over hundreds of commands under TCG; nothing here needs the
# namespace's own /sys.
nsx() { local ns=$1; shift; nsenter --net="/run/netns/$ns" -- "$@"; }

ns_add() { # NAME...
	local ns
	for ns in "$@"; do
		must ip netns add "$ns"
		must nsx "$ns" ip link set lo up
	done
}

# Empty every WireGuard interface in the current namespace (fast), for a
# cheap deletion afterwards.
wg_empty_all() {
	local i
	for i in $(wg show interfaces 2>/dev/null); do
		printf '[Interface]\n' >/tmp/ktest.empty.conf
		wg setconf "$i" /tmp/ktest.empty.conf >/dev/null 2>&1 || true
	done
}

ktest_cleanup() {
	local ns l
	for ns in $(ip netns list 2>/dev/null | awk '{print $1}'); do
		case $ns in k-*) ;; *) continue ;; esac
		ip netns exec "$ns" sh -c '. /ktest/lib.sh; wg_empty_all' >/dev/null 2>&1
		ip netns del "$ns" 2>/dev/null
	done
	wg_empty_all
	for l in $(ip -o link show 2>/dev/null | awk -F': ' '{print $2}' | sed 's/@.*//'); do
		case $l in k-*) ip link del "$l" 2>/dev/null ;; esac
	done
	rm -rf /tmp/k-*
}

# key_file PATH: a new private key in PATH (0600); prints nothing.
key_file() { (umask 077; wg genkey >"$1"); }
pub_of() { wg pubkey <"$1"; }

# Deterministic, valid base64 public keys (32 bytes: 43 characters and '=',
# the last character with zero padding bits): "fake_key N".
fake_key() { printf 'KtestPeer%033dA=\n' "$1"; }

# ping_until NS ADDR [TRIES]: ping from NS until one reply (the first packet
# also waits for the handshake).
ping_until() {
	local ns=$1 addr=$2 tries=${3:-10} i=0
	while [ $i -lt "$tries" ]; do
		nsx "$ns" ping -c 1 -W 2 "$addr" >/dev/null 2>&1 && return 0
		i=$((i + 1))
	done
	die "no ping reply from $addr in namespace $ns after $tries tries"
}

# veth_pair NS_A ADDR_A NS_B ADDR_B: link two namespaces (k-va in NS_A,
# k-vb in NS_B), addresses as CIDR.
veth_pair() {
	must ip link add k-va netns "$1" type veth peer name k-vb netns "$3"
	must nsx "$1" ip addr add "$2" dev k-va
	must nsx "$3" ip addr add "$4" dev k-vb
	must nsx "$1" ip link set k-va up
	must nsx "$3" ip link set k-vb up
}

# ----------------------------------------------------------- normalisers
# Configurations and dumps become sorted "facts" so that peer order and
# allowed-IP order (which the kernel does not define for a client to rely
# on) do not matter; everything else does.

# norm_conf < showconf output
norm_conf() {
	awk '
	function num(v,  i, x, h) {
		if (v !~ /^0[xX][0-9a-fA-F]+$/) return v
		x = 0; h = "0123456789abcdef"
		for (i = 3; i <= length(v); i++) x = x * 16 + index(h, tolower(substr(v, i, 1))) - 1
		return sprintf("%.0f", x)
	}
	function flush(  i, n, a) {
		if (sect != "p") return
		for (k in f) if (k != "AllowedIPs") print "P", pk, k, "=", f[k]
		n = split(f["AllowedIPs"], a, /, */)
		for (i = 1; i <= n; i++) if (a[i] != "") print "P", pk, "AllowedIP", a[i]
		print "P", pk
		for (k in f) delete f[k]
	}
	{ sub(/\r$/, ""); sub(/[ \t]*#.*$/, "") }
	/^[ \t]*$/ { next }
	/^\[Interface\]/ { flush(); sect = "i"; next }
	/^\[Peer\]/ { flush(); sect = "p"; pk = ""; next }
	{
		k = $0; sub(/[ \t]*=.*/, "", k)
		v = $0; sub(/^[^=]*=[ \t]*/, "", v); sub(/[ \t]*$/, "", v)
		# Values that mean "unset" are dropped (wg omits them, other
		# writers may print "FwMark = off" or "ListenPort = 0"); numbers
		# compare by value (FwMark 0x10 = 16).
		if (k == "FwMark" || k == "ListenPort" || k == "PersistentKeepalive") {
			if (v == "off" || v == "0" || v == "0x0") next
			v = num(v)
		}
		if (sect == "i") { print "I", k, "=", v; next }
		if (k == "PublicKey") pk = v; else f[k] = v
	}
	END { flush() }' | sort
}

# norm_dump < "wg show IF dump" output (one interface)
norm_dump() {
	awk -F'\t' '
	NR == 1 { print "D", $1, $2, $3, $4; next }
	NF >= 8 {
		print "P", $1, $2, $3, $5, $6, $7, $8
		n = split($4, a, ",")
		for (i = 1; i <= n; i++) if (a[i] != "(none)") print "A", $1, a[i]
	}' | sort
}

# json_flat < JSON: one "path<TAB>value" line per scalar, e.g.
#   .peers[0].allowed_ips[1]	10.0.0.0/24
# (strings unquoted, \" \\ \/ undone; null as null). sed puts every string on
# a line of its own (strings may hold [ ] : , as in "[fd00::1]:51820"), so
# awk only walks the short runs of punctuation and numbers between them a
# character at a time: busybox awk under TCG takes seconds over 1,000 peers.
json_flat() {
	sed -e 's/"\([^"\\]*\(\\.[^"\\]*\)*\)"/\
"\1"\
/g' | awk '
	function path(  j, p) {
		p = ""
		for (j = 1; j <= d; j++) p = p (t[j] == "o" ? "." k[j] : "[" k[j] "]")
		return p
	}
	function value(v) {
		if (d > 0 && t[d] == "o" && expect_key) { k[d] = v; return }
		printf "%s\t%s\n", path(), v
	}
	BEGIN { d = 0; expect_key = 0 }
	$0 == "" { next }
	/^"/ {
		v = substr($0, 2, length($0) - 2)
		if (v ~ /\\/) { gsub(/\\\//, "/", v); gsub(/\\"/, "\"", v); gsub(/\\\\/, "\\", v) }
		value(v)
		next
	}
	{
		n = length($0); tok = ""
		for (i = 1; i <= n; i++) {
			c = substr($0, i, 1)
			if (c ~ /[-+.0-9a-zA-Z]/) { tok = tok c; continue }
			if (tok != "") { value(tok); tok = "" }
			if (c == "{") { t[++d] = "o"; k[d] = ""; expect_key = 1 }
			else if (c == "[") { t[++d] = "a"; k[d] = 0; expect_key = 0 }
			else if (c == "}" || c == "]") { d--; expect_key = 0 }
			else if (c == ":") expect_key = 0
			else if (c == ",") { if (t[d] == "a") k[d]++; else expect_key = 1 }
		}
		if (tok != "") value(tok)
	}'
}

# json_to_dump < "wgctl show IF --json --show-keys": the same text as
# "wg show IF dump" (tab separated) so both can be normalised and compared.
json_to_dump() {
	json_flat | awk -F'\t' '
	$1 == ".private_key" { priv = $2 }
	$1 == ".public_key" { pub = $2 }
	$1 == ".listen_port" { port = $2 }
	$1 == ".fwmark" { fw = ($2 == "0" ? "off" : sprintf("0x%x", $2)) }
	$1 ~ /^\.peers\[[0-9]+\]\./ {
		p = $1; sub(/^\.peers\[/, "", p); i = p; sub(/\].*/, "", i)
		f = p; sub(/^[0-9]+\]\./, "", f)
		if (i + 1 > np) np = i + 1
		if (f ~ /^allowed_ips\[/) { ips[i] = (ips[i] == "" ? $2 : ips[i] "," $2); next }
		v[i, f] = $2
	}
	END {
		printf "%s\t%s\t%s\t%s\n", priv, pub, port, fw
		for (i = 0; i < np; i++) {
			ep = v[i, "endpoint"]; if (ep == "" || ep == "null") ep = "(none)"
			ka = v[i, "persistent_keepalive"]; if (ka == "0" || ka == "") ka = "off"
			printf "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", v[i, "public_key"], v[i, "preshared_key"], ep,
				(ips[i] == "" ? "(none)" : ips[i]), v[i, "latest_handshake"], v[i, "rx_bytes"],
				v[i, "tx_bytes"], ka
		}
	}'
}

# ------------------------------------------------------------ wgctl checks

# run_cap OUT ERR CMD...: run CMD with stdout in OUT and stderr in ERR;
# prints nothing, returns CMD's exit status.
run_cap() {
	local o=$1 e=$2 rc=0
	shift 2
	"$@" >"$o" 2>"$e" || rc=$?
	return $rc
}

# expect_error "RCS" MENTION CMD...: CMD must exit with one of the exit
# codes in RCS (space separated; "any" = any non-zero), print nothing on
# stdout and exactly one line on stderr that starts with "wgctl:" and
# contains MENTION (a fixed string, may be empty).
expect_error() {
	local rcs=$1 mention=$2 rc=0 lines
	shift 2
	run_cap /tmp/ktest.out /tmp/ktest.err "$@" || rc=$?
	echo "'$*' -> exit $rc, stderr: $(cat /tmp/ktest.err)"
	[ $rc != 0 ] || die "'$*' exited 0 but should have failed"
	case " $rcs " in
	*" any "* | *" $rc "*) ;;
	*) die "'$*' exited $rc, want one of: $rcs (stderr: $(head -n 2 /tmp/ktest.err))" ;;
	esac
	lines=$(wc -l </tmp/ktest.err)
	[ "$lines" = 1 ] || die "'$*' printed $lines lines on stderr, want one: $(head -n 3 /tmp/ktest.err)"
	grep -q '^wgctl: ' /tmp/ktest.err || die "'$*': error line does not start with 'wgctl: ': $(cat /tmp/ktest.err)"
	[ -z "$mention" ] || grep -qF -- "$mention" /tmp/ktest.err ||
		die "'$*': error line does not mention '$mention': $(cat /tmp/ktest.err)"
	[ ! -s /tmp/ktest.out ] || die "'$*' printed on stdout while failing: $(head -n 2 /tmp/ktest.out)"
}
