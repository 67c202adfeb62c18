#!/usr/bin/env python3
"""Medians and ratios of a bench/compare-nchan.sh run with --transports / --payloads.

Reads the kp-loadgen JSON reports <shape>_<payload>_<transport>_<target>_<rep>.json of one raw
directory (and the load averages the script appended to each .txt), and writes a Markdown
summary: per shape and payload, each figure's median over the repetitions with its range for
every (target, transport), then the ratios issue 19 asks about, each of medians measured in
the same run: kinto-push SSE / nchan SSE, kinto-push SSE / kinto-push WebSocket, kinto-push
deflate / kinto-push uncompressed, kinto-push deflate / nchan deflate. Standard library only.
"""
import argparse
import glob
import json
import os
import platform
import re
import statistics
import subprocess

SHAPES = {
    "a": "(a) 1 channel x 5,000 subscribers, 200 events/s",
    "b": "(b) 1,000 channels x 5 subscribers, 1,000 events/s",
    "c": "(c) 19,000 idle connections",
    "d": "(d) saturation, 1 channel x 5,000 subscribers",
    "e": "(e) resume: 1,000 clients x 1,000 missed events",
    "f": "(f) 1 channel x 5,000 subscribers, 15 events/s",
    "g": "(g) 1 channel x 1,000 subscribers, 5 events/s (for large payloads)",
}
PAYLOADS = {"bench": "bench payload (128 B, padded)", "typical": "typical Kinto record event",
            "large": "large Kinto record event (about 32 KiB)"}
TRANSPORTS = ["ws", "ws-deflate", "sse"]
TARGET_ORDER = ["nchan", "kinto-push-memory", "kinto-push-sqlite", "kinto-push-redis", "kinto-push-redis2"]

# figure, json path, format
LIVE = [
    ("delivered / expected", None, None),
    ("server CPU per delivery, us", "measured.server_cpu_us_per_delivery", "{:.2f}"),
    ("  of which user space, us", "measured.server_user_cpu_us_per_delivery", "{:.2f}"),
    ("latency p50, ms", "delivery.latency.p50_ms", "{:.2f}"),
    ("latency p99, ms", "delivery.latency.p99_ms", "{:.2f}"),
    ("latency max, ms", "delivery.latency.max_ms", "{:.1f}"),
    ("bytes on the wire per delivery", "delivery.wire.bytes_per_delivery", "{:,.0f}"),
    ("TCP segments per delivery", "delivery.wire.segments_per_delivery", "{:.2f}"),
    ("deliveries/s", "delivery.per_second", "{:,.0f}"),
    ("publish rate achieved, events/s", "publish.rate_achieved", "{:,.1f}"),
    ("lost", "delivery.lost", "{:,.0f}"),
    ("duplicated", "delivery.duplicated", "{:,.0f}"),
    ("server CPU, % of a core", "measured.server_cpu_percent", "{:.0f}"),
    ("machine busy (both cores)", "measured.machine_busy_fraction", "{:.2f}"),
    ("server PSS per connection, KiB", "server_memory.pss_kib_per_connection", "{:.2f}"),
    ("deflate negotiated", "connections.deflate_negotiated", "{:,.0f}"),
    ("load average (1 min) before the run", "load_before", "{:.2f}"),
]
IDLE = [
    ("connections established", "connections.established", "{:,.0f}"),
    ("server PSS per connection, KiB", "server_memory.pss_kib_per_connection", "{:.2f}"),
    ("server RSS per connection, KiB", "server_memory.rss_kib_per_connection", "{:.2f}"),
    ("connections set up per s", "connections.setup_per_second", "{:,.0f}"),
    ("idle server CPU, % of a core", "idle.server_cpu_percent", "{:.2f}"),
    ("deflate negotiated", "connections.deflate_negotiated", "{:,.0f}"),
    ("load average (1 min) before the run", "load_before", "{:.2f}"),
]
# ratio name, numerator (target, transport), denominator, figures (name, path)
RATIO_FIGURES = [("CPU per delivery", "measured.server_cpu_us_per_delivery"),
                 ("p99", "delivery.latency.p99_ms"),
                 ("bytes per delivery", "delivery.wire.bytes_per_delivery"),
                 ("PSS per connection", "server_memory.pss_kib_per_connection")]
RATIOS = [
    ("kinto-push SSE / nchan SSE", ("kinto-push-memory", "sse"), ("nchan", "sse")),
    ("kinto-push SSE / kinto-push WebSocket", ("kinto-push-memory", "sse"), ("kinto-push-memory", "ws")),
    ("nchan SSE / nchan WebSocket", ("nchan", "sse"), ("nchan", "ws")),
    ("kinto-push deflate / kinto-push uncompressed", ("kinto-push-memory", "ws-deflate"), ("kinto-push-memory", "ws")),
    ("kinto-push deflate / nchan deflate", ("kinto-push-memory", "ws-deflate"), ("nchan", "ws-deflate")),
    ("nchan deflate / nchan uncompressed", ("nchan", "ws-deflate"), ("nchan", "ws")),
    ("kinto-push WebSocket / nchan WebSocket", ("kinto-push-memory", "ws"), ("nchan", "ws")),
]


def get(d, path):
    for k in path.split("."):
        if not isinstance(d, dict) or k not in d:
            return None
        d = d[k]
    return d


def load(raw):
    runs = {}
    for path in sorted(glob.glob(os.path.join(raw, "*.json"))):
        m = re.match(r"([a-g])_(bench|typical|large)_(ws|ws-deflate|sse)_(.+)_(\d+)\.json$", os.path.basename(path))
        if not m:
            continue
        try:
            with open(path) as f:
                r = json.load(f)
        except (OSError, json.JSONDecodeError):
            continue
        try:
            with open(path[:-5] + ".txt") as f:
                lm = re.search(r"load average before: ([0-9.]+)", f.read())
            if lm:
                r["load_before"] = float(lm.group(1))
        except OSError:
            pass
        shape, payload, transport, target, _ = m.groups()
        runs.setdefault((shape, payload), {}).setdefault((target, transport), []).append(r)
    return runs


def values(rs, path):
    return [v for v in (get(r, path) for r in rs) if isinstance(v, (int, float))]


def cell(rs, path, fmt):
    if path is None:
        d = sum(get(r, "delivery.deliveries") or 0 for r in rs)
        e = sum(get(r, "delivery.expected") or 0 for r in rs)
        return f"{d:,} / {e:,}"
    vs = values(rs, path)
    if not vs:
        return "-"
    text = fmt.format(statistics.median(vs))
    if len(vs) > 1:
        text += f" ({fmt.format(min(vs))}–{fmt.format(max(vs))})"
    return text


def columns(group):
    def key(c):
        t, tr = c
        return (TRANSPORTS.index(tr), TARGET_ORDER.index(t) if t in TARGET_ORDER else 99)
    return sorted(group, key=key)


def label(target, transport):
    name = {"ws": "WebSocket", "ws-deflate": "WebSocket + deflate", "sse": "SSE"}[transport]
    return f"{target} {name}"


def table(shape, group):
    cols = columns(group)
    figures = IDLE if shape == "c" else LIVE
    head = ["figure"] + [f"{label(*c)} (n={len(group[c])})" for c in cols]
    lines = ["| " + " | ".join(head) + " |", "|---|" + "---:|" * len(cols)]
    for name, path, fmt in figures:
        if path and not any(values(group[c], path) for c in cols):
            continue
        lines.append("| " + " | ".join([name] + [cell(group[c], path, fmt) for c in cols]) + " |")
    return lines


def ratio_table(group):
    lines = []
    for name, num, den in RATIOS:
        if num not in group or den not in group:
            continue
        row = [name]
        for _, path in RATIO_FIGURES:
            a, b = values(group[num], path), values(group[den], path)
            row.append(f"{statistics.median(a) / statistics.median(b):.2f}" if a and b and statistics.median(b) else "-")
        lines.append("| " + " | ".join(row) + " |")
    if not lines:
        return []
    head = ["ratio of medians (< 1: the first uses less / is faster)"] + [n for n, _ in RATIO_FIGURES]
    return ["| " + " | ".join(head) + " |", "|---|" + "---:|" * len(RATIO_FIGURES)] + lines


def package_version(name):
    return subprocess.run(["dpkg-query", "-W", "-f=${Version}", name], capture_output=True, text=True).stdout.strip()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--raw", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--kinto-push-bin", default="")
    ap.add_argument("--checkout", default="")
    ap.add_argument("--shards", type=int, default=1)
    args = ap.parse_args()
    runs = load(args.raw)
    if not runs:
        raise SystemExit(f"no kp-loadgen reports in {args.raw}")
    nginx = subprocess.run(["nginx", "-v"], capture_output=True, text=True).stderr.strip()
    out = [f"# Transports: SSE and permessage-deflate beside nchan, measured by kp-loadgen "
           f"({os.path.basename(args.raw.rstrip('/'))})", "",
           f"Machine: {os.cpu_count()} cores, kernel {platform.release()}; {nginx}, libnginx-mod-nchan "
           f"{package_version('libnginx-mod-nchan')} (1 worker); kinto-push `{args.kinto_push_bin}`"
           + (f" (checkout `{args.checkout}`)" if args.checkout else "")
           + f" ({args.shards} shard{'s' if args.shards != 1 else ''}, `--history-size 2000`). "
           "Medians of n runs per cell, (min–max) after them; every run on a fresh server, the "
           "(transport, target) pairs of a shape rotating within each repetition. "
           f"Raw reports: `{os.path.relpath(args.raw)}`. WebSocket + deflate: the client offers "
           "`permessage-deflate; client_no_context_takeover; server_no_context_takeover`; nchan runs "
           "with `nchan_deflate_message_for_websocket on`. SSE: kinto-push `GET /v1/sse?channel=…`, "
           "nchan `GET /sub/<channel>` with `Accept: text/event-stream`. With the typical and large "
           "payloads nchan is published kinto-push's whole record event, so both carry the same JSON. "
           "Bytes on the wire: TCP payload bytes the subscribers' sockets received in the measured "
           "window (TCP_INFO), / deliveries.", ""]
    for shape, title in SHAPES.items():
        for payload in PAYLOADS:
            group = runs.get((shape, payload))
            if not group:
                continue
            out += [f"## {title}, {PAYLOADS[payload]}", ""] + table(shape, group) + [""]
            ratios = ratio_table(group)
            if ratios:
                out += ratios + [""]
    text = "\n".join(out)
    with open(args.out, "w") as f:
        f.write(text)
    print(text)


if __name__ == "__main__":
    main()
