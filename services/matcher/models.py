"""The matcher's tables: watch items, its outbox, the notices it consumed, alerts, feedback."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from shared.db.base import Base, UTCDateTime, utcnow
from shared.outbox_rows import OutboxColumns


class WatchRow(Base):
    __tablename__ = "watch_items"
    __table_args__ = (UniqueConstraint("subscriber_id", "kind", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    subscriber_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("subscribers.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(300))
    aliases: Mapped[str] = mapped_column(
        Text, default="[]", server_default="[]", doc="JSON list of the subscriber's own aliases"
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class WatchFormRow(Base):
    """A distinct watch (kind, name, aliases) prepared for the matcher's index: the keys it is
    filed under (``matching.features.watch_form``), so that a start reads them instead of
    preparing every distinct watch again (normalization, pinyin, directory lookups). A cache:
    a watch without its form is prepared at start and its form stored then. ``version`` is the
    ``form_version`` it was made with; forms of another version are stale and replaced."""

    __tablename__ = "matcher_watch_forms"

    digest: Mapped[str] = mapped_column(
        String(32), primary_key=True, doc="hash of kind, name and aliases (JSON)"
    )
    kind: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(300))
    aliases: Mapped[str] = mapped_column(Text, doc="JSON list, as watch_items.aliases")
    version: Mapped[str] = mapped_column(String(32))
    form: Mapped[str] = mapped_column(Text)


class MatcherOutboxRow(OutboxColumns, Base):
    """Events written in the same transaction as the change they announce, published in order
    by the relay: ``watchlist`` (WatchlistEvent, key subscriber_id) and ``matches``
    (MatchEvent, key subscriber_id)."""

    __tablename__ = "matcher_outbox"

    topic: Mapped[str] = mapped_column(String(40), doc="logical topic: watchlist or matches")


class StoredNoticeRow(Base):
    """A notice the matcher consumed, kept for retroactive matching of new watch items."""

    __tablename__ = "matcher_notices"

    notice_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    payload: Mapped[str] = mapped_column(Text, doc="the NoticeEvent as JSON")
    published_on: Mapped[date] = mapped_column(Date, index=True)
    due_on: Mapped[date | None] = mapped_column(Date, index=True, doc="the deadline, if any")
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    matched_payload: Mapped[str | None] = mapped_column(
        Text, doc="the last version whose alerts were all recorded (NULL: none yet)"
    )


class AlertRow(Base):
    """One MatchEvent the matcher published: the first alert of a (subscriber, notice) has
    reason ``match``; later ones (``match-2``...) carry only matches not alerted before."""

    __tablename__ = "matcher_alerts"
    __table_args__ = (UniqueConstraint("subscriber_id", "notice_id", "reason"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    match_id: Mapped[str] = mapped_column(String(40), index=True)
    subscriber_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("subscribers.id", ondelete="CASCADE"), index=True
    )
    notice_id: Mapped[str] = mapped_column(String(80), index=True)
    reason: Mapped[str] = mapped_column(String(40))
    cause: Mapped[str] = mapped_column(String(20), doc="notice (new or updated) or watch (retro)")
    payload: Mapped[str] = mapped_column(Text, doc="the MatchEvent as JSON")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)


class FeedbackRow(Base):
    """A subscriber's verdict on one match; ``wrong`` suppresses that match from then on."""

    __tablename__ = "matcher_feedback"
    __table_args__ = (UniqueConstraint("subscriber_id", "match_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    subscriber_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("subscribers.id", ondelete="CASCADE"), index=True
    )
    match_key: Mapped[str] = mapped_column(String(64), doc="hash of what the match is about")
    match_id: Mapped[str] = mapped_column(String(40), doc="the alert the verdict was given on")
    watch_kind: Mapped[str] = mapped_column(String(20))
    watch_name: Mapped[str] = mapped_column(String(300))
    entity_name: Mapped[str] = mapped_column(Text)
    entity_developer: Mapped[str | None] = mapped_column(Text)
    verdict: Mapped[str] = mapped_column(String(10), doc="wrong or right")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
