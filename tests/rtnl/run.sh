#!/bin/sh
# rtnetlink against the host kernel: links, addresses, routes and the two
# wg-quick rules, made through the library (tests/tools/rtnl_drive) inside a
# network namespace of our own, and checked after every step against what
# iproute2 (`ip -j`, the reference) reports. Error paths too: unknown link,
# a link kind this kernel lacks, no CAP_NET_ADMIN.
#   sh tests/rtnl/run.sh [BUILD]
# Closes with "rtnl: N passed, N failed, N skipped"; exits non-zero on failure.
BUILD=${1:-build}
cd "$(dirname "$0")/../.." || exit 1
DRV=$PWD/$BUILD/tests/tools/rtnl_drive
NS=rt-$$
. tests/lib.sh
suite_init rtnl
# The old names of the helpers.
bad() { fail "$@"; }
skipped() { skip "$@"; }

[ "$(id -u)" = 0 ] || cannot "needs root (network namespaces)"
[ -x "$DRV" ] || cannot "$DRV missing (run: make tests)"
command -v jq >/dev/null || cannot "jq missing"
ip -j link show lo >/dev/null 2>&1 || cannot "iproute2 without JSON output"

TMP=$SUITE_TMP
ns_add "$NS" || cannot "cannot create network namespace $NS"

X() { ip netns exec "$NS" "$@"; }
IPJ() { ip -n "$NS" -j "$@"; }
# Run the driver; its data lands in $TMP/out, its outcome line in $TMP/err.
drive() { X "$DRV" "$@" >"$TMP/out" 2>"$TMP/err"; }
outcome() { sed -n 's/^rc=-\{0,1\}[0-9]* err=\([A-Z0-9]*\) .*/\1/p' "$TMP/err"; }
rcval() { sed -n 's/^rc=\(-\{0,1\}[0-9]*\) .*/\1/p' "$TMP/err"; }
msgs() { sed -n 's/.* rtnl_msgs=\([0-9]*\) .*/\1/p' "$TMP/err"; }
# expect NAME ERR args...: the call ends with ERR (OK or an errno name).
expect() {
	name=$1 want=$2
	shift 2
	drive "$@"
	got=$(outcome)
	if [ "$got" = "$want" ]; then ok "$name"; else bad "$name" "want $want, got: $(cat "$TMP/err")"; fi
}
# check NAME command...: the command (a comparison with ip) succeeds; the
# difference it left in $TMP/cmp is shown when it does not.
check_detail() { cat "$TMP/cmp" 2>/dev/null; }
# same A B: two sorted lists, differences into $TMP/cmp.
same() { sort "$1" >"$1.s"; sort "$2" >"$2.s"; diff "$1.s" "$2.s" >"$TMP/cmp"; }
jcount() { jq "[.[] | $1] | length"; }

# ---------------------------------------------------------------- links
# "dummy" is the natural kind; this host's kernel may lack it (it then must
# say EOPNOTSUPP), so fall back to other single-device kinds.
KIND=
for k in dummy ifb bridge; do
	drive link-add rt0 "$k"
	case $(outcome) in
	OK) KIND=$k; break ;;
	EOPNOTSUPP) echo "note: link kind '$k' unknown to this kernel ($(sed 's/.*msg=//' "$TMP/err"))" ;;
	*) break ;;
	esac
done
if [ -z "$KIND" ]; then
	bad "link-add: no usable kind" "$(cat "$TMP/err")"
	finish
fi
[ "$KIND" = dummy ] || echo "note: using link kind '$KIND' instead of dummy"
ok "link-add rt0 $KIND"
check "link-add: ip sees kind $KIND" sh -c "ip -n $NS -j -d link show rt0 | jq -e '.[0].linkinfo.info_kind == \"$KIND\"' >/dev/null"
expect "link-add existing: EEXIST" EEXIST link-add rt0 "$KIND"

# link-get against ip: ifindex, mtu, IFF_UP, kind.
link_matches() {
	drive link-get rt0 || return 1
	IPJ -d link show rt0 | jq -r '.[0] | "name=\(.ifname) ifindex=\(.ifindex) mtu=\(.mtu) up=\(if (.flags | index(["UP"])) then 1 else 0 end) kind=\(.linkinfo.info_kind // "")"' >"$TMP/ref"
	diff "$TMP/ref" "$TMP/out" >"$TMP/cmp"
}
check "link-get: equals ip (down)" link_matches
drive link-get rt0
check "link-get: one rtnl request" test "$(msgs)" = 1
expect "link-mtu 1420" OK link-mtu rt0 1420
check "link-mtu: ip reports 1420" sh -c "ip -n $NS -j link show rt0 | jq -e '.[0].mtu == 1420' >/dev/null"
expect "link-up 1" OK link-up rt0 1
check "link-up: ip reports UP" sh -c "ip -n $NS -j link show rt0 | jq -e '.[0].flags | index([\"UP\"])' >/dev/null"
check "link-get: equals ip (up, mtu 1420)" link_matches
expect "link-up 0" OK link-up rt0 0
check "link-up 0: ip reports no UP" sh -c "ip -n $NS -j link show rt0 | jq -e '(.[0].flags | index([\"UP\"])) == null' >/dev/null"
expect "link-up 1 again" OK link-up rt0 1
drive list-kind "$KIND"
cp "$TMP/out" "$TMP/kind.lib"
IPJ -d link show type "$KIND" | jq -r '.[].ifname' >"$TMP/kind.ref"
check "list-kind $KIND: equals ip link show type $KIND" same "$TMP/kind.lib" "$TMP/kind.ref"
check "list-kind: rt0 listed" grep -qx rt0 "$TMP/kind.lib"
drive list-kind wireguard
check "list-kind wireguard: none here" test ! -s "$TMP/out"

# ------------------------------------------------------------ addresses
for a in 10.77.0.1/24 fd77::1/64; do
	expect "addr-add $a" OK addr-add rt0 "$a"
	expect "addr-add $a again: idempotent" OK addr-add rt0 "$a"
	l=${a%/*} p=${a#*/}
	check "addr-add $a: ip shows it once" sh -c "ip -n $NS -j addr show dev rt0 | jq -e '[.[0].addr_info[] | select(.local == \"$l\" and .prefixlen == $p)] | length == 1' >/dev/null"
done
addr_matches() {
	drive addr-list rt0 || return 1
	IPJ addr show dev rt0 | jq -r '.[0].addr_info[] | "\(.local)/\(.prefixlen)"' >"$TMP/ref"
	same "$TMP/out" "$TMP/ref"
}
check "addr-list: equals ip addr show" addr_matches
ip -n "$NS" addr add 10.91.0.1/32 dev rt0
check "addr-list: sees an address ip added" addr_matches
expect "addr-del of ip's address" OK addr-del rt0 10.91.0.1/32
check "addr-del: ip no longer shows it" sh -c "! ip -n $NS -j addr show dev rt0 | grep -q 10.91.0.1"
expect "addr-del absent v4: EADDRNOTAVAIL" EADDRNOTAVAIL addr-del rt0 10.77.9.9/24
expect "addr-del absent v6: EADDRNOTAVAIL" EADDRNOTAVAIL addr-del rt0 fd77::99/64

# --------------------------------------------------------------- routes
# Routes through rt0 in a table, as ip sees them (unicast only), normalised
# to prefixes: "default" -> 0.0.0.0/0 or ::/0, a bare address -> /32 or /128.
ip_routes() { # table
	for f in 4 6; do
		# A table that has no route of this family "does not exist" for ip.
		j=$(IPJ -$f route show table "$1" dev rt0 2>/dev/null) || j='[]'
		echo "$j" | jq -r --arg f "$f" '.[] | select((.type // "unicast") == "unicast") | .dst |
			if . == "default" then (if $f == "4" then "0.0.0.0/0" else "::/0" end)
			elif test("/") then . else . + (if $f == "4" then "/32" else "/128" end) end'
	done
}
route_matches() { # table
	drive route-list rt0 "$1" || return 1
	ip_routes "$([ "$1" = 0 ] && echo main || echo "$1")" >"$TMP/ref"
	same "$TMP/out" "$TMP/ref"
}
# dst as given (host bits set on purpose), as ip must show it, table, ip's table name.
while read -r dst shown table tname; do
	f=4
	case $dst in *:*) f=6 ;; esac
	expect "route-add $dst table $table" OK route-add rt0 "$dst" "$table"
	check "route-add $dst table $table: 1 (created)" test "$(rcval)" = 1
	expect "route-add $dst table $table again: idempotent" OK route-add rt0 "$dst" "$table"
	check "route-add $dst table $table again: 0 (present, not created)" test "$(rcval)" = 0
	check "route-add $dst: ip -$f shows $shown once in table $tname" sh -c \
		"ip -n $NS -$f -j route show table $tname dev rt0 | jq -e '[.[] | select(.dst == \"$shown\")] | length == 1' >/dev/null"
done <<EOF
10.78.1.2/16 10.78.0.0/16 0 main
fd78:0:0:1::1/48 fd78::/48 0 main
10.79.0.0/24 10.79.0.0/24 200 200
0.0.0.0/0 default 51820 51820
::/0 default 51820 51820
EOF
check "route-add: proto boot, scope link (v4, main)" sh -c \
	"ip -n $NS -j route show table main dev rt0 | jq -e '.[] | select(.dst == \"10.78.0.0/16\") | ((.protocol // \"boot\") == \"boot\" and .scope == \"link\")' >/dev/null"
check "route-list main: equals ip" route_matches 0
check "route-list 51820: equals ip" route_matches 51820
check "route-list 200: equals ip" route_matches 200
# Never NLM_F_REPLACE: the kernel's subnet route of 10.77.0.1/24 is present
# (0), left as the kernel made it; a route through another link is a
# conflict (EEXIST) and stays.
expect "route-add of the kernel's subnet route" OK route-add rt0 10.77.0.0/24 0
check "route-add of the kernel's subnet route: 0 (present, not created)" test "$(rcval)" = 0
check "route-add: the kernel's subnet route keeps proto kernel and src" sh -c \
	"ip -n $NS -j route show table main dev rt0 | jq -e '[.[] | select(.dst == \"10.77.0.0/24\" and .protocol == \"kernel\" and .prefsrc == \"10.77.0.1\")] | length == 1' >/dev/null"
ip -n "$NS" route add 10.92.0.0/24 dev lo table 300
ip -n "$NS" -6 route add fd92::/64 dev lo table 300
expect "route-add over another link's v4 route: EEXIST" EEXIST route-add rt0 10.92.0.0/24 300
check "route-add conflict: the error says why" grep -q "already exists in table 300 through another interface" "$TMP/err"
expect "route-add over another link's v6 route: EEXIST" EEXIST route-add rt0 fd92::/64 300
check "route-add conflict: the other link's routes stay, none via rt0" sh -c \
	"ip -n $NS -j route show table 300 | jq -e '[.[] | select(.dst == \"10.92.0.0/24\" and .dev == \"lo\")] | length == 1' >/dev/null && ip -n $NS -6 -j route show table 300 | jq -e '[.[] | select(.dst == \"fd92::/64\" and .dev == \"lo\")] | length == 1' >/dev/null && [ -z \"\$(ip -n $NS route show table 300 dev rt0)\" ]"
ip -n "$NS" route del 10.92.0.0/24 dev lo table 300
ip -n "$NS" -6 route del fd92::/64 dev lo table 300
ip -n "$NS" route add 10.90.0.0/24 dev rt0 table 300
check "route-list 300: sees a route ip added" route_matches 300
expect "route-del of ip's route" OK route-del rt0 10.90.0.0/24 300
check "route-del: ip no longer shows it" sh -c "ip -n $NS -j route show table 300 | jq -e 'length == 0' >/dev/null"
expect "route-del absent v4: ESRCH" ESRCH route-del rt0 10.55.0.0/16 0
expect "route-del absent v6: ESRCH" ESRCH route-del rt0 fd55::/48 51820

# ---------------------------------------------------------------- rules
# wg-quick: ip rule add not fwmark 51820 table 51820;
#           ip rule add table main suppress_prefixlength 0
for f in 4 6; do
	expect "rule-add -$f not fwmark table" OK rule-add $f not fwmark 51820 table 51820
	check "rule-add -$f not fwmark table: 1 (created)" test "$(rcval)" = 1
	expect "rule-add -$f not fwmark table again: idempotent" OK rule-add $f not fwmark 51820 table 51820
	check "rule-add -$f not fwmark table again: 0 (present, not created)" test "$(rcval)" = 0
	check "rule-add -$f: ip shows 'not fwmark 0xca6c lookup 51820' once" sh -c \
		"ip -n $NS -$f -j rule show | jq -e '[.[] | select(has(\"not\") and .fwmark == \"0xca6c\" and .table == \"51820\")] | length == 1' >/dev/null"
	expect "rule-add -$f suppress_prefixlength 0" OK rule-add $f suppress 0
	expect "rule-add -$f suppress again: idempotent" OK rule-add $f suppress 0
	drive rule-add $f suppress 0
	check "rule-add -$f existing: only the look-up request" test "$(msgs)" = 1
	check "rule-add -$f: ip shows 'lookup main suppress_prefixlength 0' once" sh -c \
		"ip -n $NS -$f -j rule show | jq -e '[.[] | select(.table == \"main\" and .suppress_prefixlen == 0)] | length == 1' >/dev/null"
done
expect "rule-add with priority" OK rule-add 4 priority 1000 fwmark 7 table 100
expect "rule-add with priority again: idempotent (EXCL)" OK rule-add 4 priority 1000 fwmark 7 table 100
check "rule-add priority: ip shows it once at 1000" sh -c \
	"ip -n $NS -4 -j rule show | jq -e '[.[] | select(.priority == 1000 and .fwmark == \"0x7\" and .table == \"100\" and (has(\"not\") | not))] | length == 1' >/dev/null"
ip -n "$NS" -4 rule add fwmark 9 table 99
expect "rule-del 'not fwmark 9' vs ip's 'fwmark 9': ENOENT" ENOENT rule-del 4 not fwmark 9 table 99
check "rule-del: ip's rule untouched" sh -c "ip -n $NS -4 -j rule show | jq -e '[.[] | select(.fwmark == \"0x9\")] | length == 1' >/dev/null"
expect "rule-del of ip's rule" OK rule-del 4 fwmark 9 table 99
check "rule-del: ip's rule gone" sh -c "ip -n $NS -4 -j rule show | jq -e '[.[] | select(.fwmark == \"0x9\")] | length == 0' >/dev/null"

# ---------------------------------------------------- address lifetimes
# wgnl_addr_add_lifetime: an anycast /32 and /128 on lo that the kernel
# removes by itself unless refreshed (the gateway's dead-man switch).
LV4=192.0.2.53/32 LV6=2001:db8:77::53/128
on_lo() { ip -n "$NS" -j addr show dev lo | jq -e "[.[0].addr_info[] | select(.local == \"${1%/*}\")] | length == 1" >/dev/null; }
life_of() { ip -n "$NS" -j addr show dev lo | jq -r ".[0].addr_info[] | select(.local == \"${1%/*}\") | \"\(.valid_life_time) \(.preferred_life_time)\""; }
# gone_within A TENTHS: poll until A is no longer on lo.
gone_within() {
	i=0
	while on_lo "$1"; do
		i=$((i + 1))
		[ "$i" -gt "$2" ] && return 1
		sleep 0.1
	done
	echo "note: $1 gone ${i}00 ms after the check started"
}
expect "addr-life: valid 0 is EINVAL" EINVAL addr-life lo "$LV4" 0 0
expect "addr-life: preferred > valid is EINVAL" EINVAL addr-life lo "$LV4" 2 3
expect "addr-life: unknown link is ENODEV" ENODEV addr-life rt-nosuch "$LV4" 2 2
for a in "$LV4" "$LV6"; do
	expect "addr-life $a on lo, lifetime 2" OK addr-life lo "$a" 2 2
	check "addr-life $a: ip shows valid/preferred <= 2 s" sh -c \
		"ip -n $NS -j addr show dev lo | jq -e '[.[0].addr_info[] | select(.local == \"${a%/*}\" and .valid_life_time <= 2 and .preferred_life_time <= 2)] | length == 1' >/dev/null"
done
check "addr-life v6: no DAD (not tentative)" sh -c \
	"ip -n $NS -j addr show dev lo | jq -e '[.[0].addr_info[] | select(.local == \"${LV6%/*}\" and (.tentative // false) == false)] | length == 1' >/dev/null"
sleep 1.5
check "addr-life: both still there after 1.5 s" sh -c "ip -n $NS addr show dev lo | grep -q ${LV4%/*} && ip -n $NS addr show dev lo | grep -q ${LV6%/*}"
check "addr-life $LV4: gone by itself (within 2.5 s more)" gone_within "$LV4" 25
check "addr-life $LV6: gone by itself (within 2.5 s more)" gone_within "$LV6" 25
# Refreshed every 0.5 s for 4.5 s: stays, and `ip monitor address` sees no
# deletion while the refreshes run (an in-place update, not delete + add).
ip -n "$NS" monitor address >"$TMP/mon" 2>&1 &
MON=$!
at_exit stop_pid "$MON"
sleep 0.3
X "$DRV" addr-life lo "$LV4" 2 2 500 9 >/dev/null 2>"$TMP/r4" &
R4=$!
X "$DRV" addr-life lo "$LV6" 2 2 500 9 >/dev/null 2>"$TMP/r6" &
R6=$!
stays=0
for t in 1 2 3 4; do
	sleep 1
	on_lo "$LV4" && on_lo "$LV6" && stays=$((stays + 1))
done
wait "$R4"
r4=$?
wait "$R6"
r6=$?
kill "$MON" 2>/dev/null
wait "$MON" 2>/dev/null
check "addr-life refreshed every 0.5 s: both present at 1, 2, 3 and 4 s" test "$stays" = 4
check "addr-life refresh loops: every call OK" sh -c "[ $r4 = 0 ] && [ $r6 = 0 ] && grep -q err=OK $TMP/r4 && grep -q err=OK $TMP/r6"
check "addr-life refresh: ip monitor saw the addresses" grep -q "${LV4%/*}" "$TMP/mon"
check "addr-life refresh: ip monitor saw no deletion" sh -c "! grep -q '^Deleted' $TMP/mon"
check "addr-life: still 1 copy each, lifetime <= 2 s" sh -c \
	"ip -n $NS -j addr show dev lo | jq -e '[.[0].addr_info[] | select((.local == \"${LV4%/*}\" or .local == \"${LV6%/*}\") and .valid_life_time <= 2)] | length == 2' >/dev/null"
check "addr-life after the last refresh: $LV4 gone within 3 s" gone_within "$LV4" 30
check "addr-life after the last refresh: $LV6 gone" gone_within "$LV6" 10
expect "addr-life then addr-del: permanent add over it" OK addr-life lo "$LV4" 5 5
expect "addr-add over a lifetime address: OK" OK addr-add lo "$LV4"
check "addr-add made it permanent again (forever)" sh -c "[ \"\$(ip -n $NS -j addr show dev lo | jq -r '.[0].addr_info[] | select(.local == \"${LV4%/*}\") | .valid_life_time')\" = 4294967295 ]"
expect "addr-del of the lifetime address" OK addr-del lo "$LV4"

# ------------------------------------------------------- no CAP_NET_ADMIN
if command -v setpriv >/dev/null; then
	# A copy nobody can execute wherever the build tree lives.
	chmod 755 "$TMP"
	cp "$DRV" "$TMP/drv" && chmod 755 "$TMP/drv"
	unpriv() { # name want args...
		name=$1 want=$2
		shift 2
		X setpriv --reuid=65534 --regid=65534 --clear-groups "$TMP/drv" "$@" >"$TMP/out" 2>"$TMP/err"
		got=$(outcome)
		if [ "$got" = "$want" ]; then ok "$name"; else bad "$name" "want $want, got: $(cat "$TMP/err")"; fi
	}
	unpriv "unprivileged link-add: EPERM" EPERM link-add rtu0 "$KIND"
	unpriv "unprivileged link-mtu: EPERM" EPERM link-mtu rt0 1300
	unpriv "unprivileged addr-add: EPERM" EPERM addr-add rt0 10.66.0.1/24
	unpriv "unprivileged route-add: EPERM" EPERM route-add rt0 10.66.0.0/24 0
	unpriv "unprivileged rule-add: EPERM" EPERM rule-add 4 fwmark 5 table 5
	unpriv "unprivileged link-del: EPERM" EPERM link-del rt0
	check "unprivileged EPERM explains itself" grep -q CAP_NET_ADMIN "$TMP/err"
	unpriv "unprivileged link-get still works" OK link-get rt0
	unpriv "unprivileged addr-list still works" OK addr-list rt0
	check "unprivileged: nothing changed (mtu 1420, no rtu0)" sh -c \
		"ip -n $NS -j link show rt0 | jq -e '.[0].mtu == 1420' >/dev/null && ! ip -n $NS link show rtu0 >/dev/null 2>&1"
else
	skipped "unprivileged EPERM" "setpriv not installed"
fi

# ------------------------------------------------------------- teardown
for f in 4 6; do
	expect "rule-del -$f not fwmark table" OK rule-del $f not fwmark 51820 table 51820
	expect "rule-del -$f again: ENOENT" ENOENT rule-del $f not fwmark 51820 table 51820
	expect "rule-del -$f suppress" OK rule-del $f suppress 0
	expect "rule-del -$f suppress again: ENOENT" ENOENT rule-del $f suppress 0
done
expect "rule-del priority 1000" OK rule-del 4 priority 1000 fwmark 7 table 100
check "rules: only the kernel's defaults remain" sh -c \
	"ip -n $NS -4 -j rule show | jq -e 'map(.priority) == [0, 32766, 32767]' >/dev/null && ip -n $NS -6 -j rule show | jq -e 'map(.priority) == [0, 32766]' >/dev/null"
while read -r dst table; do
	expect "route-del $dst table $table" OK route-del rt0 "$dst" "$table"
	expect "route-del $dst table $table again: ESRCH" ESRCH route-del rt0 "$dst" "$table"
done <<EOF
10.78.1.2/16 0
fd78::/48 0
10.79.0.0/24 200
0.0.0.0/0 51820
::/0 51820
EOF
check "routes: tables 51820 and 200 empty" sh -c \
	"ip -n $NS -j route show table 51820 | jq -e 'length == 0' >/dev/null && ip -n $NS -6 -j route show table 51820 | jq -e 'length == 0' >/dev/null && ip -n $NS -j route show table 200 | jq -e 'length == 0' >/dev/null"
check "route-list main after deletes: equals ip" route_matches 0
for a in 10.77.0.1/24 fd77::1/64; do
	expect "addr-del $a" OK addr-del rt0 "$a"
	expect "addr-del $a again: EADDRNOTAVAIL" EADDRNOTAVAIL addr-del rt0 "$a"
done
check "addr-list after deletes: equals ip" addr_matches
check "addresses: no 10.77.0.1 nor fd77::1 left" sh -c "! ip -n $NS addr show dev rt0 | grep -Eq '10\\.77\\.0\\.1|fd77::1'"
expect "link-del rt0" OK link-del rt0
check "link-del: ip no longer has rt0" sh -c "! ip -n $NS link show rt0 >/dev/null 2>&1"

# ---------------------------------------------------------- error paths
expect "link-del unknown: ENODEV" ENODEV link-del rt0
expect "link-get unknown: ENODEV" ENODEV link-get rt-nosuch
expect "link-up unknown: ENODEV" ENODEV link-up rt-nosuch 1
expect "link-mtu unknown: ENODEV" ENODEV link-mtu rt-nosuch 1400
expect "addr-add on unknown link: ENODEV" ENODEV addr-add rt-nosuch 10.1.1.1/24
expect "route-add on unknown link: ENODEV" ENODEV route-add rt-nosuch 10.1.1.0/24 0
expect "addr-list on unknown link: ENODEV" ENODEV addr-list rt-nosuch
expect "link-add bad name: EINVAL" EINVAL link-add "rt/bad" "$KIND"
if ip -n "$NS" link add rt-wgprobe type wireguard 2>/dev/null; then
	ip -n "$NS" link del rt-wgprobe
	skipped "link-add wireguard: EOPNOTSUPP" "this kernel has WireGuard (the path is tested in the qemu guest)"
else
	expect "link-add wireguard on this kernel: EOPNOTSUPP" EOPNOTSUPP link-add rtwg0 wireguard
	check "EOPNOTSUPP names the kind" grep -q "kind 'wireguard'" "$TMP/err"
	check "link-add wireguard: nothing created" sh -c "! ip -n $NS link show rtwg0 >/dev/null 2>&1"
fi
check "namespace back to lo only" sh -c "ip -n $NS -j link show | jq -e 'map(.ifname) == [\"lo\"]' >/dev/null"

finish
