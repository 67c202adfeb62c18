"""The exceptions of the client and of the webhook verifier."""


class KintoPushError(Exception):
    """Something the client cannot fix by reconnecting."""


class UnauthorizedError(KintoPushError):
    """Credentials missing, invalid or expired (close code 4001, or an ``unauthorized`` error
    frame): get new ones before trying again."""


class ForbiddenError(KintoPushError):
    """Valid credentials that do not allow a channel (an ``error`` frame ``forbidden``, or an
    ``unsubscribed`` frame with ``reason: forbidden`` for the last channel left)."""


class ProtocolError(KintoPushError):
    """The server and the client do not understand each other (close codes 4000, 1002, 1003,
    1007, 1009, a ``bad_request`` answer, a frame that is not a JSON object): retrying the same
    thing would fail again."""


class SubscriptionError(KintoPushError):
    """A subscription refused for good (``not_found``, ``too_many_subscriptions``)."""


class StateFileError(KintoPushError):
    """The state file cannot be read, is not a state file, or cannot be written."""


class WebhookVerificationError(Exception):
    """A webhook request whose headers, signature or timestamp do not check out."""


class Reconnect(Exception):
    """The connection ended in a way that reconnecting may fix (``Client.run`` catches it and
    reconnects after a backoff)."""
