# SPDX-License-Identifier: GPL-2.0-only
"""Reads against a real klogd: INFO, READ by LSN byte for byte, ranges,
NOTYET, and tail following what is appended after it started."""
import random
import threading
import time

import pytest

import klog
from klog.crc32c import crc32c


def test_info_on_a_new_log(client, klogd, bed):
    """INFO on a log nothing was appended to: klogd's settings, no record."""
    i = client.info()
    assert i.version == 1
    assert i.backend == 0 and i.backend_name == "dir"
    assert i.port == 7070
    assert i.max_record == bed.max_record
    assert i.block_size == bed.block_size
    assert i.max_read_bytes == 256 * 1024
    assert i.log_id != 0 and i.log_id == klogd.ctl("log_id")
    assert f"{i.log_id:016x}" in klogd.log_text()
    assert i.first_lsn == 0
    assert i.next_lsn == 1 and i.durable_lsn == 1


def test_info_follows_appends(client, klogd):
    n0 = client.info().next_lsn
    lsns = client.append_many([f"info {k}".encode() for k in range(10)], durable=True)
    i = client.info()
    assert i.first_lsn == 1
    assert i.next_lsn == lsns[-1] + 1 == n0 + 10
    assert i.durable_lsn == i.next_lsn
    assert (i.durable_lsn, i.next_lsn) == (klogd.ctl("durable_lsn"), klogd.ctl("next_lsn"))


def test_read_by_lsn_byte_for_byte(client, bed):
    rng = random.Random(7)
    payloads = [b"\x00", b"\x00" * 17, bytes(range(256)), rng.randbytes(bed.max_record),
                b"klog" * 100] + [rng.randbytes(rng.randint(1, bed.max_record)) for _ in range(30)]
    lsns = [client.append(p, txid=1000 + k, durable=True) for k, p in enumerate(payloads)]
    for k, (lsn, p) in enumerate(zip(lsns, payloads)):
        r = client.read(lsn)
        assert isinstance(r, klog.Record)
        assert (r.lsn, r.txid, r.payload) == (lsn, 1000 + k, p)
        assert r.crc == crc32c(p)


def test_read_in_order_reads_ahead(client, bed):
    """read() LSN by LSN in order asks for ranges: far fewer READs than records,
    every record still byte for byte; a jump back reads the one record."""
    rng = random.Random(9)
    payloads = [rng.randbytes(rng.randint(1, 200)) for _ in range(300)]
    lsns = client.append_many(payloads, durable=True)
    before = client.read_requests
    for lsn, p in zip(lsns, payloads):
        assert client.read(lsn).payload == p
    assert client.read_requests - before <= 10, client.read_requests - before
    before = client.read_requests
    assert client.read(lsns[5]).payload == payloads[5]
    assert client.read_requests - before == 1


def test_read_range(client, bed):
    """Ranges across answers: more than 256 records, and more than 256 KiB."""
    rng = random.Random(8)
    payloads = [rng.randbytes(rng.choice((1, 100, bed.max_record))) for _ in range(700)]
    lsns = client.append_many(payloads, durable=True)
    got = list(client.read_range(lsns[0], lsns[-1]))
    assert [r.lsn for r in got] == lsns
    assert [r.payload for r in got] == payloads
    assert all(r.crc == crc32c(r.payload) for r in got)
    # A part of it, and to the durable end (to_lsn None).
    assert [r.payload for r in client.read_range(lsns[100], lsns[102])] == payloads[100:103]
    tail = list(client.read_range(lsns[650]))
    assert [r.lsn for r in tail] == lsns[650:]
    assert [r.payload for r in client.read_range(lsns[5], lsns[5])] == [payloads[5]]


def test_notyet(client):
    """Past the durable end: NotYet, naming the first LSN not durable."""
    i = client.info()
    with pytest.raises(klog.NotYet) as e:
        client.read(i.next_lsn)
    assert e.value.lsn == i.durable_lsn == i.next_lsn
    assert e.value.status == klog.Status.NOTYET and "NOTYET" in str(e.value)
    with pytest.raises(klog.NotYet):
        client.read(i.next_lsn + 1000)
    with pytest.raises(klog.NotYet):
        list(client.read_range(i.next_lsn - 1, i.next_lsn + 5))
    # read_range without an end stops at the durable end, no error
    assert [r.lsn for r in client.read_range(i.next_lsn - 2)] == [i.next_lsn - 2, i.next_lsn - 1]
    # tail without follow too
    assert [r.lsn for r in client.tail(i.next_lsn - 1, follow=False)] == [i.next_lsn - 1]


def test_tail_follow_sees_later_appends(bed, client):
    """tail(follow=True) started at the end sees records appended after it started,
    through long polls."""
    start = client.info().next_lsn
    seen = []
    errors = []

    def follow():
        try:
            with klog.Client(bed.server) as reader:
                for rec in reader.tail(start, follow=True, wait_ms=2000):
                    seen.append(rec)
                    if len(seen) == 30:
                        return
        except Exception as e:  # reported by the main thread
            errors.append(e)

    t = threading.Thread(target=follow)
    t.start()
    time.sleep(0.5)  # the reader waits in a long poll by now
    assert not seen
    sent = []
    for k in range(30):
        p = f"tail {k} ".encode() * (k + 1)
        sent.append((client.append(p, txid=k, durable=k % 2 == 0), p))
        if k % 10 == 9:
            time.sleep(0.3)
    t.join(20)
    assert not t.is_alive() and not errors, errors
    assert [(r.lsn, r.payload) for r in seen] == sent
    assert seen[0].lsn == start


def test_tail_from_durable_end_by_default(bed, client):
    """tail() without from_lsn starts at the durable end: only new records."""
    client.append(b"before", durable=True)
    got = []
    with klog.Client(bed.server) as reader:
        it = reader.tail(wait_ms=3000)
        threading.Timer(0.3, lambda: client.append(b"after tail started", durable=True)).start()
        got.append(next(it))
    assert got[0].payload == b"after tail started"


def _raw(bed):
    import socket
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(2)
    s.connect((bed.server, 7070))
    return s


def _answers(s, dgram):
    """Every datagram answering dgram, up to the LAST RECORD or a NACK."""
    from klog import protocol
    s.send(dgram)
    out = []
    while True:
        b = s.recv(65536)
        h = protocol.decode(b)
        out.append((h, b))
        if h.opcode != klog.Op.RECORD or h.flags & protocol.F_LAST:
            return out


def test_read_by_hand(bed, client):
    """READ's edges as doc/protocol.md says, by hand: max_bytes, to_lsn, TOOBIG,
    BADLEN, FLAGS, the echoed ids, INFO_REPLY's length."""
    from klog import protocol
    lsns = client.append_many([b"a" * 100, b"b" * 300, b"c" * 50, b"d"], durable=True)
    s = _raw(bed)
    cid, rid = 0xFEED, 4242
    # max_bytes 0: one record; 400 bytes: the first two (100 + 300), LAST on the second
    a = _answers(s, protocol.encode_read(cid, rid, lsns[0], 0, 0, 0))
    assert [h.lsn for h, _ in a] == [lsns[0]]
    a = _answers(s, protocol.encode_read(cid, rid, lsns[0], 0, 400, 0))
    assert [h.lsn for h, _ in a] == lsns[:2]
    assert [h.flags for h, _ in a] == [0, protocol.F_LAST]
    for h, b in a:
        assert (h.client_id, h.request_id, h.status, h.opcode) == (cid, rid, 0, klog.Op.RECORD)
        assert h.len == len(b) - 40 == 8 + (100 if h.lsn == lsns[0] else 300)
        crc, _ = protocol.READ_REC.unpack_from(b, 40)
        assert crc == crc32c(b[48:])
    # to_lsn bounds the answer
    a = _answers(s, protocol.encode_read(cid, rid, lsns[1], lsns[2], 1 << 20, 0))
    assert [h.lsn for h, _ in a] == lsns[1:3]
    # the first record longer than max_bytes: TOOBIG
    (h, _), = _answers(s, protocol.encode_read(cid, rid, lsns[1], 0, 200, 0))
    assert (h.opcode, h.status, h.lsn) == (klog.Op.NACK, klog.Status.TOOBIG, lsns[1])
    # len neither 0 nor 16: BADLEN; a flag: FLAGS
    bad = klog.Header(klog.Op.READ, 0, cid, 0, 8, rid, 0, lsns[0]).encode(bytes(8))
    (h, _), = _answers(s, bad)
    assert (h.opcode, h.status) == (klog.Op.NACK, klog.Status.BADLEN)
    flagged = klog.Header(klog.Op.READ, protocol.F_DURABLE, cid, 0, 0, rid, 0, lsns[0]).encode()
    (h, _), = _answers(s, flagged)
    assert (h.opcode, h.status) == (klog.Op.NACK, klog.Status.FLAGS)
    # INFO_REPLY: status OK, len 48, the ids echoed
    (h, b), = _answers(s, protocol.encode_info(cid, rid))
    assert (h.opcode, h.status, h.len, len(b), h.client_id, h.request_id) == \
        (klog.Op.INFO_REPLY, 0, 48, 88, cid, rid)
    s.close()


def test_long_poll_by_hand(bed, client):
    """A READ with wait_ms past the durable end is held that long, then NOTYET;
    held, it is answered as soon as the record is durable."""
    import time
    from klog import protocol
    s = _raw(bed)
    end = client.info().next_lsn
    t = time.monotonic()
    (h, _), = _answers(s, protocol.encode_read(7, 8, end, 0, 1 << 16, 300))
    held = time.monotonic() - t
    assert (h.opcode, h.status, h.lsn) == (klog.Op.NACK, klog.Status.NOTYET, end)
    assert 0.25 < held < 2.0, held
    s.send(protocol.encode_read(7, 9, end, 0, 1 << 16, 5000))
    time.sleep(0.2)
    t = time.monotonic()
    lsn = client.append(b"wakes the long poll", durable=True)
    h = protocol.decode(s.recv(65536))
    assert (h.opcode, h.lsn, h.request_id) == (klog.Op.RECORD, lsn, 9)
    assert time.monotonic() - t < 3.0  # not the 5 s of wait_ms
    s.close()
