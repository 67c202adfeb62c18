"""Test set-up: the plugin and the Kinto stand-in on sys.path, kinto-push servers, plugins,
and real Kinto processes with the plugin included.

Real Kinto (tests/pysupport/kinto_server.py) runs in its own process: ``kinto_install``
(skips with KINTO_MISSING when there is none), ``postgres`` (a throwaway PostgreSQL 15
cluster per session), ``start_kinto`` (a Kinto with kinto_push included, posting to a
kinto-push, on memory or on a fresh PostgreSQL database) and ``kinto_pair`` (one such Kinto
and its kinto-push, shared by a module's tests: each test uses buckets of its own).

In this process, ``kinto_stub.install()`` makes ``kinto_stub_events`` the module
``kinto.core.events`` (with empty ``kinto`` and ``kinto.core`` parents) for the tests that
drive the plugin in-process (see kinto_stub.py for which and why).
"""

import faulthandler
import itertools
import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
sys.path.insert(0, os.path.dirname(HERE))  # integrations/kinto: the kinto_push package
sys.path.insert(0, os.path.join(REPO, "tests", "pysupport"))  # processes, push_server, Kinto
sys.path.insert(0, HERE)

import kinto_server  # noqa: E402
import kinto_stub  # noqa: E402
import postgres_cluster  # noqa: E402
import processes  # noqa: E402
import push_server  # noqa: E402
from faulty_proxy import FaultyProxy  # noqa: E402

kinto_stub.install()

import kinto_push  # noqa: E402
from push_server import SECRET  # noqa: E402

TEST_TIMEOUT = 90  # seconds; a hung test dumps its stacks and ends the run
PLUGIN_DIR = os.path.dirname(HERE)  # integrations/kinto
# Written when the real-Kinto tests were skipped for want of Kinto; `make test` prints it.
SKIP_NOTICE = os.path.join(REPO, "build", "kinto-plugin-real-kinto-skipped.txt")
_kinto_missing = []
# Real-Kinto skips, one line each in the summary: reason -> number of tests.
_environment_skips = {}


@pytest.fixture(autouse=True)
def _watchdog():
    faulthandler.dump_traceback_later(TEST_TIMEOUT, exit=True)
    yield
    faulthandler.cancel_dump_traceback_later()


def pytest_runtest_logreport(report):
    if report.skipped and isinstance(report.longrepr, tuple):
        reason = str(report.longrepr[2]).removeprefix("Skipped: ")
        if reason == kinto_server.KINTO_MISSING or reason.startswith("PostgreSQL tests skipped"):
            _environment_skips[reason] = _environment_skips.get(reason, 0) + 1


def pytest_terminal_summary(terminalreporter):
    """One line per missing piece of the environment, however many tests it skipped."""
    for reason, count in _environment_skips.items():
        what = "real-Kinto" if reason == kinto_server.KINTO_MISSING else "PostgreSQL"
        terminalreporter.write_line(f"{count} {what} test(s) skipped: {reason}")


def pytest_sessionfinish(session, exitstatus):
    processes.stop_all()
    try:
        if _kinto_missing:
            os.makedirs(os.path.dirname(SKIP_NOTICE), exist_ok=True)
            with open(SKIP_NOTICE, "w") as f:
                f.write(f"kinto_plugin: real-Kinto tests skipped: {kinto_server.KINTO_MISSING}\n")
        elif os.path.exists(SKIP_NOTICE):
            os.remove(SKIP_NOTICE)
    except OSError:
        pass


@pytest.fixture(scope="session")
def push_bin():
    binary = os.environ.get("KINTO_PUSH_BIN")
    if not binary or not os.access(binary, os.X_OK):
        pytest.fail(f"KINTO_PUSH_BIN must name the kinto-push binary (got {binary!r})")
    return binary


@pytest.fixture
def start_server(push_bin):
    """start_server(args=..., port=..., store=...) -> a running PushServer, stopped after."""
    started = []

    def start(args=("--publish-secret", SECRET), port=0, store="memory"):
        server = push_server.PushServer(push_bin, args, port=port, store=store).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def server(start_server):
    return start_server()


@pytest.fixture
def make_kinto():
    """make_kinto(url, **settings) -> (stub Kinto, plugin), the plugin included the way
    Kinto includes it; every plugin is closed after the test."""
    plugins = []

    def make(url, secret=SECRET, environ=None, metrics=None, **settings):
        ini = {"kinto.includes": "kinto_push", "kinto.push.url": url,
               "kinto.push.max_backoff": "0.2"}
        if secret is not None:
            ini["kinto.push.secret"] = secret
        ini.update({f"kinto.push.{k}": v for k, v in settings.items()})
        config = kinto_stub.Configurator(ini, environ=environ or {})
        if metrics is not None:
            config.registry.metrics = metrics
        config.include(kinto_push)
        plugin = config.registry.kinto_push
        plugins.append(plugin)
        return kinto_stub.Kinto(config), plugin

    yield make
    for plugin in plugins:
        plugin.close(timeout=0.5)


@pytest.fixture(autouse=True)
def _clean_environ(monkeypatch):
    # The plugin reads KINTO_PUSH_* from the environment: none may leak in from outside.
    for key in list(os.environ):
        if key.startswith("KINTO_PUSH_") and key != "KINTO_PUSH_BIN":
            monkeypatch.delenv(key)


# ---- real Kinto ----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def kinto_install():
    """The real Kinto to run (kinto_server.find_kinto()); the test is skipped without one."""
    install = kinto_server.find_kinto()
    if install is None:
        _kinto_missing.append(True)
        pytest.skip(kinto_server.KINTO_MISSING)
    return install


@pytest.fixture(scope="session")
def postgres(kinto_install):
    """A throwaway PostgreSQL 15 cluster for the session; skipped when there is none."""
    reason = postgres_cluster.unavailable()
    if reason is None and not kinto_install.supports_postgresql():
        reason = ("this Kinto cannot import psycopg2/sqlalchemy/zope.sqlalchemy "
                  "(run ../shared/kinto/setup --postgresql)")
    if reason:
        pytest.skip(f"PostgreSQL tests skipped: {reason}")
    cluster = postgres_cluster.PostgresCluster().start()
    yield cluster
    cluster.stop()


_databases = itertools.count(1)


def plugin_settings(push_url, secret=SECRET, **push):
    """The kinto.ini lines that include kinto_push posting to ``push_url``; ``push`` adds
    kinto.push.<name> settings."""
    out = {"kinto.push.url": push_url, "kinto.push.max_backoff": "0.2"}
    if secret is not None:
        out["kinto.push.secret"] = secret
    out.update({f"kinto.push.{k}": str(v) for k, v in push.items()})
    return out


def _start_real_kinto(install, push_url, storage="memory", postgres=None, settings=None,
                      includes=(), secret=SECRET, port=None, **push):
    if storage == "postgresql":
        url = postgres.create_database(f"kinto{os.getpid()}_{next(_databases)}")
        backend = kinto_server.postgresql_settings(url)
        push.setdefault("outbox", "off")  # these tests are about the in-memory queue
    else:
        backend = kinto_server.memory_settings()
    ini = {**backend, **kinto_server.accounts_settings(),
           **plugin_settings(push_url, secret, **push), **(settings or {})}
    return kinto_server.KintoServer(install, ini, pythonpath=[PLUGIN_DIR, HERE],
                                    includes=["kinto_push", *includes], port=port).start()


@pytest.fixture
def start_kinto(kinto_install, request):
    """start_kinto(push_url, storage="memory"|"postgresql", settings={...}, includes=(...),
    secret=SECRET, port=None, **kinto_push_settings) -> a running KintoServer with kinto_push included
    (accounts and Basic Auth users; anyone authenticated may create buckets), removed after
    the test. ``storage="postgresql"`` gives it a fresh database of the session's cluster and
    ``kinto.push.outbox = off``."""
    started = []

    def start(push_url, storage="memory", **kwargs):
        cluster = request.getfixturevalue("postgres") if storage == "postgresql" else None
        kinto = _start_real_kinto(kinto_install, push_url, storage, cluster, **kwargs)
        started.append(kinto)
        return kinto

    yield start
    for kinto in started:
        kinto.remove()


class KintoPair:
    """A real Kinto with the plugin, posting through a relaying FaultyProxy (``proxy.seen``
    counts the plugin's POSTs) to a kinto-push (``push``)."""

    def __init__(self, kinto, push, proxy):
        self.kinto, self.push, self.proxy = kinto, push, proxy

    def posts(self):
        return len(self.proxy.seen)


def _pair(install, push_bin, storage="memory", postgres=None):
    push = push_server.PushServer(push_bin, ("--publish-secret", SECRET)).start()
    proxy = FaultyProxy(push.port)
    kinto = None
    try:
        kinto = _start_real_kinto(install, proxy.url, storage, postgres,
                                  settings={"kinto.push.public_url": "https://push.example.com"},
                                  includes=["rollback_plugin"])
        kinto.create_account("alice", "alice-pw")
        yield KintoPair(kinto, push, proxy)
    finally:
        if kinto is not None:
            kinto.remove()
        proxy.close()
        push.stop()


@pytest.fixture(scope="module")
def kinto_pair(kinto_install, push_bin):
    """One KintoPair shared by a module's tests: memory backends, the account ``alice``
    (password ``alice-pw``), rollback_plugin included."""
    yield from _pair(kinto_install, push_bin)


@pytest.fixture(scope="module")
def pg_pair(kinto_install, push_bin, postgres):
    """kinto_pair on a fresh PostgreSQL database (``kinto.push.outbox = off``)."""
    yield from _pair(kinto_install, push_bin, "postgresql", postgres)
