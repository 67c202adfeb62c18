"""The plugin, driven by the Kinto stand-in, against the real kinto-push binary: only what
real Kinto cannot provoke or observe from outside its process (see kinto_stub.py); Kinto's
own events, batches, transactions, filters and credentials are in test_kinto_delivery.py.

Each test starts its own kinto-push (``--store memory`` unless it says otherwise), makes
Kinto requests through the stub, calls ``plugin.flush()`` and reads what kinto-push stored
with ``GET /v1/history`` (readable without credentials: no subscriber auth is configured).
"""

import logging
import os
import socket
import subprocess
import sys
import time

import kinto_stub
from faulty_proxy import FaultyProxy
from processes import free_port
from push_server import SECRET, summary

COLLECTION = "/buckets/blog/collections/articles"


def setup_blog(kinto):
    kinto.put("/buckets/blog")
    kinto.put("/buckets/blog/collections/articles")


def test_unknown_payload_fields_are_kept(server, make_kinto):
    kinto, plugin = make_kinto(server.url)
    setup_blog(kinto)
    request = kinto_stub.Request(kinto.registry, "PUT", COLLECTION + "/records/x")
    payload = {"timestamp": 1717000000123, "action": "create",
               "uri": COLLECTION + "/records/x", "user_id": "account:alice",
               "resource_name": "record", "bucket_id": "blog", "collection_id": "articles",
               "record_id": "x", "comment": "from a signer plugin", "changes_count": 3}
    impacted = [{"new": {"id": "x", "last_modified": 1717000000123, "schema": 42,
                         "title": "Ünïcødé ☕ 日本"}}]
    kinto.registry.notify(kinto_stub.AfterResourceChanged(payload, impacted, request))
    assert plugin.flush(5)

    event = server.history(COLLECTION)[-1]
    assert event["payload"] == payload
    assert event["impacted_objects"] == impacted


def test_no_secret_on_loopback(start_server, make_kinto, caplog):
    server = start_server(args=())
    with caplog.at_level(logging.WARNING, logger="kinto_push"):
        kinto, plugin = make_kinto(server.url, secret=None)
    assert "kinto.push.secret is not set" in caplog.text
    kinto.put("/buckets/open")
    assert plugin.flush(5)
    assert summary(server.history("/buckets")) == [("create", "bucket", ["open"])]


def test_a_lost_answer_is_retried_and_stored_once(server, make_kinto):
    proxy = FaultyProxy(server.port, plan=["lose-answer", "lose-answer", "503"])
    try:
        kinto, plugin = make_kinto(proxy.url)
        kinto.put("/buckets/b")
        kinto.put("/buckets/b/collections/c")
        assert plugin.flush(10)
        assert summary(server.history("/buckets")) == [
            ("create", "bucket", ["b"]), ("create", "collection", ["c"])]
        signatures = [h["Kinto-Push-Signature"] for _, h in proxy.seen]
        assert len(signatures) == len(set(signatures)) >= 4  # each attempt signed anew
        assert plugin.stats()["retries"] == 3
    finally:
        proxy.close()


def test_no_answer_within_the_timeout_is_retried(server, make_kinto):
    proxy = FaultyProxy(server.port, plan=["hang"])
    try:
        kinto, plugin = make_kinto(proxy.url, timeout="0.3")
        kinto.put("/buckets/slow")
        assert plugin.flush(10)
        assert summary(server.history("/buckets")) == [("create", "bucket", ["slow"])]
        assert plugin.stats()["retries"] == 1
    finally:
        proxy.close()


def test_the_kinto_request_never_waits_on_the_network(make_kinto):
    # Nothing listens on the first port; the second accepts connections and never answers.
    blackhole = socket.socket()
    blackhole.bind(("127.0.0.1", 0))
    blackhole.listen(64)
    try:
        for url in (f"http://127.0.0.1:{free_port()}",
                    f"http://127.0.0.1:{blackhole.getsockname()[1]}"):
            kinto, plugin = make_kinto(url, timeout="5")
            kinto.put("/buckets/warmup")
            durations = []
            for i in range(20):
                start = time.perf_counter()
                kinto.put(f"/buckets/b{i}")
                durations.append(time.perf_counter() - start)
            # Each request returns at once: no connect, no wait for an answer (the sender
            # waits up to kinto.push.timeout = 5 s for one). Bounds generous for a busy CI.
            assert sorted(durations)[len(durations) // 2] < 0.01, durations
            assert max(durations) < 0.5, durations
            assert plugin.stats()["sent"] == 0
            assert plugin.stats()["queued"] == 21
            start = time.perf_counter()
            lost = plugin.close(timeout=0.2)
            assert lost == 21
            assert time.perf_counter() - start < 3
    finally:
        blackhole.close()


def test_a_full_queue_drops_counts_and_logs(start_server, make_kinto, caplog):
    port = free_port()
    metrics = kinto_stub.RecordingMetrics()
    kinto, plugin = make_kinto(f"http://127.0.0.1:{port}", max_queue="3", metrics=metrics)
    with caplog.at_level(logging.ERROR, logger="kinto_push"):
        for i in range(5):
            kinto.put(f"/buckets/b{i}")
    stats = plugin.stats()
    assert stats["queued"] == 3 and stats["dropped"] == 2
    assert metrics.counts["kinto_push.dropped"] == 2
    assert "kinto-push queue full (kinto.push.max_queue = 3" in caplog.text

    server = start_server(port=port)
    assert plugin.flush(10)
    assert summary(server.history("/buckets")) == [
        ("create", "bucket", [f"b{i}"]) for i in range(3)]
    assert metrics.counts["kinto_push.sent"] == 3


EXIT_SCRIPT = r"""
import logging, sys
sys.path[:0] = [sys.argv[1], sys.argv[2]]
logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
import kinto_stub
kinto_stub.install()
import kinto_push
config = kinto_stub.Configurator({"kinto.push.url": sys.argv[3], "kinto.push.secret": sys.argv[4],
                                  "kinto.push.shutdown_timeout": "1"})
config.include(kinto_push)
kinto = kinto_stub.Kinto(config)
for i in range(3):
    kinto.put(f"/buckets/exit{i}")
sys.exit(0)  # at once: the events are still queued
"""


def run_exit_script(url):
    tests = os.path.dirname(os.path.abspath(__file__))
    start = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", EXIT_SCRIPT, tests, os.path.dirname(tests), url, SECRET],
        capture_output=True, text=True, timeout=30,
        env={k: v for k, v in os.environ.items() if not k.startswith("KINTO_PUSH_")})
    return done, time.monotonic() - start


def test_the_queue_is_sent_when_the_kinto_process_exits(server):
    done, _ = run_exit_script(server.url)
    assert done.returncode == 0, done.stderr
    assert summary(server.history("/buckets")) == [
        ("create", "bucket", [f"exit{i}"]) for i in range(3)]
    assert "lost" not in done.stderr


def test_an_exit_while_kinto_push_is_down_says_what_is_lost():
    done, took = run_exit_script(f"http://127.0.0.1:{free_port()}")
    assert done.returncode == 0, done.stderr
    assert took < 10
    assert "3 event(s) not delivered to" in done.stderr
    assert "at shutdown: they are lost" in done.stderr
