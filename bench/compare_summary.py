#!/usr/bin/env python3
"""Medians, ratios and charts of a bench/compare-nchan.sh run.

Reads the kp-loadgen JSON reports <shape>-<target>-<rep>.json of one raw directory, writes a
Markdown summary (medians over the repetitions, and the ratio kinto-push (memory store) /
nchan for each figure), and draws two SVG charts with gnuplot: latency percentiles per shape
and server CPU per delivery per shape, kinto-push beside nchan. When the run also measured an
older build (compare-nchan.sh --before: targets kinto-push-before-<store>), a further table
sets this build beside that one and nchan. Standard library only.
"""
import argparse
import glob
import json
import os
import platform
import re
import statistics
import subprocess

TARGETS = ["nchan", "kinto-push-memory", "kinto-push-sqlite", "kinto-push-redis", "kinto-push-redis2"]
SHAPES = {
    "a": "(a) 1 channel x 5,000 subscribers, 200 events/s",
    "b": "(b) 1,000 channels x 5 subscribers, 1,000 events/s",
    "c": "(c) 19,000 idle connections",
    "d": "(d) saturation, 1 channel x 5,000 subscribers",
    "e": "(e) resume: 1,000 clients x 1,000 missed events",
    "f": "(f) 1 channel x 5,000 subscribers, 15 events/s (a load both servers carry)",
}


def get(d, path):
    for k in path.split("."):
        if not isinstance(d, dict) or k not in d:
            return None
        d = d[k]
    return d


# figure name -> (json path, format, lower is better)
LIVE = [
    ("delivered / expected", None, "{}", None),
    ("deliveries/s", "delivery.per_second", "{:,.0f}", False),
    ("publish rate achieved, events/s", "publish.rate_achieved", "{:,.1f}", False),
    ("latency p50, ms", "delivery.latency.p50_ms", "{:.2f}", True),
    ("latency p99, ms", "delivery.latency.p99_ms", "{:.2f}", True),
    ("latency max, ms", "delivery.latency.max_ms", "{:.1f}", True),
    ("lost: holes (never delivered below the last received)", "delivery.lost_gaps", "{:,.0f}", True),
    ("lost: tail (not delivered when the drain ended: backlog or loss)", "delivery.lost_tail", "{:,.0f}", True),
    ("duplicated", "delivery.duplicated", "{:.0f}", True),
    ("server CPU per delivery, us", "measured.server_cpu_us_per_delivery", "{:.2f}", True),
    ("  of which user space, us", "measured.server_user_cpu_us_per_delivery", "{:.2f}", True),
    ("deliveries per server CPU-second", "measured.deliverys_per_server_cpu_second", "{:,.0f}", False),
    ("server CPU, % of a core", "measured.server_cpu_percent", "{:.0f}", None),
    ("machine busy (both cores)", "measured.machine_busy_fraction", "{:.2f}", None),
    ("connections set up per s", "connections.setup_per_second", "{:,.0f}", False),
    ("set-up p99, ms", "connections.setup_p99_ms", "{:.1f}", True),
    ("server PSS per connection, KiB", "server_memory.pss_kib_per_connection", "{:.2f}", True),
]
IDLE = [
    ("connections established", "connections.established", "{:,.0f}", False),
    ("server PSS per connection, KiB", "server_memory.pss_kib_per_connection", "{:.2f}", True),
    ("server RSS per connection, KiB", "server_memory.rss_kib_per_connection", "{:.2f}", True),
    ("server peak RSS, MiB", "server_memory.hwm_mib", "{:.1f}", True),
    ("connections set up per s", "connections.setup_per_second", "{:,.0f}", False),
    ("set-up p50, ms", "connections.setup_p50_ms", "{:.1f}", True),
    ("set-up p99, ms", "connections.setup_p99_ms", "{:.1f}", True),
    ("idle server CPU, % of a core", "idle.server_cpu_percent", "{:.2f}", True),
]
SATURATE = [
    ("highest rate with no loss, p99 <= 1 s, events/s", "saturation.best_rate", "{:,.0f}", False),
    ("deliveries/s at that rate", "delivery.per_second", "{:,.0f}", False),
    ("latency p50 at that rate, ms", "delivery.latency.p50_ms", "{:.1f}", True),
    ("latency p99 at that rate, ms", "delivery.latency.p99_ms", "{:.1f}", True),
    ("server CPU per delivery, us", "measured.server_cpu_us_per_delivery", "{:.2f}", True),
    ("machine busy (both cores)", "measured.machine_busy_fraction", "{:.2f}", None),
]
RESUME = [
    ("clients with contiguous offsets (all reps)", "resume.replay.exact", "{:,.0f}", False),
    ("events replayed", "resume.replay.replayed", "{:,.0f}", False),
    ("replay time (all clients), s", "resume.replay.seconds", "{:.2f}", True),
    ("replayed events/s", "resume.replay.replayed_per_second", "{:,.0f}", False),
    ("per-client resume p50, ms", "resume.replay.client_resume_p50_ms", "{:.0f}", True),
    ("per-client resume p99, ms", "resume.replay.client_resume_p99_ms", "{:.0f}", True),
    ("server CPU per replayed event, us", "resume.measured.server_cpu_us_per_replayed_event", "{:.2f}", True),
    ("reconnections set up per s", "resume.reconnect.setup_per_second", "{:,.0f}", False),
]
FIGURES = {"a": LIVE, "b": LIVE, "c": IDLE, "d": SATURATE, "e": RESUME, "f": LIVE}


def load(raw):
    runs = {}
    for path in sorted(glob.glob(os.path.join(raw, "*.json"))):
        m = re.match(r"([a-f])-(.+)-(\d+)\.json$", os.path.basename(path))
        if not m:
            continue
        with open(path) as f:
            try:
                r = json.load(f)
            except json.JSONDecodeError:
                continue
        if r.get("server_memory", {}).get("hwm_kib") is not None:
            r["server_memory"]["hwm_mib"] = r["server_memory"]["hwm_kib"] / 1024
        runs.setdefault((m.group(1), m.group(2)), []).append(r)
    return runs


def median_of(runs, path):
    values = [get(r, path) for r in runs]
    values = [v for v in values if isinstance(v, (int, float))]
    return statistics.median(values) if values else None


def cell(runs, name, path, fmt):
    if path is None:   # delivered / expected, summed over the repetitions
        d = sum(get(r, "delivery.deliveries") or 0 for r in runs)
        e = sum(get(r, "delivery.expected") or 0 for r in runs)
        return f"{d:,} / {e:,}", None
    if name.startswith("clients with contiguous"):
        ok = sum(1 for r in runs if get(r, "resume.replay.contiguous"))
        clients = sum(get(r, "resume.replay.clients") or 0 for r in runs)
        exact = sum(get(r, path) or 0 for r in runs)
        return f"{exact:,} of {clients:,} ({ok} of {len(runs)} runs contiguous)", None
    v = median_of(runs, path)
    return ("-" if v is None else fmt.format(v)), v


def table(runs, shape):
    targets = [t for t in TARGETS if (shape, t) in runs]
    if not targets:
        return []
    reps = {t: len(runs[(shape, t)]) for t in targets}
    head = ["figure"] + [f"{t} (n={reps[t]})" for t in targets]
    has_ratio = "nchan" in targets and "kinto-push-memory" in targets
    if has_ratio:
        head.append("kinto-push (memory) / nchan")
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name, path, fmt, lower in FIGURES[shape]:
        row, values = [name], {}
        for t in targets:
            text, v = cell(runs[(shape, t)], name, path, fmt)
            row.append(text)
            values[t] = v
        if has_ratio:
            a, b = values.get("kinto-push-memory"), values.get("nchan")
            row.append(f"{a / b:.2f}" if isinstance(a, (int, float)) and isinstance(b, (int, float)) and b else "-")
        lines.append("| " + " | ".join(row) + " |")
    return lines


# A/B of two builds: per shape, the figures the "no performance loss" check names.
AB_FIGURES = {
    "a": [("server CPU per delivery, us", "measured.server_cpu_us_per_delivery", "{:.2f}"),
          ("latency p99, ms", "delivery.latency.p99_ms", "{:.2f}")],
    "c": [("server PSS per connection, KiB", "server_memory.pss_kib_per_connection", "{:.2f}")],
    "d": [("server CPU per delivery at the highest rate, us", "measured.server_cpu_us_per_delivery", "{:.2f}"),
          ("latency p99 at that rate, ms", "delivery.latency.p99_ms", "{:.1f}")],
    "e": [("server CPU per replayed event, us", "resume.measured.server_cpu_us_per_replayed_event", "{:.2f}"),
          ("per-client resume p99, ms", "resume.replay.client_resume_p99_ms", "{:.0f}")],
}
AB_FIGURES["b"] = AB_FIGURES["f"] = AB_FIGURES["a"]


def stores_before(runs):
    """The stores on which the build before ran, in the order of TARGETS."""
    found = {t[len("kinto-push-before-"):] for _, t in runs if t.startswith("kinto-push-before-")}
    return [t[len("kinto-push-"):] for t in TARGETS if t.startswith("kinto-push-") and t[len("kinto-push-"):] in found]


def ab_cell(rs, path, fmt):
    """Median of the runs, with their range when there are several; and the median."""
    values = [v for v in (get(r, path) for r in rs) if isinstance(v, (int, float))]
    if not values:
        return "-", None
    m = statistics.median(values)
    text = fmt.format(m)
    if len(values) > 1:
        text += f" ({fmt.format(min(values))}–{fmt.format(max(values))})"
    return text, m


def ratio(a, b):
    return f"{a / b:.2f}" if isinstance(a, (int, float)) and isinstance(b, (int, float)) and b else "-"


def ab_table(runs):
    """This build beside the build before (and nchan): medians (min–max), ratios of medians."""
    stores = stores_before(runs)
    if not stores:
        return []
    head = ["shape", "figure", "store", "nchan", "before", "after", "after / before", "after / nchan",
            "runs (nchan / before / after)"]
    lines = ["| " + " | ".join(head) + " |", "|---|---|---|" + "---:|" * (len(head) - 3)]
    for shape in SHAPES:
        for store in stores:
            after, before = runs.get((shape, f"kinto-push-{store}"), []), runs.get((shape, f"kinto-push-before-{store}"), [])
            if not before and not after:
                continue
            nchan = runs.get((shape, "nchan"), [])
            for name, path, fmt in AB_FIGURES[shape]:
                (tn, n), (tb, b), (ta, a) = (ab_cell(rs, path, fmt) for rs in (nchan, before, after))
                lines.append("| " + " | ".join([f"({shape})", name, store, tn if nchan else "", tb, ta, ratio(a, b),
                                                ratio(a, n) if nchan else "", f"{len(nchan)} / {len(before)} / {len(after)}"]) + " |")
    return lines


def chart(runs, images, name, title, ylabel, series, shapes, logscale=False):
    """Clustered bars: one cluster per shape, one bar per (target, series)."""
    cols = [(t, label, path) for t in TARGETS for label, path in series]
    cols = [c for c in cols if any((s, c[0]) in runs for s in shapes)]
    if not cols:
        return None
    dat = os.path.join(images, f".{name}.dat")
    with open(dat, "w") as f:
        f.write("shape " + " ".join(f'"{t} {label}"' for t, label, _ in cols) + "\n")
        for s in shapes:
            vals = []
            for t, _, path in cols:
                v = median_of(runs.get((s, t), []), path)
                vals.append("NaN" if v is None else f"{v:.4f}")
            f.write(f'"({s})" ' + " ".join(vals) + "\n")
    svg = os.path.join(images, f"{name}.svg")
    colors = {"nchan": ["#9e9e9e", "#616161"], "kinto-push-memory": ["#64b5f6", "#1565c0"],
              "kinto-push-sqlite": ["#81c784", "#2e7d32"], "kinto-push-redis": ["#e57373", "#c62828"],
              "kinto-push-redis2": ["#ffb74d", "#ef6c00"]}
    plot = []
    for i, (t, label, _) in enumerate(cols):
        color = colors[t][[l for l, _ in series].index(label) % 2]
        plot.append(f"'{dat}' using {i + 2}:xtic(1) title columnheader({i + 2}) lc rgb '{color}'")
    script = f"""
set terminal svg size 1000,480 dynamic enhanced font 'sans,12' background rgb 'white'
set output '{svg}'
set title '{title}'
set ylabel '{ylabel}'
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.9 border -1
set boxwidth 0.9
set key outside right top vertical Left reverse noenhanced
set grid ytics
set yrange [0:*]
{"set logscale y; set yrange [*:*]" if logscale else ""}
plot {", ".join(plot)}
"""
    subprocess.run(["gnuplot"], input=script, text=True, check=True)
    os.remove(dat)
    return svg


def package_version(name):
    return subprocess.run(["dpkg-query", "-W", "-f=${Version}", name], capture_output=True, text=True).stdout.strip()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--raw", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--images", required=True)
    ap.add_argument("--kinto-push-bin", default="")
    ap.add_argument("--checkout", default="", help="the commit of the checkout the script ran from")
    ap.add_argument("--shards", type=int, default=1, help="kinto-push's --shards in these runs")
    ap.add_argument("--chart-prefix", default="bench", help="charts: IMAGES/PREFIX-latency.svg, PREFIX-cpu-per-delivery.svg")
    ap.add_argument("--before-bin", default="", help="the older kinto-push of the runs kinto-push-before-<store>")
    ap.add_argument("--before-version", default="", help="its --version output")
    ap.add_argument("--kinto-push-version", default="", help="this build's --version output")
    args = ap.parse_args()
    runs = load(args.raw)
    if not runs:
        raise SystemExit(f"no kp-loadgen reports in {args.raw}")
    has_nchan = any(t == "nchan" for _, t in runs)
    has_redis = any(t.startswith("kinto-push-redis") for _, t in runs)
    nginx = subprocess.run(["nginx", "-v"], capture_output=True, text=True).stderr.strip() if has_nchan else ""
    nchan = package_version("libnginx-mod-nchan") if has_nchan else ""
    redis = package_version("redis-server") if has_redis else ""
    any_run = next(iter(runs.values()))[0]
    title = "kinto-push vs nchan" if has_nchan else "kinto-push on each store"
    out = [f"# {title}, measured by kp-loadgen ({os.path.basename(args.raw.rstrip('/'))})", "",
           f"Machine: {platform.node() and 'this VM'}, {os.cpu_count()} cores, kernel {platform.release()}; "
           + (f"{nginx}, libnginx-mod-nchan {nchan} (1 worker); " if has_nchan else "")
           + (f"redis-server {redis}; " if has_redis else "")
           + f"kinto-push `{args.kinto_push_bin}`"
           + (f" (checkout `{args.checkout}`)" if args.checkout else "")
           + f" ({args.shards} shard{'s' if args.shards != 1 else ''} per node, "
           f"`--history-size 2000`). Medians of n runs per cell (n in the header); every run on a fresh server. "
           f"Raw reports: `{os.path.relpath(args.raw)}`. Ratio < 1: kinto-push uses less / is faster, where lower "
           f"is better; read the figure's name." + (
               " Redis: one redis-server (Debian's, `--appendonly yes --appendfsync everysec --save ''`) on "
               "loopback; `redis` is one kinto-push node on it, `redis2` two nodes (each subscriber thread and "
               "publisher connection on one of them); the server figures (CPU, memory) add up the nodes and "
               "redis-server." if has_redis else ""), ""]
    del any_run
    for shape, title in SHAPES.items():
        lines = table(runs, shape)
        if lines:
            out += [f"## {title}", ""] + lines + [""]
    ab = ab_table(runs)
    if ab:
        def build(version, path):
            return (f"`{version}`, " if version else "") + f"`{path or 'unknown binary'}`"
        out += ["## This build vs the build before", "",
                f"After (this build): {build(args.kinto_push_version, args.kinto_push_bin)}"
                + (f" (the script ran from checkout `{args.checkout}`)" if args.checkout else "") + ". "
                f"Before: {build(args.before_version, args.before_bin)}. "
                "Same stores, same shapes, the order of nchan / before / after rotating from one repetition "
                "to the next. Medians of the runs, each followed by their range (min–max); the ratios are of the "
                "medians (< 1: after uses less / is faster).", ""] + ab + [""]
    images = []
    lat = chart(runs, args.images, f"{args.chart_prefix}-latency", "End-to-end latency, medians (kp-loadgen)", "ms",
                [("p50", "delivery.latency.p50_ms"), ("p99", "delivery.latency.p99_ms")], ["a", "b", "d", "f"],
                logscale=True)
    cpu = chart(runs, args.images, f"{args.chart_prefix}-cpu-per-delivery", "Server CPU per delivered event, medians (kp-loadgen)",
                "microseconds", [("CPU/delivery", "measured.server_cpu_us_per_delivery")], ["a", "b", "d", "f"])
    for svg in (lat, cpu):
        if svg:
            images.append(f"![{os.path.basename(svg)}](../../docs/images/{os.path.basename(svg)})")
    out += images + [""]
    text = "\n".join(out)
    with open(args.out, "w") as f:
        f.write(text)
    print(text)


if __name__ == "__main__":
    main()
