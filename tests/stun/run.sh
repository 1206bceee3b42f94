#!/bin/sh
# STUN and probe integration tests in network namespaces (prefix s2-):
#  - wgpunch against itself, coturn's turnserver (STUN only, RFC 5780 on two
#    addresses), coturn's turnutils_stunclient / turnutils_natdiscovery
#    against wgpunch stun-server;
#  - NAT behaviour verdicts through real nftables NATs (full cone with and
#    without hairpinning, port restricted, masquerade random);
#  - one dual-stack server instance on [::] answering IPv4 and IPv6;
#  - bad input never answered, rate limiting, replies from the arrival address;
#  - a spoofed flood from one IPv4 /24 and one IPv6 /64 against the default
#    rate limit (tests/stun/flood.sh; STUN_ONLY=flood runs only that);
#  - client send buffers parked behind a full socket buffer outlive the
#    query (tests/stun/inflight.sh; STUN_ONLY=inflight);
#  - a probe run ending with echo requests parked behind a full socket
#    buffer (tests/stun/probe_inflight.sh; STUN_ONLY=probe_inflight);
#  - bench/stun.sh, one short round, exits 0 (tests/stun/bench.sh);
#  - wghealth probe (ICMP, UDP, TCP) with nftables dropping some targets.
# Usage: tests/stun/run.sh BUILD. Prints "stun: N passed, N failed, N skipped".
BUILD=${1:-build}
cd "$(dirname "$0")/../.." || exit 1
PUNCH=$BUILD/wgpunch
HEALTH=$BUILD/wghealth
. tests/lib.sh
suite_init stun
T=$SUITE_TMP
NS="s2-c s2-n s2-s s2-l s2-p s2-f s2-v s2-d s2-i"

stop_all() {
	for p in $(cat "$T"/pids 2>/dev/null); do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	for n in $NS; do ip netns del "$n" 2>/dev/null; done
}
at_exit stop_all

# The old names of the helpers; this suite's check shows a log file.
ko() { fail_log "$@"; }
sk() { skip "$@"; }
check() { check_log "$@"; } # name file command... : pass when the command succeeds
bg() { "$@" & echo $! >> "$T"/pids; }
# wait until something answers STUN at ADDR PORT in namespace NS
wait_stun() {
	i=0
	while [ $i -lt 50 ]; do
		ip netns exec "$1" "$PUNCH" discover --no-nat-test --rto 50 --tries 1 --timeout 200 \
			"$2:$3" >/dev/null 2>&1 && return 0
		sleep 0.1; i=$((i + 1))
	done
	return 1
}
stop_bg() { for p in $(cat "$T"/pids 2>/dev/null); do kill "$p" 2>/dev/null; done; wait 2>/dev/null; : > "$T"/pids; }

[ "$(id -u)" = 0 ] || cannot "needs root for network namespaces"
if [ ! -x "$PUNCH" ]; then
	fail "$PUNCH missing (run make)"
	finish
fi
if ! "$PUNCH" discover --help >/dev/null 2>&1 || ! ip netns add s2-l 2>/dev/null; then
	cannot "cannot create network namespaces"
fi
HAVE_COTURN=1
command -v turnserver >/dev/null 2>&1 || HAVE_COTURN=0
HAVE_NFT=1
command -v nft >/dev/null 2>&1 || HAVE_NFT=0

# STUN_ONLY=flood, inflight, probe_inflight or bench: only that part
# (tests/stun/NAME.sh).
case ${STUN_ONLY:-} in
flood | inflight | probe_inflight | bench)
	. tests/stun/"$STUN_ONLY".sh
	finish ;;
esac

# ------------------------------------------------------------ loopback
L="ip netns exec s2-l"
ip -n s2-l link set lo up
ip -n s2-l addr add 127.0.0.2/8 dev lo 2>/dev/null
ip -n s2-l addr add 10.99.0.1/32 dev lo
ip -n s2-l addr add 10.99.0.2/32 dev lo
ip -n s2-l -6 addr add ::2/128 dev lo 2>/dev/null

bg $L "$PUNCH" stun-server --listen 127.0.0.1:3478 --alt-address 127.0.0.2 --alt-port 3479 \
	> "$T"/srv.out 2> "$T"/srv.err
wait_stun s2-l 127.0.0.1 3478 || ko "our server starts" "$T"/srv.err

$L "$PUNCH" discover --json --rto 100 --tries 3 127.0.0.1 > "$T"/d1 2>&1
check "discover against our server: mapped address and RFC 5780" "$T"/d1 \
	grep -q '"status":"ok".*"mapped":"127.0.0.1:[0-9]*".*"other_address":"127.0.0.2:3479".*"mapping":"no-nat","filtering":"endpoint-independent".*"verdict":"open","verdict_text":"no NAT, open' "$T"/d1

$L "$PUNCH" discover --no-nat-test --rto 100 --tries 2 127.0.0.1 127.0.0.1:3479 127.0.0.2 127.0.0.1:9 \
	> "$T"/d2 2>&1
check "discover asks several servers at once, reports the silent one" "$T"/d2 \
	sh -c "[ \$(grep -c ': mapped 127.0.0.1:' $T/d2) = 3 ] && grep -q '127.0.0.1:9: timeout after 2 requests' $T/d2"

# A host name without a port gets 3478 before it is resolved; a name that
# does not resolve is bad input (exit 2), named in the error. (No traffic
# leaves: s2-l has only loopback.)
$L "$PUNCH" discover --no-nat-test --rto 100 --tries 3 localhost > "$T"/dn 2>&1
check "discover localhost (no port): resolved with the default port 3478" "$T"/dn \
	grep -q '^server 127.0.0.1:3478: mapped 127.0.0.1:' "$T"/dn
$L "$PUNCH" discover --no-nat-test --rto 100 --tries 1 nosuch.invalid > "$T"/dn2 2>&1
rc=$?
check "discover of a name that does not resolve: exit 2, says so (exit $rc)" "$T"/dn2 \
	sh -c "[ $rc = 2 ] && grep -q \"cannot resolve STUN server 'nosuch.invalid'\" $T/dn2"
# Exit codes shared by all wgkit tools (cmd/common/exitcodes.h):
# no such interface 3, no permission 4, a name that does not resolve 2 (the
# lookup stays inside s2-l, which has only loopback).
exit_is() { # name want file command...
	n=$1 want=$2 f=$3; shift 3
	"$@" > "$f" 2>&1
	got=$?
	if [ "$got" = "$want" ] && [ "$(wc -l < "$f")" = 1 ]; then ok "$n"
	else echo "exit $got, want $want" >> "$f"; ko "$n" "$f"; fi
}
exit_is "discover --interface that does not exist exits 3" 3 "$T"/x1 \
	$L "$PUNCH" discover --no-nat-test --tries 1 --timeout 200 --interface s2nosuch0 127.0.0.1
exit_is "discover of a name that does not resolve exits 2" 2 "$T"/x2 \
	$L "$PUNCH" discover --no-nat-test --tries 1 --timeout 200 no-such-host.invalid:3478
if command -v setpriv > /dev/null; then
	NOBODY="setpriv --reuid=65534 --regid=65534 --clear-groups --"
	exit_is "discover --fwmark without CAP_NET_ADMIN exits 4" 4 "$T"/x3 \
		$L $NOBODY "$PUNCH" discover --no-nat-test --tries 1 --timeout 200 --fwmark 1 127.0.0.1
	exit_is "stun-server on a privileged port without CAP_NET_BIND_SERVICE exits 4" 4 "$T"/x4 \
		$L timeout 5 $NOBODY "$PUNCH" stun-server --listen 127.0.0.1:345
else
	sk "wgpunch permission exit codes" "setpriv not installed"
fi

if [ $HAVE_COTURN = 1 ]; then
	$L turnutils_stunclient -p 3478 127.0.0.1 > "$T"/c1 2>&1
	check "turnutils_stunclient against our server" "$T"/c1 \
		grep -q 'UDP reflexive addr: 127.0.0.1:' "$T"/c1
	$L timeout 20 turnutils_natdiscovery -m -f -H 127.0.0.1 > "$T"/c2 2>&1
	check "turnutils_natdiscovery against our server (RFC 5780)" "$T"/c2 \
		sh -c "grep -q 'NAT with Endpoint Independent Mapping' $T/c2 && grep -q 'NAT with Endpoint Independent Filtering' $T/c2"
else
	sk "coturn clients against our server" "coturn not installed"
	sk "turnutils_natdiscovery against our server" "coturn not installed"
fi

# Bad input: nothing but the one valid request may be answered.
cat > "$T"/bad.py <<'EOF'
import os, socket, struct, sys
port = int(sys.argv[1])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(0.5)
tid = os.urandom(12)
hdr = lambda t, l, c=0x2112A442, x=tid: struct.pack('>HHI', t, l, c) + x
bad = [
    b'', b'\x00', os.urandom(19),                      # runts
    hdr(1, 0, 0xdeadbeef),                             # wrong cookie
    hdr(1, 8) ,                                        # truncated (length says 8)
    hdr(1, 0) + b'\0' * 8,                             # oversized (trailing bytes)
    hdr(1, 2) + b'\0\0',                               # length not a multiple of 4
    hdr(1, 8) + struct.pack('>HH', 0x8022, 9) + b'abcd',  # attribute overruns
    hdr(1, 8) + struct.pack('>HHI', 0x8028, 4, 0),     # bad fingerprint
    hdr(0x101, 0),                                     # a response: never answered
    hdr(0x011, 0),                                     # an indication
    hdr(0x0c0 | 1, 0) ,                                # leading bits (0x00c1 is ok type, use 0xc001)
    struct.pack('>HHI', 0xc001, 0, 0x2112A442) + tid,  # leading two bits set
    b'\0' * 1400,                                      # big garbage
    bytes([0x00, 0x01, 0x05, 0x00]) + struct.pack('>I', 0x2112A442) + tid + os.urandom(1280),  # oversized
] + [os.urandom(n) for n in (20, 28, 64, 548, 1200) for _ in range(20)]
for b in bad:
    s.sendto(b, ('127.0.0.1', port))
answers = 0
try:
    while True:
        d, a = s.recvfrom(2048)
        answers += 1
except socket.timeout:
    pass
s.sendto(hdr(1, 0), ('127.0.0.1', port))
d, a = s.recvfrom(2048)
ok = d[8:20] == tid and d[0:2] == b'\x01\x01'
print('answers_to_bad=%d valid_answered=%d' % (answers, ok))
EOF
# 0x00c1 is a valid Binding-class type of another method; the server drops it too.
$L python3 "$T"/bad.py 3478 > "$T"/bad 2>&1
check "bad input: no reply to garbage, truncated, oversized, wrong cookie, responses" "$T"/bad \
	grep -q 'answers_to_bad=0 valid_answered=1' "$T"/bad

# RFC 5780 RESPONSE-PORT: the reply goes to the request's source address at
# that port. With PADDING as well (RFC 5780 6.1) the answer is 400 Bad
# Request at the source port, nothing at RESPONSE-PORT, no PADDING echoed,
# no larger than the request (a 0-byte PADDING: no reason phrase).
cat > "$T"/rport.py <<'EOF2'
import os, socket, struct
a = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); a.bind(('127.0.0.1', 0)); a.settimeout(0.5)
b = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); b.bind(('127.0.0.1', 0)); b.settimeout(0.5)
def req(pad):
    attrs = struct.pack('>HHHH', 0x0027, 4, b.getsockname()[1], 0)
    if pad is not None:
        attrs += struct.pack('>HH', 0x0026, pad) + b'\0' * pad
    return struct.pack('>HHI', 1, len(attrs), 0x2112A442) + os.urandom(12) + attrs
def got(s):
    try:
        return s.recvfrom(2048)[0]
    except socket.timeout:
        return None
def err(q, d):  # 'CODE/REASON/SIZE_OK/HAS_PADDING' of an error response to q, or '-'
    if d is None or d[0:2] != b'\x01\x11' or d[8:20] != q[8:20]:
        return '-'
    code, reason, pad, off = 0, '', 0, 20
    while off + 4 <= len(d):
        t, l = struct.unpack('>HH', d[off:off + 4])
        if t == 0x0009:
            code = d[off + 6] * 100 + d[off + 7]; reason = d[off + 8:off + 4 + l].decode()
        pad |= t == 0x0026
        off += 4 + (l + 3) // 4 * 4
    return '%d/%s/%d/%d' % (code, reason.replace(' ', '_'), len(d) <= len(q), pad)
q = req(None); a.sendto(q, ('127.0.0.1', 3478))
plain = (got(b) is not None, got(a) is not None)
out = []
for pad in (64, 0):
    q = req(pad); a.sendto(q, ('127.0.0.1', 3478))
    out += [got(b) is not None, err(q, got(a))]
print('rport_to_port=%d rport_to_src=%d' % plain)
print('padded64_to_port=%d padded64_to_src=%s padded0_to_port=%d padded0_to_src=%s' % tuple(out))
# The 400s are rate limited like any answer (default 20/s, burst 20 per source).
for _ in range(100):
    a.sendto(req(64), ('127.0.0.1', 3478))
n400 = 0
while got(a) is not None:
    n400 += 1
print('flood400=%d' % n400)
EOF2
$L python3 "$T"/rport.py > "$T"/rport 2>&1
check "RFC 5780 RESPONSE-PORT: reply at that port, not the source port" "$T"/rport \
	grep -q 'rport_to_port=1 rport_to_src=0' "$T"/rport
check "RFC 5780 RESPONSE-PORT with PADDING: 400 Bad Request at the source port, none at RESPONSE-PORT, no PADDING" "$T"/rport \
	grep -q 'padded64_to_port=0 padded64_to_src=400/Bad_Request/1/0 ' "$T"/rport
check "RFC 5780 RESPONSE-PORT with 0-byte PADDING: bare 400, no larger than the request" "$T"/rport \
	grep -q 'padded0_to_port=0 padded0_to_src=400//1/0$' "$T"/rport
n400=$(sed -n 's/^flood400=//p' "$T"/rport)
check "RFC 5780 RESPONSE-PORT with PADDING: the 400s are rate limited (100 sent at once, ${n400:-?} answered)" "$T"/rport \
	test "${n400:-0}" -ge 1 -a "${n400:-99}" -le 30
stop_bg
check "bad input: dropped packets are counted" "$T"/srv.out \
	sh -c "grep -q 'drop_not_stun=[1-9]' $T/srv.out && grep -q 'drop_size=[1-9]' $T/srv.out && grep -q 'drop_malformed=[1-9]' $T/srv.out && grep -q 'drop_class=[1-9]' $T/srv.out"
check "RFC 5780 RESPONSE-PORT with PADDING: the 400s are counted in errors_sent" "$T"/srv.out \
	grep -q 'errors_sent=[2-9]' "$T"/srv.out

# Replies leave from the address the request arrived on (wildcard bind, IP_PKTINFO).
bg $L "$PUNCH" stun-server --listen 0.0.0.0:3480 --rate 20 --burst 20 > "$T"/srv2.out 2>&1
wait_stun s2-l 10.99.0.2 3480 || true
cat > "$T"/pktinfo.py <<'EOF'
import os, socket, struct
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(1)
res = []
for dst in ('10.99.0.1', '10.99.0.2'):
    tid = os.urandom(12)
    s.sendto(struct.pack('>HHI', 1, 0, 0x2112A442) + tid, (dst, 3480))
    d, a = s.recvfrom(2048)
    res.append(a[0] == dst and d[8:20] == tid)
# Rate limiting: 100 requests at once from one source, 20 allowed (+ refill).
for i in range(100):
    s.sendto(struct.pack('>HHI', 1, 0, 0x2112A442) + os.urandom(12), ('10.99.0.1', 3480))
n = 0
try:
    while True:
        s.recvfrom(2048); n += 1
except socket.timeout:
    pass
print('pktinfo=%s limited=%d' % (all(res), n))
EOF
$L python3 "$T"/pktinfo.py > "$T"/pk 2>&1
check "wildcard server answers from the address the request arrived on" "$T"/pk grep -q 'pktinfo=True' "$T"/pk
check "per-source rate limit (burst 20 of 100 answered)" "$T"/pk \
	sh -c "n=\$(sed -n 's/.*limited=\([0-9]*\).*/\1/p' $T/pk); [ \"\$n\" -ge 15 ] && [ \"\$n\" -le 25 ]"
stop_bg

# --duration in 64 bits: 4294968 s is 4294968000 ms, which a 32-bit
# product wraps to 704 ms (and 30 days to a negative "forever").
bg $L "$PUNCH" stun-server --listen 127.0.0.1:3482 --duration 4294968 > "$T"/dur.out 2>&1
bg $L "$PUNCH" stun-server --listen 127.0.0.1:3483 --duration 1 > "$T"/dur1.out 2>&1
DP=$(tail -n 2 "$T"/pids | head -n 1)
sleep 1.5
check "--duration of 49.7 days (ms overflow 32 bits) still serving after 1.5 s" "$T"/dur.out \
	sh -c "kill -0 $DP 2>/dev/null && $L $PUNCH discover --no-nat-test --rto 100 --tries 3 127.0.0.1:3482 >/dev/null 2>&1"
check "--duration 1 stops after a second and prints the counters" "$T"/dur1.out \
	grep -q '^stun-server: rx=' "$T"/dur1.out
$L "$PUNCH" stun-server --listen 127.0.0.1:3484 --duration 31536001 > "$T"/dur2.out 2>&1
rc=$?
check "--duration beyond a year is a usage error" "$T"/dur2.out \
	sh -c "[ $rc = 1 ] && grep -q 'invalid duration' $T/dur2.out"
stop_bg

# IPv6
bg $L "$PUNCH" stun-server --listen '[::1]:3478' > /dev/null 2>&1
sleep 0.3
$L "$PUNCH" discover --no-nat-test --rto 100 --tries 3 '[::1]:3478' > "$T"/d6 2>&1
check "IPv6 discover" "$T"/d6 grep -q 'mapped \[::1\]:' "$T"/d6
stop_bg

# One instance, both families: a wildcard IPv6 listener is dual stack
# (IPv4 clients arrive v4-mapped and are answered in IPv4 terms).
bg $L "$PUNCH" stun-server --listen '[::]:3481' > /dev/null 2>&1
wait_stun s2-l 127.0.0.1 3481 || true
{ $L "$PUNCH" discover --no-nat-test --rto 100 --tries 3 127.0.0.1:3481
  $L "$PUNCH" discover --no-nat-test --rto 100 --tries 3 '[::1]:3481'; } > "$T"/d46 2>&1
check "one dual-stack server on [::] answers IPv4 and IPv6" "$T"/d46 \
	sh -c "grep -q '127.0.0.1:3481: mapped 127.0.0.1:' $T/d46 && grep -q '\[::1\]:3481: mapped \[::1\]:' $T/d46"
stop_bg

# Our client against coturn (STUN only, RFC 5780 on two addresses).
if [ $HAVE_COTURN = 1 ]; then
	bg $L turnserver -n --stun-only --no-cli --no-tls --no-dtls -L 127.0.0.1 -L 127.0.0.2 \
		--listening-port 3478 --alt-listening-port 3479 --userdb "$T"/turndb \
		--pidfile "$T"/turn.pid --log-file stdout --no-stdout-log > "$T"/turn.log 2>&1
	wait_stun s2-l 127.0.0.1 3478
	$L "$PUNCH" discover --json --rto 100 --tries 3 127.0.0.1 127.0.0.2 > "$T"/d3 2>&1
	check "discover against coturn: mapped address from both servers" "$T"/d3 \
		sh -c "[ \$(grep -o '\"status\":\"ok\"' $T/d3 | wc -l) = 2 ] && grep -q '\"public\":\[\"127.0.0.1:[0-9]*\"\]' $T/d3"
	check "discover against coturn: RFC 5780 verdict (no NAT on loopback)" "$T"/d3 \
		grep -q '"rfc5780":true.*"mapping":"no-nat","filtering":"endpoint-independent"' "$T"/d3
	stop_bg
else
	sk "discover against coturn" "coturn not installed"
	sk "discover against coturn RFC 5780" "coturn not installed"
fi

# ------------------------------------------------------------ real NATs
# s2-c (10.77.1.2) -- s2-n (10.77.1.1 | 203.0.113.1) -- s2-s (203.0.113.10, .11)
nat_setup() {
	for n in s2-c s2-n s2-s; do ip netns add $n; ip -n $n link set lo up; done
	ip link add s2-c0 netns s2-c type veth peer name s2-nc netns s2-n
	ip link add s2-ns netns s2-n type veth peer name s2-s0 netns s2-s
	ip -n s2-c addr add 10.77.1.2/24 dev s2-c0
	ip -n s2-n addr add 10.77.1.1/24 dev s2-nc
	ip -n s2-n addr add 203.0.113.1/24 dev s2-ns
	ip -n s2-s addr add 203.0.113.10/24 dev s2-s0
	ip -n s2-s addr add 203.0.113.11/24 dev s2-s0
	for l in "s2-c s2-c0" "s2-n s2-nc" "s2-n s2-ns" "s2-s s2-s0"; do
		set -- $l; ip -n $1 link set $2 up
	done
	ip -n s2-c route add default via 10.77.1.1
	ip netns exec s2-n sysctl -qw net.ipv4.ip_forward=1
}
nat_rules() { # kind
	ip netns exec s2-n nft flush ruleset
	case $1 in
	fullcone) ip netns exec s2-n nft -f - <<'EOF'
table ip st {
	chain pre { type nat hook prerouting priority dstnat; iifname "s2-ns" ip daddr 203.0.113.1 udp dport 1024-65535 dnat to 10.77.1.2; }
	chain post { type nat hook postrouting priority srcnat; oifname "s2-ns" snat to 203.0.113.1; }
}
EOF
	;;
	hairpin) ip netns exec s2-n nft -f - <<'EOF'
table ip st {
	chain pre { type nat hook prerouting priority dstnat; ip daddr 203.0.113.1 udp dport 1024-65535 dnat to 10.77.1.2; }
	chain post { type nat hook postrouting priority srcnat; oifname "s2-ns" snat to 203.0.113.1;
		oifname "s2-nc" ip saddr 10.77.1.0/24 ct status dnat snat to 203.0.113.1; }
}
EOF
	;;
	restricted) ip netns exec s2-n nft -f - <<'EOF'
table ip st {
	chain post { type nat hook postrouting priority srcnat; oifname "s2-ns" masquerade; }
}
EOF
	;;
	symmetric) ip netns exec s2-n nft -f - <<'EOF'
table ip st {
	chain post { type nat hook postrouting priority srcnat; oifname "s2-ns" masquerade random; }
}
EOF
	;;
	esac
	ip netns exec s2-n conntrack -F 2>/dev/null || true
}
nat_case() { # kind server-kind expected-mapping expected-filtering expected-hairpinning expected-verdict
	nat_rules "$1"
	ip netns exec s2-c "$PUNCH" discover --json --rto 100 --tries 3 --timeout 20000 \
		203.0.113.10 > "$T"/nat-$1-$2 2>&1
	check "NAT $1 via $2: mapping $3, filtering $4, hairpinning $5, verdict $6" "$T"/nat-$1-$2 \
		grep -q "\"mapped\":\"203.0.113.1:[0-9]*\".*\"mapping\":\"$3\",\"filtering\":\"$4\",\"hairpinning\":$5,\"varies_by_destination\":[a-z]*,\"verdict\":\"$6\",\"verdict_text\":\"[^\"]*\"}" "$T"/nat-$1-$2
}
if [ $HAVE_NFT = 1 ]; then
	nat_setup
	bg ip netns exec s2-s "$PUNCH" stun-server --listen 203.0.113.10:3478 \
		--alt-address 203.0.113.11 --alt-port 3479 > /dev/null 2>&1
	sleep 0.3
	# Full cone without hairpinning (DNAT only from outside) and with it
	# (DNAT from inside too, plus the hairpin SNAT back to the client).
	nat_case fullcone wgpunch endpoint-independent endpoint-independent false full-cone
	nat_case hairpin wgpunch endpoint-independent endpoint-independent true full-cone
	nat_case restricted wgpunch endpoint-independent address-and-port-dependent false cone
	nat_case symmetric wgpunch address-and-port-dependent address-and-port-dependent false symmetric
	check "symmetric NAT: verdict says the mapping varies by destination" "$T"/nat-symmetric-wgpunch \
		grep -q '"varies_by_destination":true,"verdict":"symmetric","verdict_text":"symmetric NAT' "$T"/nat-symmetric-wgpunch
	stop_bg
	if [ $HAVE_COTURN = 1 ]; then
		bg ip netns exec s2-s turnserver -n --stun-only --no-cli --no-tls --no-dtls \
			-L 203.0.113.10 -L 203.0.113.11 --listening-port 3478 --alt-listening-port 3479 \
			--userdb "$T"/turndb2 --pidfile "$T"/turn2.pid --log-file stdout --no-stdout-log \
			> "$T"/turn2.log 2>&1
		wait_stun s2-s 203.0.113.10 3478
		nat_case fullcone coturn endpoint-independent endpoint-independent false full-cone
		nat_case hairpin coturn endpoint-independent endpoint-independent true full-cone
		nat_case symmetric coturn address-and-port-dependent address-and-port-dependent false symmetric
		stop_bg
	else
		sk "NAT verdicts against coturn" "coturn not installed"
	fi
else
	sk "NAT behaviour through nftables NATs" "nft not installed"
fi

# ------------------------------------------------------------ spoofed flood
. tests/stun/flood.sh

# ------------------------------------------------------------ sends in flight
. tests/stun/inflight.sh
. tests/stun/probe_inflight.sh

# ------------------------------------------------------------ bench/stun.sh
. tests/stun/bench.sh

# ------------------------------------------------------------ probes
if [ -x "$HEALTH" ] && [ -f tests/stun/probe.sh ]; then
	. tests/stun/probe.sh
fi

finish
