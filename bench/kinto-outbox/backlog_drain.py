"""Part 2: the outbox relay draining a backlog after a kinto-push outage.

1. kinto-push up (``store``), Kinto with the outbox (BenchKinto "outbox") on a fresh
   database; bucket ``backlog`` and ``producers`` x ``batch`` collections created and
   delivered (outbox empty); kinto-push stopped (SIGTERM).
2. The backlog: Kinto batch requests (``POST /v1/batch``, ``batch`` PUTs each, every one in
   a collection of its own so that each is one Kinto event, one outbox row) from
   ``producers`` clients, each on its own collections, until ``backlog`` events or
   ``produce_seconds``; what is missing then is INSERTed directly, ``batch`` rows per
   transaction, as copies of a row Kinto wrote (its record id and timestamp replaced), in
   the writer's format (outbox_table.py: one event JSON per row, txid and created by default).
3. kinto-push started again on the same port; every 0.1 s the events of kinto-push's
   channel ``/buckets/backlog`` (``GET /v1/channels/…``), and once it holds every event the
   outbox depth (SQL), until the outbox is empty; then the channel's history is read
   and checked against the ids written (missing, duplicates).
"""

import http.client
import json
import os
import threading
import time

from bench_kinto import USER, BenchKinto, process_cpu_seconds
from kinto_server import basic_auth
from processes import free_port
from push_channel import PushChannel
from push_server import PushServer
from write_load import record_body

BUCKET = "backlog"
POLL = 0.1
SETUP_TIMEOUT = 60.0


class BacklogDrain:
    def __init__(self, cluster, install, binary, tmp, backlog, batch, produce_seconds,
                 drain_timeout, store, history_size, producers=2, log=print):
        self.cluster, self.install, self.binary, self.tmp = cluster, install, binary, tmp
        self.backlog, self.batch, self.producers = backlog, batch, producers
        self.produce_seconds, self.drain_timeout = produce_seconds, drain_timeout
        self.store_kind = store
        self.history_size = history_size
        self.log = log

    def _store(self):
        if self.store_kind == "memory":
            return "memory"
        return "sqlite:" + os.path.join(self.tmp, "push-store", "kinto-push.sqlite3")

    def run(self):
        push = PushServer(self.binary, ["--history-size", str(self.history_size)],
                          port=free_port(), store=self._store())
        push.start()
        kinto = BenchKinto(self.cluster, self.install, "outbox", push.url, "backlog",
                           {"kinto.push.relay_interval": "0.5"})
        try:
            kinto.start()
            self._setup(kinto)
            channel = PushChannel(push, "/buckets/" + BUCKET)
            summary = channel.summary() or {}
            # What the channel holds before the outage (the setup's events, all relayed):
            # kept across the restart by the sqlite store, lost by the memory store.
            self._setup_events = summary.get("events", 0)
            self._since = summary.get("last_offset", 0)
            if self.store_kind == "memory":
                self._setup_events = self._since = 0
            push.stop()
            out = {"store": self.store_kind, "batch": self.batch, "producers": self.producers}
            ids = self._produce(kinto, out)
            depth = kinto.outbox_depth()
            out["outbox_rows"] = depth
            out["kinto_rss_before_drain_mib"] = round(kinto.rss_mib(), 1)
            self.log(f"  backlog: {depth} rows in the outbox ({out['kinto_written']} by Kinto "
                     f"in {out['kinto_seconds']} s, {out['inserted']} INSERTed in "
                     f"{out['insert_seconds']} s); starting kinto-push")
            out.update(self._drain(kinto, push, channel, depth))
            self._check(channel, ids, out)
            return out
        finally:
            kinto.stop()
            push.stop()

    # ----- 1. setup ------------------------------------------------------------------------

    def _collections(self, producer):
        return [f"c{producer}x{i:04d}" for i in range(self.batch)]

    def _setup(self, kinto):
        status, body = kinto.request("PUT", f"/buckets/{BUCKET}", {"data": {}})
        assert status in (200, 201), (status, body)
        for p in range(self.producers):
            requests = [{"path": f"/buckets/{BUCKET}/collections/{c}", "body": {"data": {}}}
                        for c in self._collections(p)]
            status, body = kinto.request("POST", "/batch",
                                         {"defaults": {"method": "PUT"}, "requests": requests})
            assert status == 200 and all(r["status"] in (200, 201) for r in body["responses"]), \
                (status, json.dumps(body)[:300])
        deadline = time.monotonic() + SETUP_TIMEOUT
        while kinto.outbox_depth() != 0:
            if time.monotonic() > deadline:
                raise RuntimeError("setup events not relayed to kinto-push in time")
            time.sleep(POLL)

    # ----- 2. the backlog ------------------------------------------------------------------

    def _produce(self, kinto, out):
        ids, lock = [], threading.Lock()
        errors = []
        start = time.monotonic()
        deadline = start + self.produce_seconds
        batches = iter(range(self.backlog // self.batch))

        def producer(p):
            conn = http.client.HTTPConnection("127.0.0.1", kinto.port, timeout=60)
            headers = {"Content-Type": "application/json", "Authorization": basic_auth(*USER)}
            collections = self._collections(p)
            try:
                while time.monotonic() < deadline:
                    with lock:
                        k = next(batches, None)
                    if k is None:
                        return
                    rids = [f"b{k:07d}x{i:04d}" for i in range(self.batch)]
                    requests = [{"path": f"/buckets/{BUCKET}/collections/{c}/records/{r}",
                                 "body": json.loads(record_body(k))}
                                for c, r in zip(collections, rids)]
                    body = json.dumps({"defaults": {"method": "PUT"}, "requests": requests})
                    conn.request("POST", "/v1/batch", body=body.encode(), headers=headers)
                    resp = conn.getresponse()
                    data = resp.read()
                    if resp.status != 200:
                        with lock:
                            errors.append(f"batch HTTP {resp.status}: {data[:200]!r}")
                        continue
                    answers = json.loads(data)["responses"]
                    done = [r for r, a in zip(rids, answers) if a["status"] in (200, 201)]
                    with lock:
                        ids.extend(done)
                        if len(done) < len(rids):
                            errors.append(f"{len(rids) - len(done)} subrequests failed")
            finally:
                conn.close()

        threads = [threading.Thread(target=producer, args=(p,), daemon=True)
                   for p in range(self.producers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(self.produce_seconds + 120)
        if any(t.is_alive() for t in threads):
            raise RuntimeError("backlog producers did not stop in time")
        out["kinto_seconds"] = round(time.monotonic() - start, 1)
        out["kinto_written"] = len(ids)
        out["kinto_events_per_s"] = round(len(ids) / max(out["kinto_seconds"], 0.001), 1)
        out["produce_errors"] = errors[:5]
        start = time.monotonic()
        filled = self._insert_rest(kinto, self.backlog - len(ids))
        out["insert_seconds"] = round(time.monotonic() - start, 1)
        out["inserted"] = len(filled)
        return ids + filled

    def _insert_rest(self, kinto, missing):
        """``missing`` rows INSERTed directly, copies of the last row Kinto wrote."""
        if missing <= 0:
            return []
        text = kinto.sql("SELECT events FROM kinto_push_outbox ORDER BY id DESC LIMIT 1")[0][0]
        event = json.loads(text)
        rid = event["impacted_objects"][0]["new"]["id"]
        stamp = str(event["payload"]["timestamp"])
        assert text.count(rid) >= 2 and stamp in text, text[:300]
        query = ("INSERT INTO kinto_push_outbox (events) "
                 "SELECT replace(replace(%(tpl)s, %(rid)s, 'fill' || lpad(n::text, 9, '0')), "
                 "%(stamp)s, (%(base)s + n)::text) FROM generate_series(%(lo)s, %(hi)s) AS n "
                 "ORDER BY n")
        for lo in range(0, missing, self.batch):
            hi = min(missing, lo + self.batch) - 1
            kinto.sql(query, {"tpl": text, "rid": rid, "stamp": stamp, "base": int(stamp) + 1,
                              "lo": lo, "hi": hi})  # autocommit: one transaction each
        return [f"fill{n:09d}" for n in range(missing)]

    # ----- 3. the drain --------------------------------------------------------------------

    def _drain(self, kinto, push, channel, depth):
        log_mark = len(kinto.server.log.lines)
        cpu0, db0 = kinto.cpu_seconds(), kinto.database_cpu_seconds()
        launched = time.monotonic()
        push.start()
        listening = time.monotonic()
        push_cpu0 = process_cpu_seconds(push.proc.pid)
        first = done = None
        peak_rss = 0.0
        last_depth = depth
        arrived = 0
        while time.monotonic() - listening < self.drain_timeout:
            summary = channel.summary() or {}
            arrived = summary.get("events", 0) - self._setup_events
            # The depth (a count(*) of the table) only once every event arrived: polled
            # throughout, the benchmark's own count(*) would load PostgreSQL.
            last_depth = kinto.outbox_depth() if arrived >= depth else None
            peak_rss = max(peak_rss, kinto.rss_mib() or 0.0)
            now = time.monotonic()
            if first is None and arrived > 0:
                first = now
            if last_depth == 0 and arrived >= depth:
                done = now
                break
            time.sleep(POLL)
        cpu = kinto.cpu_seconds() - cpu0
        db_cpu = kinto.database_cpu_seconds() - db0
        push_cpu = process_cpu_seconds(push.proc.pid) - push_cpu0
        out = {"kinto_push_start_seconds": round(listening - launched, 3),
               "drained": done is not None, "outbox_depth_at_end": last_depth,
               "events_arrived": arrived, "kinto_drain_cpu_seconds": round(cpu, 2),
               "kinto_push_drain_cpu_seconds": round(push_cpu, 2),
               "postgresql_drain_cpu_seconds": round(db_cpu, 2),
               "kinto_rss_peak_during_drain_mib": round(peak_rss, 1),
               "kinto_vm_hwm_mib": round(kinto.peak_rss_mib() or 0, 1)}
        if done is not None:
            out["drain_seconds"] = round(done - listening, 2)
            out["events_per_s"] = round(depth / (done - listening), 1)
            out["first_event_after_s"] = round(first - listening, 2)
            out["events_per_s_from_first"] = round(depth / max(done - first, 0.001), 1)
        # POSTs kinto-push did not take at once (the poster logs each recovery at INFO).
        lines = kinto.server.log.lines[log_mark:]
        out["relay_recoveries_logged"] = sum("failed attempt" in line for line in lines)
        out["relay_log_sample"] = [line for line in lines if "kinto-push" in line][:5]
        self.log(f"  drained: {out['drained']} in {out.get('drain_seconds')} s "
                 f"({out.get('events_per_s')} events/s), Kinto peak RSS {out['kinto_vm_hwm_mib']} MiB")
        return out

    def _check(self, channel, ids, out):
        got = channel.record_ids(since=self._since)
        seen = set(got)
        out["check"] = {"expected": len(ids), "delivered": len(seen & set(ids)),
                        "missing": len(set(ids) - seen), "duplicates": len(got) - len(seen),
                        "unexpected": len(seen - set(ids))}
