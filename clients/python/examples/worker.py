#!/usr/bin/env python3
"""A worker that reacts to every change of a Kinto collection, and resumes exactly after the
last event it handled when restarted (its positions live in a state file).

    python3 examples/worker.py --url http://127.0.0.1:8080 \
        --channel /buckets/blog/collections/articles --state worker-state.json

Stop it (Ctrl-C, SIGTERM, even SIGKILL) and start it again: it gets every event published
in between, none twice (except one it was handling when killed: make handling idempotent).
"""

import argparse
import asyncio
import json
import logging
import os
import signal
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from kinto_push_client import Client, KintoPushError  # noqa: E402


def handle(event):
    """Your work: here, one line per change. Raising stops the worker without marking the
    event handled, so that its next start handles it again."""
    payload = event["payload"]
    ids = [(o.get("new") or o.get("old") or {}).get("id") for o in event.get("impacted_objects", [])]
    print(json.dumps({"channel": event["channel"], "offset": event["offset"],
                      "action": payload["action"], "uri": payload["uri"], "ids": ids}), flush=True)


def resync(channel, timestamp):
    """The server no longer had the events missed: fetch them from Kinto instead."""
    kinto_path = channel + ("/records" if "/collections/" in channel else "")
    print(f"RESYNC {channel}: GET /v1{kinto_path}?_since={timestamp}", file=sys.stderr, flush=True)


async def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8080")
    parser.add_argument("--channel", action="append", required=True)
    parser.add_argument("--state", default="worker-state.json")
    parser.add_argument("--token", help="a JWT (or set KINTO_PUSH_TOKEN)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")

    client = Client(args.url, args.channel, token=args.token or os.environ.get("KINTO_PUSH_TOKEN"),
                    state_file=args.state, on_event=handle, on_resync=resync)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, lambda: asyncio.ensure_future(client.close()))
    try:
        await client.run()
    except KintoPushError as e:
        print(f"worker: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
