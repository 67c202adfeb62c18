"""Figures of one run of writes (percentiles, mean, writes/s) and medians over repetitions."""

import math
import statistics


def percentile(values, p):
    """The ``p``-th percentile (0-100) of ``values``, linear between closest ranks."""
    ordered = sorted(values)
    if not ordered:
        return None
    rank = (len(ordered) - 1) * p / 100.0
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def run_figures(result):
    """p50, p99, mean, max (ms) and writes/s of one ``WriteLoad.run`` result."""
    lat = result["latencies_ms"]
    return {
        "writes": len(lat),
        "errors": len(result["errors"]),
        "conflicts_409": result.get("conflicts", 0),
        "p50_ms": round(percentile(lat, 50), 3),
        "p90_ms": round(percentile(lat, 90), 3),
        "p99_ms": round(percentile(lat, 99), 3),
        "mean_ms": round(statistics.fmean(lat), 3),
        "max_ms": round(max(lat), 3),
        "writes_per_s": round(len(lat) / result["seconds"], 1),
    }


def medians(runs, keys=("p50_ms", "p90_ms", "p99_ms", "mean_ms", "max_ms", "writes_per_s",
                        "conflicts_409", "kinto_cpu_ms_per_write",
                        "postgresql_cpu_ms_per_write")):
    """{key: {"median", "min", "max"}} over the runs' figures."""
    out = {}
    for key in keys:
        values = [r[key] for r in runs if r.get(key) is not None]
        if values:
            out[key] = {"median": round(statistics.median(values), 3),
                        "min": round(min(values), 3), "max": round(max(values), 3)}
    return out
