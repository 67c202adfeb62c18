"""Part 1: Kinto's write latency on PostgreSQL in three modes, interleaved.

For each repetition, in the order none, memory, outbox (or ``order``): a fresh database and Kinto
(BenchKinto), one bucket and collection, ``warmup`` writes not counted, then ``writes``
counted writes from ``clients`` keep-alive clients. With the plugin, the run then waits
(bounded) until kinto-push's collection channel holds every record written (warm-up
included), so that nothing still being delivered competes with the next run, and checks it.
"""

import time

from bench_kinto import MODES, USER, BenchKinto
from latency_figures import run_figures
from push_channel import PushChannel
from write_load import WriteLoad

DELIVERY_TIMEOUT = 120.0


class WriteLatency:
    def __init__(self, cluster, install, push, reps, writes, warmup, clients, order=MODES,
                 log=print):
        self.order = list(order)
        self.cluster = cluster
        self.install = install
        self.push = push
        self.reps = reps
        self.writes = writes
        self.warmup = warmup
        self.clients = clients
        self.log = log

    def run(self):
        runs = []
        for rep in range(1, self.reps + 1):
            for mode in self.order:
                runs.append(self.one(mode, rep))
        return runs

    def one(self, mode, rep):
        kinto = BenchKinto(self.cluster, self.install, mode, self.push.url, f"w{rep}_{mode}")
        try:
            kinto.start()
            bucket = f"run-{mode}-{rep}"
            collection = kinto.create_collection(bucket, "records")
            load = WriteLoad(kinto.port, USER, collection, self.clients)
            warm = load.run(self.warmup, "warm")
            cpu_before, db_before = kinto.cpu_seconds(), kinto.database_cpu_seconds()
            result = load.run(self.writes, "rec")
            cpu = kinto.cpu_seconds() - cpu_before
            db_cpu = kinto.database_cpu_seconds() - db_before
            figures = run_figures(result)
            figures.update(mode=mode, rep=rep, warmup_errors=len(warm["errors"]),
                           kinto_cpu_ms_per_write=round(cpu * 1000.0 / max(1, figures["writes"]), 3),
                           postgresql_cpu_ms_per_write=round(
                               db_cpu * 1000.0 / max(1, figures["writes"]), 3))
            if result["errors"]:
                figures["first_errors"] = result["errors"][:3]
            if mode != "none":
                figures.update(self._delivery(kinto, collection, warm["ids"] + result["ids"]))
            figures["kinto_peak_rss_mib"] = round(kinto.peak_rss_mib() or 0, 1)
            self.log(f"  {mode:6} rep {rep}: p50 {figures['p50_ms']:.2f} ms, p99 "
                     f"{figures['p99_ms']:.2f} ms, mean {figures['mean_ms']:.2f} ms, "
                     f"{figures['writes_per_s']:.0f} writes/s, 409s retried "
                     f"{figures['conflicts_409']}, errors {figures['errors']}"
                     + (f", delivered {figures['delivered']}/{figures['expected']} in "
                        f"{figures['delivery_wait_s']} s" if mode != "none" else ""))
            return figures
        finally:
            kinto.stop()

    def _delivery(self, kinto, collection, ids):
        """Waits until kinto-push holds every record of ``ids``; what arrived, and how long
        after the last write it took."""
        channel = PushChannel(self.push, collection)
        expected = set(ids)
        start = time.monotonic()
        got = []
        while time.monotonic() - start < DELIVERY_TIMEOUT:
            got = channel.record_ids()
            if expected <= set(got):
                break
            time.sleep(0.1)
        waited = time.monotonic() - start
        out = {"expected": len(expected), "delivered": len(expected & set(got)),
               "duplicates": len(got) - len(set(got)), "delivery_wait_s": round(waited, 2)}
        if kinto.mode == "outbox":
            out["outbox_depth_after"] = kinto.outbox_depth()
        return out
