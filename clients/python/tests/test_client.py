"""The client against the real kinto-push binary."""

import asyncio
import base64
import hashlib
import hmac
import json
import os
import time

import pytest

from collector import Collector
from conftest import run_async
from push_server import record_event
from kinto_push_client import Client, UnauthorizedError

ARTICLES = "/buckets/blog/collections/articles"
NOTES = "/buckets/blog/collections/notes"


async def publish(server, *events):
    return await asyncio.to_thread(server.publish, *events)


def test_live_events_in_order_on_every_channel(start_server):
    server = start_server()

    async def main():
        got = Collector()
        async with Client(server.url, [ARTICLES, NOTES], **got.callbacks()) as client:
            await client.wait_subscribed(timeout=10)
            for i in range(3):
                await publish(server, record_event(), record_event(collection="notes"))
            await publish(server, record_event(), record_event())
            await got.until(lambda: len(got.events) == 8, what="8 events")
        assert got.offsets(ARTICLES) == [1, 2, 3, 4, 5]
        assert got.offsets(NOTES) == [1, 2, 3]
        assert [f["recovered"] for f in got.subscribed] == [True, True]   # live: nothing asked
        assert client.positions()[ARTICLES].offset == 5

    run_async(main())


def test_events_async_iterator(start_server):
    server = start_server()

    async def main():
        seen = []
        async with Client(server.url, [ARTICLES]) as client:
            await client.wait_subscribed(timeout=10)
            await publish(server, record_event(), record_event(), record_event())
            async for event in client.events():
                seen.append(event["offset"])
                if len(seen) == 3:
                    break
        assert seen == [1, 2, 3]

    run_async(main())


def test_reconnects_after_a_server_restart_without_hole_or_duplicate(start_server, tmp_path):
    store = f"sqlite:{tmp_path}/push.sqlite3"
    server = start_server(store=store)
    port = server.port

    async def main():
        got = Collector()
        # A fixed 2 s delay: the events published right after the restart come as replay.
        async with Client(server.url, [ARTICLES], min_backoff=2, max_backoff=2,
                          **got.callbacks()) as client:
            await client.wait_subscribed(timeout=10)
            await publish(server, record_event(), record_event(), record_event())
            await got.until(lambda: len(got.events) == 3, what="3 events")
            await asyncio.to_thread(server.stop)        # closes with 1001
            restarted = await asyncio.to_thread(start_server, store=store, port=port)
            await publish(restarted, record_event(), record_event(), record_event())
            await got.until(lambda: len(got.events) == 6, timeout=20, what="6 events")
            await publish(restarted, record_event())
            await got.until(lambda: len(got.events) == 7, what="7 events")
        assert got.offsets() == [1, 2, 3, 4, 5, 6, 7]
        assert client.connections == 2
        resumed = got.subscribed[-1]
        assert resumed["recovered"] is True and resumed["offset"] == 6, resumed
        assert not got.resyncs

    run_async(main(), timeout=50)


def test_state_file_resumes_after_a_client_restart(start_server, tmp_path):
    server = start_server()
    state = tmp_path / "state.json"

    class Crash(Exception):
        pass

    async def main():
        got = Collector()
        async with Client(server.url, [ARTICLES], state_file=state, **got.callbacks()) as c:
            await c.wait_subscribed(timeout=10)
            await publish(server, record_event(), record_event())
            await got.until(lambda: len(got.events) == 2, what="2 events")
        saved = json.loads(state.read_text())
        epoch = got.subscribed[0]["epoch"]
        assert saved == {ARTICLES: {"epoch": epoch, "offset": 2,
                                    "timestamp": got.events[-1]["timestamp"]}}
        assert oct(state.stat().st_mode & 0o777) == "0o600"

        # Away: two events. A worker that dies while handling the second one…
        await publish(server, record_event(), record_event())
        handled = []

        def crashing(event):
            if event["offset"] == 4:
                raise Crash()
            handled.append(event["offset"])

        with pytest.raises(Crash):
            await Client(server.url, [ARTICLES], state_file=state, on_event=crashing).run()
        assert handled == [3]
        assert json.loads(state.read_text())[ARTICLES]["offset"] == 3

        # …gets it again at its next start, and nothing it had handled.
        again = Collector()
        async with Client(server.url, [ARTICLES], state_file=state, **again.callbacks()) as c:
            await again.until(lambda: len(again.events) == 1, what="the replayed event")
            await publish(server, record_event())
            await again.until(lambda: len(again.events) == 2, what="a live event")
        assert again.offsets() == [4, 5]
        assert again.subscribed[0]["recovered"] is True
        assert json.loads(state.read_text())[ARTICLES]["offset"] == 5

    run_async(main())


def test_recovered_false_calls_on_resync_with_the_last_timestamp(start_server, tmp_path):
    server = start_server("--history-size", "2")
    state = tmp_path / "state.json"

    async def main():
        got = Collector()
        async with Client(server.url, [ARTICLES, NOTES], state_file=state,
                          **got.callbacks()) as c:
            await c.wait_subscribed(timeout=10)
            await publish(server, record_event())
            await got.until(lambda: len(got.events) == 1, what="1 event")
        last_seen = got.events[0]["timestamp"]
        # Away: more than the history holds, on both channels (notes: no event ever seen).
        for _ in range(4):
            await publish(server, record_event(), record_event(collection="notes"))

        again = Collector()
        async with Client(server.url, [ARTICLES, NOTES], state_file=state,
                          **again.callbacks()) as c:
            await c.wait_subscribed(timeout=10)
            await again.until(lambda: len(again.resyncs) == 2, what="2 resyncs")
            await publish(server, record_event())
            await again.until(lambda: len(again.events) == 1, what="a live event")
        assert sorted(again.resyncs) == sorted([(ARTICLES, last_seen), (NOTES, 0)])
        assert [f["recovered"] for f in again.subscribed] == [False, False]
        assert again.offsets() == [6]                     # nothing replayed, then live
        saved = json.loads(state.read_text())
        assert saved[ARTICLES]["offset"] == 6
        assert saved[NOTES]["offset"] == 4 and saved[NOTES]["timestamp"] is None

    run_async(main())


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def hs256(claims, secret):
    head = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = b64url(json.dumps(claims).encode())
    sig = hmac.new(secret.encode(), f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{b64url(sig)}"


@pytest.mark.parametrize("send", ["frame", "query"])
def test_jwt_accepted_and_invalid_one_raises(start_server, send):
    secret = "jwt-secret-for-tests"
    server = start_server("--jwt-secret", secret)
    claims = {"sub": "alice", "channels": ["/buckets/blog/collections/*"],
              "exp": int(time.time()) + 600}

    async def main():
        got = Collector()
        async with Client(server.url, [ARTICLES], token=hs256(claims, secret),
                          send_credentials=send, **got.callbacks()) as c:
            await c.wait_subscribed(timeout=10)
            await publish(server, record_event())
            await got.until(lambda: len(got.events) == 1, what="1 event")
        if send == "frame":
            assert c.authenticated["sub"] == "alice"

        bad = Client(server.url, [ARTICLES], token=hs256(claims, "not-the-secret"),
                     send_credentials=send, min_backoff=0.05, max_backoff=0.1)
        with pytest.raises(UnauthorizedError):
            await asyncio.wait_for(bad.run(), 10)
        assert bad.connections <= 1   # stopped at once, no retry loop

    run_async(main())


def test_reconnect_gives_up_after_max_retries(push_bin):
    from push_server import PushServer
    probe = PushServer(push_bin).start()
    url = probe.url
    probe.stop()   # nothing listens there now

    async def main():
        from kinto_push_client import KintoPushError
        client = Client(url, [ARTICLES], min_backoff=0.01, max_backoff=0.02, max_retries=3)
        with pytest.raises(KintoPushError, match="could not connect"):
            await client.run()

    run_async(main())


class KintoStandIn:
    """A Kinto that knows one account, alice:s3cret, allowed to read ARTICLES only."""

    def __init__(self):
        import http.server
        import threading
        expected = "Basic " + base64.b64encode(b"alice:s3cret").decode()

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                if self.headers.get("Authorization") != expected:
                    status, body = 401, {"code": 401, "errno": 104, "error": "Unauthorized",
                                         "message": "Please authenticate yourself to use this endpoint."}
                elif self.path.rstrip("/") == "/v1":
                    status, body = 200, {"user": {"id": "account:alice"}}
                elif self.path == "/v1" + ARTICLES:
                    status, body = 200, {"data": {"id": "articles", "last_modified": 1}}
                else:
                    status, body = 403, {"code": 403, "errno": 121, "error": "Forbidden",
                                         "message": "forbidden"}
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def test_kinto_credentials_in_an_auth_frame(start_server):
    kinto = KintoStandIn()
    try:
        server = start_server("--kinto-url", kinto.url)

        async def main():
            from kinto_push_client import ForbiddenError
            got = Collector()
            async with Client(server.url, [ARTICLES], kinto_auth=("alice", "s3cret"),
                              **got.callbacks()) as c:
                await c.wait_subscribed(timeout=10)
                await publish(server, record_event())
                await got.until(lambda: len(got.events) == 1, what="1 event")
            assert c.authenticated["sub"] == "account:alice"
            assert got.offsets() == [1]

            with pytest.raises(UnauthorizedError):
                await asyncio.wait_for(Client(server.url, [ARTICLES],
                                              authorization="Basic bm9ib2R5OnB3").run(), 10)
            with pytest.raises(ForbiddenError):
                await asyncio.wait_for(Client(server.url, [NOTES],
                                              kinto_auth=("alice", "s3cret")).run(), 10)

        run_async(main())
    finally:
        kinto.close()


def test_state_file_shared_with_kinto_push_tail(start_server, push_bin, tmp_path):
    """The CLI resumes from a file this client wrote (and this client reads what it wrote)."""
    import subprocess
    import threading
    server = start_server()
    state = tmp_path / "state.json"

    async def first():
        got = Collector()
        async with Client(server.url, [ARTICLES], state_file=state, **got.callbacks()) as c:
            await c.wait_subscribed(timeout=10)
            await publish(server, record_event(), record_event())
            await got.until(lambda: len(got.events) == 2, what="2 events")

    run_async(first())
    server.publish(record_event())   # offset 3, while nobody listens

    env = {k: v for k, v in os.environ.items() if not k.startswith("KINTO_PUSH_")}
    tail = subprocess.Popen([push_bin, "tail", "--url", server.url, "--channel", ARTICLES,
                             "--state", str(state)], stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
    lines = []
    try:
        reader = threading.Thread(target=lambda: lines.append(tail.stdout.readline()), daemon=True)
        reader.start()
        reader.join(10)
    finally:
        tail.terminate()
        try:
            tail.wait(8)
        except subprocess.TimeoutExpired:
            tail.kill()
            tail.wait(8)
    assert lines and json.loads(lines[0])["offset"] == 3, lines
    assert json.loads(state.read_text())[ARTICLES]["offset"] == 3   # saved by tail
    server.publish(record_event())   # offset 4

    async def second():
        got = Collector()
        async with Client(server.url, [ARTICLES], state_file=state, **got.callbacks()):
            await got.until(lambda: len(got.events) == 1, what="the event after tail's")
        assert got.offsets() == [4]

    run_async(second())
