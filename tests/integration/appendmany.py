#!/usr/bin/env python3
"""appendmany.py - APPENDs built by hand (doc/protocol.md), one at a time,
until the server answers FULL or N were acknowledged.

Each payload is distinct ("PREFIX-I-" padded with letters to SIZE bytes), the
request ids count up from 1 for client CLIENT.  Prints "LSN PAYLOAD" per ACK,
then a last line: "FULL I" (the I-th append was refused FULL), "END" (all N
acknowledged) or "OTHER ..." (anything else, which a caller treats as a failure).
Usage: appendmany.py SERVER CLIENT N SIZE PREFIX
"""
import socket
import struct
import sys

HDR = ">IBBHIHHQQQ"
MAGIC = 0x4B4C4F47
APPEND, ACK, NACK = 1, 2, 3
ST_FULL = 1


def main(argv):
    server, client, count, size, prefix = argv[1], int(argv[2]), int(argv[3]), int(argv[4]), argv[5]
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(3)
    s.connect((server, 7070))
    for i in range(1, count + 1):
        head = "%s-%d-" % (prefix, i)
        payload = (head + "abcdefghijklmnopqrstuvwxyz" * (size // 26 + 1))[:max(size, len(head))]
        dgram = struct.pack(HDR, MAGIC, 1, APPEND, 0, client, 0, len(payload), i, i, 0)
        s.send(dgram + payload.encode())
        while True:
            try:
                h = struct.unpack(HDR, s.recv(65536)[:40])
            except socket.timeout:
                print("OTHER no answer to", i)
                return
            if h[4] == client and h[7] == i:
                break
        opc, st, lsn = h[2], h[5], h[9]
        if opc == NACK and st == ST_FULL:
            print("FULL", i)
            return
        if opc != ACK or st != 0:
            print("OTHER", opc, st, lsn)
            return
        print(lsn, payload, flush=True)
    print("END")


if __name__ == "__main__":
    main(sys.argv)
