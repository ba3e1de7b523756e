# SPDX-License-Identifier: GPL-2.0-only
"""A lossy link: nftables on the client's veth drops one datagram in ten to
and from the klog port (netdev egress and ingress hooks), and 2000 durable
appends then a read back must still come out byte for byte.  RECORDs damaged
on the way (nftables sets a byte, the UDP checksum updated): the CRC-32C
catches them, they are asked for again, and named when it never ends."""
import random
import subprocess

import pytest

import klog

COUNT = 2000


def _nft(args, stdin=None):
    return subprocess.run(["nft", *args], input=stdin, text=True, check=True,
                          capture_output=True).stdout


# Byte 100 of the UDP datagram (@th counts the 8-byte UDP header): byte 44 of
# a RECORD's record bytes, after the klog header and the 8 bytes of CRCs.
def _damage(bed, match=""):
    _nft(["-f", "-"], f"""
table netdev klogbad {{
	chain in {{
		type filter hook ingress device "{bed.cli_if}" priority 0;
		udp sport 7070 {match} @th,800,8 set 0x5a counter
	}}
}}
""")


@pytest.fixture
def lossy(bed):
    # The tests run in the client's namespace: this is its veth.
    _nft(["-f", "-"], f"""
table netdev klogpy {{
	chain out {{
		type filter hook egress device "{bed.cli_if}" priority 0;
		udp dport 7070 numgen random mod 10 == 0 counter drop
	}}
	chain in {{
		type filter hook ingress device "{bed.cli_if}" priority 0;
		udp sport 7070 numgen random mod 10 == 0 counter drop
	}}
}}
""")
    _damage(bed, "numgen random mod 10 == 0")
    yield
    _nft(["delete", "table", "netdev", "klogpy"])
    _nft(["delete", "table", "netdev", "klogbad"])


def _dropped():
    out = _nft(["-j", "list", "table", "netdev", "klogpy"])
    import json
    total = {}
    for item in json.loads(out)["nftables"]:
        rule = item.get("rule")
        if not rule:
            continue
        for e in rule["expr"]:
            if "counter" in e:
                total[rule["chain"]] = e["counter"]["packets"]
    return total


def _packets(table):
    import json
    out = _nft(["-j", "list", "table", "netdev", table])
    return sum(e["counter"]["packets"] for item in json.loads(out)["nftables"]
               if "rule" in item for e in item["rule"]["expr"] if "counter" in e)


def test_damaged_every_time(bed, klogd, client):
    """Every RECORD damaged: the read names the CRC-32C once its retries run out."""
    payload = bytes(range(100))  # byte 44 is not 0x5a
    lsn = client.append(payload, durable=True)
    assert client.read(lsn).payload == payload
    _damage(bed)
    try:
        with klog.Client(bed.server, timeout=0.05, retries=3) as c:
            with pytest.raises(klog.CrcMismatch) as e:
                c.read(lsn)
            assert e.value.lsn == lsn and "CRC" in str(e.value)
            assert c.read_requests == 4
        assert _packets("klogbad") >= 4
    finally:
        _nft(["delete", "table", "netdev", "klogbad"])
    assert client.read(lsn).payload == payload


def test_lossy_link_appends_and_reads_back(bed, klogd, lossy):
    rng = random.Random(2000)
    payloads = [rng.randbytes(rng.randint(1, bed.max_record)) for _ in range(COUNT)]
    with klog.Client(bed.server, timeout=0.2, retries=30) as c:
        before = klogd.stat("retransmits")
        lsns = c.append_many([(p, i) for i, p in enumerate(payloads)], durable=True)
        # A request lost is appended when resent, after later ones: every
        # record once, the LSNs a range without a gap, not in the order sent.
        first, last = min(lsns), max(lsns)
        assert sorted(lsns) == list(range(first, first + COUNT))
        dropped_appending = _dropped()
        assert dropped_appending.get("out", 0) > 0 and dropped_appending.get("in", 0) > 0
        assert c.resends > 0  # requests or answers lost: resent byte for byte
        assert klogd.stat("retransmits") > before  # and answered from the dedup state
        assert c.queries > 0  # DURABLE notices lost: QUERY
        assert klogd.ctl("next_lsn") == last + 1  # no record twice

        reqs = c.read_requests
        got = list(c.read_range(first, last))
        assert [r.lsn for r in got] == list(range(first, last + 1))
        index = {lsn: i for i, lsn in enumerate(lsns)}
        for r in got:
            i = index[r.lsn]
            assert r.payload == payloads[i] and r.txid == i
        assert c.read_requests > reqs + 1  # RECORDs lost: asked again from the first missing
        assert sum(_dropped().values()) > sum(dropped_appending.values())
        assert _packets("klogbad") > 0  # and damaged RECORDs
        # Single reads too.
        for i in rng.sample(range(COUNT), 50):
            assert c.read(lsns[i]).payload == payloads[i]
        # And every LSN in order with read(), reading ahead up to the durable
        # end, where a lost LAST makes the next READ answer NOTYET.
        for lsn in range(first, last + 1):
            assert c.read(lsn).payload == payloads[index[lsn]]
