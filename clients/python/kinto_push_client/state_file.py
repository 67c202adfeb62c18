"""Positions per channel in a JSON file, the same format as ``kinto-push tail --state``:

    {"/buckets/blog/collections/articles": {"epoch": "9f2c61d0", "offset": 42, "timestamp": 1717000000456}}

so that the CLI and this client can take over each other's file (one process at a time).
"""

import json
import os
import tempfile

from .errors import StateFileError
from .position import Position


class StateFile:
    """Loads and saves positions. A missing or empty file holds no positions. Entries of
    channels this process does not follow are kept. Each save replaces the file atomically
    (a temporary file in the same directory, fsync, rename, fsync of the directory): a crash
    at any moment leaves the old or the new positions, never a torn file."""

    def __init__(self, path):
        self.path = os.fspath(path)
        self._positions = None

    def load(self):
        """{channel: Position} read from the file (and kept for later saves)."""
        try:
            with open(self.path, "r", encoding="utf-8") as f:
                text = f.read()
        except FileNotFoundError:
            text = ""
        except OSError as e:
            raise StateFileError(f"cannot read {self.path}: {e.strerror}") from e
        self._positions = self._parse(text)
        return dict(self._positions)

    def _corrupt(self, why):
        return StateFileError(
            f"{self.path} is not a kinto-push tail state file ({why}); "
            "fix or delete it (deleting it starts from live events)")

    def _parse(self, text):
        if not text.strip():
            return {}
        try:
            doc = json.loads(text)
        except ValueError:
            raise self._corrupt("not JSON") from None
        if not isinstance(doc, dict):
            raise self._corrupt("not a JSON object")
        out = {}
        for channel, entry in doc.items():
            where = json.dumps(channel)
            if not isinstance(entry, dict):
                raise self._corrupt(f"{where} is not an object")
            epoch, offset, ts = entry.get("epoch"), entry.get("offset"), entry.get("timestamp")
            if not isinstance(epoch, str) or not epoch:
                raise self._corrupt(f"{where}.epoch must be a non-empty string")
            if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
                raise self._corrupt(f"{where}.offset must be a non-negative integer")
            if ts is not None and (isinstance(ts, bool) or not isinstance(ts, int)):
                raise self._corrupt(f"{where}.timestamp must be an integer or null")
            out[channel] = Position(epoch, offset, ts)
        return out

    def save(self, channel, position):
        """Records ``position`` for ``channel`` and writes the whole file."""
        if self._positions is None:
            self.load()
        self._positions[channel] = position
        self._write({c: p.to_json() for c, p in self._positions.items()})

    def _write(self, doc):
        text = json.dumps(doc, indent=2) + "\n"
        directory = os.path.dirname(os.path.abspath(self.path))
        # Same directory as the target: rename() is atomic only within one file system.
        fd, temp = tempfile.mkstemp(prefix="." + os.path.basename(self.path) + ".", dir=directory)
        try:
            try:
                # mkstemp creates the file 0600; an existing file keeps its mode.
                os.fchmod(fd, os.stat(self.path).st_mode & 0o7777)
            except FileNotFoundError:
                pass
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                fd = -1
                f.write(text)
                f.flush()
                os.fsync(f.fileno())
            os.rename(temp, self.path)
        except OSError as e:
            if fd >= 0:
                os.close(fd)
            try:
                os.unlink(temp)
            except OSError:
                pass
            raise StateFileError(f"cannot save {self.path}: {e}") from e
        # The rename itself is durable once the directory is synced.
        try:
            dir_fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
        except OSError:
            return
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
