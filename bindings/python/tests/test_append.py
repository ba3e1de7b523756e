# SPDX-License-Identifier: GPL-2.0-only
"""Appends against a real klogd: plain and durable, pipelined, idempotent
retransmissions by hand, and the errors."""
import os
import socket
import time

import pytest

import klog
from klog import protocol


def test_append_consecutive_lsns(client, klogd):
    """Plain appends return consecutive LSNs from 1 on a new log."""
    lsns = [client.append(f"plain {i}".encode(), txid=i) for i in range(10)]
    assert lsns == list(range(lsns[0], lsns[0] + 10))
    assert lsns[0] == 1


def test_durable_append_consecutive_lsns(client, klogd):
    """Durable appends return consecutive LSNs, and the log is durable past them."""
    first = client.append(b"first", durable=True)
    lsns = [first] + [client.append(f"durable {i}".encode(), txid=i, durable=True)
                      for i in range(20)]
    assert lsns == list(range(first, first + 21))
    assert klogd.ctl("durable_lsn") > lsns[-1]


def test_pipelined_1000_with_64_in_flight(bed, klogd):
    """1000 appends through submit() with 64 in flight: LSNs consecutive, in order."""
    with klog.Client(bed.server, max_outstanding=64) as c:
        seen_max = 0
        pend = []
        for i in range(1000):
            pend.append(c.submit(os.urandom(1 + i % 200), txid=i))
            seen_max = max(seen_max, c.outstanding)
        c.flush()
        lsns = [p.result() for p in pend]
    assert seen_max == 64
    assert lsns == list(range(lsns[0], lsns[0] + 1000))


def test_append_many_durable(bed, klogd):
    """append_many keeps the pipe full and returns the LSNs in order; durable too."""
    with klog.Client(bed.server) as c:
        recs = [(f"many {i}".encode() * (1 + i % 7), i) for i in range(500)]
        lsns = c.append_many(recs, durable=True)
    assert lsns == list(range(lsns[0], lsns[0] + 500))
    assert klogd.ctl("durable_lsn") > lsns[-1]


def test_poll_completes_futures(bed, klogd):
    with klog.Client(bed.server) as c:
        a = c.submit(b"one")
        b = c.submit(b"two", durable=True)
        done = 0
        end = time.monotonic() + 5
        while c.outstanding and time.monotonic() < end:
            done += c.poll(0.5)
        assert done == 2 and a.done() and b.done()
        assert b.result() == a.result() + 1
        assert a.exception() is None


def _raw(bed):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(2)
    s.connect((bed.server, protocol.DEFAULT_PORT))
    return s


def _exchange(s, dgram):
    s.send(dgram)
    return protocol.decode(s.recv(2048))


def test_idempotent_retry_by_hand(bed, klogd):
    """The same request sent twice by hand: one record, both answers with its
    LSN, and klogd's retransmits counter counts the second."""
    s = _raw(bed)
    cid, rid = 0x5EED0001, time.time_ns()
    dgram = protocol.encode_append(cid, rid, b"exactly once", txid=31)
    before = klogd.stat("retransmits")
    next_before = klogd.ctl("next_lsn")
    h1 = _exchange(s, dgram)
    h2 = _exchange(s, dgram)
    assert (h1.opcode, h1.status, h1.request_id, h1.client_id, h1.txid) == \
        (klog.Op.ACK, 0, rid, cid, 31)
    assert (h2.opcode, h2.status) == (klog.Op.ACK, 0)
    assert h1.lsn == h2.lsn == next_before
    assert klogd.ctl("next_lsn") == next_before + 1
    assert klogd.stat("retransmits") == before + 1

    # Same ids, another record: CONFLICT; an id 64 below the newest: STALE.
    h = _exchange(s, protocol.encode_append(cid, rid, b"another", txid=31))
    assert (h.opcode, h.status) == (klog.Op.NACK, klog.Status.CONFLICT)
    h = _exchange(s, protocol.encode_append(cid, rid + 100, b"newer"))
    assert h.opcode == klog.Op.ACK
    h = _exchange(s, protocol.encode_append(cid, rid + 100 - 64, b"too old"))
    assert (h.opcode, h.status) == (klog.Op.NACK, klog.Status.STALE)

    # A durable retransmission is answered DURABLE once the record is.
    rid2 = rid + 200
    d = protocol.encode_append(cid, rid2, b"durable twice", durable=True)
    s.send(d)
    got = {}
    end = time.monotonic() + 5
    while klog.Op.DURABLE not in got and time.monotonic() < end:
        h = protocol.decode(s.recv(2048))
        got[h.opcode] = h
    assert got[klog.Op.ACK].flags & protocol.F_PENDING
    lsn = got[klog.Op.DURABLE].lsn
    assert got[klog.Op.ACK].lsn == lsn
    h = _exchange(s, d)
    assert (h.opcode, h.lsn) == (klog.Op.DURABLE, lsn)
    # QUERY answers from the durable LSN; NOLSN past the log.
    h = _exchange(s, protocol.encode_query(cid, rid2, lsn))
    assert (h.opcode, h.lsn) == (klog.Op.DURABLE, lsn)
    h = _exchange(s, protocol.encode_query(cid, rid2, lsn + 10**9))
    assert (h.opcode, h.status) == (klog.Op.NACK, klog.Status.NOLSN)
    s.close()


def test_client_errors_by_status(bed, klogd):
    """Conflict and Stale come out of the client as exceptions named after the status;
    a record above the server's maximum is TooBig."""
    cid = 0x5EED0002
    with klog.Client(bed.server, client_id=cid) as c:
        lsn = c.append(b"x")
        # Another client object with the same id, and ids behind: its first
        # request is older than the dedup window of this client id.
        c2 = klog.Client(bed.server, client_id=cid)
        c2._next_request = c._next_request - 1  # reuses the id of b"x"
        with pytest.raises(klog.Conflict) as e:
            c2.append(b"not x")
        assert e.value.status == klog.Status.CONFLICT and "CONFLICT" in str(e.value)
        c2._next_request = c._next_request - 1000
        with pytest.raises(klog.Stale):
            c2.append(b"stale")
        c2._next_request = c._next_request - 1  # the same record again: its LSN
        assert c2.append(b"x") == lsn
        c2.close()
        with pytest.raises(klog.TooBig) as e:
            c.append(b"y" * (bed.max_record + 1))
        assert e.value.status == klog.Status.TOOBIG
        with pytest.raises(klog.KlogError):
            c.append(b"")
        assert c.append(b"after errors") == lsn + 1


def test_timeout_when_nobody_answers(bed, klogd):
    """No server on the port: Timeout after the retries, every resend the same bytes."""
    with klog.Client(bed.server, port=7071, timeout=0.02, retries=3) as c:
        t = time.monotonic()
        with pytest.raises(klog.Timeout):
            c.append(b"nobody")
        assert c.resends == 3
        assert time.monotonic() - t < 2
