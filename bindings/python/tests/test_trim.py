# SPDX-License-Identifier: GPL-2.0-only
"""A log in small segments, on another port: TRIMMED once an operator removes
the oldest segment, LOST for a record damaged on the server's disk, and INFO
saying the port klogd was given."""
import random
import struct

import pytest

import klog

PORT = 7171
KLOGD_ARGS = ["--segment-size", "1M", "--port", str(PORT)]


def test_trimmed(client, klogd, bed):
    rng = random.Random(3)
    size = min(bed.max_record, 1400)
    lsns = client.append_many([rng.randbytes(size) for _ in range(2500)], durable=True)
    segs = sorted(klogd.dir.glob("*.klog"))
    assert len(segs) >= 3, segs
    firsts = [int(s.name[:20]) for s in segs]
    assert firsts[0] == 1
    # Trim: the oldest segment and its index go.
    segs[0].unlink()
    (klogd.dir / (segs[0].name[:20] + ".idx")).unlink()
    kept = firsts[1]
    with pytest.raises(klog.Trimmed) as e:
        client.read(1)
    assert e.value.lsn == kept and e.value.status == klog.Status.TRIMMED
    with pytest.raises(klog.Trimmed):
        client.read(kept - 1)
    with pytest.raises(klog.Trimmed) as e:
        list(client.read_range(1, 10))
    assert e.value.lsn == kept
    assert client.read(kept).lsn == kept
    assert client.info().first_lsn == kept
    # a reader starts again from what the error names
    assert next(iter(client.read_range(e.value.lsn))).lsn == kept
    # appends go on
    assert client.append(b"after the trim", durable=True) == lsns[-1] + 1


def test_info_port_is_klogds(client):
    i = client.info()
    assert i.port == PORT and i.first_lsn > 1


def test_lost_record_damaged_on_disk(client, klogd):
    """A byte of a record's payload flipped in a segment klogd no longer writes:
    LOST for it, the records around it still read, a range stops there."""
    segs = sorted(klogd.dir.glob("*.klog"))
    seg = segs[-2]  # not the segment being written
    first = int(seg.name[:20])
    offsets = klogd.dir.joinpath(seg.name[:20] + ".idx").read_bytes()
    k = 10
    (off,) = struct.unpack_from("<Q", offsets, 8 * k)
    lsn = first + k
    good = client.read(lsn)
    with open(seg, "r+b") as f:
        f.seek(off + 40 + 5)
        b = f.read(1)
        f.seek(off + 40 + 5)
        f.write(bytes([b[0] ^ 0xFF]))
    with pytest.raises(klog.Lost) as e:
        client.read(lsn)
    assert e.value.status == klog.Status.LOST and "LOST" in str(e.value)
    assert client.read(lsn - 1).lsn == lsn - 1 and client.read(lsn + 1).lsn == lsn + 1
    got = []
    with pytest.raises(klog.Lost):
        for r in client.read_range(lsn - 3, lsn + 3):
            got.append(r.lsn)
    assert got == [lsn - 3, lsn - 2, lsn - 1]
    assert good.lsn == lsn
