"""Stored notices and retroactive matching, without a broker (the outbox shows what would be
published)."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime

import pytest

from services.matcher.alerts import give_feedback, match_id
from services.matcher.matching import WatchItem
from services.matcher.notices import (
    is_open,
    notices_in_scope,
    save_consumed_notice,
    stored_notice,
    today_in_china,
)
from services.matcher.retro import retro_match, retro_watch_ids
from services.matcher.store import put_watch, to_item
from shared.db import Database
from shared.events import EntityRef, NoticeEvent, WatchItemRef, WatchlistEvent, WatchRef

MakeSubscriber = Callable[..., Awaitable[str]]
TODAY = date(2024, 6, 10)


@pytest.fixture
async def stored(db: Database, make_notice: Callable[..., NoticeEvent]) -> dict[str, NoticeEvent]:
    notices = {
        "due-tomorrow": make_notice(
            "due-tomorrow", ("抖音", None), due_on=date(2024, 6, 11), published_on=date(2024, 5, 1)
        ),
        "due-today": make_notice(
            "due-today", ("抖音", None), due_on=TODAY, published_on=date(2024, 5, 20)
        ),
        "passed": make_notice(
            "passed", ("抖音", None), due_on=date(2024, 6, 9), published_on=date(2024, 6, 1)
        ),
        "removal-recent": make_notice(
            "removal-recent", ("抖音", None), due_on=None, published_on=date(2024, 5, 11)
        ),
        "removal-old": make_notice(
            "removal-old", ("抖音", None), due_on=None, published_on=date(2024, 5, 10)
        ),
    }
    async with db.session() as session:
        for notice in notices.values():
            await save_consumed_notice(session, notice)
    return notices


async def in_scope(db: Database, scope: str) -> list[str]:
    found: list[str] = []
    async for page in notices_in_scope(db, scope, days=30, today=TODAY, page=2):  # type: ignore[arg-type]
        found.extend(n.notice_id for n in page)
    return sorted(found)


async def test_scopes(db: Database, stored: dict[str, NoticeEvent]) -> None:
    assert await in_scope(db, "open") == ["due-today", "due-tomorrow", "removal-recent"]
    assert await in_scope(db, "all") == sorted(stored)
    assert await in_scope(db, "off") == []
    assert [n for n, notice in sorted(stored.items()) if is_open(notice, TODAY, 30)] == [
        "due-today",
        "due-tomorrow",
        "removal-recent",
    ]


async def test_an_updated_notice_replaces_the_stored_copy(
    db: Database, make_notice: Callable[..., NoticeEvent]
) -> None:
    async with db.session() as session:
        await save_consumed_notice(session, make_notice("n1", ("抖音", None)))
        await save_consumed_notice(session, make_notice("n1", ("抖音", None), ("快手", None)))
        again = await stored_notice(session, "n1")
    assert again is not None and [e.name for e in again.entities] == ["抖音", "快手"]


def test_today_is_the_date_in_china() -> None:
    assert today_in_china(datetime(2024, 6, 9, 16, 30, tzinfo=UTC)) == date(2024, 6, 10)


SCOPES = {
    "open": ["due-today", "due-tomorrow", "removal-recent"],
    "all": ["due-today", "due-tomorrow", "passed", "removal-old", "removal-recent"],
    "off": [],
}


async def test_retro_match_alerts_stored_notices_in_scope_once(
    db: Database, make_subscriber: MakeSubscriber, stored: dict[str, NoticeEvent]
) -> None:
    for scope, alerted in SCOPES.items():
        sub = await make_subscriber(db, scope)
        async with db.session() as session:
            item = to_item((await put_watch(session, sub, "app", "Douyin")).row)
        made = await retro_match(db, [item], scope, days=30, today=TODAY)  # type: ignore[arg-type]
        assert sorted(e.notice.notice_id for e in made) == alerted, scope
        assert all(e.reason == "match" and e.subscriber_id == sub for e in made)
        assert all([m.watch.name for m in e.matches] == ["Douyin"] for e in made)
        again = await retro_match(db, [item], scope, days=30, today=TODAY)  # type: ignore[arg-type]
        assert again == [], scope


async def test_retro_match_respects_feedback(
    db: Database,
    make_subscriber: MakeSubscriber,
    make_notice: Callable[..., NoticeEvent],
    stored: dict[str, NoticeEvent],
) -> None:
    a, b = await make_subscriber(db, "A"), await make_subscriber(db, "B")
    watches = [
        WatchItem(subscriber_id=s, kind="app", name="Douyin", id=i) for i, s in ((1, a), (2, b))
    ]
    made = await retro_match(db, watches, "all", days=30, today=TODAY)
    assert len(made) == 2 * len(stored)
    async with db.session() as session:
        row = await give_feedback(
            session,
            a,
            match_id(a, "passed"),
            WatchRef(kind="app", name="Douyin"),
            EntityRef(name="抖音"),
            "wrong",
        )
        assert row is not None
        await save_consumed_notice(session, make_notice("fresh", ("抖音", None), due_on=None))
    made = await retro_match(db, watches, "all", days=30, today=TODAY)
    assert [(e.subscriber_id, e.notice.notice_id) for e in made] == [(b, "fresh")]


def test_only_added_and_updated_items_are_matched_again() -> None:
    def event(op: str, watch_id: int) -> WatchlistEvent:
        return WatchlistEvent(
            op=op,  # type: ignore[arg-type]
            subscriber_id="sub_1",
            watch=WatchItemRef(id=watch_id, kind="app", name="x"),
            at=datetime(2024, 1, 1, tzinfo=UTC),
        )

    found = retro_watch_ids([event("added", 3), event("removed", 4), event("updated", 3)])
    assert found == [3]


def test_every_item_of_a_batch_event_is_matched_again() -> None:
    at = datetime(2024, 1, 1, tzinfo=UTC)
    refs = [WatchItemRef(id=i, kind="app", name=f"app {i}") for i in (7, 5, 9)]
    batch = WatchlistEvent.batch("added", "sub_1", refs, at)
    removed = WatchlistEvent.batch("removed", "sub_1", refs[:1], at)
    single = WatchlistEvent(
        op="updated", subscriber_id="sub_1", watch=WatchItemRef(id=2, kind="app", name="y"), at=at
    )
    assert retro_watch_ids([batch, removed, single]) == [2, 5, 7, 9]
    # on the wire, the batch keeps the one-item fields readers before batches need
    wire = WatchlistEvent.model_validate_json(json.dumps(batch.dump()))
    assert (wire.watch.id, [w.id for w in wire.items()]) == (7, [7, 5, 9])
    assert "watches" not in single.dump() and "watches" not in removed.dump()
