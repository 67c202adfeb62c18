"""Settings of the plugin, read in Kinto's style.

Every setting is ``kinto.push.<name>`` in the ini file (Kinto hands plugins its settings
with the ``kinto.`` prefix removed, so ``push.<name>`` is looked up first) and can be
overridden by the environment variable ``KINTO_PUSH_<NAME>`` (dots and dashes become
underscores, upper case), the mapping Kinto itself applies to its own settings.
Environment values are taken as they are (Kinto would coerce ``1234`` into an integer).
"""

import ipaddress
import json
import logging
import math
import os
import urllib.parse

logger = logging.getLogger("kinto_push")

DEFAULT_RESOURCES = ("bucket", "collection", "group", "record")
DEFAULT_ACTIONS = ("create", "update", "delete")
KNOWN_ACTIONS = frozenset(DEFAULT_ACTIONS)
# Account events carry password hashes in their impacted objects: never sent, whatever the
# settings say.
FORBIDDEN_RESOURCES = frozenset({"account"})

DEFAULTS = {
    "url": None,
    "public_url": None,
    "secret": None,
    "auth": "signature",
    "resources": " ".join(DEFAULT_RESOURCES),
    "actions": " ".join(DEFAULT_ACTIONS),
    "buckets": "",
    "timeout": "10",
    "max_queue": "10000",
    "max_backoff": "30",
    "shutdown_timeout": "5",
    "outbox": "auto",
    "relay_interval": "1",
}

OUTBOX_MODES = ("auto", "on", "off")
POSTGRESQL_STORAGE = "kinto.core.storage.postgresql"


class ConfigurationError(ValueError):
    """A setting of the plugin is missing or wrong; the message names it."""


def setting_name(name):
    return "kinto.push." + name


def env_name(name):
    return ("kinto.push." + name).replace(".", "_").replace("-", "_").upper()


def _kinto_coerced(value):
    # What Kinto's native_value() makes of an ini value.
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def read_raw(settings, name, environ=None):
    """The value of one setting: ``KINTO_PUSH_<NAME>`` from the environment, else the ini
    file's ``kinto.push.<name>``, else ``push.<name>`` (the copy Kinto makes without its
    prefix, possibly overridden from the environment by Kinto), else the default."""
    environ = os.environ if environ is None else environ
    env = env_name(name)
    if env in environ:
        return environ[env]
    prefixed = settings.get("kinto.push." + name)
    unprefixed = settings.get("push." + name)
    if prefixed is not None and (unprefixed is None or _kinto_coerced(prefixed) == unprefixed):
        # The text as written: Kinto's copy may have been coerced (a secret "1e5" became
        # the float 100000.0).
        return prefixed
    if unprefixed is not None:
        return unprefixed
    return DEFAULTS.get(name)


def _as_list(name, value):
    if value is None:
        return []
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [str(v) for v in value]
    else:
        items = str(value).replace(",", " ").split()
    return [i.strip() for i in items if i.strip()]


def _as_number(name, value, kind, minimum):
    try:
        number = kind(value)
    except (TypeError, ValueError):
        raise ConfigurationError(
            f"{setting_name(name)} = {value!r}: must be a number"
            + (" (an integer)" if kind is int else " (seconds)")
        ) from None
    if isinstance(number, float) and not math.isfinite(number):
        raise ConfigurationError(f"{setting_name(name)} = {value!r}: must be a finite number")
    if number < minimum:
        raise ConfigurationError(f"{setting_name(name)} = {value!r}: must be at least {minimum}")
    return number


def is_loopback_host(host):
    if not host:
        return False
    if host.lower() in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _check_url(name, value):
    """Returns the base URL without a trailing slash (and without a trailing ``/v1``)."""
    text = str(value).strip() if value is not None else ""
    if not text:
        raise ConfigurationError(
            f"{setting_name(name)} is required: the kinto-push base URL, e.g. "
            f"http://127.0.0.1:8080 (or the environment variable {env_name(name)})"
        )
    if any(c.isspace() for c in text):
        hint = " (an ini file takes no comment on a value's line)" if "#" in text else ""
        raise ConfigurationError(f"{setting_name(name)} = {text!r}: has spaces{hint}")
    try:
        parts = urllib.parse.urlsplit(text)
        port = parts.port  # raises ValueError on a bad port
    except ValueError as e:
        raise ConfigurationError(f"{setting_name(name)} = {text!r}: not a valid URL ({e})") from None
    if parts.scheme not in ("http", "https"):
        raise ConfigurationError(
            f"{setting_name(name)} = {text!r}: must start with http:// or https://"
        )
    if not parts.hostname:
        raise ConfigurationError(f"{setting_name(name)} = {text!r}: has no host")
    if parts.query or parts.fragment:
        raise ConfigurationError(
            f"{setting_name(name)} = {text!r}: give the base URL only, without ?query or #fragment"
        )
    if parts.username or parts.password:
        raise ConfigurationError(
            f"{setting_name(name)} = {text!r}: no credentials in the URL; "
            f"use {setting_name('secret')}"
        )
    if port == 0:
        raise ConfigurationError(f"{setting_name(name)} = {text!r}: port 0 is not a port")
    path = parts.path.rstrip("/")
    if path.endswith("/v1"):
        path = path[: -len("/v1")]
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def _kinto_setting(settings, name, default=None):
    """One of Kinto's own settings: the unprefixed key (Kinto's copy, overridden from the
    environment), else ``kinto.<name>``."""
    value = settings.get(name)
    if value is None:
        value = settings.get("kinto." + name)
    return default if value is None else value


def _outbox_wanted(mode, storage_backend, transaction_per_request):
    """Whether the transactional outbox is used: ``on`` requires PostgreSQL storage and
    ``kinto.transaction_per_request`` (the outbox row must commit with the write), ``auto``
    uses it when both hold."""
    from pyramid.settings import asbool

    if mode == "off":
        return False
    postgresql = storage_backend.strip() == POSTGRESQL_STORAGE
    per_request = asbool(transaction_per_request)
    if mode == "on":
        if not postgresql:
            raise ConfigurationError(
                f"{setting_name('outbox')} = on needs kinto.storage_backend = "
                f"{POSTGRESQL_STORAGE} (it is {storage_backend or 'not set'!r}); set "
                f"{setting_name('outbox')} = auto or off to queue events in memory"
            )
        if not per_request:
            raise ConfigurationError(
                f"{setting_name('outbox')} = on needs kinto.transaction_per_request = true "
                "(it is false): the outbox row must commit and roll back with the write"
            )
        return True
    if postgresql and not per_request:
        logger.warning(
            "kinto-push: %s = auto: not using the outbox because kinto.transaction_per_request "
            "is false (the outbox row must commit with the write); events are queued in memory "
            "and lost if this process dies before sending them",
            setting_name("outbox"),
        )
        return False
    return postgresql


class Settings:
    """The parsed settings. Raises ConfigurationError, naming the setting, on a bad value."""

    def __init__(self, settings, environ=None):
        raw = {name: read_raw(settings, name, environ) for name in DEFAULTS}

        self.url = _check_url("url", raw["url"])
        self.events_url = self.url + "/v1/events"
        self.public_url = (
            _check_url("public_url", raw["public_url"]) if raw["public_url"] else self.url
        )

        secret = raw["secret"]
        self.secret = str(secret) if secret not in (None, "") else None
        host = urllib.parse.urlsplit(self.url).hostname
        self.loopback = is_loopback_host(host)
        if self.secret is None and not self.loopback:
            raise ConfigurationError(
                f"{setting_name('secret')} is required when kinto-push is not on this host "
                f"({self.url}): give it the value of kinto-push's --publish-secret "
                f"(or the environment variable {env_name('secret')})"
            )

        auth = str(raw["auth"] or "signature").strip().lower()
        if auth not in ("signature", "bearer"):
            raise ConfigurationError(
                f"{setting_name('auth')} = {raw['auth']!r}: must be 'signature' or 'bearer'"
            )
        self.auth = auth
        if self.secret is not None and (
            not self.secret.isprintable() or (auth == "bearer" and not self.secret.isascii())
        ):
            raise ConfigurationError(
                f"{setting_name('secret')}: must be printable"
                + (" ASCII (it is sent in an HTTP header)" if auth == "bearer" else "")
            )

        resources = _as_list("resources", raw["resources"])
        forbidden = sorted(FORBIDDEN_RESOURCES.intersection(resources))
        if forbidden:
            raise ConfigurationError(
                f"{setting_name('resources')}: {', '.join(forbidden)} events are never sent "
                "(they carry password hashes); remove it from the list"
            )
        if not resources:
            raise ConfigurationError(f"{setting_name('resources')} is empty: nothing would be sent")
        self.resources = frozenset(resources)

        actions = _as_list("actions", raw["actions"])
        unknown = sorted(set(actions) - KNOWN_ACTIONS)
        if unknown:
            raise ConfigurationError(
                f"{setting_name('actions')}: unknown action {', '.join(unknown)} "
                "(choose among create, update, delete)"
            )
        if not actions:
            raise ConfigurationError(f"{setting_name('actions')} is empty: nothing would be sent")
        self.actions = frozenset(actions)

        buckets = _as_list("buckets", raw["buckets"])
        self.buckets = frozenset(buckets) if buckets else None  # None: every bucket

        self.timeout = _as_number("timeout", raw["timeout"], float, 0.001)
        self.max_queue = _as_number("max_queue", raw["max_queue"], int, 1)
        self.max_backoff = _as_number("max_backoff", raw["max_backoff"], float, 0.01)
        self.shutdown_timeout = _as_number("shutdown_timeout", raw["shutdown_timeout"], float, 0)
        self.relay_interval = _as_number("relay_interval", raw["relay_interval"], float, 0.01)

        outbox = str(raw["outbox"] if raw["outbox"] is not None else "auto").strip().lower()
        # Kinto's ini coercion turns on/off into nothing else, but true/false into booleans.
        outbox = {"true": "on", "false": "off"}.get(outbox, outbox)
        if outbox not in OUTBOX_MODES:
            raise ConfigurationError(
                f"{setting_name('outbox')} = {raw['outbox']!r}: must be auto, on or off"
            )
        self.outbox_mode = outbox
        self.storage_backend = str(_kinto_setting(settings, "storage_backend") or "")
        self.storage_url = _kinto_setting(settings, "storage_url")
        self.outbox = _outbox_wanted(
            outbox, self.storage_backend, _kinto_setting(settings, "transaction_per_request", True)
        )

    def __repr__(self):
        # Never shows the secret.
        return (
            f"<kinto_push.Settings url={self.url} auth={self.auth}"
            f" secret={'set' if self.secret else 'none'} resources={sorted(self.resources)}"
            f" actions={sorted(self.actions)} buckets={sorted(self.buckets or []) or 'all'}>"
        )
