"""kinto-push's ``--kinto-url`` subscriber authentication against real Kinto (memory backends,
accounts and Basic Auth users), over WebSocket with Debian's python3-websockets.

docs/authentication.md, "Delegate to Kinto": a client connects with its Kinto
``Authorization`` value; each subscribe is checked with ``GET {kinto}/buckets/{bid}`` or
``GET {kinto}/buckets/{bid}/collections/{cid}``: 200 allows, 401 gives ``unauthorized``,
403/404 ``forbidden``, no answer ``unavailable``; an ``auth`` frame is checked against
``GET {kinto}/`` and answered with the Kinto user id. The Kinto also runs the plugin, so an
allowed subscriber receives the events of Kinto's own writes.
"""

import asyncio
import json

import pytest
import websockets

from kinto_server import basic_auth
from processes import free_port
from push_server import SECRET, PushServer

FRAME_TIMEOUT = 10  # seconds: Kinto on a busy machine answers within that

ALICE = ("alice", "alice-pw")       # an account: owns /buckets/shared
READER = ("reader", "reader-pw")    # an account: may read /buckets/shared/collections/notes only
NOBODY = ("nobody", "nobody-pw")    # an account without any right
BOB = ("bob", "bob-pw")             # a Basic Auth user (no account): owns /buckets/bobs
NOTES = "/buckets/shared/collections/notes"


class Setup:
    def __init__(self, kinto, push):
        self.kinto, self.push = kinto, push


@pytest.fixture(scope="module")
def setup(kinto_install, push_bin):
    import conftest
    kinto_port = free_port()
    push = PushServer(push_bin, ["--publish-secret", SECRET, "--kinto-url",
                                 f"http://127.0.0.1:{kinto_port}/v1"]).start()
    kinto = None
    try:
        kinto = conftest._start_real_kinto(kinto_install, push.url, port=kinto_port)
        for user, password in (ALICE, READER, NOBODY):
            kinto.create_account(user, password)
        ok(kinto.request("PUT", "/buckets/shared", auth=ALICE))
        ok(kinto.request("PUT", NOTES, {"permissions": {"read": ["account:reader"]}},
                         auth=ALICE))
        ok(kinto.request("PUT", "/buckets/shared/collections/private", auth=ALICE))
        ok(kinto.request("PUT", "/buckets/bobs", auth=BOB))
        ok(kinto.request("PUT", "/buckets/bobs/collections/c", auth=BOB))
        yield Setup(kinto, push)
    finally:
        if kinto is not None:
            kinto.remove()
        push.stop()


def ok(answer):
    assert answer[0] in (200, 201), answer
    return answer[1]


class Subscriber:
    """One WebSocket connection to /v1/ws; frames as parsed JSON."""

    def __init__(self, ws):
        self.ws = ws

    async def recv(self):
        return json.loads(await asyncio.wait_for(self.ws.recv(), FRAME_TIMEOUT))

    async def send(self, frame):
        await self.ws.send(json.dumps(frame))

    async def subscribe(self, channel, id):
        await self.send({"type": "subscribe", "id": id, "channel": channel})
        return await self.recv()


def connect(push, credentials=None):
    headers = {"Authorization": basic_auth(*credentials)} if credentials else {}
    return websockets.connect(f"ws://127.0.0.1:{push.port}/v1/ws", extra_headers=headers,
                              open_timeout=FRAME_TIMEOUT, compression=None)


def run(coroutine):
    return asyncio.run(asyncio.wait_for(coroutine, 60))


def assert_subscribed(frame, id, channel):
    assert frame["type"] == "subscribed", frame
    assert (frame["id"], frame["channel"], frame["recovered"]) == (id, channel, True), frame
    assert isinstance(frame["offset"], int) and isinstance(frame["epoch"], str), frame


def assert_error(frame, id, code):
    assert frame["type"] == "error", frame
    assert (frame["id"], frame["code"]) == (id, code), frame
    assert isinstance(frame["message"], str) and frame["message"], frame


@pytest.mark.parametrize("user, bucket, collection", [
    (ALICE, "shared", "notes"),      # an account
    (BOB, "bobs", "c"),              # a Basic Auth user
])
def test_an_owner_subscribes_and_receives_kintos_event(setup, user, bucket, collection):
    channel = f"/buckets/{bucket}/collections/{collection}"

    async def scenario():
        async with connect(setup.push, user) as ws:
            sub = Subscriber(ws)
            assert (await sub.recv())["type"] == "welcome"
            assert_subscribed(await sub.subscribe(channel, "1"), "1", channel)
            assert_subscribed(await sub.subscribe(f"/buckets/{bucket}", 2), 2, f"/buckets/{bucket}")
            # Written in Kinto, posted by the plugin, delivered by kinto-push.
            written = ok(setup.kinto.request("PUT", channel + f"/records/for-{user[0]}",
                                             {"data": {"title": "hello"}}, auth=user))["data"]
            got = [await sub.recv(), await sub.recv()]
            assert sorted(e["channel"] for e in got) == sorted([channel, f"/buckets/{bucket}"])
            for event in got:
                assert event["type"] == "event"
                assert event["payload"]["record_id"] == f"for-{user[0]}"
                assert event["impacted_objects"] == [{"new": written}]
                assert event["timestamp"] == written["last_modified"]
            # The auth frame names the Kinto user.
            await sub.send({"type": "auth", "id": "a", "token": basic_auth(*user)})
            authenticated = await sub.recv()
            assert authenticated["type"] == "authenticated" and authenticated["id"] == "a"
            assert authenticated["expires"] is None
            me = ok(setup.kinto.request("GET", "/", auth=user))["user"]["id"]
            assert authenticated["sub"] == me
            assert me.startswith("account:" if user is ALICE else "basicauth:")

    run(scenario())


def test_a_reader_of_one_collection_is_refused_its_bucket(setup):
    async def scenario():
        async with connect(setup.push, READER) as ws:
            sub = Subscriber(ws)
            await sub.recv()
            assert_subscribed(await sub.subscribe(NOTES, "1"), "1", NOTES)
            assert_error(await sub.subscribe("/buckets/shared", "2"), "2", "forbidden")
            assert_error(await sub.subscribe("/buckets/shared/collections/private", "3"), "3",
                         "forbidden")
            assert_error(await sub.subscribe("/buckets", "4"), "4", "forbidden")  # never delegated
            # The refusals left the granted subscription alone.
            ok(setup.kinto.request("PUT", NOTES + "/records/seen-by-reader", auth=ALICE))
            ok(setup.kinto.request("PUT", "/buckets/shared/collections/private/records/x",
                                   auth=ALICE))
            event = await sub.recv()
            assert (event["type"], event["channel"]) == ("event", NOTES)
            assert event["payload"]["record_id"] == "seen-by-reader"
            await sub.send({"type": "ping", "id": "p"})
            assert await sub.recv() == {"type": "pong", "id": "p"}  # nothing else came

    run(scenario())


@pytest.mark.parametrize("user", [NOBODY, ("alice", "wrong-password")],
                         ids=["no-rights", "wrong-password"])
def test_a_user_without_rights_is_forbidden(setup, user):
    # With Basic Auth enabled next to accounts (accounts_settings()), Kinto takes a wrong
    # account password as another, Basic Auth, user: authenticated, without rights.
    async def scenario():
        async with connect(setup.push, user) as ws:
            sub = Subscriber(ws)
            await sub.recv()
            assert_error(await sub.subscribe(NOTES, "1"), "1", "forbidden")
            assert_error(await sub.subscribe("/buckets/shared", "2"), "2", "forbidden")
            assert_error(await sub.subscribe("/buckets/missing/collections/c", "3"), "3",
                         "forbidden")

    run(scenario())


def test_no_credentials_is_unauthorized(setup):
    async def scenario():
        async with connect(setup.push) as ws:
            sub = Subscriber(ws)
            await sub.recv()
            assert_error(await sub.subscribe(NOTES, "1"), "1", "unauthorized")

    run(scenario())


def test_a_wrong_account_password_is_unauthorized_with_accounts_only(kinto_install, push_bin):
    import conftest
    kinto_port = free_port()
    push = PushServer(push_bin, ["--publish-secret", SECRET, "--kinto-url",
                                 f"http://127.0.0.1:{kinto_port}/v1"]).start()
    kinto = None
    try:
        kinto = conftest._start_real_kinto(kinto_install, push.url, port=kinto_port,
                                           settings={"multiauth.policies": "account"})
        kinto.create_account("alice", "alice-pw")
        ok(kinto.request("PUT", "/buckets/shared", auth=ALICE))

        async def scenario():
            async with connect(push, ("alice", "wrong-password")) as ws:
                sub = Subscriber(ws)
                await sub.recv()
                assert_error(await sub.subscribe("/buckets/shared", "1"), "1", "unauthorized")
                await sub.send({"type": "auth", "id": "a",
                                "token": basic_auth("alice", "wrong-password")})
                assert_error(await sub.recv(), "a", "unauthorized")
                await sub.send({"type": "auth", "id": "b", "token": basic_auth(*ALICE)})
                assert (await sub.recv()) == {"type": "authenticated", "id": "b",
                                              "sub": "account:alice", "expires": None}
                assert_subscribed(await sub.subscribe("/buckets/shared", "2"), "2",
                                  "/buckets/shared")

        run(scenario())
    finally:
        if kinto is not None:
            kinto.remove()
        push.stop()


def test_kinto_down_is_unavailable_and_the_connection_stays(push_bin):
    # Nothing listens on Kinto's port: no answer is "unavailable" (retry later), never a hang.
    push = PushServer(push_bin, ["--kinto-url", f"http://127.0.0.1:{free_port()}/v1"]).start()
    try:
        async def scenario():
            async with connect(push, ALICE) as ws:
                sub = Subscriber(ws)
                await sub.recv()
                assert_error(await sub.subscribe(NOTES, "1"), "1", "unavailable")
                assert_error(await sub.subscribe("/buckets/shared", "2"), "2", "unavailable")
                await sub.send({"type": "auth", "id": "a", "token": basic_auth(*ALICE)})
                assert_error(await sub.recv(), "a", "unavailable")
                await sub.send({"type": "ping", "id": "p"})
                assert await sub.recv() == {"type": "pong", "id": "p"}

        run(scenario())
    finally:
        push.stop()
