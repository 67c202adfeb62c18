"""kinto_push_client.webhooks.verify against the real server's deliveries: a webhook created
with POST /v1/webhooks on kinto-push (--webhook-allow-private) delivers to a receiver on
127.0.0.1; every request received verifies, and none does with a flipped byte or another secret."""

import base64
import http.server
import json
import threading
import time
import urllib.request

import pytest

from kinto_push_client.errors import WebhookVerificationError
from kinto_push_client.webhooks import verify
from push_server import record_event

CHANNEL = "/buckets/blog/collections/articles"
WAIT = 15.0  # seconds


class Receiver:
    """An HTTP server on 127.0.0.1 in a thread, keeping each request's headers and raw body."""

    def __init__(self):
        received = self.received = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", "0"))
                received.append((self.path, self.headers, self.rfile.read(length)))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def wait_for(self, predicate, what):
        until = time.monotonic() + WAIT
        while time.monotonic() < until:
            if predicate(self.received):
                return self.received
            time.sleep(0.05)
        raise AssertionError(f"timed out waiting for {what}; received {len(self.received)}")

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def post_json(url, body):
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=5) as resp:
        return resp.status, json.loads(resp.read())


def create_webhook(server, receiver, **fields):
    status, webhook = post_json(server.url + "/v1/webhooks",
                                {"url": receiver.url, "channels": [CHANNEL], **fields})
    assert status == 201
    assert webhook["secret"].startswith("whsec_")
    return webhook


def check_every_request(received, secret):
    """Each request verifies with ``secret`` and none with a flipped byte or another secret;
    returns the parsed bodies."""
    other = "whsec_" + base64.b64encode(b"not the secret of this hook").decode()
    bodies = []
    for path, headers, body in received:
        assert path == "/hook"
        assert headers.get("Content-Type", "").startswith("application/json")
        parsed = verify(secret, headers, body)
        assert parsed == json.loads(body)
        bodies.append(parsed)
        for i in (0, len(body) // 2, len(body) - 1):
            flipped = bytearray(body)
            flipped[i] ^= 0x01
            with pytest.raises(WebhookVerificationError):
                verify(secret, headers, bytes(flipped))
        with pytest.raises(WebhookVerificationError):
            verify(other, headers, body)
    return bodies


def test_every_delivery_verifies_one_event_per_request(start_server, receiver):
    server = start_server("--webhook-allow-private")
    webhook = create_webhook(server, receiver)
    events = [record_event(rid=f"a{i}") for i in range(3)]
    for event in events:
        server.publish(event)
    received = receiver.wait_for(lambda r: len(r) >= 3, "three deliveries")
    bodies = check_every_request(received, webhook["secret"])
    assert [b["type"] for b in bodies] == ["kinto.event"] * 3
    assert [b["data"]["channel"] for b in bodies] == [CHANNEL] * 3
    assert [b["data"]["offset"] for b in bodies] == [1, 2, 3]
    assert [b["data"]["payload"]["record_id"] for b in bodies] == ["a0", "a1", "a2"]
    assert len({headers.get("webhook-id") for _, headers, _ in received}) == 3


def test_a_batch_with_max_batch_verifies(start_server, receiver):
    server = start_server("--webhook-allow-private")
    webhook = create_webhook(server, receiver, max_batch=10)
    events = [record_event(rid=f"b{i}") for i in range(5)]
    server.publish(*events)   # one request: five events waiting together
    received = receiver.wait_for(
        lambda r: sum(len(json.loads(b)["data"]) for _, _, b in r) >= 5, "five events")
    bodies = check_every_request(received, webhook["secret"])
    assert all(b["type"] == "kinto.events" for b in bodies)
    assert any(len(b["data"]) > 1 for b in bodies), [len(b["data"]) for b in bodies]
    data = [e for b in bodies for e in b["data"]]
    assert [e["offset"] for e in data] == [1, 2, 3, 4, 5]
    assert [e["payload"]["record_id"] for e in data] == [f"b{i}" for i in range(5)]
