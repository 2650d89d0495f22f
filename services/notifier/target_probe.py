"""A test message to one chat target, on demand (``POST /v1/channels/{id}/test``, the CLI's
``channels test``): rendered and sent by the target's channel exactly as an alert is (signed,
keyword carried, within the platform's rate), but not an alert: nothing goes to the delivery
ledger, nothing is retried, and the platform's answer is shown as it came."""

from __future__ import annotations

import secrets
from datetime import datetime

from services.notifier.alerts import Alert, load_context
from services.notifier.channels.base import Senders, SendResult, Target
from services.notifier.ledger import channels
from services.notifier.models import DeliveryRow, TargetRow
from services.notifier.payloads import TEST_EVENT, iso_utc
from services.notifier.ratelimit import take
from shared.accounts import Subscriber
from shared.errors import InputError


class TooSoon(InputError):
    """The target's rate is spent: try again after ``wait`` seconds."""

    def __init__(self, wait: float) -> None:
        super().__init__(f"this target's rate is used up: try again in {wait:.0f} s")
        self.wait = wait


async def send_test(
    senders: Senders, subscriber_id: str, target_id: str, now: datetime
) -> SendResult | None:
    """The platform's answer to a test message, or None when the subscriber has no such
    target. Raises :class:`TooSoon` when the target's rate is used up."""
    async with senders.db.session() as session:
        row = await session.get(TargetRow, target_id)
        subscriber = await session.get(Subscriber, subscriber_id)
        if row is None or subscriber is None or row.subscriber_id != subscriber_id:
            return None
        channel = channels().get(row.channel)
        if channel is None:
            raise InputError(f"no channel {row.channel!r} in this version of regwatch")
        ctx = await load_context(session, senders.settings, subscriber, now)
        target = Target(row.address, row.id)
        alert = Alert(
            type=TEST_EVENT,
            reason=now.isoformat(),
            notice_id="test",
            data={"subscriber_id": subscriber_id, "sent_at": iso_utc(now)},
            email_of=lambda: ("", "", ""),
        )
        probe = DeliveryRow(
            id="test_" + secrets.token_hex(8),
            subscriber_id=subscriber_id,
            notice_id="test",
            type=TEST_EVENT,
            reason="test",
            channel=row.channel,
            target=row.address,
            target_id=row.id,
            queue=channel.queue(row.address),
            payload=channel.render(alert, ctx, target),
        )
        wait = await take(session, probe.queue, channel.rates(row.address), now)
    if wait > 0:
        raise TooSoon(wait)
    return await channel.send(probe, senders)
