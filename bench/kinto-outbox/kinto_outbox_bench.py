#!/usr/bin/python3
"""Kinto's write latency with and without the kinto-push plugin, and the outbox relay draining
a backlog (issue 21). Runs with Debian's /usr/bin/python3; 127.0.0.1 only; every process it
starts (a throwaway PostgreSQL 15 cluster, Kinto, kinto-push) is stopped by its PID.

    /usr/bin/python3 bench/kinto-outbox/kinto_outbox_bench.py [--quick] [--out FILE]
        [--reps 3] [--writes 1000] [--warmup 50] [--clients 4] [--order none,memory,outbox]
        [--backlog 100000] [--produce-seconds 30] [--batch 100] [--drain-timeout 300]
        [--part latency|drain|both] [--push-bin PATH] [--drain-store sqlite|memory]

1. Write latency: ``--reps`` x (none, memory, outbox), interleaved, see write_latency.py.
2. Backlog drain: kinto-push down, ``--backlog`` events queued in the outbox, kinto-push
   started; time until the outbox is empty and kinto-push holds every event, see
   backlog_drain.py.

kinto-push: build/release/server/kinto-push of the main checkout (/work/main) or of this
checkout if present, else $KINTO_PUSH_BIN (--push-bin overrides). Kinto: as the plugin's
tests find it (tests/pysupport/kinto_server.py). See bench/kinto-outbox/README.md.
"""

import argparse
import datetime
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "pysupport"))

from backlog_drain import BacklogDrain  # noqa: E402
from bench_kinto import MODES  # noqa: E402
from kinto_server import KINTO_MISSING, find_kinto  # noqa: E402
from latency_figures import medians  # noqa: E402
from postgres_cluster import PostgresCluster  # noqa: E402
from processes import stop_all  # noqa: E402
from push_server import PushServer  # noqa: E402
from write_latency import WriteLatency  # noqa: E402

HISTORY_SIZE = 250000  # every event of a run stays in kinto-push's channels


def find_push_binary(given):
    if given:
        return given, "--push-bin"
    for root in ("/work/main", ROOT):
        path = os.path.join(root, "build", "release", "server", "kinto-push")
        if os.access(path, os.X_OK):
            return path, "release build"
    env = os.environ.get("KINTO_PUSH_BIN")
    if env and os.access(env, os.X_OK):
        return env, "$KINTO_PUSH_BIN"
    sys.exit("no kinto-push binary: build the release preset or set KINTO_PUSH_BIN")


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true",
                   help="smaller counts: 1 rep of 200 writes, a backlog of 10,000")
    p.add_argument("--part", choices=("latency", "drain", "both"), default="both")
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--writes", type=int, default=1000)
    p.add_argument("--warmup", type=int, default=50)
    p.add_argument("--clients", type=int, default=4)
    p.add_argument("--order", default=",".join(MODES),
                   help="the modes' order within a repetition (default none,memory,outbox)")
    p.add_argument("--backlog", type=int, default=100000)
    p.add_argument("--batch", type=int, default=100,
                   help="records per Kinto batch request, one collection each (1 event each)")
    p.add_argument("--produce-seconds", type=float, default=30.0,
                   help="Kinto writes for the backlog stop then; the rest is INSERTed directly")
    p.add_argument("--drain-timeout", type=float, default=300.0)
    p.add_argument("--drain-store", choices=("sqlite", "memory"), default="sqlite")
    p.add_argument("--push-bin")
    p.add_argument("--out", help="write the results as JSON here")
    args = p.parse_args()
    args.order = args.order.split(",")
    if sorted(args.order) != sorted(MODES):
        p.error(f"--order: each of {', '.join(MODES)} once")
    if args.quick:
        args.reps, args.writes, args.backlog, args.produce_seconds = 1, 200, 10000, 10.0
    return args


def git_commit():
    try:
        return subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None


def machine():
    model = None
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {"cpus": os.cpu_count(), "model": model, "kernel": platform.release(),
            "loadavg": [round(x, 2) for x in os.getloadavg()]}


def latency_summary(runs):
    by_mode = {mode: medians([r for r in runs if r["mode"] == mode]) for mode in MODES}
    out = {"medians": by_mode}
    p50 = {m: by_mode[m].get("p50_ms", {}).get("median") for m in MODES}
    if None not in p50.values():
        out["outbox_added_p50_ms"] = {
            "vs_none": round(p50["outbox"] - p50["none"], 3),
            "vs_memory": round(p50["outbox"] - p50["memory"], 3),
        }
        out["memory_added_p50_ms_vs_none"] = round(p50["memory"] - p50["none"], 3)
        # Per repetition (same rep: the closest in time), then the median of those.
        diffs = {"vs_none": [], "vs_memory": []}
        reps = sorted({r["rep"] for r in runs})
        for rep in reps:
            at = {r["mode"]: r["p50_ms"] for r in runs if r["rep"] == rep}
            if len(at) == 3:
                diffs["vs_none"].append(at["outbox"] - at["none"])
                diffs["vs_memory"].append(at["outbox"] - at["memory"])
        out["outbox_added_p50_ms_per_rep"] = {k: [round(x, 3) for x in v] for k, v in diffs.items()}
    cpu = {}
    for m in MODES:
        kinto = by_mode[m].get("kinto_cpu_ms_per_write", {}).get("median")
        db = by_mode[m].get("postgresql_cpu_ms_per_write", {}).get("median")
        cpu[m] = None if kinto is None or db is None else kinto + db
    if None not in cpu.values():
        # CPU per write (Kinto + PostgreSQL): what the latency would add on an idle machine.
        out["cpu_ms_per_write_kinto_plus_postgresql"] = {m: round(v, 3) for m, v in cpu.items()}
        out["outbox_added_cpu_ms_per_write"] = {
            "vs_none": round(cpu["outbox"] - cpu["none"], 3),
            "vs_memory": round(cpu["outbox"] - cpu["memory"], 3),
        }
    return out


def main():
    args = parse_args()
    # SIGTERM ends the run through the finally blocks: every process stopped, temp folders removed.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("stopped by SIGTERM"))
    binary, binary_source = find_push_binary(args.push_bin)
    install = find_kinto()
    if install is None:
        sys.exit(KINTO_MISSING)
    report = {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "commit": git_commit(),
        "command": " ".join(["/usr/bin/python3", "bench/kinto-outbox/kinto_outbox_bench.py"]
                            + sys.argv[1:]),
        "kinto_push_binary": binary,
        "kinto_push_binary_source": binary_source,
        "kinto": install.source,
        "machine_at_start": machine(),
        "options": {k: v for k, v in vars(args).items() if k not in ("out", "push_bin")},
    }
    print(f"kinto-push: {binary} ({binary_source}); Kinto: {install.source}", flush=True)
    cluster = PostgresCluster().start()
    tmp = tempfile.mkdtemp(prefix="kinto-outbox-bench-")
    push = None
    try:
        if args.part in ("latency", "both"):
            push = PushServer(binary, ["--history-size", str(HISTORY_SIZE)],
                              store="memory").start()
            print(f"1. write latency: {args.reps} x {', '.join(args.order)}, {args.writes} writes "
                  f"from {args.clients} clients after {args.warmup} not counted", flush=True)
            started = time.monotonic()
            runs = WriteLatency(cluster, install, push, args.reps, args.writes, args.warmup,
                                args.clients, args.order, log=lambda s: print(s, flush=True)).run()
            report["write_latency"] = {"runs": runs, **latency_summary(runs),
                                       "seconds": round(time.monotonic() - started, 1)}
            push.stop()
            push = None
            print(json.dumps({k: v for k, v in report["write_latency"].items() if k != "runs"},
                             indent=1), flush=True)
        if args.part in ("drain", "both"):
            print(f"2. backlog drain: {args.backlog} events", flush=True)
            drain = BacklogDrain(cluster, install, binary, tmp, args.backlog, args.batch,
                                 args.produce_seconds, args.drain_timeout, args.drain_store,
                                 HISTORY_SIZE, log=lambda s: print(s, flush=True))
            report["backlog_drain"] = drain.run()
            print(json.dumps(report["backlog_drain"], indent=1), flush=True)
    finally:
        if push is not None:
            push.stop()
        cluster.stop()
        stop_all()
        subprocess.run(["rm", "-rf", tmp], check=False)
    report["machine_at_end"] = machine()
    if args.out:
        with open(args.out, "w") as f:
            json.dump(report, f, indent=1)
            f.write("\n")
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
