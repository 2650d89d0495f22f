"""A subscriber's channel targets (``notifier_targets``): add, list, remove.

Targets on any channel: chat robots, and email addresses and webhook URLs besides the
account's own (those two are rows too, marked ``account``: they change with the account,
``PATCH /v1/subscribers/me``, and cannot be removed here).

Secrets are write-only: stored encrypted, never shown again (a listing says only whether a
target has one), and a robot URL's token is masked in listings: it is a credential too. Removing
a target cancels what is still waiting to go to it.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final
from urllib.parse import parse_qsl, urlsplit

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.notifier.channels.robot import TARGET_REMOVED, RobotChannel
from services.notifier.chat_text import LANGUAGES
from services.notifier.ledger import channels
from services.notifier.models import DeliveryRow, TargetRow
from services.notifier.once import insert_once
from shared.errors import InputError
from shared.secretbox import for_session

MAX_TARGETS: Final = 20
MAX_SECRET: Final = 200
MAX_KEYWORD: Final = 40
MAX_LABEL: Final = 80
_TOKENISH: Final = re.compile(r"(token|key|secret|sign)", re.IGNORECASE)


@dataclass(frozen=True)
class NewTarget:
    channel: str
    address: str
    secret: str | None = None
    keyword: str | None = None
    language: str | None = None
    label: str | None = None


def chat_channels() -> list[str]:
    """The chat platforms (robots and incoming webhooks)."""
    return [name for name, channel in channels().items() if isinstance(channel, RobotChannel)]


def target_channels() -> list[str]:
    """Every channel a target can be added on: the chat platforms, email and webhooks."""
    return list(channels())


def _clean(value: str | None, what: str, limit: int) -> str | None:
    if value is None or not value.strip():
        return None
    value = value.strip()
    if len(value) > limit:
        raise InputError(f"{what} is too long ({len(value)} characters, limit {limit})")
    return value


def validate(new: NewTarget) -> NewTarget:
    """The target cleaned, or InputError naming the field."""
    known = target_channels()
    if new.channel not in known:
        raise InputError(f"unknown channel {new.channel!r}: choose from {', '.join(known)}")
    channel = channels()[new.channel]
    language = _clean(new.language, "language", 5)
    if language is not None and language not in LANGUAGES:
        raise InputError(f"language must be one of {', '.join(LANGUAGES)}, not {language!r}")
    secret = _clean(new.secret, "secret", MAX_SECRET)
    if secret is not None and not channel.takes_secret:
        raise InputError(
            f"{new.channel} targets take no secret"
            + (
                ": webhooks are signed with your webhook secrets"
                if new.channel == "webhook"
                else ""
            )
        )
    return NewTarget(
        new.channel,
        channel.check_address(new.address),
        secret,
        _clean(new.keyword, "keyword", MAX_KEYWORD),
        language,
        _clean(new.label, "label", MAX_LABEL),
    )


async def add_target(
    session: AsyncSession, subscriber_id: str, new: NewTarget, now: datetime
) -> TargetRow:
    new = validate(new)
    count = await session.scalar(
        select(func.count()).select_from(TargetRow).where(TargetRow.subscriber_id == subscriber_id)
    )
    if (count or 0) >= MAX_TARGETS:
        raise InputError(f"too many channel targets (limit {MAX_TARGETS}): remove one first")
    box = for_session(session).box
    row = TargetRow(
        id="tgt_" + secrets.token_hex(10),
        subscriber_id=subscriber_id,
        channel=new.channel,
        address=new.address,
        secret=box.encrypt(new.secret) if new.secret else None,
        keyword=new.keyword,
        language=new.language,
        label=new.label,
        created_at=now,
    )
    if not await insert_once(session, row):
        raise InputError(f"this {new.channel} target is already there")
    return row


async def list_targets(session: AsyncSession, subscriber_id: str) -> list[TargetRow]:
    found = await session.scalars(
        select(TargetRow)
        .where(TargetRow.subscriber_id == subscriber_id)
        .order_by(TargetRow.created_at, TargetRow.id)
    )
    return list(found)


async def remove_target(session: AsyncSession, subscriber_id: str, target_id: str) -> int | None:
    """Remove it; the number of waiting deliveries cancelled, None when there is no such
    target of this subscriber."""
    row = await session.get(TargetRow, target_id)
    if row is None or row.subscriber_id != subscriber_id:
        return None
    if row.account:
        raise InputError(
            f"this is your account's own {row.channel} target: change or clear it with "
            "PATCH /v1/subscribers/me (or the portal's delivery page)"
        )
    cancelled = await session.execute(
        update(DeliveryRow)
        .where(
            DeliveryRow.target_id == target_id,
            DeliveryRow.status.in_(("pending", "held")),
            DeliveryRow.claim_token.is_(None),
        )
        .values(status="cancelled", last_error=TARGET_REMOVED)
    )
    await session.delete(row)
    return int(getattr(cancelled, "rowcount", 0) or 0)


def masked(address: str) -> str:
    """The address with the values of token-like query parameters cut to their last 4
    characters (``access_token=…1a2b``)."""
    parts = urlsplit(address)
    if not parts.query:
        return address
    shown = [
        f"{name}=…{value[-4:]}" if _TOKENISH.search(name) else f"{name}={value}"
        for name, value in parse_qsl(parts.query, keep_blank_values=True)
    ]
    return parts._replace(query="&".join(shown)).geturl()


def target_out(row: TargetRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "channel": row.channel,
        "address": masked(row.address),
        "has_secret": bool(row.secret),
        "keyword": row.keyword,
        "language": row.language,
        "label": row.label,
        "account": row.account,
        "created_at": row.created_at.isoformat(),
    }
