"""A small stand-in for the parts of Kinto that the kinto_push plugin touches.

The plugin is tested inside real Kinto (test_kinto_delivery.py, test_outbox.py,
test_subscriber_auth.py, …): batches, deletes, tombstones, cascades, accounts, reads and
rolled-back writes are checked there. This stand-in, installed by conftest.py in the test
process (``install()``: kinto_stub_events.py becomes ``kinto.core.events``), is kept only for
the tests that need the plugin in the test's own process, where real Kinto (its own process,
reached over HTTP) cannot provoke or show what they check:
  - test_delivery.py: an event with payload fields no Kinto view writes (a third-party
    plugin's), the duration of the Kinto request while kinto-push does not answer (measured
    around the subscriber call, without HTTP noise), retries and drops read from
    ``plugin.stats()`` and from Kinto's metrics object, the warning at include time, and a
    process that exits at once after writing (``sys.exit``) with its queue still full;
  - test_settings.py: Kinto's reading of the settings, and ``includeme`` (what it
    subscribes, the API capability registered once);
  - test_sender.py: the event class handed to the listener.

What the plugin sees behaves as in Kinto (``Kinto/kinto``, ``kinto/core/events.py``,
``kinto/core/initialization.py``, ``kinto/core/utils.py``; see /work/shared/KINTO-NOTES.md
sections 1-2). The events are in kinto_stub_events.py, the settings in kinto_stub_utils.py;
here:

* the request cycle: ``ResourceChanged`` is notified before the commit (a subscriber that
  raises fails the request: no ``AfterResourceChanged``), then after the commit each
  ``AfterResourceChanged`` is notified, an exception being logged and swallowed per event;
  then the request's finished callbacks run (Pyramid's router does that after the tweens,
  pyramid_tm's commit included); timestamps strictly increase per (parent, resource) and the
  event's timestamp is the list timestamp after the write;
* ``config.add_subscriber(fn, EventClass, for_resources=…, for_actions=…)``,
  ``config.add_api_capability(identifier, description="", url="", **kw)`` (a second
  registration of the same identifier is a ValueError), ``config.registry`` with
  ``settings``, ``api_capabilities`` and, optionally, ``metrics`` (``count(key, count=1,
  unique=None)``).

Requests: ``Kinto.put(path, data)`` creates or replaces a bucket, a collection or a record
(its parents must exist). Not modelled: other methods, batches, reads, deletes, accounts,
groups, permissions, schemas, the HTTP layer (a "request" here is a method and a path),
storage backends (a dict), the ``default`` bucket.
"""

import logging
import sys
import time
import types
from collections import OrderedDict

import kinto_stub_events
from kinto_stub_events import (ACTIONS, AfterResourceChanged,  # noqa: F401 (for the tests)
                               get_resource_events, notify_resource_event)
from kinto_stub_utils import load_settings, strip_uri_prefix

logger = logging.getLogger("kinto_stub")


# ---- Pyramid's registry, configurator and request ---------------------------------------


class Registry:
    def __init__(self, settings):
        self.settings = settings
        self.api_capabilities = {}
        self._subscribers = []

    def notify(self, event):
        for cls, predicates, fn in list(self._subscribers):
            if not isinstance(event, cls):
                continue
            # EventResourceFilter and EventActionFilter (kinto/core/initialization.py).
            resources = predicates.get("for_resources")
            resource = event.payload.get("resource_name")
            if resources and resource and resource not in resources:
                continue
            actions = predicates.get("for_actions")
            action = event.payload.get("action")
            if actions is not None and action and action not in [
                a.value for a in ACTIONS.from_string_list(actions)
            ]:
                continue
            fn(event)


class Configurator:
    def __init__(self, settings=None, environ=None):
        self.registry = Registry(load_settings(settings or {}, environ))

    def get_settings(self):
        return self.registry.settings

    def add_subscriber(self, subscriber, iface=None, **predicates):
        self.registry._subscribers.append((iface or object, predicates, subscriber))

    def add_api_capability(self, identifier, description="", url="", **kw):
        existing = self.registry.api_capabilities.get(identifier)
        if existing:
            raise ValueError(
                f"The '{identifier}' API capability was already registered ({existing})."
            )
        self.registry.api_capabilities[identifier] = dict(description=description, url=url, **kw)

    def include(self, module):
        module.includeme(self)


class RecordingMetrics:
    """Kinto's metrics service interface (``count``), recording what it is told."""

    def __init__(self):
        self.counts = {}

    def count(self, key, count=1, unique=None):
        self.counts[key] = self.counts.get(key, 0) + count


class Request:
    def __init__(self, registry, method, path, user_id=None):
        self.registry = registry
        self.method = method
        self.path = "/v1" + path
        self.prefixed_userid = user_id
        self.matchdict = {}
        self.current_resource_name = None
        self.finished_callbacks = []
        self.bound_data = {}

    def add_finished_callback(self, callback):
        self.finished_callbacks.append(callback)

    def _process_finished_callbacks(self):
        while self.finished_callbacks:
            self.finished_callbacks.pop(0)(self)

    get_resource_events = get_resource_events
    notify_resource_event = notify_resource_event


# ---- routes and storage -----------------------------------------------------------------


class HTTPError(Exception):
    def __init__(self, status, message):
        super().__init__(f"{status} {message}")
        self.status = status


def route(path):
    """(resource_name, matchdict, parent_id, is_object) for a Kinto URL (without /v1)."""
    parts = path.strip("/").split("/")
    n = len(parts)
    if parts[0] != "buckets":
        raise HTTPError(404, f"unknown path {path}")
    if n in (1, 2):
        return "bucket", ({"id": parts[1]} if n == 2 else {}), "", n == 2
    bid = parts[1]
    if parts[2] == "collections" and n in (3, 4):
        md = {"bucket_id": bid, **({"id": parts[3]} if n == 4 else {})}
        return "collection", md, f"/buckets/{bid}", n == 4
    if parts[2] == "collections" and n in (5, 6) and parts[4] == "records":
        cid = parts[3]
        md = {"bucket_id": bid, "collection_id": cid, **({"id": parts[5]} if n == 6 else {})}
        return "record", md, f"/buckets/{bid}/collections/{cid}", n == 6
    raise HTTPError(404, f"unknown path {path}")


class Storage:
    def __init__(self):
        self.objects = {}  # (parent_id, resource_name) -> OrderedDict id -> object
        self.timestamps = {}

    def _bump(self, key):
        now = int(time.time() * 1000)
        ts = max(now, self.timestamps.get(key, 0) + 1)
        self.timestamps[key] = ts
        return ts

    def timestamp(self, key):
        return self.timestamps.get(key) or self._bump(key)

    def list(self, key):
        return self.objects.setdefault(key, OrderedDict())

    def get(self, key, oid):
        return self.list(key).get(oid)

    def put(self, key, obj):
        obj = dict(obj, last_modified=self._bump(key))
        self.list(key)[obj["id"]] = obj
        return obj


# ---- the request cycle --------------------------------------------------------------------


class Kinto:
    """Runs requests the way Kinto does, with the stub's configurator and storage."""

    def __init__(self, config):
        self.config = config
        self.registry = config.registry
        self.storage = Storage()

    # One PUT of one object; mirrors kinto.core.resource.Resource.
    def _handle(self, request, body):
        resource, matchdict, parent_id, is_object = route(strip_uri_prefix(request.path))
        if request.method != "PUT" or not is_object:
            raise HTTPError(405, f"{request.method} {request.path} is not modelled")
        request.current_resource_name = resource
        request.matchdict = dict(matchdict)
        self._parent_exists(parent_id)
        key = (parent_id, resource)
        old = self.storage.get(key, matchdict["id"])
        new = dict((body or {}).get("data", {}), id=matchdict["id"])
        new.pop("last_modified", None)
        obj = self.storage.put(key, new)
        action = ACTIONS.UPDATE if old is not None else ACTIONS.CREATE
        request.notify_resource_event(parent_id, self.storage.timestamp(key), obj, action,
                                      old=old)
        return obj

    def _parent_exists(self, parent_id):
        if not parent_id:
            return
        parts = parent_id.strip("/").split("/")
        if len(parts) >= 2 and self.storage.get(("", "bucket"), parts[1]) is None:
            raise HTTPError(403, f"bucket {parts[1]} does not exist")
        if len(parts) == 4 and self.storage.get((f"/buckets/{parts[1]}", "collection"),
                                                parts[3]) is None:
            raise HTTPError(403, f"collection {parts[3]} does not exist")

    def _transaction(self, request, run):
        try:
            result = run()
            # notify_resource_events_before tween: ResourceChanged, inside the transaction.
            for event in request.get_resource_events():
                self.registry.notify(event)
        except Exception:
            request._process_finished_callbacks()  # rolled back: no After* event
            raise
        # Commit succeeded: _notify_resource_events_after.
        for event in request.get_resource_events(after_commit=True):
            try:
                self.registry.notify(event)
            except Exception:
                logger.error("Unable to notify", exc_info=True)
        request._process_finished_callbacks()
        return result

    def put(self, path, data=None, user_id="account:alice"):
        """``PUT /v1<path>`` of a bucket, a collection or a record. Returns the object."""
        request = Request(self.registry, "PUT", path, user_id)
        return self._transaction(request, lambda: self._handle(request, {"data": data or {}}))


def install():
    """Makes kinto_stub_events importable as ``kinto.core.events`` (with empty ``kinto`` and
    ``kinto.core`` parents), so that the plugin imports it as it imports Kinto's."""
    kinto = types.ModuleType("kinto")
    core = types.ModuleType("kinto.core")
    kinto.core = core
    core.events = kinto_stub_events
    sys.modules["kinto"] = kinto
    sys.modules["kinto.core"] = core
    sys.modules["kinto.core.events"] = kinto_stub_events
