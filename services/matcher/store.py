"""Watch items in the database."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.matcher.matching import WatchItem
from services.matcher.models import WatchRow
from shared.db.base import utcnow
from shared.errors import InputError

WATCH_KINDS = ("app", "company")


def clean_watch(kind: str, name: str) -> tuple[str, str]:
    if kind not in WATCH_KINDS:
        raise InputError(f"watch kind must be 'app' or 'company', not {kind!r}")
    cleaned = " ".join(name.split())
    if not cleaned:
        raise InputError("watch name is empty")
    if len(cleaned) > 300:
        raise InputError(f"watch name is too long ({len(cleaned)} characters, limit 300)")
    return kind, cleaned


async def add_watch(session: AsyncSession, subscriber_id: str, kind: str, name: str) -> WatchRow:
    """Add a watch item; adding the same (kind, name) again returns the existing one."""
    kind, name = clean_watch(kind, name)
    existing = await session.execute(
        select(WatchRow).where(
            WatchRow.subscriber_id == subscriber_id, WatchRow.kind == kind, WatchRow.name == name
        )
    )
    row = existing.scalar_one_or_none()
    if row is not None:
        return row
    row = WatchRow(subscriber_id=subscriber_id, kind=kind, name=name, created_at=utcnow())
    session.add(row)
    await session.flush()
    return row


async def list_watches(session: AsyncSession, subscriber_id: str) -> list[WatchRow]:
    result = await session.execute(
        select(WatchRow).where(WatchRow.subscriber_id == subscriber_id).order_by(WatchRow.id)
    )
    return list(result.scalars())


async def remove_watch(session: AsyncSession, subscriber_id: str, watch_id: int) -> bool:
    result = await session.execute(
        delete(WatchRow).where(WatchRow.subscriber_id == subscriber_id, WatchRow.id == watch_id)
    )
    return bool(getattr(result, "rowcount", 0))


async def all_watch_items(session: AsyncSession) -> list[WatchItem]:
    result = await session.execute(select(WatchRow).order_by(WatchRow.id))
    return [
        WatchItem(subscriber_id=row.subscriber_id, kind=row.kind, name=row.name, id=row.id)  # type: ignore[arg-type]
        for row in result.scalars()
    ]
