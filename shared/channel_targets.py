"""Where a subscriber's alerts go: ``notifier_targets``, one row per target on any channel.

The notifier owns the table (``services/notifier/targets.py`` adds, lists and removes targets;
its channels read them). Its model is here, in ``shared``, for one reason: the account's own
email address and webhook URL (``POST``/``PATCH /v1/subscribers``, served by the matcher and
the portal) are targets too, rows marked ``account``, and :func:`sync_account_targets` keeps
them equal to the account in the same unit of work as the change. Migration 0016 made those
rows from the accounts' columns; since then the notifier sends only to rows of this table.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import TYPE_CHECKING, Final

from sqlalchemy import Boolean, ForeignKey, String, Text, UniqueConstraint, false, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from shared.db.base import Base, UTCDateTime, utcnow

if TYPE_CHECKING:  # shared.accounts builds on this module
    from shared.accounts import Subscriber

ACCOUNT_CHANNELS: Final = {"email": "email", "webhook": "webhook_url"}
"""The channels an account names a target of itself, and the account field that names it."""


def new_target_id() -> str:
    return "tgt_" + secrets.token_hex(10)


class TargetRow(Base):
    """One target of a subscriber on a channel (an email address, a webhook URL, a DingTalk
    group robot ...): several per channel allowed. ``account`` marks the account's own email
    address and webhook URL (changed with the account, not removed on their own). ``secret``
    (a robot's signing secret) is stored encrypted (``fernet:...``, ``shared/secretbox.py``)
    and never shown again; ``keyword`` is a word every message must carry (DingTalk's keyword
    mode); ``language`` overrides the default (``zh`` or ``en``)."""

    __tablename__ = "notifier_targets"
    __table_args__ = (UniqueConstraint("subscriber_id", "channel", "address"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    subscriber_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("subscribers.id", ondelete="CASCADE"), index=True
    )
    channel: Mapped[str] = mapped_column(String(20))
    address: Mapped[str] = mapped_column(Text, doc="email address, webhook or robot URL")
    secret: Mapped[str | None] = mapped_column(Text)
    keyword: Mapped[str | None] = mapped_column(String(40))
    language: Mapped[str | None] = mapped_column(String(5))
    label: Mapped[str | None] = mapped_column(String(80))
    account: Mapped[bool] = mapped_column(
        Boolean,
        default=False,
        server_default=false(),  # as migration 0016 added it
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


async def sync_account_targets(session: AsyncSession, subscriber: Subscriber) -> None:
    """Make the account's rows equal to its email address and webhook URL: add, move or
    remove them. A target the subscriber added with the same address becomes the account's
    (one row per address). Deliveries keep the row id they were recorded under, so an alert
    already recorded for an address is not recorded again after a change."""
    found = await session.scalars(select(TargetRow).where(TargetRow.subscriber_id == subscriber.id))
    rows = list(found)
    for channel, field in ACCOUNT_CHANNELS.items():
        address: str | None = getattr(subscriber, field)
        mine = next((r for r in rows if r.channel == channel and r.account), None)
        same = next((r for r in rows if r.channel == channel and r.address == address), None)
        if mine is not None and mine is not same:
            if address is not None and same is None:
                mine.address = address  # moved: the row (and its id) stays the account's
                continue
            await session.delete(mine)
        if address is None:
            continue
        if same is not None:
            same.account = True
        else:
            session.add(
                TargetRow(
                    id=new_target_id(),
                    subscriber_id=subscriber.id,
                    channel=channel,
                    address=address,
                    account=True,
                    created_at=utcnow(),
                )
            )
    await session.flush()
