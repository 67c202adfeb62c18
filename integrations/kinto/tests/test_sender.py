"""The sender and the listener in isolation, against a small recording HTTP server (for
answers kinto-push would not give on demand) or the real binary (body size limit)."""

import hashlib
import hmac
import http.server
import json
import logging
import os
import threading
import time

import pytest

import kinto_stub
from kinto_push.listener import Listener
from kinto_push.authorization import sign
from kinto_push.poster import Poster
from kinto_push.sender import BURST_WAIT, GROUP_WAIT, Sender
from kinto_push.settings import Settings
from processes import wait_for
from push_server import summary

SECRET = "unit-secret"


class Recorder:
    """An HTTP/1.1 server on 127.0.0.1 that records each POST and answers with
    ``respond(n, events)`` (n counts from 0), by default 202. ``close_silently``: close each
    connection after answering without saying so (as a server whose idle timeout fired)."""

    def __init__(self, respond=None, close_silently=False):
        self.requests = []
        self.client_ports = []
        self.respond = respond or (lambda n, events: (202, {}, b'{"published":[]}'))
        recorder = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                n = len(recorder.requests)
                recorder.requests.append((dict(self.headers), body))
                recorder.client_ports.append(self.client_address[1])
                status, headers, payload = recorder.respond(n, json.loads(body)["events"])
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
                if close_silently:
                    self.close_connection = True

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1/events"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def bodies(self):
        return [json.loads(body)["events"] for _, body in self.requests]

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def recorder():
    made = []

    def make(respond=None, **kw):
        r = Recorder(respond, **kw)
        made.append(r)
        return r

    yield make
    for r in made:
        r.close()


@pytest.fixture
def sender():
    made = []

    def make(url, group_wait=GROUP_WAIT, burst_wait=BURST_WAIT, **poster_kw):
        poster_kw.setdefault("secret", SECRET)
        poster_kw.setdefault("max_backoff", 0.05)
        s = Sender(Poster(url, **poster_kw), group_wait=group_wait, burst_wait=burst_wait)
        made.append(s)
        return s

    yield make
    for s in made:
        s.close(timeout=0.5)


def ev(name):
    return json.dumps({"payload": {"name": name}})


def names(bodies):
    return [[e["payload"]["name"] for e in body] for body in bodies]


def test_interleaved_requests_are_grouped_per_request_in_first_seen_order(recorder, sender):
    rec = recorder()
    s = sender(rec.url, group_wait=5)
    # Two Kinto requests in two threads notify at the same time.
    s.enqueue("A", ev("a1"), closable=True)
    s.enqueue("B", ev("b1"), closable=True)
    s.enqueue("A", ev("a2"), closable=True)
    s.close_group("B")
    time.sleep(0.1)
    assert rec.requests == []  # A, first seen, is still running: B waits behind it
    s.enqueue("A", ev("a3"), closable=True)
    s.close_group("A")
    assert s.flush(5)
    assert names(rec.bodies()) == [["a1", "a2", "a3", "b1"]]
    s.enqueue("A", ev("late"), closable=True)  # after its request ended: a new group
    assert s.flush(5)
    assert names(rec.bodies())[1:] == [["late"]]


def test_a_backlog_drains_in_large_posts_in_order(recorder, sender):
    rec = recorder(lambda n, events: (503, {}, b"{}") if n < 2 else (202, {}, b"{}"))
    s = sender(rec.url, auth="bearer", group_wait=5)
    s.enqueue("r0", ev("r0"))
    s.close_group("r0")
    wait_for(lambda: rec.requests, what="the first attempt")
    for i in range(1, 6):  # five requests end while kinto-push is failing
        s.enqueue(f"r{i}", ev(f"r{i}"), closable=True)
    for i in reversed(range(1, 6)):
        s.close_group(f"r{i}")
    assert s.flush(5)
    assert names(rec.bodies()) == [["r0"], ["r0"], ["r0"], [f"r{i}" for i in range(1, 6)]]
    assert len(set(rec.client_ports[2:])) == 1  # one kept-alive connection once it works


def test_a_connection_closed_while_idle_is_replaced_without_a_retry(recorder, sender):
    rec = recorder(close_silently=True)
    s = sender(rec.url, auth="bearer")
    for i in range(3):
        s.enqueue(i, ev(f"e{i}"))
        assert s.flush(5)
    assert names(rec.bodies()) == [["e0"], ["e1"], ["e2"]]
    assert s.stats()["retries"] == 0 and s.stats()["sent"] == 3


def test_events_without_a_request_are_grouped_by_burst(recorder, sender):
    rec = recorder()
    s = sender(rec.url, burst_wait=0.2)
    for i in range(3):
        s.enqueue(("thread", 1), ev(f"e{i}"))
    time.sleep(0.6)
    s.enqueue(("thread", 1), ev("later"))
    assert s.flush(5)
    assert names(rec.bodies()) == [["e0", "e1", "e2"], ["later"]]


def test_each_post_is_signed_over_its_raw_body(recorder, sender):
    rec = recorder()
    s = sender(rec.url)
    s.enqueue("k", ev("x"))
    assert s.flush(5)
    (headers, body), = rec.requests
    assert headers["Content-Type"] == "application/json"
    assert "Authorization" not in headers
    t, v1 = headers["Kinto-Push-Signature"].split(",")
    t = t[len("t="):]
    assert abs(int(t) - time.time()) < 5
    expected = hmac.new(SECRET.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    assert v1 == "v1=" + expected
    assert headers["Kinto-Push-Signature"] == sign(SECRET, int(t), body)


def test_bearer_sends_the_secret(recorder, sender):
    rec = recorder()
    s = sender(rec.url, auth="bearer")
    s.enqueue("k", ev("x"))
    assert s.flush(5)
    headers, _ = rec.requests[0]
    assert headers["Authorization"] == "Bearer " + SECRET
    assert "Kinto-Push-Signature" not in headers


@pytest.mark.parametrize("status, auth", [
    (408, "bearer"), (429, "bearer"), (500, "bearer"), (502, "bearer"), (503, "signature")])
def test_retryable_answers_are_retried_before_later_events(recorder, sender, status, auth):
    rec = recorder(lambda n, events: (status, {}, b'{"message":"busy"}') if n < 2
                   else (202, {}, b"{}"))
    s = sender(rec.url, auth=auth)
    s.enqueue("a", ev("first"))
    s.close_group("a")
    wait_for(lambda: rec.requests, what="the first attempt")
    s.enqueue("b", ev("second"))
    s.close_group("b")
    assert s.flush(5)
    assert names(rec.bodies()) == [["first"], ["first"], ["first"], ["second"]]
    assert s.stats()["retries"] == 2 and s.stats()["sent"] == 2
    if auth == "signature":
        sigs = [h["Kinto-Push-Signature"] for h, _ in rec.requests]
        assert len(set(sigs)) == len(sigs)  # never the same signature twice


def test_retry_after_is_honoured(recorder, sender):
    rec = recorder(lambda n, events: (503, {"Retry-After": "1"}, b"{}") if n == 0
                   else (202, {}, b"{}"))
    s = sender(rec.url, max_backoff=5)
    start = time.monotonic()
    s.enqueue("a", ev("x"))
    assert s.flush(5)
    assert time.monotonic() - start >= 0.9


def test_a_refused_event_costs_only_its_own_request(recorder, sender, caplog):
    message = b'{"code":400,"errno":107,"error":"Invalid parameters","message":"events[0].payload.action: must be one of create, update, delete"}'
    rec = recorder(lambda n, events: (400, {}, message)
                   if any(e["payload"]["name"] == "bad" for e in events) else (202, {}, b"{}"))
    s = sender(rec.url, group_wait=5)
    with caplog.at_level(logging.ERROR, logger="kinto_push"):
        s.enqueue("a", ev("bad"), closable=True)
        s.enqueue("b", ev("good"), closable=True)
        s.close_group("b")
        s.close_group("a")
        assert s.flush(5)
    # Sent together (both ready), refused together, then retried request by request.
    assert names(rec.bodies()) == [["bad", "good"], ["bad"], ["good"]]
    assert "kinto-push rejected 1 event(s) (400 events[0].payload.action: must be one of" in caplog.text
    assert s.stats()["rejected"] == 1 and s.stats()["sent"] == 1


def test_too_large_requests_are_split_and_a_too_large_event_dropped(start_server, sender, caplog):
    server = start_server(args=("--max-body-bytes", "1500"))
    s = sender(server.url + "/v1/events", secret=None)
    event = {"payload": {"timestamp": 1, "action": "create", "resource_name": "bucket",
                         "uri": "/buckets", "user_id": None},
             "impacted_objects": [{"new": {"id": "", "last_modified": 1, "pad": "x" * 400}}]}
    for i in range(6):
        event["impacted_objects"][0]["new"].update(id=f"b{i}", last_modified=i + 1)
        s.enqueue("one-request", json.dumps(event))
    event["impacted_objects"][0]["new"].update(id="huge", pad="x" * 3000)
    s.enqueue("one-request", json.dumps(event))
    with caplog.at_level(logging.ERROR, logger="kinto_push"):
        assert s.flush(10)
    assert [ids for _, _, ids in summary(server.history("/buckets"))] == [
        [f"b{i}"] for i in range(6)]
    assert "raise kinto-push's --max-body-bytes; 1 event dropped" in caplog.text
    assert s.stats()["sent"] == 6 and s.stats()["rejected"] == 1


def test_flush_times_out_and_close_counts_the_lost(sender):
    s = sender("http://127.0.0.1:9/v1/events")  # discard port: nothing listens
    s.enqueue("a", ev("x"))
    s.enqueue("a", ev("y"))
    assert not s.flush(0.3)
    assert s.close(timeout=0.1) == 2
    assert s.stats()["lost"] == 2
    assert not s.enqueue("a", ev("z"))  # closed: refused, counted as dropped
    assert s.stats()["dropped"] == 1


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_worker_starts_with_an_empty_queue_and_its_own_thread(recorder, sender):
    rec = recorder()
    s = sender(rec.url)
    s.enqueue("parent", ev("parent"))
    assert s.flush(5)
    pid = os.fork()
    if pid == 0:  # the child: what a pre-forking server's worker does
        code = 1
        try:
            ok = s.pending() == 0 and s.enqueue("child", ev("child")) and s.flush(5)
            code = 0 if ok else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.WEXITSTATUS(status) == 0
    assert names(rec.bodies()) == [["parent"], ["child"]]


def test_the_listener_never_raises(recorder, sender, caplog):
    rec = recorder()
    s = sender(rec.url)
    settings = Settings({"kinto.push.url": "http://127.0.0.1:1"}, {})
    listener = Listener(settings, s)
    payload = {"timestamp": 1, "action": "create", "uri": "/buckets/b", "user_id": None,
               "resource_name": "bucket", "bucket_id": "b", "weird": object()}
    with caplog.at_level(logging.ERROR, logger="kinto_push"):
        listener(kinto_stub.AfterResourceChanged(payload, [], None))
        payload["weird"] = "\ud800"  # a lone surrogate: not UTF-8
        listener(kinto_stub.AfterResourceChanged(payload, [], None))
    assert "could not queue a Kinto event" in caplog.text
    assert s.stats()["rejected"] == 2 and s.pending() == 0
