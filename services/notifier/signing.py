"""Standard Webhooks signatures (https://www.standardwebhooks.com/).

A secret is ``whsec_`` + base64 of random bytes; the HMAC key is the decoded bytes. The
signature covers ``f"{webhook-id}.{webhook-timestamp}."`` followed by the exact body bytes and
is sent as ``v1,<base64 HMAC-SHA256>`` in the ``webhook-signature`` header.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import time
from collections.abc import Mapping, Sequence

from shared.errors import InputError

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 24
TOLERANCE_SECONDS = 300


def new_secret() -> str:
    """A fresh signing secret: ``whsec_`` + base64 of 24 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii")


def secret_key(secret: str) -> bytes:
    """The HMAC key of a ``whsec_...`` secret. Raises InputError for a malformed secret."""
    encoded = secret.removeprefix(SECRET_PREFIX).strip()
    try:
        key = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InputError("webhook secret is not valid: expected 'whsec_' + base64") from exc
    if not key:
        raise InputError("webhook secret is empty")
    return key


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """``v1,<base64 HMAC-SHA256 of f'{msg_id}.{timestamp}.' + body>``."""
    signed = f"{msg_id}.{int(timestamp)}.".encode() + body
    digest = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def headers(
    secret: str | Sequence[str], msg_id: str, body: bytes, now: int | None = None
) -> dict[str, str]:
    """The request headers of one delivery attempt, signed at ``now`` (default: the clock).

    Several secrets (during a rotation: the new one and the old one) give several ``v1,...``
    signatures separated by spaces, as the spec allows: a receiver holding either secret
    verifies the message.
    """
    secrets_ = [secret] if isinstance(secret, str) else list(dict.fromkeys(secret))
    if not secrets_:
        raise InputError("no webhook secret to sign with")
    timestamp = int(time.time()) if now is None else int(now)
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(sign(s, msg_id, timestamp, body) for s in secrets_),
        "content-type": "application/json",
    }


def verify(
    secret: str,
    request_headers: Mapping[str, str],
    body: bytes,
    *,
    now: int | None = None,
    tolerance: int = TOLERANCE_SECONDS,
) -> bool:
    """True when the headers carry a valid ``v1`` signature of ``body`` within ``tolerance``.

    The receiving side of :func:`headers` (for tests and for the docs); integrators should use
    any Standard Webhooks library.
    """
    lowered = {key.lower(): value for key, value in request_headers.items()}
    msg_id = lowered.get("webhook-id")
    stamp = lowered.get("webhook-timestamp")
    signatures = lowered.get("webhook-signature")
    if not (msg_id and stamp and signatures):
        return False
    try:
        timestamp = int(stamp)
    except ValueError:
        return False
    current = int(time.time()) if now is None else now
    if abs(current - timestamp) > tolerance:
        return False
    expected = sign(secret, msg_id, timestamp, body).encode("ascii")
    return any(
        hmac.compare_digest(expected, candidate.encode("ascii", "replace"))
        for candidate in signatures.split()
        if candidate.startswith("v1,")
    )
