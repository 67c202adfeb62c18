"""The outbox against crashes, rollbacks, late commits and a second Kinto: real Kinto on a
throwaway PostgreSQL 15, the real kinto-push, a WebSocket subscriber.

Every test writes from 4 concurrent clients (kinto_writers.py), one HTTP request at a time
each, creating records in their own collection and a shared one, then checks what a
subscriber of those collections' channels received against what Kinto holds
(delivery_checks.py): each committed record announced exactly once and nothing else, offsets
contiguous from 1, and the order a client can observe kept.
"""

import json
import os
import shutil
import tempfile
import time

import pytest

import postgres_cluster
from delivery_checks import DeliveryReport, is_record, record_keys
from event_collector import EventCollector
from kinto_server import (KINTO_MISSING, KintoServer, accounts_settings, find_kinto,
                          postgresql_settings)
from kinto_writers import KintoWriters
from processes import free_port, wait_for
from relay_lock_sampler import RELAY_HOLDERS, RELAY_LOCK_KEY, RelayLockSampler
from push_server import SECRET, PushServer, binary_from_environment

psycopg2 = pytest.importorskip("psycopg2")

HERE = os.path.dirname(os.path.abspath(__file__))
PLUGIN_DIR = os.path.dirname(HERE)  # integrations/kinto: the kinto_push package
BUCKET = "crash"
WRITERS = 4
COLLECTIONS = [f"c{i}" for i in range(WRITERS)] + ["shared"]
CHANNELS = [f"/buckets/{BUCKET}/collections/{c}" for c in COLLECTIONS]
AUTH = ("alice", "pw")
RELAY_LINE = r"kinto-push: this process \(pid (\d+)\) is now the outbox relay"
TEMPLATE = "crash_template"
ROLE = "kinto"

KINTO = find_kinto()
pytestmark = pytest.mark.skipif(KINTO is None, reason=KINTO_MISSING)


# ----- fixtures ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def cluster():
    if not KINTO.supports_postgresql():
        pytest.skip(KINTO_MISSING)
    reason = postgres_cluster.unavailable()
    if reason:
        pytest.skip(reason)
    cluster = postgres_cluster.PostgresCluster().start()
    try:
        # Kinto's schema and the outbox table, migrated once: each test's database is a copy.
        template = cluster.create_database(TEMPLATE, user=ROLE, password=ROLE)
        migrator = make_kinto(template, free_port())
        migrator.migrate()
        shutil.rmtree(migrator.dir, ignore_errors=True)
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def database(cluster, request):
    """A fresh database, a copy of the migrated template: its URL."""
    name = "crash_" + request.node.name.replace("test_", "")[:40]
    cluster.psql(f'CREATE DATABASE "{name}" OWNER "{ROLE}" TEMPLATE "{TEMPLATE}"')
    cluster.psql(f"ALTER DATABASE \"{name}\" SET timezone TO 'UTC'")
    return f"postgresql://{ROLE}:{ROLE}@127.0.0.1:{cluster.port}/{name}"


@pytest.fixture
def processes():
    """started(thing) registers a KintoServer, PushServer or EventCollector to stop at the end."""
    things = []
    yield things.append
    for thing in reversed(things):
        if isinstance(thing, EventCollector):
            thing.close()
        else:
            thing.kill()  # Kinto or kinto-push, by PID
        if isinstance(thing, KintoServer):
            shutil.rmtree(thing.dir, ignore_errors=True)


def make_kinto(database, push_port, max_delay_ms=0):
    settings = {**postgresql_settings(database), **accounts_settings(),
                "kinto.push.url": f"http://127.0.0.1:{push_port}",
                "kinto.push.secret": SECRET,
                "kinto.push.outbox": "on",
                "kinto.push.relay_interval": "0.2",
                "kinto.push.max_backoff": "0.5",
                "rollback_plugin.max_delay_ms": str(max_delay_ms)}
    return KintoServer(KINTO, settings, pythonpath=[PLUGIN_DIR, HERE],
                       includes=["kinto_push", "rollback_plugin"])


def make_push(push_port):
    binary = binary_from_environment()
    if not binary:
        pytest.fail("KINTO_PUSH_BIN must name the kinto-push binary")
    store = os.path.join(tempfile.mkdtemp(prefix="kinto-crash-push-"), "push.sqlite3")
    return PushServer(binary, ["--publish-secret", SECRET, "--history-size", "100000",
                               "--durability", "normal"], port=push_port, store=f"sqlite:{store}")


def query(database, sql, *args):
    conn = psycopg2.connect(database, connect_timeout=5)
    try:
        conn.autocommit = True
        with conn.cursor() as cursor:
            cursor.execute(sql, args)
            return cursor.fetchall()
    finally:
        conn.close()


def outbox_depth(database):
    return query(database, "SELECT count(*) FROM kinto_push_outbox")[0][0]


def relay_locks(database):
    """Sessions holding the relay's advisory lock (a bigint key: classid, objid halves)."""
    return query(database, RELAY_HOLDERS, RELAY_LOCK_KEY >> 32,
                 RELAY_LOCK_KEY & 0xFFFFFFFF)[0][0]


def create_collections(kinto):
    for path in [f"/buckets/{BUCKET}"] + [f"/buckets/{BUCKET}/collections/{c}" for c in COLLECTIONS]:
        status, body = kinto.request("PUT", path, {"data": {}}, auth=AUTH)
        assert status in (200, 201), (path, status, body)


def committed_records(kinto):
    """Every record Kinto holds in the test's collections, as "collection/id"."""
    keys = set()
    for c in COLLECTIONS:
        status, body = kinto.request("GET", f"/buckets/{BUCKET}/collections/{c}/records", auth=AUTH)
        assert status == 200, (status, body)
        keys.update(f"{c}/{r['id']}" for r in body["data"])
    return keys


def record_write(writer, seq, prefix, data=None, collection=None):
    """A PUT creating record <prefix>w<writer>-<seq>: even writes in the writer's own
    collection, odd ones in the shared one (unless ``collection``)."""
    collection = collection or (f"c{writer}" if seq % 2 == 0 else "shared")
    rid = f"{prefix}w{writer}-{seq}"
    body = {"data": {"writer": writer, "seq": seq, **(data or {})}}
    path = f"/buckets/{BUCKET}/collections/{collection}/records/{rid}"
    return "PUT", path, body, [f"{collection}/{rid}"]


def assert_only_conflicts_failed(writes):
    """Writes not meant to fail may still: Kinto answers 409 (and rolls back) when two
    concurrent writes get the same last_modified in a collection (its unique index)."""
    odd = [(w, w.status, w.body) for w in writes if w.outcome == "failed" and w.status != 409]
    assert not odd, odd[:5]


def plain_plan(prefix, limit=None):
    def plan(writer, seq):
        if limit is not None and seq >= limit:
            return None
        return record_write(writer, seq, prefix)
    return plan


def deliver_and_check(kinto, push, database, writes, processes):
    """Subscribes from offset 0, waits until the outbox is drained and every record Kinto
    holds was announced, lets duplicates show up, then checks; returns the DeliveryReport."""
    committed = committed_records(kinto)
    collector = EventCollector(push.port, CHANNELS).start()
    processes(collector)

    def announced(c):
        seen = {key for channel in CHANNELS for frame in c.events(channel) if is_record(frame)
                for key in record_keys(frame)}
        return committed <= seen

    wait_for(lambda: outbox_depth(database) == 0, timeout=20, interval=0.1, what="an empty outbox")
    try:
        collector.wait_for(announced, timeout=5, what=f"the {len(committed)} committed records")
    except AssertionError:
        pass  # the report below names what is missing
    time.sleep(0.6)  # more than the relay's interval: a duplicate would arrive now
    frames = {c: collector.events(c) for c in CHANNELS}
    assert not collector.unexpected, collector.unexpected[:5]
    for channel in CHANNELS:  # what the subscriber got is what kinto-push stored
        assert [(f["offset"], f["payload"]) for f in frames[channel]] == [
            (e["offset"], e["payload"]) for e in push.history(channel)], channel
    report = DeliveryReport(frames, writes, committed)
    report.assert_all()
    return report


# ----- the tests ---------------------------------------------------------------------------

def test_sigkill_while_writing_with_kinto_push_down(database, processes):
    push_port = free_port()
    kinto = make_kinto(database, push_port).start(migrate=False)
    processes(kinto)
    create_collections(kinto)

    writers = KintoWriters(kinto.port, plain_plan("a"), count=WRITERS, auth=AUTH).start()
    writers.wait_acked(100, timeout=30)
    kinto.kill()  # mid-writes: each writer has a request in flight or about to be sent
    before = writers.join(timeout=35)
    assert any(w.outcome == "unknown" for w in before), "no write was in flight at the kill"

    kinto.start(migrate=False)  # same port, same database
    after = KintoWriters(kinto.port, plain_plan("b", limit=10), count=WRITERS, auth=AUTH).start()
    after.join(timeout=30)
    assert_only_conflicts_failed(before + after.log)
    queued = outbox_depth(database)
    acked = sum(w.outcome == "acked" for w in before + after.log)
    assert queued >= acked, (queued, acked)  # kinto-push was down: all of them wait there

    push = make_push(push_port).start()
    processes(push)
    report = deliver_and_check(kinto, push, database, before + after.log, processes)
    outcomes = report.outcomes()
    print(f"\nSIGKILL: {len(before)} writes before the kill ({dict(outcomes)} overall), "
          f"{queued} events queued in the outbox, {len(report.committed)} records delivered "
          f"exactly once, {sum(report.late_commits().values())} late commit(s)")


DEFERRED_CONSTRAINT = """
CREATE FUNCTION crash_refuse_doomed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.data->>'doomed' = 'true' THEN
    RAISE EXCEPTION 'record % is doomed', NEW.id;
  END IF;
  RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER crash_doomed AFTER INSERT OR UPDATE ON objects
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION crash_refuse_doomed();
"""


def rollback_plan(writer, seq):
    """Writer 0 writes plainly; 1 makes every third write fail at COMMIT (the deferred
    constraint); 2 every third in a subscriber that raises after ours; 3 posts batches of 3
    creates, every third batch with a doomed record."""
    if seq >= 36:
        return None
    if writer == 0 or seq % 3 != 1:
        if writer != 3:
            return record_write(writer, seq, "r")
    if writer == 1:
        return record_write(writer, seq, "r", {"doomed": True})
    if writer == 2:
        return record_write(writer, seq, "rollback")   # rollback_plugin raises for it
    collection = "shared" if seq % 2 else "c3"
    requests, keys = [], []
    for part in range(3):
        rid = f"rw3-{seq}-{part}"
        data = {"writer": 3, "seq": seq, "part": part}
        if seq % 3 == 1 and part == 2:
            data["doomed"] = True
        requests.append({"method": "PUT", "path": f"/buckets/{BUCKET}/collections/{collection}/records/{rid}",
                         "body": {"data": data}})
        keys.append(f"{collection}/{rid}")
    return "POST", "/batch", {"requests": requests}, keys


def test_rolled_back_writes_never_announced_under_concurrent_load(cluster, database, processes):
    push_port = free_port()
    push = make_push(push_port).start()
    processes(push)
    kinto = make_kinto(database, push_port).start(migrate=False)
    processes(kinto)
    cluster.psql(DEFERRED_CONSTRAINT, database=database.rsplit("/", 1)[1])
    create_collections(kinto)

    writers = KintoWriters(kinto.port, rollback_plan, count=WRITERS, auth=AUTH).start()
    writes = writers.join(timeout=45)
    for w in writes:
        w.meant_to_fail = ("doomed" in json.dumps(w.request)
                           or any(k.rsplit("/", 1)[-1].startswith("rollback") for k in w.record_ids))
    assert_only_conflicts_failed([w for w in writes if not w.meant_to_fail])
    failed = [w for w in writes if w.meant_to_fail]
    # A write meant to fail is refused at its commit or by the raising subscriber (5xx); one
    # that first collides with a concurrent write on last_modified gets Kinto's 409 instead, or,
    # for a batch whose doomed last part collides, a 200 saying 409 for it (Kinto aborted the
    # transaction there): rolled back all the same, nothing kept.
    odd = [(w, w.status, w.body) for w in failed if not ((w.status or 0) >= 500 or w.kept_ids == [])]
    assert not odd, odd[:5]
    assert {w.writer for w in failed if (w.status or 0) >= 500} == {1, 2, 3}, \
        "each way of failing must have happened"

    report = deliver_and_check(kinto, push, database, writes, processes)
    rolled_back = {k for w in failed for k in w.record_ids}
    assert not rolled_back & set(report.received())
    conflicts = sum(w.outcome == "failed" for w in writes) - len(failed)
    cut = sum(w.kept_ids is not None and w.outcome == "acked" and set(w.kept_ids) != set(w.record_ids)
              for w in writes)
    print(f"\nrollbacks: {len(writes)} writes, {len(failed)} rolled back (deferred constraint "
          f"{sum(w.writer == 1 for w in failed)}, raising subscriber "
          f"{sum(w.writer == 2 for w in failed)}, batches {sum(w.writer == 3 for w in failed)}), "
          f"{len(report.committed)} records delivered exactly once, none of the "
          f"{len(rolled_back)} rolled back; {conflicts} 409 conflict(s) besides, {cut} "
          f"batch(es) cut by one")


def test_late_commits_are_provoked_and_not_skipped(database, processes):
    push_port = free_port()
    push = make_push(push_port).start()
    processes(push)
    kinto = make_kinto(database, push_port, max_delay_ms=20).start(migrate=False)
    processes(kinto)
    create_collections(kinto)

    def plan(writer, seq):  # 3 of 4 writes in the shared collection: they race there
        return record_write(writer, seq, "l", collection=None if seq % 4 == 0 else "shared")

    writers = KintoWriters(kinto.port, plan, count=WRITERS, auth=AUTH).start()
    writers.wait_acked(160, timeout=30)
    writes = writers.stop(timeout=30)
    assert_only_conflicts_failed(writes)

    report = deliver_and_check(kinto, push, database, writes, processes)
    late = report.late_commits()
    shared = f"/buckets/{BUCKET}/collections/shared"
    print(f"\nlate commits: {len(writes)} writes, {sum(late.values())} announced after a write "
          f"with a larger last_modified ({late[shared]} of "
          f"{len(report.position[shared])} in the shared collection), none lost or duplicated")
    assert late[shared] > 0, "no late commit was provoked: the test does not exercise them"


def test_two_kintos_one_relay_and_take_over(database, processes):
    push_port = free_port()
    push = make_push(push_port).start()
    processes(push)
    first = make_kinto(database, push_port).start(migrate=False)
    processes(first)
    second = make_kinto(database, push_port).start(migrate=False)
    processes(second)
    create_collections(first)

    wait_for(lambda: relay_locks(database) == 1, timeout=10, interval=0.1, what="one relay")
    holders = RelayLockSampler(database).start()
    active = [k for k in (first, second) if k.log.wait_for(RELAY_LINE, 0)]
    assert len(active) == 1, [k.log.text()[-2000:] for k in (first, second)]
    (active,) = active
    other = second if active is first else first

    writes_to_active = KintoWriters(active.port, plain_plan("x"), count=2, auth=AUTH).start()
    writes_to_other = KintoWriters(other.port, lambda w, s: record_write(w + 2, s, "y"),
                                   count=2, auth=AUTH).start()
    writes_to_active.wait_acked(40, timeout=30)
    writes_to_other.wait_acked(40, timeout=30)
    locks_seen = relay_locks(database)
    killed_at = time.monotonic()
    active.kill()
    assert other.log.wait_for(RELAY_LINE, timeout=15), other.log.text()[-3000:]
    take_over = time.monotonic() - killed_at
    assert relay_locks(database) == 1
    acked = writes_to_other.count_acked()
    writes_to_other.wait_acked(acked + 40, timeout=30)
    writes = writes_to_active.join(timeout=30) + writes_to_other.stop(timeout=30)
    assert_only_conflicts_failed(writes)

    most_holders, samples = holders.stop()
    assert most_holders == 1, f"{most_holders} sessions held the relay lock at once"
    report = deliver_and_check(other, push, database, writes, processes)
    print(f"\ntwo Kintos: at most {most_holders} relay lock holder in {samples} samples; take-over "
          f"{take_over:.2f} s after kill -9 of the active relay; {len(writes)} writes "
          f"({dict(report.outcomes())}), {len(report.committed)} records delivered exactly once")
    assert locks_seen == 1
    assert take_over < 10
