"""Authorization that ends (docs/protocol.md, "Kinto credentials"), against real Kinto.

kinto-push runs with ``--kinto-url`` and ``--kinto-recheck 1``: every subscription Kinto
allowed is asked about again each second. Read permission withdrawn in Kinto ends the channel
(WebSocket ``unsubscribed``/``forbidden``, SSE ``event: error`` ``forbidden``) while the
connection's other channels carry on; an account deleted closes with 4001; Kinto down changes
nothing. Skipped when real Kinto is not available (tests/pysupport/kinto_server.py).
"""

import asyncio
import http.client
import json
import os
import sys
import time
import uuid

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(HERE))), "tests", "pysupport"))

import kinto_server  # noqa: E402
from kinto_server import KintoServer, accounts_settings, basic_auth, find_kinto, memory_settings  # noqa: E402
from push_server import PushServer, record_event  # noqa: E402

websockets = pytest.importorskip("websockets")

RECHECK = 1      # --kinto-recheck, seconds
BOUND = 3.0      # a withdrawal must show within this many seconds
OWNER = ("olivia", "owner-password")


def kinto_settings():
    # Accounts only: with the basicauth policy too, any Basic credentials would authenticate
    # (a deleted account's would then be someone else, 403, not 401).
    return {**memory_settings(), **accounts_settings(), "multiauth.policies": "account"}


def start_kinto():
    install = find_kinto()
    if install is None:
        pytest.skip(kinto_server.KINTO_MISSING)
    kinto = KintoServer(install, settings=kinto_settings()).start()
    kinto.create_account(*OWNER)
    return kinto


@pytest.fixture(scope="module")
def kinto():
    server = start_kinto()
    yield server
    server.remove()


@pytest.fixture
def own_kinto():
    """A Kinto of the test's own (it gets killed)."""
    server = start_kinto()
    yield server
    server.remove()


def stop_clean(server):
    """Stops kinto-push; a sanitizer build's report fails the test."""
    output = server.output
    server.stop()
    reports = [line for line in output.lines if "Sanitizer" in line or "runtime error:" in line]
    assert not reports, "\n".join(output.lines[-200:])


@pytest.fixture
def push(kinto, push_bin):
    server = PushServer(push_bin, ["--kinto-url", kinto.url, "--kinto-recheck", str(RECHECK)]).start()
    yield server
    stop_clean(server)


def unique(prefix):
    return prefix + uuid.uuid4().hex[:10]


def reader_of(kinto, bucket, collections):
    """A new account that may read ``collections`` of a new ``bucket`` (owned by OWNER)."""
    user = (unique("reader"), "reader-password")
    kinto.create_account(*user)
    status, body = kinto.request("PUT", f"/buckets/{bucket}", {}, auth=OWNER)
    assert status in (200, 201), (status, body)
    for cid in collections:
        status, body = kinto.request("PUT", f"/buckets/{bucket}/collections/{cid}",
                                     {"permissions": {"read": [f"account:{user[0]}"]}}, auth=OWNER)
        assert status in (200, 201), (status, body)
        assert kinto.request("GET", f"/buckets/{bucket}/collections/{cid}", auth=user)[0] == 200
    return user


def revoke(kinto, bucket, cid, user):
    status, body = kinto.request("PATCH", f"/buckets/{bucket}/collections/{cid}",
                                 {"permissions": {"read": []}}, auth=OWNER)
    assert status == 200, (status, body)
    # Kinto itself now refuses the reader.
    assert kinto.request("GET", f"/buckets/{bucket}/collections/{cid}", auth=user)[0] in (403, 404)


def channel(bucket, cid):
    return f"/buckets/{bucket}/collections/{cid}"


# --- a WebSocket subscriber (python3-websockets' asyncio client) ---

async def open_ws(push, user):
    ws = await websockets.connect(f"ws://127.0.0.1:{push.port}/v1/ws",
                                  extra_headers={"Authorization": basic_auth(*user)})
    welcome = json.loads(await asyncio.wait_for(ws.recv(), 5))
    assert welcome["type"] == "welcome", welcome
    return ws


async def subscribe(ws, name, rid):
    await ws.send(json.dumps({"type": "subscribe", "id": rid, "channel": name}))
    reply = json.loads(await asyncio.wait_for(ws.recv(), 10))
    assert reply["type"] == "subscribed" and reply["channel"] == name, reply


async def frames_for(ws, seconds):
    """Every frame received within ``seconds`` (stops early if the connection closes)."""
    out = []
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        try:
            out.append(json.loads(await asyncio.wait_for(ws.recv(), left)))
        except asyncio.TimeoutError:
            break
    return out


async def next_frame(ws, seconds, what):
    try:
        return json.loads(await asyncio.wait_for(ws.recv(), seconds))
    except asyncio.TimeoutError:
        pytest.fail(f"no frame within {seconds} s: expected {what}")


def event_channels(frames):
    return [f["channel"] for f in frames if f["type"] == "event"]


# --- the cases ---

def test_read_permission_withdrawn_ends_that_channel_only(kinto, push):
    bucket = unique("b")
    user = reader_of(kinto, bucket, ["x", "y"])
    x, y = channel(bucket, "x"), channel(bucket, "y")

    async def run():
        ws = await open_ws(push, user)
        await subscribe(ws, x, "1")
        await subscribe(ws, y, "2")
        push.publish(record_event(bucket, "x"))
        assert event_channels(await frames_for(ws, 0.5)) == [x]

        revoke(kinto, bucket, "x", user)
        start = time.monotonic()
        frame = await next_frame(ws, BOUND, "unsubscribed")
        assert frame == {"type": "unsubscribed", "channel": x, "reason": "forbidden"}
        assert time.monotonic() - start <= BOUND

        push.publish(record_event(bucket, "x"), record_event(bucket, "y"))
        push.publish(record_event(bucket, "x"))
        frames = await frames_for(ws, 2.5)   # a few recheck periods: y is still allowed
        assert event_channels(frames) == [y], frames
        assert all(f["type"] == "event" for f in frames), frames
        # Unsubscribing from the ended channel: it is no longer held.
        await ws.send(json.dumps({"type": "unsubscribe", "id": "3", "channel": x}))
        reply = await next_frame(ws, 5, "not_found")
        assert reply["type"] == "error" and reply["code"] == "not_found", reply
        await ws.close()

    asyncio.run(run())


def test_account_deleted_closes_with_4001(kinto, push):
    bucket = unique("b")
    user = reader_of(kinto, bucket, ["x"])

    async def run():
        ws = await open_ws(push, user)
        await subscribe(ws, channel(bucket, "x"), "1")
        status, body = kinto.request("DELETE", f"/accounts/{user[0]}", auth=user)
        assert status == 200, (status, body)
        assert kinto.request("GET", f"/buckets/{bucket}/collections/x", auth=user)[0] == 401
        start = time.monotonic()
        with pytest.raises(websockets.exceptions.ConnectionClosed) as closed:
            while True:
                await asyncio.wait_for(ws.recv(), BOUND + 1)
        assert time.monotonic() - start <= BOUND
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4001, closed.value

    asyncio.run(run())


def test_kinto_down_changes_nothing(own_kinto, push_bin):
    kinto = own_kinto
    bucket = unique("b")
    user = reader_of(kinto, bucket, ["x"])
    x = channel(bucket, "x")
    push = PushServer(push_bin, ["--kinto-url", kinto.url, "--kinto-recheck", str(RECHECK)]).start()

    async def run():
        ws = await open_ws(push, user)
        await subscribe(ws, x, "1")
        kinto.kill()
        frames = await frames_for(ws, 4 * RECHECK + 0.5)   # several rechecks, each refused a connection
        assert frames == []
        push.publish(record_event(bucket, "x"))
        frame = await next_frame(ws, 5, "the event")
        assert frame["type"] == "event" and frame["channel"] == x, frame
        await ws.close()

    try:
        asyncio.run(run())
        assert push.proc.poll() is None
    finally:
        stop_clean(push)


# --- SSE ---

class SseStream:
    """GET /v1/sse read message by message (blank-line separated), with a deadline."""

    def __init__(self, push, query, authorization):
        self.conn = http.client.HTTPConnection("127.0.0.1", push.port, timeout=10)
        self.conn.request("GET", "/v1/sse?" + query, headers={"Authorization": authorization})
        self.sock = self.conn.sock   # the response takes it over (Connection: close)
        self.resp = self.conn.getresponse()
        assert self.resp.status == 200, (self.resp.status, self.resp.read())

    def message(self, seconds):
        """The next message as {field: value} ("" for a comment), or None at the stream's end."""
        self.sock.settimeout(seconds)
        fields = {}
        while True:
            line = self.resp.fp.readline()
            if not line:
                return None
            line = line.decode().rstrip("\n")
            if line == "":
                if fields:
                    return fields
                continue
            name, _, value = line.partition(":")
            fields[name] = value[1:] if value.startswith(" ") else value

    def close(self):
        self.conn.close()


def test_sse_read_permission_withdrawn_ends_the_stream(kinto, push):
    bucket = unique("b")
    user = reader_of(kinto, bucket, ["x"])
    x = channel(bucket, "x")
    stream = SseStream(push, "channel=" + x, basic_auth(*user))
    try:
        assert stream.message(5) == {"retry": "2000"}
        subscribed = stream.message(10)
        assert subscribed["event"] == "subscribed" and json.loads(subscribed["data"])["channel"] == x
        push.publish(record_event(bucket, "x"))
        event = stream.message(5)
        assert json.loads(event["data"])["channel"] == x

        revoke(kinto, bucket, "x", user)
        start = time.monotonic()
        error = stream.message(BOUND)
        assert error is not None and error["event"] == "error", error
        data = json.loads(error["data"])
        assert data["code"] == "forbidden" and data["channel"] == x, data
        assert stream.message(BOUND) is None   # its only channel: the stream ends
        assert time.monotonic() - start <= BOUND
    finally:
        stream.close()


def test_sse_withdrawn_channel_leaves_the_others(kinto, push):
    bucket = unique("b")
    user = reader_of(kinto, bucket, ["x", "y"])
    x, y = channel(bucket, "x"), channel(bucket, "y")
    stream = SseStream(push, f"channel={x}&channel={y}", basic_auth(*user))
    try:
        assert stream.message(5) == {"retry": "2000"}
        assert stream.message(10)["event"] == "subscribed"
        assert stream.message(10)["event"] == "subscribed"
        revoke(kinto, bucket, "x", user)
        error = stream.message(BOUND)
        assert error is not None and error["event"] == "error", error
        assert json.loads(error["data"])["channel"] == x
        push.publish(record_event(bucket, "x"), record_event(bucket, "y"))
        event = stream.message(5)
        assert event is not None and "event" not in event, event
        assert json.loads(event["data"])["channel"] == y
        assert event["id"].count("_") == 2   # the id keeps a place for each channel of the query
    finally:
        stream.close()
