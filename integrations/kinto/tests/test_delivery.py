"""The plugin, driven by the Kinto stand-in, against the real kinto-push binary.

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

import pytest

import kinto_stub
from faulty_proxy import FaultyProxy
from processes import free_port, wait_for
from push_server import SECRET, summary

COLLECTION = "/buckets/blog/collections/articles"


def setup_blog(kinto):
    kinto.put("/buckets/blog")
    kinto.put("/buckets/blog/collections/articles")


def test_create_update_delete_record(server, make_kinto):
    kinto, plugin = make_kinto(server.url)
    setup_blog(kinto)
    kinto.put(COLLECTION + "/records/r1", {"title": "v1"})
    kinto.patch(COLLECTION + "/records/r1", {"title": "v2"})
    kinto.delete(COLLECTION + "/records/r1")
    assert plugin.flush(5)

    events = server.history(COLLECTION)
    assert summary(events) == [
        ("create", "collection", ["articles"]),
        ("create", "record", ["r1"]),
        ("update", "record", ["r1"]),
        ("delete", "record", ["r1"]),
    ]
    create, update, delete = events[1:]
    # The payload as Kinto built it, every field kept, user_id included.
    assert create["payload"] == {
        "timestamp": create["impacted_objects"][0]["new"]["last_modified"],
        "action": "create", "uri": COLLECTION + "/records/r1", "user_id": "account:alice",
        "resource_name": "record", "bucket_id": "blog", "collection_id": "articles",
        "record_id": "r1",
    }
    assert create["impacted_objects"][0]["new"]["title"] == "v1"
    assert "old" not in create["impacted_objects"][0]
    assert update["impacted_objects"][0]["old"]["title"] == "v1"
    assert update["impacted_objects"][0]["new"]["title"] == "v2"
    assert delete["impacted_objects"][0]["new"]["deleted"] is True
    assert delete["impacted_objects"][0]["old"]["title"] == "v2"
    # The bucket channel and the firehose get them too.
    assert [e["payload"]["action"] for e in server.history("/buckets/blog")][-3:] == [
        "create", "update", "delete"]
    assert len(server.history("/buckets")) == 5
    assert plugin.stats()["sent"] == 5
    assert plugin.stats()["dropped"] == plugin.stats()["rejected"] == 0


def test_post_without_id_and_anonymous_user(server, make_kinto):
    kinto, plugin = make_kinto(server.url)
    setup_blog(kinto)
    record = kinto.post(COLLECTION + "/records", {"title": "posted"}, user_id=None)
    assert plugin.flush(5)

    (event,) = server.history(COLLECTION)[1:]
    assert event["payload"]["uri"] == COLLECTION + "/records"
    assert "record_id" not in event["payload"]
    assert event["payload"]["user_id"] is None
    assert event["impacted_objects"][0]["new"]["id"] == record["id"]


def test_plural_delete_has_every_impacted_object(server, make_kinto):
    kinto, plugin = make_kinto(server.url)
    setup_blog(kinto)
    for rid in ("a", "b", "c"):
        kinto.put(COLLECTION + f"/records/{rid}", {"n": rid})
    kinto.delete(COLLECTION + "/records")
    assert plugin.flush(5)

    last = server.history(COLLECTION)[-1]
    assert summary([last]) == [("delete", "record", ["a", "b", "c"])]
    assert last["payload"]["uri"] == COLLECTION + "/records"
    assert all(c["new"]["deleted"] for c in last["impacted_objects"])


def test_batch_is_merged_by_kinto_and_sent_as_one_post_in_order(server, make_kinto):
    kinto, plugin = make_kinto(server.url)
    setup_blog(kinto)
    kinto.put("/buckets/blog/collections/drafts")
    kinto.put(COLLECTION + "/records/old", {"n": 0})
    assert plugin.flush(5)
    posts_before = plugin.stats()["posts"]

    answers = kinto.batch([
        ("PUT", COLLECTION + "/records/r1", {"data": {"n": 1}}),          # create r1
        ("PUT", COLLECTION + "/records/r2", {"data": {"n": 2}}),          # create r2 (merged)
        ("PATCH", COLLECTION + "/records/r1", {"data": {"n": 11}}),       # update r1
        ("POST", "/buckets/blog/collections/drafts/records", {"data": {"id": "d1"}}),
        ("DELETE", COLLECTION + "/records/old"),                          # delete
        ("GET", COLLECTION + "/records"),                                 # read: not sent
        ("PUT", COLLECTION + "/records/r3", {"data": {"n": 3}}),          # create (merged)
        ("PUT", "/buckets/nope/collections/x/records/y", {"data": {}}),   # fails: no event
    ])
    assert isinstance(answers[-1], kinto_stub.HTTPError)
    assert plugin.flush(5)

    assert plugin.stats()["posts"] == posts_before + 1  # one Kinto request, one POST
    events = server.history("/buckets/blog")[-4:]
    assert summary(events) == [
        ("create", "record", ["r1", "r2", "r3"]),
        ("update", "record", ["r1"]),
        ("create", "record", ["d1"]),
        ("delete", "record", ["old"]),
    ]
    # Kinto keeps the first sub-request's payload for a merged event.
    assert events[0]["payload"]["uri"] == COLLECTION + "/records/r1"
    assert events[0]["payload"]["record_id"] == "r1"
    assert summary(server.history("/buckets/blog/collections/drafts"))[-1] == (
        "create", "record", ["d1"])


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


def test_rolled_back_writes_are_never_sent(server, make_kinto):
    kinto, plugin = make_kinto(server.url)
    seen = []
    kinto.config.add_subscriber(seen.append, kinto_stub.ResourceChanged)
    setup_blog(kinto)
    with pytest.raises(kinto_stub.HTTPError):
        kinto.put(COLLECTION + "/records/ghost", {"n": 1}, fail_commit=True)
    assert plugin.flush(5)

    assert any(e.payload.get("record_id") == "ghost" for e in seen)  # Kinto did see it
    assert summary(server.history(COLLECTION)) == [("create", "collection", ["articles"])]


def test_account_events_are_never_sent(server, make_kinto):
    kinto, plugin = make_kinto(server.url)
    kinto.put("/accounts/alice", {"password": "hunter2"}, user_id=None)
    kinto.patch("/accounts/alice", {"password": "hunter3"})
    kinto.delete("/accounts/alice")
    kinto.put("/buckets/after")
    assert plugin.flush(5)

    # Only the bucket: the firehose has every event kinto-push ever stored.
    assert summary(server.history("/buckets")) == [("create", "bucket", ["after"])]
    assert plugin.stats()["sent"] == 1


def test_resources_actions_and_buckets_filters(server, make_kinto):
    kinto, plugin = make_kinto(server.url, resources="record group", actions="create delete",
                               buckets="blog other")
    setup_blog(kinto)                                  # bucket, collection: filtered out
    kinto.put("/buckets/elsewhere")
    kinto.put("/buckets/elsewhere/collections/c")
    kinto.put("/buckets/elsewhere/collections/c/records/no")   # not in the buckets
    kinto.put(COLLECTION + "/records/r1", {"n": 1})            # sent
    kinto.patch(COLLECTION + "/records/r1", {"n": 2})          # update: filtered out
    kinto.put("/buckets/blog/groups/editors", {"members": []})  # sent
    kinto.delete(COLLECTION + "/records/r1")                   # sent
    assert plugin.flush(5)

    assert summary(server.history("/buckets")) == [
        ("create", "record", ["r1"]),
        ("create", "group", ["editors"]),
        ("delete", "record", ["r1"]),
    ]


def test_plural_bucket_events_are_narrowed_to_the_buckets_filter(server, make_kinto):
    kinto, plugin = make_kinto(server.url, buckets="blog")
    kinto.batch([("POST", "/buckets", {"data": {"id": "blog"}}),
                 ("POST", "/buckets", {"data": {"id": "private"}})])
    kinto.post("/buckets", {"id": "secret"})
    kinto.delete("/buckets")
    assert plugin.flush(5)

    assert summary(server.history("/buckets")) == [
        ("create", "bucket", ["blog"]),
        ("delete", "bucket", ["blog"]),
    ]


@pytest.mark.parametrize("auth", ["signature", "bearer"])
def test_signature_and_bearer_auth(server, make_kinto, auth):
    kinto, plugin = make_kinto(server.url, auth=auth)
    kinto.put("/buckets/b1")
    kinto.put("/buckets/b2")
    assert plugin.flush(5)
    assert summary(server.history("/buckets")) == [
        ("create", "bucket", ["b1"]), ("create", "bucket", ["b2"])]


def test_no_secret_on_loopback(start_server, make_kinto, caplog):
    server = start_server(args=())
    with caplog.at_level(logging.WARNING, logger="kinto_push"):
        kinto, plugin = make_kinto(server.url, secret=None)
    assert "kinto.push.secret is not set" in caplog.text
    kinto.put("/buckets/open")
    assert plugin.flush(5)
    assert summary(server.history("/buckets")) == [("create", "bucket", ["open"])]


def test_wrong_secret_is_one_clear_log_line_and_nothing_is_stored(server, make_kinto, caplog):
    kinto, plugin = make_kinto(server.url, secret="not-the-secret")
    with caplog.at_level(logging.INFO, logger="kinto_push"):
        kinto.put("/buckets/b")
        assert plugin.flush(5)
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1
    message = errors[0].getMessage()
    assert message.startswith("kinto-push refused our credentials (401 ")
    assert "check kinto.push.secret" in message
    assert server.history("/buckets") == []
    assert plugin.stats()["rejected"] == 1 and plugin.stats()["sent"] == 0


def test_down_then_up_on_the_same_port_delivers_once_in_order(start_server, make_kinto,
                                                              tmp_path):
    store = f"sqlite:{tmp_path / 'push.sqlite3'}"
    server = start_server(store=store)
    port = server.port
    kinto, plugin = make_kinto(server.url)
    setup_blog(kinto)
    kinto.put(COLLECTION + "/records/before")
    assert plugin.flush(5)

    server.stop()
    for i in range(5):
        kinto.put(COLLECTION + f"/records/during{i}", {"i": i})
    wait_for(lambda: plugin.stats()["retries"] >= 2, what="failed attempts while down")
    assert plugin.stats()["queued"] == 5

    restarted = start_server(port=port, store=store)  # same port, same history
    kinto.put(COLLECTION + "/records/after")
    assert plugin.flush(10)

    ids = [ids for _, _, ids in summary(restarted.history(COLLECTION))]
    assert ids == [["articles"], ["before"]] + [[f"during{i}"] for i in range(5)] + [["after"]]
    assert plugin.stats()["sent"] == 9 and plugin.stats()["queued"] == 0


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


def test_capability_in_kinto_root_url(server, make_kinto):
    kinto, plugin = make_kinto(server.url, public_url="https://push.example.com")
    capability = kinto.registry.api_capabilities["kinto-push"]
    assert capability["url"] == "https://push.example.com"
    assert capability["websocket"] == "wss://push.example.com/v1/ws"
    assert capability["version"] == plugin.capability()["version"]
    assert capability["description"]


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
