"""Gathers what a client hands to its callbacks, and waits (bounded) for it."""

import asyncio


class Collector:
    def __init__(self):
        self.events = []
        self.resyncs = []
        self.subscribed = []
        self._changed = asyncio.Event()

    def on_event(self, event):
        self.events.append(event)
        self._changed.set()

    def on_resync(self, channel, timestamp):
        self.resyncs.append((channel, timestamp))
        self._changed.set()

    def on_subscribed(self, channel, frame):
        self.subscribed.append(frame)
        self._changed.set()

    def callbacks(self):
        return {"on_event": self.on_event, "on_resync": self.on_resync,
                "on_subscribed": self.on_subscribed}

    def offsets(self, channel=None):
        return [e["offset"] for e in self.events if channel is None or e["channel"] == channel]

    async def until(self, predicate, timeout=10, what="condition"):
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not predicate():
            left = deadline - loop.time()
            if left <= 0:
                raise AssertionError(f"timed out after {timeout} s waiting for {what}")
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), left)
            except asyncio.TimeoutError:
                pass
