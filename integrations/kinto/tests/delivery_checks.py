"""What the crash tests assert about the events a WebSocket subscriber received, given the
writes the clients made (kinto_writers.Write) and the records Kinto holds in the end.

Records are named "collection/record id" (``key``). ``DeliveryReport(frames_by_channel,
writes, committed)`` checks, and ``assert_all()`` asserts:

* offsets of every channel contiguous from 1;
* every committed record announced exactly once (on its collection's channel), and nothing
  else: no event for a write that was rolled back or never reached the database;
* every acknowledged write committed, every failed (non-2xx) write absent (for a batch cut by
  a 409, what its answer says was kept: ``Write.kept_ids``);
* the order a client can observe: when write A's answer was received before write B was sent,
  A's event comes before B's on a channel both appear on.

``late_commits`` counts, per channel, the record events announced after an event with a
larger ``last_modified`` (writes that committed after a later-stamped one).
"""

import collections


def record_keys(frame):
    """The "collection/record" keys of a record event frame (a batch: several)."""
    collection = frame["payload"].get("collection_id")
    return [f"{collection}/{(c.get('new') or c.get('old'))['id']}"
            for c in frame.get("impacted_objects", [])]


def is_record(frame):
    return frame["payload"].get("resource_name") == "record"


class DeliveryReport:
    def __init__(self, frames_by_channel, writes, committed):
        self.frames = {c: list(f) for c, f in frames_by_channel.items()}
        self.writes = list(writes)
        self.committed = set(committed)
        self.position = {}  # channel -> key -> [frame indexes]
        for channel, frames in self.frames.items():
            where = collections.defaultdict(list)
            for i, frame in enumerate(frames):
                if is_record(frame):
                    for key in record_keys(frame):
                        where[key].append(i)
            self.position[channel] = where

    def received(self):
        """Every key announced (on any channel) and how many times, summed over channels."""
        counts = collections.Counter()
        for where in self.position.values():
            for key, indexes in where.items():
                counts[key] += len(indexes)
        return counts

    def outcomes(self):
        return collections.Counter(w.outcome for w in self.writes)

    def late_commits(self):
        out = {}
        for channel, frames in self.frames.items():
            highest, late = None, 0
            for frame in frames:
                if not is_record(frame):
                    continue
                for change in frame.get("impacted_objects", []):
                    stamp = (change.get("new") or change.get("old"))["last_modified"]
                    if highest is not None and stamp < highest:
                        late += 1
                    highest = stamp if highest is None else max(highest, stamp)
            out[channel] = late
        return out

    # ----- assertions --------------------------------------------------------------------

    def assert_all(self):
        self.assert_offsets_contiguous()
        self.assert_exactly_committed()
        self.assert_outcomes_match_kinto()
        self.assert_observable_order()

    def assert_offsets_contiguous(self):
        for channel, frames in self.frames.items():
            offsets = [f["offset"] for f in frames]
            assert offsets == list(range(1, len(offsets) + 1)), (channel, offsets[:50])

    def assert_exactly_committed(self):
        counts = self.received()
        duplicated = {k: n for k, n in counts.items() if n > 1}
        assert not duplicated, f"announced more than once: {sorted(duplicated.items())[:20]}"
        missing = self.committed - set(counts)
        assert not missing, f"{len(missing)} committed record(s) never announced: {sorted(missing)[:20]}"
        extra = set(counts) - self.committed
        assert not extra, f"{len(extra)} announced record(s) Kinto does not hold: {sorted(extra)[:20]}"

    def assert_outcomes_match_kinto(self):
        for w in self.writes:
            kept = w.kept_ids
            if kept is not None:
                assert set(kept) <= self.committed, (w, w.body)
                assert not (set(w.record_ids) - set(kept)) & self.committed, (w, w.body)

    def assert_observable_order(self):
        for channel, where in self.position.items():
            placed = []  # (frame index, write)
            for w in self.writes:
                indexes = {i for key in w.record_ids for i in where.get(key, ())}
                if indexes:
                    assert len(indexes) == 1, (channel, w, sorted(indexes))
                    placed.append((indexes.pop(), w))
            placed.sort(key=lambda p: p[0])
            # Scanning from the end: the earliest answer among the writes placed after B.
            earliest, by = None, None
            for index, b in reversed(placed):
                if earliest is not None and b.sent is not None and earliest < b.sent:
                    raise AssertionError(
                        f"on {channel}: {by} was acknowledged before {b} was sent, yet "
                        f"announced after it")
                if b.answered is not None and b.outcome == "acked" and (
                        earliest is None or b.answered < earliest):
                    earliest, by = b.answered, b
