#!/bin/sh
# Prepare the Debian 12 root that tests/systemd/run.sh boots with a real
# systemd as PID 1: debootstrap (minbase, plus systemd-sysv, iproute2, kmod,
# procps, wireguard-tools, curl, libmicrohttpd12), trimmed of documentation and
# locales, packed as one gzip'd newc cpio (the guest's initramfs and root).
# The kernel and its modules are tests/kernel/prepare.sh's.
#
# Usage: tests/systemd/prepare.sh [--force]
# Output: tests/kernel/cache/systemd/root.cpio.gz and .../ready (written last:
# what the root holds, then when; the cache is kept while that is the same,
# or until --force). Exit: 0 ready, 77 cannot prepare here
# (no debootstrap, no archive), 1 unexpected failure.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
cache="$here/../kernel/cache/systemd"
say() { echo "systemd-prepare: $*" >&2; }

# What the root is made of; a cache made of something else is made again.
include=systemd-sysv,iproute2,kmod,procps,wireguard-tools,curl,libmicrohttpd12
spec="bookworm minbase $include"
fresh() { [ -s "$cache/root.cpio.gz" ] && [ "$(sed -n 1p "$cache/ready" 2>/dev/null)" = "$spec" ]; }
[ "${1:-}" != "--force" ] && fresh && exit 0
for t in debootstrap cpio gzip; do
	command -v "$t" >/dev/null 2>&1 || { say "SKIP: '$t' not found (tests/deps.sh installs it)"; exit 77; }
done
[ "$(id -u)" = 0 ] || { say "SKIP: debootstrap needs root"; exit 77; }
mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9
[ "${1:-}" != "--force" ] && fresh && exit 0

# The archive this machine installs from (no other network is used).
mirror=$(sed -n 's/^URIs: *\(http[^ ]*debian\)$/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -n 1)
[ -n "$mirror" ] || mirror=$(sed -n 's/^deb \(http[^ ]*\) bookworm .*/\1/p' /etc/apt/sources.list 2>/dev/null | head -n 1)
[ -n "$mirror" ] || mirror=http://deb.debian.org/debian

root="$cache/root.tmp"
rm -rf "$root" "$cache/ready"
say "debootstrap bookworm from $mirror (about a minute)"
if ! debootstrap --variant=minbase \
	--include="$include" \
	bookworm "$root" "$mirror" >"$cache/debootstrap.log" 2>&1; then
	tail -n 5 "$cache/debootstrap.log" >&2
	rm -rf "$root"
	say "SKIP: debootstrap failed (no archive?); log in $cache/debootstrap.log"
	exit 77
fi
# What a test boot never reads; an initramfs holds all of it in RAM.
rm -rf "$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/usr/share/locale/* \
	"$root"/usr/share/info/* "$root"/var/cache/apt/* "$root"/var/lib/apt/lists/*
# No login prompt on the console the verdict is read from; nothing to wait
# for on a network this guest does not have.
for u in getty@tty1.service serial-getty@ttyS0.service systemd-networkd-wait-online.service \
	apt-daily.timer apt-daily-upgrade.timer; do
	ln -sf /dev/null "$root/etc/systemd/system/$u"
done
echo wgkit-test >"$root/etc/hostname"
(cd "$root" && find . | cpio -o -H newc -R 0:0 --quiet | gzip -1) >"$cache/root.cpio.gz.tmp"
mv "$cache/root.cpio.gz.tmp" "$cache/root.cpio.gz"
rm -rf "$root"
printf '%s\n%s\n' "$spec" "$(date -u +%Y-%m-%dT%H:%MZ)" >"$cache/ready"
say "ready: $(($(wc -c <"$cache/root.cpio.gz") / 1048576)) MiB"
