"""kinto_push: a Kinto plugin that posts Kinto's committed changes to kinto-push.

Enable it with ``kinto.includes = kinto_push`` and ``kinto.push.url = http://…``; see
README.md for the settings and the delivery guarantees.
"""

import atexit
import logging
import weakref

from .listener import Listener
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
    """The plugin: settings, the listener Kinto calls, and the background sender.

    ``config.registry.kinto_push`` is this object: ``stats()`` gives the counters,
    ``flush(timeout)`` sends what is queued and waits, ``close(timeout)`` stops.
    """

    def __init__(self, settings, registry=None):
        self.settings = settings

        def metrics():
            # Looked up at each use: Kinto may set up its metrics after including plugins,
            # and a Kinto without metrics has none (then nothing is counted there).
            return getattr(registry, "metrics", None)

        self.sender = Sender(
            settings.events_url,
            secret=settings.secret,
            auth=settings.auth,
            timeout=settings.timeout,
            max_queue=settings.max_queue,
            max_backoff=settings.max_backoff,
            metrics=metrics if registry is not None else None,
            user_agent=f"kinto-push-kinto/{__version__}",
        )
        self.listener = Listener(settings, self.sender)
        self._closed = False

    def __call__(self, event):
        self.listener(event)

    def stats(self):
        return self.sender.stats()

    def flush(self, timeout=None):
        return self.sender.flush(timeout)

    def close(self, timeout=None):
        if self._closed:
            return 0
        self._closed = True
        return self.sender.close(self.settings.shutdown_timeout if timeout is None else timeout)

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

    # AfterResourceChanged only: fired after the commit, so a rolled-back write is never
    # announced. Filters are applied by the listener (they need the payload's bucket_id).
    config.add_subscriber(plugin.listener, AfterResourceChanged)

    # Graceful shutdown: send what is queued, waiting at most kinto.push.shutdown_timeout.
    atexit.register(_close_at_exit, weakref.ref(plugin))

    if settings.secret is None:
        logger.warning(
            "kinto-push: kinto.push.secret is not set: posting unauthenticated to %s "
            "(kinto-push accepts that from loopback addresses only, when it has no "
            "--publish-secret)",
            settings.url,
        )
    logger.info(
        "kinto-push: posting %s events on %s to %s (%s auth, queue of %d events)",
        "/".join(sorted(settings.actions)),
        ", ".join(sorted(settings.resources))
        + ("" if settings.buckets is None else f" in buckets {', '.join(sorted(settings.buckets))}"),
        settings.events_url,
        settings.auth if settings.secret else "no",
        settings.max_queue,
    )
