"""The ``AfterResourceChanged`` subscriber: filters, serialises and queues Kinto's events.

It runs in the Kinto request thread, after the transaction committed (Kinto logs and
swallows what an ``AfterResourceChanged`` subscriber raises; this one never raises anyway).
It does no I/O: the event is serialised to JSON now (a snapshot: later subscribers may
mutate the objects) and handed to the sender's queue.
"""

import datetime
import decimal
import itertools
import json
import logging
import threading
import uuid

from .settings import FORBIDDEN_RESOURCES

logger = logging.getLogger("kinto_push")

# Attribute set on the top-level Pyramid request to name its group of events.
GROUP_ATTRIBUTE = "_kinto_push_group"
MAX_PARENTS = 16


def _json_default(value):
    # Kinto's objects come from JSON; these cover what a plugin might still put in a payload.
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    if hasattr(value, "value") and isinstance(getattr(value, "value"), (str, int)):  # Enum
        return value.value
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def impacted_of(event):
    impacted = getattr(event, "impacted_objects", None)
    if impacted is None and "impacted_objects" not in getattr(event, "__dict__", {}):
        impacted = getattr(event, "impacted_records", None)  # Kinto < 12
    return list(impacted or [])


def serialise(payload, impacted):
    """The wire form of one Kinto event, UTF-8 JSON bytes: ``{"payload": …,
    "impacted_objects": […]}``, every field kept, in Kinto's key order."""
    return json.dumps(
        {"payload": payload, "impacted_objects": impacted},
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
        default=_json_default,
    ).encode("utf-8")


def _impacted_id(change):
    if not isinstance(change, dict):
        return None
    obj = change.get("new") or change.get("old")
    return obj.get("id") if isinstance(obj, dict) else None


def root_request(request):
    """The request Kinto's router handled: batch sub-requests name it as ``parent``."""
    for _ in range(MAX_PARENTS):
        parent = getattr(request, "parent", None)
        if parent is None:
            break
        request = parent
    return request


class Listener:
    def __init__(self, settings, sender):
        self.settings = settings
        self.sender = sender
        self._counter = itertools.count(1)

    def __call__(self, event):
        try:
            self.handle(event)
        except Exception:
            # Never fail (or slow) the Kinto request; the event is lost and counted.
            logger.exception("kinto-push: could not queue a Kinto event; it is dropped")
            self.sender.count_rejected(1)

    def accepts(self, payload, impacted):
        """Applies the resources, actions and buckets filters. Returns the impacted objects to
        send (a plural bucket event is narrowed to the configured buckets), or None."""
        resource = payload.get("resource_name")
        if resource in FORBIDDEN_RESOURCES or resource not in self.settings.resources:
            return None
        if payload.get("action") not in self.settings.actions:
            return None
        buckets = self.settings.buckets
        if buckets is None:
            return impacted
        bucket_id = payload.get("bucket_id")
        if bucket_id is None and resource == "bucket":
            # POST /buckets, DELETE /buckets: the ids are only in the impacted objects.
            kept = [c for c in impacted if _impacted_id(c) in buckets]
            return kept or None
        return impacted if bucket_id in buckets else None

    def serialised(self, event):
        """The event as sent (JSON bytes) when the filters accept it, else None. Raises when
        it cannot be serialised. Also used by the outbox writer: one home for the filters."""
        payload = getattr(event, "payload", None)
        if not isinstance(payload, dict):
            return None
        kept = self.accepts(payload, impacted_of(event))
        if kept is None:
            return None
        return serialise(payload, kept)

    def handle(self, event):
        text = self.serialised(event)
        if text is None:
            return
        key, closable = self.group_key(getattr(event, "request", None))
        self.sender.enqueue(key, text, closable)

    def group_key(self, request):
        """Events of one Kinto request share a key. Returns (key, closable): closable when the
        request will tell the sender that it is over (Pyramid finished callback)."""
        if request is None:
            return ("thread", threading.get_ident()), False
        root = root_request(request)
        key = getattr(root, GROUP_ATTRIBUTE, None)
        if key is not None:
            return key, getattr(root, GROUP_ATTRIBUTE + "_closable", False)
        key = ("request", next(self._counter))
        try:
            setattr(root, GROUP_ATTRIBUTE, key)
        except Exception:
            return ("object", id(root)), False
        closable = False
        add_finished_callback = getattr(root, "add_finished_callback", None)
        if callable(add_finished_callback):
            sender = self.sender
            try:
                add_finished_callback(lambda _request, key=key: sender.close_group(key))
                closable = True
            except Exception:
                closable = False
        try:
            setattr(root, GROUP_ATTRIBUTE + "_closable", closable)
        except Exception:
            pass
        return key, closable
