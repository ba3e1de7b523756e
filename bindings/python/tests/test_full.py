# SPDX-License-Identifier: GPL-2.0-only
"""A klogd whose window holds 8 LSNs.  64 appends in flight get FULL and are
retried after a doubling pause until klogd has drained; with klogd stopped
(SIGSTOP) the window stays full and the append fails with Full, and a durable
append waits out its QUERYs and fails with Timeout."""
import os
import signal
import time

import pytest

import klog

KLOGD_ARGS = ["--window", "8"]


def test_full_is_retried(bed, klogd):
    before = klogd.stat("nack_full_window")
    # Enough retries to wait out a drain slowed down by a loaded machine.
    with klog.Client(bed.server, max_outstanding=64, retries=100) as c:
        lsns = c.append_many([b"z" * 1000] * 2000)
        assert sorted(lsns) == list(range(min(lsns), min(lsns) + 2000))
        assert c.retried > 0
    assert klogd.stat("nack_full_window") > before


def test_full_when_klogd_does_not_drain(bed, klogd, client):
    client.append(b"drained", durable=True)
    os.kill(klogd.pid, signal.SIGSTOP)
    try:
        lsns = [client.append(f"held {k}".encode()) for k in range(8)]  # the window's 8
        t = time.monotonic()
        with pytest.raises(klog.Full) as e:
            client.append(b"one too many")
        # ten retries, pauses of 1, 2, 4, ... ms up to the timeout
        assert time.monotonic() - t > 0.3
        assert e.value.status == klog.Status.FULL and str(e.value).startswith("FULL")
    finally:
        os.kill(klogd.pid, signal.SIGCONT)
    assert client.append(b"after", durable=True) == lsns[-1] + 1
    assert client.read(lsns[0]).payload == b"held 0"


def test_durable_timeout_names_the_lsn(bed, klogd, client):
    """klogd stopped: a durable append gets ACK+PENDING, QUERYs it one timeout
    later and after each further one, and fails with Timeout naming its LSN;
    the record is durable once klogd runs again."""
    before = client.append(b"durable first", durable=True)
    queries = klogd.stat("queries")
    with klog.Client(bed.server, timeout=0.05, retries=4) as c:
        os.kill(klogd.pid, signal.SIGSTOP)
        try:
            with pytest.raises(klog.Timeout) as e:
                c.append(b"not durable while klogd sleeps", durable=True)
        finally:
            os.kill(klogd.pid, signal.SIGCONT)
        assert e.value.lsn == before + 1 and "DURABLE" in str(e.value)
        assert c.queries == 4
        assert klogd.stat("queries") == queries + 4
    client.append(b"durable after", durable=True)
    assert client.read(before + 1).payload == b"not durable while klogd sleeps"
