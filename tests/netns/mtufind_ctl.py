#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The wire side of tests/netns/mtufind.sh's peer_auth test: capture and
replay (or forge) mtufind's peer control messages (docs/PROTOCOL.md,
"mtufind peer control"), independently of the C code under test.

  mtufind_ctl.py sniff IFACE OUT        UDP payloads to port 5122 arriving on
                                        IFACE (a TUN: raw IPv4), one hex line each
  mtufind_ctl.py send HOST PORT HEX...  send each datagram; print the replies
                                        (hex) that come within 300 ms
  mtufind_ctl.py forge HEX SEQ KEY|zero the message with its sequence number
                                        set to SEQ, signed with KEY's key or a
                                        zero MAC
"""
import base64
import hashlib
import hmac
import socket
import struct
import sys
import time

LABEL = b"mtufind/1 ctl".ljust(16, b"\0")


def sniff(ifname, out):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(0x0003))
    s.bind((ifname, 0))
    with open(out, "a", buffering=1) as f:
        f.write("ready\n")
        while True:
            pkt = s.recv(65535)
            if len(pkt) < 28 or pkt[0] >> 4 != 4 or pkt[9] != 17:
                continue
            ihl = (pkt[0] & 15) * 4
            if struct.unpack(">H", pkt[ihl + 2:ihl + 4])[0] == 5122:
                f.write(pkt[ihl + 8:].hex() + "\n")


def send(host, port, hexes):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(0.3)
    for h in hexes:
        s.sendto(bytes.fromhex(h), (host, int(port)))
        end = time.monotonic() + 0.3
        while time.monotonic() < end:
            try:
                print(s.recv(512).hex())
            except (socket.timeout, ConnectionRefusedError):
                break


def forge(hexmsg, seq, key):
    m = bytearray(bytes.fromhex(hexmsg)[:56])
    m[16:24] = struct.pack(">Q", int(seq))
    if key == "zero":
        mac = bytes(32)
    else:
        k = base64.b64decode(open(key).read().strip())
        mac = hmac.new(k, LABEL + bytes(m), hashlib.sha256).digest()
    print((bytes(m) + mac).hex())


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "sniff":
        sniff(*args)
    elif cmd == "send":
        send(args[0], args[1], args[2:])
    elif cmd == "forge":
        forge(*args)
    else:
        sys.exit("unknown command " + cmd)
