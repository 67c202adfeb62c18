"""Hands events from the client's connection to an ``async for`` loop, one at a time: an
event counts as handled (and its position is saved) when the loop asks for the next one."""

import asyncio


class Stopped(Exception):
    """The client was closed while an event waited for the loop."""


class EventHandoff:
    def __init__(self):
        self._items = asyncio.Queue()
        self._closed = asyncio.Event()

    async def deliver(self, event):
        """Called by the client: returns once the loop is done with ``event``."""
        done = asyncio.get_running_loop().create_future()
        await self._items.put((event, done))
        closed = asyncio.ensure_future(self._closed.wait())
        try:
            await asyncio.wait({done, closed}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            closed.cancel()
        if not done.done():
            raise Stopped()

    def close(self):
        self._closed.set()

    async def next(self, runner):
        """The next event and its acknowledgement (call ``ack()`` when done), or None when
        ``runner`` (the task of Client.run) ended; its exception is raised."""
        getter = asyncio.ensure_future(self._items.get())
        await asyncio.wait({getter, runner}, return_when=asyncio.FIRST_COMPLETED)
        if getter.done():
            event, done = getter.result()
            return event, done
        getter.cancel()
        runner.result()   # raises what run() raised
        return None
