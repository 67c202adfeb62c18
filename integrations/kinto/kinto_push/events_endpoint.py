"""One POST to kinto-push's ``/v1/events`` over a kept-alive HTTP(S) connection.

``EventsEndpoint.post(body, stop_event)`` sends ``body`` with its credentials
(authorization.py) and returns ``(status, message, headers)``: ``message`` is the error's
``message`` field (or the start of its body, or the reason) for a non-2xx answer. Network
errors are raised (OSError, http.client.HTTPException). The connection is kept alive between
POSTs that follow each other within KEEPALIVE_IDLE seconds; a kept-alive connection the
other side had closed is replaced at once, once.
"""

import http.client
import json
import ssl
import time
import urllib.parse

MAX_ERROR_BODY = 64 * 1024
# A kept-alive connection idle for longer is not reused (kinto-push closes idle connections
# after 30 s; proxies may do it sooner).
KEEPALIVE_IDLE = 2.0


class EventsEndpoint:
    def __init__(self, events_url, authorization, timeout=10.0, user_agent="kinto-push-kinto"):
        self.events_url = events_url
        parts = urllib.parse.urlsplit(events_url)
        self._scheme = parts.scheme
        self._host = parts.hostname
        self._port = parts.port
        self._path = parts.path or "/"
        self.authorization = authorization
        self.timeout = timeout
        self._user_agent = user_agent
        self._ssl_context = ssl.create_default_context() if self._scheme == "https" else None
        self.reset_after_fork()

    def reset_after_fork(self):
        """Leaves the kept-alive connection (the parent's) alone, without closing it."""
        self._conn = (None, 0.0)  # the kept-alive connection and when it was last used

    def close(self):
        """Closes the kept-alive connection."""
        conn, _ = self._conn
        self._conn = (None, 0.0)
        if conn is not None:
            try:
                conn.close()
            except OSError:
                pass

    def post(self, body, stop_event):
        conn, reused = self._connection()
        try:
            return self._exchange(conn, body, stop_event)
        except (ConnectionError, http.client.BadStatusLine):
            self.close()
            if not reused:
                raise
        except (OSError, http.client.HTTPException):
            self.close()
            raise
        # The kept-alive connection had been closed by the other side: once more on a new
        # one, at once (kinto-push stores an event once, whatever happened to the first try).
        conn, _ = self._connection()
        try:
            return self._exchange(conn, body, stop_event)
        except (OSError, http.client.HTTPException):
            self.close()
            raise

    def _connection(self):
        """The kept-alive connection when it was used less than KEEPALIVE_IDLE seconds ago
        (servers and proxies close idle ones), else a new one. Returns (conn, reused)."""
        conn, last = self._conn
        if conn is not None and time.monotonic() - last < KEEPALIVE_IDLE:
            return conn, True
        self.close()
        if self._scheme == "https":
            conn = http.client.HTTPSConnection(
                self._host, self._port, timeout=self.timeout, context=self._ssl_context
            )
        else:
            conn = http.client.HTTPConnection(self._host, self._port, timeout=self.timeout)
        return conn, False

    def _exchange(self, conn, body, stop_event):
        headers = {
            "Content-Type": "application/json",
            "Accept": "application/json",
            "User-Agent": self._user_agent,
            "Content-Length": str(len(body)),
        }
        headers.update(self.authorization.headers(body, stop_event))
        try:
            conn.request("POST", self._path, body=body, headers=headers)
        except (BrokenPipeError, ConnectionResetError):
            # The server may answer (413) and close before reading a large body: its
            # answer, when there is one, says more than the broken pipe.
            try:
                response = conn.getresponse()
            except (OSError, http.client.HTTPException):
                response = None
            if response is None:
                raise
        else:
            response = conn.getresponse()
        data = response.read(MAX_ERROR_BODY)
        if response.will_close or not response.isclosed():
            # Closed by the server, or an error body larger than we read: do not reuse.
            self._conn = (conn, 0.0)
            self.close()
        else:
            self._conn = (conn, time.monotonic())
        return response.status, _error_message(response, data), response.headers


def _error_message(response, data):
    if 200 <= response.status < 300:
        return ""
    try:
        parsed = json.loads(data.decode("utf-8"))
        if isinstance(parsed, dict) and parsed.get("message"):
            return str(parsed["message"])
    except (ValueError, UnicodeDecodeError):
        pass
    text = data.decode("utf-8", "replace").strip()
    return text[:200] if text else (response.reason or "")
