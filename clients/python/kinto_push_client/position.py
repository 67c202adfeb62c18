"""Where a client stands in one channel."""

from dataclasses import dataclass
from typing import Optional


@dataclass(frozen=True)
class Position:
    """The last event handled on a channel (or the channel's head when it was subscribed
    without one): ``offset`` in the history named ``epoch``, and the Kinto ``timestamp`` of the
    last event handled (``None`` before the first one)."""

    epoch: str
    offset: int
    timestamp: Optional[int] = None

    def to_json(self):
        return {"epoch": self.epoch, "offset": self.offset, "timestamp": self.timestamp}

    def since(self):
        """The ``since`` of a subscribe frame that resumes after this position."""
        return {"epoch": self.epoch, "offset": self.offset}
