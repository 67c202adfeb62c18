"""The HTTP side of delivery: POSTs groups of events to kinto-push until it takes them.

``Poster.deliver(groups, stop_event)`` sends ``groups`` (lists of serialised events; one group
= one Kinto transaction) in order, in as few POSTs as kinto-push takes, and returns when each
one was acknowledged or refused. Used by the in-memory ``Sender`` and by the outbox ``Relay``,
each from its own single thread.

* A POST that fails (network error, no answer within ``timeout``, 408, 429, 5xx) is retried
  with exponential backoff and full jitter (``Retry-After`` honoured up to ``max_backoff``)
  until it succeeds or ``stop_event`` is set; no later POST is sent meanwhile, so events
  reach kinto-push in order. Retrying is safe: kinto-push stores an event it already has only
  once (PROTOCOL.md section 2).
* A POST refused as too large (413) is split in two; a POST of several groups refused as
  invalid is retried group by group (one bad event costs only its own group). What is still
  refused is logged and counted as ``rejected``: retrying would not help.
* Each attempt is signed anew (``Kinto-Push-Signature``, never the same one twice) or carries
  ``Authorization: Bearer`` (authorization.py), over a connection kept alive between POSTs
  that follow each other closely (events_endpoint.py).
"""

import collections
import http.client
import logging
import random
import threading
import time

from .authorization import Authorization
from .events_endpoint import EventsEndpoint

logger = logging.getLogger("kinto_push")

BASE_BACKOFF = 0.5
RETRY_LOG_INTERVAL = 60.0


class Poster:
    """Counters (in events, except ``posts`` and ``retries``), read with ``counts()``:

    sent      events kinto-push acknowledged (2xx)
    posts     successful POSTs
    retries   failed attempts that were retried (network error, timeout, 408, 429, 5xx)
    rejected  events kinto-push refused (4xx: bad credentials, invalid event, too large),
              plus those counted with ``count_rejected`` (e.g. not serialisable)

    ``waiting`` is a callable giving the number of events waiting (for the log lines), or None;
    ``metrics`` one returning Kinto's metrics service, or None.
    """

    FIELDS = ("sent", "posts", "retries", "rejected")

    def __init__(
        self,
        events_url,
        secret=None,
        auth="signature",
        timeout=10.0,
        max_backoff=30.0,
        base_backoff=BASE_BACKOFF,
        metrics=None,
        user_agent="kinto-push-kinto",
        waiting=None,
    ):
        self.events_url = events_url
        self.authorization = Authorization(secret, auth)
        self.endpoint = EventsEndpoint(events_url, self.authorization, timeout, user_agent)
        self.timeout = timeout
        self.max_backoff = max_backoff
        self.base_backoff = min(base_backoff, max_backoff)
        self._metrics = metrics
        self.waiting = waiting
        self._init_state()

    def _init_state(self):
        self._lock = threading.Lock()
        self._counts = dict.fromkeys(self.FIELDS, 0)
        self._stop = threading.Event()

    def reset_after_fork(self):
        """In a forked child: counters from zero, the parent's connection left to the parent."""
        self._init_state()
        self.authorization.reset_after_fork()
        self.endpoint.reset_after_fork()

    def counts(self):
        with self._lock:
            return dict(self._counts)

    def _add(self, field, count):
        with self._lock:
            self._counts[field] += count

    def count_rejected(self, count):
        """Counts events refused before posting (e.g. not serialisable)."""
        self._add("rejected", count)
        self.count_metric("kinto_push.rejected", count)

    def count_metric(self, key, count):
        service = self._metrics_service()
        if service is not None:
            try:
                service.count(key, count=count)
            except Exception:  # metrics are optional; never let them break sending
                logger.debug("kinto-push: metrics service failed", exc_info=True)

    def observe_metric(self, key, value):
        service = self._metrics_service()
        if service is not None:
            try:
                service.observe(key, value)
            except Exception:
                logger.debug("kinto-push: metrics service failed", exc_info=True)

    def _metrics_service(self):
        if self._metrics is None:
            return None
        try:
            return self._metrics()
        except Exception:
            logger.debug("kinto-push: metrics service failed", exc_info=True)
            return None

    def close(self):
        """Closes the kept-alive connection (the thread using the poster is over)."""
        self.endpoint.close()

    # ----- delivery ------------------------------------------------------------------------

    def deliver(self, groups, stop_event):
        """POSTs ``groups`` (lists of events, bytes; one group = one Kinto transaction) in
        order, in as few POSTs as kinto-push takes: a POST too large is split in two, and a
        POST of several groups that kinto-push refuses is retried group by group, so that one
        bad event only costs its own group. Returns True when every event was acknowledged or
        refused (and counted), False when ``stop_event`` was set first (some may have been
        sent: sending them again is harmless)."""
        self._stop = stop_event
        chunks = collections.deque([groups])
        while chunks:
            chunk = chunks.popleft()
            outcome = self._post_until_done(chunk)
            if outcome == "stopped":
                return False
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
        return True

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
                status, message, headers = self.endpoint.post(body, self._stop)
            except (OSError, http.client.HTTPException, ValueError) as e:
                problem = _describe_network_error(e, self.timeout)
            else:
                if 200 <= status < 300:
                    with self._lock:
                        self._counts["sent"] += len(events)
                        self._counts["posts"] += 1
                    self.count_metric("kinto_push.sent", len(events))
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
            self._add("retries", 1)
            waiting = self.waiting() if self.waiting is not None else len(events)
            self.count_metric("kinto_push.retries", 1)
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
        self._add("rejected", len(events))
        self.count_metric("kinto_push.rejected", len(events))
        if status == 401 or status == 403:
            logger.error(
                "kinto-push refused our credentials (%d %s): check kinto.push.secret "
                "(it must equal kinto-push's --publish-secret)%s; %d event(s) dropped",
                status,
                message,
                " and this host's clock (signatures are valid for 300 s)"
                if self.authorization.auth == "signature" and self.authorization.secret
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
