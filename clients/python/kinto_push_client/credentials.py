"""How a client proves who it is (PROTOCOL.md section 3): a JWT, or the value of a Kinto
``Authorization`` header, sent in an ``auth`` frame after ``welcome`` (the default) or as
``?access_token=`` in the upgrade URL."""

import base64
from urllib.parse import quote

IN_FRAME = "frame"
IN_QUERY = "query"


class Credentials:
    def __init__(self, token=None, kinto_auth=None, authorization=None, send=IN_FRAME):
        given = [x for x in (token, kinto_auth, authorization) if x is not None]
        if len(given) > 1:
            raise ValueError("kinto-push: give at most one of token, kinto_auth, authorization")
        if send not in (IN_FRAME, IN_QUERY):
            raise ValueError("kinto-push: send_credentials must be 'frame' or 'query'")
        if kinto_auth is not None:
            user, password = kinto_auth
            raw = f"{user}:{password}".encode("utf-8")
            authorization = "Basic " + base64.b64encode(raw).decode("ascii")
        # What goes in the auth frame's token: the JWT, or the Authorization value as is.
        self.value = token if token is not None else authorization
        self.send = send

    def __bool__(self):
        return self.value is not None

    def url(self, ws_url):
        if not self or self.send != IN_QUERY:
            return ws_url
        sep = "&" if "?" in ws_url else "?"
        return f"{ws_url}{sep}access_token={quote(self.value, safe='')}"

    def auth_frame(self, request_id):
        if not self or self.send != IN_FRAME:
            return None
        return {"type": "auth", "id": request_id, "token": self.value}
