#!/bin/sh
# tests/systemd/run.sh [BUILD]: wg-gatewayd.service and wghealth's units
# under a real systemd.
# The build machines run no systemd as PID 1, so this boots one: Debian's
# kernel (tests/kernel/prepare.sh) under qemu (TCG) with a Debian 12 root
# (tests/systemd/prepare.sh, debootstrap) as its initramfs, systemd as
# init. The shipped units (systemd/) and BUILD's wg-gatewayd and wghealth
# are laid over that root; wgkit-test.service runs
# tests/systemd/guest.sh when the system is up and powers the guest off.
# Closing line: "systemd: N passed, N failed, N skipped"; when the kernel
# or the root cannot be prepared here, one test is counted as skipped,
# loudly. Exit: 0, 1 on a failure.
set -u
BUILD=${1:-build}
cd "$(dirname "$0")/../.." || exit 1
case $BUILD in /*) ;; *) BUILD=$PWD/$BUILD ;; esac
suite=systemd
. tests/kernel/vmlib.sh
say() { echo "$suite: $*" >&2; }
skip_all() {
	echo "SKIP systemd guest: $*"
	echo "$suite: 0 passed, 0 failed, 1 skipped"
	exit 0
}
for b in wg-gatewayd wghealth; do
	[ -x "$BUILD/$b" ] || { echo "FAIL: $BUILD/$b not built"; echo "$suite: 0 passed, 1 failed, 0 skipped"; exit 1; }
done
qemu=$(command -v qemu-system-x86_64) || skip_all "qemu-system-x86_64 not installed"
rc=0
sh tests/kernel/prepare.sh || rc=$?
[ $rc = 0 ] || skip_all "the kernel could not be prepared (tests/kernel/prepare.sh exit $rc)"
sh tests/systemd/prepare.sh || rc=$?
[ $rc = 0 ] || skip_all "the Debian root could not be prepared (tests/systemd/prepare.sh exit $rc)"
cache=tests/kernel/cache
kernel=$cache/vmlinux
[ -s "$kernel" ] || kernel=$cache/vmlinuz

stage=$(mktemp -d /tmp/wgkit-systemd.XXXXXX)
trap 'rm -rf "$stage"' EXIT INT TERM
root=$stage/root
mkdir -p "$root/usr/local/sbin" "$root/etc/systemd/system/multi-user.target.wants" \
	"$root/ktest/modules"
# Debian 12's root is merged (/lib is a symlink to usr/lib): a file is laid
# under /usr, or the overlay's /lib directory would replace that symlink.
put() {
	case $2 in /lib/* | /lib64/* | /bin/* | /sbin/*) set -- "$1" "/usr$2" ;; esac
	mkdir -p "$root$(dirname "$2")" && cp -L "$1" "$root$2"
}
for b in wg-gatewayd wghealth; do
	cp "$BUILD/$b" "$root/usr/local/sbin/$b"
	# Its libraries as this machine has them (the root is the same release).
	vm_libs "$BUILD/$b" | while read -r lib; do put "$lib" "$lib"; done
done
cp systemd/wg-gatewayd.service systemd/wghealth.service systemd/wghealth@.service \
	systemd/wghealth@.timer "$root/etc/systemd/system/"
cp "$cache/modules/"*.ko "$cache/modules/order" "$root/ktest/modules/"
cp tests/systemd/guest.sh "$root/ktest/guest.sh"
cp tests/lib.sh "$root/ktest/lib.sh"
cat >"$root/etc/systemd/system/wgkit-test.service" <<'UNIT'
[Unit]
Description=wgkit: wg-gatewayd.service under systemd (tests/systemd)
After=basic.target systemd-journald.service
[Service]
Type=oneshot
ExecStart=/bin/sh /ktest/guest.sh
TimeoutStartSec=400
SuccessAction=poweroff-force
FailureAction=poweroff-force
UNIT
ln -s ../wgkit-test.service "$root/etc/systemd/system/multi-user.target.wants/wgkit-test.service"
(cd "$root" && find . | cpio -o -H newc -R 0:0 --quiet) >"$stage/overlay.cpio"
# Two archives back to back: the kernel unpacks both, the second over the
# first; the second must start at a multiple of 4 bytes (zeros between).
gz=$cache/systemd/root.cpio.gz
pad=$(((4 - $(wc -c <"$gz") % 4) % 4))
{ cat "$gz"; head -c "$pad" /dev/zero; cat "$stage/overlay.cpio"; } >"$stage/initrd"

log=$BUILD/tests/systemd-serial.log
mkdir -p "$(dirname "$log")"
say "booting Debian 12 with systemd ($(cat "$cache/kver")); about two minutes under TCG"
start=$(date +%s)
qrc=0
"$qemu" -accel tcg,thread=multi -cpu max -m 2048 -smp 2 \
	-nodefaults -no-reboot -display none -serial stdio -kernel "$kernel" -initrd "$stage/initrd" \
	-append "console=ttyS0 panic=-1 rdinit=/sbin/init ${SYSTEMD_APPEND:-quiet systemd.show_status=0}" \
	</dev/null >"$log" 2>&1 &
qpid=$!
# Until qemu exits (the guest powers off after its last line), at most
# SYSTEMD_TIMEOUT seconds; 30 s after "KTEST done", or at once after a
# panic or a broken initramfs, it is stopped.
limit=$((start + ${SYSTEMD_TIMEOUT:-600}))
while kill -0 $qpid 2>/dev/null; do
	now=$(date +%s)
	if [ "$now" -ge "$limit" ]; then
		qrc=124
		break
	fi
	if grep -aq 'Kernel panic\|Initramfs unpacking failed' "$log"; then
		qrc=125
		break
	fi
	if grep -aq '^KTEST done' "$log" && [ "$limit" -gt $((now + 30)) ]; then
		limit=$((now + 30))
	fi
	sleep 1
done
kill $qpid 2>/dev/null
wait $qpid 2>/dev/null
elapsed=$(($(date +%s) - start))
vm_verdict "$suite" "$elapsed" "$qrc" "$log" text && vrc=0 || vrc=$?
if [ "$vrc" != 0 ]; then
	say "last lines of the serial log:"
	tr -d '\r' <"$log" | tail -n 30 | sed 's/^/  | /' >&2
fi
exit "$vrc"
