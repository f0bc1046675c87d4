#!/usr/bin/python3
"""Formats the outputs of bench/broker/run.sh (its results folder) as a markdown table with the ratios.

  report.py RESULTS_DIR
"""
import json
import os
import sys

res = sys.argv[1]


def summary(name):
    """kload's last key=value line (the line before a trailing 'exit=N' that run.sh adds on failure)."""
    path = os.path.join(res, name + ".txt")
    if not os.path.exists(path):
        return None
    lines = [l.strip() for l in open(path) if l.strip()]
    failed_exit = lines and lines[-1].startswith("exit=")
    last = lines[-2] if failed_exit and len(lines) > 1 else (lines[-1] if lines else "")
    values = dict(kv.split("=", 1) for kv in last.split() if "=" in kv)
    values["ok"] = not failed_exit
    return values


def num(d, key):
    return float(d[key]) if d and key in d else float("nan")


def ms(d, key):
    return num(d, key) / 1000


def fio(bs):
    j = json.load(open(os.path.join(res, f"fio-{bs}.json")))["jobs"][0]
    write, sync = j["write"], j["sync"]["lat_ns"]
    pct = lambda h, p: h["percentile"][p] / 1e6  # ns -> ms
    return {
        "mb_per_s": write["bw_bytes"] / 1e6,
        "write_p50": pct(write["clat_ns"], "50.000000"), "write_p99": pct(write["clat_ns"], "99.000000"),
        "sync_p50": pct(sync, "50.000000"), "sync_p99": pct(sync, "99.000000"), "sync_p999": pct(sync, "99.900000"),
        "ios": write["total_ios"],
    }


def keyvalues(name):
    out = {}
    path = os.path.join(res, name)
    if os.path.exists(path):
        for line in open(path):
            out.update(kv.split("=", 1) for kv in line.split() if "=" in kv)
    return out


def ratio(a, b):
    return f"{a / b:.2f}x" if b and b == b and a == a else "n/a"


def mark(d):
    return "" if d is None or d["ok"] else " (FAILED, see results)"


iperf = json.load(open(os.path.join(res, "iperf3.json")))
tcp_mb = iperf["end"]["sum_received"]["bits_per_second"] / 8 / 1e6
f4k, f64k, f1m = fio("4k"), fio("64k"), fio("1m")
start = keyvalues("startup.txt")
after = keyvalues("eddy-after.txt")
machine = open(os.path.join(res, "machine.txt")).read().strip()

runs = ("produce-p1", "produce-p6", "consume-p1", "consume-p6", "latency-p1", "latency-p6")
e = {k: summary("eddy-" + k) for k in runs}
m = {k: summary("mock-" + k) for k in runs}

print("```")
print(machine)
print("```")
print()
print("| kload run (1 KiB messages) | Eddy | mock broker | Eddy / mock |")
print("|---|---:|---:|---:|")
for key, label in (("produce-p1", "produce acks=all, linger 5 ms, 1 partition"),
                   ("produce-p6", "produce acks=all, linger 5 ms, 6 partitions"),
                   ("consume-p1", "consume, 1 partition"),
                   ("consume-p6", "consume, 6 partitions")):
    a, b = e[key], m[key]
    print(f"| {label} | {num(a, 'mb_per_s'):.1f} MB/s ({num(a, 'msgs_per_s'):,.0f} msg/s){mark(a)} "
          f"| {num(b, 'mb_per_s'):.1f} MB/s ({num(b, 'msgs_per_s'):,.0f} msg/s){mark(b)} "
          f"| {ratio(num(a, 'mb_per_s'), num(b, 'mb_per_s'))} |")
for key, label in (("latency-p1", "1 partition"), ("latency-p6", "6 partitions")):
    a, b = e[key], m[key]
    print(f"| produce latency at 20k msg/s, acks=all, linger 1 ms, {label}: p50 / p99 / p99.9 (achieved rate) "
          f"| {ms(a, 'lat_us_p50'):.2f} / {ms(a, 'lat_us_p99'):.2f} / {ms(a, 'lat_us_p999'):.2f} ms "
          f"({num(a, 'msgs_per_s'):,.0f} msg/s){mark(a)} "
          f"| {ms(b, 'lat_us_p50'):.2f} / {ms(b, 'lat_us_p99'):.2f} / {ms(b, 'lat_us_p999'):.2f} ms "
          f"({num(b, 'msgs_per_s'):,.0f} msg/s){mark(b)} | p99 {ratio(ms(a, 'lat_us_p99'), ms(b, 'lat_us_p99'))} |")
print()
print(f"Mock consume reads {num(m['consume-p1'], 'count'):,.0f} / {num(m['consume-p6'], 'count'):,.0f} messages "
      f"(the mock keeps only ~5 MB per partition); Eddy's reads the {num(e['consume-p1'], 'count'):,.0f} produced.")
print()
print("| limit, same run | figure |")
print("|---|---:|")
print(f"| loopback TCP, iperf3, one stream | {tcp_mb * 8 / 1000:.1f} Gbit/s ({tcp_mb:,.0f} MB/s) |")
for name, f in (("1 MiB", f1m), ("64 KiB", f64k), ("4 KiB", f4k)):
    print(f"| fio O_DIRECT {name} writes, fdatasync after each | {f['mb_per_s']:.1f} MB/s; write p50/p99 "
          f"{f['write_p50']:.3f}/{f['write_p99']:.3f} ms, fdatasync p50/p99/p99.9 "
          f"{f['sync_p50']:.3f}/{f['sync_p99']:.3f}/{f['sync_p999']:.3f} ms |")
print()
p6 = num(e["produce-p6"], "mb_per_s")
print("| ratio | value |")
print("|---|---:|")
print(f"| Eddy produce 6 partitions / fio 1 MiB fdatasync'd | {ratio(p6, f1m['mb_per_s'])} |")
print(f"| Eddy produce 6 partitions / fio 64 KiB fdatasync'd | {ratio(p6, f64k['mb_per_s'])} |")
print(f"| Eddy produce 6 partitions / loopback TCP | {ratio(p6, tcp_mb)} |")
print(f"| Eddy consume 6 partitions / loopback TCP | {ratio(num(e['consume-p6'], 'mb_per_s'), tcp_mb)} |")
floor = f4k["write_p99"] + f4k["sync_p99"]
for key, label in (("latency-p1", "1 partition"), ("latency-p6", "6 partitions")):
    print(f"| Eddy produce p99 at 20k msg/s, {label} / fio 4 KiB (write p99 + fdatasync p99 = {floor:.3f} ms) "
          f"| {ratio(ms(e[key], 'lat_us_p99'), floor)} |")
print()
print(f"Start to ready (spawn to first ApiVersions answer), median of 5: fresh data dir "
      f"{start.get('ready_ms_fresh_median')} ms (min {start.get('ready_ms_fresh_min')}), existing data dir "
      f"{start.get('ready_ms_existing_median')} ms (min {start.get('ready_ms_existing_min')}). Idle RSS 2 s after "
      f"start: median {start.get('idle_rss_mb_median')} MB, max {start.get('idle_rss_mb_max')} MB. RSS after the "
      f"kload runs: {after.get('rss_after_load_mb')} MB; exit after SIGTERM: {after.get('exit')}.")
print()
ready = max(float(start.get("ready_ms_fresh_median", "nan")), float(start.get("ready_ms_existing_median", "nan")))
rss = float(start.get("idle_rss_mb_median", "nan"))
p99_1, p99_6 = ms(e["latency-p1"], "lat_us_p99"), ms(e["latency-p6"], "lat_us_p99")
print("| goal | measured | met? |")
print("|---|---:|---|")
print(f"| ≥ 200 MB/s produce, acks=all, 6 partitions | {p6:.1f} MB/s | {'yes' if p6 >= 200 else 'no'} |")
# "At 20k msg/s" holds only if the broker kept up: kload's achieved rate within 5 % of the target.
kept_up = min(num(e["latency-p1"], "msgs_per_s"), num(e["latency-p6"], "msgs_per_s")) >= 19000
print(f"| p99 ≤ 5 ms at 20k msg/s | 1 partition {p99_1:.2f} ms, 6 partitions {p99_6:.2f} ms"
      f"{'' if kept_up else ' (and the rate was not held)'} | {'yes' if kept_up and max(p99_1, p99_6) <= 5 else 'no'} |")
print(f"| start to ready ≤ 50 ms | {ready:.1f} ms (worse median) | {'yes' if ready <= 50 else 'no'} |")
print(f"| idle RSS ≤ 50 MB | {rss:.1f} MB | {'yes' if rss <= 50 else 'no'} |")
