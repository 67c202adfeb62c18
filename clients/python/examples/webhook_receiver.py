#!/usr/bin/env python3
"""A minimal webhook receiver: checks kinto-push's signature, then handles the event.

    KINTO_PUSH_WEBHOOK_SECRET=whsec_… python3 examples/webhook_receiver.py --port 8000

Register it with `POST /v1/webhooks {"url": "http://…:8000/", "channels": [...]}` (the answer
shows the secret, once). Answer 2xx only once the event is handled: kinto-push retries
anything else, so handling must be idempotent (the same webhook-id comes again on a retry).
"""

import argparse
import json
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from kinto_push_client.webhooks import WebhookVerificationError, verify  # noqa: E402

SECRET = os.environ.get("KINTO_PUSH_WEBHOOK_SECRET", "")
MAX_BODY = 4 * 1024 * 1024


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            return self.answer(413)
        body = self.rfile.read(length)
        try:
            message = verify(SECRET, self.headers, body)
        except WebhookVerificationError as e:
            print(f"refused: {e}", file=sys.stderr, flush=True)
            return self.answer(401)
        if message["type"] == "kinto.resync":
            data = message["data"]
            print(f"RESYNC {data['channel']} since {data['timestamp']}", flush=True)
        else:
            events = message["data"] if message["type"] == "kinto.events" else [message["data"]]
            for event in events:
                print(json.dumps({"id": self.headers["webhook-id"], "channel": event["channel"],
                                  "offset": event["offset"], "action": event["payload"]["action"],
                                  "uri": event["payload"]["uri"]}), flush=True)
        self.answer(204)

    def answer(self, status):
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args()
    if not SECRET.startswith("whsec_"):
        sys.exit("set KINTO_PUSH_WEBHOOK_SECRET to the webhook's whsec_… secret")
    ThreadingHTTPServer((args.host, args.port), Receiver).serve_forever()


if __name__ == "__main__":
    main()
