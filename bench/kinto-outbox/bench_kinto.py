"""One Kinto of the benchmark: a fresh PostgreSQL database of the shared throwaway cluster,
``kinto migrate``, Kinto started by tests/pysupport's KintoServer (waitress, 8 threads), and
the plugin configured for one mode:

    none     Kinto without the plugin
    memory   the plugin, events queued in memory (kinto.push.outbox = off)
    outbox   the plugin, events written to the outbox table (kinto.push.outbox = on)

    kinto = BenchKinto(cluster, install, "outbox", "http://127.0.0.1:PORT", "db1").start()
    kinto.outbox_depth()       # rows in kinto_push_outbox (psycopg2, autocommit)
    kinto.peak_rss_mib()       # VmHWM of the Kinto process
    kinto.stop()
"""

import os

from kinto_server import KintoServer, accounts_settings, postgresql_settings

HERE = os.path.dirname(os.path.abspath(__file__))
PLUGIN_DIR = os.path.join(os.path.dirname(os.path.dirname(HERE)), "integrations", "kinto")
MODES = ("none", "memory", "outbox")
USER = ("bench", "bench-password")  # a Basic Auth user (kinto.core's basicauth policy)


def process_cpu_seconds(pid):
    """utime + stime of process ``pid`` so far (/proc/PID/stat)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cluster_cpu_seconds(postmaster_pid):
    """CPU of a PostgreSQL cluster so far: the postmaster, its live children (backends,
    background workers) and the children it has reaped (cutime + cstime)."""
    def stat(pid):
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()

    fields = stat(postmaster_pid)
    total = sum(int(fields[i]) for i in (11, 12, 13, 14))
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                child = stat(entry)
            except OSError:
                continue
            if int(child[1]) == postmaster_pid:
                total += int(child[11]) + int(child[12])
    return total / os.sysconf("SC_CLK_TCK")


class BenchKinto:
    def __init__(self, cluster, install, mode, push_url, database, extra=None):
        if mode not in MODES:
            raise ValueError(f"mode {mode!r}: one of {MODES}")
        self.mode = mode
        self.cluster = cluster
        self.database = database
        self.url = cluster.create_database(database)
        settings = {**postgresql_settings(self.url), **accounts_settings()}
        settings["kinto.batch_max_requests"] = "1000"
        includes = []
        if mode != "none":
            includes = ["kinto_push"]
            settings["kinto.push.url"] = push_url
            settings["kinto.push.outbox"] = "on" if mode == "outbox" else "off"
            settings["kinto.push.max_backoff"] = "1"
            # Every event kept in memory in mode "memory" while kinto-push is down.
            settings["kinto.push.max_queue"] = "200000"
        settings.update(extra or {})
        self.server = KintoServer(install, settings=settings, pythonpath=[PLUGIN_DIR],
                                  includes=includes)
        self._db = None

    @property
    def port(self):
        return self.server.port

    @property
    def pid(self):
        return self.server.proc.pid if self.server.proc else None

    def start(self):
        self.server.start()  # kinto migrate first (PostgreSQL)
        return self

    def request(self, method, path, body=None):
        return self.server.request(method, path, body, auth=USER)

    def create_collection(self, bucket, collection):
        for path in (f"/buckets/{bucket}", f"/buckets/{bucket}/collections/{collection}"):
            status, body = self.request("PUT", path, {"data": {}})
            if status not in (200, 201):
                raise RuntimeError(f"PUT {path}: {status} {body}")
        return f"/buckets/{bucket}/collections/{collection}"

    def _connection(self):
        if self._db is None:
            import psycopg2

            self._db = psycopg2.connect(self.url)
            self._db.autocommit = True
        return self._db

    def sql(self, query, args=None):
        """Runs ``query`` on this Kinto's database (autocommit); the rows, or None."""
        with self._connection().cursor() as cursor:
            cursor.execute(query, args)
            return cursor.fetchall() if cursor.description else None

    def outbox_depth(self):
        return self.sql("SELECT count(*) FROM kinto_push_outbox")[0][0]

    def _status_field(self, field):
        pid = self.pid
        if pid is None:
            return None
        try:
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith(field + ":"):
                        return int(line.split()[1]) / 1024.0  # kB -> MiB
        except OSError:
            return None
        return None

    def rss_mib(self):
        return self._status_field("VmRSS")

    def peak_rss_mib(self):
        return self._status_field("VmHWM")

    def database_cpu_seconds(self):
        """CPU of the PostgreSQL cluster so far (every database: one Kinto runs at a time)."""
        return cluster_cpu_seconds(self.cluster.proc.pid)

    def cpu_seconds(self):
        """utime + stime of the Kinto process so far."""
        return process_cpu_seconds(self.pid) if self.pid else None

    def stop(self):
        if self._db is not None:
            self._db.close()
            self._db = None
        self.server.stop()
        self.server.remove()
