#!/bin/sh
# Guest side of the generic netlink checks, run by tests/kernel/vm.sh:
#   tests/kernel/vm.sh tests/tools/genl_guest.sh \
#       build/tests/tools/genl_record build/tests/tools/genl_bench
# 1. Records a dump of a small device (fixed keys; one peer with 300 allowed
#    IPs so the kernel splits it across messages) between GENLREC markers,
#    for tests/unit/genl_fixtures.c.
# 2. Runs genl_bench on GENL_PEERS (default 10000) peers.
# Nothing here sends a packet: the links stay down and the guest has no NIC.
peers=${GENL_PEERS:-10000}
[ -f /ktest/genl_peers ] && peers=$(cat /ktest/genl_peers)
ip=/usr/sbin/ip

$ip link add wgrec type wireguard || { echo "KTEST fail genl-record cannot create wgrec"; exit 0; }
umask 077
cat >/tmp/wgrec.conf <<CONF
[Interface]
PrivateKey = kCT0X3gKmbf8/pTIqoZ+lormS70lpulyGfUdmogDEE8=
ListenPort = 51820
FwMark = 0x1234

[Peer]
PublicKey = AvN7qNulXxdku7bdEQPRotCUvloq8GRoZ++RSc5trUw=
PresharedKey = CtBort4qWYqpr9PeVi4IPOt9zbQ8AIhAQVqoHyDp6jI=
Endpoint = 192.0.2.1:51821
PersistentKeepalive = 25
AllowedIPs = 10.0.0.1/32, fd00::1/128

[Peer]
PublicKey = YZPMFVwWn3bwRzjAcSJcwBNBn0hcCHciFeKtaqCn90E=
Endpoint = [2001:db8::1]:51822

[Peer]
PublicKey = 06TL5EXfClYabZA5jSPvEfsut2X1BQutM0KmUsUf6HA=
AllowedIPs = 10.2.0.0/16
CONF
wg setconf wgrec /tmp/wgrec.conf || echo "KTEST fail genl-record wg setconf failed"
list=""
for i in $(seq 0 299); do
	list="$list${list:+,}10.1.$((i / 256)).$((i % 256))/32"
done
wg set wgrec peer YZPMFVwWn3bwRzjAcSJcwBNBn0hcCHciFeKtaqCn90E= allowed-ips "$list"
echo "GENLREC-BEGIN"
if genl_record wgrec >/tmp/rec.c; then
	sed 's/^/GENLREC /' /tmp/rec.c
	echo "GENLREC-END"
	echo "KTEST ok genl-record"
else
	echo "KTEST fail genl-record genl_record failed"
fi
wg show wgrec dump | head -n 3 | cut -c1-120 | sed 's/^/KTEST info wgrec: /'
$ip link del wgrec

$ip link add wgb0 type wireguard || { echo "KTEST fail genl-bench cannot create wgb0"; exit 0; }
genl_bench wgb0 "$peers"
echo "KTEST info genl_bench exit $?"
