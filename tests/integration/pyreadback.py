#!/usr/bin/env python3
"""pyreadback.py - the Python half of test-readback.sh, with bindings/python.

  pyreadback.py SERVER append SEED COUNT MAXLEN ACKS
      durable appends of COUNT generated records (txid 0..COUNT-1), up to 64
      in flight; "LSN TXID" appended to ACKS, in order, once acknowledged.
  pyreadback.py SERVER check SEED COUNT MAXLEN ACKS FROM TO [partial]
      each acknowledged LSN read by itself (Client.read) holds its txid and
      its bytes; LSNs FROM..TO read as a range (Client.read_range) are
      contiguous, each a distinct txid of SEED with its bytes, and all COUNT
      of them unless "partial" (a client killed partway).
Prints one line of figures; exits 1 at the first difference, naming it.
"""
import random
import sys

import klog


def payload(seed, txid, maxlen):
    r = random.Random(seed * 1000003 + txid)
    return r.randbytes(r.randint(1, maxlen))


def append(c, seed, count, maxlen, acks):
    inflight = []
    with open(acks, "a") as f:
        def settle(block):
            while inflight and (block or inflight[0].done()):
                a = inflight.pop(0)
                f.write(f"{a.result()} {a.txid}\n")
                f.flush()
        for t in range(count):
            inflight.append(c.submit(payload(seed, t, maxlen), txid=t, durable=True))
            c.poll(0)
            settle(False)
        settle(True)
    print(f"appended {count}")


def fail(msg):
    print(f"pyreadback: {msg}", file=sys.stderr)
    sys.exit(1)


def check(c, seed, count, maxlen, acks, first, last, partial):
    n_lsn = 0
    with open(acks) as f:
        acked = sorted(tuple(map(int, line.split())) for line in f)
    # In LSN order, as a coordinator catching up reads: Client.read reads ahead.
    for lsn, txid in acked:
        rec = c.read(lsn)
        if rec.txid != txid or rec.payload != payload(seed, txid, maxlen):
            fail(f"LSN {lsn} (txid {txid}) read by LSN: txid {rec.txid}, bytes differ")
        n_lsn += 1
    seen = set()
    want = first
    for rec in c.read_range(first, last):
        if rec.lsn != want:
            fail(f"range: LSN {rec.lsn} where {want} was due")
        if rec.txid >= count or rec.txid in seen:
            fail(f"range: LSN {rec.lsn}: txid {rec.txid} never sent or twice")
        if rec.payload != payload(seed, rec.txid, maxlen):
            fail(f"range: LSN {rec.lsn} (txid {rec.txid}): bytes differ")
        seen.add(rec.txid)
        want += 1
    if want != last + 1:
        fail(f"range ended at LSN {want - 1}, before {last}")
    if not partial and len(seen) != count:
        fail(f"range: {len(seen)} records, {count} sent")
    print(f"read back {n_lsn} acknowledged LSNs one by one and LSNs {first}..{last} as a range")


def main(argv):
    server, op, seed, count, maxlen, acks = argv[1], argv[2], *map(int, argv[3:6]), argv[6]
    c = klog.Client(server, timeout=0.01, retries=1000)
    if op == "append":
        append(c, seed, count, maxlen, acks)
    else:
        check(c, seed, count, maxlen, acks, int(argv[7]), int(argv[8]), argv[9:] == ["partial"])


if __name__ == "__main__":
    main(sys.argv)
