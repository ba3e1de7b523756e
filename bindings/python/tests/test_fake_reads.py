# SPDX-License-Identifier: GPL-2.0-only
"""The client's reads against a stand-in server on loopback that answers READ
and INFO as doc/protocol.md says, and loses datagrams on purpose (seeded):
read_range asks again from the first LSN missing, RECORDs of older requests
are ignored, a damaged RECORD is refused.  Pure Python: no klogd."""
import random
import socket
import threading

import pytest

import klog
from klog import protocol
from klog.crc32c import crc32c
from klog.protocol import F_LAST, Op, Status


class FakeServer:
    """READ and INFO of doc/protocol.md ("Reading") from a list of records."""

    def __init__(self, records, first=1, loss=0.0, seed=1):
        self.records = records  # LSN first + k -> records[k] = (txid, bytes)
        self.first = first
        self.loss = loss
        self.rng = random.Random(seed)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.05)
        self.port = self.sock.getsockname()[1]
        self.reads = 0
        self.corrupt = set()  # LSNs sent with a wrong CRC
        self.corrupt_rate = 0.0  # and this share of all the others
        self.stop = False
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    @property
    def end(self):  # the first LSN not durable
        return self.first + len(self.records)

    def send(self, dgram, addr):
        if self.rng.random() >= self.loss:
            self.sock.sendto(dgram, addr)

    def run(self):
        while not self.stop:
            try:
                dgram, addr = self.sock.recvfrom(65536)
            except socket.timeout:
                continue
            if self.rng.random() < self.loss:
                continue  # the request lost
            h = protocol.decode(dgram)
            if h.opcode == Op.INFO:
                info = klog.Info(1, 0, 7070, 1400, 128, 256 * 1024, 0xABCD, self.first,
                                 self.end, self.end).encode()
                self.send(klog.Header(Op.INFO_REPLY, 0, h.client_id, 0, len(info),
                                      h.request_id).encode(info), addr)
            elif h.opcode == Op.READ:
                self.reads += 1
                self.read(h, dgram, addr)

    def nack(self, h, status, lsn, addr):
        self.send(klog.Header(Op.NACK, 0, h.client_id, status, 0, h.request_id, 0,
                              lsn).encode(), addr)

    def read(self, h, dgram, addr):
        to_lsn, max_bytes = 0, 0
        if h.len == 16:
            to_lsn, max_bytes, _ = protocol.READ_REQ.unpack_from(dgram, 40)
        elif h.len:
            return self.nack(h, Status.BADLEN, h.lsn, addr)
        else:
            to_lsn = h.lsn
        if h.lsn < self.first:
            return self.nack(h, Status.TRIMMED, self.first, addr)
        if h.lsn >= self.end:
            return self.nack(h, Status.NOTYET, self.end, addr)
        last = self.end - 1 if not to_lsn else min(to_lsn, self.end - 1)
        out, total = [], 0
        for lsn in range(h.lsn, last + 1):
            txid, data = self.records[lsn - self.first]
            if out and (len(out) == 256 or total + len(data) > (max_bytes or 0)):
                break
            out.append((lsn, txid, data))
            total += len(data)
        for k, (lsn, txid, data) in enumerate(out):
            bad = lsn in self.corrupt or self.rng.random() < self.corrupt_rate
            crc = crc32c(data) ^ (1 if bad else 0)
            body = protocol.READ_REC.pack(crc, 0x1234) + data
            flags = F_LAST if k == len(out) - 1 else 0
            self.send(klog.Header(Op.RECORD, flags, h.client_id, 0, len(body), h.request_id,
                                  txid, lsn).encode(body), addr)

    def close(self):
        self.stop = True
        self.thread.join()
        self.sock.close()


def _records(n, seed=5):
    rng = random.Random(seed)
    return [(k, rng.randbytes(rng.randint(1, 1400))) for k in range(n)]


@pytest.fixture
def fake():
    servers = []

    def make(*a, **kw):
        s = FakeServer(*a, **kw)
        servers.append(s)
        return s
    yield make
    for s in servers:
        s.close()


def test_read_range_without_loss(fake):
    recs = _records(1000)
    s = fake(recs)
    with klog.Client("127.0.0.1", s.port) as c:
        got = list(c.read_range(1))
        assert [(r.lsn, r.txid, r.payload) for r in got] == \
            [(k + 1, t, d) for k, (t, d) in enumerate(recs)]
        assert all(r.rec_crc == 0x1234 for r in got)
        assert c.info().next_lsn == 1001
        assert c.read(500).payload == recs[499][1]


def test_read_range_with_loss(fake):
    """A quarter of requests and RECORDs lost: every record once, in order."""
    recs = _records(1500)
    s = fake(recs, loss=0.25, seed=9)
    with klog.Client("127.0.0.1", s.port, timeout=0.05, retries=50) as c:
        got = list(c.read_range(1, 1500))
        assert [r.lsn for r in got] == list(range(1, 1501))
        assert [r.payload for r in got] == [d for _, d in recs]
        assert c.read_requests > 10
        assert c.read(1234).payload == recs[1233][1]
        assert c.info().durable_lsn == 1501


def test_errors_and_crc(fake):
    recs = _records(20)
    s = fake(recs, first=5)
    with klog.Client("127.0.0.1", s.port) as c:
        with pytest.raises(klog.Trimmed) as e:
            c.read(4)
        assert e.value.lsn == 5
        with pytest.raises(klog.NotYet) as e:
            c.read(25)
        assert e.value.lsn == 25
        with pytest.raises(klog.NotYet):
            list(c.read_range(20, 30))
        assert [r.lsn for r in c.read_range(20)] == [20, 21, 22, 23, 24]
        assert list(c.tail(25, follow=False)) == []
    # A RECORD failing its CRC-32C is as if lost: asked for again, and named
    # once the retries run out on it.
    s.corrupt.add(7)
    with klog.Client("127.0.0.1", s.port, timeout=0.05, retries=3) as c:
        reads = s.reads
        with pytest.raises(klog.CrcMismatch) as e:
            c.read(7)
        assert e.value.lsn == 7 and str(e.value).startswith("CRC")
        assert s.reads - reads == 4
        got = []
        with pytest.raises(klog.CrcMismatch):
            for r in c.read_range(5, 10):
                got.append(r.lsn)
        assert got == [5, 6]
        assert c.read(8).lsn == 8


def test_read_range_with_loss_and_damage(fake):
    """A fifth of the datagrams lost and a tenth of the RECORDs damaged (wrong CRC)."""
    recs = _records(800)
    s = fake(recs, loss=0.2, seed=10)
    s.corrupt_rate = 0.1
    with klog.Client("127.0.0.1", s.port, timeout=0.05, retries=50) as c:
        got = list(c.read_range(1, 800))
        assert [r.payload for r in got] == [d for _, d in recs]


def test_timeout_without_answers():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))  # never answers
    with klog.Client("127.0.0.1", s.getsockname()[1], timeout=0.01, retries=3) as c:
        with pytest.raises(klog.Timeout):
            c.info()
        with pytest.raises(klog.Timeout):
            list(c.read_range(1, 5))
    s.close()
