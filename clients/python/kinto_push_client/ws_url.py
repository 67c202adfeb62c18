"""The WebSocket URL of a server named by its http(s) or ws(s) URL (as ``kinto-push tail``)."""

from urllib.parse import urlsplit, urlunsplit

SCHEMES = {"http": "ws", "https": "wss", "ws": "ws", "wss": "wss"}


def websocket_url(url):
    """``http://host:port[/prefix]`` -> ``ws://host:port[/prefix]/v1/ws`` (``/v1`` gets
    ``/ws``); a ws(s) URL without a path gets ``/v1/ws``, one with a path is kept as is."""
    parts = urlsplit(url)
    scheme = SCHEMES.get(parts.scheme.lower())
    if scheme is None or not parts.netloc:
        raise ValueError(f"kinto-push: not an http(s) or ws(s) URL: {url!r}")
    path = parts.path.rstrip("/")
    if parts.scheme.lower() in ("ws", "wss") and path:
        path = parts.path
    elif path.endswith("/v1"):
        path += "/ws"
    else:
        path += "/v1/ws"
    return urlunsplit((scheme, parts.netloc, path, parts.query, ""))
