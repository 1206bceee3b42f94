# Part 2 of tests/uapi/run.sh (sourced): fresh wireguard-go instances
# configured ONLY through wgctl, checked against `wg`. Uses run.sh's helpers
# and variables.

W() { "$WGCTL" "$@"; }

# Static parts of `wg show IF dump` (counters aside), peers and allowed IPs
# sorted: wireguard-go's peer map has no order, and a peer's allowed IPs come
# back in the order they were added.
static_dump() {
	wg show "$1" dump | cut -f1-4,8 | {
		IFS= read -r dev
		echo "$dev"
		while IFS='	' read -r k psk ep aips ka; do
			aips=$(echo "$aips" | tr ',' '\n' | sort | paste -sd, -)
			printf '%s\t%s\t%s\t%s\t%s\n' "$k" "$psk" "$ep" "$aips" "$ka"
		done | sort
	}
}
unchanged_since() { # IF file
	static_dump "$1" >"$TMP/now"
	cmp -s "$2" "$TMP/now" && return 0
	diff "$2" "$TMP/now" | sed 's/^/    /'
	return 1
}

# name code pattern command...: exit status @code (wgctl(8): 2 bad input,
# 3 no such interface), stderr matching @pattern, nothing on stdout.
expect_fail() {
	name=$1 code=$2 pat=$3; shift 3
	"$@" >"$TMP/out" 2>"$TMP/err"
	rc=$?
	if [ $rc = 0 ]; then
		bad "$name: succeeded"
	elif [ $rc != "$code" ]; then
		bad "$name: exit $rc, expected $code: $(head -n 1 "$TMP/err")"
	elif ! grep -qiE -- "$pat" "$TMP/err"; then
		bad "$name: error does not match /$pat/:"; sed 's/^/    /' "$TMP/err"
	elif [ -s "$TMP/out" ]; then
		bad "$name: printed on stdout:"; sed 's/^/    /' "$TMP/out"
	else
		ok "$name: exit $rc: $(head -n 1 "$TMP/err")"
	fi
}

if ! start_instances >"$TMP/setup" 2>&1; then
	bad "part 2 set-up (namespaces, veth, wireguard-go)"; cat "$TMP/setup"
	return
fi

# Keys: wgctl's, cross-checked with wg's derivation.
umask 077
W genkey >"$TMP/wa.key" && W genkey >"$TMP/wb.key" && W genpsk >"$TMP/wpsk"
KA=$(W pubkey <"$TMP/wa.key"); KB=$(W pubkey <"$TMP/wb.key")
if [ -n "$KA" ] && [ "$KA" = "$(wg pubkey <"$TMP/wa.key")" ] &&
	[ "$KB" = "$(wg pubkey <"$TMP/wb.key")" ] && [ "$KA" != "$KB" ] &&
	[ "$(wc -c <"$TMP/wpsk")" -ge 44 ]; then
	ok "wgctl: genkey/genpsk/pubkey (pubkey agrees with wg pubkey)"
else
	bad "wgctl: genkey/pubkey: wgctl '$KA' vs wg '$(wg pubkey <"$TMP/wa.key" 2>&1)'"
fi

cat >"$TMP/a.conf" <<EOF
[Interface]
PrivateKey = $(cat "$TMP/wa.key")
ListenPort = $PA
FwMark = 0x2a

[Peer]
PublicKey = $KB
PresharedKey = $(cat "$TMP/wpsk")
Endpoint = $UB:$PB
AllowedIPs = $TB/32, $TB6/128, 10.99.0.0/16
PersistentKeepalive = 25
EOF
cat >"$TMP/b.conf" <<EOF
[Interface]
PrivateKey = $(cat "$TMP/wb.key")
ListenPort = $PB

[Peer]
PublicKey = $KA
PresharedKey = $(cat "$TMP/wpsk")
Endpoint = $UA:$PA
AllowedIPs = $TA/32, $TA6/128
EOF
check "wgctl: setconf A" W setconf "$IFA" "$TMP/a.conf"
check "wgctl: setconf B" W setconf "$IFB" "$TMP/b.conf"

check "wgctl: ping A -> B through the tunnel" tunnel_ping "$NSA" $TB
check "wgctl: ping B -> A over IPv6" tunnel_ping "$NSB" $TA6
hs=$(wg_handshake "$IFA")
if [ -n "$hs" ] && [ "$hs" != 0 ]; then ok "wgctl: handshake recorded ($hs)"; else bad "wgctl: no handshake (latest handshake '$hs')"; fi

json_vs_wg() { # IF [--show-keys]: secrets compared, or required "(hidden)"
	wg show "$1" dump >"$TMP/ref1" || return 1
	W show "$1" --json $2 >"$TMP/ours.json" || return 1
	wg show "$1" dump >"$TMP/ref2" || return 1
	python3 "$HERE/compare.py" json "$TMP/ref1" "$TMP/ours.json" "$TMP/ref2" ${2:---hidden}
}
check "wgctl: show A --json equals wg show A dump, keys hidden" json_vs_wg "$IFA"
check "wgctl: show B --json equals wg show B dump, keys hidden" json_vs_wg "$IFB"
check "wgctl: show A --json --show-keys equals wg show A dump" json_vs_wg "$IFA" --show-keys
check "wgctl: show B --json --show-keys equals wg show B dump" json_vs_wg "$IFB" --show-keys

conf_vs_wg() { # IF
	wg showconf "$1" >"$TMP/ref.conf" || return 1
	W showconf "$1" >"$TMP/ours.conf" || return 1
	python3 "$HERE/compare.py" conf "$TMP/ref.conf" "$TMP/ours.conf"
}
check "wgctl: showconf A equals wg showconf A" conf_vs_wg "$IFA"
check "wgctl: showconf B equals wg showconf B" conf_vs_wg "$IFB"

# wg set's arguments.
check "wgctl: set peer allowed-ips (replace list)" \
	W set "$IFA" peer "$KB" allowed-ips "$TB/32,$TB6/128,10.98.0.0/16"
wg show "$IFA" allowed-ips | tr '\t ' '\n\n' | sort >"$TMP/aips"
if grep -qx 10.98.0.0/16 "$TMP/aips" && ! grep -qx 10.99.0.0/16 "$TMP/aips" &&
	grep -qx $TB/32 "$TMP/aips"; then
	ok "wgctl: wg sees the new allowed IPs"
else
	bad "wgctl: allowed IPs after set:"; sed 's/^/    /' "$TMP/aips"
fi
check "wgctl: ping after set" tunnel_ping "$NSA" $TB

# Single-entry edits (+add,-remove): this wireguard-go has no removal syntax.
check "wgctl: set allowed-ips +add,-remove" \
	W set "$IFA" peer "$KB" allowed-ips "+10.97.0.0/16,-10.98.0.0/16"
wg show "$IFA" allowed-ips | tr '\t ' '\n\n' | sort >"$TMP/aips"
if grep -qx 10.97.0.0/16 "$TMP/aips" && ! grep -qx 10.98.0.0/16 "$TMP/aips" &&
	grep -qx $TB/32 "$TMP/aips" && grep -qx $TB6/128 "$TMP/aips"; then
	ok "wgctl: wg sees the edited allowed IPs"
else
	bad "wgctl: allowed IPs after the edit:"; sed 's/^/    /' "$TMP/aips"
fi

# A third peer added and removed again, idempotently.
KC=$(W genkey | W pubkey)
check "wgctl: peer add" W peer add "$IFA" "$KC" allowed-ips 10.77.0.0/24 endpoint $UB:9
check "wgctl: peer add again (no change, exit 0)" W peer add "$IFA" "$KC" allowed-ips 10.77.0.0/24 endpoint $UB:9
wg show "$IFA" dump | grep -q "^$KC	(none)	$UB:9	10.77.0.0/24	" &&
	ok "wgctl: wg sees the added peer" || bad "wgctl: wg does not see peer $KC as added"
check "wgctl: show A --json with the added peer equals wg" json_vs_wg "$IFA" --show-keys
check "wgctl: peer remove" W peer remove "$IFA" "$KC"
check "wgctl: peer remove again (exit 0)" W peer remove "$IFA" "$KC"
wg show "$IFA" peers | grep -q "$KC" && bad "wgctl: removed peer still there" ||
	ok "wgctl: wg no longer sees the removed peer"

# showconf is a config setconf takes back without change.
static_dump "$IFA" >"$TMP/before"
W showconf "$IFA" >"$TMP/round.conf"
check "wgctl: setconf of its own showconf" W setconf "$IFA" "$TMP/round.conf"
unchanged_since "$IFA" "$TMP/before" && ok "wgctl: showconf/setconf round trip changed nothing" ||
	bad "wgctl: showconf/setconf round trip changed the device"

# syncconf back to the original file.
check "wgctl: syncconf A to its original file" W syncconf "$IFA" "$TMP/a.conf"
check "wgctl: after syncconf, showconf equals wg showconf" conf_vs_wg "$IFA"
wg show "$IFA" allowed-ips | tr '\t ' '\n\n' | grep -qx 10.99.0.0/16 &&
	ok "wgctl: syncconf restored the original allowed IPs" ||
	bad "wgctl: syncconf did not restore 10.99.0.0/16"
check "wgctl: ping after syncconf" tunnel_ping "$NSA" $TB

# ---------------------------------------------------------- error paths
expect_fail "wgctl: show of an unknown interface" 3 "ua${ID}nope" W show "ua${ID}nope"
expect_fail "wgctl: showconf of an unknown interface" 3 "ua${ID}nope" W showconf "ua${ID}nope"

static_dump "$IFA" >"$TMP/before"
echo "not-a-key" >"$TMP/bad.key"
expect_fail "wgctl: set with a bad private key names the field" 2 "private.?key" \
	W set "$IFA" private-key "$TMP/bad.key" listen-port 40000
unchanged_since "$IFA" "$TMP/before" && ok "wgctl: bad private key changed nothing" ||
	bad "wgctl: bad private key changed the device"
expect_fail "wgctl: set with a bad peer key names it" 2 "public.?key.*not-a-key" \
	W set "$IFA" peer not-a-key allowed-ips 10.50.0.0/16
unchanged_since "$IFA" "$TMP/before" && ok "wgctl: bad peer key changed nothing" ||
	bad "wgctl: bad peer key changed the device"
sed "s|^PublicKey = .*|PublicKey = bm90LWEta2V5|" "$TMP/a.conf" >"$TMP/bad.conf"
expect_fail "wgctl: setconf with a bad PublicKey names it" 2 "bad.conf:7: PublicKey" \
	W setconf "$IFA" "$TMP/bad.conf"
unchanged_since "$IFA" "$TMP/before" && ok "wgctl: bad setconf changed nothing" ||
	bad "wgctl: bad setconf changed the device"

destroy_instances
