#!/usr/bin/env python3
"""COMMIT-to-device latency of the gateway lab (tests/gateway/lab.sh).

commit_latency.py N SOCK... : N changes (insert, update, delete of fresh
peers in turn) through ONE psql session (autocommit), each followed by
\\echo so its COMMIT is known to be done when the marker line comes back;
then the wireguard-go UAPI sockets SOCK... are polled until every device
shows the change. Prints one line per device and one for "all":
  latency DEV p50=X.X ms p99=X.X ms max=X.X ms n=N
and exits 1 when a change did not show within 5 s (it names which).
psql runs as the postgres user with the PG* environment (tests/gateway/pglib.sh).
"""
import base64
import os
import socket
import subprocess
import sys
import time


def uapi_get(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    s.sendall(b"get=1\n\n")
    buf = b""
    while not buf.endswith(b"\n\n"):
        d = s.recv(65536)
        if not d:
            break
        buf += d
    s.close()
    peers, cur = {}, None
    for line in buf.decode().splitlines():
        k, _, v = line.partition("=")
        if k == "public_key":
            cur = peers.setdefault(v, set())
        elif k == "allowed_ip" and cur is not None:
            cur.add(v)
    return peers


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100.0 * (len(xs) - 1))))]


def main():
    n = int(sys.argv[1])
    socks = sys.argv[2:]
    psql = subprocess.Popen(
        ["runuser", "-u", "postgres", "--", "psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
    lat = {s: [] for s in socks}
    lat["all"] = []
    key = None
    bad = 0
    for i in range(n):
        kind = i % 3
        if kind == 0:
            raw = os.urandom(32)
            key = base64.b64encode(raw).decode()
            hexkey = raw.hex()
            aip = "10.73.%d.%d/32" % (i // 250, i % 250 + 1)
            sql = "INSERT INTO wgkit_peer (public_key, allowed_ips) VALUES ('%s', '%s');" % (key, aip)
            want = lambda p, h=hexkey, a=aip: h in p and a in p[h]
        elif kind == 1:
            aip = "10.74.%d.%d/32" % (i // 250, i % 250 + 1)
            sql = "UPDATE wgkit_peer SET allowed_ips = '%s' WHERE public_key = '%s';" % (aip, key)
            want = lambda p, h=hexkey, a=aip: h in p and p[h] == {a}
        else:
            sql = "DELETE FROM wgkit_peer WHERE public_key = '%s';" % key
            want = lambda p, h=hexkey: h not in p
        psql.stdin.write(sql + "\n\\echo done%d\n" % i)
        psql.stdin.flush()
        while psql.stdout.readline().strip() != "done%d" % i:
            pass
        t0 = time.monotonic()
        left = set(socks)
        while left and time.monotonic() - t0 < 5:
            for s in list(left):
                if want(uapi_get(s)):
                    lat[s].append(time.monotonic() - t0)
                    left.discard(s)
        if left:
            bad += 1
            print("change %d (%s) not on %s within 5 s" % (i, sql.split()[0], " ".join(sorted(left))))
            if bad > 3:
                break
        else:
            lat["all"].append(time.monotonic() - t0)
    psql.stdin.close()
    psql.wait()
    for s, xs in lat.items():
        if xs:
            name = os.path.basename(s).replace(".sock", "")
            print("latency %s p50=%.1f ms p99=%.1f ms max=%.1f ms n=%d" % (
                name, pct(xs, 50) * 1e3, pct(xs, 99) * 1e3, max(xs) * 1e3, len(xs)))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
