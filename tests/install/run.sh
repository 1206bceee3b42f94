#!/bin/sh
# make install / make uninstall into scratch directories (no root, nothing
# outside /tmp): the systemd units are installed into the unit directory
# (default and SYSTEMDUNITDIR), their ExecStart names the installed binary
# (SBINDIR), systemd-analyze verify accepts them, and uninstall leaves no
# file behind.
# Usage: tests/install/run.sh BUILD. Prints "install: N passed, N failed, N skipped".
BUILD=${1:-build}
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh
suite_init install
T=$SUITE_TMP
M="make --no-print-directory BUILD=$BUILD"
UNITS=$(cd systemd && ls *.service *.timer)
DEFDIR=$(pkg-config --variable=systemdsystemunitdir systemd 2>/dev/null || echo /lib/systemd/system)
[ -n "$DEFDIR" ] || DEFDIR=/lib/systemd/system

units_in() { # dir: every unit of systemd/ is there, 0644
	for u in $UNITS; do
		[ -f "$1/$u" ] && [ "$(stat -c %a "$1/$u")" = 644 ] || { echo "missing or not 0644: $1/$u"; return 1; }
	done
}
exec_is() { # dir sbindir: every ExecStart names SBINDIR/wg*
	grep -h '^ExecStart=' "$1"/*.service | while read -r l; do
		case $l in "ExecStart=$2/wg"*) ;; *) echo "bad: $l"; exit 1 ;; esac
	done
}

# Defaults: PREFIX=/usr/local, units where systemd looks.
$M install DESTDIR="$T"/d > "$T"/i1 2>&1
rc=$?
check_log "make install DESTDIR (exit $rc)" "$T"/i1 [ $rc = 0 ]
check_log "systemd units installed into $DEFDIR" "$T"/i1 units_in "$T/d$DEFDIR"
exec_is "$T/d$DEFDIR" /usr/local/sbin > "$T"/e1 2>&1
check_log "units' ExecStart is the installed binary (/usr/local/sbin)" "$T"/e1 \
	sh -c "[ -x $T/d/usr/local/sbin/wghealth ] && ! grep -q bad $T/e1"
$M uninstall DESTDIR="$T"/d > "$T"/u1 2>&1
find "$T"/d ! -type d > "$T"/left1
check_log "make uninstall DESTDIR leaves no file behind" "$T"/left1 \
	sh -c "[ ! -s $T/left1 ]"

# SBINDIR and SYSTEMDUNITDIR overridden.
$M install DESTDIR="$T"/e SBINDIR=/usr/sbin SYSTEMDUNITDIR=/etc/systemd/system > "$T"/i2 2>&1
exec_is "$T"/e/etc/systemd/system /usr/sbin > "$T"/e2 2>&1
check_log "SYSTEMDUNITDIR and SBINDIR: units there, ExecStart=/usr/sbin/..." "$T"/e2 \
	sh -c "[ -x $T/e/usr/sbin/wghealth ] && ! grep -q bad $T/e2 && [ -f $T/e/etc/systemd/system/wghealth@.timer ]"
$M uninstall DESTDIR="$T"/e SBINDIR=/usr/sbin SYSTEMDUNITDIR=/etc/systemd/system > "$T"/u2 2>&1
find "$T"/e ! -type d > "$T"/left2
check_log "make uninstall with the same knobs leaves no file behind" "$T"/left2 \
	sh -c "[ ! -s $T/left2 ]"

# systemd-analyze verify needs ExecStart to exist: install for real into a
# scratch PREFIX (no DESTDIR).
if command -v systemd-analyze > /dev/null 2>&1; then
	$M install PREFIX="$T"/p SYSTEMDUNITDIR="$T"/p/units > "$T"/i3 2>&1
	if ls "$T"/p/units/*.service > /dev/null 2>&1; then
		systemd-analyze verify --man=no "$T"/p/units/*.service "$T"/p/units/*.timer > "$T"/v 2>&1
		rc=$?
		check_log "systemd-analyze verify of the installed units (exit $rc)" "$T"/v [ $rc = 0 ]
	else
		fail_log "systemd-analyze verify of the installed units: none installed" "$T"/i3
	fi
else
	skip "systemd-analyze verify of the installed units" "systemd-analyze not installed"
fi

finish
