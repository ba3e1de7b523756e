# SPDX-License-Identifier: GPL-2.0-only
"""examples/coordinator.py: killed while committing, it recovers its commit
records from the log with nothing but its client id."""
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import klog

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "coordinator.py"


def _run(bed, state, commits):
    return subprocess.run([sys.executable, str(EXAMPLE), "--server", bed.server, "--state",
                           str(state), "--commits", str(commits)],
                          capture_output=True, text=True, timeout=120)


def test_coordinator_recovers_after_kill(bed, klogd, client, tmp_path):
    state = tmp_path / "coord.id"
    # Another writer's records in between: the coordinator must pick out its own.
    other = klog.Client(bed.server)
    p = subprocess.Popen([sys.executable, str(EXAMPLE), "--server", bed.server, "--state",
                          str(state), "--commits", "100000", "--delay", "0.002"],
                         stdout=subprocess.PIPE, text=True)
    committed = {}
    for line in p.stdout:
        m = re.match(r"committed txid=(\d+) lsn=(\d+)", line)
        if m:
            committed[int(m.group(1))] = int(m.group(2))
            if len(committed) % 5 == 0:
                other.append(b"coord ffffffff commit 1 not mine", durable=True)
            if len(committed) >= 40:
                p.send_signal(signal.SIGKILL)
                break
    p.wait()
    p.stdout.close()
    other.close()
    assert p.returncode == -signal.SIGKILL
    cid = int(state.read_text(), 16)
    assert list(committed) == list(range(1, len(committed) + 1))

    r = _run(bed, state, 3)
    assert r.returncode == 0, r.stderr
    assert f"coordinator {cid:08x} (restarted)" in r.stdout
    recovered = {int(t): int(l) for t, l in re.findall(r"recovered txid=(\d+) lsn=(\d+)", r.stdout)}
    # Every commit it reported is recovered at its LSN; at most one more (durable
    # when it was killed, not yet reported); none of the other writer's.
    for txid, lsn in committed.items():
        assert recovered.get(txid) == lsn
    assert list(recovered) == list(range(1, len(recovered) + 1))
    assert len(committed) <= len(recovered) <= len(committed) + 1
    for txid, lsn in recovered.items():
        assert client.read(lsn).payload.startswith(f"coord {cid:08x} commit {txid} ".encode())
    # It went on from the next transaction.
    last = len(recovered)
    went_on = re.findall(r"committed txid=(\d+)", r.stdout)
    assert went_on == [str(last + 1), str(last + 2), str(last + 3)]

    r = _run(bed, state, 0)
    assert r.returncode == 0, r.stderr
    assert f"recovered {last + 3} commits, last txid {last + 3}" in r.stdout
