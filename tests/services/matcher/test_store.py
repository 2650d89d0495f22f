"""Watch items and the outbox: every committed change queues its WatchlistEvent, in order."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy import select

from services.matcher.models import MatcherOutboxRow
from services.matcher.store import (
    NewWatch,
    aliases_of,
    all_watch_items,
    clean_aliases,
    clean_watch,
    list_watches,
    outbox_high_water,
    pending_outbox,
    put_watch,
    put_watches,
    remove_watch,
    update_watch,
    watch_items_of,
    watchlist_changes_since,
)
from shared.db import Database
from shared.errors import InputError
from shared.events import WatchlistEvent

MakeSubscriber = Callable[..., Awaitable[str]]


async def events(db: Database) -> list[WatchlistEvent]:
    async with db.session() as session:
        rows = (
            await session.execute(
                select(MatcherOutboxRow)
                .where(MatcherOutboxRow.topic == "watchlist")
                .order_by(MatcherOutboxRow.id)
            )
        ).scalars()
        return [WatchlistEvent.model_validate_json(row.payload) for row in rows]


def ops(found: list[WatchlistEvent]) -> list[tuple[str, str, list[str]]]:
    return [(e.op, e.watch.name, e.watch.aliases) for e in found]


async def test_changes_queue_events_in_order(db: Database, make_subscriber: MakeSubscriber) -> None:
    sub = await make_subscriber(db)
    async with db.session() as session:
        first = await put_watch(session, sub, "app", "  抖音  ", ["Douyin", "douyin ", "抖音", ""])
        assert first.created and first.row.name == "抖音"
        assert aliases_of(first.row) == ["Douyin", "douyin"]
        again = await put_watch(session, sub, "app", "抖音")
        assert not again.created and again.row.id == first.row.id
        more = await put_watch(session, sub, "app", "抖音", ["Dou Yin"])
        assert aliases_of(more.row) == ["Douyin", "douyin", "Dou Yin"]
    async with db.session() as session:
        renamed = await update_watch(session, sub, first.row.id, name="Douyin", aliases=[])
        assert renamed is not None and aliases_of(renamed) == []
        unchanged = await update_watch(session, sub, first.row.id, name="Douyin")
        assert unchanged is not None
        assert await remove_watch(session, sub, first.row.id)
        assert not await remove_watch(session, sub, first.row.id)
    found = await events(db)
    assert ops(found) == [
        ("added", "抖音", ["Douyin", "douyin"]),
        ("updated", "抖音", ["Douyin", "douyin", "Dou Yin"]),
        ("updated", "Douyin", []),
        ("removed", "Douyin", []),
    ]
    assert {e.subscriber_id for e in found} == {sub}
    assert {e.watch.id for e in found} == {first.row.id}


async def test_a_failed_change_queues_nothing(
    db: Database, make_subscriber: MakeSubscriber
) -> None:
    sub = await make_subscriber(db)
    with pytest.raises(RuntimeError):
        async with db.session() as session:
            await put_watch(session, sub, "company", "腾讯")
            raise RuntimeError("rolled back")
    assert await events(db) == []
    async with db.session() as session:
        assert await list_watches(session, sub) == []


async def test_subscribers_only_touch_their_own_items(
    db: Database, make_subscriber: MakeSubscriber
) -> None:
    a, b = await make_subscriber(db, "A"), await make_subscriber(db, "B")
    async with db.session() as session:
        row = (await put_watch(session, a, "app", "微信")).row
        await put_watch(session, a, "app", "QQ")
        assert await update_watch(session, b, row.id, name="WeChat") is None
        assert not await remove_watch(session, b, row.id)
        with pytest.raises(InputError, match="already watch app 'QQ'"):
            await update_watch(session, a, row.id, name="QQ")
    async with db.session() as session:
        assert [r.name for r in await list_watches(session, a)] == ["微信", "QQ"]
        assert await list_watches(session, b) == []
        assert [i.name for i in await watch_items_of(session, [a, b])] == ["微信", "QQ"]
        assert [r.name for r in await list_watches(session, a, after_id=row.id)] == ["QQ"]


@pytest.mark.parametrize(
    ("kind", "name", "aliases", "message"),
    [
        ("person", "x", [], "watch kind must be 'app' or 'company'"),
        ("app", "   ", [], "watch name is empty"),
        ("app", "x" * 301, [], "too long"),
        ("app", "x", ["y" * 301], "alias is too long"),
        ("app", "x", [f"a{i}" for i in range(21)], "too many aliases"),
    ],
)
def test_bad_watch_items_are_refused(
    kind: str, name: str, aliases: list[str], message: str
) -> None:
    with pytest.raises(InputError, match=message):
        clean_watch(kind, name)
        clean_aliases(aliases, name)


async def test_bad_input_writes_nothing(db: Database, make_subscriber: MakeSubscriber) -> None:
    sub = await make_subscriber(db)
    with pytest.raises(InputError, match="too many aliases"):
        async with db.session() as session:
            await put_watch(session, sub, "app", "x", [f"a{i}" for i in range(21)])
    async with db.session() as session:
        assert await list_watches(session, sub) == []
    assert await events(db) == []


async def test_bulk_put_matches_single_puts_with_one_event_per_batch(
    db: Database, make_subscriber: MakeSubscriber
) -> None:
    sub = await make_subscriber(db)
    async with db.session() as session:
        await put_watch(session, sub, "app", "抖音")
    wanted = [
        NewWatch("app", "抖音", ("Douyin",)),
        NewWatch("company", "腾讯"),
        NewWatch("company", "腾讯", ("Tencent",)),
        NewWatch("app", "腾讯"),
    ]
    async with db.session() as session:
        outcomes = await put_watches(session, sub, wanted)
    assert [o.created for o in outcomes] == [False, True, False, True]
    async with db.session() as session:
        rows = await list_watches(session, sub)
        items = await all_watch_items(session)
    assert [(r.kind, r.name, aliases_of(r)) for r in rows] == [
        ("app", "抖音", ["Douyin"]),
        ("company", "腾讯", ["Tencent"]),
        ("app", "腾讯", []),
    ]
    assert len(items) == 3
    found = await events(db)
    assert ops(found[:1]) == [("added", "抖音", [])]
    # one event per batch, not per item: new items first, then those given new aliases
    assert [(e.op, [(w.kind, w.name, w.aliases) for w in e.items()]) for e in found[1:]] == [
        ("added", [("company", "腾讯", ["Tencent"]), ("app", "腾讯", [])]),
        ("updated", [("app", "抖音", ["Douyin"])]),
    ]
    assert found[1].watch == found[1].watches[0]  # readable by consumers that predate batches
    assert {w.id for w in found[1].items()} == {r.id for r in rows[1:]}


async def test_outbox_positions(db: Database, make_subscriber: MakeSubscriber) -> None:
    a, b = await make_subscriber(db, "A"), await make_subscriber(db, "B")
    async with db.session() as session:
        assert await outbox_high_water(session) == 0
        await put_watch(session, a, "app", "抖音")
    async with db.session() as session:
        start = await outbox_high_water(session)
        await put_watch(session, b, "app", "快手")
        await put_watch(session, b, "app", "微博")
    async with db.session() as session:
        changed, newest = await watchlist_changes_since(session, start)
        assert changed == {b}
        assert newest == start + 2
        assert await watchlist_changes_since(session, newest) == (set(), newest)
        pending = await pending_outbox(session)
    payloads: list[dict[str, Any]] = [json.loads(row.payload) for row in pending]
    assert [p["watch"]["name"] for p in payloads] == ["抖音", "快手", "微博"]
    assert [row.key for row in pending] == [a, b, b]
