"""The outbox relay: one daemon thread per Kinto process, one active relay per database.

The thread opens its own psycopg2 connection (autocommit, not from Kinto's pool) and tries
``pg_try_advisory_lock(RELAY_LOCK_KEY)`` every ``relay_interval`` seconds until it holds it:
of all the Kinto processes on one database, exactly one relays at a time; when its process
dies, its session ends, the lock is freed, and another process takes over within
``relay_interval`` seconds. Holding the lock, it LISTENs to the writer's NOTIFY and loops:

1. SELECT the oldest rows, ORDER BY id, at most MAX_EVENTS events / MAX_BYTES bytes;
2. group them by txid (one group = one Kinto transaction, in the order of its first id);
3. ``Poster.deliver`` them (retrying until kinto-push takes or refuses them);
4. DELETE those ids.

No high-water mark: rows commit out of id order (ids are taken before the commit), so the
relay deletes what it sent and reads again everything left: a row that commits late is sent
in the next round, never skipped. No rows: wait for a NOTIFY, or ``relay_interval``.

A lost connection (database restarted, network) is reopened with backoff and the lock
taken again. ``stop()`` ends the thread; rows stay in the table for the next relay.
"""

import collections
import logging
import os
import random
import select
import threading
import time

from . import fork_restart
from .outbox_table import CHANNEL, TABLE, describe_dsn, ensure_table

logger = logging.getLogger("kinto_push")

# pg_try_advisory_lock key of the active relay ("kpushrly" in ASCII).
RELAY_LOCK_KEY = 0x6B70757368726C79
MAX_EVENTS = 1000
MAX_BYTES = 1024 * 1024
ERROR_LOG_INTERVAL = 60.0
# While a backlog drains, the depth is counted (a scan of the table) at most this often, not
# after every POST: a count per round would make a long drain quadratic.
MEASURE_INTERVAL = 1.0

# The LIMIT is taken first, then the running byte count over those rows only: a backlog of
# 100,000 rows costs one index scan of `limit` rows per round, not a window over the table.
SELECT_BATCH = f"""
SELECT id, txid, CASE WHEN before < %(max_bytes)s THEN events END
  FROM (SELECT id, txid, events,
               sum(octet_length(events)) OVER (ORDER BY id) - octet_length(events) AS before
          FROM (SELECT id, txid, events FROM {TABLE} ORDER BY id LIMIT %(limit)s) AS oldest) AS counted
 ORDER BY id"""
MEASURE = f"SELECT count(*), extract(epoch FROM clock_timestamp() - min(created)) FROM {TABLE}"
DELETE = f"DELETE FROM {TABLE} WHERE id = ANY(%s)"

# psycopg2 connections inherited by a forked child: never closed there (closing would end
# the parent's session), and kept referenced so that garbage collection does not close them.
_inherited_connections = []


def take_batch(rows):
    """``rows``: (id, txid, events or None past the byte bound), ORDER BY id, at most
    MAX_EVENTS + 1. Returns (groups, ids): the events grouped by txid in order of first id
    (as bytes), and the ids they came from. When the bound cut the rows, the last
    transaction is left for the next round (it may go on past the cut), unless it is the
    only one (a transaction larger than a POST is then sent in parts)."""
    kept = [r for r in rows[:MAX_EVENTS] if r[2] is not None] or rows[:1]
    cut = len(kept) < len(rows)
    by_txid = collections.OrderedDict()
    for row_id, txid, events in kept:
        by_txid.setdefault(txid, []).append((row_id, events))
    if cut and len(by_txid) > 1:
        by_txid.popitem(last=True)
    groups, ids = [], []
    for members in by_txid.values():
        groups.append([e.encode("utf-8") for _, e in members])
        ids.extend(row_id for row_id, _ in members)
    return groups, ids


class Relay:
    def __init__(self, connect_args, poster, interval=1.0, max_backoff=30.0):
        self.connect_args = connect_args
        self.poster = poster
        self.interval = interval
        self.max_backoff = max(max_backoff, interval)
        self._init_state()
        fork_restart.register(self)

    def _init_state(self):
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = None
        self._conn = None
        self._cursor = None
        self._active = False
        self._depth = None
        self._oldest_age = None
        self._measured_at = float("-inf")
        self._started = False

    # ----- control -----------------------------------------------------------------------

    def start(self):
        """Starts the thread (again after a fork, or after it ended)."""
        with self._lock:
            self._started = True
            if self._stop.is_set() or (self._thread is not None and self._thread.is_alive()):
                return
            self._thread = threading.Thread(target=self._run, name="kinto-push-relay", daemon=True)
            self._thread.start()

    def reset_after_fork(self):
        """In a forked child: the parent's connection and lock are the parent's; start anew
        (with a thread of our own) when the parent had started one."""
        if self._conn is not None:
            _inherited_connections.append(self._conn)
        started = self._started and not self._stop.is_set()
        self._init_state()
        self.poster.reset_after_fork()
        if started:
            self.start()

    def stop(self, timeout=2.0):
        """Stops the thread and closes its connection (the lock goes with it). Rows not sent
        stay in the table."""
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    @property
    def active(self):
        return self._active

    def stats(self):
        """``outbox_depth`` (rows waiting) and ``outbox_oldest_age`` (seconds since the oldest
        was written), as last measured (None before the first measure), and
        ``relay_active`` (this process holds the relay lock)."""
        return {
            "outbox_depth": self._depth,
            "outbox_oldest_age": self._oldest_age,
            "relay_active": self._active,
        }

    # ----- the relay thread --------------------------------------------------------------

    def _run(self):
        self._failures = 0
        last_log = None
        while not self._stop.is_set():
            try:
                self._serve()
            except Exception as e:  # psycopg2.Error, OSError, or a bug: never stop relaying
                self._failures += 1
                failures = self._failures
                self._lost_lock(f"{type(e).__name__}: {str(e).strip()}")
                now = time.monotonic()
                if last_log is None or now - last_log >= ERROR_LOG_INTERVAL:
                    last_log = now
                    logger.warning(
                        "kinto-push: outbox relay cannot use the database at %s (%s: %s): "
                        "retrying",
                        describe_dsn(self.connect_args),
                        type(e).__name__,
                        str(e).strip(),
                        exc_info=not _is_database_error(e),
                    )
                ceiling = min(self.max_backoff, self.interval * (2 ** min(failures - 1, 30)))
                self._stop.wait(random.uniform(self.interval / 2, max(ceiling, self.interval)))
            finally:
                self._close()
        self._lost_lock("stopped")
        self.poster.close()

    def _serve(self):
        import psycopg2

        self._conn = psycopg2.connect(**self.connect_args, application_name="kinto-push relay")
        self._conn.autocommit = True
        ensure_table(self._conn)
        self._failures = 0
        cursor = self._cursor = self._conn.cursor()
        while True:
            if self._stop.is_set():
                return
            cursor.execute("SELECT pg_try_advisory_lock(%s)", (RELAY_LOCK_KEY,))
            if cursor.fetchone()[0]:
                break
            self._measure(cursor)
            self._stop.wait(self.interval)
        self._active = True
        logger.info(
            "kinto-push: this process (pid %d) is now the outbox relay for %s",
            os.getpid(),
            describe_dsn(self.connect_args),
        )
        cursor.execute(f"LISTEN {CHANNEL}")
        while not self._stop.is_set():
            self._drain_notifications()
            cursor.execute(SELECT_BATCH, {"max_bytes": MAX_BYTES, "limit": MAX_EVENTS + 1})
            groups, ids = take_batch(cursor.fetchall())
            if not ids:
                self._record_measure(0, 0.0)   # nothing committed waits: no need to count
                self._wait_for_notification()
                continue
            if time.monotonic() - self._measured_at >= MEASURE_INTERVAL:
                self._measure(cursor)
            if not self.poster.deliver(groups, self._stop):
                return  # stopping: the rows stay, the next relay sends them (again)
            cursor.execute(DELETE, (ids,))

    def waiting(self):
        """Rows waiting, measured again when called from the relay thread (the poster calls
        it at each failed attempt: the depth and age stay current during an outage)."""
        if self._cursor is not None and threading.current_thread() is self._thread:
            try:
                self._measure(self._cursor)
            except Exception:  # the next statement of the loop reports it
                pass
        return self._depth or 0

    def _measure(self, cursor):
        cursor.execute(MEASURE)
        depth, age = cursor.fetchone()
        self._record_measure(int(depth), max(0.0, float(age)) if age is not None else 0.0)

    def _record_measure(self, depth, oldest_age):
        self._measured_at = time.monotonic()
        self._depth = depth
        self._oldest_age = oldest_age
        self.poster.observe_metric("kinto_push.outbox_depth", self._depth)
        self.poster.observe_metric("kinto_push.outbox_oldest_age", self._oldest_age)

    def _drain_notifications(self):
        self._conn.poll()
        self._conn.notifies.clear()

    def _wait_for_notification(self):
        """Until a NOTIFY arrives, ``relay_interval`` passes, or stop (checked every 0.2 s)."""
        deadline = time.monotonic() + self.interval
        while not self._stop.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            ready, _, _ = select.select([self._conn], [], [], min(remaining, 0.2))
            if ready:
                self._conn.poll()
                if self._conn.notifies:
                    self._conn.notifies.clear()
                    return

    def _lost_lock(self, why):
        if self._active:
            self._active = False
            logger.info(
                "kinto-push: this process (pid %d) is no longer the outbox relay (%s)",
                os.getpid(),
                why,
            )

    def _close(self):
        self._cursor = None
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.close()
            except Exception:
                pass


def _is_database_error(error):
    try:
        import psycopg2
    except ImportError:  # pragma: no cover
        return False
    return isinstance(error, (psycopg2.Error, OSError))
