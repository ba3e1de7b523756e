#!/usr/bin/env python3
"""rawreq.py - one klog request sent by hand from a chosen source, and the first answer.

Written from doc/protocol.md alone.  Prints "OPCODE STATUS LSN" of the first
datagram that comes back within the timeout, or NONE.
Usage: rawreq.py DST OPCODE [--src ADDR] [--sport N] [--status N] [--payload N]
                 [--len N] [--rid N] [--timeout S]
  OPCODE   a number: 1 APPEND, 3 NACK, 4 QUERY, 6 READ, 8 INFO
  --payload N   N bytes of payload after the header (a datagram over the MTU
                leaves fragmented); --len sets the header's length field
                (default: the payload's)
  DST may be an IPv6 address; a broadcast address is allowed.
"""
import argparse
import socket
import struct

HDR = ">IBBHIHHQQQ"
MAGIC = 0x4B4C4F47

p = argparse.ArgumentParser()
p.add_argument("dst")
p.add_argument("opcode", type=int)
p.add_argument("--src", default="")
p.add_argument("--sport", type=int, default=0)
p.add_argument("--status", type=int, default=0)
p.add_argument("--payload", type=int, default=0)
p.add_argument("--len", type=int, default=None)
p.add_argument("--rid", type=int, default=1)
p.add_argument("--timeout", type=float, default=0.7)
a = p.parse_args()

v6 = ":" in a.dst
s = socket.socket(socket.AF_INET6 if v6 else socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
s.bind((a.src, a.sport))
s.settimeout(a.timeout)
payload = bytes(i % 251 for i in range(a.payload))
length = len(payload) if a.len is None else a.len
# magic, version, opcode, flags, client_id, status, len, request_id, txid, lsn
hdr = struct.pack(HDR, MAGIC, 1, a.opcode, 0, 4242, a.status, length, a.rid, 9, 0)
s.sendto(hdr + payload, (a.dst, 7070))
try:
    h = struct.unpack(HDR, s.recv(65536)[:40])
    print(h[2], h[5], h[9])
except socket.timeout:
    print("NONE")
