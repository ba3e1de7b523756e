# SPDX-License-Identifier: GPL-2.0-only
"""klog wire protocol, version 1 (doc/protocol.md, include/klog/klog_abi.h).

Every datagram starts with a 40-byte big-endian header; READ may carry a
16-byte klog_read_req, a RECORD carries an 8-byte klog_read_rec then the
record's bytes, an INFO_REPLY a 48-byte klog_info.
"""
import enum
import struct
from dataclasses import dataclass

from .crc32c import crc32c

MAGIC = 0x4B4C4F47  # "KLOG"
VERSION = 1
DEFAULT_PORT = 7070
DEDUP_WINDOW = 64  # KLOG_DEDUP_WINDOW: requests a client may have outstanding
READ_MAX_BYTES = 256 * 1024  # KLOG_READ_MAX_BYTES
READ_MAX_RECORDS = 256  # KLOG_READ_MAX_RECORDS
READ_MAX_WAIT_MS = 30000  # KLOG_READ_MAX_WAIT_MS
MAX_RECORD_LIMIT = 9000  # no build takes larger records (the server says its own)


class Op(enum.IntEnum):
    APPEND = 1
    ACK = 2
    NACK = 3
    QUERY = 4
    DURABLE = 5
    READ = 6
    RECORD = 7
    INFO = 8
    INFO_REPLY = 9


class Status(enum.IntEnum):
    OK = 0
    FULL = 1
    BADLEN = 2
    TOOBIG = 3
    VERSION = 4
    OPCODE = 5
    FLAGS = 6
    BUSY = 7
    NOTREADY = 8
    CONFLICT = 9
    STALE = 10
    NOLSN = 11
    NOTYET = 12
    TRIMMED = 13
    LOST = 14
    UNAVAIL = 15
    CORRUPT = 16  # the LSN holds a tombstone: its bytes were damaged before they were stored
    BADFIELD = 17  # a request field that must be zero is not


def status_name(status):
    """FULL, CONFLICT, ... for a known status, else "status N"."""
    try:
        return Status(status).name
    except ValueError:
        return f"status {status}"


# Flags
F_DURABLE = 0x0001  # request: answer DURABLE once on disk
F_PENDING = 0x0002  # ACK: appended, not durable yet
F_LAST = 0x0004  # RECORD: the last datagram of one READ's answer
F_CRC = 0x0008  # APPEND: lsn carries the payload's CRC-32C (always set by this client)

HEADER = struct.Struct(">IBBHIHHQQQ")  # struct klog_hdr
READ_REQ = struct.Struct(">QII")  # struct klog_read_req
READ_REC = struct.Struct(">II")  # struct klog_read_rec
INFO = struct.Struct(">BBHIIIQQQQ")  # struct klog_info
HEADER_SIZE = HEADER.size  # 40
assert HEADER.size == 40 and READ_REQ.size == 16 and READ_REC.size == 8 and INFO.size == 48


@dataclass(frozen=True)
class Header:
    """A header's fields in host order; magic implied."""
    opcode: int
    flags: int = 0
    client_id: int = 0
    status: int = 0
    len: int = 0
    request_id: int = 0
    txid: int = 0
    lsn: int = 0
    version: int = VERSION

    def encode(self, payload=b""):
        """The datagram: this header then payload (len is taken from the field)."""
        return HEADER.pack(MAGIC, self.version, self.opcode, self.flags, self.client_id,
                           self.status, self.len, self.request_id, self.txid,
                           self.lsn) + bytes(payload)


class DecodeError(ValueError):
    """Not a klog datagram (short, wrong magic) or not version 1."""


def decode(buf):
    """The Header of a datagram (bytes-like); DecodeError if it is not one."""
    if len(buf) < HEADER_SIZE:
        raise DecodeError(f"{len(buf)} bytes: shorter than a header")
    (magic, version, opcode, flags, client_id, status, length, request_id, txid,
     lsn) = HEADER.unpack_from(buf)
    if magic != MAGIC:
        raise DecodeError(f"magic {magic:#x}")
    if version != VERSION:
        raise DecodeError(f"version {version}")
    return Header(opcode, flags, client_id, status, length, request_id, txid, lsn, version)


def encode_append(client_id, request_id, payload, txid=0, durable=False):
    """An APPEND datagram, with KLOG_F_CRC: its lsn field carries the payload's
    CRC-32C, which the server checks before the record may become durable.
    Raises ValueError for an empty payload (the server refuses it: BADLEN)."""
    payload = bytes(payload)
    if not payload:
        raise ValueError("an APPEND needs 1 byte of payload at least")
    flags = F_CRC | (F_DURABLE if durable else 0)
    return Header(Op.APPEND, flags, client_id, 0, len(payload),
                  request_id, txid, crc32c(payload)).encode(payload)


def encode_query(client_id, request_id, lsn, txid=0):
    """A QUERY for lsn (the APPEND's client and request ids; no payload, no flags)."""
    return Header(Op.QUERY, 0, client_id, 0, 0, request_id, txid, lsn).encode()


def encode_read(client_id, request_id, lsn, to_lsn=None, max_bytes=0, wait_ms=0):
    """A READ from lsn: len 0 when to_lsn is None (record lsn alone, no waiting),
    else 16 with klog_read_req (to_lsn 0: no limit)."""
    if to_lsn is None:
        return Header(Op.READ, 0, client_id, 0, 0, request_id, 0, lsn).encode()
    body = READ_REQ.pack(to_lsn, max_bytes, wait_ms)
    return Header(Op.READ, 0, client_id, 0, len(body), request_id, 0, lsn).encode(body)


def encode_info(client_id, request_id):
    """An INFO request."""
    return Header(Op.INFO, 0, client_id, 0, 0, request_id, 0, 0).encode()


@dataclass(frozen=True)
class Info:
    """An INFO_REPLY's struct klog_info."""
    version: int
    backend: int  # 0: a log directory, 1: a JetStream stream
    port: int
    max_record: int
    block_size: int
    max_read_bytes: int
    log_id: int
    first_lsn: int  # 0 if no record is durable yet
    durable_lsn: int  # every LSN below is durable
    next_lsn: int  # what the next append gets

    @property
    def backend_name(self):
        return {0: "dir", 1: "jetstream"}.get(self.backend, str(self.backend))

    def encode(self):
        return INFO.pack(self.version, self.backend, self.port, self.max_record,
                         self.block_size, self.max_read_bytes, self.log_id,
                         self.first_lsn, self.durable_lsn, self.next_lsn)


def decode_info(payload):
    if len(payload) < INFO.size:
        raise DecodeError(f"INFO_REPLY of {len(payload)} bytes")
    return Info(*INFO.unpack_from(payload))


@dataclass(frozen=True)
class Record:
    """A record read back: its LSN, txid, bytes and their CRC-32C (checked);
    rec_crc is the stored record's CRC (doc/format.md, klog_record.crc)."""
    lsn: int
    txid: int
    payload: bytes
    crc: int
    rec_crc: int = 0
    # A tombstone (the server answered CORRUPT): the record's bytes were damaged
    # before they were stored; payload is b"" (read_range yields it, read raises Corrupt).
    corrupt: bool = False
