"""A test plugin for real Kinto, included after ``kinto_push``: a ``ResourceChanged``
subscriber that runs after the outbox writer, in the write's transaction.

* It sleeps a random 0 to ``kinto_crash.max_delay_ms`` milliseconds (default 0): the outbox
  row's id and the record's ``last_modified`` are already taken, so the wait widens the window
  in which a concurrent write takes larger ones and commits first (late commits).
* It raises when a created or updated record carries ``"explode": true``: the request fails
  after the outbox row was written, and Kinto rolls the transaction back.

    kinto.includes = kinto.plugins.accounts kinto_push after_push_subscriber
"""

import random
import time


class AfterPushSubscriber:
    def __init__(self, max_delay_ms):
        self.max_delay = max_delay_ms / 1000.0

    def __call__(self, event):
        if self.max_delay > 0:
            time.sleep(random.uniform(0, self.max_delay))
        for change in event.impacted_objects:
            if (change.get("new") or {}).get("explode") is True:
                raise RuntimeError("after_push_subscriber: a record asked to explode")


def includeme(config):
    from kinto.core.events import ResourceChanged

    delay = float(config.get_settings().get("kinto_crash.max_delay_ms", "0"))
    config.add_subscriber(AfterPushSubscriber(delay), ResourceChanged)
