# Sourced by tests/stun/run.sh: wghealth probe in namespace s2-p.
# 10,000 loopback targets (127.1.0.0/16 is local on lo), 10% dropped silently
# by nftables; UDP, TCP and HTTP against small local servers; HTTP probes run
# alongside the io_uring ones (a UDP responder that answers only while an
# HTTP request is in flight).
P="ip netns exec s2-p"
ip netns add s2-p 2>/dev/null
ip -n s2-p link set lo up
python3 -c "
for i in range(10000): print('127.1.%d.%d' % (i//250, i%250+1))" > "$T"/t10k
python3 -c "
print('table ip st {\n set st_drop { type ipv4_addr; elements = { ' + ', '.join('127.1.%d.%d' % (i//250, i%250+1) for i in range(0,10000,10)) + ' } }')
print(' chain input { type filter hook input priority 0;')
print('  icmp type echo-request ip daddr @st_drop drop;')
print('  tcp dport 8081 drop; udp dport 5354 drop; }\n}')" > "$T"/drop.nft

$P "$HEALTH" probe --quiet --json --file "$T"/t10k --timeout 1000 > "$T"/p1 2>&1
check "probe 10,000 ICMP targets: all reachable" "$T"/p1 grep -q '"targets":10000,"reachable":10000' "$T"/p1
enters=$(sed -n 's/.*"ring_enters":\([0-9]*\).*/\1/p' "$T"/p1)
check "probe 10,000 ICMP targets: at most 0.1 ring enters per probe (got ${enters:-?})" "$T"/p1 \
	test "${enters:-99999}" -le 1000

if [ $HAVE_NFT = 1 ]; then
	$P nft -f "$T"/drop.nft
	$P "$HEALTH" probe --json --file "$T"/t10k --timeout 400 > "$T"/p2 2>&1
	check "probe with 10% silently dropped: 9000 reachable, 1000 timeout" "$T"/p2 \
		grep -q '"targets":10000,"reachable":9000,"refused":0,"timeout":1000' "$T"/p2
	# The timeouts are exactly the dropped addresses.
	grep -o '"target":"[0-9.]*","kind":"icmp","status":"timeout"' "$T"/p2 | cut -d'"' -f4 | sort > "$T"/p2.to
	python3 -c "
for i in range(0,10000,10): print('127.1.%d.%d' % (i//250, i%250+1))" | sort > "$T"/p2.want
	check "probe timeouts are exactly the dropped targets" "$T"/p2.to cmp -s "$T"/p2.to "$T"/p2.want
	if command -v fping >/dev/null 2>&1; then
		$P fping -i 0 -r 0 -t 400 -u -f "$T"/t10k 2>/dev/null | sort > "$T"/fp.to
		check "probe verdicts match fping's" "$T"/fp.to cmp -s "$T"/p2.to "$T"/fp.to
	else
		sk "probe verdicts match fping's" "fping not installed"
	fi
else
	sk "probe with drops" "nft not installed"
fi

cat > "$T"/servers.py <<'PYEOF'
import socket, threading, http.server, sys
t = socket.socket(); t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
t.bind(('127.0.0.1', 8080)); t.listen(64)
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(('127.0.0.1', 5353))
def udp():
    while True:
        d, a = u.recvfrom(2048); u.sendto(d, a)
def tcp():
    while True:
        c, a = t.accept(); c.close()
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200); self.end_headers(); self.wfile.write(b'ok')
    def log_message(self, *a): pass
# The gate: a UDP datagram on 5356 is answered only once an HTTP request
# for /gate has arrived (waiting up to 5 s). A prober that runs HTTP after
# its io_uring probes lets the UDP probe time out; one that runs them
# together gets both answers. Verdicts, no timings.
http_seen = threading.Event()
g = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); g.bind(('127.0.0.1', 5356))
def gate_reply(d, a):
    if http_seen.wait(5):
        g.sendto(d, a)
def gate():
    while True:
        d, a = g.recvfrom(2048)
        threading.Thread(target=gate_reply, args=(d, a), daemon=True).start()
class G(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        http_seen.set()
        self.send_response(200); self.end_headers(); self.wfile.write(b'ok')
    def log_message(self, *a): pass
threading.Thread(target=udp, daemon=True).start()
threading.Thread(target=tcp, daemon=True).start()
threading.Thread(target=gate, daemon=True).start()
gs = http.server.ThreadingHTTPServer(('127.0.0.1', 8001), G)
threading.Thread(target=gs.serve_forever, daemon=True).start()
print('ready', flush=True)
http.server.ThreadingHTTPServer(('127.0.0.1', 8000), H).serve_forever()
PYEOF
bg $P python3 "$T"/servers.py > "$T"/servers.out 2>&1
i=0; while [ $i -lt 50 ] && ! grep -q ready "$T"/servers.out; do sleep 0.1; i=$((i + 1)); done
$P "$HEALTH" probe --json --timeout 400 tcp:127.0.0.1:8080 tcp:127.0.0.1:8082 tcp:127.0.0.1:8081 \
	udp:127.0.0.1:5353 udp:127.0.0.1:5355 udp:127.0.0.1:5354 http://127.0.0.1:8000/ \
	http://127.0.0.1:8082/ > "$T"/p3 2>&1
for exp in 'tcp:127.0.0.1:8080","kind":"tcp","status":"reachable' \
	   'tcp:127.0.0.1:8082","kind":"tcp","status":"refused' \
	   'tcp:127.0.0.1:8081","kind":"tcp","status":"timeout' \
	   'udp:127.0.0.1:5353","kind":"udp","status":"reachable' \
	   'udp:127.0.0.1:5355","kind":"udp","status":"refused' \
	   'udp:127.0.0.1:5354","kind":"udp","status":"timeout' \
	   'http://127.0.0.1:8000/","kind":"http","status":"reachable","rtt_us":[0-9]*,"http_code":200' \
	   'http://127.0.0.1:8082/","kind":"http","status":"refused'; do
	check "probe ${exp%%\"*} -> $(echo "$exp" | sed 's/.*status":"\([a-z]*\).*/\1/')" "$T"/p3 \
		grep -q "\"target\":\"$exp" "$T"/p3
done
# HTTP alongside ICMP and UDP: 1,000 ICMP targets, the gated UDP responder
# listed first, the HTTP request that opens the gate last.
$P nft flush ruleset 2>/dev/null
{ echo udp:127.0.0.1:5356; head -n 1000 "$T"/t10k; echo http://127.0.0.1:8001/gate; } > "$T"/mixed
$P "$HEALTH" probe --json --timeout 3000 --file "$T"/mixed > "$T"/p5 2>&1
check "HTTP runs alongside the ring: the gated UDP probe is answered" "$T"/p5 \
	grep -q '"target":"udp:127.0.0.1:5356","kind":"udp","status":"reachable"' "$T"/p5
check "mixed list: 1,000 ICMP, the UDP and the HTTP probe all reachable" "$T"/p5 \
	sh -c "grep -q '\"targets\":1002,\"reachable\":1002' $T/p5 && grep -q '\"target\":\"http://127.0.0.1:8001/gate\",\"kind\":\"http\",\"status\":\"reachable\"' $T/p5"
$P "$HEALTH" probe --interface lo --tcp 8080 127.0.0.1 > "$T"/p4 2>&1
check "probe bound to an interface (--interface lo)" "$T"/p4 grep -q '127.0.0.1 tcp reachable' "$T"/p4
stop_bg
