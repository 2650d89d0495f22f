"""Watch items in the database; every change also queues a WatchlistEvent in the outbox.

The change and its event are written in one transaction (the caller's session), so the relay
publishes exactly the changes that were committed, in the order they were committed per
subscriber (key: subscriber_id).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from services.matcher.matching import WatchItem
from services.matcher.matching.index import Row, WatchKey
from services.matcher.models import MatcherOutboxRow, WatchFormRow, WatchRow
from shared import outbox_rows
from shared.accounts import Subscriber
from shared.db.base import utcnow
from shared.errors import InputError
from shared.events import WatchItemRef, WatchlistEvent

WATCH_KINDS = ("app", "company")
MAX_NAME = 300
MAX_ALIASES = 20
WATCHLIST_STREAM = "watchlist"
MATCHES_STREAM = "matches"

WatchOp = Literal["added", "removed", "updated"]

BATCH_ITEMS = 1000
"""Most items one multi-row INSERT (UPDATE) of :func:`put_watches` writes, and its event carries."""
PLAN_SLICE = 5000
"""Items :func:`put_watches` looks at between two turns of the event loop."""
BATCH_BYTES = 256 * 1024
"""And at most about this many bytes of them in that event (well under a Kafka message's 1 MB)."""


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


class KeyedInputError(InputError):
    """An InputError that also names its message: a key of the portal's catalogs
    (``services/matcher/locales``) and the values it takes, so that a page can say it in its
    own language. ``str(exc)`` is the English sentence, as the API and the CLI print it."""

    def __init__(self, message: str, key: str, **params: Any) -> None:
        super().__init__(message)
        self.key = key
        self.params: Mapping[str, Any] = params


class WatchLimitError(KeyedInputError):
    """Adding watch items would take a subscriber past its limit (``max_watches_per_subscriber``):
    nothing was added."""

    def __init__(self, current: int, adding: int, limit: int) -> None:
        self.current, self.adding, self.limit = current, adding, limit
        if adding == 1:
            message = (
                f"watch limit reached: you watch {plural(current, 'item')} and the limit is "
                f"{limit} per subscriber; remove some to add more"
            )
            super().__init__(message, "watches.limit", current=current, limit=limit)
        else:
            message = (
                f"watch limit: you watch {plural(current, 'item')}, adding {adding} new ones "
                f"would make {current + adding}, over the limit of {limit} per subscriber"
            )
            super().__init__(
                message, "watches.limit_many", current=current, adding=adding, limit=limit
            )


async def lock_watchlist(session: AsyncSession, subscriber_id: str) -> None:
    """Serialize additions to one subscriber's watchlist until the caller's transaction ends,
    so that two at once cannot both pass the limit. PostgreSQL: the subscriber's row, FOR NO
    KEY UPDATE (rows that refer to it can still be written). SQLite needs nothing: a unit of
    work holds the database's write lock from its start."""
    await session.execute(
        select(Subscriber.id).where(Subscriber.id == subscriber_id).with_for_update(key_share=True)
    )


async def check_watch_limit(
    session: AsyncSession, subscriber_id: str, adding: int, limit: int | None
) -> None:
    """Raise WatchLimitError when ``adding`` new items would take the subscriber past ``limit``
    (None: no limit). Call it after :func:`lock_watchlist`."""
    if limit is None or adding <= 0:
        return
    current = await count_watches(session, subscriber_id)
    if current + adding > limit:
        raise WatchLimitError(current, adding, limit)


NAME_KEYS = {
    "watch name": ("input.name.empty", "input.name.too_long"),
    "alias": ("input.alias.empty", "input.alias.too_long"),
}
"""The message keys of an empty and a too long name, by what :func:`clean_name` cleans."""
ALREADY_WATCHED_KEYS = {
    "app": "input.already_watched.app",
    "company": "input.already_watched.company",
}


def clean_name(name: str, what: str = "watch name") -> str:
    cleaned = " ".join(name.split())
    empty, too_long = NAME_KEYS.get(what, NAME_KEYS["watch name"])
    if not cleaned:
        raise KeyedInputError(f"{what} is empty", empty)
    if len(cleaned) > MAX_NAME:
        raise KeyedInputError(
            f"{what} is too long ({len(cleaned)} characters, limit {MAX_NAME})",
            too_long,
            length=len(cleaned),
            limit=MAX_NAME,
        )
    return cleaned


def clean_kind(kind: str) -> str:
    if kind not in WATCH_KINDS:
        raise KeyedInputError(
            f"watch kind must be 'app' or 'company', not {kind!r}", "input.kind", kind=kind
        )
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
        raise KeyedInputError(
            f"too many aliases ({len(out)}, limit {MAX_ALIASES})",
            "input.aliases.too_many",
            count=len(out),
            limit=MAX_ALIASES,
        )
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


_ITEM_COLUMNS = (
    WatchRow.id,
    WatchRow.subscriber_id,
    WatchRow.kind,
    WatchRow.name,
    WatchRow.aliases,
)


_ITEM_COLUMNS_OR_NULL = (*_ITEM_COLUMNS[:4], func.nullif(WatchRow.aliases, "[]"))


def _item_of(ident: int, subscriber_id: str, kind: str, name: str, aliases: str) -> WatchItem:
    """:func:`to_item` of a row read as columns (many rows: no ORM objects made)."""
    return WatchItem(
        subscriber_id=subscriber_id,
        kind=kind,  # type: ignore[arg-type]
        name=name,
        id=ident,
        aliases=tuple(_aliases_json(aliases)),
    )


def watch_ref(row: WatchRow) -> WatchItemRef:
    return WatchItemRef(id=row.id, kind=row.kind, name=row.name, aliases=aliases_of(row))


def outbox_row(stream: str, key: str, payload: str) -> MatcherOutboxRow:
    """An outbox row of ``payload`` (the event as JSON) on ``stream``, not yet added."""
    return MatcherOutboxRow(topic=stream, key=key, payload=payload, created_at=utcnow())


def queue_event(session: AsyncSession, stream: str, key: str, payload: dict[str, object]) -> None:
    session.add(outbox_row(stream, key, json.dumps(payload, ensure_ascii=False)))


def queue_watch_event(session: AsyncSession, op: WatchOp, row: WatchRow) -> None:
    event = WatchlistEvent(
        op=op, subscriber_id=row.subscriber_id, watch=watch_ref(row), at=utcnow()
    )
    queue_event(session, WATCHLIST_STREAM, row.subscriber_id, event.dump())


def queue_watch_batch(
    session: AsyncSession, op: WatchOp, subscriber_id: str, refs: list[WatchItemRef]
) -> None:
    """One WatchlistEvent for many items changed the same way (see :meth:`WatchlistEvent.batch`)."""
    event = WatchlistEvent.batch(op, subscriber_id, refs, utcnow())
    queue_event(session, WATCHLIST_STREAM, subscriber_id, event.dump())


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
    *,
    limit: int | None = None,
) -> WatchRow:
    """Add a watch item; adding the same (kind, name) again returns the existing one."""
    return (await put_watch(session, subscriber_id, kind, name, aliases, limit=limit)).row


async def put_watch(
    session: AsyncSession,
    subscriber_id: str,
    kind: str,
    name: str,
    aliases: Iterable[str] = (),
    *,
    limit: int | None = None,
) -> Added:
    """Add a watch item and queue its ``added`` event. An existing (kind, name) is returned as
    it is (``created`` False), except that new aliases are added to it (an ``updated`` event).
    A new item that would take the subscriber past ``limit`` raises WatchLimitError."""
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
    if limit is not None:
        await lock_watchlist(session, subscriber_id)
        await check_watch_limit(session, subscriber_id, 1, limit)
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


class PutOutcome(NamedTuple):
    created: bool
    problem: str | None = None
    """Why the item was not stored (its aliases, merged, were too many); None when it was."""
    error: KeyedInputError | None = None
    """The same, with its message key (for the portal)."""


def _aliases_json(text: str | None) -> list[str]:
    try:
        value = json.loads(text or "[]")
    except json.JSONDecodeError:
        return []
    return [str(a) for a in value] if isinstance(value, list) else []


def _batches(
    items: list[tuple[tuple[str, str], list[str]]],
) -> Iterable[list[tuple[tuple[str, str], list[str]]]]:
    """``items`` cut into runs of at most BATCH_ITEMS and about BATCH_BYTES of event (as
    ASCII JSON: a character beyond ASCII is a six-byte escape)."""
    batch: list[tuple[tuple[str, str], list[str]]] = []
    size = 0
    for item in items:
        (_kind, name), aliases = item
        cost = 100 + sum(len(t.encode("ascii", "backslashreplace")) + 4 for t in (name, *aliases))
        if batch and (len(batch) >= BATCH_ITEMS or size + cost > BATCH_BYTES):
            yield batch
            batch, size = [], 0
        batch.append(item)
        size += cost
    if batch:
        yield batch


async def put_watches(
    session: AsyncSession,
    subscriber_id: str,
    wanted: Sequence[NewWatch],
    *,
    limit: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> list[PutOutcome]:
    """:func:`put_watch` for many items (a CSV import) in the caller's transaction: one query
    for the subscriber's stored items, multi-row INSERTs (UPDATEs) of up to BATCH_ITEMS rows,
    and one WatchlistEvent per such batch: ``added`` batches first, then ``updated`` ones.

    Items must be cleaned already (:func:`clean_watch`, :func:`clean_aliases`). An item whose
    aliases, merged with the stored ones (or an earlier item's of the same kind and name), pass
    the limit of 20 is not stored and says why (``problem``). When the new items would take the
    subscriber past ``limit``, WatchLimitError is raised before anything is written.
    ``progress(n)`` is called after each written batch of n items."""
    await lock_watchlist(session, subscriber_id)
    stored = await session.execute(
        select(WatchRow.id, WatchRow.kind, WatchRow.name, WatchRow.aliases).where(
            WatchRow.subscriber_id == subscriber_id
        )
    )
    existing = {
        (kind, name): (ident, _aliases_json(aliases)) for ident, kind, name, aliases in stored
    }
    new: dict[tuple[str, str], list[str]] = {}
    grown: dict[tuple[str, str], list[str]] = {}
    outcomes: list[PutOutcome] = []
    for position, item in enumerate(wanted):
        if position and position % PLAN_SLICE == 0:
            await asyncio.sleep(0)  # 100k rows take a good part of a second
        key = (item.kind, item.name)
        if key not in new and key not in existing:
            new[key] = list(item.aliases)
            outcomes.append(PutOutcome(created=True))
            continue
        before = new[key] if key in new else grown.get(key, existing[key][1])
        try:
            merged = clean_aliases([*before, *item.aliases], item.name)
        except InputError as exc:
            problem = f"{exc} together with the aliases {item.name!r} already has"
            error = None
            if isinstance(exc, KeyedInputError):
                with_stored = "input.aliases.too_many_merged"
                message_key = with_stored if exc.key == "input.aliases.too_many" else exc.key
                error = KeyedInputError(problem, message_key, **{"name": item.name, **exc.params})
            outcomes.append(PutOutcome(created=False, problem=problem, error=error))
            continue
        if key in new:
            new[key] = merged
        elif merged != existing[key][1]:
            grown[key] = merged
        outcomes.append(PutOutcome(created=False))
    if limit is not None and new and len(existing) + len(new) > limit:
        raise WatchLimitError(len(existing), len(new), limit)
    for batch in _batches(list(new.items())):
        at = utcnow()
        result = await session.execute(
            insert(WatchRow).returning(WatchRow.id, WatchRow.kind, WatchRow.name),
            [
                {
                    "subscriber_id": subscriber_id,
                    "kind": kind,
                    "name": name,
                    "aliases": json.dumps(aliases, ensure_ascii=False),
                    "created_at": at,
                }
                for (kind, name), aliases in batch
            ],
        )
        ids = {(kind, name): ident for ident, kind, name in result}
        refs = [
            WatchItemRef(id=ids[key], kind=key[0], name=key[1], aliases=aliases)
            for key, aliases in batch
        ]
        queue_watch_batch(session, "added", subscriber_id, refs)
        if progress is not None:
            progress(len(batch))
    for batch in _batches(list(grown.items())):
        await session.execute(
            update(WatchRow),
            [
                {"id": existing[key][0], "aliases": json.dumps(aliases, ensure_ascii=False)}
                for key, aliases in batch
            ],
        )
        refs = [
            WatchItemRef(id=existing[key][0], kind=key[0], name=key[1], aliases=aliases)
            for key, aliases in batch
        ]
        queue_watch_batch(session, "updated", subscriber_id, refs)
        if progress is not None:
            progress(len(batch))
    await session.flush()
    return outcomes


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
            raise KeyedInputError(
                f"you already watch {row.kind} {new_name!r} (watch {clash.id})",
                ALREADY_WATCHED_KEYS.get(row.kind, "input.already_watched.app"),
                name=new_name,
                watch_id=clash.id,
            )
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
            select(*_ITEM_COLUMNS)
            .where(WatchRow.subscriber_id.in_(ids[start : start + 500]))
            .order_by(WatchRow.id)
        )
        items.extend(_item_of(*row) for row in result)
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


STREAM_ROWS = 5000
"""Rows :func:`stream_watch_rows` fetches per round trip."""


async def stream_watch_rows(
    session: AsyncSession, chunk: int = STREAM_ROWS
) -> AsyncIterator[list[Row]]:
    """Every watch item as a plain :data:`~services.matcher.matching.index.Row`, by id, in
    chunks, for :meth:`~services.matcher.matching.WatchIndex.add_rows`: one streaming select
    of five columns, an empty aliases list read as NULL (no string made for it) and parsed only
    when there are any. On SQLite the rows come from the driver's cursor on the session's
    connection (in its transaction) as the tuples it makes: SQLAlchemy's rows cost about as
    much CPU again (4.8-6.1 against 3.2-3.9 s for 1M rows); elsewhere as Core rows (the ORM's
    loading cost twice as much)."""
    connection = await session.connection()
    query = select(*_ITEM_COLUMNS_OR_NULL).order_by(WatchRow.id)
    if connection.dialect.driver == "aiosqlite":
        raw = await connection.get_raw_connection()
        sql = str(query.compile(dialect=connection.dialect, compile_kwargs={"literal_binds": True}))
        driver: Any = raw.driver_connection  # the aiosqlite connection
        cursor = await driver.execute(sql)
        try:
            while part := await cursor.fetchmany(chunk):
                yield _rows(part)
        finally:
            await cursor.close()
        return
    result = await connection.stream(query.execution_options(yield_per=chunk))
    async for part in result.partitions(chunk):
        yield _rows(part)


def _rows(part: Iterable[Any]) -> list[Row]:
    return [
        (
            ident,
            subscriber_id,
            kind,
            name,
            () if aliases is None else tuple(_aliases_json(aliases)),
        )
        for ident, subscriber_id, kind, name, aliases in part
    ]


# --- prepared forms of distinct watches ------------------------------------------------------

FORM_ROWS = 500
"""Forms written (deleted) per statement."""


def _parse_aliases(text: str | None) -> tuple[str, ...]:
    return () if not text or text == "[]" else tuple(_aliases_json(text))


def form_digest(key: WatchKey) -> str:
    """The stored form's key: a hash of the watch's kind, name and aliases."""
    kind, name, aliases = key
    text = json.dumps([kind, name, list(aliases)], ensure_ascii=False)
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).hexdigest()


async def stored_forms(
    session: AsyncSession, version: str, chunk: int = STREAM_ROWS
) -> dict[WatchKey, str]:
    """The stored forms of this ``version`` (``form_version``), by watch."""
    connection = await session.connection()
    result = await connection.stream(
        select(WatchFormRow.kind, WatchFormRow.name, WatchFormRow.aliases, WatchFormRow.form)
        .where(WatchFormRow.version == version)
        .execution_options(yield_per=chunk)
    )
    forms: dict[WatchKey, str] = {}
    async for part in result.partitions(chunk):
        for kind, name, aliases, form in part:
            forms[(kind, name, _parse_aliases(aliases))] = form
    return forms


async def save_forms(
    session: AsyncSession, version: str, forms: Sequence[tuple[WatchKey, str]]
) -> None:
    """Store these watches' forms of ``version``, replacing what is stored for them. Rows go
    in the order of their keys, so that two matchers storing the same forms at once lock them
    in the same order (no deadlock on PostgreSQL)."""
    rows = sorted(
        (
            {
                "digest": form_digest(key),
                "kind": key[0],
                "name": key[1],
                "aliases": json.dumps(list(key[2]), ensure_ascii=False),
                "version": version,
                "form": form,
            }
            for key, form in forms
        ),
        key=lambda row: row["digest"],
    )
    dialect = (await session.connection()).dialect.name
    statement = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(WatchFormRow)
    statement = statement.on_conflict_do_update(
        index_elements=[WatchFormRow.digest],
        set_={"version": statement.excluded.version, "form": statement.excluded.form},
    )
    for start in range(0, len(rows), FORM_ROWS):
        await session.execute(statement, rows[start : start + FORM_ROWS])


async def drop_forms(session: AsyncSession, version: str, unused: Sequence[WatchKey] = ()) -> int:
    """Delete the forms of other versions than ``version`` and those of ``unused`` watches;
    returns how many."""
    result = await session.execute(delete(WatchFormRow).where(WatchFormRow.version != version))
    count = int(getattr(result, "rowcount", 0) or 0)
    for start in range(0, len(unused), FORM_ROWS):
        digests = [form_digest(key) for key in unused[start : start + FORM_ROWS]]
        result = await session.execute(delete(WatchFormRow).where(WatchFormRow.digest.in_(digests)))
        count += int(getattr(result, "rowcount", 0) or 0)
    return count


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
