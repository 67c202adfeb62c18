"""A Kinto plugin for the tests: a ``ResourceChanged`` subscriber (Kinto runs those before the
commit, inside the request's transaction) that raises for objects whose id starts with
``rollback``. Kinto then answers 500 and aborts the transaction: the write is rolled back
and no ``AfterResourceChanged`` follows. Included by the tests with
``includes=["rollback_plugin"]``."""

from kinto.core.events import ResourceChanged

PREFIX = "rollback"


class RefusedWrite(Exception):
    pass


def refuse(event):
    for change in event.impacted_objects:
        obj = change.get("new") or change.get("old") or {}
        if str(obj.get("id", "")).startswith(PREFIX):
            raise RefusedWrite(f"rollback_plugin refuses {obj['id']}")


def includeme(config):
    config.add_subscriber(refuse, ResourceChanged)
