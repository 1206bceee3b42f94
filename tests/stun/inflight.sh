# Sourced by tests/stun/run.sh: a STUN query returning while some of its
# sends are parked by io_uring behind a full socket buffer must not leave
# them reading its freed buffers. In s2-d a slow tbf qdisc holds what the
# client sends to 10.97.0.2 (a static neighbour on a veth), so the socket
# buffer fills; tests/tools/stun_inflight queries 400 ports at once (one
# try, 50 ms), overwrites the freed heap, keeps the ring turning while the
# qdisc drains, and counts captured requests that are not Binding
# requests. Run under ASan too when build-asan has the tool (its free fill
# overwrites the freed buffers instead).
INF=$BUILD/tests/tools/stun_inflight
if [ ! -x "$INF" ]; then
	sk "query returns with sends parked behind a full socket buffer" "$INF missing (make tests)"
else
	ip netns add s2-d
	ip -n s2-d link set lo up
	ip -n s2-d link add s2-d0 type veth peer name s2-d1
	ip -n s2-d addr add 10.97.0.1/24 dev s2-d0
	ip -n s2-d link set s2-d0 up; ip -n s2-d link set s2-d1 up
	ip -n s2-d neigh add 10.97.0.2 lladdr 02:00:00:00:00:02 dev s2-d0 nud permanent
	inflight_case() { # name tool
		ip netns exec s2-d tc qdisc replace dev s2-d0 root tbf rate 200kbit burst 1600 limit 1000000
		ASAN_OPTIONS=max_free_fill_size=1048576:free_fill_byte=190 \
			ip netns exec s2-d "$2" s2-d0 10.97.0.2 20000 400 > "$T"/inf-$1 2>&1
		check "query returns with sends parked behind a full socket buffer: none sent from freed memory ($1)" \
			"$T"/inf-$1 grep -q 'sent=[1-9][0-9]* garbage=0 ' "$T"/inf-$1
	}
	inflight_case plain "$INF"
	if [ -x build-asan/tests/tools/stun_inflight ]; then
		inflight_case asan build-asan/tests/tools/stun_inflight
	else
		sk "parked sends under ASan" "build-asan/tests/tools/stun_inflight missing (make check-asan)"
	fi
	ip netns del s2-d
fi
