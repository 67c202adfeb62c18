"""Concurrent Kinto clients for the crash tests: threads writing over HTTP, each write logged
with what a client can know of it.

    writers = KintoWriters(kinto.port, plan, count=4, auth=("alice", "pw")).start()
    ...
    writers.stop(timeout=10)
    writers.log        # every Write, in the order they were sent

``plan(writer, seq)`` returns the next request of writer ``writer`` as (method, path, body,
record_ids) or None to end that writer: ``record_ids`` are the "collection/record" keys the
request creates (one for a PUT, several for a batch), how the tests find its events.

Each writer sends one request at a time on its own keep-alive connection. A Write's outcome:
``acked`` (a 2xx was received: Kinto committed it), ``failed`` (another status: Kinto rolled
it back) or ``unknown`` (no answer: in flight when Kinto died). A writer whose request gets
no answer ends (its Kinto is gone), unless ``keep_going``.
"""

import base64
import http.client
import json
import threading
import time

from kinto_write import Write


class KintoWriters:
    def __init__(self, port, plan, count=4, auth=("alice", "pw"), keep_going=False, timeout=30):
        self.port, self.plan, self.count = port, plan, count
        self.keep_going, self.timeout = keep_going, timeout
        token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
        self.headers = {"Content-Type": "application/json", "Authorization": f"Basic {token}"}
        self.log = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = []
        self.errors = []  # unexpected exceptions of the writer threads

    def start(self):
        for i in range(self.count):
            t = threading.Thread(target=self._run, args=(i,), name=f"kinto-writer-{i}", daemon=True)
            self._threads.append(t)
            t.start()
        return self

    def stop(self, timeout=10.0):
        """Asks the writers to end after their current request; waits at most ``timeout``."""
        self._stop.set()
        return self.join(timeout)

    def join(self, timeout=10.0):
        deadline = time.monotonic() + timeout
        for t in self._threads:
            t.join(max(0.0, deadline - time.monotonic()))
        alive = [t.name for t in self._threads if t.is_alive()]
        assert not alive, f"writers still running after {timeout} s: {alive}"
        assert not self.errors, self.errors
        return self.log

    def count_acked(self):
        with self._lock:
            return sum(1 for w in self.log if w.outcome == "acked")

    def wait_acked(self, n, timeout):
        """Until ``n`` writes were acknowledged (bounded by ``timeout``)."""
        deadline = time.monotonic() + timeout
        while self.count_acked() < n:
            if time.monotonic() >= deadline:
                raise AssertionError(f"only {self.count_acked()} of {n} writes acknowledged "
                                     f"after {timeout} s")
            time.sleep(0.02)

    def _run(self, writer):
        conn = None
        seq = 0
        try:
            while not self._stop.is_set():
                request = self.plan(writer, seq)
                if request is None:
                    return
                method, path, body, record_ids = request
                write = Write(writer, seq, method, path, record_ids, body)
                seq += 1
                data = json.dumps(body).encode()
                if conn is None:
                    conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
                with self._lock:
                    self.log.append(write)
                write.sent = time.monotonic()
                try:
                    conn.request(method, "/v1" + path, body=data, headers=self.headers)
                    resp = conn.getresponse()
                    raw = resp.read()
                except (OSError, http.client.HTTPException):
                    conn.close()
                    conn = None
                    if not self.keep_going:
                        return
                    time.sleep(0.05)
                    continue
                write.answered = time.monotonic()
                write.body = json.loads(raw) if raw else None
                write.status = resp.status
                if resp.getheader("Connection", "").lower() == "close":
                    conn.close()
                    conn = None
        except Exception as e:  # a bug in the plan or here: reported by join()
            self.errors.append(f"writer {writer}: {type(e).__name__}: {e}")
        finally:
            if conn is not None:
                conn.close()
