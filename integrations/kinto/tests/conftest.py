"""Test set-up: the plugin and the Kinto stand-in on sys.path, kinto-push servers, plugins.

``kinto_stub`` is installed as the module ``kinto.core.events`` (with empty ``kinto`` and
``kinto.core`` parents), so the plugin's ``from kinto.core.events import
AfterResourceChanged`` works unchanged. Real Kinto, if present, is shadowed on purpose: the
tests drive the stub's request cycle.
"""

import faulthandler
import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
sys.path.insert(0, os.path.dirname(HERE))  # integrations/kinto: the kinto_push package
sys.path.insert(0, os.path.join(REPO, "tests", "pysupport"))  # processes, push_server, Kinto
sys.path.insert(0, HERE)

import kinto_stub  # noqa: E402
import processes  # noqa: E402
import push_server  # noqa: E402

kinto_stub.install()

import kinto_push  # noqa: E402
from push_server import SECRET  # noqa: E402

TEST_TIMEOUT = 60  # seconds; a hung test dumps its stacks and ends the run


@pytest.fixture(autouse=True)
def _watchdog():
    faulthandler.dump_traceback_later(TEST_TIMEOUT, exit=True)
    yield
    faulthandler.cancel_dump_traceback_later()


def pytest_sessionfinish(session, exitstatus):
    processes.stop_all()


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
