"""The plugin inside real Kinto (memory backends, the plugin's in-memory queue) against the
real kinto-push binary: Kinto's own events, payloads, batches and transactions.

Most tests share one Kinto and one kinto-push (``kinto_pair``), each in buckets of its own;
tests that need other settings start their own Kinto. Nothing is flushed by hand: each test
waits (bounded) until kinto-push's history holds what it expects, then checks that nothing
else arrived after a later marker write (the plugin sends a process's events in order).
"""

import pytest

from processes import wait_for
from push_server import SECRET, summary

# An account in kinto_pair and pg_pair; a Basic Auth user (no account, no bcrypt) in the
# Kintos that tests start for themselves.
ALICE = ("alice", "alice-pw")


def history_of(push, channel, count, timeout=10):
    """Waits until ``channel`` holds at least ``count`` events; returns them all."""
    return wait_for(lambda: (lambda e: e if len(e) >= count else None)(push.history(channel)),
                    timeout=timeout, what=f"{count} event(s) on {channel}")


def ok(answer, *statuses):
    status, body = answer
    assert status in (statuses or (200, 201)), answer
    return body


def make_collection(kinto, bucket, collection="articles", auth=ALICE, **collection_attrs):
    ok(kinto.request("PUT", f"/buckets/{bucket}", auth=auth))
    ok(kinto.request("PUT", f"/buckets/{bucket}/collections/{collection}",
                     collection_attrs or None, auth=auth))
    return f"/buckets/{bucket}/collections/{collection}"


def test_record_writes_reach_history_with_kintos_own_payload(kinto_pair):
    kinto, push = kinto_pair.kinto, kinto_pair.push
    coll = make_collection(kinto, "writes")
    created = ok(kinto.request("PUT", coll + "/records/r1", {"data": {"title": "v1"}}, auth=ALICE))
    updated = ok(kinto.request("PATCH", coll + "/records/r1", {"data": {"title": "v2"}}, auth=ALICE))
    deleted = ok(kinto.request("DELETE", coll + "/records/r1", auth=ALICE))

    events = history_of(push, coll, 4)
    assert summary(events) == [
        ("create", "collection", ["articles"]),
        ("create", "record", ["r1"]),
        ("update", "record", ["r1"]),
        ("delete", "record", ["r1"]),
    ]
    create, update, delete = events[1:]
    # The payload as Kinto built it, every field kept, the account's user id included.
    assert create["payload"] == {
        "timestamp": created["data"]["last_modified"],
        "action": "create", "uri": coll + "/records/r1", "user_id": "account:alice",
        "resource_name": "record", "bucket_id": "writes",
        "collection_id": "articles", "record_id": "r1",
    }
    assert create["impacted_objects"] == [{"new": created["data"]}]
    assert update["impacted_objects"][0]["old"]["title"] == "v1"
    assert update["impacted_objects"][0]["new"] == updated["data"]
    # A delete carries Kinto's tombstone as "new".
    assert delete["impacted_objects"][0]["new"] == {
        "id": "r1", "last_modified": deleted["data"]["last_modified"], "deleted": True}
    assert delete["impacted_objects"][0]["old"]["title"] == "v2"
    assert delete["timestamp"] == deleted["data"]["last_modified"]
    # The bucket channel gets them too, and the firehose.
    assert summary(push.history("/buckets/writes")) == [
        ("create", "bucket", ["writes"])] + summary(events)
    firehose = [e for e in push.history("/buckets") if e["payload"].get("bucket_id") == "writes"
                or e["payload"].get("id") == "writes"]
    assert len(firehose) == 5


def test_anonymous_post_without_id(kinto_pair):
    kinto, push = kinto_pair.kinto, kinto_pair.push
    coll = make_collection(kinto, "anonymous")
    ok(kinto.request("PATCH", coll, {"permissions": {"record:create": ["system.Everyone"]}},
                     auth=ALICE))
    record = ok(kinto.request("POST", coll + "/records", {"data": {"title": "posted"}}))["data"]

    (event,) = history_of(push, coll, 3)[2:]  # create and permission update of the collection
    assert event["payload"]["uri"] == coll + "/records"
    assert event["payload"]["action"] == "create"
    assert "record_id" not in event["payload"]
    assert event["payload"]["user_id"] is None
    assert event["impacted_objects"] == [{"new": record}]


def test_plural_delete_has_every_tombstone(kinto_pair):
    kinto, push = kinto_pair.kinto, kinto_pair.push
    coll = make_collection(kinto, "plural")
    for rid in ("a", "b", "c"):
        ok(kinto.request("PUT", coll + f"/records/{rid}", {"data": {"n": rid}}, auth=ALICE))
    ok(kinto.request("DELETE", coll + "/records", auth=ALICE))

    last = history_of(push, coll, 5)[-1]
    assert last["payload"]["uri"] == coll + "/records"
    assert last["payload"]["action"] == "delete"
    assert sorted(c["new"]["id"] for c in last["impacted_objects"]) == ["a", "b", "c"]
    assert all(c["new"]["deleted"] is True for c in last["impacted_objects"])
    assert sorted(c["old"]["n"] for c in last["impacted_objects"]) == ["a", "b", "c"]


def batch(kinto, requests, auth=ALICE):
    body = {"requests": [dict(zip(("method", "path", "body"), r)) for r in requests]}
    return ok(kinto.request("POST", "/batch", body, auth=auth), 200)["responses"]


def test_a_batch_is_one_transaction_and_one_post_in_order(kinto_pair):
    kinto, push = kinto_pair.kinto, kinto_pair.push
    coll = make_collection(kinto, "merged")
    ok(kinto.request("PUT", "/buckets/merged/collections/drafts", auth=ALICE))
    ok(kinto.request("PUT", coll + "/records/old", {"data": {"n": 0}}, auth=ALICE))
    history_of(push, coll, 2)
    history_of(push, "/buckets/merged/collections/drafts", 1)
    posts_before = kinto_pair.posts()

    answers = batch(kinto, [
        ("PUT", coll + "/records/r1", {"data": {"n": 1}}),             # create r1
        ("PUT", coll + "/records/r2", {"data": {"n": 2}}),             # create r2 (merged)
        ("PATCH", coll + "/records/r1", {"data": {"n": 11}}),          # update r1
        ("POST", "/buckets/merged/collections/drafts/records", {"data": {"id": "d1"}}),
        ("DELETE", coll + "/records/old"),                             # delete
        ("GET", coll + "/records"),                                    # a read: not sent
        ("PUT", coll + "/records/r3", {"data": {"n": 3}}),             # create (merged)
        ("PUT", "/buckets/nope/collections/x/records/y", {"data": {}}),  # no such bucket: no event
    ])
    assert [a["status"] for a in answers] == [201, 201, 200, 201, 200, 200, 201, 404]

    events = history_of(push, "/buckets/merged", 8)[-4:]
    # One transaction: Kinto merged the creates of one collection into one event.
    assert summary(events) == [
        ("create", "record", ["r1", "r2", "r3"]),
        ("update", "record", ["r1"]),
        ("create", "record", ["d1"]),
        ("delete", "record", ["old"]),
    ]
    # Kinto keeps the first sub-request's payload for a merged event.
    assert events[0]["payload"]["uri"] == coll + "/records/r1"
    assert events[0]["payload"]["record_id"] == "r1"
    assert kinto_pair.posts() == posts_before + 1  # one Kinto request, one POST
    assert len(push.history("/buckets/nope")) == 0


def test_account_events_are_never_sent(kinto_pair):
    kinto, push = kinto_pair.kinto, kinto_pair.push
    kinto.create_account("accounted", "pw-1")
    ok(kinto.request("PATCH", "/accounts/accounted", {"data": {"password": "pw-2"}},
                     auth=("accounted", "pw-1")))
    ok(kinto.request("DELETE", "/accounts/accounted", auth=("accounted", "pw-2")))
    ok(kinto.request("PUT", "/buckets/after-accounts", auth=ALICE))  # the marker

    history_of(push, "/buckets/after-accounts", 1)  # sent after the account events would be
    resources = {e["payload"]["resource_name"] for e in push.history("/buckets")}
    assert "account" not in resources
    assert not any("accounted" in str(e) for e in push.history("/buckets"))


def test_capability_in_kinto_root_url(kinto_pair):
    root = ok(kinto_pair.kinto.request("GET", "/"), 200)
    capability = root["capabilities"]["kinto-push"]
    assert capability["url"] == "https://push.example.com"
    assert capability["websocket"] == "wss://push.example.com/v1/ws"
    assert capability["version"]
    assert capability["description"]


def test_a_rolled_back_write_is_never_sent(kinto_pair):
    check_rolled_back_writes(kinto_pair)


def test_a_rolled_back_write_is_never_sent_on_postgresql(pg_pair):
    check_rolled_back_writes(pg_pair)


def check_rolled_back_writes(pair):
    kinto, push = pair.kinto, pair.push
    coll = make_collection(kinto, "rb")
    # rollback_plugin raises in a ResourceChanged subscriber: Kinto aborts the transaction.
    assert kinto.request("PUT", coll + "/records/rollback1", {"data": {"n": 1}},
                         auth=ALICE)[0] == 500
    # A batch is one transaction: a sub-request that fails in a ResourceChanged subscriber
    # fails the whole batch, its other writes included.
    status, _ = kinto.request("POST", "/batch", {"requests": [
        {"method": "PUT", "path": coll + "/records/kept-if-committed", "body": {"data": {}}},
        {"method": "PUT", "path": coll + "/records/rollback2", "body": {"data": {}}},
    ]}, auth=ALICE)
    assert status == 500
    ok(kinto.request("PUT", coll + "/records/after", auth=ALICE))  # the marker

    events = history_of(push, coll, 2)
    assert summary(events) == [("create", "collection", ["articles"]),
                               ("create", "record", ["after"])]
    if pair.kinto.settings["kinto.storage_backend"].endswith("postgresql"):
        # The transaction really was rolled back (the memory backend has no transactions).
        for rid in ("rollback1", "rollback2", "kept-if-committed"):
            assert kinto.request("GET", coll + f"/records/{rid}", auth=ALICE)[0] == 404


def test_postgresql_storage_with_the_in_memory_queue(pg_pair):
    kinto, push = pg_pair.kinto, pg_pair.push
    coll = make_collection(kinto, "pg")
    created = ok(kinto.request("PUT", coll + "/records/r1", {"data": {"n": 1}}, auth=ALICE))
    history_of(push, coll, 2)
    posts_before = pg_pair.posts()
    batch(kinto, [("PUT", coll + f"/records/b{i}", {"data": {"i": i}}) for i in range(3)]
          + [("DELETE", coll + "/records/r1")])

    events = history_of(push, coll, 4)
    assert summary(events) == [("create", "collection", ["articles"]),
                               ("create", "record", ["r1"]),
                               ("create", "record", ["b0", "b1", "b2"]),
                               ("delete", "record", ["r1"])]
    assert events[1]["payload"]["user_id"] == "account:alice"
    assert events[1]["impacted_objects"] == [{"new": created["data"]}]
    assert events[3]["impacted_objects"][0]["new"]["deleted"] is True
    assert pg_pair.posts() == posts_before + 1


def test_resources_actions_and_buckets_filters(start_server, start_kinto):
    push = start_server()
    kinto = start_kinto(push.url, resources="record group", actions="create delete",
                        buckets="blog other")
    coll = make_collection(kinto, "blog")                                   # filtered out
    make_collection(kinto, "elsewhere", "c")
    ok(kinto.request("PUT", "/buckets/elsewhere/collections/c/records/no", auth=ALICE))
    ok(kinto.request("PUT", coll + "/records/r1", {"data": {"n": 1}}, auth=ALICE))      # sent
    ok(kinto.request("PATCH", coll + "/records/r1", {"data": {"n": 2}}, auth=ALICE))    # update
    ok(kinto.request("PUT", "/buckets/blog/groups/editors", {"data": {"members": []}},
                     auth=ALICE))                                                         # sent
    ok(kinto.request("DELETE", coll + "/records/r1", auth=ALICE))                        # sent
    ok(kinto.request("PUT", "/buckets/blog/groups/marker", {"data": {"members": []}},
                     auth=ALICE))

    assert summary(history_of(push, "/buckets", 4)) == [
        ("create", "record", ["r1"]),
        ("create", "group", ["editors"]),
        ("delete", "record", ["r1"]),
        ("create", "group", ["marker"]),
    ]


def test_plural_bucket_events_are_narrowed_to_the_buckets_filter(start_server, start_kinto):
    push = start_server()
    kinto = start_kinto(push.url, buckets="blog")
    batch(kinto, [("POST", "/buckets", {"data": {"id": "blog"}}),
                  ("POST", "/buckets", {"data": {"id": "private"}})])
    ok(kinto.request("POST", "/buckets", {"data": {"id": "secret"}}, auth=ALICE))
    ok(kinto.request("DELETE", "/buckets", auth=ALICE))
    ok(kinto.request("PUT", "/buckets/blog", auth=ALICE))  # the marker

    assert summary(history_of(push, "/buckets", 3)) == [
        ("create", "bucket", ["blog"]),
        ("delete", "bucket", ["blog"]),
        ("create", "bucket", ["blog"]),
    ]


@pytest.mark.parametrize("auth", ["signature", "bearer"])
def test_signature_and_bearer_auth(start_server, start_kinto, auth):
    push = start_server()
    kinto = start_kinto(push.url, auth=auth)
    ok(kinto.request("PUT", "/buckets/b1", auth=ALICE))
    ok(kinto.request("PUT", "/buckets/b2", auth=ALICE))
    assert summary(history_of(push, "/buckets", 2)) == [
        ("create", "bucket", ["b1"]), ("create", "bucket", ["b2"])]


def test_wrong_secret_is_one_clear_log_line_and_nothing_is_stored(start_server, start_kinto):
    push = start_server()
    kinto = start_kinto(push.url, secret="not-the-" + SECRET)
    ok(kinto.request("PUT", "/buckets/b", auth=ALICE))
    assert kinto.log.wait_for(r"kinto-push refused our credentials \(401 ", 10)
    refusals = [line for line in kinto.log.lines if "refused our credentials" in line]
    assert len(refusals) == 1 and "check kinto.push.secret" in refusals[0]
    assert push.history("/buckets") == []


def test_down_then_up_on_the_same_port_delivers_once_in_order(start_server, start_kinto,
                                                              tmp_path):
    store = f"sqlite:{tmp_path / 'push.sqlite3'}"
    push = start_server(store=store)
    kinto = start_kinto(push.url)
    coll = make_collection(kinto, "blog")
    ok(kinto.request("PUT", coll + "/records/before", auth=ALICE))
    history_of(push, coll, 2)

    push.stop()
    for i in range(5):
        ok(kinto.request("PUT", coll + f"/records/during{i}", {"data": {"i": i}}, auth=ALICE))
    restarted = start_server(port=push.port, store=store)  # same port, same history
    ok(kinto.request("PUT", coll + "/records/after", auth=ALICE))

    events = history_of(restarted, coll, 8)
    assert [ids for _, _, ids in summary(events)] == (
        [["articles"], ["before"]] + [[f"during{i}"] for i in range(5)] + [["after"]])
