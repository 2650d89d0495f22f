"""The notifier's tables: the delivery ledger, its attempts, and reminders."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from shared.db.base import Base, UTCDateTime, utcnow


class DeliveryRow(Base):
    """One alert on one channel; unique per (subscriber, notice, type, reason, channel)."""

    __tablename__ = "deliveries"
    __table_args__ = (UniqueConstraint("subscriber_id", "notice_id", "type", "reason", "channel"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True, doc="webhook-id")
    subscriber_id: Mapped[str] = mapped_column(String(40), index=True)
    notice_id: Mapped[str] = mapped_column(String(80), index=True)
    type: Mapped[str] = mapped_column(String(40))
    reason: Mapped[str] = mapped_column(String(40), doc="match, or the reminder offset")
    channel: Mapped[str] = mapped_column(String(20))
    target: Mapped[str] = mapped_column(Text, doc="email address or webhook URL")
    payload: Mapped[str] = mapped_column(Text, doc="JSON: the data of the alert")
    status: Mapped[str] = mapped_column(String(20), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    claim_token: Mapped[str | None] = mapped_column(String(40))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


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
    __tablename__ = "reminders"
    __table_args__ = (UniqueConstraint("subscriber_id", "notice_id", "offset"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    subscriber_id: Mapped[str] = mapped_column(String(40), index=True)
    notice_id: Mapped[str] = mapped_column(String(80), index=True)
    offset: Mapped[str] = mapped_column(String(20))
    due_on: Mapped[date] = mapped_column(Date)
    fire_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    status: Mapped[str] = mapped_column(String(20), default="scheduled", index=True)
    payload: Mapped[str] = mapped_column(Text, doc="JSON: notice summary and matches")
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    fired_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
