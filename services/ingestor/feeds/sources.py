"""Configured feed sources and what was seen in them (tables ``feed_sources``, ``feed_items``)."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.ingestor.feeds.listing import KINDS
from services.ingestor.models import FeedItemRow, FeedSourceRow
from shared.db.base import utcnow
from shared.durations import format_duration
from shared.errors import InputError
from shared.ssrf import validate_webhook_url

MIN_INTERVAL = timedelta(seconds=1)


def url_key(url: str) -> str:
    return hashlib.sha256(url.encode()).hexdigest()


def check_feed_url(url: str) -> str:
    try:
        return validate_webhook_url(url)
    except InputError as exc:
        raise InputError(str(exc).replace("webhook URL", "feed URL")) from None


async def add_source(
    session: AsyncSession,
    url: str,
    *,
    kind: str = "auto",
    interval: timedelta | None = None,
    name: str | None = None,
) -> FeedSourceRow:
    """A new source, due at once. Raises InputError for a bad URL, kind or interval, or a URL
    that is already a source."""
    url = check_feed_url(url)
    if kind not in KINDS:
        raise InputError(f"kind {kind!r}: choose from {', '.join(KINDS)}")
    if interval is not None and interval < MIN_INTERVAL:
        raise InputError(f"interval {format_duration(interval)}: at least 1s")
    existing = await session.scalar(
        select(FeedSourceRow).where(FeedSourceRow.url_key == url_key(url))
    )
    if existing is not None:
        raise InputError(f"{url} is already source {existing.id} ({existing.name})")
    label = (name or "").strip() or url
    if len(label) > 200:
        raise InputError(f"name: at most 200 characters, got {len(label)}")
    now = utcnow()
    row = FeedSourceRow(
        url=url,
        url_key=url_key(url),
        name=label,
        kind=kind,
        interval_seconds=None if interval is None else int(interval.total_seconds()),
        enabled=True,
        status="new",
        failures=0,
        next_poll_at=now,
        created_at=now,
    )
    session.add(row)
    await session.flush()
    return row


async def get_source(session: AsyncSession, source_id: int) -> FeedSourceRow:
    row = await session.get(FeedSourceRow, source_id)
    if row is None:
        raise InputError(f"no feed source {source_id}")
    return row


async def remove_source(session: AsyncSession, source_id: int) -> None:
    row = await get_source(session, source_id)
    items = await session.scalars(select(FeedItemRow).where(FeedItemRow.source_id == source_id))
    for item in items:
        await session.delete(item)
    await session.delete(row)


async def all_sources(session: AsyncSession) -> list[FeedSourceRow]:
    return list(await session.scalars(select(FeedSourceRow).order_by(FeedSourceRow.id)))


async def due_source_ids(session: AsyncSession, now: datetime) -> list[int]:
    """Enabled sources whose next poll is due and that are not backing off."""
    result = await session.scalars(
        select(FeedSourceRow.id)
        .where(
            FeedSourceRow.enabled.is_(True),
            FeedSourceRow.next_poll_at <= now,
            or_(FeedSourceRow.backoff_until.is_(None), FeedSourceRow.backoff_until <= now),
        )
        .order_by(FeedSourceRow.next_poll_at, FeedSourceRow.id)
    )
    return list(result)


async def item_counts(session: AsyncSession) -> dict[int, dict[str, int]]:
    """Per source: items seen, ingested, failed and waiting for a retry."""
    rows = await session.execute(
        select(
            FeedItemRow.source_id,
            func.count(),
            func.sum(case((FeedItemRow.status == "ingested", 1), else_=0)),
            func.sum(case((FeedItemRow.status == "failed", 1), else_=0)),
            func.sum(case((FeedItemRow.status == "retry", 1), else_=0)),
        ).group_by(FeedItemRow.source_id)
    )
    return {
        source_id: {
            "seen": int(seen),
            "ingested": int(ingested or 0),
            "failed": int(failed or 0),
            "retrying": int(retrying or 0),
        }
        for source_id, seen, ingested, failed, retrying in rows
    }


def interval_of(row: FeedSourceRow, default: timedelta) -> timedelta:
    return default if row.interval_seconds is None else timedelta(seconds=row.interval_seconds)


def describe(
    row: FeedSourceRow, default_interval: timedelta, counts: dict[str, int] | None = None
) -> dict[str, Any]:
    """A source as ``regwatch sources list`` shows it."""

    def when(value: datetime | None) -> str | None:
        return None if value is None else value.isoformat()

    interval = interval_of(row, default_interval)
    return {
        "id": row.id,
        "name": row.name,
        "url": row.url,
        "kind": row.kind,
        "interval": format_duration(interval),
        "interval_is_default": row.interval_seconds is None,
        "enabled": row.enabled,
        "status": row.status,
        "last_poll": when(row.last_polled_at),
        "last_ok": when(row.last_ok_at),
        "error": row.last_error,
        "failures": row.failures,
        "backoff_until": when(row.backoff_until),
        "next_poll": when(row.next_poll_at),
        "items": counts or {"seen": 0, "ingested": 0, "failed": 0, "retrying": 0},
    }
