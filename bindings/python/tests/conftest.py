# SPDX-License-Identifier: GPL-2.0-only
"""Fixtures of the Python binding's tests, and their TAP output.

run-tests.sh runs pytest inside the client's network namespace, with the
testbed it set up described in KLOG_TEST_* variables.  The klogd fixture
starts a klogd (the real BPF programs) in the server's namespace through
tests/testbed.sh, one per test module, on a log of its own.

TAP: one line per test ("ok N - nodeid" / "not ok N - nodeid") to the file
descriptor KLOG_TAP_FD, numbered from KLOG_TAP_START + 1, and the same lines
to KLOG_TAP_FILE, so that meson and tools/test.sh count the tests.  A
failing setup or teardown is a "not ok" too, and so is a skip: these tests
are run, never skipped.
"""
import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

# ----------------------------------------------------------------------
# TAP

_tap = {"n": int(os.environ.get("KLOG_TAP_START", "0")), "fd": None, "file": None}


def _tap_line(ok, name, detail=None):
    _tap["n"] += 1
    line = f"{'ok' if ok else 'not ok'} {_tap['n']} - {name}\n"
    if detail:
        line += "".join(f"# {l}\n" for l in detail.splitlines()[-20:])
    if _tap["fd"] is None and os.environ.get("KLOG_TAP_FD"):
        _tap["fd"] = os.fdopen(int(os.environ["KLOG_TAP_FD"]), "w", buffering=1)
    if _tap["fd"] is not None:
        _tap["fd"].write(line)
        _tap["fd"].flush()
    if os.environ.get("KLOG_TAP_FILE"):
        with open(os.environ["KLOG_TAP_FILE"], "a") as f:
            f.write(line.splitlines()[0] + "\n")


def pytest_runtest_logreport(report):
    name = report.nodeid
    if report.when == "call":
        if report.passed:
            _tap_line(True, name)
        elif report.skipped:
            _tap_line(False, f"{name} (skipped: these tests are never skipped)")
        else:
            _tap_line(False, name, report.longreprtext)
    elif report.when == "setup" and not report.passed:
        _tap_line(False, f"{name} (setup: {'skipped' if report.skipped else 'error'})",
                  report.longreprtext)
    elif report.when == "teardown" and report.failed:
        _tap_line(False, f"{name} (teardown)", report.longreprtext)


def pytest_collectreport(report):
    if report.failed:
        _tap_line(False, f"collecting {report.nodeid}", report.longreprtext)


# ----------------------------------------------------------------------
# The testbed

class Bed:
    """What run-tests.sh set up (KLOG_TEST_* variables)."""

    def __init__(self):
        e = os.environ
        missing = [v for v in ("KLOG_TEST_SERVER", "KLOG_TEST_SRV_NS", "KLOG_TEST_KLOGD",
                               "KLOG_TEST_HELPER", "KLOG_TEST_WORK", "KLOG_TEST_TAG",
                               "KLOG_TEST_CLI_IF", "KLOG_TEST_SRV_IF") if not e.get(v)]
        if missing:
            pytest.fail("the tests on klogd run under bindings/python/run-tests.sh "
                        f"(meson test -C BUILD python); {', '.join(missing)} not set")
        self.server = e["KLOG_TEST_SERVER"]
        self.srv_ns = e["KLOG_TEST_SRV_NS"]
        self.srv_if = e["KLOG_TEST_SRV_IF"]
        self.cli_if = e["KLOG_TEST_CLI_IF"]
        self.klogd = e["KLOG_TEST_KLOGD"]
        self.helper = e["KLOG_TEST_HELPER"]
        self.work = Path(e["KLOG_TEST_WORK"])
        self.tag = e["KLOG_TEST_TAG"]
        self.max_record = int(e.get("KLOG_TEST_MAX_RECORD", "1400"))
        self.block_size = int(e.get("KLOG_TEST_BLOCK_SIZE", "128"))


class Klogd:
    """One klogd in the server's namespace, on log directory dir, pinned
    under /sys/fs/bpf/klog/NAME."""

    def __init__(self, bed, name, args=()):
        self.bed = bed
        self.name = name
        self.dir = bed.work / f"log-{name}"
        self.log = bed.work / f"klogd-{name}.log"
        self.args = list(args)
        self.proc = None
        self.pid = None

    def start(self):
        cmd = [self.bed.helper, "klogd", self.bed.srv_ns, str(self.log), self.bed.klogd,
               "--iface", self.bed.srv_if, "--name", self.name, "--dir", str(self.dir),
               *self.args]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        if not line.strip():
            self.proc.wait()
            raise RuntimeError(f"klogd did not start: {self.log_text()}")
        self.pid = int(line)

    def log_text(self):
        try:
            return self.log.read_text()
        except OSError:
            return ""

    def stop(self, sig=signal.SIGTERM):
        """Signal klogd and wait for it; its exit status."""
        if self.proc is None:
            return None
        try:
            os.kill(self.pid, sig)
        except ProcessLookupError:
            pass
        rc = self.proc.wait(timeout=30)
        self.proc.stdout.close()
        self.proc = None
        return rc

    def remove(self):
        subprocess.run(["rm", "-rf", f"/sys/fs/bpf/klog/{self.name}"], check=False)

    def _map(self, name):
        out = subprocess.run(["bpftool", "-j", "map", "dump", "pinned",
                              f"/sys/fs/bpf/klog/{self.name}/{name}"],
                             check=True, capture_output=True, text=True).stdout
        return json.loads(out)

    def _field(self, name, field):
        """A field of a pinned map's entries, summed over entries and CPUs."""
        total = 0
        for entry in self._map(name):
            f = entry.get("formatted", entry)
            values = f.get("values")
            if values is None:
                total += int(f["value"][field])
            else:
                total += sum(int(v["value"][field]) for v in values)
        return total

    def stat(self, field):
        """A klog_stats counter (retransmits, queries, ...), summed over CPUs."""
        return self._field("klog_stats", field)

    def ctl(self, field):
        """A field of klog_ctl (log_id, durable_lsn, next_lsn, ...)."""
        return self._field("klog_ctl", field)


@pytest.fixture(scope="session")
def bed():
    if os.geteuid() != 0:
        pytest.fail("needs root: klogd loads BPF programs")
    return Bed()


_count = {"n": 0}


def start_klogd(bed, args=()):
    """A new klogd on a new log (another name, another directory)."""
    _count["n"] += 1
    k = Klogd(bed, f"{bed.tag}-{_count['n']}", args)
    k.start()
    return k


@pytest.fixture(scope="module")
def klogd(bed, request):
    """A klogd of its own for the module: KLOGD_ARGS in the module adds options."""
    k = start_klogd(bed, getattr(request.module, "KLOGD_ARGS", ()))
    yield k
    rc = k.stop()
    k.remove()
    assert rc == 0, f"klogd exited with {rc}: {k.log_text()}"


@pytest.fixture
def client(bed, klogd, request):
    """A client of the module's klogd (on the module's PORT if it sets one)."""
    import klog
    with klog.Client(bed.server, getattr(request.module, "PORT", 7070)) as c:
        yield c


def wait_for(pred, timeout=10.0, step=0.02):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(step)
    return pred()
