"""The ingestor's tables: stored notices, where each was seen, the name keys of the apps and
companies each names, the transactional outbox, and the feeds it polls with the items seen in
them."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from shared.db.base import Base, UTCDateTime, utcnow
from shared.outbox_rows import OutboxColumns


class NoticeRow(Base):
    """A stored notice. ``batch_key`` is the name key of its batch label ("2024年第3批"), NULL
    without one: copies with different labels are never one notice, so the copy check reads
    only the stored notices of the regulator and weeks whose key is the copy's or NULL
    (``ix_notices_reprint``), not every notice of those weeks."""

    __tablename__ = "notices"
    __table_args__ = (Index("ix_notices_reprint", "regulator_code", "batch_key", "published_on"),)

    notice_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    regulator_code: Mapped[str] = mapped_column(String(40), index=True)
    published_on: Mapped[date] = mapped_column(Date, index=True)
    batch_key: Mapped[str | None] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(Text)
    payload: Mapped[str] = mapped_column(Text, doc="the NoticeEvent as JSON")
    content_hash: Mapped[str] = mapped_column(String(64), doc="hash of the event's content")
    sources: Mapped[int] = mapped_column(Integer, default=1, doc="times ingested")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class NoticeSourceRow(Base):
    """One copy of a notice: where it was seen (URL, file name or "request body") and the hash
    of what was read there. A reprint elsewhere, or a changed page, adds a row."""

    __tablename__ = "notice_sources"
    __table_args__ = (UniqueConstraint("notice_id", "source_key", "content_hash"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    notice_id: Mapped[str] = mapped_column(String(80), index=True, doc="the stored notice")
    parsed_id: Mapped[str] = mapped_column(
        String(80), index=True, doc="the id extraction gave this copy (differs for a reprint)"
    )
    source: Mapped[str] = mapped_column(Text, doc="URL, file name or 'request body'")
    source_key: Mapped[str] = mapped_column(String(64), doc="sha256 of source")
    content_hash: Mapped[str] = mapped_column(String(64), doc="sha256 of the bytes read")
    times_seen: Mapped[int] = mapped_column(Integer, default=1)
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class NoticeEntityRow(Base):
    """One name key of a stored notice: of an entity's name or of its developer, in each form
    ``name_index.name_keys`` gives (so ``GET /v1/notices?app=`` finds 抖音 by ``Douyin``).
    Rewritten whenever the notice's entities change; only for searching."""

    __tablename__ = "notice_entities"

    notice_id: Mapped[str] = mapped_column(
        String(80), ForeignKey("notices.notice_id", ondelete="CASCADE"), primary_key=True
    )
    name_key: Mapped[str] = mapped_column(String(200), primary_key=True, index=True)


class OutboxRow(OutboxColumns, Base):
    """NoticeEvents to publish (logical topic ``notices``, key the notice id)."""

    __tablename__ = "outbox"


class FeedSourceRow(Base):
    """A configured feed (RSS/Atom, or an HTML list page) and the state of its polling."""

    __tablename__ = "feed_sources"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    url: Mapped[str] = mapped_column(Text)
    url_key: Mapped[str] = mapped_column(String(64), unique=True, doc="sha256 of url")
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(10), doc="auto, rss, atom or html")
    schedule: Mapped[str | None] = mapped_column(
        Text,
        doc="when it is polled (shared/poll_schedule.py's text); NULL = REGWATCH_FEED_SCHEDULE,"
        " else every REGWATCH_FEED_INTERVAL",
    )
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    etag: Mapped[str | None] = mapped_column(Text)
    last_modified: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(
        String(20), default="new", doc="new, ok, not_modified or error"
    )
    last_polled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_ok_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    failures: Mapped[int] = mapped_column(Integer, default=0, doc="consecutive failed polls")
    backoff_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    next_poll_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True, default=utcnow)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class FeedItemRow(Base):
    """An item seen in a feed: fetched and ingested once, with the notice or the error."""

    __tablename__ = "feed_items"
    __table_args__ = (UniqueConstraint("source_id", "item_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    source_id: Mapped[int] = mapped_column(
        ForeignKey("feed_sources.id", ondelete="CASCADE"), index=True
    )
    item_key: Mapped[str] = mapped_column(String(64), doc="sha256 of the guid or URL")
    guid: Mapped[str] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(Text)
    title: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(
        String(20), default="pending", doc="pending, ingested, retry or failed"
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    notice_id: Mapped[str | None] = mapped_column(String(80), index=True)
    outcome: Mapped[str | None] = mapped_column(String(20), doc="new, updated or unchanged")
    error: Mapped[str | None] = mapped_column(Text)
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
