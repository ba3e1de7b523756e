# SPDX-License-Identifier: GPL-2.0-only
"""CRC-32C (Castagnoli), table-driven, in pure Python.

The stdlib's zlib.crc32 is CRC-32 (IEEE), not Castagnoli; klog's records
carry CRC-32C (reflected polynomial 0x82F63B78, initial value and final XOR
0xFFFFFFFF): crc32c(b"123456789") == 0xE3069283.
"""

import struct

_POLY = 0x82F63B78


def _make_tables():
    t0 = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ _POLY if c & 1 else c >> 1
        t0.append(c)
    # Slicing by 4: table k gives the CRC of a byte followed by k zero bytes.
    tables = [t0]
    for _ in range(3):
        prev = tables[-1]
        tables.append([(prev[i] >> 8) ^ t0[prev[i] & 0xFF] for i in range(256)])
    return [tuple(t) for t in tables]


_T0, _T1, _T2, _T3 = _make_tables()
TABLE = _T0


def crc32c(data, crc=0):
    """The CRC-32C of data (bytes-like), continuing from crc (a previous result)."""
    mv = memoryview(data).cast("B")
    t0, t1, t2, t3 = _T0, _T1, _T2, _T3
    c = crc ^ 0xFFFFFFFF
    n = len(mv)
    n4 = n - n % 4
    if n4:
        for (w,) in struct.iter_unpack("<I", mv[:n4]):
            c ^= w
            c = t3[c & 0xFF] ^ t2[(c >> 8) & 0xFF] ^ t1[(c >> 16) & 0xFF] ^ t0[c >> 24]
    for b in mv[n4:]:
        c = t0[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF

