"""Subscriber accounts: identity, API key and channels, read by the matcher and the notifier.

The matcher owns watch items, the notifier owns deliveries and reminders; both need to know who
a subscriber is and where to reach them, so the account table lives here.
"""

from __future__ import annotations

import base64
import contextlib
import secrets
import uuid
import zoneinfo
from dataclasses import dataclass
from datetime import datetime
from typing import Final

import email_validator
from sqlalchemy import String, Text, delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from shared.channel_targets import sync_account_targets
from shared.db.base import Base, UTCDateTime, utcnow
from shared.durations import format_duration, parse_durations
from shared.errors import InputError, TransientError
from shared.logging import get_logger
from shared.secretbox import for_session, legacy_api_key_hash
from shared.ssrf import check_url, validate_webhook_url

API_KEY_PREFIX = "rw_"
DEFAULT_TIMEZONE: Final = "Asia/Shanghai"

log = get_logger("regwatch.accounts")


class Subscriber(Base):
    """A subscriber. ``api_key_hash`` is ``hmac-sha256:<hex>`` under the server's pepper (a
    bare sha256 hex from before is upgraded on the key's next use); ``webhook_secret`` is the
    stored form, encrypted (``fernet:...``): read it with :func:`webhook_secret_of`."""

    __tablename__ = "subscribers"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    api_key_hash: Mapped[str] = mapped_column(String(100), unique=True)
    email: Mapped[str | None] = mapped_column(String(320))
    webhook_url: Mapped[str | None] = mapped_column(Text)
    webhook_secret: Mapped[str | None] = mapped_column(Text)
    reminders: Mapped[str] = mapped_column(String(200), default="7d,3d,1d")
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


def hash_api_key(session: AsyncSession, api_key: str) -> str:
    """The stored form of an API key: HMAC-SHA256 under the pepper of the session's database."""
    return for_session(session).hash_api_key(api_key)


def webhook_secret_of(session: AsyncSession, subscriber: Subscriber) -> str | None:
    """The subscriber's first webhook secret in plaintext (stored encrypted)."""
    stored = subscriber.webhook_secret
    return for_session(session).box.decrypt(stored) if stored else None


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
    box = for_session(session).box
    row = Subscriber(
        id=new_subscriber_id(),
        name=name,
        api_key_hash=hash_api_key(session, api_key),
        email=email,
        webhook_url=webhook_url,
        webhook_secret=box.encrypt(webhook_secret) if webhook_secret else None,
        reminders=reminders,
        timezone=timezone,
        created_at=utcnow(),
    )
    session.add(row)
    await session.flush()
    await sync_account_targets(session, row)
    return NewSubscriber(row, api_key)


async def get_subscriber(session: AsyncSession, subscriber_id: str) -> Subscriber | None:
    return await session.get(Subscriber, subscriber_id)


async def subscriber_by_api_key(session: AsyncSession, api_key: str) -> Subscriber | None:
    """The subscriber of an API key (an indexed equality lookup of its hash).

    A key stored before the pepper (bare sha256) still works, and its row is upgraded to the
    HMAC form on the way: hashes cannot be migrated without the keys, so it happens on use."""
    digest = hash_api_key(session, api_key)
    result = await session.execute(select(Subscriber).where(Subscriber.api_key_hash == digest))
    found = result.scalar_one_or_none()
    if found is not None:
        return found
    legacy = legacy_api_key_hash(api_key)
    result = await session.execute(select(Subscriber).where(Subscriber.api_key_hash == legacy))
    found = result.scalar_one_or_none()
    if found is not None:
        found.api_key_hash = digest
        await session.flush()
        log.info("API key hash upgraded to HMAC", extra={"subscriber_id": found.id})
    return found


def new_webhook_secret() -> str:
    """A Standard Webhooks secret: ``whsec_`` + base64 of 24 random bytes."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def validate_email(address: str) -> str:
    try:
        return email_validator.validate_email(address, check_deliverability=False).normalized
    except email_validator.EmailNotValidError as exc:
        raise InputError(f"invalid email address {address!r}: {exc}") from exc


def validate_timezone(name: str) -> str:
    """An IANA time zone name such as ``Europe/Berlin`` (``UTC`` too); InputError otherwise."""
    cleaned = name.strip()
    if not cleaned:
        raise InputError("time zone is empty: give an IANA name such as Asia/Shanghai")
    if cleaned not in _zone_names():
        raise InputError(
            f"unknown time zone {name!r}: give an IANA name such as Asia/Shanghai or Europe/Berlin"
        )
    return cleaned


def _zone_names() -> set[str]:
    return zoneinfo.available_timezones() | {"UTC"}


def validate_name(name: str) -> str:
    cleaned = " ".join(name.split())
    if not cleaned:
        raise InputError("subscriber name is empty")
    if len(cleaned) > 200:
        raise InputError(f"subscriber name is too long ({len(cleaned)} characters, limit 200)")
    return cleaned


async def validate_webhook(url: str, *, allow_private: bool, allow_link_local: bool = False) -> str:
    """Syntax and SSRF check of a webhook URL at the edge (CLI, HTTP).

    A host that does not resolve yet is accepted: every delivery attempt checks it again.
    """
    cleaned = validate_webhook_url(url)
    with contextlib.suppress(TransientError):
        await check_url(cleaned, allow_private=allow_private, allow_link_local=allow_link_local)
    return cleaned


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
    allow_link_local: bool = False,
    timezone: str | None = None,
) -> Registration:
    """Validate and create a subscriber with its channels; the edge for CLI and HTTP."""
    name = validate_name(name)
    if email is None and webhook_url is None:
        raise InputError("give at least one channel: an email address or a webhook URL")
    address = validate_email(email) if email is not None else None
    url = None
    if webhook_url is not None:
        url = await validate_webhook(
            webhook_url, allow_private=allow_private, allow_link_local=allow_link_local
        )
    offsets = validate_reminders(reminders if reminders is not None else default_reminders)
    zone = validate_timezone(timezone) if timezone is not None else DEFAULT_TIMEZONE
    secret = new_webhook_secret() if url else None
    created = await create_subscriber(
        session,
        name=name,
        email=address,
        webhook_url=url,
        webhook_secret=secret,
        reminders=offsets,
        timezone=zone,
    )
    return Registration(created.subscriber.id, created.api_key, secret)


@dataclass(frozen=True)
class SubscriberChanges:
    """A partial update: only the fields named in ``fields`` change (None clears a channel)."""

    fields: frozenset[str]
    name: str | None = None
    email: str | None = None
    webhook_url: str | None = None
    reminders: str | None = None
    timezone: str | None = None


UPDATABLE_FIELDS: Final = frozenset({"name", "email", "webhook_url", "reminders", "timezone"})


async def update_subscriber(
    session: AsyncSession,
    subscriber: Subscriber,
    changes: SubscriberChanges,
    *,
    allow_private: bool,
    allow_link_local: bool = False,
) -> str | None:
    """Validate and apply ``changes`` to a subscriber loaded in ``session``.

    Returns the new webhook secret when the subscriber had no webhook before (shown once),
    else None. At least one channel (email or webhook) must remain.
    """
    unknown = changes.fields - UPDATABLE_FIELDS
    if unknown:
        raise InputError(f"cannot change {', '.join(sorted(unknown))}")
    fields = changes.fields
    for required in ("name", "reminders", "timezone"):
        if required in fields and getattr(changes, required) is None:
            raise InputError(f"{required} cannot be null")
    name = validate_name(changes.name) if changes.name is not None else subscriber.name
    email = subscriber.email
    if "email" in fields:
        email = validate_email(changes.email) if changes.email else None
    url = subscriber.webhook_url
    if "webhook_url" in fields:
        url = (
            await validate_webhook(
                changes.webhook_url,
                allow_private=allow_private,
                allow_link_local=allow_link_local,
            )
            if changes.webhook_url
            else None
        )
    if email is None and url is None:
        raise InputError("give at least one channel: an email address or a webhook URL")
    reminders = subscriber.reminders
    if changes.reminders is not None:
        reminders = validate_reminders(changes.reminders)
    zone = validate_timezone(changes.timezone) if changes.timezone is not None else None
    new_secret = None
    if url is not None and not subscriber.webhook_secret:
        new_secret = new_webhook_secret()
        subscriber.webhook_secret = for_session(session).box.encrypt(new_secret)
    subscriber.name = name
    subscriber.email = email
    subscriber.webhook_url = url
    subscriber.reminders = reminders
    if zone is not None:
        subscriber.timezone = zone
    await session.flush()
    await sync_account_targets(session, subscriber)
    return new_secret


async def rotate_api_key(session: AsyncSession, subscriber_id: str) -> str | None:
    """Give a subscriber a new API key; the old one stops working at once. None if unknown.

    A key is rotated because it may have leaked, so whatever it may have opened closes too:
    every portal session of the subscriber ends and unused sign-in links become void."""
    # here, not at the top: shared.portal is built on this module
    from shared.portal.models import PortalLink, PortalSession

    subscriber = await session.get(Subscriber, subscriber_id)
    if subscriber is None:
        return None
    api_key = new_api_key()
    subscriber.api_key_hash = hash_api_key(session, api_key)
    await session.execute(delete(PortalSession).where(PortalSession.subscriber_id == subscriber_id))
    await session.execute(
        delete(PortalLink).where(
            PortalLink.subscriber_id == subscriber_id, PortalLink.used_at.is_(None)
        )
    )
    await session.flush()
    return api_key
