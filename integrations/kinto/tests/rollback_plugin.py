"""A Kinto plugin for the tests, included after ``kinto_push``: a ``ResourceChanged``
subscriber (Kinto runs those before the commit, inside the request's transaction, after the
plugin's own, so after the outbox writer wrote its row).

* It raises for objects whose id starts with ``rollback``: Kinto answers 500 and aborts the
  transaction, so the write (and its outbox row) is rolled back and no
  ``AfterResourceChanged`` follows.
* With ``rollback_plugin.max_delay_ms = N`` it first sleeps a random 0 to N ms: the outbox
  row's id and the record's ``last_modified`` are already taken, so the wait widens the window
  in which a concurrent write takes larger ones and commits first (late commits).

    kinto.includes = kinto.plugins.accounts kinto_push rollback_plugin
"""

import random
import time

PREFIX = "rollback"


class RefusedWrite(Exception):
    pass


class RollbackSubscriber:
    def __init__(self, max_delay_ms=0.0):
        self.max_delay = max_delay_ms / 1000.0

    def __call__(self, event):
        if self.max_delay > 0:
            time.sleep(random.uniform(0, self.max_delay))
        for change in event.impacted_objects:
            obj = change.get("new") or change.get("old") or {}
            if str(obj.get("id", "")).startswith(PREFIX):
                raise RefusedWrite(f"rollback_plugin refuses {obj['id']}")


def includeme(config):
    from kinto.core.events import ResourceChanged

    delay = float(config.get_settings().get("rollback_plugin.max_delay_ms", "0"))
    config.add_subscriber(RollbackSubscriber(delay), ResourceChanged)
