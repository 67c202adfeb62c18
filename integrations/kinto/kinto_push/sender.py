"""The background sender: a bounded in-memory queue and one daemon thread that POSTs it.

Nothing here ever blocks or fails the caller (a Kinto request thread): ``enqueue`` takes a
lock for a few microseconds and returns; when the queue is full the event is dropped,
counted and logged.

Order: one thread sends one POST at a time, oldest group first, and a POST that fails is
retried (forever while the process lives) before any later one is sent. Retrying is safe
because kinto-push stores an event it already has only once (PROTOCOL.md section 2).

Grouping: the events of one Kinto request form one group, sent in one POST
``{"events": [...]}`` (one transaction for kinto-push). A group is ready when its request has
finished (the listener registers a Pyramid finished callback that closes it) or, failing
that, when no event joined it for a short while. Groups that are ready together (a backlog
after an outage, or busy concurrent requests) share a POST, up to MAX_EVENTS_PER_POST events
and MAX_BYTES_PER_POST bytes, in order; a POST refused as invalid is retried group by group
(one bad event costs only its own request's events), one refused as too large is split.

Connections are kept alive between POSTs that follow each other closely (KEEPALIVE_IDLE).
"""

import collections
import hashlib
import hmac
import http.client
import json
import logging
import os
import random
import ssl
import threading
import time
import urllib.parse
import weakref

logger = logging.getLogger("kinto_push")

# How long an open group waits for more events of its request. A group whose request will
# close it (Pyramid finished callback) waits up to GROUP_WAIT since its last event; one that
# nothing will close (no request object) up to BURST_WAIT.
GROUP_WAIT = 1.0
BURST_WAIT = 0.05
BASE_BACKOFF = 0.5
RETRY_LOG_INTERVAL = 60.0
DROP_LOG_INTERVAL = 10.0
MAX_ERROR_BODY = 64 * 1024
# A backlog is sent in POSTs of at most this many events / bytes (kinto-push's default body
# limit is 4 MiB; a POST it finds too large is split anyway).
MAX_EVENTS_PER_POST = 1000
MAX_BYTES_PER_POST = 1024 * 1024
# A kept-alive connection idle for longer is not reused (kinto-push closes idle connections
# after 30 s; proxies may do it sooner).
KEEPALIVE_IDLE = 2.0


class Stats:
    """Counters, in events except ``posts`` and ``retries``. Read them with ``Sender.stats()``.

    queued    events held now (waiting, or being sent)
    sent      events kinto-push acknowledged (2xx)
    posts     successful POSTs
    retries   failed attempts that were retried (network error, timeout, 408, 429, 5xx)
    dropped   events refused because the queue was full (``kinto.push.max_queue``)
    rejected  events kinto-push refused (4xx: bad credentials, invalid event, too large)
              or that could not be serialised
    lost      events still queued when ``close()`` gave up (process shutdown)
    """

    FIELDS = ("queued", "sent", "posts", "retries", "dropped", "rejected", "lost")

    def __init__(self):
        for f in self.FIELDS:
            setattr(self, f, 0)

    def as_dict(self):
        return {f: getattr(self, f) for f in self.FIELDS}


class _Group:
    __slots__ = ("key", "events", "closed", "closable", "last")

    def __init__(self, key, closable):
        self.key = key
        self.events = []
        self.closed = False
        self.closable = closable
        self.last = time.monotonic()


_senders = weakref.WeakSet()


def _after_fork_in_child():
    for sender in list(_senders):
        sender._reset_after_fork()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def sign(secret, timestamp, body):
    """The Kinto-Push-Signature header value for ``body`` (bytes) at ``timestamp``."""
    mac = hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode("ascii") + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


class Sender:
    def __init__(
        self,
        events_url,
        secret=None,
        auth="signature",
        timeout=10.0,
        max_queue=10000,
        max_backoff=30.0,
        base_backoff=BASE_BACKOFF,
        group_wait=GROUP_WAIT,
        burst_wait=BURST_WAIT,
        metrics=None,
        user_agent="kinto-push-kinto",
    ):
        self.events_url = events_url
        parts = urllib.parse.urlsplit(events_url)
        self._scheme = parts.scheme
        self._host = parts.hostname
        self._port = parts.port
        self._path = parts.path or "/"
        self._secret = secret
        self._auth = auth
        self.timeout = timeout
        self.max_queue = max_queue
        self.max_backoff = max_backoff
        self.base_backoff = min(base_backoff, max_backoff)
        self.group_wait = group_wait
        self.burst_wait = burst_wait
        self._metrics = metrics  # callable returning Kinto's metrics service, or None
        self._user_agent = user_agent
        self._ssl_context = ssl.create_default_context() if self._scheme == "https" else None
        self._init_state()
        _senders.add(self)

    def _init_state(self):
        self._cond = threading.Condition(threading.Lock())
        self._groups = collections.deque()  # groups not yet taken, oldest first
        self._open = {}  # key -> the group still accepting events for that key
        self._size = 0  # events held: waiting groups plus the one being sent
        self._flushing = 0
        self._stop = threading.Event()
        self._thread = None
        self.stats_counters = Stats()
        self._drops_unlogged = 0
        self._last_drop_log = None
        self._used_signatures = (None, set())
        self._conn = (None, 0.0)  # the kept-alive connection and when it was last used

    def _reset_after_fork(self):
        # A forked child (a pre-forking server that loaded Kinto in its master) starts empty:
        # what was queued belongs to the parent, which sends it. The thread did not survive.
        self._init_state()

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
                self.stats_counters.queued = self._size
                self._ensure_thread()
                self._cond.notify_all()
            if dropped:
                self.stats_counters.dropped += 1
                log_now = self._note_drop()
        if dropped:
            self._count_metric("kinto_push.dropped", 1)
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
                    self.events_url,
                )
            return False
        return True

    def count_rejected(self, count):
        """Counts events refused before queueing (e.g. not serialisable)."""
        with self._cond:
            self.stats_counters.rejected += count
        self._count_metric("kinto_push.rejected", count)

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
        with self._cond:
            self.stats_counters.queued = self._size
            return self.stats_counters.as_dict()

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
            self.stats_counters.lost += left
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(min(self.timeout, 1.0) + 0.5)
        if left:
            logger.error(
                "kinto-push: %d event(s) not delivered to %s at shutdown: they are lost",
                left,
                self.events_url,
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
                self._close_connection()
                return
            count = sum(len(g) for g in groups)
            try:
                self._deliver(groups)
            except Exception:  # a bug must not kill the thread and silently stop delivery
                logger.exception("kinto-push: unexpected error while sending; events dropped")
                with self._cond:
                    self.stats_counters.rejected += count
            finally:
                with self._cond:
                    self._size -= count
                    self.stats_counters.queued = self._size
                    self._cond.notify_all()

    def _deliver(self, groups):
        """POSTs ``groups`` (lists of events; one group = one Kinto request) in order, in as
        few POSTs as kinto-push takes: a POST too large is split in two, and a POST of
        several groups that kinto-push refuses is retried group by group, so that one bad
        event only costs its own request's events."""
        chunks = collections.deque([groups])
        while chunks:
            chunk = chunks.popleft()
            outcome = self._post_until_done(chunk)
            if outcome == "stopped":
                return
            if outcome == "too_large":
                if len(chunk) > 1:
                    half = len(chunk) // 2
                    parts = [chunk[:half], chunk[half:]]
                else:
                    events = chunk[0]
                    half = len(events) // 2
                    parts = [[events[:half]], [events[half:]]]
                chunks.extendleft(reversed(parts))
            elif outcome == "split":
                chunks.extendleft(reversed([[g] for g in chunk]))

    def _body(self, events):
        return b'{"events":[' + b",".join(events) + b"]}"

    def _post_until_done(self, groups):
        """POSTs the events of ``groups`` until kinto-push takes or refuses them. Returns
        "ok", "rejected", "stopped", "too_large" (over kinto-push's body limit, and more than
        one event: split them) or "split" (refused, several groups: retry each alone)."""
        events = [e for g in groups for e in g]
        body = self._body(events)
        attempt = 0
        first_failure = None
        last_log = None
        while True:
            if self._stop.is_set():
                return "stopped"
            retry_after = None
            try:
                status, message, headers = self._post(body)
            except (OSError, http.client.HTTPException, ValueError) as e:
                problem = _describe_network_error(e, self.timeout)
            else:
                if 200 <= status < 300:
                    with self._cond:
                        self.stats_counters.sent += len(events)
                        self.stats_counters.posts += 1
                    self._count_metric("kinto_push.sent", len(events))
                    if attempt:
                        logger.info(
                            "kinto-push: delivered %d event(s) after %d failed attempt(s) over %.1f s",
                            len(events),
                            attempt,
                            time.monotonic() - first_failure,
                        )
                    return "ok"
                if status == 413 and len(events) > 1:
                    return "too_large"
                if status in (408, 429) or status >= 500:
                    problem = f"{status} {message}".strip()
                    retry_after = _retry_after(headers)
                elif len(groups) > 1 and status not in (401, 403) and not 300 <= status < 400:
                    return "split"
                else:
                    self._refused(status, message, events, body)
                    return "rejected"
            attempt += 1
            now = time.monotonic()
            if first_failure is None:
                first_failure = now
            with self._cond:
                self.stats_counters.retries += 1
                waiting = self._size
            self._count_metric("kinto_push.retries", 1)
            if last_log is None or now - last_log >= RETRY_LOG_INTERVAL:
                last_log = now
                logger.warning(
                    "kinto-push at %s unavailable (%s): will retry, %d event(s) waiting "
                    "(attempt %d, failing for %.0f s)",
                    self.events_url,
                    problem,
                    waiting,
                    attempt,
                    now - first_failure,
                )
            ceiling = min(self.max_backoff, self.base_backoff * (2 ** min(attempt - 1, 30)))
            delay = random.uniform(0, ceiling)  # full jitter
            if retry_after is not None:
                delay = max(delay, min(retry_after, self.max_backoff))
            if self._stop.wait(delay):
                return "stopped"

    def _refused(self, status, message, events, body):
        with self._cond:
            self.stats_counters.rejected += len(events)
        self._count_metric("kinto_push.rejected", len(events))
        if status == 401 or status == 403:
            logger.error(
                "kinto-push refused our credentials (%d %s): check kinto.push.secret "
                "(it must equal kinto-push's --publish-secret)%s; %d event(s) dropped",
                status,
                message,
                " and this host's clock (signatures are valid for 300 s)"
                if self._auth == "signature" and self._secret
                else "",
                len(events),
            )
        elif status == 413:
            logger.error(
                "kinto-push refused an event of %d bytes as too large (413 %s): raise "
                "kinto-push's --max-body-bytes; 1 event dropped",
                len(body),
                message,
            )
        elif 300 <= status < 400:
            logger.error(
                "kinto-push answered %d (a redirect) at %s: check kinto.push.url; %d event(s) dropped",
                status,
                self.events_url,
                len(events),
            )
        else:
            logger.error(
                "kinto-push rejected %d event(s) (%d %s); they are dropped. First event: %s",
                len(events),
                status,
                message,
                events[0][:500].decode("utf-8", "replace"),
            )

    def _authorization_headers(self, body):
        if not self._secret:
            return {}
        if self._auth == "bearer":
            return {"Authorization": "Bearer " + self._secret}
        # A signature is accepted once: never sign the same body twice in the same second
        # (a retry after a lost answer would be refused as a replay).
        while True:
            t = int(time.time())
            value = sign(self._secret, t, body)
            used_t, used = self._used_signatures
            if used_t != t:
                self._used_signatures = (t, {value})
                return {"Kinto-Push-Signature": value}
            if value not in used:
                used.add(value)
                return {"Kinto-Push-Signature": value}
            if self._stop.wait(max(0.001, t + 1 - time.time())):
                return {"Kinto-Push-Signature": value}  # stopping; the POST is abandoned anyway

    def _connection(self):
        """The kept-alive connection when it was used less than KEEPALIVE_IDLE seconds ago
        (servers and proxies close idle ones), else a new one. Returns (conn, reused)."""
        conn, last = self._conn
        if conn is not None and time.monotonic() - last < KEEPALIVE_IDLE:
            return conn, True
        self._close_connection()
        if self._scheme == "https":
            conn = http.client.HTTPSConnection(
                self._host, self._port, timeout=self.timeout, context=self._ssl_context
            )
        else:
            conn = http.client.HTTPConnection(self._host, self._port, timeout=self.timeout)
        return conn, False

    def _close_connection(self):
        conn, _ = self._conn
        self._conn = (None, 0.0)
        if conn is not None:
            try:
                conn.close()
            except OSError:
                pass

    def _post(self, body):
        conn, reused = self._connection()
        try:
            return self._exchange(conn, body)
        except (ConnectionError, http.client.BadStatusLine):
            self._close_connection()
            if not reused:
                raise
        except (OSError, http.client.HTTPException):
            self._close_connection()
            raise
        # The kept-alive connection had been closed by the other side: once more on a new
        # one, at once (kinto-push stores an event once, whatever happened to the first try).
        conn, _ = self._connection()
        try:
            return self._exchange(conn, body)
        except (OSError, http.client.HTTPException):
            self._close_connection()
            raise

    def _exchange(self, conn, body):
        headers = {
            "Content-Type": "application/json",
            "Accept": "application/json",
            "User-Agent": self._user_agent,
            "Content-Length": str(len(body)),
        }
        headers.update(self._authorization_headers(body))
        try:
            conn.request("POST", self._path, body=body, headers=headers)
        except (BrokenPipeError, ConnectionResetError):
            # The server may answer (413) and close before reading a large body: its
            # answer, when there is one, says more than the broken pipe.
            try:
                response = conn.getresponse()
            except (OSError, http.client.HTTPException):
                response = None
            if response is None:
                raise
        else:
            response = conn.getresponse()
        data = response.read(MAX_ERROR_BODY)
        if response.will_close or not response.isclosed():
            # Closed by the server, or an error body larger than we read: do not reuse.
            self._conn = (conn, 0.0)
            self._close_connection()
        else:
            self._conn = (conn, time.monotonic())
        return response.status, _error_message(response, data), response.headers

    def _count_metric(self, key, count):
        if self._metrics is None:
            return
        try:
            service = self._metrics()
            if service is not None:
                service.count(key, count=count)
        except Exception:  # metrics are optional; never let them break sending
            logger.debug("kinto-push: metrics service failed", exc_info=True)


def _error_message(response, data):
    if 200 <= response.status < 300:
        return ""
    try:
        parsed = json.loads(data.decode("utf-8"))
        if isinstance(parsed, dict) and parsed.get("message"):
            return str(parsed["message"])
    except (ValueError, UnicodeDecodeError):
        pass
    text = data.decode("utf-8", "replace").strip()
    return text[:200] if text else (response.reason or "")


def _retry_after(headers):
    value = headers.get("Retry-After") if headers is not None else None
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def _describe_network_error(error, timeout):
    if isinstance(error, TimeoutError) or "timed out" in str(error):
        return f"no answer within kinto.push.timeout = {timeout:g} s"
    if isinstance(error, ConnectionRefusedError):
        return "connection refused"
    return f"{type(error).__name__}: {error}"
