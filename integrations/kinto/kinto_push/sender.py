"""The in-memory sender: a bounded queue and one daemon thread that hands it to a Poster.

Used when the transactional outbox is off (storage other than PostgreSQL, or
``kinto.push.outbox = off``). Nothing here ever blocks or fails the caller (a Kinto request
thread): ``enqueue`` takes a lock for a few microseconds and returns; when the queue is full
the event is dropped, counted and logged.

Order: one thread sends one POST at a time, oldest group first, and a POST that fails is
retried (forever while the process lives) before any later one is sent (poster.py).

Grouping: the events of one Kinto request form one group, sent in one POST
``{"events": [...]}`` (one transaction for kinto-push). A group is ready when its request has
finished (the listener registers a Pyramid finished callback that closes it) or, failing
that, when no event joined it for a short while. Groups that are ready together (a backlog
after an outage, or busy concurrent requests) share a POST, up to MAX_EVENTS_PER_POST events
and MAX_BYTES_PER_POST bytes, in order.
"""

import collections
import logging
import threading
import time

from . import fork_restart

logger = logging.getLogger("kinto_push")

# How long an open group waits for more events of its request. A group whose request will
# close it (Pyramid finished callback) waits up to GROUP_WAIT since its last event; one that
# nothing will close (no request object) up to BURST_WAIT.
GROUP_WAIT = 1.0
BURST_WAIT = 0.05
DROP_LOG_INTERVAL = 10.0
# A backlog is sent in POSTs of at most this many events / bytes (kinto-push's default body
# limit is 4 MiB; a POST it finds too large is split anyway).
MAX_EVENTS_PER_POST = 1000
MAX_BYTES_PER_POST = 1024 * 1024

STATS_FIELDS = ("queued", "sent", "posts", "retries", "dropped", "rejected", "lost")


class _Group:
    __slots__ = ("key", "events", "closed", "closable", "last")

    def __init__(self, key, closable):
        self.key = key
        self.events = []
        self.closed = False
        self.closable = closable
        self.last = time.monotonic()


class Sender:
    """Queues events and hands them, grouped, to ``poster`` (a Poster, used by this sender
    only: its ``waiting`` is set to this sender's ``pending``)."""

    def __init__(self, poster, max_queue=10000, group_wait=GROUP_WAIT, burst_wait=BURST_WAIT):
        self.poster = poster
        self.max_queue = max_queue
        self.group_wait = group_wait
        self.burst_wait = burst_wait
        poster.waiting = self.pending
        self._init_state()
        fork_restart.register(self)

    def _init_state(self):
        self._cond = threading.Condition(threading.Lock())
        self._groups = collections.deque()  # groups not yet taken, oldest first
        self._open = {}  # key -> the group still accepting events for that key
        self._size = 0  # events held: waiting groups plus the one being sent
        self._flushing = 0
        self._stop = threading.Event()
        self._thread = None
        self._dropped = 0
        self._lost = 0
        self._drops_unlogged = 0
        self._last_drop_log = None

    def reset_after_fork(self):
        # A forked child (a pre-forking server that loaded Kinto in its master) starts empty:
        # what was queued belongs to the parent, which sends it. The thread did not survive.
        self._init_state()
        self.poster.reset_after_fork()

    # ----- called from Kinto's request threads -------------------------------------------

    def enqueue(self, key, event_json, closable=False):
        """Queues one event (JSON, bytes or str) in the group ``key``. Returns False when
        it is dropped."""
        if isinstance(event_json, str):
            event_json = event_json.encode("utf-8")
        with self._cond:
            stopped = self._stop.is_set()
            if stopped or self._size >= self.max_queue:
                dropped = True
            else:
                dropped = False
                group = self._open.get(key)
                if group is None:
                    group = _Group(key, closable)
                    self._open[key] = group
                    self._groups.append(group)
                group.events.append(event_json)
                group.last = time.monotonic()
                self._size += 1
                self._ensure_thread()
                self._cond.notify_all()
            if dropped:
                self._dropped += 1
                log_now = self._note_drop()
        if dropped:
            self.poster.count_metric("kinto_push.dropped", 1)
            if log_now is not None and stopped:
                logger.error(
                    "kinto-push: the plugin was closed (process shutting down): dropped %d "
                    "event(s); WebSocket subscribers will miss them",
                    log_now,
                )
            elif log_now is not None:
                logger.error(
                    "kinto-push queue full (kinto.push.max_queue = %d events waiting): "
                    "dropped %d event(s); WebSocket subscribers will miss them. kinto-push at %s "
                    "is down or too slow; raise kinto.push.max_queue to ride out longer outages",
                    self.max_queue,
                    log_now,
                    self.poster.events_url,
                )
            return False
        return True

    def count_rejected(self, count):
        """Counts events refused before queueing (e.g. not serialisable)."""
        self.poster.count_rejected(count)

    def close_group(self, key):
        """The request of group ``key`` is over: its group may be sent now."""
        with self._cond:
            group = self._open.pop(key, None)
            if group is not None:
                group.closed = True
                self._cond.notify_all()

    def _note_drop(self):
        now = time.monotonic()
        self._drops_unlogged += 1
        if self._last_drop_log is None or now - self._last_drop_log >= DROP_LOG_INTERVAL:
            count, self._drops_unlogged = self._drops_unlogged, 0
            self._last_drop_log = now
            return count
        return None

    def _ensure_thread(self):
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._run, name="kinto-push-sender", daemon=True)
            self._thread.start()

    # ----- control -----------------------------------------------------------------------

    def stats(self):
        """The counters, in events except ``posts`` and ``retries``:

        queued    events held now (waiting, or being sent)
        sent      events kinto-push acknowledged (2xx)
        posts     successful POSTs
        retries   failed attempts that were retried (network error, timeout, 408, 429, 5xx)
        dropped   events refused because the queue was full (``kinto.push.max_queue``)
        rejected  events kinto-push refused (4xx: bad credentials, invalid event, too large)
                  or that could not be serialised
        lost      events still queued when ``close()`` gave up (process shutdown)
        """
        counts = self.poster.counts()
        with self._cond:
            counts.update(queued=self._size, dropped=self._dropped, lost=self._lost)
        return {f: counts[f] for f in STATS_FIELDS}

    def pending(self):
        with self._cond:
            return self._size

    def flush(self, timeout=None):
        """Sends every queued event now (open groups included) and waits until each one is
        delivered or refused. Returns True when nothing is left, False on timeout."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            self._flushing += 1
            self._cond.notify_all()
            try:
                while self._size > 0:
                    if self._thread is None or not self._thread.is_alive():
                        if self._stop.is_set():
                            return False
                        self._ensure_thread()
                    remaining = None if deadline is None else deadline - time.monotonic()
                    if remaining is not None and remaining <= 0:
                        return False
                    self._cond.wait(remaining if remaining is not None else 1.0)
                return True
            finally:
                self._flushing -= 1

    def close(self, timeout=5.0):
        """Flushes for at most ``timeout`` seconds, then stops the thread. Returns the number of
        events left undelivered (lost), and logs them."""
        self.flush(timeout)
        with self._cond:
            self._stop.set()
            self._cond.notify_all()
            left = self._size
            self._lost += left
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(min(self.poster.timeout, 1.0) + 0.5)
        if left:
            logger.error(
                "kinto-push: %d event(s) not delivered to %s at shutdown: they are lost",
                left,
                self.poster.events_url,
            )
        return left

    # ----- the sender thread -------------------------------------------------------------

    def _ready(self, group, now):
        if group.closed or self._flushing:
            return True
        wait = self.group_wait if group.closable else self.burst_wait
        return now - group.last >= wait

    def _take_groups(self):
        """Waits for the oldest group to be ready and takes it, with the ready groups right
        behind it (a backlog drains in large POSTs); None when stopping."""
        with self._cond:
            while True:
                if self._stop.is_set():
                    return None
                if not self._groups:
                    self._cond.wait()
                    continue
                now = time.monotonic()
                head = self._groups[0]
                if not self._ready(head, now):
                    wait = self.group_wait if head.closable else self.burst_wait
                    self._cond.wait(wait - (now - head.last))
                    continue
                taken, count, size = [], 0, 0
                while self._groups:
                    group = self._groups[0]
                    group_size = sum(len(e) for e in group.events)
                    if taken and (
                        not self._ready(group, now)
                        or count + len(group.events) > MAX_EVENTS_PER_POST
                        or size + group_size > MAX_BYTES_PER_POST
                    ):
                        break
                    self._groups.popleft()
                    if self._open.get(group.key) is group:
                        del self._open[group.key]
                    taken.append(group.events)
                    count += len(group.events)
                    size += group_size
                return taken

    def _run(self):
        while True:
            groups = self._take_groups()
            if groups is None:
                self.poster.close()
                return
            count = sum(len(g) for g in groups)
            try:
                self.poster.deliver(groups, self._stop)
            except Exception:  # a bug must not kill the thread and silently stop delivery
                logger.exception("kinto-push: unexpected error while sending; events dropped")
                self.poster.count_rejected(count)
            finally:
                with self._cond:
                    self._size -= count
                    self._cond.notify_all()
