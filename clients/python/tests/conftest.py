"""Test set-up: the client package on sys.path, kinto-push servers, a watchdog."""

import asyncio
import faulthandler
import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
sys.path.insert(0, os.path.dirname(HERE))  # clients/python: the kinto_push_client package
sys.path.insert(0, os.path.join(REPO, "tests", "pysupport"))  # processes, push_server
sys.path.insert(0, HERE)

import processes  # noqa: E402
import push_server  # noqa: E402

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
    """start_server(*args, port=0, store="memory") -> a running PushServer, stopped after."""
    started = []

    def start(*args, port=0, store="memory"):
        server = push_server.PushServer(push_bin, args, port=port, store=store).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


def run_async(coro, timeout=30):
    """Runs ``coro`` in a new event loop, bounded by ``timeout`` seconds."""
    return asyncio.run(asyncio.wait_for(coro, timeout))
