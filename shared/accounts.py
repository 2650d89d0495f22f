"""Subscriber accounts: identity, API key and channels, read by the matcher and the notifier.

The matcher owns watch items, the notifier owns deliveries and reminders; both need to know who
a subscriber is and where to reach them, so the account table lives here.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime

import email_validator
from sqlalchemy import String, Text, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from shared.db.base import Base, UTCDateTime, utcnow
from shared.durations import format_duration, parse_durations
from shared.errors import InputError, TransientError
from shared.ssrf import check_url, validate_webhook_url

API_KEY_PREFIX = "rw_"


class Subscriber(Base):
    __tablename__ = "subscribers"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    api_key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    email: Mapped[str | None] = mapped_column(String(320))
    webhook_url: Mapped[str | None] = mapped_column(Text)
    webhook_secret: Mapped[str | None] = mapped_column(String(100))
    reminders: Mapped[str] = mapped_column(String(200), default="7d,3d,1d")
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


def hash_api_key(api_key: str) -> str:
    return hashlib.sha256(api_key.encode()).hexdigest()


def new_subscriber_id() -> str:
    return "sub_" + uuid.uuid4().hex[:20]


def new_api_key() -> str:
    return API_KEY_PREFIX + secrets.token_urlsafe(32)


@dataclass(frozen=True)
class NewSubscriber:
    subscriber: Subscriber
    api_key: str


async def create_subscriber(
    session: AsyncSession,
    *,
    name: str,
    email: str | None,
    webhook_url: str | None,
    webhook_secret: str | None,
    reminders: str,
    timezone: str = "Asia/Shanghai",
) -> NewSubscriber:
    api_key = new_api_key()
    row = Subscriber(
        id=new_subscriber_id(),
        name=name,
        api_key_hash=hash_api_key(api_key),
        email=email,
        webhook_url=webhook_url,
        webhook_secret=webhook_secret,
        reminders=reminders,
        timezone=timezone,
        created_at=utcnow(),
    )
    session.add(row)
    await session.flush()
    return NewSubscriber(row, api_key)


async def get_subscriber(session: AsyncSession, subscriber_id: str) -> Subscriber | None:
    return await session.get(Subscriber, subscriber_id)


async def subscriber_by_api_key(session: AsyncSession, api_key: str) -> Subscriber | None:
    result = await session.execute(
        select(Subscriber).where(Subscriber.api_key_hash == hash_api_key(api_key))
    )
    return result.scalar_one_or_none()


def new_webhook_secret() -> str:
    """A Standard Webhooks secret: ``whsec_`` + base64 of 24 random bytes."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def validate_email(address: str) -> str:
    try:
        return email_validator.validate_email(address, check_deliverability=False).normalized
    except email_validator.EmailNotValidError as exc:
        raise InputError(f"invalid email address {address!r}: {exc}") from exc


def validate_reminders(text: str) -> str:
    try:
        offsets = parse_durations(text)
    except ValueError as exc:
        raise InputError(f"invalid reminders {text!r}: {exc}") from exc
    if any(offset.total_seconds() < 0 for offset in offsets):
        raise InputError(f"invalid reminders {text!r}: offsets cannot be negative")
    return ",".join(format_duration(offset) for offset in offsets)


@dataclass(frozen=True)
class Registration:
    id: str
    api_key: str
    webhook_secret: str | None

    def as_dict(self) -> dict[str, str | None]:
        return {"id": self.id, "api_key": self.api_key, "webhook_secret": self.webhook_secret}


async def register_subscriber(
    session: AsyncSession,
    *,
    name: str,
    email: str | None,
    webhook_url: str | None,
    reminders: str | None,
    default_reminders: str,
    allow_private: bool,
) -> Registration:
    """Validate and create a subscriber with its channels; the edge for CLI and HTTP."""
    name = " ".join(name.split())
    if not name:
        raise InputError("subscriber name is empty")
    if email is None and webhook_url is None:
        raise InputError("give at least one channel: an email address or a webhook URL")
    address = validate_email(email) if email is not None else None
    url = None
    if webhook_url is not None:
        url = validate_webhook_url(webhook_url)
        # a name that does not resolve yet is accepted: every delivery attempt checks it again
        with contextlib.suppress(TransientError):
            await check_url(url, allow_private=allow_private)
    offsets = validate_reminders(reminders if reminders is not None else default_reminders)
    secret = new_webhook_secret() if url else None
    created = await create_subscriber(
        session,
        name=name,
        email=address,
        webhook_url=url,
        webhook_secret=secret,
        reminders=offsets,
    )
    return Registration(created.subscriber.id, created.api_key, secret)
