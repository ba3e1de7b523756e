# SPDX-License-Identifier: GPL-2.0-only
"""klog's client: appends (plain, durable, pipelined) and reads over UDP.

Appends behave as libklog's C client (libklog/client.c, doc/protocol.md,
"Retransmission"): request ids consecutive from the wall clock in ns; a
request without an answer within the timeout is resent byte for byte (same
client and request ids, so the server's dedup window answers it with the
original LSN); FULL, BUSY and NOTREADY are retried after a pause that
doubles from 1 ms up to the timeout; a durable append that got ACK+PENDING
sends QUERY one timeout later, then after each further timeout; at most
max_outstanding (64, the dedup window) requests in flight, and the ids in
flight always span fewer than that.  Every resend, retry and QUERY uses one
of `retries`; they start over when a durable append gets ACK+PENDING.

Reads (READ, INFO) go through a second socket, so that their answers never
mix with appends': a READ that got no (complete) answer within the timeout
is sent again from the first LSN not received, with a new request id.
"""
import errno
import os
import select
import socket
import time

from . import errors
from .crc32c import crc32c
from .errors import KlogError
from .protocol import (DEDUP_WINDOW, DEFAULT_PORT, F_LAST, F_PENDING, HEADER_SIZE,
                       MAX_RECORD_LIMIT, READ_MAX_BYTES, READ_MAX_RECORDS,
                       READ_MAX_WAIT_MS, READ_REC, DecodeError, Op, Record, Status,
                       decode, decode_info, encode_append, encode_info, encode_query,
                       encode_read)

# Linux socket options Python does not name: set a buffer above rmem_max/wmem_max
# (CAP_NET_ADMIN).
SO_SNDBUFFORCE = getattr(socket, "SO_SNDBUFFORCE", 32)
SO_RCVBUFFORCE = getattr(socket, "SO_RCVBUFFORCE", 33)

# What the kernel charges a socket for one datagram (skb truesize): over veth
# XDP_TX builds a reply in the request's frame, a page or two and the skb
# (doc/protocol.md, "Retransmission").  Two per request in flight: its reply
# and the DURABLE notice or the answer to a resend.
DGRAM_TRUESIZE = 8192 + 512
BUF_PER_REQUEST = 2 * DGRAM_TRUESIZE
# A READ's answer is up to 256 RECORDs at once.
READ_RCVBUF = 2 * READ_MAX_RECORDS * DGRAM_TRUESIZE
# read() past what it holds reads ahead this many records, if the LSN is
# at most READ_AHEAD_GAP past the last one it read.
READ_AHEAD = READ_MAX_RECORDS
READ_AHEAD_GAP = 64

_TRANSIENT = (Status.FULL, Status.BUSY, Status.NOTREADY)
# Errors of send/recv that mean a datagram was (or may have been) lost.
_LOST = (ConnectionRefusedError, BlockingIOError, InterruptedError)
_LOST_ERRNOS = {getattr(errno, n) for n in ("ECONNREFUSED", "EHOSTUNREACH", "ENETUNREACH", "EHOSTDOWN",
                          "ENETDOWN", "EAGAIN", "ENOBUFS", "EINTR")}

# States of an append in flight.
SENT, BACKOFF, PENDING, DONE = "sent", "backoff", "pending", "done"


def _lost(exc):
    return isinstance(exc, _LOST) or (isinstance(exc, OSError) and exc.errno in _LOST_ERRNOS)


class Append:
    """One append in flight: a future completed by the Client that made it.

    request_id and the datagram never change, so that every resend is the
    same request byte for byte.  result() drives the client until the append
    completes, and returns its LSN or raises its KlogError."""
    __slots__ = ("client", "request_id", "txid", "durable", "dgram", "state", "deadline",
                 "tries", "lsn", "_exc")

    def __init__(self, client, request_id, txid, durable, dgram):
        self.client = client
        self.request_id = request_id
        self.txid = txid
        self.durable = durable
        self.dgram = dgram
        self.state = SENT
        self.deadline = 0.0
        self.tries = 0
        self.lsn = 0
        self._exc = None

    def done(self):
        return self.state == DONE

    def result(self, timeout=None):
        """The record's LSN (durable: once DURABLE came); raises its KlogError,
        or Timeout if timeout seconds pass first (it stays in flight then)."""
        self.client._wait_for(self, timeout)
        if self._exc is not None:
            raise self._exc
        return self.lsn

    def exception(self, timeout=None):
        self.client._wait_for(self, timeout)
        return self._exc

    def __repr__(self):
        return (f"<klog.Append request_id={self.request_id} state={self.state} "
                f"lsn={self.lsn} exc={self._exc!r}>")


def _size_buffer(sock, opt, force, need, what):
    """At least need bytes of buffer (forced as root); warns on stderr if not."""
    have = sock.getsockopt(socket.SOL_SOCKET, opt)
    if have >= need:
        return have
    # The kernel doubles what is asked, for its bookkeeping.
    for o in (opt, force):
        try:
            sock.setsockopt(socket.SOL_SOCKET, o, need // 2 + 1)
        except OSError:
            pass
        have = sock.getsockopt(socket.SOL_SOCKET, opt)
        if have >= need:
            return have
    import sys
    print(f"klog: warning: the socket's {what} buffer is {have} bytes, {need} wanted for "
          f"the datagrams in flight: raise net.core.{'rmem_max' if what == 'receive' else 'wmem_max'}, "
          f"or datagrams dropped on a full buffer are resent only after the timeout",
          file=sys.stderr)
    return have


class Client:
    """A client of the klog server at host:port.

    client_id: 32 bits, random if None (a client that must recognise its own
    records after a restart keeps a fixed one).  timeout: seconds before a
    resend, retry or QUERY; retries: how many of them per request before
    Timeout (or the NACK's error); max_outstanding: appends in flight, at
    most 64 (the server's dedup window)."""

    def __init__(self, host, port=DEFAULT_PORT, client_id=None, timeout=0.2, retries=10,
                 max_outstanding=DEDUP_WINDOW, read_max_bytes=None):
        if not 1 <= max_outstanding <= DEDUP_WINDOW:
            raise ValueError(f"max_outstanding must be 1..{DEDUP_WINDOW}")
        if client_id is None:
            client_id = int.from_bytes(os.urandom(4), "big") or 1
        if not 0 <= client_id < 1 << 32:
            raise ValueError("client_id must fit 32 bits")
        self.host, self.port = host, port
        self.client_id = client_id
        self.timeout = float(timeout)
        self.retries = int(retries)
        self.max_outstanding = max_outstanding
        # Ids grow across restarts too, unless the last run sent more than 1/ns.
        self._next_request = time.time_ns()
        self._next_read = time.time_ns()
        self._inflight = {}  # request_id -> Append, in request id order
        self._addr = None
        self._sock = self._connect(max_outstanding * BUF_PER_REQUEST)
        self._rsock = None
        self._read_max_bytes = read_max_bytes
        self._buf = bytearray(65536)
        # What happened, for tests and curiosity.
        self.resends = 0  # APPENDs sent again after a timeout
        self.retried = 0  # APPENDs sent again after FULL, BUSY or NOTREADY
        self.queries = 0  # QUERYs sent
        self.read_requests = 0  # READs sent (re-requests included)
        self._ahead = {}  # LSN -> Record read ahead by read()
        self._ahead_next = 0  # the LSN after the last one read() fetched

    # ------------------------------------------------------------------
    # Sockets

    def _connect(self, bufsize):
        infos = socket.getaddrinfo(self.host, self.port, type=socket.SOCK_DGRAM)
        last = None
        for family, type_, proto, _, addr in infos:
            try:
                s = socket.socket(family, type_ | socket.SOCK_CLOEXEC, proto)
            except OSError as e:
                last = e
                continue
            try:
                # connect(): answers come only from the server, ICMP errors surface.
                s.connect(addr)
            except OSError as e:
                s.close()
                last = e
                continue
            s.setblocking(False)
            _size_buffer(s, socket.SO_RCVBUF, SO_RCVBUFFORCE, bufsize, "receive")
            _size_buffer(s, socket.SO_SNDBUF, SO_SNDBUFFORCE, bufsize, "send")
            self._addr = addr
            return s
        raise last or OSError(f"cannot reach {self.host}:{self.port}")

    def _read_sock(self):
        if self._rsock is None:
            self._rsock = self._connect(READ_RCVBUF)
            if self._read_max_bytes is None:
                have = self._rsock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
                # What the buffer holds of full-size RECORDs, with room to spare.
                self._read_max_bytes = max(1, min(READ_MAX_BYTES, have * 1400 // (2 * DGRAM_TRUESIZE)))
        return self._rsock

    def close(self):
        for s in (self._sock, self._rsock):
            if s is not None:
                s.close()
        self._rsock = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def fileno(self):
        """The append socket's descriptor, for a caller's own event loop (then poll(0))."""
        return self._sock.fileno()

    @staticmethod
    def _send(sock, dgram):
        try:
            sock.send(dgram)
        except OSError as e:
            if not _lost(e):
                raise

    # ------------------------------------------------------------------
    # Appends

    @property
    def outstanding(self):
        """Appends in flight."""
        return len(self._inflight)

    def _room(self):
        if len(self._inflight) >= self.max_outstanding:
            return False
        if not self._inflight:
            return True
        # The ids in flight span fewer than max_outstanding (<= the dedup window),
        # so a resend of the oldest is never STALE.
        oldest = next(iter(self._inflight))
        return self._next_request - oldest < self.max_outstanding

    def submit(self, payload, txid=0, durable=False):
        """Send one APPEND without waiting for its answer; waits (driving the
        client) while max_outstanding are in flight.  Returns an Append whose
        result() is the LSN.  payload: 1..max_record bytes."""
        payload = bytes(payload)
        if not payload:
            raise errors.BadLen("empty record")
        if len(payload) > MAX_RECORD_LIMIT:
            raise errors.TooBig(f"{len(payload)} bytes")
        while not self._room():
            self._step(None)
        rid = self._next_request
        self._next_request += 1
        a = Append(self, rid, txid, bool(durable),
                   encode_append(self.client_id, rid, payload, txid, durable))
        self._send(self._sock, a.dgram)
        a.deadline = time.monotonic() + self.timeout
        self._inflight[rid] = a
        return a

    def append(self, payload, txid=0, durable=False):
        """Append one record and return its LSN (durable: once on disk)."""
        return self.submit(payload, txid, durable).result()

    def append_many(self, records, durable=False, txid=0):
        """Append every record of an iterable, keeping max_outstanding in flight;
        returns their LSNs in order.  An item is bytes, or (bytes, txid).
        Raises the first error, in the records' order, once all are answered."""
        pending = []
        for r in records:
            if isinstance(r, tuple):
                pending.append(self.submit(r[0], r[1], durable))
            else:
                pending.append(self.submit(r, txid, durable))
            self.poll(0)
        self.flush()
        return [a.result() for a in pending]

    def poll(self, timeout=0):
        """Handle every answer waiting and every deadline passed; waits up to
        timeout seconds (None: until something completes) for a first
        completion.  Returns the number of appends completed."""
        end = None if timeout is None else time.monotonic() + timeout
        done = self._step(end, block=False)
        while not done and self._inflight and (end is None or time.monotonic() < end):
            done += self._step(end)
        return done

    def flush(self, timeout=None):
        """Wait until no append is in flight (each then holds its LSN or its
        error); Timeout if timeout seconds pass first."""
        end = None if timeout is None else time.monotonic() + timeout
        while self._inflight:
            if end is not None and time.monotonic() >= end:
                raise errors.Timeout(f"{len(self._inflight)} appends still in flight")
            self._step(end)

    def _wait_for(self, a, timeout):
        end = None if timeout is None else time.monotonic() + timeout
        while a.state != DONE:
            if end is not None and time.monotonic() >= end:
                raise errors.Timeout(f"request {a.request_id} still in flight")
            self._step(end)

    def _complete(self, a, lsn=0, exc=None):
        a.state = DONE
        if lsn:
            a.lsn = lsn
        a._exc = exc
        del self._inflight[a.request_id]
        return 1

    def _step(self, end, block=True):
        """Receive what waits, run the timers; if block and nothing completed,
        sleep until the first deadline, an answer or end.  Returns completions."""
        done = self._receive() + self._timers(time.monotonic())
        if done or not block or not self._inflight:
            return done
        first = min(a.deadline for a in self._inflight.values())
        if end is not None:
            first = min(first, end)
        wait = first - time.monotonic()
        if wait > 0:
            select.select([self._sock], [], [], wait)
        return self._receive() + self._timers(time.monotonic())

    def _recv_one(self, sock):
        """One klog datagram waiting on sock, into self._buf: (header, length);
        (None, 0) for a lost or malformed one; BlockingIOError when none waits."""
        try:
            n = sock.recv_into(self._buf)
        except OSError as e:
            if isinstance(e, BlockingIOError) or not _lost(e):
                raise
            return None, 0
        try:
            return decode(memoryview(self._buf)[:n]), n
        except DecodeError:
            return None, 0

    def _receive(self):
        done = 0
        # Bounded, so that a flood of strays cannot keep the timers waiting.
        for _ in range(4 * DEDUP_WINDOW + 64):
            try:
                h, _ = self._recv_one(self._sock)
            except BlockingIOError:
                break
            if h is not None:
                done += self._answer(h)
        return done

    def _answer(self, h):
        a = self._inflight.get(h.request_id)
        if h.client_id != self.client_id or a is None:
            return 0  # another client's, or a duplicate of a completed one
        now = time.monotonic()
        if h.opcode == Op.DURABLE:
            if a.state == PENDING and h.lsn != a.lsn:
                return 0
            return self._complete(a, h.lsn)
        if h.opcode == Op.ACK:
            if not a.durable:
                return self._complete(a, h.lsn)
            # Appended, not durable yet (also a QUERY's answer): wait on.
            if a.state != PENDING:
                a.state = PENDING
                a.lsn = h.lsn
                a.tries = 0
                a.deadline = now + self.timeout
            return 0
        if h.opcode == Op.NACK:
            if h.status == Status.CORRUPT:
                # The LSN holds a tombstone: the answer names it.
                if a.state == PENDING and h.lsn != a.lsn:
                    return 0
                return self._complete(a, exc=errors.Corrupt(
                    f"request {a.request_id}: stored as a tombstone at LSN {h.lsn}", lsn=h.lsn))
            if h.status in _TRANSIENT:
                # PENDING: a late answer to an earlier resend, or a QUERY refused
                # for now: the next QUERY asks again.  BACKOFF: a retry is due.
                if a.state != SENT:
                    return 0
                if a.tries >= self.retries:
                    return self._complete(a, exc=errors.from_status(
                        h.status, f"request {a.request_id} after {a.tries} retries"))
                a.tries += 1
                a.state = BACKOFF
                a.deadline = now + min(2 ** min(a.tries - 1, 16) / 1000.0, self.timeout)
                return 0
            lsn = a.lsn if a.state == PENDING else 0
            return self._complete(a, exc=errors.from_status(
                h.status, f"request {a.request_id}", lsn=lsn))
        return 0  # a request, not an answer

    def _timers(self, now):
        done = 0
        for a in [a for a in self._inflight.values() if a.deadline <= now]:
            if a.state != BACKOFF and a.tries >= self.retries:
                lsn = a.lsn if a.state == PENDING else 0
                what = "DURABLE" if a.state == PENDING else "an answer"
                done += self._complete(a, exc=errors.Timeout(
                    f"request {a.request_id}: no {what} after {a.tries} tries", lsn=lsn))
                continue
            if a.state == PENDING:
                a.tries += 1
                self.queries += 1
                self._send(self._sock, encode_query(self.client_id, a.request_id, a.lsn, a.txid))
            else:
                if a.state == SENT:
                    a.tries += 1
                    self.resends += 1
                else:
                    self.retried += 1
                a.state = SENT
                self._send(self._sock, a.dgram)
            a.deadline = now + self.timeout
        return done

    # ------------------------------------------------------------------
    # Reads

    def _read_id(self):
        self._next_read += 1
        return self._next_read

    def _exchange(self, make, accept, extra_wait=0.0):
        """Send make(request_id) on the read socket until accept(header, datagram)
        returns something other than None (a fresh request id each time, since
        answers to older ones are ignored); UNAVAIL is retried with a doubling
        pause.  accept may raise; a damaged answer (CrcMismatch, ProtocolError)
        counts as lost, and is what is raised if the retries run out on one,
        Timeout otherwise."""
        sock = self._read_sock()
        tries = 0
        while True:
            damaged = None
            rid = self._read_id()
            self.read_requests += 1
            self._send(sock, make(rid))
            end = time.monotonic() + self.timeout + extra_wait
            while True:
                h, dgram = self._recv_read(rid, end)
                if h is None:
                    break
                if h.opcode == Op.NACK and h.status == Status.UNAVAIL:
                    if tries >= self.retries:
                        raise errors.Unavailable(f"after {tries} retries", lsn=h.lsn)
                    time.sleep(min(2 ** min(tries, 16) / 1000.0, self.timeout))
                    break
                try:
                    r = accept(h, dgram)
                except (errors.CrcMismatch, errors.ProtocolError) as e:
                    damaged = e  # as if lost: asked for again
                    if h.flags & F_LAST:
                        break
                    continue
                if r is not None:
                    return r
            tries += 1
            if tries > self.retries:
                if damaged is not None:
                    raise damaged
                raise errors.Timeout(f"no answer from {self.host}:{self.port} after {tries} tries")

    def _recv_read(self, rid, end):
        """The next answer to request rid on the read socket before end: (header,
        datagram bytes) or (None, None)."""
        sock = self._rsock
        while True:
            try:
                h, n = self._recv_one(sock)
            except BlockingIOError:
                wait = end - time.monotonic()
                if wait <= 0:
                    return None, None
                select.select([sock], [], [], wait)
                continue
            if h is None:
                continue
            if h.client_id != self.client_id or h.request_id != rid:
                continue  # an older request's, or another client's
            if h.opcode not in (Op.RECORD, Op.NACK, Op.INFO_REPLY):
                continue
            return h, bytes(self._buf[:n])

    def info(self):
        """The server's INFO_REPLY: a klog.Info (version, backend, port,
        max_record, block_size, max_read_bytes, log_id, first_lsn,
        durable_lsn, next_lsn)."""
        def accept(h, dgram):
            if h.opcode == Op.INFO_REPLY:
                return decode_info(dgram[HEADER_SIZE:HEADER_SIZE + h.len])
            if h.opcode == Op.NACK:
                raise errors.from_status(h.status, "INFO", lsn=h.lsn)
            return None
        return self._exchange(lambda rid: encode_info(self.client_id, rid), accept)

    @staticmethod
    def _record(h, dgram):
        body = dgram[HEADER_SIZE:HEADER_SIZE + h.len]
        if h.len < READ_REC.size or len(body) != h.len:
            raise errors.ProtocolError(f"RECORD of LSN {h.lsn}: len {h.len}, "
                                       f"{len(dgram) - HEADER_SIZE} bytes after the header",
                                       lsn=h.lsn)
        crc, rec_crc = READ_REC.unpack_from(body)
        payload = body[READ_REC.size:]
        if h.status == Status.CORRUPT:
            if payload:
                raise errors.ProtocolError(f"RECORD of LSN {h.lsn}: a tombstone with "
                                           f"{len(payload)} bytes", lsn=h.lsn)
            return Record(h.lsn, h.txid, b"", crc, rec_crc, corrupt=True)
        got = crc32c(payload)
        if got != crc:
            raise errors.CrcMismatch(f"LSN {h.lsn}: CRC-32C {got:#010x}, the RECORD says "
                                     f"{crc:#010x}", lsn=h.lsn)
        return Record(h.lsn, h.txid, payload, crc, rec_crc)

    def read(self, lsn):
        """Record lsn (a klog.Record, its CRC-32C checked).  Raises NotYet,
        Trimmed, Lost, Unavailable (after retries), Timeout; Corrupt if lsn
        holds a tombstone (its bytes were damaged before they were stored).
        Just past the records it read before, it reads ahead (up to
        READ_AHEAD records in one READ, as libklog does), so that reading the
        log in order LSN by LSN costs what read_range does."""
        rec = self._read_any(lsn)
        if rec.corrupt:
            raise errors.Corrupt(f"READ {lsn}: a tombstone", lsn=lsn)
        return rec

    def _read_any(self, lsn):
        """read() of lsn, a tombstone returned as one."""
        if lsn < 1:
            raise ValueError("LSNs start at 1")
        rec = self._ahead.get(lsn)
        if rec is not None:
            return rec
        if self._ahead_next and 0 <= lsn - self._ahead_next < READ_AHEAD_GAP:
            self._ahead = {}
            try:
                for rec in self._read_answer(lsn, lsn + READ_AHEAD - 1, 0):
                    self._ahead[rec.lsn] = rec
                    self._ahead_next = rec.lsn + 1
            except errors.KlogError:
                # Past the durable end, or a record the server cannot send: the
                # read ahead ends there, and only lsn's own error is raised.
                if lsn not in self._ahead:
                    raise
            return self._ahead[lsn]
        rec = self._read_one(lsn)
        self._ahead = {}
        self._ahead_next = lsn + 1
        return rec

    def _read_one(self, lsn):
        """READ of record lsn alone."""
        def accept(h, dgram):
            if h.opcode == Op.RECORD:
                if h.lsn != lsn:
                    raise errors.ProtocolError(f"READ {lsn} answered with LSN {h.lsn}", lsn=h.lsn)
                return self._record(h, dgram)
            if h.opcode == Op.NACK:
                raise errors.from_status(h.status, f"READ {lsn}", lsn=h.lsn)
            return None
        return self._exchange(lambda rid: encode_read(self.client_id, rid, lsn), accept)

    def _read_answer(self, start, to_lsn, wait_ms):
        """One READ from start: yields records in LSN order, without a gap,
        as they arrive; records past a gap are kept until it fills.  Re-sent
        from the first LSN missing when an answer is incomplete (a RECORD lost)
        or never comes, or a RECORD is damaged (its CRC-32C: as if lost, and
        CrcMismatch instead of Timeout if the retries run out on one, as
        libklog does).  Ends after the answer's LAST record (returns with
        nothing yielded only on a NACK, which it raises)."""
        sock = self._read_sock()
        nxt = start
        held = {}  # LSN -> Record past a gap
        tries = 0
        extra = wait_ms / 1000.0
        max_bytes = self._read_max_bytes
        while True:
            rid = self._read_id()
            self.read_requests += 1
            self._send(sock, encode_read(self.client_id, rid, nxt, to_lsn or 0, max_bytes, wait_ms))
            end = time.monotonic() + self.timeout + extra
            last = None
            progress = False
            damaged = None
            while True:
                h, dgram = self._recv_read(rid, end)
                if h is None:
                    break
                if h.opcode == Op.NACK:
                    if h.status == Status.UNAVAIL:
                        if tries >= self.retries:
                            raise errors.Unavailable(f"READ {nxt} after {tries} retries", lsn=h.lsn)
                        time.sleep(min(2 ** min(tries, 16) / 1000.0, self.timeout))
                        break
                    if progress or nxt in held:
                        break  # the rest is answered for by the next READ
                    raise errors.from_status(h.status, f"READ {nxt}", lsn=h.lsn)
                if h.opcode != Op.RECORD:
                    continue
                try:
                    rec = self._record(h, dgram)
                except (errors.CrcMismatch, errors.ProtocolError) as e:
                    damaged = e  # as if lost: asked for again
                    if h.flags & F_LAST:
                        last = h.lsn
                        break
                    continue
                if rec.lsn >= nxt:
                    held[rec.lsn] = rec
                while nxt in held:
                    progress = True
                    yield held.pop(nxt)
                    nxt += 1
                if to_lsn and nxt > to_lsn:
                    return  # all asked for came (its LAST may yet be lost)
                if h.flags & F_LAST:
                    last = h.lsn
                    break
            if last is not None and nxt > last:
                return  # the whole answer came
            if progress:
                tries = 0
                if last is not None:
                    continue  # a RECORD lost inside it: ask again from there
            else:
                tries += 1
            if tries > self.retries:
                if damaged is not None:
                    raise damaged
                raise errors.Timeout(f"READ {nxt}: no answer from {self.host}:{self.port} "
                                     f"after {tries} tries", lsn=nxt)
            if to_lsn and nxt > to_lsn:
                return

    def read_range(self, from_lsn, to_lsn=None):
        """A generator of the records from_lsn..to_lsn (inclusive) in order,
        without a gap, each CRC-checked; to_lsn None: up to the durable end
        as the server sees it now.  Lost datagrams are asked for again from
        the first LSN missing.  A tombstone is yielded as a Record whose
        corrupt is True and payload b"".  Raises Trimmed, Lost, Unavailable, Timeout;
        NotYet if to_lsn is given and a record in the range is not durable."""
        if from_lsn < 1:
            raise ValueError("LSNs start at 1")
        nxt = from_lsn
        while to_lsn is None or nxt <= to_lsn:
            try:
                for rec in self._read_answer(nxt, to_lsn, 0):
                    yield rec
                    nxt = rec.lsn + 1
            except errors.NotYet:
                if to_lsn is None:
                    return
                raise

    def tail(self, from_lsn=None, follow=True, wait_ms=1000):
        """A generator of the records from from_lsn on (None: from the durable
        end, what is appended from now).  follow: at the durable end, long-poll
        (READ with wait_ms, at most 30 s) and go on for ever; otherwise stop
        there."""
        wait_ms = max(1, min(int(wait_ms), READ_MAX_WAIT_MS)) if follow else 0
        nxt = self.info().durable_lsn if from_lsn is None else from_lsn
        nxt = max(nxt, 1)
        while True:
            try:
                for rec in self._read_answer(nxt, 0, wait_ms):
                    yield rec
                    nxt = rec.lsn + 1
            except errors.NotYet:
                if not follow:
                    return
