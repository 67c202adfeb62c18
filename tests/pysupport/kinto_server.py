"""Real Kinto for tests: where it comes from, and one Kinto process on 127.0.0.1.

Where Kinto comes from (``find_kinto()``), first found wins:
  1. an installed ``kinto`` command on PATH (``pip install 'kinto[postgresql]'``);
  2. the Kinto kit next to the project, ``../shared/kinto`` (or ``$KINTO_KIT``), run with
     Debian's python3 once its ``setup`` installed the Debian packages it needs.
Neither: ``find_kinto()`` returns None and ``KINTO_MISSING`` says how to get Kinto.

    server = KintoServer(find_kinto(), settings={...}, pythonpath=[plugin_dir]).start()
    server.request("PUT", "/buckets/b", auth=("alice", "pw"))
    server.kill()      # SIGKILL;   server.start() again: same port, same database
    server.stop()      # SIGINT: Python's atexit hooks run (the plugin's included)

``settings`` are keys as written in kinto.ini (``"kinto.bucket_create_principals"``,
``"multiauth.policies"``); ``memory_settings()`` and ``postgresql_settings(url)`` give the
storage part, ``accounts_settings()`` accounts and Basic Auth users. Plugins go in
``includes`` (after kinto.plugins.accounts), their folders in ``pythonpath``.
"""

import base64
import http.client
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time

from processes import free_port, spawn, stop, wait_for

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
PYTHON = "/usr/bin/python3"
START_TIMEOUT = 60.0
KINTO_MISSING = (
    "real Kinto not found: install it (pip install 'kinto[postgresql]', a kinto command on "
    "PATH) or provide the Kinto kit at ../shared/kinto (or $KINTO_KIT) and run its setup "
    "(setup --postgresql for the PostgreSQL tests)")


class KintoInstall:
    """How to run Kinto: ``command`` (argv prefix), the ``env`` and ``pythonpath`` it needs,
    ``source`` (said in reports)."""

    def __init__(self, command, env, source, pythonpath=()):
        self.command = command
        self.env = env
        self.source = source
        self.pythonpath = list(pythonpath)
        self._imports = {}

    def can_import(self, *modules):
        """Whether this Kinto's python can import ``modules`` (psycopg2, sqlalchemy …)."""
        key = tuple(modules)
        if key not in self._imports:
            python = PYTHON if self.source.startswith("kit") else _python_of(self.command[0])
            env = {**os.environ, **self.env}
            env["PYTHONPATH"] = os.pathsep.join(self.pythonpath + [env.get("PYTHONPATH", "")])
            code = "import " + ", ".join(("kinto",) + key)
            result = subprocess.run([python, "-c", code], env=env, capture_output=True, timeout=60)
            self._imports[key] = result.returncode == 0
        return self._imports[key]

    def supports_postgresql(self):
        return self.can_import("psycopg2", "sqlalchemy", "zope.sqlalchemy")


def _python_of(script):
    """The interpreter of an installed console script (its #! line)."""
    try:
        with open(script, "rb") as f:
            first = f.readline().decode("utf-8", "replace")
        if first.startswith("#!") and "python" in first:
            return first[2:].strip().split()[0]
    except OSError:
        pass
    return PYTHON


def find_kinto():
    """The Kinto to test against, or None (see KINTO_MISSING)."""
    installed = shutil.which("kinto")
    if installed:
        return KintoInstall([installed], {}, f"installed ({installed})")
    kit = os.environ.get("KINTO_KIT") or os.path.join(os.path.dirname(REPO), "shared", "kinto")
    wrapper = os.path.join(kit, "kinto")
    if os.access(wrapper, os.X_OK):
        kit = os.path.realpath(kit)
        paths = [os.path.join(kit, "python"), os.path.join(kit, "python-zope")]
        install = KintoInstall([wrapper], {"PYTHONDONTWRITEBYTECODE": "1"}, f"kit ({kit})", paths)
        if install.can_import("pyramid", "waitress"):
            return install
    return None


def memory_settings():
    return {f"kinto.{b}_backend": f"kinto.core.{b}.memory" for b in ("storage", "permission", "cache")}


def postgresql_settings(url):
    out = {}
    for b in ("storage", "permission", "cache"):
        out[f"kinto.{b}_backend"] = f"kinto.core.{b}.postgresql"
        out[f"kinto.{b}_url"] = url
    out["kinto.storage_pool_size"] = "10"
    return out


def accounts_settings(admin="admin"):
    """Accounts (anyone may create one) and Basic Auth users; ``admin`` is account:admin."""
    return {
        "multiauth.policies": "account basicauth",
        "multiauth.policy.account.use": "kinto.plugins.accounts.AccountsPolicy",
        "multiauth.policy.basicauth.use": "kinto.core.authentication.BasicAuthAuthenticationPolicy",
        "kinto.account_create_principals": "system.Everyone",
        "kinto.account_write_principals": f"account:{admin}",
        "kinto.bucket_create_principals": "system.Authenticated",
    }


def basic_auth(user, password):
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return f"Basic {token}"


class KintoServer:
    def __init__(self, install, settings=None, pythonpath=(), includes=(), env=None, port=None):
        if install is None:
            raise RuntimeError(KINTO_MISSING)
        self.install = install
        self.settings = dict(settings or memory_settings())
        self.includes = list(includes)
        self.pythonpath = list(pythonpath)
        self.extra_env = dict(env or {})
        self.port = port or free_port()
        self.dir = tempfile.mkdtemp(prefix="kinto-push-kinto-")
        self.ini = os.path.join(self.dir, "kinto.ini")
        self.proc = None
        self.log = None
        self._write_ini()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}/v1"

    def _write_ini(self):
        settings = {
            "kinto.userid_hmac_secret": "kinto-push-tests",
            "kinto.includes": " ".join(["kinto.plugins.accounts", *self.includes]),
            **self.settings,
        }
        lines = ["[app:main]", "use = egg:kinto"]
        lines += [f"{k} = {v}" for k, v in settings.items()]
        lines += ["", "[server:main]", "use = egg:waitress#main", "host = 127.0.0.1",
                  "port = %(http_port)s", "threads = 8", "",
                  "[loggers]", "keys = root", "", "[handlers]", "keys = console", "",
                  "[formatters]", "keys = plain", "",
                  "[logger_root]", "level = INFO", "handlers = console", "",
                  "[handler_console]", "class = StreamHandler", "args = (sys.stderr,)",
                  "level = NOTSET", "formatter = plain", "",
                  "[formatter_plain]", "format = %(levelname)s %(name)s %(message)s", ""]
        with open(self.ini, "w") as f:
            f.write("\n".join(lines))

    def _env(self):
        env = {k: v for k, v in os.environ.items() if not k.startswith("KINTO")}
        env.update(self.install.env)
        paths = self.pythonpath + self.install.pythonpath
        if env.get("PYTHONPATH"):
            paths.append(env["PYTHONPATH"])
        env["PYTHONPATH"] = os.pathsep.join(paths)
        env["KINTO_INI"] = self.ini
        env.update(self.extra_env)
        return env

    def migrate(self):
        result = subprocess.run([*self.install.command, "migrate", "--ini", self.ini],
                                env=self._env(), capture_output=True, text=True, timeout=120)
        if result.returncode != 0:
            raise RuntimeError(f"kinto migrate failed:\n{result.stdout}{result.stderr}")
        return result.stdout + result.stderr

    def start(self, migrate=None):
        """Starts Kinto (after ``kinto migrate`` with PostgreSQL, unless ``migrate=False``) and
        waits until ``GET /v1/`` answers."""
        if migrate is None:
            migrate = "postgresql" in self.settings.get("kinto.storage_backend", "")
        if migrate:
            self.migrate()
        self.proc, self.log = spawn(
            [*self.install.command, "start", "--ini", self.ini, "--port", str(self.port)],
            env=self._env(), cwd=self.dir)

        def up():
            if self.proc.poll() is not None:
                raise RuntimeError(f"Kinto exited ({self.proc.returncode}):\n{self.log.text()}")
            try:
                return self.request("GET", "/")[0] == 200
            except OSError:
                return False

        try:
            wait_for(up, timeout=START_TIMEOUT, interval=0.1, what="Kinto to answer")
        except AssertionError:
            self.kill()
            raise RuntimeError("Kinto did not start:\n" + self.log.text())
        return self

    def request(self, method, path, body=None, auth=None, headers=None, timeout=30):
        """One HTTP request to Kinto's /v1 ``path``; (status, parsed JSON body or None)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            h = {"Content-Type": "application/json", **(headers or {})}
            if auth is not None:
                h["Authorization"] = basic_auth(*auth)
            data = None if body is None else json.dumps(body).encode()
            conn.request(method, "/v1" + path, body=data, headers=h)
            resp = conn.getresponse()
            raw = resp.read()
            try:
                parsed = json.loads(raw) if raw else None
            except ValueError:
                parsed = raw.decode("utf-8", "replace")
            return resp.status, parsed
        finally:
            conn.close()

    def create_account(self, user, password):
        status, body = self.request("PUT", f"/accounts/{user}", {"data": {"password": password}})
        if status not in (200, 201):
            raise RuntimeError(f"account {user}: {status} {body}")

    def kill(self):
        """SIGKILL, as an OOM kill or a crash would: no cleanup runs."""
        stop(self.proc, signal.SIGKILL)
        self.proc = None

    def stop(self):
        """SIGINT: a graceful stop during which Python's atexit hooks run."""
        stop(self.proc, signal.SIGINT, timeout=15)
        self.proc = None

    def remove(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
