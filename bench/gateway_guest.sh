# The guest side of bench/gateway.sh (run by tests/kernel/vm.sh as
# /ktest/main.sh, busybox sh, real in-kernel WireGuard): wg-gatewayd's
# directory source against what an operator otherwise runs (`wg syncconf`
# of the regenerated file), on the same N-peer configs, alternating ours and
# theirs. Parameters in /ktest/filter: ROUNDS CHURN N SINGLE BIG.
# Prints "BENCHRES case=NAME ours=S ref=S ..." lines and KTEST lines.
. /ktest/lib.sh

ROUNDS=5 CHURN=10 N=10000 SINGLE=100 BIG=100000
for kv in $(cat /ktest/filter 2>/dev/null); do
	case $kv in
	ROUNDS=* | CHURN=* | N=* | SINGLE=* | BIG=*) eval "$kv" ;;
	esac
done
B=/tmp/gwb
mkdir -p $B
PRE=/ktest/bin/nlcount.so
echo "KTEST info bench-gateway: kernel $(uname -r), ROUNDS=$ROUNDS CHURN=$CHURN N=$N SINGLE=$SINGLE BIG=$BIG"
# The guest's wake-up latency, which every timed path pays (see bench/README.md, idle=poll).
echo "KTEST info bench-gateway: kernel arguments: $(cat /proc/cmdline); a process woken through a pipe: $(gw_bench wakelat 100 20000)"
fails=0
bfail() { echo "KTEST fail bench-gateway/$1 $2"; fails=$((fails + 1)); }

# quantile Q < numbers: the Q-th quantile (nearest rank)
quantile() {
	sort -n | awk -v q="$1" '{ a[NR] = $1 } END {
		if (NR == 0) { print "-"; exit }
		i = int(q * NR + 0.999999); if (i < 1) i = 1; if (i > NR) i = NR; print a[i] }'
}
peers_only() { sed -n '/^\[Peer\]/,$p' "$1"; }

key_file() { umask 077; wg genkey >"$1"; }
key_file $B/gw.key

# gw_conf FILE IF PATH
gw_conf() {
	cat >"$1" <<EOC
[Interface]
Name = $2
PrivateKeyFile = $B/gw.key
ListenPort = 51870
Backend = kernel
[Registry]
Source = directory
Path = $3
[Apply]
DriftCheckSeconds = 3600
[Anycast]
DrainSeconds = 0
EOC
}

# gw_start CONF LOG [PRELOAD]: start the daemon, wait until ready; sets PID
gw_start() {
	if [ -n "${3:-}" ]; then
		env LD_PRELOAD=$PRE NLCOUNT_OUT=$B/nl wg-gatewayd -c "$1" >"$2" 2>&1 &
	else
		wg-gatewayd -c "$1" >"$2" 2>&1 &
	fi
	PID=$!
	gw_bench wait "$2" "start: ready" 600 >$B/ready.t || { bfail start "not ready: $(tail -n 3 "$2" | tr '\n' ' ')"; return 1; }
}
gw_stop() { kill "$PID" 2>/dev/null; wait "$PID" 2>/dev/null; }

# ---------------------------------------------------------------- 1% change, one file
sync_bench gen "$N" 0 0 >$B/base.conf
sync_bench gen "$N" 10 1 >$B/c1.conf
mkdir -p $B/one
peers_only $B/base.conf >$B/one/peers.conf
peers_only $B/base.conf >$B/p-base
peers_only $B/c1.conf >$B/p-c1
gw_conf $B/one.conf gb $B/one
gw_start $B/one.conf $B/one.log || exit 0
[ "$(wg show gb peers | wc -l)" = "$N" ] || bfail load "daemon loaded $(wg show gb peers | wc -l) peers, not $N"
echo "KTEST info bench-gateway: $(grep -o 'start: add=.*' $B/one.log)"
echo "KTEST info bench-gateway: RSS at $N peers: $(gw_bench rss $PID) bytes"
gw_bench rss $PID >$B/rss_n
ip link add gr type wireguard && wg setconf gr $B/base.conf || bfail ref "set-up of gr"
: >$B/c1.ours; : >$B/c1.ref
r=0
while [ $r -lt "$CHURN" ]; do
	for v in c1 base; do
		cp $B/p-$v $B/one/.peers.conf.new
		# Each sample starts on a settled guest: the kernel's deferred
		# work after the other side's 58 removals is not timed to either.
		sleep 0.3
		gw_bench swap $B/one/.peers.conf.new $B/one/peers.conf $B/one.log "apply: " 120 >>$B/c1.ours ||
			bfail churn "daemon did not apply $v"
		sleep 0.3
		sync_bench time wg syncconf gr $B/$v.conf >>$B/c1.ref || bfail churn "wg syncconf $v"
	done
	r=$((r + 1))
done
grep -o 'apply: add=[0-9]* update=[0-9]* remove=[0-9]*' $B/one.log | sort | uniq -c | sed 's/^/KTEST info bench-gateway: /'
# Where the time goes: the daemon's own timing of each set (after the read).
grep -o 'apply: .* ms=[0-9.]*' $B/one.log | tail -n 4 | sed 's/^/KTEST info bench-gateway: 1% /'
grep -o 'sections changed.*' $B/one.log | sort | uniq -c | sed 's/^/KTEST info bench-gateway: 1% /'
wg showconf gb | grep -c '^\[Peer\]' >$B/cnt
[ "$(cat $B/cnt)" = "$N" ] || bfail churn "after the rounds: $(cat $B/cnt) peers"
echo "BENCHRES case=gateway_churn_1pct ours=$(quantile 0.5 <$B/c1.ours) ref=$(quantile 0.5 <$B/c1.ref) runs_ours=$(tr '\n' ',' <$B/c1.ours) runs_ref=$(tr '\n' ',' <$B/c1.ref)"

# ---------------------------------------------------------------- restart on the loaded device
# The daemon restarted over the device it keeps: one dump, a plan, nothing
# sent; against the bare dump (wgnl_device_get() and nothing else).
: >$B/rs.ours; : >$B/rs.ref; : >$B/rs.msgs
gw_stop
r=0
while [ $r -lt "$ROUNDS" ]; do
	rm -f $B/nl
	gw_start $B/one.conf $B/restart.log pre || break
	cat $B/ready.t >>$B/rs.ours
	echo "KTEST info bench-gateway: restart: ready after $(cat $B/ready.t) s; $(grep -o 'start: device in step.*' $B/restart.log)"
	grep -q "start: device in step, 0 set" $B/restart.log || bfail restart "restart sent something: $(grep 'start:' $B/restart.log | head -n 1)"
	gw_stop
	# nlcount writes its counts when the process exits.
	tail -n 1 $B/nl 2>/dev/null | tr ' ' '\n' | awk -F= '{ v[$1] = $2 } END { printf "%s/%s\n", v["sent"], v["set"] }' >>$B/rs.msgs
	sync_bench time sync_bench dump gb >>$B/rs.ref || bfail restart "bare dump"
	r=$((r + 1))
done
echo "KTEST info bench-gateway: restart netlink messages sent/set per round: $(tr '\n' ' ' <$B/rs.msgs)"
grep -qv '/0$' $B/rs.msgs && bfail restart "set messages on restart: $(tr '\n' ' ' <$B/rs.msgs)"
echo "BENCHRES case=gateway_restart_$N ours=$(quantile 0.5 <$B/rs.ours) ref=$(quantile 0.5 <$B/rs.ref) ours_msgs=$(tail -n 1 $B/rs.msgs) runs_ours=$(tr '\n' ',' <$B/rs.ours) runs_ref=$(tr '\n' ',' <$B/rs.ref)"

# ---------------------------------------------------------------- single-peer changes, a folder of files
mkdir -p $B/dir
awk -v d=$B/dir 'BEGIN { f = -1 } /^\[Peer\]/ { n++; if ((n - 1) % 100 == 0) { f++ } } f >= 0 { print > sprintf("%s/p%03d.conf", d, f) }' $B/p-base
ls $B/dir | wc -l | sed 's/^/KTEST info bench-gateway: files in the folder: /'
cp $B/dir/p000.conf $B/v0
# v1: the first peer of p000 gets another allowed IP
awk 'done == 0 && /^AllowedIPs/ { print "AllowedIPs = 10.250.0.1/32"; done = 1; next } { print }' $B/v0 >$B/v1
awk 'done == 0 && /^AllowedIPs/ { print "AllowedIPs = 10.250.0.1/32"; done = 1; next } { print }' $B/base.conf >$B/base1.conf
gw_conf $B/dir.conf gb $B/dir
gw_start $B/dir.conf $B/dir.log || exit 0
echo "KTEST info bench-gateway: $(grep -o 'start: .*' $B/dir.log | head -n 1)"
: >$B/one.ours; : >$B/one.ref
i=0
while [ $i -lt "$SINGLE" ]; do
	[ $((i % 2)) = 0 ] && v=v1 || v=v0
	cp $B/$v $B/dir/.p000.new
	gw_bench swap $B/dir/.p000.new $B/dir/p000.conf $B/dir.log "apply: " 60 >>$B/one.ours || bfail single "change $i not applied"
	[ $((i % 2)) = 0 ] && f=$B/base1.conf || f=$B/base.conf
	sync_bench time wg syncconf gr $f >>$B/one.ref || bfail single "wg syncconf"
	i=$((i + 1))
done
grep -o 'apply: add=[0-9]* update=[0-9]* remove=[0-9]*' $B/dir.log | sort | uniq -c | sed 's/^/KTEST info bench-gateway: /'
echo "BENCHRES case=gateway_single_p50 ours=$(quantile 0.5 <$B/one.ours) ref=$(quantile 0.5 <$B/one.ref)"
echo "BENCHRES case=gateway_single_p99 ours=$(quantile 0.99 <$B/one.ours) ref=$(quantile 0.99 <$B/one.ref)"
gw_stop

# ---------------------------------------------------------------- single-peer changes, one file per peer
# The layout of a registry kept as one file per device: N files of one peer.
# Only the file inotify names is looked at (not N stats per change).
mkdir -p $B/files
awk -v d=$B/files '/^\[Peer\]/ { n++; if (f) close(f); f = sprintf("%s/d%05d.conf", d, n - 1) } f { print > f }' $B/p-base
awk 'done == 0 && /^AllowedIPs/ { print "AllowedIPs = 10.250.0.1/32"; done = 1; next } { print }' $B/files/d00000.conf >$B/f1
cp $B/files/d00000.conf $B/f0
gw_conf $B/files.conf gb $B/files
gw_start $B/files.conf $B/files.log || exit 0
echo "KTEST info bench-gateway: $(ls $B/files | wc -l) files: $(grep -o 'start: .*peers=[0-9]*' $B/files.log | head -n 1)"
: >$B/files.ours
i=0
while [ $i -lt "$SINGLE" ]; do
	[ $((i % 2)) = 0 ] && v=f1 || v=f0
	cp $B/$v $B/files/.d00000.new
	gw_bench swap $B/files/.d00000.new $B/files/d00000.conf $B/files.log "apply: " 60 >>$B/files.ours || bfail files "change $i not applied"
	i=$((i + 1))
done
grep -o 'no full read ms=[0-9.]*' $B/files.log | sed 's/.*=//' | sort -n | awk '{ a[NR] = $1 } END { if (NR) print "KTEST info bench-gateway: one file of " NR " changes: the source'"'"'s own work " a[1] "-" a[NR] " ms" }'
# Reference: the same `wg syncconf` of the whole 10,000-peer file as above.
echo "BENCHRES case=gateway_single_files_p50 ours=$(quantile 0.5 <$B/files.ours) ref=$(quantile 0.5 <$B/one.ref)"
echo "BENCHRES case=gateway_single_files_p99 ours=$(quantile 0.99 <$B/files.ours) ref=$(quantile 0.99 <$B/one.ref)"
gw_stop
# Empty before deleting: deleting a populated link costs ~17 ms a peer.
printf '[Interface]\n' >$B/empty.conf
wg setconf gr $B/empty.conf; ip link del gr
wg setconf gb $B/empty.conf; ip link del gb

# ---------------------------------------------------------------- memory
# RSS with no peers (the fixed base), N and BIG peers, each a fresh daemon
# on a fresh device, measured twice (see rss_at).
rss_at() { # COUNT
	local n=$1
	ip link del gb 2>/dev/null
	mkdir -p $B/m$n
	if [ "$n" -gt 0 ]; then
		sync_bench gen "$n" 0 0 >$B/m.conf
		peers_only $B/m.conf >$B/m$n/peers.conf
		rm -f $B/m.conf
	fi
	gw_conf $B/m$n.conf gb $B/m$n
	gw_start $B/m$n.conf $B/m$n.log || return 1
	# Once 1 s after ready, again after a scan period of khugepaged, which
	# with THP on would fill the heap the start's peak left sparse
	# (gateway/loop.c turns THP off for the daemon); the larger counts.
	sleep 1
	local r1 r2
	r1=$(gw_bench rss $PID)
	sleep $((KHUGE_S + 2))
	r2=$(gw_bench rss $PID)
	[ "$r2" -gt "$r1" ] && echo "$r2" || echo "$r1"
	echo "KTEST info bench-gateway: $n peers: RSS $r1 then $r2 bytes, $(grep AnonHugePages /proc/$PID/smaps_rollup | tr -s ' '); $(grep -o 'start: add=.*' $B/m$n.log | head -n 1)" >&2
	wg setconf gb $B/empty.conf
	gw_stop
	ip link del gb 2>/dev/null
	rm -rf $B/m$n
}
KHUGE_S=$(($(cat /sys/kernel/mm/transparent_hugepage/khugepaged/scan_sleep_millisecs 2>/dev/null || echo 10000) / 1000))
echo "KTEST info bench-gateway: transparent huge pages: $(cat /sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null), khugepaged every ${KHUGE_S} s"
rss0=$(rss_at 0) || rss0=
rssn=$(rss_at "$N") || rssn=
rssb=
[ "$BIG" -gt 0 ] && { rssb=$(rss_at "$BIG") || rssb=; }
echo "KTEST info bench-gateway: RSS 0=$rss0 $N=$rssn $BIG=$rssb"
if [ -n "$rss0" ] && [ -n "$rssn" ]; then
	echo "BENCHRES case=gateway_rss_per_peer_$N ours=$(((rssn - rss0) / N)) ref=200"
fi
if [ -n "$rss0" ] && [ -n "$rssb" ]; then
	echo "BENCHRES case=gateway_rss_per_peer_$BIG ours=$(((rssb - rss0) / BIG)) ref=200"
fi
echo "KTEST info bench-gateway: base RSS $rss0 bytes"
[ $fails = 0 ] && echo "KTEST ok bench-gateway/all" || echo "KTEST fail bench-gateway/all $fails failures"
