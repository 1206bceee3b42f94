#!/usr/bin/env python3
# A stand-in for systemd's $NOTIFY_SOCKET: bind the datagram socket argv[1]
# and append each message (READY=1, WATCHDOG=1, STATUS=...) to file argv[2],
# one line each, until killed. Used by tests/gateway/run.sh and pgdaemon.sh.
import socket
import sys

s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "a", buffering=1) as log:
    while True:
        log.write(s.recv(4096).decode(errors="replace").replace("\n", " ") + "\n")
