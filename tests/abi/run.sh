#!/bin/sh
# The exported ABI of libwg-netlink: lib/libwg-netlink.map names exactly the
# functions declared in include/wgkit/*.h (nothing missing, nothing extra,
# sorted), and the built library exports exactly the map's symbols.
# Usage: tests/abi/run.sh BUILD. Prints "abi: N passed, N failed, N skipped".
BUILD=${1:-build}
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh
suite_init abi
T=$SUITE_TMP
export LC_ALL=C
MAP=lib/libwg-netlink.map

# The symbols of the map's global: section, in file order.
sed -n '/global:/,/local:/p' "$MAP" | sed -n 's/^[[:space:]]*\([A-Za-z_][A-Za-z0-9_]*\);.*/\1/p' > "$T"/map
sort -u "$T"/map > "$T"/map.sorted

if sed -n '/global:/,/local:/p' "$MAP" | grep -v 'global:\|local:' | grep -q '[*?[]'; then
	fail_log "the map lists names, no globs" "$MAP"
else
	ok "the map lists names, no globs"
fi
if cmp -s "$T"/map "$T"/map.sorted; then ok "the map is sorted, no duplicates"
else diff "$T"/map "$T"/map.sorted > "$T"/d0; fail_log "the map is sorted, no duplicates" "$T"/d0; fi

# The public functions, as the compiler sees the headers (-aux-info lists
# every prototype with the file that declares it).
for h in include/wgkit/*.h; do echo "#include \"wgkit/$(basename "$h")\""; done > "$T"/all.c
if gcc -fsyntax-only -Iinclude -aux-info "$T"/aux "$T"/all.c 2> "$T"/cc; then
	grep '^/\* include/wgkit/' "$T"/aux |
		sed -n 's/.*[ *]\([A-Za-z_][A-Za-z0-9_]*\) *(.*/\1/p' | sort -u > "$T"/decl
	if [ ! -s "$T"/decl ]; then
		fail_log "public functions found in include/wgkit/*.h" "$T"/aux
	else
		comm -23 "$T"/decl "$T"/map.sorted > "$T"/missing
		comm -13 "$T"/decl "$T"/map.sorted > "$T"/extra
		if [ -s "$T"/missing ]; then fail_log "every public function is in the map ($(wc -l < "$T"/decl) declared)" "$T"/missing
		else ok "every public function is in the map ($(wc -l < "$T"/decl) declared)"; fi
		if [ -s "$T"/extra ]; then fail_log "the map names only declared functions" "$T"/extra
		else ok "the map names only declared functions"; fi
	fi
else
	skip "public functions vs the map" "gcc -aux-info failed: $(head -n 1 "$T"/cc)"
fi

# What the shared library exports (defined, dynamic; the version node
# itself shows up as an absolute symbol and is left out).
SO=$BUILD/libwg-netlink.so
if [ ! -e "$SO" ]; then
	skip "exported symbols == the map" "no $SO: run make all first"
elif ! command -v nm > /dev/null; then
	skip "exported symbols == the map" "no nm"
else
	nm -D --defined-only "$SO" > "$T"/nm
	awk '$2 != "A" { sub(/@.*/, "", $3); print $3 }' "$T"/nm | sort -u > "$T"/exp
	if diff "$T"/map.sorted "$T"/exp > "$T"/d1; then ok "$SO exports exactly the map's $(wc -l < "$T"/exp) symbols"
	else fail_log "$SO exports exactly the map's symbols (< map, > exported)" "$T"/d1; fi
	if awk '$2 != "A"' "$T"/nm | grep -v '@@WGNL_0\.1$' > "$T"/unver; then
		fail_log "every export carries version WGNL_0.1" "$T"/unver
	else ok "every export carries version WGNL_0.1"; fi
fi

finish
