"""Standard Webhooks signatures, checked against the independent ``standardwebhooks`` library."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from services.notifier import signing
from shared.errors import InputError

Tamper = Callable[[dict[str, str], bytes], tuple[dict[str, str], bytes]]

BODY = json.dumps(
    {"type": "notice.matched", "data": {"title": "抖音"}}, ensure_ascii=False
).encode()


def test_new_secret_is_whsec_base64_of_24_bytes() -> None:
    secret = signing.new_secret()
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"), validate=True)) == 24
    assert signing.new_secret() != secret


def test_sign_is_hmac_sha256_of_id_timestamp_body() -> None:
    secret = signing.new_secret()
    key = base64.b64decode(secret.removeprefix("whsec_"))
    expected = hmac.new(key, b"msg_1.1700000000." + BODY, hashlib.sha256).digest()
    assert (
        signing.sign(secret, "msg_1", 1700000000, BODY)
        == "v1," + base64.b64encode(expected).decode()
    )


def test_sign_matches_the_spec_test_vector() -> None:
    # Test vector of the Standard Webhooks reference libraries.
    signature = signing.sign(
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        "msg_p5jXN8AQM9LWM0D4loKWxJek",
        1614265330,
        b'{"test": 2432232314}',
    )
    assert signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_headers_are_accepted_by_standardwebhooks() -> None:
    secret = signing.new_secret()
    headers = signing.headers(secret, "msg_abc", BODY)
    assert headers["webhook-id"] == "msg_abc"
    assert headers["content-type"] == "application/json"
    assert abs(int(headers["webhook-timestamp"]) - time.time()) < 5
    assert Webhook(secret).verify(BODY, headers) == json.loads(BODY)
    assert signing.verify(secret, headers, BODY)


def test_header_names_are_case_insensitive_for_the_verifier() -> None:
    secret = signing.new_secret()
    headers = {k.title(): v for k, v in signing.headers(secret, "msg_abc", BODY).items()}
    Webhook(secret).verify(BODY, headers)
    assert signing.verify(secret, headers, BODY)


@pytest.mark.parametrize(
    "tamper",
    [
        lambda h, b: (h, b + b" "),
        lambda h, b: (h, b.replace("抖音".encode(), "快手".encode())),
        lambda h, b: ({**h, "webhook-id": "msg_other"}, b),
        lambda h, b: ({**h, "webhook-timestamp": str(int(h["webhook-timestamp"]) + 1)}, b),
        lambda h, b: ({**h, "webhook-signature": "v1," + base64.b64encode(b"x" * 32).decode()}, b),
    ],
    ids=["body-appended", "body-changed", "id", "timestamp", "signature"],
)
def test_tampering_is_rejected(tamper: Tamper) -> None:
    secret = signing.new_secret()
    headers, body = tamper(signing.headers(secret, "msg_abc", BODY), BODY)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body, headers)
    assert not signing.verify(secret, headers, body)


def test_other_secret_is_rejected() -> None:
    headers = signing.headers(signing.new_secret(), "msg_abc", BODY)
    other = signing.new_secret()
    with pytest.raises(WebhookVerificationError):
        Webhook(other).verify(BODY, headers)
    assert not signing.verify(other, headers, BODY)


def test_stale_timestamp_is_rejected() -> None:
    secret = signing.new_secret()
    headers = signing.headers(secret, "msg_abc", BODY, now=int(time.time()) - 3600)
    with pytest.raises(WebhookVerificationError, match="too old"):
        Webhook(secret).verify(BODY, headers)
    assert not signing.verify(secret, headers, BODY)


def test_explicit_now_is_used() -> None:
    secret = signing.new_secret()
    headers = signing.headers(secret, "msg_abc", BODY, now=1700000000)
    assert headers["webhook-timestamp"] == "1700000000"
    assert headers["webhook-signature"] == signing.sign(secret, "msg_abc", 1700000000, BODY)
    assert signing.verify(secret, headers, BODY, now=1700000100)


@pytest.mark.parametrize("secret", ["whsec_", "whsec_not base64!", ""])
def test_malformed_secret_is_an_input_error(secret: str) -> None:
    with pytest.raises(InputError, match="secret"):
        signing.sign(secret, "msg_1", 1, b"{}")


def test_two_secrets_during_a_rotation_both_verify_with_standardwebhooks() -> None:
    old, new = signing.new_secret(), signing.new_secret()
    headers = signing.headers([new, old], "msg_rot", BODY)
    signatures = headers["webhook-signature"].split(" ")
    assert len(signatures) == 2 and all(s.startswith("v1,") for s in signatures)
    for secret in (old, new):
        assert Webhook(secret).verify(BODY, headers) == json.loads(BODY)
        assert signing.verify(secret, headers, BODY)
    with pytest.raises(WebhookVerificationError):
        Webhook(signing.new_secret()).verify(BODY, headers)


def test_signing_needs_a_secret() -> None:
    with pytest.raises(InputError, match="no webhook secret"):
        signing.headers([], "msg_1", BODY)
