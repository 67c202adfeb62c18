"""Test helpers: the real kinto-push binary on 127.0.0.1, and small HTTP fixtures.

Every wait is bounded; every process started here is stopped by its PID (and, should the
test process die first, gets SIGTERM from the kernel: PR_SET_PDEATHSIG).
"""

import ctypes
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import threading
import time
import urllib.parse

START_TIMEOUT = 10.0
STOP_TIMEOUT = 8.0
SECRET = "s3cret-for-tests"  # the --publish-secret of the test servers
LISTENING = re.compile(r"listening on http://127\.0\.0\.1:(\d+)")

_running = {}  # pid -> Popen


def _die_with_parent():
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except Exception:
        pass


def stop_all():
    for pid, proc in list(_running.items()):
        if proc.poll() is None:
            os.kill(pid, signal.SIGKILL)
            proc.wait(STOP_TIMEOUT)
        _running.pop(pid, None)


def free_port():
    """A port nothing listens on (bound then released)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class PushServer:
    """kinto-push with ``--listen 127.0.0.1:PORT --store STORE`` plus ``args``."""

    def __init__(self, binary, args=(), port=0, store="memory"):
        if not binary:
            raise RuntimeError("KINTO_PUSH_BIN must name the kinto-push binary")
        self.binary = binary
        self.args = list(args)
        self.store = store
        self.port = port
        self.proc = None
        self.log = []
        self._log_lock = threading.Lock()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self):
        env = {k: v for k, v in os.environ.items() if not k.startswith("KINTO_PUSH_")}
        cmd = [self.binary, "--listen", f"127.0.0.1:{self.port}", "--store", self.store,
               "--shards", "1", *self.args]
        self.proc = subprocess.Popen(
            cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            env=env, preexec_fn=_die_with_parent,
        )
        _running[self.proc.pid] = self.proc
        found = threading.Event()
        port_box = []

        def read_stderr(stream):
            # The whole of stderr is read, so that a full pipe never blocks the server.
            for raw in stream:
                line = raw.decode("utf-8", "replace").rstrip("\n")
                with self._log_lock:
                    self.log.append(line)
                    del self.log[:-500]
                m = LISTENING.search(line)
                if m and not found.is_set():
                    port_box.append(int(m.group(1)))
                    found.set()
            found.set()

        threading.Thread(target=read_stderr, args=(self.proc.stderr,), daemon=True).start()
        if not found.wait(START_TIMEOUT) or not port_box:
            self.stop()
            raise RuntimeError("kinto-push did not start:\n" + "\n".join(self.log))
        self.port = port_box[0]
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

    def request(self, method, path, body=None, headers=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            resp = conn.getresponse()
            data = resp.read()
            return resp.status, (json.loads(data) if data else None)
        finally:
            conn.close()

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


def summary(events):
    """(action, resource_name, ids of the impacted objects) of each history event."""
    out = []
    for e in events:
        ids = [(c.get("new") or c.get("old"))["id"] for c in e["impacted_objects"]]
        out.append((e["payload"]["action"], e["payload"]["resource_name"], ids))
    return out


def wait_for(predicate, timeout=10.0, interval=0.02, what="condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


class FaultyProxy:
    """An HTTP proxy in front of kinto-push that misbehaves on purpose, request by request.

    ``plan`` lists what to do with the 1st, 2nd, … request; later ones are relayed:
      "relay"       forward and relay the answer
      "lose-answer" forward (kinto-push stores the events) then close without answering
      "503"         answer 503 without forwarding
      "hang"        read the request, never answer (the client's timeout must fire)
    """

    def __init__(self, upstream_port, plan=()):
        self.upstream_port = upstream_port
        self.plan = list(plan)
        self.seen = []  # (action, headers) per request
        self._lock = threading.Lock()
        self._sock = socket.socket()
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(16)
        self.port = self._sock.getsockname()[1]
        self._closing = False
        self._hung = []
        threading.Thread(target=self._serve, daemon=True).start()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def close(self):
        self._closing = True
        try:
            self._sock.close()
        except OSError:
            pass
        for c in self._hung:
            c.close()

    def _serve(self):
        while not self._closing:
            try:
                client, _ = self._sock.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(client,), daemon=True).start()

    def _handle(self, client):
        client.settimeout(10)
        try:
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = client.recv(65536)
                if not chunk:
                    client.close()
                    return
                data += chunk
            head, body = data.split(b"\r\n\r\n", 1)
            lines = head.decode("latin-1").split("\r\n")
            method, path, _ = lines[0].split(" ", 2)
            headers = {}
            for line in lines[1:]:
                k, v = line.split(":", 1)
                headers[k.strip()] = v.strip()
            length = int(headers.get("Content-Length", "0"))
            while len(body) < length:
                chunk = client.recv(65536)
                if not chunk:
                    break
                body += chunk
            with self._lock:
                action = self.plan.pop(0) if self.plan else "relay"
                self.seen.append((action, headers))
            if action == "hang":
                self._hung.append(client)
                return
            if action == "503":
                payload = b'{"code":503,"errno":201,"error":"Service Unavailable","message":"proxy says retry"}'
                client.sendall(b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
                               b"Content-Length: " + str(len(payload)).encode() +
                               b"\r\nConnection: close\r\n\r\n" + payload)
                client.close()
                return
            up = http.client.HTTPConnection("127.0.0.1", self.upstream_port, timeout=10)
            fwd = {k: v for k, v in headers.items() if k.lower() not in ("host", "connection")}
            up.request(method, path, body=body, headers=fwd)
            resp = up.getresponse()
            rbody = resp.read()
            up.close()
            if action == "lose-answer":
                client.close()
                return
            client.sendall(
                f"HTTP/1.1 {resp.status} {resp.reason}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(rbody)}\r\nConnection: close\r\n\r\n".encode() + rbody)
            client.close()
        except OSError:
            client.close()
