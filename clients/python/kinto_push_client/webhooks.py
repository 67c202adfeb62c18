"""Checks the signature of a webhook request from kinto-push (PROTOCOL.md section 7), as
Standard Webhooks specifies: ``webhook-signature`` holds space-separated ``v1,<base64>``
entries, each an HMAC-SHA256, keyed with the base64 after ``whsec_``, of
``"<webhook-id>.<webhook-timestamp>.<raw body>"``. Standard library only."""

import base64
import binascii
import hashlib
import hmac
import json
import time

from .errors import WebhookVerificationError

PREFIX = "whsec_"


def _header(headers, name):
    getter = getattr(headers, "get", None)
    if getter is None:
        raise TypeError("headers must be a mapping (dict, email.message.Message, …)")
    value = getter(name)
    if value is None:
        # A plain dict with other capitalisation ("Webhook-Id").
        for key in getattr(headers, "keys", lambda: [])():
            if isinstance(key, str) and key.lower() == name:
                value = headers[key]
                break
    if value is None:
        raise WebhookVerificationError(f"missing header {name}")
    return value.decode("latin-1") if isinstance(value, bytes) else str(value)


def _key(secret):
    if isinstance(secret, bytes):
        return secret
    if secret.startswith(PREFIX):
        secret = secret[len(PREFIX):]
    try:
        return base64.b64decode(secret, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("webhook secret: not base64 after whsec_") from None


def sign(secret, msg_id, timestamp, body):
    """The ``v1,<base64>`` signature of ``body`` (bytes or str) for ``msg_id`` and
    ``timestamp`` (Unix seconds)."""
    if isinstance(body, str):
        body = body.encode("utf-8")
    signed = f"{msg_id}.{int(timestamp)}.".encode("utf-8") + body
    digest = hmac.new(_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def verify(secret, headers, body, tolerance=300, now=None):
    """Returns the JSON body of a webhook request whose signature checks out, or raises
    WebhookVerificationError. ``secret``: the ``whsec_…`` secret shown when the webhook was
    created; ``headers``: the request's headers (any mapping with ``get``, names in any case);
    ``body``: the raw body as received (bytes; verify before parsing); the timestamp must be
    within ``tolerance`` seconds of ``now`` (default: the current time), either way."""
    if isinstance(body, str):
        body = body.encode("utf-8")
    msg_id = _header(headers, "webhook-id")
    stamp = _header(headers, "webhook-timestamp")
    signatures = _header(headers, "webhook-signature")
    if not msg_id or "." in msg_id:
        raise WebhookVerificationError("bad webhook-id")
    try:
        timestamp = int(stamp)
    except ValueError:
        raise WebhookVerificationError("webhook-timestamp is not a number") from None
    current = time.time() if now is None else now
    if timestamp < current - tolerance:
        raise WebhookVerificationError("webhook-timestamp too old")
    if timestamp > current + tolerance:
        raise WebhookVerificationError("webhook-timestamp too far in the future")
    expected = sign(secret, msg_id, timestamp, body).split(",", 1)[1].encode("ascii")
    matched = False
    for entry in signatures.split():
        version, _, value = entry.partition(",")
        if version != "v1":
            continue
        # Every entry is compared, in constant time each: no early exit on a match.
        if hmac.compare_digest(value.encode("ascii", "replace"), expected):
            matched = True
    if not matched:
        raise WebhookVerificationError("no matching signature")
    try:
        return json.loads(body)
    except ValueError:
        raise WebhookVerificationError("the body is not JSON") from None
