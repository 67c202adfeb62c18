"""A Kinto plugin for test_outbox.py: a ``ResourceChanged`` subscriber that raises for a
record carrying the field ``fail_in_subscriber``.

Included after kinto_push (``kinto.includes = kinto_push outbox_failing_subscriber``), so it
runs after the outbox writer wrote its row, in the same transaction: its exception must roll
back both the write and that row.
"""

from kinto.core.events import ResourceChanged


class SubscriberFailure(Exception):
    pass


def refuse_marked_records(event):
    for change in event.impacted_objects:
        if "fail_in_subscriber" in (change.get("new") or {}):
            raise SubscriberFailure("a later ResourceChanged subscriber failed (test)")


def includeme(config):
    config.add_subscriber(refuse_marked_records, ResourceChanged)
