"""The ``test`` event: one signed POST to a subscriber's webhook, on demand (the portal's
"send a test event" button).

It goes through the same path as a real delivery: the body is a Standard Webhooks document
(``{"type": "test", "timestamp", "data"}``), signed with the secrets that sign real deliveries
now (both during a rotation) by :class:`services.notifier.webhook.WebhookSender`, which checks
the URL against SSRF and never follows a redirect. It is not an alert: nothing is written to
the delivery ledger, and nothing is retried; the receiver's answer is shown as it came.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.notifier.payloads import TEST_EVENT, delivery_id, iso_utc, webhook_body
from services.notifier.webhook import SendResult, WebhookSender
from services.notifier.webhook_secrets import signing_secrets
from shared.accounts import Subscriber
from shared.errors import InputError


@dataclass(frozen=True)
class TestEvent:
    """One test event sent: its ``webhook-id``, the URL and the receiver's answer."""

    __test__ = False  # not a pytest class

    webhook_id: str
    url: str
    result: SendResult


async def send_test_event(
    session: AsyncSession, sender: WebhookSender, subscriber: Subscriber, now: datetime
) -> TestEvent:
    """Sign and send a ``test`` event to the subscriber's webhook; InputError without one."""
    url = subscriber.webhook_url
    if not url:
        raise InputError("this subscriber has no webhook: nothing to test")
    keys = await signing_secrets(session, subscriber, now)
    msg_id = delivery_id(TEST_EVENT, subscriber.id, iso_utc(now), secrets.token_hex(8))
    data = {
        "subscriber_id": subscriber.id,
        "message": "A test event from regwatch: your endpoint and signature check work.",
    }
    body = webhook_body(TEST_EVENT, data, now)
    result = await sender.send(url, msg_id, body, keys)
    return TestEvent(msg_id, url, result)
