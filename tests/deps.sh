#!/bin/sh
# Install the Debian packages wgkit's build, tests and demo need; skip what is
# present. Run as root on Debian 12 (make deps, make check and make demo call it).
set -eu
PKGS="build-essential pkg-config libmnl-dev libsodium-dev liburing-dev libcurl4-openssl-dev
libsqlite3-dev libcmocka-dev clang clang-format iproute2 nftables iputils-ping wireguard-tools wireguard-go
qemu-system-x86 busybox-static cpio xz-utils kmod debootstrap fping coturn sqlite3 valgrind curl python3
systemd strace
postgresql libpq-dev libmicrohttpd-dev bird2
gcc-mingw-w64-x86-64 binutils-mingw-w64-x86-64 wine64 dpkg-dev autoconf automake libtool"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "deps: missing Debian packages:$missing (run as root, or install them)" >&2
	exit 1
fi
echo "deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# --no-install-recommends: wireguard-tools would otherwise pull in a kernel image.
apt-get install -y -qq --no-install-recommends $missing >/dev/null
