"""One write a test client made to Kinto, with what the client knows of it (kinto_writers.py).

``outcome``: ``acked`` (a 2xx was received: Kinto committed it), ``failed`` (another status:
Kinto rolled it back) or ``unknown`` (no answer: in flight when Kinto died). ``sent`` and
``answered`` are ``time.monotonic()`` before the request and after the answer; ``record_ids``
the "collection/record" keys the write creates.
"""


class Write:
    __slots__ = ("writer", "seq", "method", "path", "request", "record_ids", "sent", "answered",
                 "status", "body", "meant_to_fail")

    def __init__(self, writer, seq, method, path, record_ids, request=None):
        self.writer, self.seq, self.method, self.path = writer, seq, method, path
        self.request = request  # the body sent
        self.meant_to_fail = False
        self.record_ids = list(record_ids)
        self.sent = self.answered = None  # time.monotonic() before sending, after the answer
        self.status = None
        self.body = None

    @property
    def outcome(self):
        if self.status is None:
            return "unknown"
        return "acked" if 200 <= self.status < 300 else "failed"

    def __repr__(self):
        return f"Write({self.writer}#{self.seq} {self.method} {self.path} -> {self.status})"
