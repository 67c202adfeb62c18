"""The credentials of each POST to kinto-push: ``Kinto-Push-Signature`` or a bearer token.

A signature (``sign``) is HMAC-SHA256 of ``"<timestamp>." + body`` under the shared secret
(PROTOCOL.md section 2); kinto-push accepts each one once, so ``Authorization`` never hands
out the same signature twice: a retry of the same body within the same second waits for the
next second.
"""

import hashlib
import hmac
import time


def sign(secret, timestamp, body):
    """The Kinto-Push-Signature header value for ``body`` (bytes) at ``timestamp``."""
    mac = hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode("ascii") + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


class Authorization:
    """``headers(body, stop_event)``: the credentials headers of one attempt (none without a
    secret). ``auth`` is "signature" or "bearer"."""

    def __init__(self, secret=None, auth="signature"):
        self.secret = secret
        self.auth = auth
        self.reset_after_fork()

    def reset_after_fork(self):
        """Forgets the signatures handed out (the parent's are the parent's)."""
        self._used_signatures = (None, set())

    def headers(self, body, stop_event):
        if not self.secret:
            return {}
        if self.auth == "bearer":
            return {"Authorization": "Bearer " + self.secret}
        # A signature is accepted once: never sign the same body twice in the same second
        # (a retry after a lost answer would be refused as a replay).
        while True:
            t = int(time.time())
            value = sign(self.secret, t, body)
            used_t, used = self._used_signatures
            if used_t != t:
                self._used_signatures = (t, {value})
                return {"Kinto-Push-Signature": value}
            if value not in used:
                used.add(value)
                return {"Kinto-Push-Signature": value}
            if stop_event.wait(max(0.001, t + 1 - time.time())):
                return {"Kinto-Push-Signature": value}  # stopping; the POST is abandoned anyway
