# tests/gen_config.sh: random WireGuard configs for the sync tests, sourced by
# tests/uapi/sync.sh (host, wireguard-go) and tests/kernel/guest/test_sync.sh
# (busybox in the qemu guest; tests/kernel/vm.sh copies this file to /ktest/).
#
# gen_config SEED POOL PREFIX PORT PRIV1 PRIV2 PSK1 PSK2: a random desired state
# on stdout. Each of the POOL peer keys (PREFIX, the index zero-padded, "A=":
# 44 characters) is present with probability 0.75; its allowed IPs come from
# its own ranges (no two peers share one) in one of three variants, sometimes
# with an IPv6 prefix or a /31 too, sometimes none; every third peer always has
# an endpoint in TEST-NET-1 (an endpoint cannot be unset, so a peer that had
# one keeps one; nothing routes there, nothing leaves), drawn from a few;
# keepalive and preshared key come and go; the private key (PRIV1 or PRIV2),
# the port (PORT..PORT+2) and the fwmark change.
#
# The generator is its own (Park-Miller, exact in the doubles every awk
# uses), not awk's rand(): gawk, mawk and busybox awk draw different numbers
# from the same srand(), and the same seed must give the same file on the
# host and in the guest.
gen_config() {
	awk -v seed="$1" -v pool="$2" -v prefix="$3" -v port="$4" -v k1="$5" -v k2="$6" \
		-v s1="$7" -v s2="$8" '
	function rnd() { st = (st * 48271) % 2147483647; return st / 2147483647 }
	BEGIN {
		st = seed % 2147483646 + 1
		for (w = 0; w < 8; w++) rnd()
		kfmt = prefix "%0" (42 - length(prefix)) "dA="
		printf "[Interface]\nPrivateKey = %s\n", rnd() < 0.5 ? k1 : k2
		printf "ListenPort = %d\n", port + int(rnd() * 3)
		if (rnd() < 0.5) printf "FwMark = 0x%x\n", 1 + int(rnd() * 3)
		for (i = 1; i <= pool; i++) {
			if (rnd() >= 0.75) continue
			printf "\n[Peer]\nPublicKey = " kfmt "\n", i
			v = int(rnd() * 3)
			a = sprintf("10.%d.%d.%d/32", 100 + v, int(i / 256), i % 256)
			r = rnd()
			if (r < 0.3) a = a sprintf(", fd%02x::%x/128", v + 1, i)
			else if (r < 0.4) a = a sprintf(", 172.%d.%d.%d/31", 16 + v, int(i / 128), (i % 128) * 2)
			else if (r < 0.45) a = ""
			if (a != "") printf "AllowedIPs = %s\n", a
			if (i % 3 == 0) printf "Endpoint = 192.0.2.%d:%d\n", 1 + int(rnd() * 3), 10000 + i
			if (rnd() < 0.2) printf "PersistentKeepalive = %d\n", 20 + int(rnd() * 2)
			r = rnd()
			if (r < 0.1) printf "PresharedKey = %s\n", s1
			else if (r < 0.15) printf "PresharedKey = %s\n", s2
		}
	}'
}
