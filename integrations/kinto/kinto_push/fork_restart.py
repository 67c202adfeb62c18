"""The objects to start anew in a forked child (a thread does not survive a fork).

A pre-forking server (gunicorn ``--preload``, uWSGI without ``lazy-apps``) may load Kinto, and
the plugin with it, in its master before forking its workers. ``register(obj)`` keeps a weak
reference to ``obj`` (one garbage-collected is forgotten); in each forked child,
``obj.reset_after_fork()`` is called for every one still alive. The Sender and the Relay
register themselves.
"""

import os
import weakref

_registered = weakref.WeakSet()


def register(obj):
    """Calls ``obj.reset_after_fork()`` in each forked child of this process while ``obj``
    lives."""
    _registered.add(obj)


def _after_fork_in_child():
    for obj in list(_registered):
        obj.reset_after_fork()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
