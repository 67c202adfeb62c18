"""The real kinto-push binary on 127.0.0.1 for the Python test suites, and a publisher.

    server = PushServer(binary, ["--publish-secret", "s"], store="memory").start()
    server.publish(event)          # POST /v1/events (development mode: no secret)
    server.history(channel)        # every stored event of the channel
    server.kill(); server.start()  # SIGKILL, then again on the same port

The binary comes from ``$KINTO_PUSH_BIN`` (``binary_from_environment()``).
"""

import http.client
import json
import os
import signal
import urllib.parse

from processes import spawn, stop

START_TIMEOUT = 10.0
SECRET = "s3cret-for-tests"  # the --publish-secret of the plugin's test servers
LISTENING = r"listening on http://127\.0\.0\.1:(\d+)"
_timestamps = iter(range(1717000000000, 1 << 62, 7))


def binary_from_environment():
    """``$KINTO_PUSH_BIN`` if it names an executable, else None."""
    binary = os.environ.get("KINTO_PUSH_BIN")
    return binary if binary and os.access(binary, os.X_OK) else None


class PushServer:
    """kinto-push with ``--listen 127.0.0.1:PORT --store STORE --shards 1`` plus ``args``."""

    def __init__(self, binary, args=(), port=0, store="memory"):
        if not binary:
            raise RuntimeError("KINTO_PUSH_BIN must name the kinto-push binary")
        self.binary, self.args, self.port, self.store = binary, list(args), port, store
        self.proc = None
        self.output = None

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    @property
    def log(self):
        """The server's last lines of output."""
        return self.output.lines if self.output else []

    def start(self):
        env = {k: v for k, v in os.environ.items() if not k.startswith("KINTO_PUSH_")}
        cmd = [self.binary, "--listen", f"127.0.0.1:{self.port}", "--store", self.store,
               "--shards", "1", *self.args]
        self.proc, self.output = spawn(cmd, env=env)
        found = self.output.wait_for(LISTENING, START_TIMEOUT)
        if not found:
            self.stop()
            raise RuntimeError("kinto-push did not start:\n" + self.output.text())
        self.port = int(found.group(1))
        return self

    def stop(self):
        """SIGTERM (a graceful stop), SIGKILL if it takes too long."""
        stop(self.proc)
        self.proc = None

    def kill(self):
        stop(self.proc, signal.SIGKILL)
        self.proc = None

    def request(self, method, path, body=None, headers=None):
        """(status, parsed JSON body or None)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            resp = conn.getresponse()
            data = resp.read()
            return resp.status, (json.loads(data) if data else None)
        except ConnectionRefusedError:
            if self.proc is not None and self.proc.poll() is not None:  # say why: it is gone
                raise RuntimeError(f"kinto-push exited with status {self.proc.returncode}; its "
                                   f"last output:\n{self.output.text()[-4000:]}") from None
            raise
        finally:
            conn.close()

    def publish(self, *events):
        """POSTs ``events`` as one request; returns the published offsets."""
        status, body = self.request("POST", "/v1/events", json.dumps({"events": list(events)}),
                                    {"Content-Type": "application/json"})
        assert status == 202, (status, body)
        return body["published"]

    def history(self, channel, since=0):
        """Every event of ``channel`` after offset ``since`` (development mode: no auth)."""
        events = []
        while True:
            query = urllib.parse.urlencode({"channel": channel, "since": since, "limit": 1000})
            status, body = self.request("GET", f"/v1/history?{query}")
            assert status == 200, (status, body)
            events.extend(body["events"])
            if not body["more"]:
                return events
            since = body["events"][-1]["offset"]


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


def summary(events):
    """(action, resource_name, ids of the impacted objects) of each history event."""
    out = []
    for e in events:
        ids = [(c.get("new") or c.get("old"))["id"] for c in e["impacted_objects"]]
        out.append((e["payload"]["action"], e["payload"]["resource_name"], ids))
    return out
