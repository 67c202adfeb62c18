"""The writes of a request that a transaction abort undid, so that they are never announced.

Kinto's batch view aborts the request's transaction when a sub-request gets a 409 (an
integrity error in the database: ``request.tm.abort()`` in ``kinto.core.views.batch``), and
then goes on with the next sub-requests, in a new transaction that pyramid_tm commits:

* the writes before the conflict are undone, though their sub-responses said 201 or 200;
* the writes after it are kept;
* Kinto notifies ``ResourceChanged`` (after the view, before the commit) for all of them,
  the undone ones included, and ``AfterResourceChanged`` for none (its after-commit hook was
  on the aborted transaction).

``AbortWatch`` follows the request's transactions (subscribed to ``NewRequest``, which Pyramid
sends for the request and for each sub-request, inside pyramid_tm's transaction):

* on the abort of a transaction, the impacted objects Kinto had gathered so far are marked
  undone (``kept()`` leaves them out: the outbox writer announces only what the database
  keeps);
* in memory mode (``on_committed`` given), a transaction begun after an abort gets an
  after-commit hook that hands the kept events to ``on_committed`` as Kinto would have done.

Objects are compared by identity: Kinto passes the same dicts from the write to the event.
"""

import logging

logger = logging.getLogger("kinto_push")

UNDONE = "kinto_push.undone"  # keys in the request's bound_data, shared with sub-requests
WATCHED = "kinto_push.watched_transaction"


class NarrowedEvent:
    """A Kinto resource event narrowed to the objects kept (the attributes the listener
    reads): what ``on_committed`` receives, and what the outbox writer serialises."""

    def __init__(self, payload, impacted_objects, request):
        self.payload = payload
        self.impacted_objects = impacted_objects
        self.request = request


def root_of(request):
    while getattr(request, "parent", None) is not None:
        request = request.parent
    return request


class AbortWatch:
    def __init__(self, on_committed=None):
        self.on_committed = on_committed

    def on_new_request(self, event):
        root = root_of(event.request)
        try:
            txn = root.tm.get()
        except Exception:  # no transaction manager, or none begun (explicit mode)
            return
        bound = root.bound_data
        watched = bound.get(WATCHED)
        if watched is txn:
            return
        bound[WATCHED] = txn
        txn.addAfterAbortHook(self._aborted, args=(bound,))
        if watched is not None and self.on_committed is not None:
            txn.addAfterCommitHook(self._committed_after_abort, args=(root,))

    @staticmethod
    def _aborted(bound):
        collector = bound.get("resource_events")
        if collector is None:
            return
        undone = bound.setdefault(UNDONE, [])
        for _payload, impacted, _request in collector.event_dict.values():
            undone.extend(impacted)

    @staticmethod
    def kept(request, impacted):
        """The impacted objects of ``impacted`` that no abort undid, in their order."""
        undone = root_of(request).bound_data.get(UNDONE)
        if not undone:
            return list(impacted)
        ids = {id(o) for o in undone}  # ``undone`` holds them: their ids stay theirs
        return [o for o in impacted if id(o) not in ids]

    def _committed_after_abort(self, success, root):
        if not success:
            return
        try:
            for event in root.get_resource_events(after_commit=True):
                if getattr(event, "payload", {}).get("action") == "read":
                    continue
                kept = self.kept(root, event.impacted_objects)
                if kept:
                    self.on_committed(NarrowedEvent(event.payload, kept, root))
        except Exception:
            logger.exception("kinto-push: could not queue the events of a batch committed "
                             "after a conflict; they are dropped")
