"""The notifier's tables: the delivery ledger and its attempts, reminders, and the notifier's
own per-subscriber settings (preferences, webhook secrets, tracked deadlines, removed watches).

Every per-subscriber table is keyed by ``subscriber_id``; the account itself (``subscribers``)
belongs to ``shared/accounts.py``.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column

from shared.channel_targets import TargetRow as TargetRow  # defined in shared: see there
from shared.db.base import Base, UTCDateTime, utcnow


class DeliveryRow(Base):
    """One alert on one channel target; unique per (subscriber, notice, type, reason, channel,
    target id).

    Statuses: ``pending`` (waiting for an attempt or a retry), ``held`` (quiet hours or the
    daily digest: released at ``release_at``), ``digested`` (sent inside the digest delivery
    ``digest_id``), ``delivered``, ``failed``, ``cancelled``.
    """

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("subscriber_id", "notice_id", "type", "reason", "channel", "target_id"),
        # the dispatcher's claim: the due pending rows, without the delivered history, oldest
        # first in the claim's order, so its window of the oldest is a range scan, not a sort
        # (migration 0021); with the queue, so a window read without a deep queue skips its
        # rows in the index, without looking them up (0022)
        Index("ix_deliveries_claim", "status", "next_attempt_at", "created_at", "id", "queue"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True, doc="webhook-id")
    subscriber_id: Mapped[str] = mapped_column(String(40), index=True)
    notice_id: Mapped[str] = mapped_column(String(80), index=True)
    type: Mapped[str] = mapped_column(String(40))
    reason: Mapped[str] = mapped_column(String(40), doc="match, or the reminder offset")
    channel: Mapped[str] = mapped_column(String(20))
    target: Mapped[str] = mapped_column(Text, doc="email address or webhook URL")
    target_id: Mapped[str] = mapped_column(
        String(40),
        default="",
        server_default="",  # as migration 0014 added it
        doc="the notifier_targets row, '' for the account's own",
    )
    queue: Mapped[str] = mapped_column(
        Text, doc="the queue it waits in (its channel's ``queue(target)``): per-queue limits"
    )
    payload: Mapped[str] = mapped_column(Text, doc="JSON: the data of the alert")
    status: Mapped[str] = mapped_column(String(20), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    claim_token: Mapped[str | None] = mapped_column(String(40))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    held_for: Mapped[str | None] = mapped_column(String(20), doc="digest or quiet")
    release_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    digest_id: Mapped[str | None] = mapped_column(String(40), index=True)
    retry_base: Mapped[int] = mapped_column(
        Integer,
        default=0,
        server_default="0",  # as migration 0004 added it
        doc="attempts made before the last replay (the retry count restarts)",
    )
    replayed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class RateRow(Base):
    """The latest sends of one queue under one of its rates (``services.notifier.ratelimit``)."""

    __tablename__ = "rate_limits"

    key: Mapped[str] = mapped_column(Text, primary_key=True, doc="the delivery queue")
    rate: Mapped[str] = mapped_column(String(40), primary_key=True, doc="e.g. 20/60s")
    sends: Mapped[str] = mapped_column(Text, doc="JSON: epoch seconds of the last sends")


class AttemptRow(Base):
    __tablename__ = "delivery_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    delivery_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("deliveries.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    ok: Mapped[bool] = mapped_column(default=False)
    retriable: Mapped[bool] = mapped_column(default=False)
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    duration_ms: Mapped[int] = mapped_column(Integer, default=0)


class ReminderRow(Base):
    """One reminder of one (subscriber, notice). Statuses: ``scheduled``, ``sent``,
    ``skipped`` (its time had passed when the notice arrived or the deadline moved, or a later
    reminder of the same notice was due at the same sweep: ``note`` says which), ``expired``
    (the deadline passed before it fired), ``cancelled`` (watch removed, deadline answered)."""

    __tablename__ = "reminders"
    __table_args__ = (UniqueConstraint("subscriber_id", "notice_id", "offset"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    subscriber_id: Mapped[str] = mapped_column(String(40), index=True)
    notice_id: Mapped[str] = mapped_column(String(80), index=True)
    offset: Mapped[str] = mapped_column(String(20))
    due_on: Mapped[date] = mapped_column(Date)
    fire_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    status: Mapped[str] = mapped_column(String(20), default="scheduled", index=True)
    payload: Mapped[str | None] = mapped_column(
        Text,
        doc="JSON: notice summary and matches; null (every row made since migration 0023): "
        "its tracked deadline's (``notifier_deadlines``), which every change keeps up to date",
    )
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    fired_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    late: Mapped[bool] = mapped_column(
        Boolean,
        default=False,
        server_default=false(),  # as migration 0004 added it
    )
    note: Mapped[str | None] = mapped_column(Text, doc="why it was cancelled or skipped")


class PreferencesRow(Base):
    """The notifier's settings of one subscriber (created on first use)."""

    __tablename__ = "notifier_preferences"

    subscriber_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    digest: Mapped[str] = mapped_column(String(20), default="immediate", doc="immediate|daily")
    digest_hour: Mapped[int] = mapped_column(Integer, default=9, doc="local hour, 0-23")
    quiet_start: Mapped[str | None] = mapped_column(String(5), doc="HH:MM local, or null")
    quiet_end: Mapped[str | None] = mapped_column(String(5), doc="HH:MM local, or null")
    remind_due_day: Mapped[bool] = mapped_column(Boolean, default=True)
    remind_overdue: Mapped[bool] = mapped_column(Boolean, default=True)
    chat_language: Mapped[str | None] = mapped_column(
        String(5), doc="zh or en for chat targets without their own; null = each platform's"
    )
    reminder_time: Mapped[str | None] = mapped_column(
        String(5), doc="HH:MM local at which day reminders fire; null = REGWATCH_REMINDER_TIME"
    )
    planned_clock: Mapped[str | None] = mapped_column(
        String(80), doc="'<zone> HH:MM' the scheduled reminders were planned with"
    )
    email_unsubscribed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    unsubscribe_token: Mapped[str] = mapped_column(String(64), unique=True)
    calendar_token: Mapped[str] = mapped_column(String(64), unique=True)
    webhook_disabled_url: Mapped[str | None] = mapped_column(Text)
    webhook_disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    webhook_disabled_reason: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class WebhookSecretRow(Base):
    """Signing secrets of one subscriber: the current one (``expires_at`` null) and, after a
    rotation, the previous ones until their grace period ends. ``secret`` is stored encrypted
    (``fernet:...``, see ``shared/secretbox.py``)."""

    __tablename__ = "notifier_webhook_secrets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    subscriber_id: Mapped[str] = mapped_column(String(40), index=True)
    secret: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class DeadlineRow(Base):
    """A deadline a subscriber is tracking: one per (subscriber, notice with a deadline).

    Statuses: ``open``, ``cancelled`` (every watch behind it was removed), ``answered``
    (the subscriber acknowledged it). The calendar feed shows the open ones."""

    __tablename__ = "notifier_deadlines"
    __table_args__ = (UniqueConstraint("subscriber_id", "notice_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    subscriber_id: Mapped[str] = mapped_column(String(40), index=True)
    notice_id: Mapped[str] = mapped_column(String(80))
    due_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default="open")
    payload: Mapped[str] = mapped_column(Text, doc="JSON: notice summary and matches")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class WatchTombstoneRow(Base):
    """A watch item the subscriber removed (from ``regwatch.watchlist.v1``): matches made
    before the removal but read after it schedule no reminders for it."""

    __tablename__ = "notifier_watch_tombstones"
    __table_args__ = (UniqueConstraint("subscriber_id", "kind", "name_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    subscriber_id: Mapped[str] = mapped_column(String(40), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    name_key: Mapped[str] = mapped_column(String(300))
    removed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
