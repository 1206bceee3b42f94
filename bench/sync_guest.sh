# The guest side of bench/sync.sh (run by tests/kernel/vm.sh as
# /ktest/main.sh, busybox sh, real in-kernel WireGuard). Measures wgkit
# against the reference `wg` on the same configs, side by side, alternating
# ours and theirs in every round. Parameters come in /ktest/filter as
# NAME=VALUE words (vm.sh's KTEST_FILTER): ROUNDS N BIG BIG_REF DOWN_SMALL DOWN.
# Prints "BENCHRES case=NAME ours=S ref=S ours_msgs=SENT/SET ref_msgs=..."
# (medians in seconds; "-" where not measured) and KTEST lines for vm.sh.
. /ktest/lib.sh

ROUNDS=3 N=10000 BIG=100000 BIG_REF=1 DOWN_SMALL=1000 DOWN=1
for kv in $(cat /ktest/filter 2>/dev/null); do
	case $kv in
	ROUNDS=* | N=* | BIG=* | BIG_REF=* | DOWN_SMALL=* | DOWN=*) eval "$kv" ;;
	esac
done
B=/tmp/bench
mkdir -p $B
PRE=/ktest/bin/nlcount.so
echo "KTEST info bench: kernel $(uname -r), ROUNDS=$ROUNDS N=$N BIG=$BIG BIG_REF=$BIG_REF"
fails=0
bfail() { echo "KTEST fail bench/$1 $2"; fails=$((fails + 1)); }

median() {
	sort -n | awk '{ a[NR] = $1 } END {
		if (NR == 0) { print "-"; exit }
		if (NR % 2) print a[(NR + 1) / 2]; else printf "%.4f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

# tm FILE CMD...: run CMD once, timed, with netlink messages counted;
# appends the seconds to FILE and leaves "sent=N set=M" in FILE.msgs.
tm() {
	local f=$1 t rc=0
	shift
	rm -f $B/nl
	t=$(sync_bench time env LD_PRELOAD=$PRE NLCOUNT_OUT=$B/nl "$@") || rc=$?
	[ $rc = 0 ] || { echo "bench: '$*' exited $rc" >&2; return 1; }
	echo "$t" >>"$f"
	tail -n 1 $B/nl 2>/dev/null | tr ' ' '\n' | awk -F= '{ v[$1] = $2 } END { printf "%s/%s\n", v["sent"], v["set"] }' >"$f.msgs"
}

# report NAME: medians of $B/NAME.ours and $B/NAME.ref
report() {
	local o r om rm
	o=$(median <$B/$1.ours 2>/dev/null) r=$(median <$B/$1.ref 2>/dev/null)
	om=$(cat $B/$1.ours.msgs 2>/dev/null) rm=$(cat $B/$1.ref.msgs 2>/dev/null)
	echo "BENCHRES case=$1 ours=${o:--} ref=${r:--} ours_msgs=${om:--} ref_msgs=${rm:--} runs_ours=$(tr '\n' ',' <$B/$1.ours 2>/dev/null) runs_ref=$(tr '\n' ',' <$B/$1.ref 2>/dev/null)"
	: >$B/$1.ours; : >$B/$1.ref
}

peers_of() { wg show "$1" peers | wc -l; }

# bench_size TAG SIZE ROUNDS REF(1/0): load, no-op, churn, dump on interface bk.
bench_size() {
	local tag=$1 n=$2 rounds=$3 ref=$4 r
	sync_bench gen $n 0 0 >$B/base.conf
	sync_bench gen $n 10 1 >$B/c1.conf
	sync_bench gen $n 100 2 >$B/c10.conf
	head -n 3 $B/base.conf >$B/empty.conf
	ip link add bk type wireguard || { bfail $tag "ip link add bk"; return; }
	S=$B/state
	ours() { wgctl sync --state-dir $S bk "$1"; }

	r=0
	while [ $r -lt "$rounds" ]; do
		wg setconf bk $B/empty.conf; rm -rf $S
		tm $B/load_$tag.ours wgctl sync --state-dir $S bk $B/base.conf || bfail $tag "wgctl sync (load)"
		[ "$(peers_of bk)" = "$n" ] || bfail $tag "after our load: $(peers_of bk) peers, not $n"
		if [ "$ref" = 1 ]; then
			wg setconf bk $B/empty.conf
			tm $B/load_$tag.ref wg setconf bk $B/base.conf || bfail $tag "wg setconf"
		fi
		r=$((r + 1))
	done
	report load_$tag
	# The device holds base.conf; our record says base.conf.
	[ "$ref" = 1 ] || ours $B/base.conf >/dev/null
	r=0
	while [ $r -lt "$rounds" ]; do
		tm $B/noop_$tag.ours wgctl sync --state-dir $S bk $B/base.conf || bfail $tag "wgctl sync (no-op)"
		[ "$ref" = 1 ] && { tm $B/noop_$tag.ref wg syncconf bk $B/base.conf || bfail $tag "wg syncconf"; }
		r=$((r + 1))
	done
	report noop_$tag
	# Where a no-op sync spends its time (for people; see bench/README.md).
	WGCTL_SYNC_TIMING=1 wgctl sync --state-dir $S bk $B/base.conf 2>&1 | sed "s/^/KTEST info $tag no-op /"
	for c in c1 c10; do
		# 10% churn at the main size only.
		[ "$n" != "$N" ] && [ $c = c10 ] && continue
		r=0
		while [ $r -lt "$rounds" ]; do
			ours $B/base.conf >/dev/null
			tm $B/churn_${c}_$tag.ours wgctl sync --state-dir $S bk $B/$c.conf || bfail $tag "wgctl sync ($c)"
			wg showconf bk | grep -c '^\[Peer\]' >$B/cnt
			[ "$(cat $B/cnt)" = "$(grep -c '^\[Peer\]' $B/$c.conf)" ] || bfail $tag "after our $c sync: $(cat $B/cnt) peers"
			if [ "$ref" = 1 ]; then
				ours $B/base.conf >/dev/null
				tm $B/churn_${c}_$tag.ref wg syncconf bk $B/$c.conf || bfail $tag "wg syncconf ($c)"
			fi
			r=$((r + 1))
		done
		report churn_${c}_$tag
		ours $B/base.conf >/dev/null
		WGCTL_SYNC_TIMING=1 wgctl sync --state-dir $S bk $B/$c.conf 2>&1 | sed "s/^/KTEST info $tag $c /"
	done
	# The end state of our churn sync equals the file (checked once, by wg).
	ours $B/c1.conf >/dev/null
	wg showconf bk | norm_conf >$B/got
	norm_conf <$B/c1.conf | grep -v '^I PrivateKey' >$B/want
	grep -v '^I PrivateKey' $B/got | cmp -s - $B/want || bfail $tag "after our 1% churn sync the device differs from the file"
	r=0
	while [ $r -lt "$rounds" ]; do
		tm $B/dump_$tag.ours wgctl show bk dump || bfail $tag "wgctl show dump"
		[ "$ref" = 1 ] && { tm $B/dump_$tag.ref wg show bk dump || bfail $tag "wg show dump"; }
		# Timed from outside like the others: process start-up included.
		tm $B/bare_$tag.ours sync_bench dump bk || bfail $tag "sync_bench dump"
		r=$((r + 1))
	done
	report dump_$tag
	report bare_$tag
	wg setconf bk $B/empty.conf
	ip link del bk
}

# bench_down TAG SIZE ROUNDS REF: `wgctl down` (peers emptied in one set,
# then the link) against `ip link del` (what wg-quick down does).
bench_down() {
	local tag=$1 n=$2 rounds=$3 ref=$4 r=0
	sync_bench gen $n 0 0 >$B/down.conf
	printf '[Interface]\nTable = off\n' >$B/bd.conf
	while [ $r -lt "$rounds" ]; do
		ip link add bd type wireguard && wg setconf bd $B/down.conf || bfail down_$tag "set-up"
		tm $B/down_$tag.ours wgctl down $B/bd.conf || bfail down_$tag "wgctl down"
		ip link show bd >/dev/null 2>&1 && { bfail down_$tag "bd still exists"; ip link del bd; }
		if [ "$ref" = 1 ]; then
			ip link add bd type wireguard && wg setconf bd $B/down.conf || bfail down_$tag "set-up"
			tm $B/down_$tag.ref ip link del bd || bfail down_$tag "ip link del"
		fi
		r=$((r + 1))
	done
	report down_$tag
}

t0=$(cut -d' ' -f1 /proc/uptime)
k() { echo "$(($1 / 1000))k"; }
bench_size "$(k $N)" $N $ROUNDS 1
if [ "$DOWN" = 1 ]; then
	bench_down "$(k $DOWN_SMALL)" $DOWN_SMALL $ROUNDS 1
	bench_down "$(k $N)" $N 1 1
fi
if [ "$BIG" -gt 0 ]; then
	bench_size "$(k $BIG)" $BIG 1 $BIG_REF
	[ "$DOWN" = 1 ] && bench_down "$(k $BIG)" $BIG 1 0
fi
echo "KTEST info bench: guest time $(awk -v t0="$t0" '{ printf "%.0f", $1 - t0 }' /proc/uptime) s"
[ $fails = 0 ] && echo "KTEST ok bench/sync"
