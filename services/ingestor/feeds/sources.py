"""Configured feed sources and what was seen in them (tables ``feed_sources``, ``feed_items``)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.ingestor.feeds.listing import KINDS
from services.ingestor.models import FeedItemRow, FeedSourceRow
from shared.db.base import utcnow
from shared.durations import format_duration
from shared.errors import InputError
from shared.poll_schedule import (
    PollSchedule,
    first_poll,
    format_schedule,
    next_poll,
    parse_schedule,
)
from shared.ssrf import validate_webhook_url


def url_key(url: str) -> str:
    return hashlib.sha256(url.encode()).hexdigest()


def check_feed_url(url: str) -> str:
    try:
        return validate_webhook_url(url)
    except InputError as exc:
        raise InputError(str(exc).replace("webhook URL", "feed URL")) from None


def check_schedule(text: str, field: str = "schedule") -> str:
    """The canonical text of a schedule; InputError naming ``field`` and giving an example."""
    try:
        return format_schedule(parse_schedule(text, field))
    except ValueError as exc:
        raise InputError(str(exc)) from None


async def add_source(
    session: AsyncSession,
    url: str,
    *,
    kind: str = "auto",
    schedule: str | None = None,
    name: str | None = None,
    default: PollSchedule | None = None,
    now: datetime | None = None,
) -> FeedSourceRow:
    """A new source, due at once (or when its schedule's hours next open; ``default`` is the
    server's schedule, for a source that sets none). Raises InputError for a bad URL, kind or
    schedule, or a URL that is already a source."""
    url = check_feed_url(url)
    if kind not in KINDS:
        raise InputError(f"kind {kind!r}: choose from {', '.join(KINDS)}")
    stored = None if schedule is None else check_schedule(schedule)
    existing = await session.scalar(
        select(FeedSourceRow).where(FeedSourceRow.url_key == url_key(url))
    )
    if existing is not None:
        raise InputError(f"{url} is already source {existing.id} ({existing.name})")
    label = (name or "").strip() or url
    if len(label) > 200:
        raise InputError(f"name: at most 200 characters, got {len(label)}")
    now = now or utcnow()
    row = FeedSourceRow(
        url=url,
        url_key=url_key(url),
        name=label,
        kind=kind,
        schedule=stored,
        enabled=True,
        status="new",
        failures=0,
        next_poll_at=now,
        created_at=now,
    )
    plan = default if stored is None else parse_schedule(stored)
    if plan is not None:
        row.next_poll_at = first_poll(plan, now)
    session.add(row)
    await session.flush()
    return row


async def set_schedule(
    session: AsyncSession,
    source_id: int,
    schedule: str | None,
    default: PollSchedule,
    *,
    now: datetime | None = None,
) -> FeedSourceRow:
    """Give a source its own schedule (None: the server's ``default`` again). Its next poll
    follows the new schedule from its last poll (at once if that is already past), or from
    now if it was never polled; a backoff in progress stays."""
    row = await get_source(session, source_id)
    row.schedule = None if schedule is None else check_schedule(schedule)
    now = now or utcnow()
    plan = schedule_of(row, default)
    last = row.last_polled_at
    due = first_poll(plan, now) if last is None else max(next_poll(plan, last), now)
    if row.backoff_until is not None and row.backoff_until > due:
        due = row.backoff_until
    row.next_poll_at = due
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


def schedule_of(row: FeedSourceRow, default: PollSchedule) -> PollSchedule:
    """The source's own schedule, else the server's."""
    return default if row.schedule is None else parse_schedule(row.schedule)


def describe(
    row: FeedSourceRow, default: PollSchedule, counts: dict[str, int] | None = None
) -> dict[str, Any]:
    """A source as ``regwatch sources list`` and ``GET /v1/sources`` show it."""

    def when(value: datetime | None) -> str | None:
        return None if value is None else value.isoformat()

    schedule = schedule_of(row, default)
    next_local = None
    if schedule.window is not None:
        next_local = row.next_poll_at.astimezone(schedule.window.tz).isoformat()
    return {
        "id": row.id,
        "name": row.name,
        "url": row.url,
        "kind": row.kind,
        "schedule": format_schedule(schedule),
        "schedule_is_default": row.schedule is None,
        "interval": format_duration(schedule.every),
        "enabled": row.enabled,
        "status": row.status,
        "last_poll": when(row.last_polled_at),
        "last_ok": when(row.last_ok_at),
        "error": row.last_error,
        "failures": row.failures,
        "backoff_until": when(row.backoff_until),
        "next_poll": when(row.next_poll_at.astimezone(UTC)),
        "next_poll_local": next_local,
        "items": counts or {"seen": 0, "ingested": 0, "failed": 0, "retrying": 0},
    }
