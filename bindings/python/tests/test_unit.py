# SPDX-License-Identifier: GPL-2.0-only
"""Pure Python: CRC-32C, the wire layout against include/klog/klog_abi.h (and
against libklog's encoder when run-tests.sh names libklog.so), errors."""
import ctypes
import os
import re
import struct
from pathlib import Path

import pytest

import klog
from klog import protocol
from klog.crc32c import crc32c

ABI = os.environ.get("KLOG_TEST_ABI") or str(
    Path(__file__).resolve().parents[3] / "include" / "klog" / "klog_abi.h")


def _bitwise_crc32c(data):
    c = 0xFFFFFFFF
    for b in data:
        c ^= b
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
    return c ^ 0xFFFFFFFF


def test_crc32c_known_vector():
    assert crc32c(b"123456789") == 0xE3069283
    assert crc32c(b"") == 0
    # RFC 3720 (iSCSI) B.4 vectors
    assert crc32c(bytes(32)) == 0x8A9136AA
    assert crc32c(b"\xff" * 32) == 0x62A8AB43
    assert crc32c(bytes(range(32))) == 0x46DD794E


def test_crc32c_matches_bitwise_and_continues():
    data = os.urandom(1031)
    for n in (0, 1, 2, 3, 4, 5, 7, 8, 63, 64, 1031):
        assert crc32c(data[:n]) == _bitwise_crc32c(data[:n]), n
    assert crc32c(data[500:], crc32c(data[:500])) == crc32c(data)
    assert crc32c(memoryview(data)) == crc32c(bytearray(data))


def _abi():
    return Path(ABI).read_text()


def test_layout_sizes_match_klog_abi_h():
    """Every struct's size as the C header's KLOG_STATIC_ASSERTs say."""
    text = _abi()
    sizes = dict((m.group(1), int(m.group(2))) for m in re.finditer(
        r"KLOG_STATIC_ASSERT\(sizeof\(struct (\w+)\) == (\d+)", text))
    assert sizes["klog_hdr"] == protocol.HEADER.size == 40
    assert sizes["klog_read_req"] == protocol.READ_REQ.size == 16
    assert sizes["klog_read_rec"] == protocol.READ_REC.size == 8
    assert sizes["klog_info"] == protocol.INFO.size == 48


def test_constants_match_klog_abi_h():
    text = _abi()

    def define(name):
        m = re.search(rf"#define {name} \(?(0x[0-9a-fA-F]+|\d+)u?", text)
        return int(m.group(1), 0)

    assert define("KLOG_MAGIC") == protocol.MAGIC
    assert define("KLOG_DEFAULT_PORT") == protocol.DEFAULT_PORT
    assert define("KLOG_DEDUP_WINDOW") == protocol.DEDUP_WINDOW
    assert define("KLOG_F_DURABLE") == protocol.F_DURABLE
    assert define("KLOG_F_PENDING") == protocol.F_PENDING
    assert define("KLOG_F_LAST") == protocol.F_LAST
    assert define("KLOG_F_CRC") == protocol.F_CRC
    assert define("KLOG_READ_MAX_RECORDS") == protocol.READ_MAX_RECORDS
    assert define("KLOG_READ_MAX_WAIT_MS") == protocol.READ_MAX_WAIT_MS
    assert "(256u * 1024)" in re.search(r"#define KLOG_READ_MAX_BYTES.*", text).group(0)
    for op in klog.Op:
        assert re.search(rf"KLOG_OP_{op.name} = {int(op)},", text), op
    for st in klog.Status:
        assert re.search(rf"KLOG_ST_{st.name} = {int(st)},", text), st


def test_header_field_offsets():
    """Big-endian fields at the offsets of doc/protocol.md's table."""
    h = klog.Header(opcode=klog.Op.APPEND, flags=0x0102, client_id=0x03040506, status=0x0708,
                    len=3, request_id=0x1112131415161718, txid=0x2122232425262728,
                    lsn=0x3132333435363738)
    b = h.encode(b"abc")
    assert len(b) == 43
    assert b[0:4] == b"KLOG" and b[4] == 1 and b[5] == 1
    assert b[6:8] == b"\x01\x02" and b[8:12] == b"\x03\x04\x05\x06"
    assert b[12:14] == b"\x07\x08" and b[14:16] == b"\x00\x03"
    assert b[16:24] == bytes(range(0x11, 0x19))
    assert b[24:32] == bytes(range(0x21, 0x29))
    assert b[32:40] == bytes(range(0x31, 0x39))
    assert b[40:] == b"abc"


def test_header_round_trip():
    for opcode in klog.Op:
        h = klog.Header(opcode=opcode, flags=opcode * 3 & 0xFFFF, client_id=0xDEADBEEF,
                        status=int(opcode) % 16, len=0, request_id=2**64 - 1 - opcode,
                        txid=opcode << 40, lsn=2**63 + opcode)
        assert protocol.decode(h.encode()) == h


def test_decode_refuses_what_is_not_klog():
    good = protocol.encode_query(1, 2, 3)
    with pytest.raises(protocol.DecodeError):
        protocol.decode(good[:39])
    with pytest.raises(protocol.DecodeError):
        protocol.decode(b"KLOX" + good[4:])
    with pytest.raises(protocol.DecodeError):
        protocol.decode(good[:4] + b"\x02" + good[5:])


def test_read_and_info_encoding():
    b = protocol.encode_read(7, 8, 9, to_lsn=20, max_bytes=4096, wait_ms=500)
    h = protocol.decode(b)
    assert (h.opcode, h.client_id, h.request_id, h.lsn, h.len, h.flags) == (6, 7, 8, 9, 16, 0)
    assert struct.unpack(">QII", b[40:]) == (20, 4096, 500)
    assert len(protocol.encode_read(7, 8, 9)) == 40
    assert protocol.decode(protocol.encode_read(7, 8, 9)).len == 0
    i = klog.Info(1, 0, 7070, 1400, 128, 262144, 0x0123456789ABCDEF, 1, 10, 12)
    assert protocol.decode_info(i.encode()) == i
    h = protocol.decode(protocol.encode_info(5, 6))
    assert (h.opcode, h.len, h.lsn) == (klog.Op.INFO, 0, 0)


def test_append_and_query_encoding():
    b = protocol.encode_append(0xA0B0C0D0, 99, b"payload", txid=42, durable=True)
    h = protocol.decode(b)
    assert (h.opcode, h.flags, h.client_id, h.len, h.request_id, h.txid, h.lsn) == \
        (klog.Op.APPEND, protocol.F_CRC | protocol.F_DURABLE, 0xA0B0C0D0, 7, 99, 42,
         crc32c(b"payload"))
    assert b[32:40] == bytes(4) + crc32c(b"payload").to_bytes(4, "big")
    assert b[40:] == b"payload"
    assert protocol.decode(protocol.encode_append(1, 2, b"x")).flags == protocol.F_CRC
    with pytest.raises(ValueError):
        protocol.encode_append(1, 2, b"")
    q = protocol.decode(protocol.encode_query(0xA0B0C0D0, 99, 1234, txid=42))
    assert (q.opcode, q.flags, q.len, q.request_id, q.lsn) == (klog.Op.QUERY, 0, 0, 99, 1234)


class _Msg(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint8), ("opcode", ctypes.c_uint8),
                ("flags", ctypes.c_uint16), ("client_id", ctypes.c_uint32),
                ("status", ctypes.c_uint16), ("len", ctypes.c_uint16),
                ("request_id", ctypes.c_uint64), ("txid", ctypes.c_uint64),
                ("lsn", ctypes.c_uint64)]


def test_same_bytes_as_libklog():
    """klog_encode() and klog_encode_append() of libklog.so make the same datagrams."""
    so = os.environ.get("KLOG_TEST_LIBKLOG")
    if not so:
        pytest.fail("KLOG_TEST_LIBKLOG (libklog.so) not set: run under run-tests.sh")
    lib = ctypes.CDLL(so)
    buf = ctypes.create_string_buffer(2048)
    payload = b"x" * 100 + bytes(range(200))
    n = lib.klog_encode_append(buf, ctypes.c_size_t(2048), ctypes.c_uint32(0xCAFEF00D),
                               ctypes.c_uint64(2**40 + 5), ctypes.c_uint64(77), payload,
                               ctypes.c_size_t(len(payload)))
    assert buf.raw[:n] == protocol.encode_append(0xCAFEF00D, 2**40 + 5, payload, txid=77)
    m = _Msg(0, klog.Op.QUERY, 0, 0xCAFEF00D, 0, 0, 2**40 + 5, 77, 123456)
    n = lib.klog_encode(buf, ctypes.c_size_t(2048), ctypes.byref(m), None)
    assert buf.raw[:n] == protocol.encode_query(0xCAFEF00D, 2**40 + 5, 123456, txid=77)
    m = _Msg(0, klog.Op.APPEND, protocol.F_DURABLE | protocol.F_CRC, 9, 0, 5, 10, 11,
             0x9A71BB4C)  # CRC-32C of b"hello", as libklog's own tests
    n = lib.klog_encode(buf, ctypes.c_size_t(2048), ctypes.byref(m), b"hello")
    assert buf.raw[:n] == protocol.encode_append(9, 10, b"hello", txid=11, durable=True)
    # and decodes what Python encodes
    m2 = _Msg()
    dgram = klog.Header(klog.Op.NACK, 2, 3, 9, 0, 4, 5, 6).encode()
    assert lib.klog_decode(dgram, ctypes.c_size_t(len(dgram)), ctypes.byref(m2)) == 0
    assert (m2.opcode, m2.flags, m2.client_id, m2.status, m2.request_id, m2.txid, m2.lsn) == \
        (klog.Op.NACK, 2, 3, 9, 4, 5, 6)


def test_crc32c_same_as_libklog():
    """libklog's appends carry its CRC-32C of the payload (KLOG_F_CRC): the
    same as this module's, for every length up to a few blocks and odd
    alignments, and for the largest record."""
    so = os.environ.get("KLOG_TEST_LIBKLOG")
    if not so:
        pytest.fail("KLOG_TEST_LIBKLOG (libklog.so) not set: run under run-tests.sh")
    lib = ctypes.CDLL(so)
    lib.klog_max_record.restype = ctypes.c_size_t
    buf = ctypes.create_string_buffer(16384)
    data = os.urandom(lib.klog_max_record() + 3)
    lens = list(range(1, 70)) + [127, 128, 129, 1000, lib.klog_max_record()]
    for n in lens:
        for off in (0, 1, 3):
            p = data[off:off + n]
            got = lib.klog_encode_append(buf, ctypes.c_size_t(len(buf)), ctypes.c_uint32(1),
                                         ctypes.c_uint64(2), ctypes.c_uint64(3), p,
                                         ctypes.c_size_t(len(p)))
            assert got == 40 + len(p)
            h = protocol.decode(buf.raw[:got])
            assert h.flags == protocol.F_CRC
            assert h.lsn == crc32c(p) == _bitwise_crc32c(p), (n, off)


def test_empty_record_refused_before_sending():
    """Zero-length records are refused everywhere (doc/format.md): the server
    says BADLEN, so the client does not send one."""
    c = klog.Client("127.0.0.1", port=9, retries=0)
    with pytest.raises(klog.BadLen):
        c.append(b"")
    with pytest.raises(klog.BadLen):
        c.submit(b"", durable=True)
    assert not c._inflight  # nothing was sent


def test_errors_carry_the_status_name():
    from klog import errors
    for st, cls in ((1, klog.Full), (3, klog.TooBig), (9, klog.Conflict), (10, klog.Stale),
                    (12, klog.NotYet), (13, klog.Trimmed), (14, klog.Lost),
                    (15, klog.Unavailable), (7, klog.Busy), (8, klog.NotReady),
                    (16, klog.Corrupt), (17, klog.BadField)):
        e = errors.from_status(st, "what", lsn=5)
        assert type(e) is cls and isinstance(e, klog.KlogError)
        assert e.status == st and e.lsn == 5
        assert str(e).startswith(klog.Status(st).name + ":")
    assert str(klog.Timeout("x")) == "TIMEOUT: x"
    assert errors.from_status(200).name == "status 200"
