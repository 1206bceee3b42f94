#!/bin/sh
# make demo: a small WireGuard gateway with two peers, each in its own network
# namespace, configured only with wgctl. In-kernel WireGuard when the running
# kernel has it, wireguard-go (through the UAPI socket) otherwise.
# Everything lives in namespaces named dm-*, and is torn down at the end.
set -eu
BUILD=${1:-build}
cd "$(dirname "$0")/.."
case $BUILD in /*) ;; *) BUILD=$PWD/$BUILD ;; esac
WGCTL=$BUILD/wgctl
TMP=$(mktemp -d /tmp/wgkit-demo.XXXXXX)
chmod 700 "$TMP"
PIDS=""
NODES="gw alice bob"

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }
in_ns() { ns=$1; shift; ip netns exec "dm-$ns" "$@"; }

cleanup() {
	set +e
	for n in $NODES; do
		ip netns exec "dm-$n" "$WGCTL" down "$TMP/dm$n.conf" >/dev/null 2>&1
	done
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	sleep 0.2
	for n in $NODES; do
		ip netns del "dm-$n" 2>/dev/null
		rm -f "/var/run/wireguard/dm$n.sock"
	done
	rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

if [ "$(id -u)" != 0 ]; then
	echo "demo: needs root (network namespaces)" >&2
	exit 1
fi
[ -x "$WGCTL" ] || { echo "demo: $WGCTL missing: run make" >&2; exit 1; }

say "1. Three hosts: a gateway and two peers, joined by veth links"
for n in $NODES; do
	ip netns del "dm-$n" 2>/dev/null || true
	ip netns add "dm-$n"
	in_ns "$n" ip link set lo up
done
# Underlay, inside the namespaces only: alice 198.18.1.0/24, bob 198.18.2.0/24.
i=1
for n in alice bob; do
	ip link add "dm-gw-$n" netns dm-gw type veth peer name "dm-$n" netns "dm-$n"
	in_ns gw ip addr add "198.18.$i.1/24" dev "dm-gw-$n"
	in_ns gw ip link set "dm-gw-$n" up
	in_ns "$n" ip addr add "198.18.$i.2/24" dev "dm-$n"
	in_ns "$n" ip link set "dm-$n" up
	i=$((i + 1))
done
in_ns gw sysctl -qw net.ipv4.ip_forward=1
echo "gw: 198.18.1.1 (to alice), 198.18.2.1 (to bob); alice: 198.18.1.2; bob: 198.18.2.2"

say "2. Keys, made by wgctl (private key files are 0600)"
for n in $NODES; do
	(umask 077; "$WGCTL" genkey > "$TMP/$n.key")
	"$WGCTL" pubkey < "$TMP/$n.key" > "$TMP/$n.pub"
	printf '%-6s public key %s\n' "$n" "$(cat "$TMP/$n.pub")"
done

say "3. Which WireGuard?"
if in_ns gw ip link add dmprobe type wireguard 2>/dev/null; then
	in_ns gw ip link del dmprobe
	MODE=kernel
	echo "The running kernel has WireGuard: in-kernel devices over generic netlink."
else
	MODE=userspace
	command -v wireguard-go >/dev/null || { echo "demo: neither kernel WireGuard nor wireguard-go" >&2; exit 1; }
	echo "This kernel has no WireGuard module: wireguard-go, driven over its UAPI socket."
	for n in $NODES; do
		ip netns exec "dm-$n" setsid wireguard-go -f "dm$n" >"$TMP/wg-go-$n.log" 2>&1 &
		PIDS="$PIDS $!"
	done
	for n in $NODES; do
		t=0
		while [ ! -S "/var/run/wireguard/dm$n.sock" ] && [ $t -lt 50 ]; do sleep 0.1; t=$((t + 1)); done
	done
fi
UP="up"
[ "$MODE" = userspace ] && UP="up --userspace"

say "4. wg-quick configs, brought up with wgctl up"
umask 077
cat > "$TMP/dmgw.conf" <<EOF
[Interface]
Address = 10.99.0.1/24
ListenPort = 51820
PrivateKey = $(cat "$TMP/gw.key")

[Peer]
# alice
PublicKey = $(cat "$TMP/alice.pub")
AllowedIPs = 10.99.0.2/32

[Peer]
# bob
PublicKey = $(cat "$TMP/bob.pub")
AllowedIPs = 10.99.0.3/32
EOF
i=1
for n in alice bob; do
	cat > "$TMP/dm$n.conf" <<EOF
[Interface]
Address = 10.99.0.$((i + 1))/24
PrivateKey = $(cat "$TMP/$n.key")

[Peer]
# the gateway
PublicKey = $(cat "$TMP/gw.pub")
AllowedIPs = 10.99.0.0/24
Endpoint = 198.18.$i.1:51820
PersistentKeepalive = 25
EOF
	i=$((i + 1))
done
for n in $NODES; do
	# shellcheck disable=SC2086
	run ip netns exec "dm-$n" "$WGCTL" $UP "$TMP/dm$n.conf"
done

say "5. Ping through both tunnels"
run in_ns alice ping -c 2 -W 2 10.99.0.1
run in_ns bob ping -c 2 -W 2 10.99.0.1
echo "and alice to bob, through the gateway:"
run in_ns alice ping -c 2 -W 2 10.99.0.3

say "6. What the gateway sees (wgctl show: for people)"
run in_ns gw "$WGCTL" show dmgw

say "7. The same for scripts (wgctl show --json; private keys hidden)"
in_ns gw "$WGCTL" show dmgw --json | python3 -m json.tool | head -40

say "8. Tear down (wgctl down empties the peer set, then deletes the link)"
for n in $NODES; do
	run ip netns exec "dm-$n" "$WGCTL" down "$TMP/dm$n.conf"
done
echo
echo "demo: done ($MODE WireGuard): gateway + 2 peers up, pinged, torn down"

# Part 2: anycast gateway nodes (wg-gatewayd, bird2), in its own namespaces.
cleanup
trap - EXIT INT TERM
exec sh tests/demo-gateway.sh "$BUILD"
