"""One write a test client made to Kinto, with what the client knows of it (kinto_writers.py).

``outcome``: ``acked`` (a 2xx was received: Kinto committed it), ``failed`` (another status:
Kinto rolled it back) or ``unknown`` (no answer: in flight when Kinto died). ``sent`` and
``answered`` are ``time.monotonic()`` before the request and after the answer; ``record_ids``
the "collection/record" keys the write creates.

``kept_ids``: the keys Kinto kept, as far as its answer tells. A batch whose sub-request gets
a 409 is answered 200, but Kinto aborted its transaction there: the sub-requests before the
last 409 were undone (though answered 2xx), those after it were committed.
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

    @property
    def kept_ids(self):
        """None when no answer came; else the keys committed according to the answer."""
        if self.outcome == "unknown":
            return None
        if self.outcome == "failed":
            return []
        responses = (self.body or {}).get("responses") if isinstance(self.body, dict) else None
        if responses is None:
            return list(self.record_ids)
        statuses = [r.get("status") for r in responses]
        last_conflict = max((i for i, s in enumerate(statuses) if s == 409), default=-1)
        return [k for i, (k, s) in enumerate(zip(self.record_ids, statuses))
                if i > last_conflict and 200 <= s < 300]

    def __repr__(self):
        return f"Write({self.writer}#{self.seq} {self.method} {self.path} -> {self.status})"
