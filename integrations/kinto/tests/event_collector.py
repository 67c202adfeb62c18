"""A WebSocket subscriber for the crash tests: subscribes to channels of a kinto-push server
from their beginning and keeps every event frame it receives, in order.

    collector = EventCollector(push.port, ["/buckets/b/collections/c"]).start()
    collector.wait_for(lambda c: ..., timeout=20, what="...")
    collector.events("/buckets/b/collections/c")   # the event frames, as received
    collector.close()

Each channel is subscribed with ``"since": {"timestamp": 0}`` (docs/protocol.md): the replay
of everything the channel holds, then live events, on one connection, so that a relay posting
while the subscriber connects changes nothing. The frames are kept as parsed (``type``,
``channel``, ``offset``, ``payload``, ``impacted_objects``); any other frame than ``welcome``,
``subscribed`` and ``event`` is kept in ``unexpected``.
"""

import asyncio
import json
import threading
import time

import websockets


class EventCollector:
    def __init__(self, port, channels, connect_timeout=10.0):
        self.url = f"ws://127.0.0.1:{port}/v1/ws"
        self.channels = list(channels)
        self.connect_timeout = connect_timeout
        self._events = {c: [] for c in self.channels}
        self._subscribed = set()
        self.unexpected = []
        self.error = None
        self._cond = threading.Condition()
        self._loop = asyncio.new_event_loop()
        self._closing = None
        self._thread = threading.Thread(target=self._run, name="event-collector", daemon=True)

    def start(self):
        self._thread.start()
        self.wait_for(lambda c: c._subscribed == set(c.channels), self.connect_timeout,
                      "the subscriptions")
        return self

    def events(self, channel):
        with self._cond:
            return list(self._events[channel])

    def wait_for(self, predicate, timeout, what="events"):
        """Until ``predicate(self)`` holds; AssertionError after ``timeout`` seconds or when the
        connection failed."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                if self.error is not None:
                    raise AssertionError(f"subscriber failed while waiting for {what}: {self.error}")
                if predicate(self):
                    return
                left = deadline - time.monotonic()
                if left <= 0:
                    counts = {c: len(e) for c, e in self._events.items()}
                    raise AssertionError(f"timed out after {timeout} s waiting for {what} "
                                         f"(events so far: {counts})")
                self._cond.wait(min(left, 0.1))

    def close(self):
        if self._closing is not None and self._thread.is_alive():
            try:
                self._loop.call_soon_threadsafe(self._closing.set)
            except RuntimeError:  # the loop ended meanwhile (the server closed the connection)
                pass
        self._thread.join(5)

    def _run(self):
        try:
            self._loop.run_until_complete(self._listen())
        except Exception as e:
            with self._cond:
                self.error = f"{type(e).__name__}: {e}"
                self._cond.notify_all()
        finally:
            self._loop.close()

    async def _listen(self):
        self._closing = asyncio.Event()
        async with websockets.connect(self.url, open_timeout=self.connect_timeout,
                                      max_size=None, compression="deflate") as ws:
            for i, channel in enumerate(self.channels):
                await ws.send(json.dumps({"type": "subscribe", "id": str(i), "channel": channel,
                                          "since": {"timestamp": 0}}))
            closing = asyncio.ensure_future(self._closing.wait())
            while True:
                receive = asyncio.ensure_future(ws.recv())
                done, _ = await asyncio.wait({receive, closing}, return_when=asyncio.FIRST_COMPLETED)
                if receive not in done:
                    receive.cancel()
                    return
                self._keep(json.loads(receive.result()))

    def _keep(self, frame):
        with self._cond:
            kind = frame.get("type")
            if kind == "event" and frame.get("channel") in self._events:
                self._events[frame["channel"]].append(frame)
            elif kind == "subscribed":
                self._subscribed.add(frame.get("channel"))
            elif kind != "welcome":
                self.unexpected.append(frame)
            self._cond.notify_all()
