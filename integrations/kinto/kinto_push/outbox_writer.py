"""The ``ResourceChanged`` subscriber of the outbox: writes each event in the write's own
transaction.

Kinto notifies ``ResourceChanged`` before the commit, inside the request's transaction
(one per request, a batch included, with ``kinto.transaction_per_request = true``). This
subscriber filters and serialises the event exactly as the in-memory listener does
(``Listener.serialised``), then INSERTs it into the outbox through Kinto's own storage
session (``registry.storage.client.connect()``): the row commits with the write, or rolls
back with it, and the ``NOTIFY`` wakes the relay at commit (PostgreSQL delivers
notifications only then, and only once per transaction for identical ones).

Only what the database keeps is written: the objects a transaction abort undid earlier in the
request (a batch cut by a conflict, see abort_watch.py) are left out.

An event that cannot be serialised is logged and counted as ``rejected``; the write goes on.
A database error on the INSERT is raised: the transaction is unusable anyway, and Kinto
answers with an error rather than commit a write nobody will hear of.
"""

import logging

from .abort_watch import AbortWatch, NarrowedEvent
from .outbox_table import INSERT_EVENT, NOTIFY

logger = logging.getLogger("kinto_push")


class OutboxWriter:
    def __init__(self, listener, poster):
        self.listener = listener
        self.poster = poster  # where ``rejected`` is counted

    def __call__(self, event):
        impacted = list(getattr(event, "impacted_objects", None) or [])
        kept = AbortWatch.kept(event.request, impacted)
        if len(kept) < len(impacted):
            logger.info("kinto-push: %d change(s) undone by a conflict in a batch (Kinto aborted "
                        "their transaction) are not announced", len(impacted) - len(kept))
            if not kept:
                return
            event = NarrowedEvent(event.payload, kept, event.request)
        try:
            text = self.listener.serialised(event)
        except Exception:
            logger.exception("kinto-push: could not serialise a Kinto event; it is dropped")
            self.poster.count_rejected(1)
            return
        if text is None:
            return
        from kinto.core.utils import sqlalchemy as sa

        storage = event.request.registry.storage
        with storage.client.connect() as conn:
            conn.execute(sa.text(INSERT_EVENT), {"events": text.decode("utf-8")})
            conn.execute(sa.text(NOTIFY))
