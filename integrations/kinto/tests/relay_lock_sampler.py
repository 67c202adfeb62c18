"""Who holds the outbox relay's PostgreSQL advisory lock, sampled while a test runs.

    sampler = RelayLockSampler(database_url).start()
    ...
    most, samples = sampler.stop()   # the most sessions seen holding it at once

The relay (kinto_push/relay.py) takes ``pg_try_advisory_lock(RELAY_LOCK_KEY)``; pg_locks
shows a bigint key as its high half in ``classid``, its low half in ``objid``, ``objsubid`` 1.
"""

import threading

import psycopg2

RELAY_LOCK_KEY = 0x6B70757368726C79  # relay.py's key ("kpushrly")
RELAY_HOLDERS = ("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
                 "AND classid = %s AND objid = %s AND objsubid = 1")


class RelayLockSampler:
    """Counts the relay lock's holders every 50 ms on one connection, in a thread; ``stop()``
    returns (the most seen at once, samples taken)."""

    def __init__(self, database):
        self.database = database
        self.most = self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        self._stop.set()
        self._thread.join(5)
        return self.most, self.samples

    def _run(self):
        conn = psycopg2.connect(self.database, connect_timeout=5)
        conn.autocommit = True
        try:
            with conn.cursor() as cursor:
                while not self._stop.wait(0.05):
                    cursor.execute(RELAY_HOLDERS, (RELAY_LOCK_KEY >> 32, RELAY_LOCK_KEY & 0xFFFFFFFF))
                    self.most = max(self.most, cursor.fetchone()[0])
                    self.samples += 1
        finally:
            conn.close()
