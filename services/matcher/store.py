"""Watch items in the database; every change also queues a WatchlistEvent in the outbox.

The change and its event are written in one transaction (the caller's session), so the relay
publishes exactly the changes that were committed, in the order they were committed per
subscriber (key: subscriber_id).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.matcher.matching import WatchItem
from services.matcher.models import MatcherOutboxRow, WatchRow
from shared import outbox_rows
from shared.db.base import utcnow
from shared.errors import InputError
from shared.events import WatchItemRef, WatchlistEvent

WATCH_KINDS = ("app", "company")
MAX_NAME = 300
MAX_ALIASES = 20
WATCHLIST_STREAM = "watchlist"
MATCHES_STREAM = "matches"

WatchOp = Literal["added", "removed", "updated"]


def clean_name(name: str, what: str = "watch name") -> str:
    cleaned = " ".join(name.split())
    if not cleaned:
        raise InputError(f"{what} is empty")
    if len(cleaned) > MAX_NAME:
        raise InputError(f"{what} is too long ({len(cleaned)} characters, limit {MAX_NAME})")
    return cleaned


def clean_kind(kind: str) -> str:
    if kind not in WATCH_KINDS:
        raise InputError(f"watch kind must be 'app' or 'company', not {kind!r}")
    return kind


def clean_watch(kind: str, name: str) -> tuple[str, str]:
    return clean_kind(kind), clean_name(name)


def clean_aliases(aliases: Iterable[str], name: str = "") -> list[str]:
    """Whitespace-folded, without blanks, duplicates or the watch's own name; at most 20."""
    out: list[str] = []
    for alias in aliases:
        if not alias.strip():
            continue
        cleaned = clean_name(alias, "alias")
        if cleaned != name and cleaned not in out:
            out.append(cleaned)
    if len(out) > MAX_ALIASES:
        raise InputError(f"too many aliases ({len(out)}, limit {MAX_ALIASES})")
    return out


def aliases_of(row: WatchRow) -> list[str]:
    try:
        value = json.loads(row.aliases or "[]")
    except json.JSONDecodeError:
        return []
    return [str(a) for a in value] if isinstance(value, list) else []


def to_item(row: WatchRow) -> WatchItem:
    """The matching package's view of a stored watch item."""
    return WatchItem(
        subscriber_id=row.subscriber_id,
        kind=row.kind,  # type: ignore[arg-type]
        name=row.name,
        id=row.id,
        aliases=tuple(aliases_of(row)),
    )


def watch_ref(row: WatchRow) -> WatchItemRef:
    return WatchItemRef(id=row.id, kind=row.kind, name=row.name, aliases=aliases_of(row))


def queue_event(session: AsyncSession, stream: str, key: str, payload: dict[str, object]) -> None:
    session.add(
        MatcherOutboxRow(
            topic=stream,
            key=key,
            payload=json.dumps(payload, ensure_ascii=False),
            created_at=utcnow(),
        )
    )


def queue_watch_event(session: AsyncSession, op: WatchOp, row: WatchRow) -> None:
    event = WatchlistEvent(
        op=op, subscriber_id=row.subscriber_id, watch=watch_ref(row), at=utcnow()
    )
    queue_event(session, WATCHLIST_STREAM, row.subscriber_id, event.dump())


@dataclass(frozen=True)
class Added:
    row: WatchRow
    created: bool


async def find_watch(
    session: AsyncSession, subscriber_id: str, kind: str, name: str
) -> WatchRow | None:
    result = await session.execute(
        select(WatchRow).where(
            WatchRow.subscriber_id == subscriber_id, WatchRow.kind == kind, WatchRow.name == name
        )
    )
    return result.scalar_one_or_none()


async def add_watch(
    session: AsyncSession,
    subscriber_id: str,
    kind: str,
    name: str,
    aliases: Iterable[str] = (),
) -> WatchRow:
    """Add a watch item; adding the same (kind, name) again returns the existing one."""
    return (await put_watch(session, subscriber_id, kind, name, aliases)).row


async def put_watch(
    session: AsyncSession,
    subscriber_id: str,
    kind: str,
    name: str,
    aliases: Iterable[str] = (),
) -> Added:
    """Add a watch item and queue its ``added`` event. An existing (kind, name) is returned as
    it is (``created`` False), except that new aliases are added to it (an ``updated`` event)."""
    kind, name = clean_watch(kind, name)
    wanted = clean_aliases(aliases, name)
    row = await find_watch(session, subscriber_id, kind, name)
    if row is not None:
        merged = clean_aliases([*aliases_of(row), *wanted], name)
        if merged != aliases_of(row):
            row.aliases = json.dumps(merged, ensure_ascii=False)
            await session.flush()
            queue_watch_event(session, "updated", row)
        return Added(row, created=False)
    row = WatchRow(
        subscriber_id=subscriber_id,
        kind=kind,
        name=name,
        aliases=json.dumps(wanted, ensure_ascii=False),
        created_at=utcnow(),
    )
    session.add(row)
    await session.flush()
    queue_watch_event(session, "added", row)
    return Added(row, created=True)


@dataclass(frozen=True)
class NewWatch:
    kind: str
    name: str
    aliases: tuple[str, ...] = ()


async def put_watches(
    session: AsyncSession, subscriber_id: str, wanted: Sequence[NewWatch]
) -> list[Added]:
    """:func:`put_watch` for many items at once (one lookup and one flush per call): for bulk
    imports. Items must be cleaned already (:func:`clean_watch`, :func:`clean_aliases`)."""
    names = sorted({w.name for w in wanted})
    existing: dict[tuple[str, str], WatchRow] = {}
    for start in range(0, len(names), 500):
        result = await session.execute(
            select(WatchRow).where(
                WatchRow.subscriber_id == subscriber_id,
                WatchRow.name.in_(names[start : start + 500]),
            )
        )
        existing.update({(row.kind, row.name): row for row in result.scalars()})
    out: list[Added] = []
    created: list[WatchRow] = []
    updated: list[WatchRow] = []
    for item in wanted:
        row = existing.get((item.kind, item.name))
        if row is None:
            row = WatchRow(
                subscriber_id=subscriber_id,
                kind=item.kind,
                name=item.name,
                aliases=json.dumps(list(item.aliases), ensure_ascii=False),
                created_at=utcnow(),
            )
            session.add(row)
            existing[(item.kind, item.name)] = row
            created.append(row)
            out.append(Added(row, created=True))
            continue
        merged = clean_aliases([*aliases_of(row), *item.aliases], row.name)
        if merged != aliases_of(row):
            row.aliases = json.dumps(merged, ensure_ascii=False)
            if not any(row is r for r in created) and not any(row is r for r in updated):
                updated.append(row)
        out.append(Added(row, created=False))
    await session.flush()
    for row in created:
        queue_watch_event(session, "added", row)
    for row in updated:
        queue_watch_event(session, "updated", row)
    await session.flush()
    return out


async def get_watch(session: AsyncSession, subscriber_id: str, watch_id: int) -> WatchRow | None:
    result = await session.execute(
        select(WatchRow).where(WatchRow.subscriber_id == subscriber_id, WatchRow.id == watch_id)
    )
    return result.scalar_one_or_none()


async def update_watch(
    session: AsyncSession,
    subscriber_id: str,
    watch_id: int,
    *,
    name: str | None = None,
    aliases: Iterable[str] | None = None,
) -> WatchRow | None:
    """Rename a watch item or replace its aliases; None when it is not this subscriber's."""
    row = await get_watch(session, subscriber_id, watch_id)
    if row is None:
        return None
    new_name = clean_name(name) if name is not None else row.name
    new_aliases = clean_aliases(aliases if aliases is not None else aliases_of(row), new_name)
    if new_name != row.name:
        clash = await find_watch(session, subscriber_id, row.kind, new_name)
        if clash is not None:
            raise InputError(f"you already watch {row.kind} {new_name!r} (watch {clash.id})")
    if new_name == row.name and new_aliases == aliases_of(row):
        return row
    row.name = new_name
    row.aliases = json.dumps(new_aliases, ensure_ascii=False)
    await session.flush()
    queue_watch_event(session, "updated", row)
    return row


async def list_watches(
    session: AsyncSession, subscriber_id: str, *, after_id: int = 0, limit: int | None = None
) -> list[WatchRow]:
    query = (
        select(WatchRow)
        .where(WatchRow.subscriber_id == subscriber_id, WatchRow.id > after_id)
        .order_by(WatchRow.id)
    )
    if limit is not None:
        query = query.limit(limit)
    result = await session.execute(query)
    return list(result.scalars())


async def remove_watch(session: AsyncSession, subscriber_id: str, watch_id: int) -> bool:
    row = await get_watch(session, subscriber_id, watch_id)
    if row is None:
        return False
    queue_watch_event(session, "removed", row)
    await session.delete(row)
    await session.flush()
    return True


async def watch_items_of(session: AsyncSession, subscriber_ids: Iterable[str]) -> list[WatchItem]:
    ids = sorted(set(subscriber_ids))
    items: list[WatchItem] = []
    for start in range(0, len(ids), 500):
        result = await session.execute(
            select(WatchRow)
            .where(WatchRow.subscriber_id.in_(ids[start : start + 500]))
            .order_by(WatchRow.id)
        )
        items.extend(to_item(row) for row in result.scalars())
    return items


async def watch_items_by_id(session: AsyncSession, watch_ids: Iterable[int]) -> list[WatchItem]:
    ids = sorted(set(watch_ids))
    items: list[WatchItem] = []
    for start in range(0, len(ids), 500):
        result = await session.execute(
            select(WatchRow).where(WatchRow.id.in_(ids[start : start + 500])).order_by(WatchRow.id)
        )
        items.extend(to_item(row) for row in result.scalars())
    return items


async def iter_all_watch_items(
    session: AsyncSession, page: int = 10_000
) -> AsyncIterator[list[WatchItem]]:
    """Every watch item, in pages by id (keyset pagination: constant memory per page)."""
    last = 0
    while True:
        result = await session.execute(
            select(WatchRow).where(WatchRow.id > last).order_by(WatchRow.id).limit(page)
        )
        rows = list(result.scalars())
        if not rows:
            return
        last = rows[-1].id
        yield [to_item(row) for row in rows]


async def all_watch_items(session: AsyncSession) -> list[WatchItem]:
    items: list[WatchItem] = []
    async for page in iter_all_watch_items(session):
        items.extend(page)
    return items


async def count_watches(session: AsyncSession, subscriber_id: str) -> int:
    result = await session.execute(
        select(func.count()).select_from(WatchRow).where(WatchRow.subscriber_id == subscriber_id)
    )
    return int(result.scalar_one())


# --- outbox -------------------------------------------------------------------------------------


async def pending_outbox(session: AsyncSession, limit: int = 200) -> list[MatcherOutboxRow]:
    return await outbox_rows.pending(session, MatcherOutboxRow, limit)


async def outbox_high_water(session: AsyncSession) -> int:
    """The newest outbox id (0 when empty)."""
    result = await session.execute(select(func.max(MatcherOutboxRow.id)))
    return int(result.scalar_one_or_none() or 0)


async def watchlist_changes_since(session: AsyncSession, after_id: int) -> tuple[set[str], int]:
    """Subscribers whose watchlist changed in outbox rows after ``after_id``, and the newest
    outbox id looked at (pass it as ``after_id`` next time). One query: the rows since the last
    look are few (the caller looks before every notice)."""
    result = await session.execute(
        select(MatcherOutboxRow.id, MatcherOutboxRow.topic, MatcherOutboxRow.key).where(
            MatcherOutboxRow.id > after_id
        )
    )
    changed: set[str] = set()
    newest = after_id
    for ident, topic, key in result.all():
        newest = max(newest, ident)
        if topic == WATCHLIST_STREAM:
            changed.add(key)
    return changed, newest
