# Sourced by tests/stun/run.sh: a probe run ending with ICMP echo requests
# parked by io_uring behind a full socket buffer. In s2-i a tbf qdisc sends
# a first burst and then next to nothing, so what the prober sends to
# 10.96.0.2 (a static neighbour on a veth) stays queued. Ping sockets
# (net.ipv4.ping_group_range) and no CAP_NET_ADMIN (the tool drops it):
# the socket buffer is capped by net.core.wmem_max, as for an unprivileged
# prober, and the later requests park (a raw socket fails them with ENOBUFS
# instead). tests/tools/probe_inflight runs enough probes to overflow it
# (100 ms timeout), overwrites the freed heap, deletes the qdisc so the
# buffer drains and parked sends would wake, and counts echo requests that
# leave after the run returned ("late") or are not ours ("garbage"). Plain
# and under ASan when build-asan has the tool.
PINF=$BUILD/tests/tools/probe_inflight
wmax=$(cat /proc/sys/net/core/wmem_max 2>/dev/null || echo 0)
# A ping skb holds ~830 bytes of the buffer (measured); the buffer is twice
# wmem_max; 400 per request leaves a margin of 2x.
pn=$((wmax * 2 / 400 + 2000))
if [ ! -x "$PINF" ]; then
	sk "probe run ends with echo requests parked" "$PINF missing (make tests)"
elif ! command -v tc >/dev/null 2>&1; then
	sk "probe run ends with echo requests parked" "tc not installed"
elif [ "$wmax" -le 0 ] || [ "$pn" -gt 400000 ]; then
	sk "probe run ends with echo requests parked" "net.core.wmem_max=$wmax: too large a buffer to fill"
else
	ip netns add s2-i
	ip -n s2-i link set lo up
	ip -n s2-i link add s2-i0 type veth peer name s2-i1
	ip -n s2-i addr add 10.96.0.1/24 dev s2-i0
	ip -n s2-i link set s2-i0 up; ip -n s2-i link set s2-i1 up
	ip -n s2-i neigh add 10.96.0.2 lladdr 02:00:00:00:00:02 dev s2-i0 nud permanent
	ip netns exec s2-i sysctl -qw net.ipv4.ping_group_range="0 0"
	pinf_case() { # name tool
		ip netns exec s2-i tc qdisc replace dev s2-i0 root tbf rate 8bit burst 1600 limit 100mb
		ASAN_OPTIONS=max_free_fill_size=1048576:free_fill_byte=190 \
			ip netns exec s2-i "$2" s2-i0 10.96.0.2 "$pn" > "$T"/pinf-$1 2>&1
		check "probe run ends with echo requests parked: none sent after it returned, none from freed memory ($1)" \
			"$T"/pinf-$1 grep -q 'parked=[1-9][0-9]* .* late=0 garbage=0 ' "$T"/pinf-$1
	}
	pinf_case plain "$PINF"
	if [ -x build-asan/tests/tools/probe_inflight ]; then
		pinf_case asan build-asan/tests/tools/probe_inflight
	else
		sk "probe run ends with parked sends under ASan" "build-asan/tests/tools/probe_inflight missing (make check-asan)"
	fi
	ip netns del s2-i
fi
