"""The transactional outbox, end to end: real Kinto on a throwaway PostgreSQL 15, the real
kinto-push binary, over real sockets.

Each test has its own database in one cluster per module, its own Kinto process and its own
kinto-push; the outbox table is read with psql as the cluster's superuser.
"""

import os
import time

import pytest

from kinto_server import KintoServer, accounts_settings, postgresql_settings
from processes import free_port, wait_for
from push_server import SECRET, PushServer

HERE = os.path.dirname(os.path.abspath(__file__))
PLUGIN_DIR = os.path.dirname(HERE)
BUCKET = "/buckets/blog"
COLLECTION = BUCKET + "/collections/articles"
ALICE = ("alice", "pw")
WAIT = 15.0


@pytest.fixture
def cluster(postgres):
    """The session's throwaway cluster (conftest.py: skipped, said once in the summary, when
    Kinto or PostgreSQL is missing); each test takes a database of its own."""
    return postgres


_databases = iter(range(1, 1000))


class Setup:
    """One database, and the Kinto processes started on it (stopped at the end)."""

    def __init__(self, cluster, install):
        self.cluster = cluster
        self.install = install
        self.name = f"outbox{next(_databases)}"
        self.url = cluster.create_database(self.name)
        self.kintos = []

    def kinto(self, push_url, includes=("kinto_push",), start=True, **push_settings):
        settings = {
            **postgresql_settings(self.url),
            **accounts_settings(),
            "kinto.push.url": push_url,
            "kinto.push.secret": SECRET,
            "kinto.push.relay_interval": "0.2",
            "kinto.push.max_backoff": "0.5",
        }
        settings.update({k if k.startswith("kinto.") else f"kinto.push.{k}": v
                         for k, v in push_settings.items()})
        server = KintoServer(self.install, settings=settings, pythonpath=[PLUGIN_DIR, HERE],
                             includes=includes)
        self.kintos.append(server)
        return server.start() if start else server

    def sql(self, query):
        return self.cluster.psql(query, database=self.name).strip()

    def outbox(self):
        """The ids and record ids of the rows waiting, in id order."""
        out = self.sql("SELECT id, events::json->'impacted_objects'->0->'new'->>'id' "
                       "FROM kinto_push_outbox ORDER BY id")
        return [tuple(line.split("|")) for line in out.splitlines() if line]

    def close(self):
        for server in self.kintos:
            if server.proc is not None:
                server.kill()
            server.remove()


@pytest.fixture
def setup(cluster, kinto_install):
    s = Setup(cluster, kinto_install)
    yield s
    s.close()


def create_collection(kinto):
    assert kinto.request("PUT", BUCKET, auth=ALICE)[0] in (200, 201)
    assert kinto.request("PUT", COLLECTION, auth=ALICE)[0] in (200, 201)


def put_record(kinto, rid, **fields):
    return kinto.request("PUT", f"{COLLECTION}/records/{rid}", {"data": {"title": rid, **fields}},
                         auth=ALICE)


def record_ids(push):
    """Ids of the record events kinto-push stored on the collection's channel, in order."""
    return [c["new"]["id"] for e in push.history(COLLECTION)
            if e["payload"]["resource_name"] == "record" for c in e["impacted_objects"]]


def test_kinto_migrate_creates_the_table_and_a_write_reaches_kinto_push(setup, start_server):
    push = start_server()
    kinto = setup.kinto(push.url)
    assert setup.sql("SELECT value FROM metadata WHERE name = 'kinto_push_schema_version'") == "2"
    assert kinto.log.wait_for(r"through the outbox table kinto_push_outbox", WAIT)
    assert kinto.log.wait_for(r"pid \d+\) is now the outbox relay", WAIT)

    create_collection(kinto)
    assert put_record(kinto, "r1")[0] == 201
    wait_for(lambda: record_ids(push) == ["r1"], WAIT, 0.05, "r1 on kinto-push")
    event = [e for e in push.history(COLLECTION) if e["payload"]["resource_name"] == "record"][0]
    assert event["payload"]["action"] == "create" and event["payload"]["record_id"] == "r1"
    assert event["impacted_objects"][0]["new"]["title"] == "r1"
    wait_for(lambda: setup.outbox() == [], WAIT, 0.05, "the sent rows deleted")


def test_rows_wait_while_kinto_push_is_down_then_drain_in_order(setup, push_bin):
    port = free_port()
    kinto = setup.kinto(f"http://127.0.0.1:{port}")
    create_collection(kinto)
    ids = [f"r{i}" for i in range(1, 8)]
    for rid in ids:
        assert put_record(kinto, rid)[0] == 201
    assert kinto.log.wait_for(r"unavailable \(connection refused\): will retry", WAIT)
    time.sleep(0.5)
    waiting = setup.outbox()
    assert [r for _, r in waiting] == ["blog", "articles", *ids]  # bucket, collection, records
    assert [int(i) for i, _ in waiting] == sorted(int(i) for i, _ in waiting)

    push = PushServer(push_bin, ["--publish-secret", SECRET], port=port).start()
    try:
        wait_for(lambda: record_ids(push) == ids, WAIT, 0.05, "the backlog on kinto-push")
        wait_for(lambda: setup.outbox() == [], WAIT, 0.05, "the outbox emptied")
        assert kinto.log.wait_for(r"delivered \d+ event\(s\) after \d+ failed attempt", WAIT)
        assert [e["payload"]["resource_name"] for e in push.history(BUCKET)] == [
            "bucket", "collection", *["record"] * len(ids)]
    finally:
        push.stop()


REFUSE_AT_COMMIT = """
CREATE FUNCTION refuse_marked() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.data ? 'refuse_at_commit' THEN RAISE EXCEPTION 'refused at commit (test)'; END IF;
  RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER refuse_marked AFTER INSERT OR UPDATE ON objects
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION refuse_marked();
"""


def test_a_write_failing_at_commit_is_never_announced(setup, start_server):
    push = start_server()
    kinto = setup.kinto(push.url)
    create_collection(kinto)
    setup.sql(REFUSE_AT_COMMIT)

    status, body = put_record(kinto, "refused", refuse_at_commit=True)
    assert status >= 500, (status, body)
    assert kinto.request("GET", f"{COLLECTION}/records/refused", auth=ALICE)[0] == 404
    assert put_record(kinto, "r2")[0] == 201
    wait_for(lambda: "r2" in record_ids(push), WAIT, 0.05, "r2 on kinto-push")
    wait_for(lambda: setup.outbox() == [], WAIT, 0.05, "the outbox emptied")
    assert record_ids(push) == ["r2"]


def test_a_later_subscriber_that_raises_rolls_back_the_write_and_its_row(setup, start_server):
    push = start_server()
    # rollback_plugin, included after kinto_push, raises for ids starting with "rollback":
    # after the outbox writer wrote its row, in the same transaction.
    kinto = setup.kinto(push.url, includes=("kinto_push", "rollback_plugin"))
    create_collection(kinto)

    status, body = put_record(kinto, "rollback-1")
    assert status >= 500, (status, body)
    assert kinto.request("GET", f"{COLLECTION}/records/rollback-1", auth=ALICE)[0] == 404
    assert [r for _, r in setup.outbox()] in ([], ["blog", "articles"])
    assert put_record(kinto, "r3")[0] == 201
    wait_for(lambda: "r3" in record_ids(push), WAIT, 0.05, "r3 on kinto-push")
    wait_for(lambda: setup.outbox() == [], WAIT, 0.05, "the outbox emptied")
    assert record_ids(push) == ["r3"]


def test_a_failing_batch_announces_nothing_and_a_batch_is_one_post(setup, start_server):
    push = start_server()
    kinto = setup.kinto(push.url)
    create_collection(kinto)
    setup.sql(REFUSE_AT_COMMIT)

    def batch(*records):
        return kinto.request("POST", "/batch", {"requests": [
            {"method": "PUT", "path": f"{COLLECTION}/records/{rid}",
             "body": {"data": dict(title=rid, **fields)}} for rid, fields in records]},
            auth=ALICE)

    status, body = batch(("b1", {}), ("b2", {"refuse_at_commit": True}), ("b3", {}))
    assert status >= 500, (status, body)
    assert kinto.request("GET", f"{COLLECTION}/records/b1", auth=ALICE)[0] == 404

    status, body = batch(("c1", {}), ("c2", {}))
    assert status == 200 and [r["status"] for r in body["responses"]] == [201, 201]
    wait_for(lambda: record_ids(push) == ["c1", "c2"], WAIT, 0.05, "the batch on kinto-push")
    wait_for(lambda: setup.outbox() == [], WAIT, 0.05, "the outbox emptied")
    records = [e for e in push.history(COLLECTION) if e["payload"]["resource_name"] == "record"]
    assert len(records) == 1  # Kinto merged the batch's two creates into one event


CONFLICT_AT_ONCE = """
CREATE FUNCTION conflict_marked() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.data ? 'conflict' THEN
    RAISE EXCEPTION 'conflict (test)' USING ERRCODE = 'unique_violation';
  END IF;
  RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER conflict_marked AFTER INSERT OR UPDATE ON objects
  FOR EACH ROW EXECUTE FUNCTION conflict_marked();
"""


def committed_records(setup):
    out = setup.sql("SELECT id FROM objects WHERE resource_name = 'record' AND NOT deleted "
                    "ORDER BY id")
    return out.split()


@pytest.mark.parametrize("outbox", ["on", "off"])
def test_a_batch_cut_by_a_conflict_announces_only_what_kinto_kept(setup, start_server, outbox):
    """A sub-request that hits an integrity error gets a 409, and Kinto's batch view then
    aborts the transaction (request.tm.abort()): the writes before it are undone, though their
    sub-responses say 201, and the sub-requests after it run in a new transaction that commits.
    Kinto notifies ResourceChanged for all of them (the outbox must leave the undone out) and
    AfterResourceChanged for none (the in-memory path must still announce the kept ones)."""
    push = start_server()
    kinto = setup.kinto(push.url, outbox=outbox)
    create_collection(kinto)
    setup.sql(CONFLICT_AT_ONCE)

    status, body = kinto.request("POST", "/batch", {"requests": [
        {"method": "PUT", "path": f"{COLLECTION}/records/{rid}",
         "body": {"data": {"title": rid, **({"conflict": True} if rid == "x3" else {})}}}
        for rid in ("a1", "a2", "x3", "d4", "d5")]}, auth=ALICE)
    assert status == 200, (status, body)
    assert [r["status"] for r in body["responses"]] == [201, 201, 409, 201, 201]
    assert committed_records(setup) == ["d4", "d5"]  # a1 and a2 were undone by the abort

    assert put_record(kinto, "after")[0] == 201
    wait_for(lambda: "after" in record_ids(push), WAIT, 0.05, "the next write on kinto-push")
    if outbox == "on":
        wait_for(lambda: setup.outbox() == [], WAIT, 0.05, "the outbox emptied")
    assert record_ids(push) == ["d4", "d5", "after"]
    if outbox == "on":
        assert kinto.log.wait_for(r"2 change\(s\) undone by a conflict in a batch", WAIT)


def test_auto_without_transaction_per_request_queues_in_memory(setup, start_server):
    push = start_server()
    kinto = setup.kinto(push.url, **{"kinto.transaction_per_request": "false"})
    assert kinto.log.wait_for(r"WARNING .*kinto\.push\.outbox = auto: not using the outbox "
                              r"because kinto\.transaction_per_request is false", WAIT)
    assert kinto.log.wait_for(r"queue of 10000 events in memory", WAIT)
    create_collection(kinto)
    assert put_record(kinto, "m1")[0] == 201
    wait_for(lambda: record_ids(push) == ["m1"], WAIT, 0.05, "m1 on kinto-push")
    assert setup.sql("SELECT to_regclass('kinto_push_outbox') IS NULL") == "t"


def test_off_queues_in_memory_on_postgresql(setup, start_server):
    push = start_server()
    kinto = setup.kinto(push.url, outbox="off")
    assert kinto.log.wait_for(r"queue of 10000 events in memory", WAIT)
    create_collection(kinto)
    assert put_record(kinto, "m2")[0] == 201
    wait_for(lambda: record_ids(push) == ["m2"], WAIT, 0.05, "m2 on kinto-push")
    assert setup.sql("SELECT to_regclass('kinto_push_outbox') IS NULL") == "t"


def test_on_refuses_to_start_without_transaction_per_request(setup):
    kinto = setup.kinto("http://127.0.0.1:9", start=False, outbox="on",
                        **{"kinto.transaction_per_request": "false"})
    with pytest.raises(RuntimeError) as failure:
        kinto.start()
    assert "kinto.push.outbox = on needs kinto.transaction_per_request = true" in str(failure.value)


def test_on_refuses_to_start_without_postgresql(setup):
    kinto = setup.kinto("http://127.0.0.1:9", start=False, outbox="on",
                        **{f"kinto.{b}_backend": f"kinto.core.{b}.memory"
                           for b in ("storage", "permission", "cache")})
    with pytest.raises(RuntimeError) as failure:
        kinto.start(migrate=False)
    assert ("kinto.push.outbox = on needs kinto.storage_backend = kinto.core.storage.postgresql"
            in str(failure.value))


def test_the_table_is_created_at_start_when_kinto_migrate_did_not(setup, start_server):
    push = start_server()
    kinto = setup.kinto(push.url, start=False)
    kinto.migrate()
    setup.sql("DROP TABLE kinto_push_outbox")
    kinto.start(migrate=False)
    create_collection(kinto)
    assert put_record(kinto, "t1")[0] == 201
    wait_for(lambda: record_ids(push) == ["t1"], WAIT, 0.05, "t1 on kinto-push")
