#!/usr/bin/env python3
"""mkcorpus.py BUILD_DIR - write the seed corpora of tests/fuzz/corpus/ from real files.

Logs are written by the project's mklog (tests/unit/mklog.c, the format's codec),
export files by klogctl export from them, datagrams by the Python binding's encoder
(bindings/python/src/klog/protocol.py); then torn (cut) and bit-flipped copies.
Deterministic (a fixed seed), so a run gives the same files again.
"""
import os
import random
import shutil
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "bindings", "python", "src"))
from klog import protocol as P  # noqa: E402
from klog.crc32c import crc32c  # noqa: E402

rng = random.Random(12)


def chunk(b):
    """fuzz_chunk()'s form: a 16-bit little-endian length, then the bytes."""
    return struct.pack("<H", len(b)) + b


def torn(b):
    return b[:rng.randrange(1, len(b))]


def flipped(b, lo=0):
    b = bytearray(b)
    for _ in range(rng.randrange(1, 4)):
        i = rng.randrange(lo, len(b))
        b[i] ^= 1 << rng.randrange(8)
    return bytes(b)


def write(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def segdir_input(files):
    """fuzz_segdir's input: (tag, bytes) pairs; tag % 3: segment, index, meta; tag // 3: slot."""
    return b"".join(bytes([tag]) + chunk(b) for tag, b in files)


def log_files(d):
    """A log directory's files as fuzz_segdir's (tag, bytes), segments in LSN order."""
    segs = sorted(n for n in os.listdir(d) if n.endswith(".klog"))
    out = []
    for slot, s in enumerate(segs[:4]):
        base = s[:-len(".klog")]
        out.append((3 * slot, open(os.path.join(d, s), "rb").read()))
        idx = os.path.join(d, base + ".idx")
        if os.path.exists(idx):
            out.append((3 * slot + 1, open(idx, "rb").read()))
    meta = os.path.join(d, "klog.meta")
    if os.path.exists(meta):
        out.append((2, open(meta, "rb").read()))
    return out


def segdir(mklog, klogctl, work):
    n = 0
    exports = []
    for segs, per in ((1, 3), (1, 8), (2, 4), (3, 2)):
        d = os.path.join(work, f"log-{segs}-{per}")
        subprocess.run([mklog, d, str(segs), str(per)], check=True)
        files = log_files(d)
        write("segdir", f"clean-{segs}x{per}", segdir_input(files))
        for k in range(3):
            # The last segment torn; an index torn; a bit flipped in records or an index.
            last = max(i for i, (t, _) in enumerate(files) if t % 3 == 0)
            f = list(files)
            f[last] = (f[last][0], torn(f[last][1][:4096]) if k == 0 else
                       f[last][1][:rng.randrange(4096, len(f[last][1]))])
            write("segdir", f"torn-{segs}x{per}-{k}", segdir_input(f))
            f = list(files)
            i = rng.randrange(len(f))
            lo = 4096 if f[i][0] % 3 == 0 and len(f[i][1]) > 4096 and k else 0
            f[i] = (f[i][0], flipped(f[i][1], lo))
            write("segdir", f"flip-{segs}x{per}-{k}", segdir_input(f))
        # Without its indexes (recovery reindexes), without klog.meta.
        write("segdir", f"noidx-{segs}x{per}", segdir_input([x for x in files if x[0] % 3 != 1]))
        write("segdir", f"nometa-{segs}x{per}", segdir_input([x for x in files if x[0] % 3 != 2]))
        n += 1
        x = os.path.join(work, f"x-{segs}-{per}.kx")
        subprocess.run([klogctl, "export", "--dir", d, "--output", x], check=True)
        exports.append(x)
    # A range and an open-ended export through a pipe (no last LSN in the header).
    d = os.path.join(work, "log-1-8")
    x = os.path.join(work, "sub.kx")
    subprocess.run([klogctl, "export", "--dir", d, "--from", "2", "--to", "5", "--output", x],
                   check=True)
    exports.append(x)
    with open(os.path.join(work, "pipe.kx"), "wb") as f:
        p = subprocess.run([klogctl, "export", "--dir", d, "--from", "3"], check=True,
                           stdout=subprocess.PIPE)
        f.write(p.stdout)
    exports.append(os.path.join(work, "pipe.kx"))
    return exports


def export(exports):
    for x in exports:
        b = open(x, "rb").read()
        name = os.path.basename(x)[:-3]
        write("export", f"clean-{name}", b)
        write("export", f"torn-{name}", torn(b))
        write("export", f"flip-{name}", flipped(b, 40))
        write("export", f"fliphdr-{name}", flipped(b[:40]) + b[40:])


CID, RID = 0x0C11E470, 1000


def wire():
    recs = []
    for lsn in (1, 2, 7):
        body = bytes(rng.randrange(256) for _ in range(lsn * 5))
        recs.append(P.Header(P.Op.RECORD, P.F_LAST if lsn == 7 else 0, CID, 0, 8 + len(body),
                             RID, lsn + 1000, lsn).encode(P.READ_REC.pack(crc32c(body), 0) + body))
    info = P.Info(1, 0, 7070, 1400, 128, 256 * 1024, 0x10C1D, 1, 9, 9).encode()
    msgs = {
        "append": P.encode_append(CID, RID, b"hello", txid=5),
        "append-durable": P.encode_append(CID, RID, b"x" * 64, durable=True),
        "query": P.encode_query(CID, RID, 42),
        "read-one": P.encode_read(CID, RID, 3),
        "read-range": P.encode_read(CID, RID, 3, to_lsn=40, max_bytes=65536, wait_ms=100),
        "read-nolimit": P.encode_read(CID, RID, 3, to_lsn=0, max_bytes=0),
        "info": P.encode_info(CID, RID),
        "ack": P.Header(P.Op.ACK, 0, CID, 0, 0, RID, 0, 17).encode(),
        "ack-pending": P.Header(P.Op.ACK, P.F_PENDING, CID, 0, 0, RID, 0, 17).encode(),
        "nack-full": P.Header(P.Op.NACK, 0, CID, P.Status.FULL, 0, RID).encode(),
        "durable": P.Header(P.Op.DURABLE, 0, CID, 0, 0, RID, 0, 17).encode(),
        "info-reply": P.Header(P.Op.INFO_REPLY, 0, CID, 0, len(info), RID).encode(info),
    }
    for i, r in enumerate(recs):
        msgs[f"record-{i}"] = r
    for name, m in msgs.items():
        write("wire", name, m)
        write("wire", f"flip-{name}", flipped(m))
    return msgs, recs


def client(msgs):
    """fuzz_client: APPENDs wanted, durable bits, then (control, datagram) chunks."""
    ids = 3  # control bits 0 and 1: the client id and request id written in
    sets = {
        "acks": (3, 0, [(ids | i << 2, msgs["ack"]) for i in range(3)]),
        "durable": (2, 3, [(ids, msgs["ack-pending"]), (ids, msgs["durable"]),
                           (ids | 1 << 2, msgs["durable"])]),
        "nacks": (4, 0, [(ids | i << 2, P.Header(P.Op.NACK, 0, 0, st, 0).encode())
                         for i, st in enumerate((P.Status.FULL, P.Status.BUSY,
                                                 P.Status.CONFLICT, P.Status.TOOBIG))]),
        "strays": (1, 0, [(0, msgs["ack"]), (ids, msgs["append"]), (ids, b"klog")]),
    }
    for name, (want, durable, dgrams) in sets.items():
        data = bytes([want - 1, durable]) + b"".join(bytes([c]) + chunk(d) for c, d in dgrams)
        write("client", name, data)
        write("client", f"flip-{name}", flipped(data, 2))


def remote(msgs, recs):
    """fuzz_remote: per request a count, then (control, datagram) chunks; LSNs as asked + ctl >> 3."""
    def answer(dgrams):
        return bytes([len(dgrams)]) + b"".join(bytes([c]) + chunk(d) for c, d in dgrams)
    info = answer([(0, msgs["info-reply"])])
    rec = [P.decode(r) for r in recs]
    # Records of LSNs 1 and 2 answering a READ from 1, the second LAST.
    def record(i, last, at):
        h, body = rec[i], recs[i][40:]
        return (at << 3, P.Header(P.Op.RECORD, P.F_LAST if last else 0, 0, 0, h.len, 0,
                                  h.txid, 0).encode(body))
    sets = {
        "info-read": info + answer([record(0, True, 0)]) + answer([record(0, False, 0),
                                                                    record(1, True, 1)]),
        "gap": info + answer([record(0, False, 0), record(2, True, 2)]) +
               answer([record(1, True, 0)]),
        "nacks": info + answer([(0, P.Header(P.Op.NACK, 0, 0, P.Status.NOTYET, 0).encode())]) +
                 answer([(0, P.Header(P.Op.NACK, 0, 0, P.Status.TRIMMED, 0).encode())]),
        "badcrc": info + answer([(0, recs[0][:-1] + bytes([recs[0][-1] ^ 1]))]),
    }
    for name, data in sets.items():
        write("remote", name, data)
        write("remote", f"flip-{name}", flipped(data))


def parse():
    """fuzz_parse: what klogd --allow and --bind, klogctl allow and --server take."""
    for i, text in enumerate(("10.0.0.0/8", "0.0.0.0/0", "::/0", "192.168.1.7", "fe80::/10",
                              "2001:db8::1/128", "::ffff:10.1.2.3", "10.1.2.3/8", "1.2.3.4/33",
                              "[::1]:7070", "host:7070", "64k", "0x10", "3G", "1.2.3.4/")):
        write("parse", f"seed-{i}", text.encode())


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: mkcorpus.py BUILD_DIR")
    build = sys.argv[1]
    mklog = os.path.join(build, "tests", "mklog")
    klogctl = os.path.join(build, "klogctl", "klogctl")
    for t in ("segdir", "export", "wire", "client", "remote", "parse"):
        shutil.rmtree(os.path.join(HERE, "corpus", t), ignore_errors=True)
    with tempfile.TemporaryDirectory() as work:
        export(segdir(mklog, klogctl, work))
    msgs, recs = wire()
    client(msgs)
    remote(msgs, recs)
    parse()


if __name__ == "__main__":
    main()
