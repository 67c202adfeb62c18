"""The kinto-push client: one WebSocket connection that stays up, resumes every channel from
the last event handled, and keeps those positions in a state file if asked to."""

import asyncio
import contextlib
import inspect
import itertools
import json
import logging

from websockets.exceptions import ConnectionClosed

from . import channel_tracker as ct
from .backoff import Backoff
from .connection_failures import REFUSALS, RETRY_LATER, closed_error, open_websocket
from .credentials import IN_FRAME, Credentials
from .errors import ForbiddenError, KintoPushError, ProtocolError, Reconnect, UnauthorizedError
from .event_handoff import EventHandoff, Stopped
from .state_file import StateFile
from .ws_url import websocket_url

log = logging.getLogger("kinto_push_client")


async def _call(fn, *args):
    result = fn(*args)
    if inspect.isawaitable(result):
        await result


class Client:
    """Follows ``channels`` of the kinto-push server at ``url`` (``http(s)://host:port`` or
    its ``ws(s)://…/v1/ws``). See README.md for the whole story.

    - ``token`` (a JWT), ``kinto_auth=(user, password)`` or ``authorization="Basic …"`` /
      ``"Bearer …"`` (Kinto credentials): sent in an ``auth`` frame after ``welcome``, or as
      ``?access_token=`` with ``send_credentials="query"``.
    - ``state_file``: a path; positions are loaded from it and saved to it after each event
      handled (same format as ``kinto-push tail --state``).
    - ``on_event(event)``: called for each event frame, in offset order per channel, never
      twice for one offset; may be a coroutine function. Without it, read ``events()``.
    - ``on_resync(channel, timestamp)``: the server could not replay what was missed; fetch
      the channel's changes from Kinto with ``_since=timestamp`` (0: everything).
    - ``on_subscribed(channel, frame)``: a subscription took effect (optional).
    - ``min_backoff``/``max_backoff``: reconnection delays in seconds (exponential, jitter).
    - ``ping_interval``: after this many seconds without a frame, send a ``ping`` frame and
      reconnect when nothing comes within as long again (None: the server's heartbeat; 0: off).
    - ``max_retries``: give up after this many failed connection attempts in a row (None: never).
    """

    def __init__(self, url, channels, *, token=None, kinto_auth=None, authorization=None,
                 send_credentials=IN_FRAME, state_file=None, on_event=None, on_resync=None,
                 on_subscribed=None, min_backoff=0.25, max_backoff=30.0, ping_interval=None,
                 connect_timeout=10.0, max_retries=None, max_size=64 * 1024 * 1024):
        if isinstance(channels, str):
            channels = [channels]
        if not channels:
            raise ValueError("kinto-push: at least one channel")
        for channel in channels:
            if not isinstance(channel, str) or not channel.startswith("/buckets"):
                raise ValueError(f"kinto-push: not a channel: {channel!r}")
        self.url = websocket_url(url)
        self.credentials = Credentials(token, kinto_auth, authorization, send_credentials)
        self.state_file = StateFile(state_file) if state_file is not None else None
        self.on_event = on_event
        self.on_resync = on_resync
        self.on_subscribed = on_subscribed
        self.backoff = Backoff(min_backoff, max_backoff)
        self.ping_interval = ping_interval
        self.connect_timeout = connect_timeout
        self.max_retries = max_retries
        self.max_size = max_size
        self.welcome = None          # the last welcome frame
        self.authenticated = None    # the last authenticated frame
        self.connections = 0         # connections that reached welcome
        self._trackers = {c: ct.ChannelTracker(c) for c in dict.fromkeys(channels)}
        self._ids = itertools.count(1)
        self._auth_id = None
        self._ws = None
        self._closing = False
        self._closed = None          # asyncio.Event, made in the running loop
        self._ready = None
        self._task = None
        self._handoff = None
        self._loaded = False

    # ------------------------------------------------------------------------------ public

    def positions(self):
        """{channel: Position} of the channels followed (None where nothing is known yet)."""
        return {c: t.position for c, t in self._trackers.items()}

    async def run(self):
        """Connects, and reconnects, until close(). Raises UnauthorizedError (4001, an
        unauthorized auth or subscribe), ForbiddenError, ProtocolError, SubscriptionError,
        StateFileError, KintoPushError (max_retries), or what a callback raised."""
        self._setup()
        if not self._loaded:
            self._load_positions()
        failures = 0
        while not self._closing:
            try:
                await self._connection()
            except Reconnect as why:
                if self._closing:
                    break
                if self.welcome is not None:
                    failures = 0
                    self.backoff.reset()
                failures += 1
                if self.max_retries is not None and failures > self.max_retries:
                    raise KintoPushError(f"could not connect to {self.url}: {why}") from None
                delay = self.backoff.next()
                log.info("kinto-push: %s; reconnecting in %.2f s", why, delay)
                await self._sleep(delay)
            except Stopped:
                break

    async def close(self):
        """Stops: closes the connection with 1000 and makes run() return."""
        self._closing = True
        if self._closed is not None:
            self._closed.set()
        if self._handoff is not None:
            self._handoff.close()
        ws = self._ws
        if ws is not None:
            await ws.close(1000, "client closed")
        task = self._task
        if task is not None and task is not asyncio.current_task():
            done, _ = await asyncio.wait({task}, timeout=5)
            if not done:
                task.cancel()
                with contextlib.suppress(BaseException):
                    await task

    async def __aenter__(self):
        """Starts run() in a task; leaving the block closes the client (and raises what
        run() raised, if the block itself did not raise)."""
        self._setup()
        if self._task is None:
            self._task = asyncio.ensure_future(self.run())
        return self

    async def __aexit__(self, exc_type, exc, tb):
        task = self._task
        await self.close()
        if exc_type is None and task is not None and task.done() and not task.cancelled():
            task.result()

    async def wait_subscribed(self, timeout=None):
        """Waits until every channel is subscribed on the current connection (raises what
        run() raised if it ended, asyncio.TimeoutError after ``timeout`` seconds)."""
        self._setup()
        waiter = asyncio.ensure_future(self._ready.wait())
        pending = {waiter} | ({self._task} if self._task is not None else set())
        try:
            done, _ = await asyncio.wait(pending, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            waiter.cancel()
        if self._ready.is_set():
            return
        if self._task is not None and self._task.done():
            self._task.result()
            raise KintoPushError("the client stopped")
        raise asyncio.TimeoutError()

    async def events(self):
        """``async for event in client.events()``: each event frame, in order. An event
        counts as handled (and its position is saved) when the loop asks for the next one."""
        if self.on_event is not None:
            raise TypeError("kinto-push: events() is for a client without on_event")
        self._setup()
        owned = self._task is None
        if owned:
            self._task = asyncio.ensure_future(self.run())
        try:
            while True:
                item = await self._handoff.next(self._task)
                if item is None:
                    return
                event, done = item
                yield event
                if not done.done():
                    done.set_result(None)
        finally:
            if owned:
                await self.close()

    async def set_token(self, token):
        """New credentials (a fresh JWT before the old one expires): sent in an auth frame
        now when connected in frame mode, and used by every later connection."""
        self.credentials.value = token
        ws, frame = self._ws, self.credentials.auth_frame(self._next_id())
        if ws is not None and frame is not None:
            self._auth_id = frame["id"]
            with contextlib.suppress(ConnectionClosed):
                await ws.send(json.dumps(frame))

    # ------------------------------------------------------------------------------ internals

    def _setup(self):
        if self._closed is None:
            self._closed = asyncio.Event()
            self._ready = asyncio.Event()
            self._handoff = EventHandoff()
            if self._closing:
                self._closed.set()

    def _next_id(self):
        return str(next(self._ids))

    def _load_positions(self):
        if self.state_file is not None:
            saved = self.state_file.load()
            for channel, tracker in self._trackers.items():
                tracker.position = saved.get(channel)
        self._loaded = True

    async def _save(self, channel, position):
        if self.state_file is not None:
            await asyncio.to_thread(self.state_file.save, channel, position)

    async def _sleep(self, seconds):
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._closed.wait(), seconds)

    async def _connection(self):
        ws = await open_websocket(self.url, self.credentials, self.connect_timeout, self.max_size)
        self._ws = ws
        self.welcome = None
        try:
            if self._closing:
                return
            await self._session(ws)
        except ConnectionClosed as e:
            if self._closing:
                return
            raise closed_error(e) from None
        finally:
            self._ws = None
            self._ready.clear()
            for tracker in self._trackers.values():
                tracker.disconnected()
            if not ws.closed:
                await ws.close(1000)

    async def _session(self, ws):
        silence, ping_sent = None, False
        while True:
            try:
                timeout = self.connect_timeout if self.welcome is None else silence
                text = await (asyncio.wait_for(ws.recv(), timeout) if timeout else ws.recv())
            except asyncio.TimeoutError:
                if self.welcome is None:
                    raise Reconnect("no welcome from the server") from None
                if ping_sent:
                    raise Reconnect(f"no answer to a ping within {silence} s") from None
                ping_sent = True
                await ws.send(json.dumps({"type": "ping", "id": self._next_id()}))
                continue
            ping_sent = False
            try:
                frame = json.loads(text) if isinstance(text, str) else None
            except ValueError:
                frame = None
            if not isinstance(frame, dict):
                raise ProtocolError("the server sent a frame that is not a JSON object")
            if frame.get("type") == "welcome" and self.welcome is None:
                self.welcome = frame
                self.connections += 1
                self.backoff.reset()
                heartbeat = frame.get("heartbeat")
                silence = self.ping_interval if self.ping_interval is not None else heartbeat
                silence = silence if isinstance(silence, (int, float)) and silence > 0 else None
                await self._greet(ws)
            else:
                await self._handle(ws, frame)

    async def _greet(self, ws):
        auth = self.credentials.auth_frame(self._next_id())
        if auth is not None:
            self._auth_id = auth["id"]
            await ws.send(json.dumps(auth))
        for tracker in self._trackers.values():
            await ws.send(json.dumps(tracker.subscribe_frame(self._next_id())))

    def _tracker_for(self, frame):
        tracker = self._trackers.get(frame.get("channel"))
        if tracker is None and frame.get("id") is not None:
            tracker = next((t for t in self._trackers.values() if t.request_id == frame["id"]), None)
        return tracker

    async def _handle(self, ws, frame):
        kind = frame.get("type")
        if kind == "event":
            await self._on_event(ws, frame)
        elif kind == "subscribed":
            await self._on_subscribed(frame)
        elif kind == "unsubscribed":
            await self._on_unsubscribed(ws, frame)
        elif kind == "error":
            await self._on_error(ws, frame)
        elif kind == "authenticated":
            self.authenticated = frame

    async def _on_event(self, ws, frame):
        tracker = self._trackers.get(frame.get("channel"))
        if tracker is None:
            return
        verdict = tracker.check(frame)
        if verdict == ct.HOLE:
            log.warning("kinto-push: %s: offset %s after %s: resubscribing", tracker.channel,
                        frame.get("offset"), tracker.position.offset)
            await ws.send(json.dumps(tracker.unsubscribe_frame(self._next_id())))
            return
        if verdict != ct.DELIVER:
            return
        if self.on_event is not None:
            await _call(self.on_event, frame)
        else:
            await self._handoff.deliver(frame)
        await self._save(tracker.channel, tracker.handled(frame))

    async def _on_subscribed(self, frame):
        tracker = self._tracker_for(frame)
        if tracker is None or tracker.status != ct.SUBSCRIBING:
            return
        since = tracker.since
        resync = tracker.subscribed(frame)
        if resync is not None:
            log.warning("kinto-push: %s: the server no longer has the events after %s: resync "
                        "from Kinto with _since=%s", tracker.channel, since, resync)
            if self.on_resync is not None:
                await _call(self.on_resync, tracker.channel, resync)
        if resync is not None or since is None:
            await self._save(tracker.channel, tracker.position)
        if self.on_subscribed is not None:
            await _call(self.on_subscribed, tracker.channel, frame)
        if all(t.status == ct.SUBSCRIBED for t in self._trackers.values()):
            self._ready.set()

    async def _on_unsubscribed(self, ws, frame):
        tracker = self._tracker_for(frame)
        if tracker is None:
            return
        if tracker.status == ct.UNSUBSCRIBING and frame.get("id") == tracker.request_id:
            await ws.send(json.dumps(tracker.subscribe_frame(self._next_id())))
            return
        # The server dropped the channel (Kinto no longer allows it).
        log.warning("kinto-push: %s: unsubscribed by the server (%s)", tracker.channel,
                    frame.get("reason"))
        del self._trackers[tracker.channel]
        if not self._trackers:
            raise ForbiddenError(f"{tracker.channel}: unsubscribed by the server "
                                 f"({frame.get('reason')}), no channel left")

    async def _on_error(self, ws, frame):
        code, message = frame.get("code"), frame.get("message", "")
        if frame.get("id") is not None and frame.get("id") == self._auth_id:
            raise UnauthorizedError(f"auth refused: {code}: {message}")
        tracker = self._tracker_for(frame) if frame.get("id") is not None else None
        if tracker is None or tracker.status not in (ct.SUBSCRIBING, ct.UNSUBSCRIBING):
            log.warning("kinto-push: error from the server: %s: %s", code, message)
            return
        if code in RETRY_LATER:
            tracker.disconnected()
            asyncio.ensure_future(self._retry_subscribe(ws, tracker, Backoff(1, 30).next()))
            return
        error = REFUSALS.get(code, KintoPushError)
        raise error(f"{tracker.channel}: {code}: {message}")

    async def _retry_subscribe(self, ws, tracker, delay):
        await self._sleep(delay)
        if self._ws is ws and tracker.status == ct.PENDING and not self._closing:
            with contextlib.suppress(ConnectionClosed):
                await ws.send(json.dumps(tracker.subscribe_frame(self._next_id())))
