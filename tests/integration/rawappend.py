#!/usr/bin/env python3
"""rawappend.py - an APPEND or a QUERY built by hand, and the answers that came.

Written from doc/protocol.md alone (not libklog, not the Python binding), to
send what a client never would: a payload whose KLOG_F_CRC CRC-32C is wrong,
or one bit of it flipped after the CRC was taken (the sending kernel computes
the UDP checksum over the bytes as sent, so only the CRC-32C can tell).
One line per answer:
  ACK STATUS LSN FLAGS | NACK STATUS LSN | DURABLE LSN | NONE
A durable APPEND waits for the answer after ACK+PENDING (DURABLE or NACK).
Usage: rawappend.py SERVER append REQUEST_ID PAYLOAD [--crc=good|bad|none|flip]
                    [--durable] [--client=N] [--txid=N]
       rawappend.py SERVER query REQUEST_ID LSN [--client=N]
"""
import socket
import struct
import sys

HDR = ">IBBHIHHQQQ"
MAGIC = 0x4B4C4F47
APPEND, ACK, NACK, QUERY, DURABLE = 1, 2, 3, 4, 5
F_DURABLE, F_PENDING, F_CRC = 0x1, 0x2, 0x8


def crc32c(data):
    """CRC-32C (Castagnoli), reflected: crc32c(b"123456789") == 0xe3069283."""
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def main(argv):
    server, op, rid = argv[1], argv[2], int(argv[3])
    args = [a for a in argv[4:] if not a.startswith("--")]
    opts = dict((a[2:].split("=") + [""])[:2] for a in argv[4:] if a.startswith("--"))
    client = int(opts.get("client") or 77)
    txid = int(opts.get("txid") or 5)
    durable = "durable" in opts or op == "query"
    if op == "append":
        payload = args[0].encode()
        how = opts.get("crc") or "good"
        flags = (F_DURABLE if durable else 0) | (0 if how == "none" else F_CRC)
        lsn = 0 if how == "none" else crc32c(payload) ^ (0x1 if how == "bad" else 0)
        if how == "flip":
            payload = bytes([payload[0] ^ 0x04]) + payload[1:]
        dgram = struct.pack(HDR, MAGIC, 1, APPEND, flags, client, 0, len(payload), rid, txid,
                            lsn) + payload
    else:
        dgram = struct.pack(HDR, MAGIC, 1, QUERY, 0, client, 0, 0, rid, txid, int(args[0]))
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(float(opts.get("timeout") or 3))
    s.connect((server, 7070))
    s.send(dgram)
    while True:
        try:
            h = struct.unpack(HDR, s.recv(65536)[:40])
        except (socket.timeout, ConnectionRefusedError):
            print("NONE")
            return
        _, _, opc, fl, cid, st, _, rq, _, rlsn = h
        if cid != client or rq != rid:
            continue
        if opc == ACK:
            print("ACK", st, rlsn, fl)
            if durable and fl & F_PENDING:
                continue  # the durable answer follows
        elif opc == NACK:
            print("NACK", st, rlsn)
        elif opc == DURABLE:
            print("DURABLE", rlsn)
        else:
            print("OTHER", opc, st, rlsn)
        return


if __name__ == "__main__":
    main(sys.argv)
