"""The stand-in's ``kinto/core/events.py`` (see kinto_stub.py): installed as the module
``kinto.core.events`` in the test process, where the plugin imports its event classes.

* the event classes: ``payload``, ``impacted_objects`` (``impacted_records`` deprecated),
  ``request``; ``AfterResourceChanged`` is not a subclass of ``ResourceChanged``;
* ``EventCollector``: events of one transaction merged by (cascade level, resource name,
  parent id, action); a merged event keeps the first payload and the first request and
  extends ``impacted_objects``; events come out in the order their key was first seen;
* the payload (``notify_resource_event``): timestamp, action, uri without ``/v1``, user_id
  (None when anonymous), resource_name, then the matchdict with ``id`` renamed
  ``<resource>_id``; impacted objects: create ``{"new"}``, update ``{"new", "old"}``.
"""

import warnings
from collections import OrderedDict
from enum import Enum

from kinto_stub_utils import strip_uri_prefix


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


class ResourceChanged(_ResourceEvent):
    def __init__(self, payload, impacted_objects, request):
        super().__init__(payload, request)
        self.impacted_objects = impacted_objects


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
        cls = AfterResourceChanged if after_commit else ResourceChanged
        yield cls(payload, impacted, req)
    request.bound_data["resource_events"] = afterwards


def notify_resource_event(request, parent_id, timestamp, data, action, old=None,
                          resource_name=None, resource_data=None):
    if action == ACTIONS.CREATE:
        impacted = [{"new": data}]
    else:  # UPDATE (deletes and reads are not modelled)
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
