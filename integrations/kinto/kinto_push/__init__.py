"""kinto_push: a Kinto plugin that posts Kinto's committed changes to kinto-push.

Enable it with ``kinto.includes = kinto_push`` and ``kinto.push.url = http://…``; see
README.md for the settings and the delivery guarantees.
"""

import atexit
import logging
import time
import weakref

from .abort_watch import AbortWatch
from .listener import Listener
from .outbox_table import TABLE, describe_dsn, ensure_table, libpq_dsn, make_migration
from .outbox_writer import OutboxWriter
from .poster import Poster
from .relay import Relay
from .sender import Sender
from .settings import ConfigurationError, Settings

__version__ = "1.0.0"
__all__ = ["ConfigurationError", "KintoPush", "Settings", "includeme", "__version__"]

logger = logging.getLogger("kinto_push")

CAPABILITY = "kinto-push"
CAPABILITY_DESCRIPTION = (
    "Real-time notifications of this server's changes over WebSocket, served by kinto-push."
)


class KintoPush:
    """The plugin: settings, the subscriber Kinto calls, and what delivers its events.

    Two modes (``settings.outbox``):

    * outbox (PostgreSQL storage): ``writer`` (an OutboxWriter, subscribed to
      ``ResourceChanged``) writes each event in the write's transaction, and ``relay`` (a
      Relay) posts the table to kinto-push; ``sender`` is None;
    * in memory: ``listener`` (subscribed to ``AfterResourceChanged``) queues each event in
      ``sender`` (a Sender), whose thread posts it; ``relay`` and ``writer`` are None.

    ``config.registry.kinto_push`` is this object: ``stats()`` gives the counters,
    ``flush(timeout)`` waits until what is waiting was sent, ``close(timeout)`` stops.
    """

    def __init__(self, settings, registry=None):
        self.settings = settings

        def metrics():
            # Looked up at each use: Kinto may set up its metrics after including plugins,
            # and a Kinto without metrics has none (then nothing is counted there).
            return getattr(registry, "metrics", None)

        delivery = dict(
            secret=settings.secret,
            auth=settings.auth,
            timeout=settings.timeout,
            max_backoff=settings.max_backoff,
            metrics=metrics if registry is not None else None,
            user_agent=f"kinto-push-kinto/{__version__}",
        )
        self.sender = self.relay = self.writer = None
        self.poster = Poster(settings.events_url, **delivery)
        if settings.outbox:
            try:
                connect_args = libpq_dsn(settings.storage_url)
            except ValueError as e:
                raise ConfigurationError(f"kinto-push outbox: {e}") from None
            self.relay = Relay(
                connect_args,
                self.poster,
                interval=settings.relay_interval,
                max_backoff=settings.max_backoff,
            )
            self.poster.waiting = self.relay.waiting
            self.listener = Listener(settings, None)
            self.writer = OutboxWriter(self.listener, self.poster)
        else:
            self.sender = Sender(self.poster, max_queue=settings.max_queue)
            self.listener = Listener(settings, self.sender)
        # Follows aborts within a request (a batch cut by a conflict): the outbox writer
        # leaves out what they undid; in memory, what commits after one is queued here, as
        # Kinto notifies AfterResourceChanged for none of it.
        self.abort_watch = AbortWatch(on_committed=None if settings.outbox else self.listener)
        self._closed = False

    @property
    def subscriber(self):
        """What Kinto notifies: the outbox writer, or the in-memory listener."""
        return self.writer if self.writer is not None else self.listener

    def __call__(self, event):
        self.subscriber(event)

    def stats(self):
        if self.sender is not None:
            return self.sender.stats()
        counts = self.poster.counts()
        stats = {"queued": 0, "sent": counts["sent"], "posts": counts["posts"],
                 "retries": counts["retries"], "dropped": 0, "rejected": counts["rejected"],
                 "lost": 0}
        stats.update(self.relay.stats())
        return stats

    def flush(self, timeout=None):
        """In memory: sends what is queued and waits. Outbox: waits until the relay finds the
        table empty (only the active relay empties it). True when nothing is left."""
        if self.sender is not None:
            return self.sender.flush(timeout)
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.relay.stats()["outbox_depth"] != 0:
            if deadline is not None and time.monotonic() >= deadline:
                return False
            time.sleep(0.05)
        return True

    def start(self):
        """Outbox: starts the relay thread (Kinto calls it once the app is created)."""
        if self.relay is not None and not self._closed:
            self.relay.start()

    def close(self, timeout=None):
        if self._closed:
            return 0
        self._closed = True
        timeout = self.settings.shutdown_timeout if timeout is None else timeout
        if self.relay is not None:
            # Nothing to flush: what is not sent yet stays in the table.
            self.relay.stop(min(timeout, 2.0))
            return 0
        return self.sender.close(timeout)

    def capability(self):
        return capability_of(self.settings)


def capability_of(settings):
    """The ``kinto-push`` entry of Kinto's ``GET /v1/`` capabilities: where clients connect."""
    public = settings.public_url
    ws = ("wss" if public.startswith("https:") else "ws") + public[public.index(":"):]
    return {
        "description": CAPABILITY_DESCRIPTION,
        "url": public,
        "version": __version__,
        "websocket": ws + "/v1/ws",
    }


def _close_at_exit(plugin_ref):
    plugin = plugin_ref()
    if plugin is not None:
        plugin.close()


def includeme(config):
    # Imported here so that importing kinto_push (for Settings, tests, tools) needs no Kinto.
    from kinto.core.events import AfterResourceChanged
    from pyramid.events import NewRequest

    settings = Settings(config.get_settings())
    registry = config.registry

    # The capability first: Kinto refuses a second registration (the plugin included twice)
    # before anything is subscribed.
    capability = capability_of(settings)
    config.add_api_capability(
        CAPABILITY,
        description=capability.pop("description"),
        url=capability.pop("url"),
        **capability,
    )

    plugin = KintoPush(settings, registry=registry)
    registry.kinto_push = plugin
    config.add_subscriber(plugin.abort_watch.on_new_request, NewRequest)

    if plugin.writer is not None:
        _subscribe_outbox(config, plugin)
    else:
        # AfterResourceChanged: fired after the commit, so a rolled-back write is never
        # announced. Filters are applied by the listener (they need the payload's bucket_id).
        config.add_subscriber(plugin.listener, AfterResourceChanged)

    # Shutdown: in memory, send what is queued, waiting at most kinto.push.shutdown_timeout;
    # with the outbox, stop the relay (the rows wait in the table).
    atexit.register(_close_at_exit, weakref.ref(plugin))

    if settings.secret is None:
        logger.warning(
            "kinto-push: kinto.push.secret is not set: posting unauthenticated to %s "
            "(kinto-push accepts that from loopback addresses only, when it has no "
            "--publish-secret)",
            settings.url,
        )
    logger.info(
        "kinto-push: posting %s events on %s to %s (%s auth, %s)",
        "/".join(sorted(settings.actions)),
        ", ".join(sorted(settings.resources))
        + ("" if settings.buckets is None else f" in buckets {', '.join(sorted(settings.buckets))}"),
        settings.events_url,
        settings.auth if settings.secret else "no",
        f"through the outbox table {TABLE} in PostgreSQL"
        if plugin.writer is not None
        else f"queue of {settings.max_queue} events in memory",
    )


def _subscribe_outbox(config, plugin):
    from kinto.core.events import ResourceChanged
    from pyramid.events import ApplicationCreated

    # ResourceChanged: fired before the commit, in the write's transaction.
    config.add_subscriber(plugin.writer, ResourceChanged)
    try:
        config.add_migration(make_migration())  # kinto migrate creates the table
    except AttributeError:  # a Kinto without plugin migrations: created at start only
        pass
    registry = config.registry

    def on_app_created(event):
        if getattr(registry, "command", None):
            return  # kinto migrate, flush-cache, create-user: no relay
        _create_table_if_missing(plugin)
        plugin.start()

    config.add_subscriber(on_app_created, ApplicationCreated)


def _create_table_if_missing(plugin):
    """At start, so that the first write finds the table (the relay checks again whenever it
    connects). A database not reachable yet is left to the relay, which retries."""
    args = plugin.relay.connect_args
    try:
        import psycopg2

        conn = psycopg2.connect(**{"connect_timeout": 10, **args})
        try:
            ensure_table(conn)
        finally:
            conn.close()
    except Exception as e:
        logger.warning(
            "kinto-push: could not check the outbox table at %s (%s: %s); the relay will retry",
            describe_dsn(args),
            type(e).__name__,
            str(e).strip(),
        )
