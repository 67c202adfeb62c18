"""A throwaway PostgreSQL 15 cluster for tests: Debian's binaries, a temporary folder, a port
of its own on 127.0.0.1, stopped by PID at the end. Never the system service.

    cluster = PostgresCluster().start()
    url = cluster.create_database("kinto")    # postgresql://kinto:kinto@127.0.0.1:PORT/kinto
    cluster.stop()

Run as root (CI), the server runs as the ``postgres`` user, which owns the folder.
"""

import os
import pwd
import shutil
import signal
import subprocess
import tempfile

from processes import free_port, spawn, stop

BIN = "/usr/lib/postgresql/15/bin"
START_TIMEOUT = 30.0


def unavailable():
    """Why a cluster cannot be started here, or None."""
    if not os.access(os.path.join(BIN, "initdb"), os.X_OK):
        return f"PostgreSQL 15 is not installed ({BIN}/initdb): apt-get install postgresql"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root, and there is no postgres user to run PostgreSQL as"
    return None


class PostgresCluster:
    def __init__(self):
        self.dir = None
        self.port = None
        self.proc = None
        self.log = None
        self._user = "postgres" if os.geteuid() == 0 else None

    def _run(self, *cmd, timeout=60):
        result = subprocess.run(list(cmd), user=self._user, capture_output=True, text=True,
                                timeout=timeout, cwd=self.dir)
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed:\n{result.stdout}{result.stderr}")
        return result.stdout

    def start(self):
        reason = unavailable()
        if reason:
            raise RuntimeError(reason)
        self.dir = tempfile.mkdtemp(prefix="kinto-push-pg-")
        if self._user:
            entry = pwd.getpwnam(self._user)
            os.chown(self.dir, entry.pw_uid, entry.pw_gid)
        data = os.path.join(self.dir, "data")
        self._run(f"{BIN}/initdb", "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8",
                  "--no-sync")
        self.port = free_port()
        # The server itself in the foreground (not pg_ctl), so that it is our child, stopped
        # by its PID; fsync off: a test cluster needs no durability against power loss.
        self.proc, self.log = spawn(
            [f"{BIN}/postgres", "-D", data, "-p", str(self.port), "-k", self.dir,
             "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "max_connections=200"],
            user=self._user, cwd=self.dir)
        if not self.log.wait_for(r"database system is ready to accept connections", START_TIMEOUT):
            self.stop()
            raise RuntimeError("PostgreSQL did not start:\n" + (self.log.text() if self.log else ""))
        return self

    def psql(self, sql, database="postgres"):
        """Runs ``sql`` as the superuser; returns psql's unaligned output."""
        return self._run(f"{BIN}/psql",
                         "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", self.dir,
                         "-p", str(self.port), "-U", "postgres", "-d", database, "-c", sql)

    def create_database(self, name, user=None, password=None):
        """A database owned by a new role (both named ``name`` unless given), in UTC as Kinto
        wants; returns its URL."""
        user = user or name
        password = password or name
        self.psql(f"CREATE ROLE \"{user}\" LOGIN PASSWORD '{password}'")
        self.psql(f"CREATE DATABASE \"{name}\" OWNER \"{user}\" ENCODING 'UTF8'")
        self.psql(f"ALTER DATABASE \"{name}\" SET timezone TO 'UTC'")
        return f"postgresql://{user}:{password}@127.0.0.1:{self.port}/{name}"

    def stop(self):
        # SIGINT: PostgreSQL's "fast" shutdown (ends sessions, then stops).
        stop(self.proc, signal.SIGINT, timeout=15)
        self.proc = None
        if self.dir:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None
