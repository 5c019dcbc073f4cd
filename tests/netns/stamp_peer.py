#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A minimal, independent STAMP (RFC 8762) Session-Sender and -Reflector for
tests/netns/owd.sh, written from the RFC's packet layouts (sections 4.2.1,
4.2.2, 4.3.1, 4.3.2, 4.4) and nothing of meshperf's code: struct and hmac
from Python's standard library.

  stamp_peer.py reflect PORT [KEYFILE|-] [MAXIP]  stateful reflector, runs until killed;
                                                with MAXIP, silent to requests whose IP
                                                packet is larger (a reflector's limit)
  stamp_peer.py send HOST PORT COUNT [KEYFILE]  prints a JSON summary

The reflector does not implement RFC 8972: it writes zeros where the SSID
would go, as a plain RFC 8762 reflector does.
"""
import base64
import hashlib
import hmac
import json
import socket
import struct
import sys
import time

NTP_UNIX = 2208988800
BASE, AUTH_BASE, COVERED = 44, 112, 96


def ntp_now():
    ns = time.time_ns()
    sec, rem = divmod(ns, 10**9)
    return ((sec + NTP_UNIX) << 32) | ((rem << 32) // 10**9)


def ntp_to_ns(ts):
    return ((ts >> 32) - NTP_UNIX) * 10**9 + (((ts & 0xFFFFFFFF) * 10**9) >> 32)


def load_key(path):
    if not path:
        return None
    text = open(path).read().strip()
    return bytes.fromhex(text) if len(text) == 64 else base64.b64decode(text)


def mac(key, pkt):
    return hmac.new(key, pkt[:COVERED], hashlib.sha256).digest()[:16]


# Session-Sender packet: 4.2.1 (unauthenticated), 4.2.2 (authenticated)
def sender_pkt(key, seq, ts, errest=0x0001):
    if key is None:
        return struct.pack("!IQH30x", seq, ts, errest)
    body = struct.pack("!I12xQH70x", seq, ts, errest)
    return body + mac(key, body)


def sender_parse(key, pkt):
    if key is None:
        seq, ts, errest = struct.unpack_from("!IQH", pkt)
        return seq, ts, errest
    if len(pkt) < AUTH_BASE or not hmac.compare_digest(mac(key, pkt), pkt[96:112]):
        return None
    seq, ts, errest = struct.unpack_from("!I12xQH", pkt)
    return seq, ts, errest


# Session-Reflector packet: 4.3.1, 4.3.2
def reflector_pkt(key, seq, t3, errest, t2, sseq, sts, serr, ttl, length):
    if key is None:
        p = struct.pack("!IQH2xQIQH2xB3x", seq, t3, errest, t2, sseq, sts, serr, ttl)
        return p + bytes(length - len(p))
    body = struct.pack("!I12xQH6xQ8xI12xQH6xB15x", seq, t3, errest, t2, sseq, sts, serr, ttl)
    return body + mac(key, body) + bytes(length - AUTH_BASE)


def reflector_parse(key, pkt):
    if key is None:
        return struct.unpack_from("!IQH2xQIQH2xB", pkt)
    if not hmac.compare_digest(mac(key, pkt), pkt[96:112]):
        return None
    return struct.unpack_from("!I12xQH6xQ8xI12xQH6xB", pkt)


def reflect(port, key, max_ip):
    socks = []
    for fam, addr in ((socket.AF_INET, "0.0.0.0"), (socket.AF_INET6, "::")):
        s = socket.socket(fam, socket.SOCK_DGRAM)
        if fam == socket.AF_INET6:
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        s.bind((addr, port))
        socks.append(s)
    import selectors
    sel = selectors.DefaultSelector()
    for s in socks:
        sel.register(s, selectors.EVENT_READ)
    counters = {}
    print("ready", flush=True)
    while True:
        for k, _ in sel.select():
            pkt, peer = k.fileobj.recvfrom(65535)
            t2 = ntp_now()
            if len(pkt) < (BASE if key is None else AUTH_BASE):
                continue
            hdr = 48 if k.fileobj.family == socket.AF_INET6 else 28
            if max_ip and len(pkt) + hdr > max_ip:
                continue
            got = sender_parse(key, pkt)
            if got is None:
                continue
            sseq, sts, serr = got
            seq = counters.get(peer, 0)
            counters[peer] = seq + 1
            reply = reflector_pkt(key, seq, ntp_now(), 0x0001, t2, sseq, sts, serr, 64,
                                  len(pkt))
            k.fileobj.sendto(reply, peer)


def send(host, port, count, key):
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.settimeout(1.0)
    ok = received = 0
    bad = []
    for i in range(count):
        t1 = ntp_now()
        s.sendto(sender_pkt(key, i, t1), (host, port))
        try:
            pkt = s.recv(65535)
        except socket.timeout:
            continue
        t4 = time.time_ns()
        received += 1
        r = reflector_parse(key, pkt)
        if r is None:
            bad.append("hmac")
            continue
        seq, t3, _errest, t2, sseq, sts, _serr, ttl = r
        t1n, t2n, t3n = ntp_to_ns(t1), ntp_to_ns(t2), ntp_to_ns(t3)
        # one CLOCK_REALTIME in every namespace: T1 <= T2 <= T3 <= T4 (1 ns
        # of NTP rounding allowed)
        if (seq == i and sseq == i and sts == t1 and ttl > 0 and
                t1n <= t2n + 1 and t2n <= t3n + 1 and t3n <= t4 + 1 and len(pkt) ==
                (BASE if key is None else AUTH_BASE)):
            ok += 1
        else:
            bad.append([i, seq, sseq, sts == t1, ttl, t2n - t1n, t3n - t2n, t4 - t3n])
    print(json.dumps({"sent": count, "received": received, "ok": ok, "bad": bad[:5]}))


def main():
    a = sys.argv[1:]
    if a and a[0] == "reflect":
        reflect(int(a[1]), load_key(a[2] if len(a) > 2 and a[2] != "-" else None),
                int(a[3]) if len(a) > 3 else 0)
    elif a and a[0] == "send":
        send(a[1], int(a[2]), int(a[3]), load_key(a[4] if len(a) > 4 else None))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
