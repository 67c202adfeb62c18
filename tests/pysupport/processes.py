"""Processes the Python test suites start: each one stopped by its PID, every wait bounded.

A child started here gets SIGTERM from the kernel should the test process die first
(PR_SET_PDEATHSIG), and ``stop_all()`` (called at the end of a pytest session) kills what a
test left running.
"""

import ctypes
import os
import re
import signal
import socket
import subprocess
import threading
import time

STOP_TIMEOUT = 8.0

_running = {}  # pid -> Popen


def die_with_parent():
    """``preexec_fn`` of every child: SIGTERM when the test process dies."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except Exception:
        pass


def spawn(cmd, env=None, cwd=None, user=None):
    """Starts ``cmd`` with stdout and stderr in one pipe; returns (Popen, LogReader)."""
    proc = subprocess.Popen(
        cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        env=env, cwd=cwd, user=user, preexec_fn=die_with_parent,
    )
    _running[proc.pid] = proc
    return proc, LogReader(proc.stdout)


def stop(proc, sig=signal.SIGTERM, timeout=STOP_TIMEOUT):
    """Sends ``sig`` to ``proc`` by its PID and waits; SIGKILL if it outlives ``timeout``."""
    if proc is None:
        return None
    if proc.poll() is None:
        os.kill(proc.pid, sig)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout)
    _running.pop(proc.pid, None)
    return proc.returncode


def stop_all():
    for proc in list(_running.values()):
        stop(proc, signal.SIGKILL)


def free_port():
    """A port nothing listens on (bound then released)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_for(predicate, timeout=10.0, interval=0.02, what="condition"):
    """Calls ``predicate`` until it returns something true, for at most ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


class LogReader:
    """Reads a child's output to its end (a full pipe never blocks the child) and keeps the
    last ``keep`` lines; ``wait_for(regex)`` waits for a line that matches."""

    def __init__(self, stream, keep=2000):
        self._lines = []
        self._keep = keep
        self._cond = threading.Condition()
        self._ended = False
        self._dropped = 0  # lines trimmed from the front
        threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def _read(self, stream):
        for raw in stream:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            with self._cond:
                self._lines.append(line)
                if len(self._lines) > self._keep:
                    self._dropped += len(self._lines) - self._keep
                    del self._lines[:-self._keep]
                self._cond.notify_all()
        with self._cond:
            self._ended = True
            self._cond.notify_all()

    @property
    def lines(self):
        with self._cond:
            return list(self._lines)

    def text(self):
        return "\n".join(self.lines)

    def wait_for(self, pattern, timeout=10.0):
        """The first match of ``pattern`` in a line; None when the output ends or time is up."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        seen = 0  # lines examined, counted from the first line ever read
        with self._cond:
            seen = self._dropped
            while True:
                for line in self._lines[max(0, seen - self._dropped):]:
                    m = regex.search(line)
                    if m:
                        return m
                seen = self._dropped + len(self._lines)
                left = deadline - time.monotonic()
                if self._ended or left <= 0:
                    return None
                self._cond.wait(left)
