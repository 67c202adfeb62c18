"""One channel's subscription on the current connection, without the socket: what to send,
what a ``subscribed`` frame means, and whether an event is new, a duplicate or after a hole."""

from .position import Position

PENDING = "pending"            # not asked on this connection (yet, or again)
SUBSCRIBING = "subscribing"    # subscribe sent, no answer yet
SUBSCRIBED = "subscribed"
UNSUBSCRIBING = "unsubscribing"  # a hole was seen: unsubscribe sent, subscribe again after

DELIVER = "deliver"
DUPLICATE = "duplicate"
HOLE = "hole"
IGNORE = "ignore"


class ChannelTracker:
    def __init__(self, channel, position=None):
        self.channel = channel
        self.position = position       # the last event handled, or the head when subscribed live
        self.status = PENDING
        self.request_id = None
        self.since = None              # the since of the subscribe in flight
        self.epoch = None              # epoch of the current subscription
        self.last_subscribed = None    # the last subscribed frame

    def disconnected(self):
        self.status = PENDING
        self.request_id = None
        self.epoch = None

    def subscribe_frame(self, request_id):
        self.status = SUBSCRIBING
        self.request_id = request_id
        self.since = self.position.since() if self.position else None
        frame = {"type": "subscribe", "id": request_id, "channel": self.channel}
        if self.since is not None:
            frame["since"] = self.since
        return frame

    def unsubscribe_frame(self, request_id):
        self.status = UNSUBSCRIBING
        self.request_id = request_id
        return {"type": "unsubscribe", "id": request_id, "channel": self.channel}

    def subscribed(self, frame):
        """Applies a ``subscribed`` frame. Returns the timestamp to resync from Kinto with
        (the last one handled on this channel, 0 when none) when the server could not replay
        what was asked for (``recovered: false``), else None. ``position`` is updated: the
        caller saves it (after the resync callback, for a resync)."""
        self.status = SUBSCRIBED
        self.request_id = None
        self.epoch = frame["epoch"]
        self.last_subscribed = frame
        previous = self.position
        head = Position(frame["epoch"], int(frame["offset"]), previous.timestamp if previous else None)
        if self.since is None:
            # Live only: the position starts at the channel's head.
            self.position = head
            return None
        recovered = frame.get("recovered") is True and previous.epoch == frame["epoch"]
        if recovered:
            return None   # the replay brings offsets since.offset+1 .. frame.offset
        self.position = head
        return previous.timestamp if previous.timestamp is not None else 0

    def check(self, event):
        """What to do with an ``event`` frame of this channel: DELIVER it, drop a DUPLICATE,
        resubscribe after a HOLE, or IGNORE it (not subscribed now, no offset)."""
        offset = event.get("offset")
        if self.status != SUBSCRIBED or isinstance(offset, bool) or not isinstance(offset, int):
            return IGNORE
        if offset <= self.position.offset:
            return DUPLICATE
        if offset == self.position.offset + 1:
            return DELIVER
        return HOLE

    def handled(self, event):
        """The position after ``event`` was handled (recorded here; the caller saves it)."""
        ts = event.get("timestamp")
        if isinstance(ts, bool) or not isinstance(ts, int):
            ts = self.position.timestamp
        self.position = Position(self.epoch, event["offset"], ts)
        return self.position
