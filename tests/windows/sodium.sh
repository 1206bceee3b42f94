#!/bin/sh
# Build libsodium (and the SQLite amalgamation) for x86_64-w64-mingw32 from
# Debian's own source packages, once per version, into a cache outside the
# build tree. Prints the install prefix of each on stdout:
#   sodium=/var/cache/wgkit/mingw-sodium-1.0.18-1+deb12u1
#   sqlite=/var/cache/wgkit/mingw-sqlite3-3.40.1-2+deb12u2
# The versions are those of the installed -dev packages, so the Windows
# build links the same code as the Linux one. A later run finds the cache
# and takes no time; a missing or half-built entry is rebuilt.
# Usage: sh tests/windows/sodium.sh [sodium|sqlite|all]   (default all)
set -eu
HOST=x86_64-w64-mingw32
CACHE=${WGKIT_MINGW_CACHE:-/var/cache/wgkit}
what=${1:-all}

die() {
	echo "sodium.sh: $*" >&2
	exit 1
}

srcver() {
	v=$(dpkg-query -W -f='${source:Version}' "$1" 2>/dev/null) || true
	[ -n "$v" ] || die "$1 is not installed (make deps)"
	echo "$v"
}

# A deb-src entry for the archive the binary packages come from (deb822,
# its own file so debian.sources stays as it is).
ensure_debsrc() {
	src=/etc/apt/sources.list.d/wgkit-src.sources
	if [ ! -f "$src" ]; then
		uri=$(sed -n 's/^URIs:[[:space:]]*//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null |
			head -n 1)
		[ -n "$uri" ] || uri=http://deb.debian.org/debian
		printf 'Types: deb-src\nURIs: %s\nSuites: bookworm\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
			"$uri" >"$src"
		apt-get update -qq >&2
	fi
}

# fetch SRCPKG VERSION DIR: the unpacked source tree in DIR/src.
fetch() {
	mkdir -p "$3/dl"
	if ! (cd "$3/dl" && apt-get source -qq --download-only "$1=$2" >&2); then
		ensure_debsrc
		apt-get update -qq >&2
		(cd "$3/dl" && apt-get source -qq --download-only "$1=$2" >&2) ||
			die "apt-get source $1=$2 failed"
	fi
	dpkg-source --no-check -x "$3"/dl/*.dsc "$3/src" >&2
}

build_sodium() {
	ver=$(srcver libsodium-dev)
	out=$CACHE/mingw-sodium-$ver
	if [ ! -f "$out/.done" ]; then
		tmp=$(mktemp -d /tmp/wgkit-sodium.XXXXXX)
		rm -rf "$out"
		fetch libsodium "$ver" "$tmp"
		# Debian's orig tarball is a git snapshot without configure.
		(cd "$tmp/src" && { [ -x configure ] || autoreconf -fi >&2; } && ./configure -q --host=$HOST --disable-shared --enable-static \
			--prefix="$out" >&2 && make -s -j2 >&2 && make -s install >&2) ||
			die "libsodium build failed (log above; tree in $tmp)"
		touch "$out/.done"
		rm -rf "$tmp"
	fi
	echo "sodium=$out"
}

# SQLite: Debian's sqlite3 source is the full tree; its configure makes the
# amalgamation (sqlite3.c) with tclsh, which we compile once for mingw.
build_sqlite() {
	ver=$(srcver libsqlite3-dev)
	out=$CACHE/mingw-sqlite3-$ver
	if [ ! -f "$out/.done" ]; then
		tmp=$(mktemp -d /tmp/wgkit-sqlite.XXXXXX)
		rm -rf "$out"
		fetch sqlite3 "$ver" "$tmp"
		mkdir -p "$tmp/native" "$out/include" "$out/lib"
		(cd "$tmp/native" && ../src/configure -q --disable-tcl >&2 &&
			make -s sqlite3.c >&2) || die "sqlite amalgamation failed (tree in $tmp)"
		$HOST-gcc -O2 -DSQLITE_THREADSAFE=1 -DSQLITE_OMIT_LOAD_EXTENSION -c \
			-o "$tmp/sqlite3.o" "$tmp/native/sqlite3.c" || die "sqlite mingw compile failed"
		$HOST-ar rcs "$out/lib/libsqlite3.a" "$tmp/sqlite3.o"
		cp "$tmp/native/sqlite3.h" "$tmp/native/sqlite3ext.h" "$out/include/" 2>/dev/null ||
			cp "$tmp/native/sqlite3.h" "$out/include/"
		touch "$out/.done"
		rm -rf "$tmp"
	fi
	echo "sqlite=$out"
}

command -v $HOST-gcc >/dev/null || die "$HOST-gcc missing (make deps)"
mkdir -p "$CACHE"
# One builder at a time: several worktrees share the cache.
exec 9>"$CACHE/.mingw.lock"
flock 9
case $what in
sodium) build_sodium ;;
sqlite) build_sqlite ;;
all)
	build_sodium
	build_sqlite
	;;
*) die "usage: sodium.sh [sodium|sqlite|all]" ;;
esac
