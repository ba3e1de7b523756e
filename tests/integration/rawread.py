#!/usr/bin/env python3
"""rawread.py - one READ or INFO, or any datagram, sent by hand, and what came back.

Written from doc/protocol.md alone, so that the server is checked against the
document, not against libklog.  One line per datagram received:
  RECORD LSN TXID LEN CRC_OK LAST SHA256    a record of the answer
  CORRUPT LSN TXID LEN LAST                 a tombstone in the answer (status CORRUPT)
  NACK STATUS LSN                           a refusal
  INFO field=value ...                      the answer to INFO
  NONE                                      nothing within the timeout
Usage: rawread.py SERVER info
       rawread.py SERVER read LSN [TO MAX_BYTES WAIT_MS] [--flags F] [--len N]
       rawread.py SERVER hammer LSN STOPFILE  (READ LSN..+15 until STOPFILE exists, 50 at least;
                                               prints "READS SENT GOOD")
"""
import hashlib
import socket
import struct
import sys

HDR = ">IBBHIHHQQQ"
MAGIC = 0x4B4C4F47
OPS = {"read": 6, "info": 8}


def _table():
    t = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ (0x82F63B78 if c & 1 else 0)
        t.append(c)
    return t


TABLE = _table()


def crc32c(data):
    """CRC-32C (Castagnoli), reflected: crc32c(b"123456789") == 0xe3069283."""
    crc = 0xFFFFFFFF
    for b in data:
        crc = TABLE[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def hammer(server, lsn, stop):
    """READs of LSN.. (16 records), 50 at least, until stop exists; good: all 16, CRCs right."""
    import os
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    s.connect((server, 7070))
    s.settimeout(1)
    sent = good = 0
    while sent < 50 or not os.path.exists(stop):
        sent += 1
        body = struct.pack(">QII", lsn + 15, 1 << 18, 0)
        s.send(struct.pack(HDR, MAGIC, 1, 6, 0, 98, 0, len(body), sent, 0, lsn) + body)
        want = lsn
        try:
            while True:
                d = s.recv(65536)
                h = struct.unpack(HDR, d[:40])
                if h[7] != sent:
                    continue
                crc = struct.unpack(">I", d[40:44])[0]
                if h[2] != 7 or h[9] != want or crc32c(d[48:]) != crc:
                    break
                want += 1
                if h[3] & 4:
                    break
        except OSError:  # timed out, or an ICMP error
            pass
        good += want == lsn + 16
    print("READS", sent, good)


def main(argv):
    server, op = argv[1], argv[2]
    if op == "hammer":
        hammer(server, int(argv[3]), argv[4])
        return
    args = [a for a in argv[3:] if not a.startswith("--")]
    opts = dict(a[2:].split("=") for a in argv[3:] if a.startswith("--"))
    flags = int(opts.get("flags", "0"))
    lsn = int(args[0]) if args else 0
    body = b""
    if op == "read" and len(args) >= 4:
        body = struct.pack(">QII", int(args[1]), int(args[2]), int(args[3]))
    opcode = OPS[op]
    length = int(opts.get("len", len(body)))
    fam = socket.AF_INET6 if ":" in server else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    s.connect((server, 7070))
    wait = int(args[3]) / 1000 if op == "read" and len(args) >= 4 else 0
    s.settimeout(wait + float(opts.get("timeout", "1")))
    rid = 4242
    s.send(struct.pack(HDR, MAGIC, 1, opcode, flags, 99, 0, length, rid, 0, lsn) + body)
    while True:
        try:
            d = s.recv(65536)
        except socket.timeout:
            print("NONE")
            return
        h = struct.unpack(HDR, d[:40])
        _, ver, opc, fl, cid, st, ln, rq, txid, rlsn = h
        if cid != 99 or rq != rid:
            print("STRAY", opc, cid, rq)
            continue
        if opc == 7 and st == 16:
            # A tombstone: status CORRUPT, no bytes; the answer goes on past it.
            last = int(bool(fl & 4))
            print("CORRUPT", rlsn, txid, len(d) - 48, last)
            if last:
                return
            continue
        if opc == 7:
            crc, _rec_crc = struct.unpack(">II", d[40:48])
            data = d[48:]
            ok = int(crc32c(data) == crc and ln == 8 + len(data))
            last = int(bool(fl & 4))
            print("RECORD", rlsn, txid, len(data), ok, last, hashlib.sha256(data).hexdigest())
            if last:
                return
        elif opc == 3:
            print("NACK", st, rlsn)
            return
        elif opc == 9:
            f = struct.unpack(">BBHIIIQQQQ", d[40:88])
            names = ["version", "backend", "port", "max_record", "block_size",
                     "max_read_bytes", "log_id", "first_lsn", "durable_lsn", "next_lsn"]
            vals = [f"{v:016x}" if n == "log_id" else str(v) for n, v in zip(names, f)]
            print("INFO", " ".join(f"{n}={v}" for n, v in zip(names, vals)), f"len={ln}")
            return
        else:
            print("OTHER", opc, st, rlsn)
            return


if __name__ == "__main__":
    main(sys.argv)
