"""Webhook signing secrets with rotation.

Until the first rotation the subscriber's secret is the one issued with the account
(``subscribers.webhook_secret``). A rotation issues a new secret; the previous one keeps
signing beside it for ``REGWATCH_SECRET_ROTATION_GRACE``, so receivers can switch without
losing a message. Each request carries one ``v1,`` signature per secret still signing,
separated by spaces: two after a rotation, three after a second rotation within the first one's
grace (every replaced secret keeps its own grace end).

Both places store secrets encrypted (``shared/secretbox.py``); the plaintext exists only in
memory, to sign, and in the one answer that hands a new secret to the subscriber.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.notifier.models import WebhookSecretRow
from services.notifier.signing import new_secret
from shared.accounts import Subscriber
from shared.errors import InputError
from shared.secretbox import for_session


async def signing_secrets(
    session: AsyncSession, subscriber: Subscriber, now: datetime
) -> list[str]:
    """The secrets that sign a request now: the current one first, then any in their grace."""
    return (await signing_secrets_of(session, [subscriber], now))[subscriber.id]


async def signing_secrets_of(
    session: AsyncSession, subscribers: Collection[Subscriber], now: datetime
) -> dict[str, list[str]]:
    """:func:`signing_secrets` of many subscribers, in one read."""
    return await signing_secrets_by_id(
        session, {subscriber.id: subscriber.webhook_secret for subscriber in subscribers}, now
    )


async def signing_secrets_by_id(
    session: AsyncSession, legacy: Mapping[str, str | None], now: datetime
) -> dict[str, list[str]]:
    """:func:`signing_secrets_of` given each subscriber's id and the secret issued with its
    account (``subscribers.webhook_secret``, stored form): what the dispatcher reads for a
    claim, without loading whole subscribers. The secrets rows are read as columns, and each
    stored secret is decrypted once however many subscribers' lists it is in."""
    if not legacy:
        return {}
    result = await session.execute(
        select(WebhookSecretRow.subscriber_id, WebhookSecretRow.secret, WebhookSecretRow.expires_at)
        .where(WebhookSecretRow.subscriber_id.in_(sorted(legacy)))
        .order_by(WebhookSecretRow.id.desc())
    )
    valid: dict[str, list[tuple[str, datetime | None]]] = {}
    for subscriber_id, secret, expires_at in result:
        if expires_at is None or expires_at > now:
            valid.setdefault(subscriber_id, []).append((secret, expires_at))
    box = for_session(session).box
    plain: dict[str, str] = {}

    def decrypt(stored: str) -> str:
        found = plain.get(stored)
        if found is None:
            found = plain[stored] = box.decrypt(stored)
        return found

    keys: dict[str, list[str]] = {}
    for subscriber_id, issued in legacy.items():
        rows = valid.get(subscriber_id, [])
        if not rows:
            keys[subscriber_id] = [decrypt(issued)] if issued else []
            continue
        current = [decrypt(secret) for secret, until in rows if until is None]
        grace = [decrypt(secret) for secret, until in rows if until is not None]
        keys[subscriber_id] = list(dict.fromkeys(current + grace))
    return keys


@dataclass(frozen=True)
class Rotation:
    webhook_secret: str
    previous_valid_until: datetime | None

    def as_dict(self) -> dict[str, str | None]:
        until = self.previous_valid_until
        return {
            "webhook_secret": self.webhook_secret,
            "previous_valid_until": until.isoformat() if until else None,
        }


async def rotate_secret(
    session: AsyncSession, subscriber: Subscriber, grace: timedelta, now: datetime
) -> Rotation:
    """Issue a new secret; the current one keeps signing until ``now + grace``."""
    if not subscriber.webhook_url:
        raise InputError("this subscriber has no webhook: nothing to sign")
    until = now + grace
    existing = (
        await session.execute(
            select(WebhookSecretRow.id).where(WebhookSecretRow.subscriber_id == subscriber.id)
        )
    ).first()
    previous: datetime | None = None
    box = for_session(session).box
    if existing is None:
        if subscriber.webhook_secret:
            session.add(
                WebhookSecretRow(
                    subscriber_id=subscriber.id,
                    secret=subscriber.webhook_secret,  # stored form: copied as it is
                    created_at=subscriber.created_at,
                    expires_at=until,
                )
            )
            previous = until
    else:
        await session.execute(
            delete(WebhookSecretRow).where(
                WebhookSecretRow.subscriber_id == subscriber.id,
                WebhookSecretRow.expires_at.is_not(None),
                WebhookSecretRow.expires_at <= now,
            )
        )
        changed = await session.execute(
            update(WebhookSecretRow)
            .where(
                WebhookSecretRow.subscriber_id == subscriber.id,
                WebhookSecretRow.expires_at.is_(None),
            )
            .values(expires_at=until)
        )
        if getattr(changed, "rowcount", 0):
            previous = until
    secret = new_secret()
    session.add(
        WebhookSecretRow(
            subscriber_id=subscriber.id,
            secret=box.encrypt(secret),
            created_at=now,
            expires_at=None,
        )
    )
    await session.flush()
    return Rotation(secret, previous)
