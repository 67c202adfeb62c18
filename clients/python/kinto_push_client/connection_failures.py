"""What a failed or ended WebSocket connection means: reconnect, or stop with which error
(PROTOCOL.md section 3).

``open_websocket`` raises ``Reconnect`` (network error, timeout, 408, 429, 5xx) or a
KintoPushError (401/403: UnauthorizedError; another status: a wrong URL); ``closed_error``
turns the close of an open connection into the exception to raise; ``REFUSALS`` and
``RETRY_LATER`` sort the error codes of a refused subscribe.
"""

import asyncio

import websockets
from websockets.exceptions import InvalidHandshake, InvalidStatusCode

from .errors import (ForbiddenError, KintoPushError, ProtocolError, Reconnect,
                     SubscriptionError, UnauthorizedError)

# Close codes after which the same connection would fail again.
UNAUTHORIZED_CLOSE = 4001
PROTOCOL_CLOSES = {1002, 1003, 1007, 1009, 4000}
# Error codes of a refused subscribe, and what they become.
RETRY_LATER = {"unavailable", "internal"}
REFUSALS = {"unauthorized": UnauthorizedError, "forbidden": ForbiddenError,
            "bad_request": ProtocolError, "not_found": SubscriptionError,
            "too_many_subscriptions": SubscriptionError}


async def open_websocket(url, credentials, open_timeout, max_size):
    """Connects to ``url`` (a ``ws(s)://…/v1/ws``) with ``credentials`` (a Credentials: in
    the query string when so configured); errors name ``url`` only, never a token."""
    try:
        return await websockets.connect(
            credentials.url(url), open_timeout=open_timeout,
            ping_interval=None, close_timeout=3, max_size=max_size)
    except InvalidStatusCode as e:
        if e.status_code in (401, 403):
            raise UnauthorizedError(f"upgrade refused with {e.status_code}") from None
        if e.status_code in (408, 429) or e.status_code >= 500:
            raise Reconnect(f"upgrade refused with {e.status_code}") from None
        raise KintoPushError(f"upgrade refused with {e.status_code} (wrong URL?)") from None
    except (OSError, asyncio.TimeoutError, InvalidHandshake) as e:
        raise Reconnect(f"cannot connect to {url}: {e or type(e).__name__}") from None


def closed_error(error):
    """The exception to raise for ``error`` (a ConnectionClosed) on an open connection."""
    code = error.rcvd.code if error.rcvd is not None else 1006
    reason = error.rcvd.reason if error.rcvd is not None else ""
    if code == UNAUTHORIZED_CLOSE:
        return UnauthorizedError(f"closed with 4001 {reason}".strip())
    if code in PROTOCOL_CLOSES:
        return ProtocolError(f"closed with {code} {reason}".strip())
    return Reconnect(f"connection closed with {code} {reason}".strip())
