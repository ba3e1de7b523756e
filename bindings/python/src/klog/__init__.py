# SPDX-License-Identifier: GPL-2.0-only
"""klog: a client of the klog in-kernel transaction log (stdlib only).

    import klog
    with klog.Client("10.0.0.1") as c:
        lsn = c.append(b"hello", txid=7, durable=True)
        rec = c.read(lsn)            # klog.Record(lsn, txid, payload, crc, rec_crc)

See README.md and doc/protocol.md.
"""
from .client import Append, Client
from .crc32c import crc32c
from .errors import (BadField, BadLen, Busy, Conflict, Corrupt, CrcMismatch, FlagsError, Full,
                     KlogError, Lost,
                     NoLsn, NotReady, NotYet, OpcodeError, ProtocolError, Stale, Timeout,
                     TooBig, Trimmed, Unavailable, VersionError)
from .protocol import Header, Info, Op, Record, Status, status_name

__version__ = "0.1.0"

__all__ = [
    "Append", "Client", "crc32c", "Header", "Info", "Op", "Record", "Status", "status_name",
    "KlogError", "BadLen", "Busy", "Conflict", "CrcMismatch", "FlagsError", "Full", "Lost",
    "NoLsn", "NotReady", "NotYet", "OpcodeError", "ProtocolError", "Stale", "Timeout", "TooBig",
    "Trimmed", "Unavailable", "VersionError", "BadField", "Corrupt",
]
