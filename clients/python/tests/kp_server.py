"""The real kinto-push binary on 127.0.0.1 for the client's tests, and a publisher.

Every wait is bounded; every process started here is stopped by its PID (and gets SIGTERM
from the kernel should the test process die first: PR_SET_PDEATHSIG)."""

import ctypes
import json
import os
import re
import signal
import subprocess
import threading
import urllib.request

START_TIMEOUT = 10.0
STOP_TIMEOUT = 8.0
LISTENING = re.compile(r"listening on http://127\.0\.0\.1:(\d+)")

_running = {}  # pid -> Popen
_timestamps = iter(range(1717000000000, 1 << 62, 7))


def _die_with_parent():
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except Exception:
        pass


def stop_all():
    for pid, proc in list(_running.items()):
        if proc.poll() is None:
            os.kill(pid, signal.SIGKILL)
            proc.wait(STOP_TIMEOUT)
        _running.pop(pid, None)


class KintoPush:
    """kinto-push with ``--listen 127.0.0.1:PORT --store STORE --shards 1`` plus ``args``."""

    def __init__(self, binary, args=(), port=0, store="memory"):
        self.binary, self.args, self.port, self.store = binary, list(args), port, store
        self.proc = None
        self.log = []

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self):
        env = {k: v for k, v in os.environ.items() if not k.startswith("KINTO_PUSH_")}
        cmd = [self.binary, "--listen", f"127.0.0.1:{self.port}", "--store", self.store,
               "--shards", "1", *self.args]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, env=env, preexec_fn=_die_with_parent)
        _running[self.proc.pid] = self.proc
        found, ports = threading.Event(), []

        def read(stream):   # all of stderr, so that a full pipe never blocks the server
            for raw in stream:
                line = raw.decode("utf-8", "replace").rstrip("\n")
                self.log = self.log[-300:] + [line]
                m = LISTENING.search(line)
                if m and not found.is_set():
                    ports.append(int(m.group(1)))
                    found.set()
            found.set()

        threading.Thread(target=read, args=(self.proc.stderr,), daemon=True).start()
        if not found.wait(START_TIMEOUT) or not ports:
            self.stop()
            raise RuntimeError("kinto-push did not start:\n" + "\n".join(self.log))
        self.port = ports[0]
        return self

    def stop(self):
        proc, self.proc = self.proc, None
        if proc is None:
            return
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGTERM)
            try:
                proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait(STOP_TIMEOUT)
        _running.pop(proc.pid, None)

    def publish(self, *events):
        """POSTs ``events`` as one request; returns the published offsets."""
        body = json.dumps({"events": list(events)}).encode()
        req = urllib.request.Request(self.url + "/v1/events", data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=5) as resp:
            assert resp.status == 202, resp.status
            return json.loads(resp.read())["published"]


def record_event(bucket="blog", collection="articles", rid=None, action="update"):
    """A Kinto record event (PROTOCOL.md section 2) with a fresh timestamp."""
    ts = next(_timestamps)
    rid = rid or f"r{ts}"
    new = {"id": rid, "last_modified": ts, "title": f"at {ts}"}
    impacted = [{"new": new}] if action == "create" else [
        {"new": new, "old": {"id": rid, "last_modified": ts - 1, "title": "before"}}]
    return {"payload": {"timestamp": ts, "action": action,
                        "uri": f"/buckets/{bucket}/collections/{collection}/records/{rid}",
                        "user_id": "account:alice", "resource_name": "record",
                        "bucket_id": bucket, "collection_id": collection, "record_id": rid},
            "impacted_objects": impacted}
