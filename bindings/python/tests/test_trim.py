# SPDX-License-Identifier: GPL-2.0-only
"""TRIMMED: an operator removes the oldest segments of a log in small segments."""
import random

import pytest

import klog

KLOGD_ARGS = ["--segment-size", "1M"]


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
