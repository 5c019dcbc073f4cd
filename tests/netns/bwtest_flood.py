#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""One source flooding bwtest servers, for tests/netns/bwtest.sh's flood test
(issue 16), written from docs/PROTOCOL.md ("bwtest"), not from the C code.

  bwtest_flood.py HOST KEYPORT IDLE OPENPORT OPEN SECONDS STATS

  - IDLE TCP control connections to HOST:KEYPORT (a server with a key) that
    send nothing; each one the server closes is opened again at once;
  - OPEN session requests to HOST:OPENPORT (a --no-auth server): HELLO,
    AUTH with a zero MAC, and, when ACCEPTed, the session is held without
    START until the server closes it; each closed one starts again at once.

Runs SECONDS (or until SIGTERM), then writes to STATS one line of counts: connections opened
to each port, sessions accepted, REJECTs received.
"""
import os
import selectors
import signal
import socket
import struct
import sys
import time


def hello(udp_port):
    # Parameters: dirs 1 (forward), streams 1, payload 200, UDP port,
    # rate 1 Mbit/s, pps 0, duration 10 s, interval 0
    params = struct.pack(">HHHHQQQQ", 1, 1, 200, udp_port, 1000000, 0, 10 * 10**9, 0)
    body = os.urandom(16) + params
    return struct.pack(">HBB", 4 + len(body), 1, 1) + body


AUTH = struct.pack(">HBB", 4 + 32, 1, 3) + b"\0" * 32


class Conn:
    def __init__(self, kind):
        self.kind = kind        # "idle" or "open"
        self.buf = b""
        self.sock = None


def main():
    host, kport, n_idle, oport, n_open, secs, stats = sys.argv[1:8]
    kport, n_idle, oport, n_open = int(kport), int(n_idle), int(oport), int(n_open)
    sel = selectors.DefaultSelector()
    cnt = {"idle_opened": 0, "open_opened": 0, "accepted": 0, "rejects": 0}

    def connect(c):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        try:
            s.connect((host, kport if c.kind == "idle" else oport))
        except BlockingIOError:
            pass
        except OSError:
            s.close()
            return False
        c.sock, c.buf = s, b""
        cnt[c.kind + "_opened"] += 1
        if c.kind == "open":
            c.sent = False
            sel.register(s, selectors.EVENT_READ | selectors.EVENT_WRITE, c)
        else:
            sel.register(s, selectors.EVENT_READ, c)
        return True

    conns = [Conn("idle") for _ in range(n_idle)] + [Conn("open") for _ in range(n_open)]
    down = list(conns)
    end = time.monotonic() + float(secs)
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    while time.monotonic() < end and not stop:
        # reopen what was closed (a failed connect is tried again next round)
        down = [c for c in down if not connect(c)]
        for key, ev in sel.select(timeout=0.05):
            c = key.data
            s = c.sock
            if ev & selectors.EVENT_WRITE:
                if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0 and not c.sent:
                    try:
                        s.send(hello(40000))
                    except OSError:
                        pass
                    c.sent = True
                sel.modify(s, selectors.EVENT_READ, c)
                continue
            try:
                data = s.recv(4096)
            except OSError:
                data = b""
            if not data:
                sel.unregister(s)
                s.close()
                down.append(c)
                continue
            c.buf += data
            while len(c.buf) >= 4:
                n, _, typ = struct.unpack(">HBB", c.buf[:4])
                if n < 4 or len(c.buf) < n:
                    break
                c.buf = c.buf[n:]
                if typ == 2:            # CHALLENGE
                    try:
                        s.send(AUTH)
                    except OSError:
                        pass
                elif typ == 4:          # ACCEPT: hold it, no START
                    cnt["accepted"] += 1
                elif typ == 5:          # REJECT
                    cnt["rejects"] += 1
    with open(stats, "w") as f:
        f.write(" ".join("%s=%d" % kv for kv in cnt.items()) + "\n")


if __name__ == "__main__":
    main()
