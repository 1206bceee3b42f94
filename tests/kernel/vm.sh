#!/bin/sh
# Boot Debian's kernel under qemu (TCG) with a throw-away initramfs and run
# GUEST_SCRIPT in it; the verdict comes from the result lines the guest prints
# on the serial console:
#   KTEST ok NAME | KTEST fail NAME REASON | KTEST skip NAME REASON | KTEST done
#
# Usage: tests/kernel/vm.sh GUEST_SCRIPT [BINARY...]
#   GUEST_SCRIPT  run as /ktest/main.sh by busybox sh; tests/kernel/guest/*.sh
#                 (lib.sh and the tests) are packed next to it in /ktest/.
#   BINARY        host programs copied to /ktest/bin/ (first in PATH), with
#                 every library ldd lists for them, at the same paths.
# Environment:
#   KTEST_SUITE    name in the closing line (default "kernel-vm")
#   KTEST_LOG      serial log (default tests/kernel/cache/serial.log)
#   KTEST_TIMEOUT  seconds before the VM is killed (default 480)
#   KTEST_FILTER   space-separated test script names (test_foo) the guest runs
#   KTEST_VERBOSE  1: copy the whole serial output to stderr as it arrives
#   KTEST_APPEND   more kernel arguments (the guest benches: idle=poll, bench/lib.sh)
# Prints one line per result and "<suite>: N passed, N failed, N skipped".
# Exit: 0 no failure, 1 a failure (including a VM that did not finish),
#       77 the kernel or qemu cannot be prepared here (counted as skipped).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
. "$here/vmlib.sh"
cache="$here/cache"
suite=${KTEST_SUITE:-kernel-vm}
log=${KTEST_LOG:-$cache/serial.log}
vm_timeout=${KTEST_TIMEOUT:-480}

say() { echo "$suite: $*" >&2; }
skip_all() {
	say "SKIP: $*"
	echo "SKIP vm: $*"
	echo "$suite: 0 passed, 0 failed, 1 skipped"
	exit 77
}

[ $# -ge 1 ] || { echo "usage: $0 GUEST_SCRIPT [BINARY...]" >&2; exit 2; }
guest_script=$1; shift
[ -f "$guest_script" ] || { say "no guest script '$guest_script'"; exit 2; }

qemu=$(command -v qemu-system-x86_64 || true)
[ -n "$qemu" ] || skip_all "qemu-system-x86_64 not found (tests/deps.sh installs qemu-system-x86)"
command -v cpio >/dev/null 2>&1 || skip_all "cpio not found (tests/deps.sh installs it)"
busybox=""
for b in /bin/busybox /usr/bin/busybox; do
	# A dynamic busybox would need its libraries too; insist on the static one.
	if [ -x "$b" ] && ! ldd "$b" >/dev/null 2>&1; then busybox=$b; break; fi
done
[ -n "$busybox" ] || skip_all "no static busybox (tests/deps.sh installs busybox-static)"
iproute=""
for b in /usr/sbin/ip /sbin/ip /usr/bin/ip /bin/ip; do
	[ -x "$b" ] && ! cmp -s "$b" "$busybox" && { iproute=$b; break; }
done
[ -n "$iproute" ] || skip_all "iproute2 'ip' not found"
wgtool=$(command -v wg || true)

rc=0
sh "$here/prepare.sh" || rc=$?
case $rc in
0) ;;
77) skip_all "kernel could not be prepared (see kernel-prepare messages above)" ;;
*) say "FAIL: tests/kernel/prepare.sh exited $rc"
   echo "FAIL vm: prepare.sh exited $rc"
   echo "$suite: 0 passed, 1 failed, 0 skipped"
   exit 1 ;;
esac
kernel="$cache/vmlinux"
[ -s "$kernel" ] || kernel="$cache/vmlinuz"

stage=$(mktemp -d /tmp/ktest-initrd.XXXXXX)
trap 'rm -rf "$stage"' EXIT INT TERM
root="$stage/root"
mkdir -p "$root"/bin "$root"/dev "$root"/proc "$root"/sys "$root"/tmp "$root"/run \
	"$root"/etc "$root"/ktest/bin "$root"/ktest/modules "$root"/var

# Copy a host file to the same path in the guest, contents dereferenced.
put() {
	mkdir -p "$root$(dirname "$2")"
	cp -L "$1" "$root$2"
}
# A dynamically linked program needs its loader and libraries at the paths
# ldd names (vmlib.sh).
put_libs() {
	vm_libs "$1" | while read -r lib; do
		[ -e "$root$lib" ] || put "$lib" "$lib"
	done
}

cp "$busybox" "$root/bin/busybox"
# Every applet as a symlink, except "busybox" itself. iproute2's ip sits in
# /usr/sbin, ahead of /bin in PATH, for programs that exec "ip".
for a in $("$busybox" --list); do
	[ "$a" = busybox ] || ln -s busybox "$root/bin/$a"
done
put "$iproute" /usr/sbin/ip
put_libs "$iproute"
if [ -n "$wgtool" ]; then
	put "$wgtool" /usr/bin/wg
	put_libs "$wgtool"
fi
for b in "$@"; do
	[ -f "$b" ] && [ -x "$b" ] || { say "not an executable: '$b'"; exit 2; }
	cp -L "$b" "$root/ktest/bin/$(basename "$b")"
	put_libs "$b"
done
cp "$cache/modules/"*.ko "$cache/modules/order" "$root/ktest/modules/"
for f in "$here"/guest/*.sh; do
	[ -e "$f" ] && cp "$f" "$root/ktest/"
done
# The random-config generator tests/uapi/sync.sh shares with the guest.
cp "$here/../gen_config.sh" "$root/ktest/"
cp "$guest_script" "$root/ktest/main.sh"
echo "${KTEST_FILTER:-}" >"$root/ktest/filter"
echo "root:x:0:0:root:/root:/bin/sh" >"$root/etc/passwd"
echo "root:x:0:" >"$root/etc/group"
# The kernel opens /dev/console for init before anything is mounted.
mknod "$root/dev/console" c 5 1 2>/dev/null || true
mknod "$root/dev/null" c 1 3 2>/dev/null || true

cat >"$root/init" <<'INIT'
#!/bin/sh
mount -t devtmpfs devtmpfs /dev 2>/dev/null
exec </dev/console >/dev/console 2>&1
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run
mkdir -p /run/netns /var/run
export PATH=/ktest/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/tmp WG_COLOR_MODE=never TERM=dumb
ip link set lo up 2>/dev/null
echo "KTEST info kernel $(uname -r)"
ok=1
while read -r m; do
	if ! out=$(insmod "/ktest/modules/$m" 2>&1); then
		echo "KTEST fail kernel-setup insmod $m: $out"
		ok=0
		break
	fi
done </ktest/modules/order
[ $ok = 1 ] && sh /ktest/main.sh
echo "KTEST done"
sync
poweroff -f
INIT
chmod 755 "$root/init"

initrd="$stage/initrd.cpio"
(cd "$root" && find . | cpio -o -H newc -R 0:0 --quiet >"$initrd")
say "initramfs $(($(wc -c <"$initrd") / 1024)) KiB, booting $(cat "$cache/kver") ($(basename "$kernel")), timeout ${vm_timeout}s"

append="console=ttyS0 quiet panic=-1${KTEST_APPEND:+ $KTEST_APPEND}"
mkdir -p "$(dirname "$log")"
: >"$log"
start=$(date +%s)
qrc=0
if [ "${KTEST_VERBOSE:-0}" = 1 ]; then
	timeout -k 10 "$vm_timeout" "$qemu" -accel tcg,thread=multi -cpu max -m 1024 -smp 2 \
		-nodefaults -no-reboot -display none -serial stdio \
		-kernel "$kernel" -initrd "$initrd" \
		-append "$append" </dev/null 2>&1 | tee "$log" >&2 || qrc=$?
else
	timeout -k 10 "$vm_timeout" "$qemu" -accel tcg,thread=multi -cpu max -m 1024 -smp 2 \
		-nodefaults -no-reboot -display none -serial stdio \
		-kernel "$kernel" -initrd "$initrd" \
		-append "$append" </dev/null >"$log" 2>&1 || qrc=$?
fi
# With -serial stdio and the pipe above, qrc is tee's status in verbose mode;
# the KTEST done line is what counts.
elapsed=$(($(date +%s) - start))

# The verdict (vmlib.sh): only whole KTEST lines count.
vm_verdict "$suite" "$elapsed" "$qrc" "$log" && vrc=0 || vrc=$?
if [ "$vrc" != 0 ] && ! tr -d '\r' <"$log" | grep -q '^KTEST done'; then
	say "last lines of the serial log:"
	tr -d '\r' <"$log" | tail -n 25 | sed 's/^/  | /' >&2
fi
exit "$vrc"
