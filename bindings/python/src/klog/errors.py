# SPDX-License-Identifier: GPL-2.0-only
"""Exceptions: one KlogError subclass per status a caller may act on."""
from .protocol import Status, status_name


class KlogError(Exception):
    """A request failed.  status: the NACK's status (None for a local error),
    name: its name ("FULL", "TIMEOUT", ...), lsn: the LSN the answer named
    (TRIMMED: the first kept; NOTYET: the first not durable; a durable append
    that timed out after ACK+PENDING: its LSN), else 0."""
    name = "ERROR"
    status = None

    def __init__(self, message=None, lsn=0, status=None):
        if status is not None:
            self.status = status
            if type(self).name == KlogError.name:
                self.name = status_name(status)
        self.lsn = lsn
        super().__init__(f"{self.name}: {message}" if message else self.name)


def _sub(cls_name, status, doc):
    return type(cls_name, (KlogError,), {"__doc__": doc, "name": status.name,
                                         "status": int(status)})


Full = _sub("Full", Status.FULL, "The log's window or memory pool stayed full through every retry.")
BadLen = _sub("BadLen", Status.BADLEN, "The length was 0 or disagreed with the datagram.")
TooBig = _sub("TooBig", Status.TOOBIG, "The record is larger than the server takes (READ: than max_bytes).")
VersionError = _sub("VersionError", Status.VERSION, "The server does not speak this version.")
OpcodeError = _sub("OpcodeError", Status.OPCODE, "The server does not take this request.")
FlagsError = _sub("FlagsError", Status.FLAGS, "A flag the server does not know.")
Busy = _sub("Busy", Status.BUSY, "Transient contention through every retry.")
NotReady = _sub("NotReady", Status.NOTREADY, "klogd had not initialised the log through every retry.")
Conflict = _sub("Conflict", Status.CONFLICT, "The request ids were used before for a different record.")
Stale = _sub("Stale", Status.STALE, "The request id is older than the dedup window: not appended.")
NoLsn = _sub("NoLsn", Status.NOLSN, "QUERY for an LSN the log never gave out.")
NotYet = _sub("NotYet", Status.NOTYET, "READ: not durable yet; lsn is the first LSN that is not.")
Trimmed = _sub("Trimmed", Status.TRIMMED, "READ: below the first record kept; lsn is that record's.")
Lost = _sub("Lost", Status.LOST, "READ: the server's copy is missing or damaged.")
Unavailable = _sub("Unavailable", Status.UNAVAIL, "READ, INFO: the server cannot read its log now.")
Corrupt = _sub("Corrupt", Status.CORRUPT,
               "The record's bytes were damaged before they were stored (they failed "
               "the CRC-32C the client sent): its LSN holds a tombstone, never the "
               "bytes; lsn is that LSN.  A durable append's answer, or a READ's.")
BadField = _sub("BadField", Status.BADFIELD, "A request field that must be zero is not.")


class Timeout(KlogError):
    """No answer through every resend (a durable append: no DURABLE after its
    ACK+PENDING through every QUERY; lsn then says the record's LSN)."""
    name = "TIMEOUT"


class CrcMismatch(KlogError):
    """A RECORD's bytes do not match the CRC-32C it carries."""
    name = "CRC"


class ProtocolError(KlogError):
    """An answer that breaks the protocol."""
    name = "PROTOCOL"


_BY_STATUS = {c.status: c for c in (Full, BadLen, TooBig, VersionError, OpcodeError, FlagsError,
                                    Busy, NotReady, Conflict, Stale, NoLsn, NotYet, Trimmed,
                                    Lost, Unavailable, Corrupt, BadField)}


def from_status(status, message=None, lsn=0):
    """The exception for a NACK's status."""
    cls = _BY_STATUS.get(status)
    if cls is None:
        return KlogError(message, lsn=lsn, status=status)
    return cls(message, lsn=lsn)
