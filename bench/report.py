#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""report.py - doc/benchmarks.md, doc/benchmarks.json and the plots in
doc/benchmarks/*.svg, from the JSON that bench/run.sh's parts wrote to
doc/benchmarks/data/.  Tables, plots and goal verdicts are computed; the
prose of each section is bench/report/SECTION.md, included verbatim, so it
survives regeneration.  Rerun it alone after editing those notes:

    bench/report.py                 # re-renders doc/ from doc/benchmarks/data
    bench/report.py --doc DIR       # DIR/benchmarks.md from DIR/benchmarks/data

Needs python3 (standard library only) and gnuplot.  Exits 1, writing nothing,
when an input is missing or lacks a figure the report needs."""
import argparse
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
NOTES = os.path.join(HERE, "report")

# The goals: (section, key in the JSON's ratios or top level, at least, what).
GOALS = [
    ("append", "fixed_over_ring_append_ns", 0.77,
     "ring-pool append at most 1.3× the fixed-slot append of the same records "
     "(fixed ns / ring ns ≥ 0.77)"),
    ("append", "hash_over_ring_append_ns", 5.0,
     "ring-pool append ≥ 5× faster than the hash pool (hash ns / ring ns)"),
    ("e2e", "xdp_over_userspace_appends_mix", 4.0,
     "end-to-end XDP appends/s ≥ 4× the userspace server on the 75/25 mix"),
    ("e2e", "xdp_over_fixed_spill_appends_mix", 2.0,
     "end-to-end XDP appends/s ≥ 2× the fixed-slot design with spill on the mix"),
    ("memory", "records_per_mib_ring_over_fixed1024_mix", 2.5,
     "≥ 2.5× the records per MiB of kernel memory of 1024-byte fixed slots on the mix"),
    ("durable", "drain_over_fio_bandwidth", 0.8,
     "drain ≥ 80% of fio's sequential write bandwidth (uring drain / fio 1M io_uring)"),
    ("durable", "reads_by_lsn_per_s", 1e6, "reads by LSN ≥ 1,000,000/s, warm cache"),
    # Issue 10; measured only once klogd has --backend jetstream.
    ("jetstream", "klog_js_r3_over_js_pub_r3_durable_64", 0.9,
     "klogd --backend jetstream R=3 ≥ 0.9× a plain libnats publisher's durable "
     "appends/s, R=3, 64 outstanding"),
    # Issue 11: reads must not slow appends measurably.
    ("reads", "appends_beside_follower_over_alone", 0.95,
     "appends/s beside a remote reader following the log (klogctl tail --server -f) "
     "≥ 0.95× alone"),
    ("reads", "appends_beside_paced_reads_over_alone", 0.95,
     "appends/s beside 5,000 remote reads by LSN per second ≥ 0.95× alone"),
]


class Missing(Exception):
    """An input lacks what the report needs: nothing is written."""


def need(cond, what):
    if not cond:
        raise Missing(what)


def load(data, name, required=True):
    path = os.path.join(data, name)
    if not os.path.exists(path):
        need(not required, f"{path} is missing")
        return None
    with open(path) as f:
        try:
            return json.load(f)
        except json.JSONDecodeError as e:
            raise Missing(f"{path}: not JSON ({e})")


def num(x, dec=0):
    """A figure for a table: thousands separated, DEC decimals."""
    return f"{x:,.{dec}f}"


def mmm(s, dec=0):
    """{"median", "min", "max"} as "median (min–max)"."""
    return f"{num(s['median'], dec)} ({num(s['min'], dec)}–{num(s['max'], dec)})"


def measured(key, v):
    """A goal's figure as the report shows it."""
    return num(v) + "/s" if key == "reads_by_lsn_per_s" else f"{v:.2f}"


def plural(n, word):
    return f"{n} {word}" + ("" if n == 1 else "s")


def gq(text):
    """TEXT as a gnuplot string."""
    return "'" + text.replace("'", "''") + "'"


def table(head, rows, align=None):
    align = align or ["l"] + ["r"] * (len(head) - 1)
    sep = ["-" * 3 + (":" if a == "r" else "-") for a in align]
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join(sep) + "|"]
    lines += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(lines)


class Report:
    def __init__(self, plotdir):
        self.plotdir = plotdir
        self.figures, self.ratios = [], {}
        self.plots = []  # gnuplot scripts, rendered once every section is made

    def figure(self, name, value, unit):
        self.figures.append({"name": name, "value": round(value, 3), "unit": unit})

    def notes(self, section, heading=True):
        """bench/report/SECTION.md, verbatim, under a heading naming it."""
        path = os.path.join(NOTES, section + ".md")
        if os.path.exists(path):
            with open(path) as f:
                text = f.read().strip()
        else:
            text = f"*(No notes: `bench/report/{section}.md` does not exist.)*"
        head = [f"### Notes (hand-written: `bench/report/{section}.md`)", ""] if heading else []
        return head + [text, ""]

    def goals(self, section, values):
        out = []
        for sec, key, least, what in GOALS:
            if sec != section:
                continue
            if key not in values:
                out.append(f"- Goal: {what}. **Not measured** (no such row in this run).")
                continue
            v = values[key]
            verdict = "**met**" if v >= least else "**not met**"
            out.append(f"- Goal: {what}. Measured: {measured(key, v)} — {verdict}.")
        return "\n".join(out)

    def bars(self, name, title, ylabel, groups, series, values, logscale=False):
        """A clustered bar chart with min–max error bars: GROUPS along x, one
        bar per SERIES in each; values[(group, series)] is {median, min, max}
        or absent.  Returns the markdown that shows it."""
        rows = []
        for g in groups:
            cells = [g.replace("\t", " ")]
            for s in series:
                v = values.get((g, s))
                cells += [str(v[k]) for k in ("median", "min", "max")] if v else ["NaN"] * 3
            rows.append("\t".join(cells))
        cols = ", ".join(
            f"'$data' using {2 + 3 * i}:{3 + 3 * i}:{4 + 3 * i}"
            + (":xtic(1)" if i == 0 else "") + f" title {gq(s)}"
            for i, s in enumerate(series))
        width = max(900, 40 * len(groups) * (len(series) + 1))
        script = f"""set terminal svg size {width},420 dynamic noenhanced font 'sans,11' \\
    background rgb 'white'
set output {gq(os.path.join(self.plotdir, name + ".svg"))}
set datafile separator '\\t'
set datafile missing 'NaN'
set title {gq(title)}
set ylabel {gq(ylabel)}
set style data histogram
set style histogram errorbars gap 2 lw 1
set style fill solid 0.6 border -1
set boxwidth 0.9
set grid ytics
set key outside right top
set xtics rotate by -25 left nomirror
set yrange [{"1" if logscale else "0"}:*]
{"set logscale y" if logscale else ""}
set format y {"'%g'" if logscale else "'%.0f'"}
$data << EOD
{chr(10).join(rows)}
EOD
plot {cols}
"""
        self.plots.append(script)
        return f"![{title}](benchmarks/{name}.svg)"

    def render_plots(self):
        for script in self.plots:
            r = subprocess.run(["gnuplot"], input=script, text=True, capture_output=True)
            if r.returncode != 0:
                raise Missing(f"gnuplot failed: {r.stderr.strip()}")


def append_section(rep, a):
    need(a and a.get("figures"), "append_cost.json: no figures")
    lines = []
    source = []
    for key, kind in (("fixed_over_ring_append_ns", "fixed"), ("hash_over_ring_append_ns", "hash")):
        mix, old = f"{kind}_over_ring_mix", f"{kind}_over_ring_1024"
        if mix in a:
            rep.ratios[key] = a[mix]
            source.append(f"`{key}` is append_cost's `{mix}` (the 75/25 mix).")
        else:
            need(old in a, f"append_cost.json: neither {mix} nor {old}")
            rep.ratios[key] = a[old]
            source.append(f"`{key}` is append_cost's `{old}` (1024-byte records): "
                          f"this append_cost has no `{mix}`.")
    rows = []
    for f in a["figures"]:
        rows.append([f["name"], num(f["median_ns"]), f"{num(f['min_ns'])}–{num(f['max_ns'])}"])
        rep.figure(f"append ns: {f['name']}", f["median_ns"], "ns")
    ratio_rows = [[k, f"{v:.2f}"] for k, v in a.items() if "_over_" in k]
    plot = rep.bars("append", "In-kernel append cost, ns per append (median, min–max)", "ns",
                    [f["name"] for f in a["figures"]], ["ns per append"],
                    {(f["name"], "ns per append"):
                     {"median": f["median_ns"], "min": f["min_ns"], "max": f["max_ns"]}
                     for f in a["figures"]})
    lines += [
        "## In-kernel append cost (`bench/append_cost`)", "",
        rep.goals("append", rep.ratios),
        *[("- " + s) for s in source], "",
        f"Block size {a['block_size']} B, records up to {a['max_record']} B; "
        f"`BPF_PROG_TEST_RUN` repeat {num(a['repeat'])}, {plural(a['rounds'], 'round')}.", "",
        table(["variant", "median ns", "min–max ns"], rows), "",
        table(["ratio (from append_cost)", "median"], ratio_rows), "",
        plot, "",
    ]
    return lines


def e2e_section(rep, e):
    need(e and e.get("rows"), "e2e.json: no rows")
    rows = e["rows"]
    for r in rows:
        need(all(k in r for k in ("server", "cores", "size", "appends_per_s", "p50_us", "p99_us")),
             f"e2e.json: a row lacks a field: {r}")
    # One server core: the load generator then has the other vCPU to itself.
    # With 2 server cores on this 2-vCPU VM the generator and the client
    # share the server's CPUs, and the figures depend on the scheduler.
    cores = min(r["cores"] for r in rows)
    # What the servers sustain: the in-kernel load generator's saturation
    # when it ran (a measure of the server), else the closed-loop clients'.
    field = ("saturation_per_s" if all("saturation_per_s" in r for r in rows)
             else "appends_per_s")
    mix = {r["server"]: r[field]["median"] for r in rows
           if r["size"] == "mix" and r["cores"] == cores}
    need("klog-xdp" in mix and "userspace" in mix and "fixed128-spill" in mix,
         f"e2e.json: no klog-xdp, userspace or fixed128-spill row for size mix at {cores} cores")
    rep.ratios["xdp_over_userspace_appends_mix"] = mix["klog-xdp"] / mix["userspace"]
    rep.ratios["xdp_over_fixed_spill_appends_mix"] = mix["klog-xdp"] / mix["fixed128-spill"]

    servers = list(dict.fromkeys(r["server"] for r in rows))
    sizes = list(dict.fromkeys(r["size"] for r in rows))
    lines = ["## End to end over a veth pair (`bench/e2e.sh`)", "",
             rep.goals("e2e", rep.ratios),
             f"- Both ratios are medians of {'saturation ACKs/s (in-kernel load generator)' if field == 'saturation_per_s' else 'appends/s'}"
             f" on the mix at {plural(cores, 'server core')} (the generator or client then has"
             " the other vCPU to itself; with 2 server cores they share the server's CPUs)."
             " \"The fixed-slot design"
             " with spill\" is the 128-byte-slot log, which hands the mix's 1024-byte quarter to"
             " userspace; 1024-byte slots spill nothing on the mix (they are the memory goal's"
             " baseline instead) and are shown beside it.",
             ""]
    if e.get("how"):
        lines += [e["how"].strip(), ""]
    by = {(r["server"], r["cores"], r["size"]): r for r in rows}
    for size in sizes:
        t = []
        for s in servers:
            for c in sorted({r["cores"] for r in rows}):
                r = by.get((s, c, size))
                if not r:
                    continue
                base = by.get(("userspace", c, size))
                vs = (f"{r[field]['median'] / base[field]['median']:.2f}" if base else "—")
                sat = ([mmm(r["saturation_per_s"]), num(r.get("saturation_full", 0))]
                       if "saturation_per_s" in r else [])
                t.append([s, c, mmm(r["appends_per_s"]), mmm(r["p50_us"], 1),
                          mmm(r["p99_us"], 1), num(r.get("full", 0)),
                          num(r.get("duplicates", 0)), *sat, vs])
                what = f"{s}, {plural(c, 'core')}, {size}{'' if size == 'mix' else ' B'}"
                rep.figure(f"e2e appends/s: {what}", r["appends_per_s"]["median"], "appends/s")
                rep.figure(f"e2e p50 ack latency: {what}", r["p50_us"]["median"], "us")
                rep.figure(f"e2e p99 ack latency: {what}", r["p99_us"]["median"], "us")
                if "saturation_per_s" in r:
                    rep.figure(f"e2e saturation ACKs/s: {what}", r["saturation_per_s"]["median"],
                               "ACKs/s")
        label = "The 75/25 mix" if size == "mix" else f"{size}-byte records"
        head = ["server", "cores", "closed-loop appends/s", "p50 µs", "p99 µs", "FULL (retried)",
                "appended twice"]
        if field == "saturation_per_s":
            head += ["saturation ACKs/s", "FULL at saturation"]
        head += ["÷ userspace (" + ("saturation" if field == "saturation_per_s" else "appends/s") + ")"]
        lines += [f"### {label}", "", table(head, t), ""]
    pairs = [(size, c) for size in sizes for c in sorted({r["cores"] for r in rows})
             if any((s, c, size) in by for s in servers)]
    plots = [("appends_per_s", "closed-loop appends/s", "appends/s", False),
             ("p99_us", "p99 ACK latency, µs", "µs", True)]
    if field == "saturation_per_s":
        plots.insert(0, ("saturation_per_s", "saturation ACKs/s (bench/loadgen)", "ACKs/s", False))
    for key, title, ylabel, log in plots:
        vals = {(f"{size}, {plural(c, 'core')}", s): by[(s, c, size)][key]
                for size, c in pairs for s in servers if (s, c, size) in by}
        groups = [f"{size}, {plural(c, 'core')}" for size, c in pairs]
        lines += [rep.bars(f"e2e-{key.replace('_', '-')}",
                           f"End to end: {title} (median, min–max)", ylabel,
                           groups, servers, vals, log), ""]
    return lines


def memory_section(rep, m):
    need(m and m.get("designs"), "mem_cost.json: no designs")
    d = {x["name"]: x for x in m["designs"]}
    need("klog-ring" in d and "fixed1024" in d, "mem_cost.json: no klog-ring or fixed1024 design")
    base = d["fixed1024"]["records_per_mib"]
    rep.ratios["records_per_mib_ring_over_fixed1024_mix"] = d["klog-ring"]["records_per_mib"] / base
    rows = []
    for x in m["designs"]:
        maps = ", ".join(f"{k} {num(v)}" for k, v in x.get("maps", {}).items())
        rows.append([x["name"], num(x["records"]), num(x["map_bytes"]),
                     num(x["bytes_per_record"], 1), num(x["records_per_mib"]),
                     f"{x['records_per_mib'] / base:.2f}", num(x.get("spilled", 0)), maps])
        rep.figure(f"kernel bytes per record held: {x['name']}", x["bytes_per_record"], "B")
        rep.figure(f"records per MiB of kernel memory: {x['name']}", x["records_per_mib"],
                   "records/MiB")
    plot = rep.bars("memory", "Records held per MiB of kernel memory, 75/25 mix",
                    "records per MiB", [x["name"] for x in m["designs"]], ["records/MiB"],
                    {(x["name"], "records/MiB"): dict.fromkeys(("median", "min", "max"),
                                                              x["records_per_mib"])
                     for x in m["designs"]})
    return ["## Kernel memory per record held (`bench/mem_cost`)", "",
            rep.goals("memory", rep.ratios), "",
            table(["design", "records", "map bytes", "bytes/record", "records/MiB",
                   "÷ fixed1024", "spilled", "maps (bytes)"], rows,
                  ["l", "r", "r", "r", "r", "r", "r", "l"]), "",
            plot, ""]


def durable_section(rep, d):
    need(d and d.get("backends") and d.get("reader"), "durable.json: no backends or reader")
    b, rd = d["backends"], d["reader"]
    need("uring" in b, "durable.json: no uring backend")
    rep.ratios["drain_over_fio_bandwidth"] = (b["uring"]["drain_mb_per_s"]["median"]
                                              / b["uring"]["fio_1m_mb_per_s"]["median"])
    reads = rd["reads_per_s"]["median"]
    names = list(b)
    measures = [("fio write 1M O_DIRECT, MB/s", "fio_1m_mb_per_s", 0, "MB/s"),
                ("fio write 1600k O_DIRECT + fdatasync each, MB/s",
                 "fio_1600k_fdatasync_mb_per_s", 0, "MB/s"),
                ("fio write 64k O_DIRECT + fdatasync each, MB/s",
                 "fio_64k_fdatasync_mb_per_s", 0, "MB/s"),
                ("klog drain, payload MB/s", "drain_mb_per_s", 0, "MB/s"),
                ("klog drain, records/s", "drain_records_per_s", 0, "records/s"),
                ("klog drain, ns per record", "drain_ns_per_record", 0, "ns"),
                ("klog drain, CPU µs per record", "drain_cpu_us_per_record", 2, "us"),
                ("klog_kern_read alone, ns per record", "kern_read_ns_per_record", 0, "ns")]
    rows = []
    for label, k, dec, unit in measures:
        rows.append([label] + [mmm(b[n][k], dec) for n in names])
        for n in names:
            who = f"fio {b[n]['fio_engine']}" if k.startswith("fio") else f"{n} backend"
            rep.figure(f"durable: {label} ({who})", b[n][k]["median"], unit)
    for label, k in (("klog drain / fio 1M", "fio_1m_mb_per_s"),
                     ("klog drain / fio 1600k + fdatasync", "fio_1600k_fdatasync_mb_per_s")):
        rows.append([label] + [f"{b[n]['drain_mb_per_s']['median'] / b[n][k]['median']:.2f}"
                               for n in names])
    rrows = []
    for label, k, dec, unit in (("klog_read of random LSNs, ns per read", "read_ns", 0, "ns"),
                                ("klog_read of random LSNs, reads/s", "reads_per_s", 0, "reads/s"),
                                ("klog_iterate, payload MB/s", "iterate_mb_per_s", 0, "MB/s"),
                                ("klog_iterate, records/s", "iterate_records_per_s", 0,
                                 "records/s")):
        rrows.append([label, mmm(rd[k], dec)])
        rep.figure(f"reader: {label}", rd[k]["median"], unit)
    plot = rep.bars("durable", "Durable path: fio beside klog's drain, MB/s (median, min–max)",
                    "MB/s (10^6 B/s)", [m[0].rsplit(",", 1)[0] for m in measures[:4]], names,
                    {(m[0].rsplit(",", 1)[0], n): b[n][m[1]] for m in measures[:4] for n in names})
    head = ["MB/s (10^6 B/s) unless said"] + [f"{n} (fio {b[n]['fio_engine']})" for n in names]
    return ["## Durable path: drain beside fio, and the reader (`bench/durable.sh`)", "",
            rep.goals("durable", {**rep.ratios, "reads_by_lsn_per_s": reads}), "",
            f"{d['dir']} ({d['fstype']} on {d['dev']}), {plural(d['rounds'], 'round')}; fio "
            f"{d['fio_size']} per run; klog {num(d['records'])} records of the mix "
            f"({d['payload_bytes'] / 1e6:.1f} MB payload, {d['disk_bytes'] / 1e6:.1f} MB on "
            f"disk, {d['commits']} commits). Medians (min–max) over the rounds.", "",
            table(head, rows), "",
            table(["reader, warm page cache",
                   f"median (min–max) of {plural(d['rounds'], 'run')}"], rrows),
            "", plot, ""], reads


def commit_section(rep, c):
    rows = []
    for r in c["rows"]:
        durable = r["ack"] == "durable"
        rows.append(["durable" if durable else "in-kernel", r["outstanding"],
                     mmm(r["appends_per_s"]), mmm(r["p50_us"], 1), mmm(r["p99_us"], 1),
                     mmm(r["p999_us"], 1),
                     mmm(r["p99_over_fdatasync_p99"], 2) if durable else "—",
                     mmm(r["appends_per_disk_flush"], 1) if durable else "—"])
        what = f"{'durable' if durable else 'in-kernel'} ack, {r['outstanding']} outstanding"
        rep.figure(f"commit appends/s: {what}", r["appends_per_s"]["median"], "appends/s")
        rep.figure(f"commit p99 latency: {what}", r["p99_us"]["median"], "us")
    f = c["fio_fdatasync"]
    rows.append([f"fio write {f['block']} + fdatasync", 1, mmm(f["writes_per_s"]),
                 mmm(f["p50_us"], 1), mmm(f["p99_us"], 1), mmm(f["p999_us"], 1), "—", "—"])
    rep.figure("fio fdatasync p99 latency", f["p99_us"]["median"], "us")
    groups = [f"{r['outstanding']} outstanding" for r in c["rows"]]
    groups = list(dict.fromkeys(groups))
    vals = {(f"{r['outstanding']} outstanding", r["ack"]): r["p99_us"] for r in c["rows"]}
    vals.update({(g, "fio fdatasync"): f["p99_us"] for g in groups})
    plot = rep.bars("commit-p99", "Commit: p99 acknowledgement latency, µs (median, min–max)",
                    "µs", groups, ["inkernel", "durable", "fio fdatasync"], vals, True)
    k = c.get("kernel_counters", {})
    return ["## Commit latency: in-kernel vs durable acknowledgements (`bench/commit.sh`)", "",
            "- No goal in the issue: what a client waits for, beside the file system's "
            "fdatasync.", "",
            f"`klogctl bench --size {c['size']}`, klogd on {c['dir']} ({c['fstype']} on "
            f"{c['dev']}), {plural(c['rounds'], 'round')}, medians (min–max); kernel "
            "counters over all runs: "
            + ", ".join(f"{n} {num(v)}" for n, v in sorted(k.items())) + ".", "",
            table(["ack", "outstanding", "appends/s", "p50 µs", "p99 µs", "p99.9 µs",
                   "durable p99 / fdatasync p99", "appends per disk flush"], rows), "",
            plot, ""]


def jetstream_section(rep, j):
    need(j.get("rows"), "jetstream.json: no rows")
    rows, vals = [], {}
    for r in j["rows"]:
        ratio = r.get("ratio")
        rows.append([r["variant"], "in-kernel" if r["ack"] == "inkernel" else "durable",
                     r["outstanding"], mmm(r["appends_per_s"]), mmm(r["p50_us"], 1),
                     mmm(r["p99_us"], 1),
                     *[mmm(r[k], 1) if k in r else "—"
                       for k in ("nats_cpu_us_per_record", "klogd_cpu_us_per_record")],
                     f"{mmm(ratio, 2)} × {ratio['over']}" if ratio else "—"])
        if r["ack"] == "durable":
            vals[(f"{r['outstanding']} outstanding", r["variant"])] = r["appends_per_s"]
            rep.figure(f"jetstream durable appends/s: {r['variant']}, {r['outstanding']} "
                       "outstanding", r["appends_per_s"]["median"], "1/s")
        elif ratio:
            rep.ratios[f"{r['variant'].replace('-', '_')}_over_uring_inkernel_64"] = \
                ratio["median"]
        if r["variant"] == "klog-js-r3" and r["ack"] == "durable" and r["outstanding"] == 64:
            rep.ratios["klog_js_r3_over_js_pub_r3_durable_64"] = ratio["median"]
    variants = list(dict.fromkeys(r["variant"] for r in j["rows"]))
    groups = list(dict.fromkeys(g for g, _ in vals))
    plot = rep.bars("jetstream", "Durable appends/s, klog and a plain JetStream publisher "
                    "(median, min–max)", "appends/s", groups, variants, vals, True)
    n = j["records_per_run"]
    return ["## Replication into NATS JetStream (`bench/jetstream.sh`)", "",
            rep.goals("jetstream", rep.ratios), "",
            f"Measured at commit `{j.get('commit', '?')}`, {j.get('date', '?')} (load average "
            f"at the end {j.get('loadavg_at_end', '?')}); "
            f"nats-server {j['nats_server']}, 3-node cluster ({j['cluster']}); "
            f"`--size mix`; records per run: durable {n['1']:,}/{n['16']:,}/{n['64']:,} at "
            f"1/16/64 outstanding, in-kernel {n['inkernel']:,}; "
            f"{plural(j['rounds'], 'round')}, medians (min–max); ratios are of appends/s, "
            "round by round.", "",
            table(["variant", "ack", "outstanding", "appends/s", "p50 µs", "p99 µs",
                   "NATS CPU µs/record", "klogd CPU µs/record", "ratio"], rows), "",
            plot, ""]


def reads_section(rep, j):
    need(j.get("readers") and j.get("appends"), "reads.json: no readers or appends")
    names = {"dir": "local (`--dir`)", "server": "remote (`--server`, over veth)"}
    rows = []
    for r in j["readers"]:
        rows.append([names[r["reader"]], mmm(r["reads_per_s"]), mmm(r["p50_us"], 1),
                     mmm(r["p99_us"], 1), mmm(r["iterate_records_per_s"]),
                     mmm(r["iterate_mb_per_s"], 1)])
        rep.figure(f"reads by LSN/s, {r['reader']}", r["reads_per_s"]["median"], "1/s")
    by = {r["reader"]: r for r in j["readers"]}
    remote_over_local = by["server"]["reads_per_s"]["median"] / by["dir"]["reads_per_s"]["median"]
    arows = []
    for a in j["appends"]:
        ratio = a.get("over_alone")
        arows.append([a["what"], mmm(a["appends_per_s"]), mmm(ratio, 2) if ratio else "1",
                      mmm(a["klogd_cpu_us_per_append"], 2)])
        if ratio and a["beside"] in ("follow", "paced"):
            key = {"follow": "appends_beside_follower_over_alone",
                   "paced": "appends_beside_paced_reads_over_alone"}[a["beside"]]
            rep.ratios[key] = ratio["median"]
    return ["## Remote reads (`bench/reads.sh`)", "",
            rep.goals("reads", rep.ratios), "",
            f"Measured at commit `{j.get('commit', '?')}`, {j.get('date', '?')} (load average "
            f"at the end {j.get('loadavg_at_end', '?')}); klogd on {j['dir']} ({j['fstype']} on "
            f"{j['dev']}); a log of {j['records']:,} records of the 75/25 mix; "
            f"{j['reads_per_run']:,} random `klog_read()` one at a time per run, then one "
            f"`klog_iterate()` of the whole log; {plural(j['rounds'], 'round')}, medians "
            "(min–max).", "",
            table(["reader", "reads by LSN/s", "p50 µs", "p99 µs", "iterate records/s",
                   "iterate MB/s"], rows), "",
            f"Remote reads by LSN run at {remote_over_local:.2f}× the local ones (median "
            "over median): a round trip over the veth pair each.", "",
            f"Appends (`klogctl bench --size mix --outstanding 64`, "
            f"{j['appends_per_run']:,} records per run) beside each load, in the client's "
            "namespace; the ratio is to the run alone in the same round:", "",
            table(["beside", "appends/s", "÷ alone", "klogd CPU µs per append"], arows), ""]


def header(meta):
    cmds = "\n".join("    " + c for c in meta["commands"])
    return [
        "# Benchmarks", "",
        "*Generated by `bench/run.sh` with `bench/report.py`: edit the notes in "
        "`bench/report/*.md` (included verbatim) and run `bench/report.py` to re-render "
        "from the measured data in `doc/benchmarks/data/`; run `bench/run.sh` to measure "
        "again.*", "",
        table(["", ""], [
            ["commit", f"`{meta['commit']}`"],
            ["date", meta["date"]],
            ["machine", f"{meta['cpu']}, {meta['vcpus']} vCPUs, {meta['memory']} memory"],
            ["kernel", meta["kernel"]],
            ["tools", meta["tools"]],
            ["disk benchmarks on", meta["dir"]],
            ["mode", meta["mode"]],
        ], ["l", "l"]), "",
        "The exact commands, in order (`$RESULTS` is a temporary directory, moved to "
        "`doc/benchmarks/data/` once every part succeeded), with the seconds each took:", "",
        cmds, ""]


def summary(rep, reads):
    rows = []
    for sec, key, least, what in GOALS:
        v = reads if key == "reads_by_lsn_per_s" else rep.ratios.get(key)
        if v is None:
            rows.append([what, f"`{key}`", "not measured", "—"])
            continue
        rows.append([what, f"`{key}`", measured(key, v), "yes" if v >= least else "**no**"])
    return ["## Goals (issues 5, 10 and 11)", "",
            table(["goal", "figure", "measured", "met"], rows, ["l", "l", "r", "l"]), ""]


def build(doc, plotdir):
    """The report's markdown and JSON; the plots' gnuplot scripts to PLOTDIR."""
    data = os.path.join(doc, "benchmarks", "data")
    meta = load(data, "meta.json")
    rep = Report(plotdir)
    body = []
    body += append_section(rep, load(data, "append_cost.json")) + rep.notes("append")
    body += e2e_section(rep, load(data, "e2e.json")) + rep.notes("e2e")
    body += memory_section(rep, load(data, "mem_cost.json")) + rep.notes("memory")
    lines, reads = durable_section(rep, load(data, "durable.json"))
    body += lines + rep.notes("durable")
    commit = load(data, "commit.json", required=False)
    if commit:
        body += commit_section(rep, commit) + rep.notes("commit")
    js = load(data, "jetstream.json", required=False)
    if js:
        body += jetstream_section(rep, js) + rep.notes("jetstream")
    rd = load(data, "reads.json", required=False)
    if rd:
        body += reads_section(rep, rd) + rep.notes("reads")
    md = header(meta) + summary(rep, reads) + ["## About these figures", ""]
    md += rep.notes("intro", heading=False) + body
    keys = [g[1] for g in GOALS if g[1] != "reads_by_lsn_per_s" and g[1] in rep.ratios]
    out = {"commit": meta["commit"], "figures": rep.figures,
           "ratios": {k: round(rep.ratios[k], 3) for k in keys},
           "reads_by_lsn_per_s": reads}
    return rep, "\n".join(md).rstrip() + "\n", json.dumps(out, indent=1) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--doc", default=os.path.normpath(os.path.join(HERE, "..", "doc")),
                    help="directory of benchmarks.md (default: doc/ of this checkout); "
                         "reads DOC/benchmarks/data/, writes DOC/benchmarks.md, "
                         "DOC/benchmarks.json and DOC/benchmarks/*.svg")
    doc = ap.parse_args().doc
    plots = os.path.join(doc, "benchmarks")
    # Everything is made in a scratch directory first: nothing is written unless all succeed.
    with tempfile.TemporaryDirectory(dir=doc) as tmp:
        try:
            rep, md, js = build(doc, tmp)
            rep.render_plots()
        except (Missing, KeyError, TypeError, ValueError, ZeroDivisionError, OSError) as e:
            sys.exit(f"report.py: cannot write the report: {type(e).__name__}: {e}")
        for old in os.listdir(plots):
            if old.endswith(".svg"):
                os.remove(os.path.join(plots, old))
        for f in os.listdir(tmp):
            os.replace(os.path.join(tmp, f), os.path.join(plots, f))
    for name, text in (("benchmarks.md", md), ("benchmarks.json", js)):
        with open(os.path.join(doc, name), "w") as f:
            f.write(text)
    print(f"report.py: wrote {doc}/benchmarks.md, benchmarks.json and "
          f"{len(rep.plots)} plots in {plots}", file=sys.stderr)


if __name__ == "__main__":
    main()
