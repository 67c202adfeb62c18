"""The webhook verifier, against the Standard Webhooks published test vector."""

import base64
import hashlib
import hmac

import pytest

from kinto_push_client.errors import WebhookVerificationError
from kinto_push_client.webhooks import sign, verify

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
MSG_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
TIMESTAMP = 1614265330
BODY = b'{"test": 2432232314}'
SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def headers(signature=SIGNATURE, timestamp=TIMESTAMP, msg_id=MSG_ID):
    return {"webhook-id": msg_id, "webhook-timestamp": str(timestamp),
            "webhook-signature": signature}


def test_the_vector_is_what_hmac_gives():
    key = base64.b64decode(SECRET[len("whsec_"):])
    digest = hmac.new(key, f"{MSG_ID}.{TIMESTAMP}.".encode() + BODY, hashlib.sha256).digest()
    assert "v1," + base64.b64encode(digest).decode() == SIGNATURE
    assert sign(SECRET, MSG_ID, TIMESTAMP, BODY) == SIGNATURE


def test_the_published_vector_verifies():
    assert verify(SECRET, headers(), BODY, now=TIMESTAMP) == {"test": 2432232314}
    assert verify(SECRET, headers(), BODY.decode(), now=TIMESTAMP + 299) == {"test": 2432232314}


def test_header_names_in_any_case():
    mixed = {"Webhook-Id": MSG_ID, "WEBHOOK-TIMESTAMP": str(TIMESTAMP),
             "Webhook-Signature": SIGNATURE}
    assert verify(SECRET, mixed, BODY, now=TIMESTAMP) == {"test": 2432232314}


def test_tampered_body_is_refused():
    with pytest.raises(WebhookVerificationError, match="no matching signature"):
        verify(SECRET, headers(), b'{"test": 2432232315}', now=TIMESTAMP)


def test_wrong_secret_is_refused():
    other = "whsec_" + base64.b64encode(b"another secret, 24 bytes").decode()
    with pytest.raises(WebhookVerificationError):
        verify(other, headers(), BODY, now=TIMESTAMP)


def test_other_id_or_timestamp_is_refused():
    with pytest.raises(WebhookVerificationError):
        verify(SECRET, headers(msg_id="msg_other"), BODY, now=TIMESTAMP)
    with pytest.raises(WebhookVerificationError):
        verify(SECRET, headers(timestamp=TIMESTAMP + 1), BODY, now=TIMESTAMP)


def test_timestamp_tolerance_both_ways():
    with pytest.raises(WebhookVerificationError, match="too old"):
        verify(SECRET, headers(), BODY, now=TIMESTAMP + 301)
    with pytest.raises(WebhookVerificationError, match="future"):
        verify(SECRET, headers(), BODY, now=TIMESTAMP - 301)
    assert verify(SECRET, headers(), BODY, now=TIMESTAMP - 300) == {"test": 2432232314}
    with pytest.raises(WebhookVerificationError, match="too old"):
        verify(SECRET, headers(), BODY, tolerance=10, now=TIMESTAMP + 11)
    with pytest.raises(WebhookVerificationError, match="too old"):
        verify(SECRET, headers(), BODY)   # now: the current time, years later


def test_several_signatures_one_of_which_matches():
    wrong = "v1," + base64.b64encode(b"x" * 32).decode()
    for value in (f"{wrong} {SIGNATURE}", f"{SIGNATURE} {wrong}",
                  f"v2,{SIGNATURE[3:]} {SIGNATURE}", f"v1a,xyz {wrong} {SIGNATURE}"):
        assert verify(SECRET, headers(value), BODY, now=TIMESTAMP) == {"test": 2432232314}
    for value in (f"{wrong} {wrong}", f"v2,{SIGNATURE[3:]}", "", "v1,", SIGNATURE[3:]):
        with pytest.raises(WebhookVerificationError):
            verify(SECRET, headers(value), BODY, now=TIMESTAMP)


def test_missing_or_malformed_headers_are_refused():
    for name in ("webhook-id", "webhook-timestamp", "webhook-signature"):
        partial = {k: v for k, v in headers().items() if k != name}
        with pytest.raises(WebhookVerificationError, match=name):
            verify(SECRET, partial, BODY, now=TIMESTAMP)
    with pytest.raises(WebhookVerificationError, match="not a number"):
        verify(SECRET, headers(timestamp="soon"), BODY, now=TIMESTAMP)


def test_a_signed_body_that_is_not_json_is_refused():
    body = b"not json"
    signed = headers(sign(SECRET, MSG_ID, TIMESTAMP, body))
    with pytest.raises(WebhookVerificationError, match="not JSON"):
        verify(SECRET, signed, body, now=TIMESTAMP)
