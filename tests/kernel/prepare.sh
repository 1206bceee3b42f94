#!/bin/sh
# Prepare what tests/kernel/vm.sh boots: Debian's current kernel (the package
# linux-image-amd64 depends on) as an uncompressed PVH vmlinux, plus
# wireguard.ko, its dependencies and veth.ko, and the order to insmod them.
#
# Usage: tests/kernel/prepare.sh [--force]
# Output (tests/kernel/cache/, reused while the kernel package is current):
#   vmlinux            ELF with a PVH note (qemu -kernel boots it directly);
#                      vmlinuz (the bzImage) instead if the payload cannot be
#                      extracted
#   modules/*.ko       decompressed modules
#   modules/order      module file names, dependencies first
#   kver               the kernel release, e.g. 6.1.0-56-amd64
#   ready              the package the cache was built from (written last)
# A cache for an older package is kept and used when the current one cannot
# be downloaded (offline machine). Exit: 0 ready, 77 cannot prepare here
# (no apt, no archive, ...), 1 unexpected failure. Messages go to stderr.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
cache="$here/cache"
force=0
[ "${1:-}" = "--force" ] && force=1

say() { echo "kernel-prepare: $*" >&2; }

have_cache() {
	[ -s "$cache/ready" ] && { [ -s "$cache/vmlinux" ] || [ -s "$cache/vmlinuz" ]; } &&
		[ -s "$cache/modules/order" ]
}
# Could not build a new cache: an older complete one still tests the kernel.
unavailable() {
	if have_cache && [ "$force" = 0 ]; then
		say "$* -- using the cached $(cat "$cache/ready") instead"
		exit 0
	fi
	say "SKIP: $*"
	exit 77
}
die() { say "FAIL: $*"; exit 1; }

for t in apt-cache apt-get dpkg-deb xz modinfo awk; do
	command -v "$t" >/dev/null 2>&1 || unavailable "'$t' not found (tests/deps.sh installs it)"
done

mkdir -p "$cache"
# One preparer at a time; a second run waits and then finds the cache ready.
if command -v flock >/dev/null 2>&1; then
	exec 9>"$cache/.lock"
	flock 9
fi

# The kernel package that the metapackage currently points at.
find_pkg() {
	apt-cache depends linux-image-amd64 2>/dev/null |
		sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*-amd64\)$/\1/p' | head -n 1
}
updated=0
apt_update() {
	[ "$updated" = 0 ] && [ "$(id -u)" = 0 ] || return 1
	updated=1
	say "running apt-get update"
	apt-get update -qq >/dev/null 2>&1
}
pkg=$(find_pkg)
if [ -z "$pkg" ]; then
	apt_update || unavailable "apt-cache knows no linux-image-amd64 (and cannot apt-get update)"
	pkg=$(find_pkg)
	[ -n "$pkg" ] || unavailable "cannot find the package linux-image-amd64 depends on"
fi

if [ "$force" = 0 ] && have_cache && [ "$(cat "$cache/ready")" = "$pkg" ]; then
	exit 0
fi

say "preparing $pkg in $cache"
work="$cache/work"
new="$cache/new"
rm -rf "$work" "$new"
mkdir -p "$work" "$new/modules"
trap 'rm -rf "$work" "$new"' EXIT

# apt-get download writes into the current directory (as root it warns that
# the _apt user cannot write there: harmless). Stale package lists name a
# version the archive no longer has: update once and retry.
download() { (cd "$work" && apt-get download "$pkg" >/dev/null 2>"$work/apt.err"); }
if ! download; then
	if apt_update; then
		pkg=$(find_pkg)
		[ -n "$pkg" ] || unavailable "cannot find the package linux-image-amd64 depends on"
	fi
	download || { sed 's/^/  /' "$work/apt.err" >&2; unavailable "apt-get download $pkg failed"; }
fi
deb=$(ls "$work"/*.deb 2>/dev/null | head -n 1)
[ -n "$deb" ] || unavailable "apt-get download $pkg produced no .deb"
dpkg-deb -x "$deb" "$work/x" || die "dpkg-deb -x $deb failed"
rm -f "$deb"

kdir=$(ls -d "$work/x/lib/modules"/*/ 2>/dev/null | head -n 1)
[ -n "$kdir" ] || die "no lib/modules/<release> in $pkg"
kdir=${kdir%/}
kver=$(basename "$kdir")
vmlinuz="$work/x/boot/vmlinuz-$kver"
[ -f "$vmlinuz" ] || die "no boot/vmlinuz-$kver in $pkg"

# The bzImage carries the kernel as an XZ stream after the setup code; the
# decompressed ELF has a PVH entry note, so qemu skips SeaBIOS and the
# in-kernel decompressor (about half the boot time under TCG). Fall back to
# the bzImage if anything about this fails.
off=$(LC_ALL=C grep -obUaP '\xfd7zXZ\x00' "$vmlinuz" 2>/dev/null | head -n 1 | cut -d: -f1 || true)
if [ -n "$off" ] &&
	tail -c +"$((off + 1))" "$vmlinuz" | xz -dc --single-stream >"$work/vmlinux" 2>/dev/null &&
	[ "$(head -c 4 "$work/vmlinux" | od -An -c | tr -d ' ')" = '177ELF' ]; then
	mv "$work/vmlinux" "$new/vmlinux"
else
	say "could not extract an ELF vmlinux from the bzImage; booting vmlinuz (slower)"
	cp "$vmlinuz" "$new/vmlinuz"
fi

# Modules: wireguard and veth with their dependencies (modinfo's "depends"),
# dependencies first. Names compare with '-' and '_' as equal, as the
# kernel does. A map "name path" of every module in the package, built once:
find "$kdir" \( -name '*.ko' -o -name '*.ko.xz' -o -name '*.ko.zst' -o -name '*.ko.gz' \) |
	awk '{ n = $0; sub(/.*\//, "", n); sub(/\.ko.*$/, "", n); gsub(/-/, "_", n); print n, $0 }' \
	>"$work/map"
# Decompressed into modules/: busybox insmod in the guest wants plain ELF.
fetch() {
	local p b out
	p=$1; b=$(basename "$p"); out="$new/modules/${b%%.ko*}.ko"
	case "$p" in
	*.ko) cp "$p" "$out" ;;
	*.ko.xz) xz -dc "$p" >"$out" ;;
	*.ko.gz) gzip -dc "$p" >"$out" ;;
	*.ko.zst) zstd -qdc "$p" >"$out" ;;
	esac
	echo "$out"
}
: >"$work/seen"
: >"$new/modules/order"
# Depth first: a module is appended after all of its dependencies.
add() {
	local n p f d
	n=$(echo "$1" | tr - _)
	grep -qx "$n" "$work/seen" && return 0
	echo "$n" >>"$work/seen"
	p=$(awk -v n="$n" '$1 == n { print $2; exit }' "$work/map")
	[ -n "$p" ] || die "module $1 not found in $pkg"
	f=$(fetch "$p") || die "cannot decompress $p"
	for d in $(modinfo -F depends "$f" | tr , ' '); do add "$d"; done
	basename "$f" >>"$new/modules/order"
}
add wireguard
add veth
echo "$kver" >"$new/kver"

# Swap the new cache in; "ready" last, so an interrupted run leaves none.
rm -rf "$cache/ready" "$cache/modules" "$cache/vmlinux" "$cache/vmlinuz" "$cache/kver"
mv "$new/modules" "$cache/modules"
for f in vmlinux vmlinuz kver; do
	[ -e "$new/$f" ] && mv "$new/$f" "$cache/$f"
done
echo "$pkg" >"$cache/ready"
say "ready: $kver, modules: $(tr '\n' ' ' <"$cache/modules/order")"
