"""Reconnection delays: exponential with jitter."""

import random


class Backoff:
    """Attempt ``n`` (0 for the first after a failure) waits a random time in
    ``[min_delay, min(max_delay, min_delay * 2**n)]`` seconds, so that many clients dropped at
    once do not come back at once. ``min_delay == max_delay`` gives a fixed delay."""

    def __init__(self, min_delay=0.25, max_delay=30.0, rng=None):
        if min_delay <= 0 or max_delay < min_delay:
            raise ValueError("backoff: need 0 < min_delay <= max_delay")
        self.min_delay = float(min_delay)
        self.max_delay = float(max_delay)
        self.failures = 0
        self._random = rng or random.Random()

    def ceiling(self):
        """The largest delay next() may return now."""
        bound = self.min_delay * (2 ** min(self.failures, 62))
        return min(self.max_delay, max(bound, self.min_delay))

    def next(self):
        """The delay before the next attempt; counts one more failure."""
        high = self.ceiling()
        self.failures += 1
        return self._random.uniform(self.min_delay, high)

    def reset(self):
        """After a successful connection: the next delay is short again."""
        self.failures = 0
