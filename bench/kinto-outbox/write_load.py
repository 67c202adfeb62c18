"""Record writes into one Kinto collection from concurrent clients, each timed.

    load = WriteLoad(port, ("bench", "pw"), "/buckets/b/collections/c", clients=4)
    load.run(50, "warm")              # not counted
    result = load.run(1000, "rec")    # {"latencies_ms": [...], "seconds": ..., "errors": 0}

Each client is a thread with one keep-alive HTTP/1.1 connection (``http.client``) and PUTs
records of about 200 bytes (``/records/{prefix}-{n}``) until the shared count is reached.
A write's latency is from sending the request to reading the whole answer. Every request has
a timeout; one that fails on the network is counted in ``errors`` (its connection reopened).

Concurrent writes to one collection on PostgreSQL sometimes collide on Kinto's unique index
of (parent, resource, last_modified): Kinto answers ``409`` ("Integrity constraint violated,
please retry"), and its clients retry. So does this one, at once, up to MAX_RETRIES times; the
latency kept is that of the attempt that succeeded, and the 409s are counted in ``conflicts``.
"""

import http.client
import json
import threading
import time

from kinto_server import basic_auth

REQUEST_TIMEOUT = 30.0
MAX_RETRIES = 5
RECORD_FILL = 150  # characters of "text": with the other fields, about 200 bytes of JSON


def record_body(n):
    data = {"title": f"record {n}", "count": n, "done": n % 2 == 0,
            "text": ("lorem ipsum " * 20)[:RECORD_FILL]}
    return json.dumps({"data": data}).encode()


class WriteLoad:
    def __init__(self, port, auth, collection_path, clients=4):
        self.port = port
        self.auth_header = basic_auth(*auth)
        self.path = "/v1" + collection_path + "/records/"
        self.clients = clients

    def run(self, count, prefix):
        """Writes ``count`` records named ``{prefix}-{n}``; returns the latencies (ms, in
        completion order), the wall time, the errors and the ids written."""
        lock = threading.Lock()
        next_n = iter(range(count))
        latencies, errors, written = [], [], []
        conflicts = [0]

        def client():
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=REQUEST_TIMEOUT)
            headers = {"Content-Type": "application/json", "Authorization": self.auth_header}
            try:
                while True:
                    with lock:
                        n = next(next_n, None)
                    if n is None:
                        return
                    rid = f"{prefix}-{n}"
                    body = record_body(n)
                    for attempt in range(MAX_RETRIES + 1):
                        start = time.perf_counter()
                        try:
                            conn.request("PUT", self.path + rid, body=body, headers=headers)
                            resp = conn.getresponse()
                            resp.read()
                            status = resp.status
                        except (OSError, http.client.HTTPException) as e:
                            conn.close()
                            conn = http.client.HTTPConnection("127.0.0.1", self.port,
                                                              timeout=REQUEST_TIMEOUT)
                            status = f"{type(e).__name__}: {e}"
                            break
                        if status != 409:
                            break
                        with lock:
                            conflicts[0] += 1
                    elapsed = (time.perf_counter() - start) * 1000.0
                    with lock:
                        if status in (200, 201):
                            latencies.append(elapsed)
                            written.append(rid)
                        else:
                            errors.append(f"HTTP {status}" if isinstance(status, int) else status)
            finally:
                conn.close()

        threads = [threading.Thread(target=client, daemon=True) for _ in range(self.clients)]
        start = time.perf_counter()
        for t in threads:
            t.start()
        deadline = time.monotonic() + 60.0 + count * 0.2  # bounded: 0.2 s a write at worst
        for t in threads:
            t.join(max(0.0, deadline - time.monotonic()))
        seconds = time.perf_counter() - start
        if any(t.is_alive() for t in threads):
            raise RuntimeError(f"writes of {prefix} did not finish in time")
        return {"latencies_ms": latencies, "seconds": seconds, "errors": errors,
                "conflicts": conflicts[0], "ids": written}
