# Sourced by tests/stun/run.sh: the reflector under a spoofed flood, with the
# server's default settings (the rate limit is on by default).
# s2-v (10.65.0.2, fd65::2) holds the attacker, who spoofs sources in the
# victim networks 10.66.0.0/24 and 2001:db8:66::/64 (IP_TRANSPARENT), and is
# also where the server's replies to those networks are routed, so the bytes
# its link receives are what the victim would receive. s2-f (10.65.0.1,
# fd65::1) runs the server. Bound per flood of T seconds, default rate R=20/s
# with burst R, prefix factor 10: an IPv6 /64 is one source (R*T + R
# replies), an IPv4 /24 is 254 sources sharing one prefix bucket
# (10R*T + 10R replies).
V="ip netns exec s2-v"
ip netns add s2-f && ip netns add s2-v
ip -n s2-f link set lo up; ip -n s2-v link set lo up
ip link add s2-fv netns s2-f type veth peer name s2-vf netns s2-v
ip -n s2-f addr add 10.65.0.1/24 dev s2-fv
ip -n s2-v addr add 10.65.0.2/24 dev s2-vf
ip -n s2-f -6 addr add fd65::1/64 dev s2-fv nodad
ip -n s2-v -6 addr add fd65::2/64 dev s2-vf nodad
ip -n s2-f link set s2-fv up; ip -n s2-v link set s2-vf up
ip -n s2-f route add 10.66.0.0/24 via 10.65.0.2
ip -n s2-f -6 route add 2001:db8:66::/48 via fd65::2
cat > "$T"/flood.py <<'PYEOF'
import os, random, socket, struct, sys, time
fam, server, port, secs = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
req = struct.pack('>HHI', 1, 0, 0x2112A442) + os.urandom(12)  # minimal Binding request
socks = []
for i in range(1, 255):
    if fam == '4':
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_IP, 19, 1)  # IP_TRANSPARENT: any source
        s.bind(('10.66.0.%d' % i, 40000 + i))
    else:
        s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        s.setsockopt(socket.IPPROTO_IPV6, 75, 1)  # IPV6_TRANSPARENT
        s.bind(('2001:db8:66:0:%x:%x:%x:%x' % tuple(random.getrandbits(16) for _ in range(4)), 40000 + i))
    s.setblocking(False)
    socks.append(s)
def rx():
    with open('/sys/class/net/s2-vf/statistics/rx_bytes') as f: b = int(f.read())
    with open('/sys/class/net/s2-vf/statistics/rx_packets') as f: p = int(f.read())
    return b, p
b0, p0 = rx()
t0 = time.monotonic()
sent = 0
dst = (server, port)
while time.monotonic() - t0 < secs:
    for s in socks:
        try:
            s.sendto(req, dst); sent += 1
        except BlockingIOError:
            pass
t = time.monotonic() - t0
time.sleep(0.3)  # replies still in flight
b1, p1 = rx()
t += 0.3
print('sent=%d replies=%d bytes=%d secs=%.2f bps=%d' % (sent, p1 - p0, b1 - b0, t, (b1 - b0) / t))
PYEOF
bg ip netns exec s2-f "$PUNCH" stun-server > "$T"/fl4.out 2>&1
bg ip netns exec s2-f "$PUNCH" stun-server --listen '[::]:3479' > "$T"/fl6.out 2>&1
wait_stun s2-v 10.65.0.1 3478 || true
wait_stun s2-v '[fd65::1]' 3479 || true
sleep 1 # the readiness probes' tokens refill
FS=3
flood_case() { # name family server port per-second burst
	f="$T"/fl-$2
	$V python3 "$T"/flood.py "$2" "$3" "$4" $FS > "$f" 2>&1
	set -- "$1" $(sed -n 's/sent=\([0-9]*\) replies=\([0-9]*\) bytes=\([0-9]*\) secs=\([0-9.]*\) bps=\([0-9]*\)/\1 \2 \3 \4 \5/p' "$f") "$5" "$6"
	# $2 sent $3 replies $4 bytes $5 secs $6 bytes/s $7 rate $8 burst
	if [ $# -ne 8 ]; then ko "spoofed flood from one $1: measured" "$f"; return; fi
	max=$(awk -v r="$7" -v b="$8" -v t="$5" 'BEGIN { printf "%d", (r * t + b) * 1.1 + 5 }')
	echo "       flood from one $1: $2 spoofed requests in ${5}s, victim received $3 replies, $6 B/s (bound $max replies)"
	check "spoofed flood from one $1: victim gets at most the default limit ($3 <= $max replies, $6 B/s)" \
		"$f" sh -c "[ $2 -ge $((max * 20)) ] && [ $3 -le $max ] && [ $3 -ge $(($7 * FS / 2)) ]"
}
flood_case /24 4 10.65.0.1 3478 200 200
flood_case /64 6 fd65::1 3479 20 20
stop_bg
check "spoofed flood: the drops are counted as rate limited" "$T"/fl4.out \
	sh -c "grep -q 'drop_ratelimit=[1-9]' $T/fl4.out && grep -q 'drop_ratelimit=[1-9]' $T/fl6.out"
