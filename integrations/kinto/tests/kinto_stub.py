"""A small stand-in for the parts of Kinto that the kinto_push plugin touches.

The plugin is tested inside real Kinto (test_kinto_delivery.py, test_subscriber_auth.py).
This stand-in, installed by conftest.py as ``kinto.core.events`` in the test process, is kept
only for the tests that need the plugin in the test's own process, where real Kinto (its own
process, reached over HTTP) cannot provoke or show what they check:
  - test_sender.py: the sender's grouping by request and the timing of Pyramid's
    request-finished callbacks, events without a request (grouped by burst), fork
    (a forked worker's empty queue), retries and Retry-After counted in ``stats()``;
  - test_delivery.py: an event with payload fields no Kinto view writes (a third-party
    plugin's), the duration of the Kinto request while kinto-push does not answer (measured
    around the subscriber call, without HTTP noise), retries and drops read from
    ``plugin.stats()`` and from Kinto's metrics object, the warning at include time, and a
    process that exits at once after writing (``sys.exit``) with its queue still full.

Everything the plugin sees behaves as in Kinto (``Kinto/kinto``, ``kinto/core/events.py``, ``kinto/core/initialization.py``,
``kinto/core/utils.py``; see /work/shared/KINTO-NOTES.md sections 1-2):

* the event classes: ``payload``, ``impacted_objects`` (``impacted_records`` deprecated),
  ``request``; ``AfterResourceChanged`` is not a subclass of ``ResourceChanged``;
* ``EventCollector``: events of one transaction merged by (cascade level, resource name,
  parent id, action); a merged event keeps the first payload and the first request (for a
  batch, the first *sub*-request) and extends ``impacted_objects``; events come out in the
  order their key was first seen;
* the payload (``notify_resource_event``): timestamp, action, uri without ``/v1`` (the
  request path: the plural URL for POST and plural DELETE), user_id (None when anonymous),
  resource_name, then the matchdict with ``id`` renamed ``<resource>_id``;
* impacted objects: create ``{"new"}``, update ``{"new", "old"}``, delete ``{"new":
  tombstone, "old"}``, plural delete one pair per object; tombstones are ``{"id",
  "last_modified", "deleted": True}``; timestamps strictly increase per (parent, resource)
  and the event's timestamp is the list timestamp after the write;
* the request cycle: ``ResourceChanged`` is notified before the commit (a subscriber that
  raises fails the request: nothing is committed, no ``After*`` event), then after the
  commit each ``AfterResourceChanged``/``AfterResourceRead`` is notified, an exception being
  logged and swallowed per event; then the request's finished callbacks run (Pyramid's
  router does that after the tweens, pyramid_tm's commit included);
* batch: one transaction, sub-requests carry ``parent`` (the batch request), a failing
  sub-request emits nothing and does not roll back the others;
* cascade: deleting a bucket or a collection removes its children with no event;
* settings: Kinto strips the ``kinto.`` prefix (both keys stay), coerces values with
  ``json.loads`` where it can (``native_value``) and overrides them from ``KINTO_<NAME>``;
* ``config.add_subscriber(fn, EventClass, for_resources=…, for_actions=…)``,
  ``config.add_api_capability(identifier, description="", url="", **kw)`` (a second
  registration of the same identifier is a ValueError), ``config.registry`` with
  ``settings``, ``api_capabilities`` and, optionally, ``metrics`` (``count(key, count=1,
  unique=None)``).

Not modelled: permissions, schemas, pagination, the HTTP layer (a "request" here is a method
and a path), storage backends (a dict), the ``default`` bucket.
"""

import json
import logging
import os
import sys
import time
import types
import uuid
import warnings
from collections import OrderedDict
from enum import Enum

logger = logging.getLogger("kinto_stub")


# ---- kinto/core/events.py -------------------------------------------------------------


class ACTIONS(Enum):
    CREATE = "create"
    DELETE = "delete"
    READ = "read"
    UPDATE = "update"

    @staticmethod
    def from_string_list(elements):
        return tuple(ACTIONS(el) for el in elements)


class _ResourceEvent:
    def __init__(self, payload, request):
        self.payload = payload
        self.request = request

    def __repr__(self):
        return f"<{type(self).__name__} action={self.payload['action']} uri={self.payload['uri']}>"

    @property
    def impacted_records(self):
        warnings.warn("`impacted_records` is deprecated, use `impacted_objects` instead.",
                      DeprecationWarning)
        return self.impacted_objects


class ResourceRead(_ResourceEvent):
    def __init__(self, payload, read_objects, request):
        super().__init__(payload, request)
        self.read_objects = read_objects


class ResourceChanged(_ResourceEvent):
    def __init__(self, payload, impacted_objects, request):
        super().__init__(payload, request)
        self.impacted_objects = impacted_objects


class AfterResourceRead(_ResourceEvent):
    def __init__(self, payload, read_objects, request):
        super().__init__(payload, request)
        self.read_objects = read_objects


class AfterResourceChanged(_ResourceEvent):
    def __init__(self, payload, impacted_objects, request):
        super().__init__(payload, request)
        self.impacted_objects = impacted_objects


class EventCollector:
    """Kinto's merge of a transaction's events (same key: impacted objects appended, first
    payload and first request kept)."""

    def __init__(self, cascade_level=1):
        self.cascade_level = cascade_level
        self.event_dict = OrderedDict()

    def add_event(self, resource_name, parent_id, action, payload, impacted, request):
        key = (self.cascade_level, resource_name, parent_id, action)
        if key not in self.event_dict:
            self.event_dict[key] = (payload, impacted, request)
        else:
            old_payload, old_impacted, old_request = self.event_dict[key]
            self.event_dict[key] = (old_payload, old_impacted + impacted, old_request)

    def drain(self):
        self.cascade_level += 1
        while self.event_dict:
            key = next(iter(self.event_dict))
            yield key + self.event_dict.pop(key)


def get_resource_events(request, after_commit=False):
    by_resource = request.bound_data.get("resource_events", EventCollector())
    afterwards = EventCollector()
    for _, resource_name, parent_id, action, payload, impacted, req in by_resource.drain():
        afterwards.add_event(resource_name, parent_id, action, payload, impacted, req)
        if action == ACTIONS.READ:
            cls = AfterResourceRead if after_commit else ResourceRead
        else:
            cls = AfterResourceChanged if after_commit else ResourceChanged
        yield cls(payload, impacted, req)
    request.bound_data["resource_events"] = afterwards


def notify_resource_event(request, parent_id, timestamp, data, action, old=None,
                          resource_name=None, resource_data=None):
    if action == ACTIONS.READ:
        impacted = data if isinstance(data, list) else [data]
    elif action == ACTIONS.CREATE:
        impacted = [{"new": data}]
    elif action == ACTIONS.DELETE:
        if not isinstance(data, list):
            impacted = [{"new": data, "old": old}]
        else:
            impacted = [{"new": new, "old": old[i]} for i, new in enumerate(data)]
    else:
        impacted = [{"new": data, "old": old}]

    events = request.bound_data.setdefault("resource_events", EventCollector())
    resource_name = resource_name or request.current_resource_name
    matchdict = resource_data or dict(request.matchdict)
    payload = {
        "timestamp": timestamp,
        "action": action.value,
        "uri": strip_uri_prefix(request.path),
        "user_id": request.prefixed_userid,
        "resource_name": resource_name,
    }
    if "id" in request.matchdict:
        matchdict[resource_name + "_id"] = matchdict.pop("id")
    payload.update(**matchdict)
    events.add_event(resource_name, parent_id, action, payload, impacted, request)


# ---- kinto/core/utils.py ----------------------------------------------------------------


def strip_uri_prefix(path):
    return path[len("/v1"):] if path.startswith("/v1/") else path


def native_value(value):
    if isinstance(value, str):
        try:
            parsed = json.loads(value)
            if parsed != float("inf"):
                value = parsed
        except ValueError:
            return value
    return value


def read_env(key, value, environ=None):
    environ = os.environ if environ is None else environ
    envkey = key.replace(".", "_").replace("-", "_").upper()
    if envkey in environ:
        return native_value(environ[envkey])
    return value


def load_settings(ini, environ=None, project_name="kinto"):
    """What ``load_default_settings`` does to the ini file's settings."""
    settings = dict(ini)
    for key, value in sorted(settings.items()):
        value = native_value(value)
        unprefixed = key.split(".", 1)[1] if key.startswith(project_name + ".") else key
        value = read_env(unprefixed, value, environ)
        value = read_env(f"{project_name}.{unprefixed}", value, environ)
        settings[unprefixed] = value
    return settings


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
    def __init__(self, registry, method, path, user_id=None, parent=None):
        self.registry = registry
        self.method = method
        self.path = "/v1" + path
        self.prefixed_userid = user_id
        self.matchdict = {}
        self.current_resource_name = None
        self.finished_callbacks = []
        if parent is not None:
            self.parent = parent  # like kinto.core.utils.build_request
        self._bound_data = {}

    @property
    def bound_data(self):
        parent = getattr(self, "parent", None)
        return parent.bound_data if parent is not None else self._bound_data

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
    if parts[0] == "accounts" and n in (1, 2):
        return "account", ({"id": parts[1]} if n == 2 else {}), None, n == 2
    if parts[0] != "buckets":
        raise HTTPError(404, f"unknown path {path}")
    if n in (1, 2):
        return "bucket", ({"id": parts[1]} if n == 2 else {}), "", n == 2
    bid = parts[1]
    if parts[2] in ("collections", "groups") and n in (3, 4):
        name = parts[2][:-1]
        md = {"bucket_id": bid, **({"id": parts[3]} if n == 4 else {})}
        return name, md, f"/buckets/{bid}", n == 4
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

    def delete(self, key, oid):
        self.list(key).pop(oid)
        return {"id": oid, "last_modified": self._bump(key), "deleted": True}

    def delete_children(self, uri):
        for key in list(self.objects):
            if key[0] == uri or key[0].startswith(uri + "/"):
                del self.objects[key]

    def snapshot(self):
        return ({k: OrderedDict((i, dict(o)) for i, o in v.items())
                 for k, v in self.objects.items()}, dict(self.timestamps))

    def restore(self, snap):
        self.objects, self.timestamps = snap


# ---- the request cycle --------------------------------------------------------------------


class Kinto:
    """Runs requests the way Kinto does, with the stub's configurator and storage."""

    def __init__(self, config):
        self.config = config
        self.registry = config.registry
        self.storage = Storage()

    # One write (or read) on one resource; mirrors kinto.core.resource.Resource.
    def _handle(self, request, body):
        resource, matchdict, parent_id, is_object = route(strip_uri_prefix(request.path))
        request.current_resource_name = resource
        request.matchdict = dict(matchdict)
        if resource == "account":
            parent_id = matchdict.get("id") or request.prefixed_userid or "anonymous"
        else:
            self._parent_exists(parent_id)
        key = (parent_id, resource)
        data = dict((body or {}).get("data", {}))
        if resource == "account" and "password" in data:
            data["password"] = "$argon2id$v=19$m=65536,t=3,p=4$stub-hash-of-the-password"
        method = request.method
        s = self.storage

        if is_object:
            oid = matchdict["id"]
            old = s.get(key, oid)
            if method == "GET":
                if old is None:
                    raise HTTPError(404, "not found")
                request.notify_resource_event(parent_id, s.timestamp(key), old, ACTIONS.READ)
                return old
            if method == "DELETE":
                if old is None:
                    raise HTTPError(404, "not found")
                tombstone = s.delete(key, oid)
                self._cascade(resource, parent_id, oid)
                request.notify_resource_event(parent_id, s.timestamp(key), tombstone,
                                              ACTIONS.DELETE, old=old)
                return tombstone
            if method == "PATCH" and old is None:
                raise HTTPError(404, "not found")
            new = dict(old or {}, **data) if method == "PATCH" else dict(data)
            new["id"] = oid
            new.pop("last_modified", None)
            obj = s.put(key, new)
            action = ACTIONS.UPDATE if old is not None else ACTIONS.CREATE
            request.notify_resource_event(parent_id, s.timestamp(key), obj, action, old=old)
            return obj

        if method == "GET":
            objs = list(s.list(key).values())
            request.notify_resource_event(parent_id, s.timestamp(key), objs, ACTIONS.READ)
            return objs
        if method == "POST":
            oid = data.get("id") or str(uuid.uuid4())
            existing = s.get(key, oid)
            if existing is not None:  # Kinto answers 200 with the object: a read
                request.notify_resource_event(parent_id, s.timestamp(key), existing, ACTIONS.READ)
                return existing
            obj = s.put(key, dict(data, id=oid))
            request.notify_resource_event(parent_id, s.timestamp(key), obj, ACTIONS.CREATE)
            return obj
        if method == "DELETE":
            olds = list(s.list(key).values())
            if not olds:  # nothing matched: Kinto emits a read event
                request.notify_resource_event(parent_id, s.timestamp(key), [], ACTIONS.READ)
                return []
            tombstones = []
            for old in olds:
                tombstones.append(s.delete(key, old["id"]))
                self._cascade(resource, parent_id, old["id"])
            request.notify_resource_event(parent_id, s.timestamp(key), tombstones,
                                          ACTIONS.DELETE, old=olds)
            return tombstones
        raise HTTPError(405, f"{method} not allowed on {request.path}")

    def _parent_exists(self, parent_id):
        if not parent_id:
            return
        parts = parent_id.strip("/").split("/")
        if len(parts) >= 2 and self.storage.get(("", "bucket"), parts[1]) is None:
            raise HTTPError(403, f"bucket {parts[1]} does not exist")
        if len(parts) == 4 and self.storage.get((f"/buckets/{parts[1]}", "collection"),
                                                parts[3]) is None:
            raise HTTPError(403, f"collection {parts[3]} does not exist")

    def _cascade(self, resource, parent_id, oid):
        # on_buckets_deleted / on_collections_deleted: children vanish, without events.
        if resource in ("bucket", "collection"):
            self.storage.delete_children(f"{parent_id}/{resource}s/{oid}")

    def _transaction(self, request, run, fail_commit=False):
        snap = self.storage.snapshot()
        try:
            result = run()
            # notify_resource_events_before tween: ResourceChanged, inside the transaction.
            for event in request.get_resource_events():
                self.registry.notify(event)
            if fail_commit:
                raise HTTPError(503, "commit failed")
        except Exception:
            self.storage.restore(snap)  # rollback: no After* event
            request._process_finished_callbacks()
            raise
        # Commit succeeded: _notify_resource_events_after.
        for event in request.get_resource_events(after_commit=True):
            try:
                self.registry.notify(event)
            except Exception:
                logger.error("Unable to notify", exc_info=True)
        request._process_finished_callbacks()
        return result

    def request(self, method, path, body=None, user_id="account:alice", fail_commit=False):
        """One HTTP request (``path`` without /v1). Returns the object(s) Kinto answers."""
        request = Request(self.registry, method, path, user_id)
        return self._transaction(request, lambda: self._handle(request, body), fail_commit)

    def batch(self, requests, user_id="account:alice"):
        """``POST /v1/batch``: ``requests`` is a list of (method, path[, body]). Returns the
        list of answers, an HTTPError instance for a failed sub-request."""
        batch = Request(self.registry, "POST", "/batch", user_id)

        def run():
            answers = []
            for spec in requests:
                method, path, body = (tuple(spec) + (None,))[:3]
                sub = Request(self.registry, method, path, user_id, parent=batch)
                try:
                    answers.append(self._handle(sub, body))
                except HTTPError as e:
                    answers.append(e)
            return answers

        return self._transaction(batch, run)

    # Shorthands.
    def put(self, path, data=None, **kw):
        return self.request("PUT", path, {"data": data or {}}, **kw)

    def patch(self, path, data, **kw):
        return self.request("PATCH", path, {"data": data}, **kw)

    def post(self, path, data=None, **kw):
        return self.request("POST", path, {"data": data or {}}, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)


def install():
    """Makes this module importable as ``kinto.core.events`` (with empty ``kinto`` and
    ``kinto.core`` parents), so that the plugin imports it as it imports Kinto's."""
    module = sys.modules[__name__]
    kinto = types.ModuleType("kinto")
    core = types.ModuleType("kinto.core")
    kinto.core = core
    core.events = module
    sys.modules["kinto"] = kinto
    sys.modules["kinto.core"] = core
    sys.modules["kinto.core.events"] = module
