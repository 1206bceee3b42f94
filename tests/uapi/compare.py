#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Compare wgkit's view of a device with `wg`'s, for tests/uapi/run.sh.

  compare.py dump REF1 OURS REF2   OURS is a `wg show IF dump` table
  compare.py json REF1 OURS REF2 [--show-keys|--hidden]
                                   OURS is `wgctl show IF --json [--show-keys]`
  compare.py conf REF OURS         two `showconf` outputs

REF1 and REF2 are `wg show IF dump` read just before and just after OURS:
keys, port, fwmark, endpoints, allowed IPs and keepalive must equal them;
handshake time and rx/tx must lie between the two reads. Prints every
difference and exits 1 if there is one."""
import ipaddress
import json
import sys

errors = []


def err(msg):
    errors.append(msg)


def parse_dump(path):
    """`wg show IF dump` (interface form): device line, then one per peer."""
    with open(path) as f:
        lines = [l.rstrip("\n").split("\t") for l in f if l.strip()]
    if not lines or len(lines[0]) != 4:
        sys.exit(f"{path}: not a `wg show IF dump` table")
    priv, pub, port, fwmark = lines[0]
    dev = {
        "private_key": None if priv == "(none)" else priv,
        "public_key": None if pub == "(none)" else pub,
        "listen_port": int(port),
        "fwmark": 0 if fwmark == "off" else int(fwmark, 0),
        "peers": {},
    }
    for l in lines[1:]:
        if len(l) != 8:
            sys.exit(f"{path}: bad peer line {l}")
        key, psk, ep, aips, hs, rx, tx, ka = l
        dev["peers"][key] = {
            "preshared_key": None if psk == "(none)" else psk,
            "endpoint": None if ep == "(none)" else ep,
            "allowed_ips": set() if aips == "(none)" else {norm_prefix(a) for a in aips.split(",")},
            "latest_handshake": int(hs),
            "rx_bytes": int(rx),
            "tx_bytes": int(tx),
            "persistent_keepalive": 0 if ka == "off" else int(ka),
        }
    return dev


def norm_prefix(s):
    return str(ipaddress.ip_network(s.strip(), strict=False))


def norm_endpoint(s):
    if s is None:
        return None
    host, _, port = s.rpartition(":")
    host = host.strip("[]")
    return f"{ipaddress.ip_address(host.split('%')[0])}:{int(port)}"


STATIC = ("preshared_key", "allowed_ips", "persistent_keepalive")
COUNTERS = ("latest_handshake", "rx_bytes", "tx_bytes")


def compare(ref1, ours, ref2, what):
    for k in ("private_key", "public_key", "listen_port", "fwmark"):
        if ours.get(k, "(absent)") != ref1[k]:
            err(f"{what}: device {k}: ours {ours.get(k, '(absent)')!r}, wg {ref1[k]!r}")
    if set(ours["peers"]) != set(ref1["peers"]):
        err(f"{what}: peers differ: only ours {sorted(set(ours['peers']) - set(ref1['peers']))}, "
            f"only wg {sorted(set(ref1['peers']) - set(ours['peers']))}")
    for key, p in ours["peers"].items():
        r1, r2 = ref1["peers"].get(key), ref2["peers"].get(key)
        if r1 is None or r2 is None:
            continue
        for k in STATIC:
            if p.get(k, "(absent)") != r1[k]:
                err(f"{what}: peer {key} {k}: ours {p.get(k, '(absent)')!r}, wg {r1[k]!r}")
        if norm_endpoint(p.get("endpoint")) != norm_endpoint(r1["endpoint"]):
            err(f"{what}: peer {key} endpoint: ours {p.get('endpoint')!r}, wg {r1['endpoint']!r}")
        for k in COUNTERS:
            v = p.get(k)
            if v is None or not r1[k] <= v <= r2[k]:
                err(f"{what}: peer {key} {k}: ours {v!r}, wg read {r1[k]} before and {r2[k]} after")


def cmd_dump(ref1, ours, ref2):
    compare(parse_dump(ref1), parse_dump(ours), parse_dump(ref2), "dump")


def json_device(path):
    """`wgctl show IF --json` (docs/json.md): one device object."""
    with open(path) as f:
        doc = json.load(f)
    if not isinstance(doc, dict):
        sys.exit(f"{path}: expected one device object")
    return doc


def json_key(v):
    return None if v in (None, "", "(none)") else v


def from_json(doc, what):
    for k in ("name", "public_key", "private_key", "listen_port", "fwmark", "peers"):
        if k not in doc:
            err(f"{what}: device has no {k!r}")
    dev = {
        "private_key": json_key(doc.get("private_key")),
        "public_key": json_key(doc.get("public_key")),
        "listen_port": doc.get("listen_port"),
        "fwmark": doc.get("fwmark"),
        "peers": {},
    }
    for p in doc.get("peers", []):
        dev["peers"][p.get("public_key")] = {
            "preshared_key": json_key(p.get("preshared_key")),
            "endpoint": p.get("endpoint"),
            "allowed_ips": {norm_prefix(a) for a in p.get("allowed_ips", [])},
            "latest_handshake": p.get("latest_handshake"),
            "rx_bytes": p.get("rx_bytes"),
            "tx_bytes": p.get("tx_bytes"),
            "persistent_keepalive": p.get("persistent_keepalive"),
        }
    return dev


def cmd_json(ref1, ours, ref2, mode="--show-keys"):
    """mode --show-keys: secrets must equal wg's; --hidden: every secret wg
    shows must read "(hidden)" (the default: never print keys unasked)."""
    r1 = parse_dump(ref1)
    dev = from_json(json_device(ours), "json")
    if mode == "--hidden":
        secrets = [("device private_key", dev, r1)]
        secrets += [(f"peer {k} preshared_key", dev["peers"][k], r1["peers"][k])
                    for k in dev["peers"] if k in r1["peers"]]
        for name, o, r in secrets:
            field = "private_key" if "private" in name else "preshared_key"
            want = "(hidden)" if r[field] is not None else None
            if o[field] != want:
                err(f"json: {name}: ours {o[field]!r}, expected {want!r}")
            o[field] = r[field]
    compare(r1, dev, parse_dump(ref2), "json")


def parse_conf(path):
    """A showconf into {'Interface': {...}, peers: {PublicKey: {...}}}."""
    iface, peers, cur = {}, {}, None
    with open(path) as f:
        for raw in f:
            line = raw.split("#", 1)[0].strip()
            if not line:
                continue
            if line.startswith("["):
                cur = {} if line.lower() == "[peer]" else iface
                if line.lower() == "[peer]":
                    peers.setdefault(None, []).append(cur)
                continue
            k, _, v = line.partition("=")
            k, v = k.strip().lower(), v.strip()
            if k == "allowedips":
                cur.setdefault(k, set()).update(norm_prefix(a) for a in v.split(",") if a.strip())
            elif k == "endpoint":
                cur[k] = norm_endpoint(v)
            elif k in ("fwmark", "listenport", "persistentkeepalive"):
                cur[k] = 0 if v == "off" else int(v, 0)
            else:
                cur[k] = v
    # wg omits FwMark when it is 0; wgctl writes "FwMark = off". Same state.
    if iface.get("fwmark") == 0:
        del iface["fwmark"]
    out = {}
    for p in peers.get(None, []):
        out[p.get("publickey")] = p
    return iface, out


def cmd_conf(ref, ours):
    ri, rp = parse_conf(ref)
    oi, op = parse_conf(ours)
    if ri != oi:
        err(f"showconf [Interface]: ours {sorted(oi.items())}, wg {sorted(ri.items())}")
    if set(rp) != set(op):
        err(f"showconf peers: only ours {sorted(set(op) - set(rp))}, only wg {sorted(set(rp) - set(op))}")
    for k in set(rp) & set(op):
        if rp[k] != op[k]:
            err(f"showconf peer {k}: ours {op[k]}, wg {rp[k]}")


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    cmd, args = sys.argv[1], sys.argv[2:]
    {"dump": cmd_dump, "json": cmd_json, "conf": cmd_conf}[cmd](*args)
    for e in errors:
        print(e)
    sys.exit(1 if errors else 0)


if __name__ == "__main__":
    main()
