#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""A toy transaction coordinator on a klog log.

It decides transactions and records each decision as a durable commit record
before it reports it ("committed txid=T lsn=L", only once DURABLE came).  It
keeps nothing locally but its client id (in --state FILE): killed at any
moment and started again, it reads the log back from its first record,
picks out its own commit records by their prefix ("coord CLIENTID commit
TXID "), prints what it recovered ("recovered txid=T lsn=L ..."), and goes
on from the next transaction id.  Request ids come from the wall clock (as
libklog's), so they grow across its restarts under the same client id.

    coordinator.py --server 10.0.0.1 --state coord.id --commits 100
    kill -9 ...; coordinator.py --server 10.0.0.1 --state coord.id --commits 10

Exit status 0; 1 on a klog error (its status name on stderr).
"""
import argparse
import os
import sys
import time

import klog


def load_or_create_id(path):
    """The client id kept in path; a new random one written there (atomically) if none."""
    try:
        with open(path) as f:
            return int(f.read().strip(), 16), True
    except FileNotFoundError:
        pass
    cid = int.from_bytes(os.urandom(4), "big") or 1
    tmp = f"{path}.tmp"
    with open(tmp, "w") as f:
        f.write(f"{cid:08x}\n")
        f.flush()
        os.fsync(f.fileno())
    os.rename(tmp, path)
    return cid, False


def prefix(cid):
    return f"coord {cid:08x} commit ".encode()


def recover(client, cid, settle):
    """Every commit record of this coordinator in the log: [(txid, lsn, payload)].

    Reads every LSN the log has given out (below INFO's next_lsn: all of them
    will commit), following the log where they are not durable yet, after
    settle seconds for a request of the killed run still on its way."""
    time.sleep(settle)
    info = client.info()
    end = info.next_lsn - 1
    start = info.first_lsn or 1
    mine = prefix(cid)
    found = []
    if end < start:
        return found
    for rec in client.tail(start, follow=True):
        if rec.payload.startswith(mine):
            txid = int(rec.payload[len(mine):].split(b" ", 1)[0])
            found.append((txid, rec.lsn, rec.payload))
        if rec.lsn >= end:
            break
    return found


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--server", required=True, help="klog server address")
    ap.add_argument("--port", type=int, default=7070)
    ap.add_argument("--state", required=True, help="file keeping the client id (all it keeps)")
    ap.add_argument("--commits", type=int, default=10, help="transactions to commit this run")
    ap.add_argument("--delay", type=float, default=0.0, help="seconds between commits")
    ap.add_argument("--timeout", type=float, default=0.2)
    ap.add_argument("--retries", type=int, default=10)
    a = ap.parse_args(argv)

    cid, known = load_or_create_id(a.state)
    print(f"coordinator {cid:08x} ({'restarted' if known else 'new'})", flush=True)
    try:
        with klog.Client(a.server, a.port, client_id=cid, timeout=a.timeout,
                         retries=a.retries) as c:
            last = 0
            if known:
                found = recover(c, cid, a.timeout)
                for txid, lsn, payload in found:
                    print(f"recovered txid={txid} lsn={lsn} {payload.decode(errors='replace')}",
                          flush=True)
                    last = max(last, txid)
                print(f"recovered {len(found)} commits, last txid {last}", flush=True)
            for txid in range(last + 1, last + 1 + a.commits):
                decision = f"{prefix(cid).decode()}{txid} participants=3 t={time.time_ns()}"
                lsn = c.append(decision.encode(), txid=txid, durable=True)
                print(f"committed txid={txid} lsn={lsn}", flush=True)
                if a.delay:
                    time.sleep(a.delay)
    except klog.KlogError as e:
        print(f"coordinator: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
