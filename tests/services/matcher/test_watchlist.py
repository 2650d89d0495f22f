"""The live watchlist: the start-up load in bulk; large indexes are moved out of the garbage
collector's way; a CSV import's batch events are applied in one step; the forms of prepared
watches are stored and read by the next start."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Awaitable, Callable, Iterator

import pytest
from sqlalchemy import func, select

from services.matcher import watchlist as live
from services.matcher.csvimport import import_watches, parse_watch_csv
from services.matcher.matching import WatchIndex
from services.matcher.matching.features import form_version, watch_form, watch_spec
from services.matcher.models import MatcherOutboxRow, WatchFormRow
from services.matcher.store import (
    WATCHLIST_STREAM,
    all_watch_items,
    put_watch,
    save_forms,
    watchlist_changes_since,
)
from services.matcher.watchlist import LiveWatchlist
from shared.accounts import register_subscriber
from shared.db import Database
from tests.services.matcher.conftest import notice as make_notice


@pytest.fixture
def unfrozen() -> Iterator[None]:
    gc.unfreeze()
    try:
        yield
    finally:
        gc.unfreeze()


async def load_with(db: Database, monkeypatch: pytest.MonkeyPatch, freeze_above: int) -> int:
    async with db.session() as session:
        sub = await register_subscriber(
            session,
            name="Risk",
            email="risk@example.com",
            webhook_url=None,
            reminders="7d",
            default_reminders="7d",
            allow_private=True,
        )
        for name in ("Douyin", "WeChat", "Kuaishou"):
            await put_watch(session, sub.id, "app", name)
    monkeypatch.setattr(live, "FREEZE_ABOVE", freeze_above)
    return await LiveWatchlist(db).load()


async def test_an_index_above_the_threshold_is_frozen(
    db: Database, monkeypatch: pytest.MonkeyPatch, unfrozen: None
) -> None:
    assert await load_with(db, monkeypatch, freeze_above=3) == 3
    assert gc.get_freeze_count() > 0


async def test_a_small_index_is_left_to_the_collector(
    db: Database, monkeypatch: pytest.MonkeyPatch, unfrozen: None
) -> None:
    assert await load_with(db, monkeypatch, freeze_above=4) == 3
    assert gc.get_freeze_count() == 0


async def test_an_imported_batch_is_applied_in_one_catch_up(
    db: Database, make_subscriber: Callable[..., Awaitable[str]]
) -> None:
    """1,200 rows: two outbox rows (one per batch), one refresh, every item in the index."""
    sub = await make_subscriber(db)
    watchlist = LiveWatchlist(db)
    await watchlist.load()
    rows = "".join(f"company,Company {i} Ltd\n" for i in range(1_199)) + "app,抖音\n"
    result = await import_watches(db, sub, parse_watch_csv(rows))
    assert result.added == 1_200
    async with db.session() as session:
        changed, _ = await watchlist_changes_since(session, watchlist.applied_outbox_id)
        assert changed == {sub}
        count = select(func.count()).where(MatcherOutboxRow.topic == WATCHLIST_STREAM)
        assert (await session.execute(count)).scalar_one() == 2
    assert await watchlist.catch_up() == 1_200
    assert len(watchlist) == 1_200 and len(watchlist.items_of(sub)) == 1_200
    found = watchlist.match(make_notice("n1", ("抖音", "北京微播视界科技有限公司")))
    assert [m.watch.name for m in found[sub]] == ["抖音"]
    # new aliases for all: one 'updated' batch; the index swaps the items in one step
    again = await import_watches(db, sub, parse_watch_csv(rows.replace("\n", ",X\n")))
    assert again.existing == 1_200
    assert await watchlist.catch_up() == 2 * 1_200
    assert {i.aliases for i in watchlist.items_of(sub)} == {("X",)}


async def test_the_bulk_load_matches_as_the_items_one_by_one(
    db: Database,
    make_subscriber: Callable[..., Awaitable[str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The start-up load (streamed rows added in bulk, in slices with the event loop free in
    between) gives the index the stored items give through ``WatchIndex(all_watch_items)``."""
    subs = [await make_subscriber(db, name) for name in ("A", "B", "C")]
    watches = [
        ("app", "抖音", ()),
        ("app", "Douyin", ("斗音",)),
        ("app", "微信", ("WeChat", "weixin")),
        ("company", "Tencent", ()),
        ("company", "北京字节跳动科技有限公司", ("ByteDance",)),
        ("app", "某某健身", ()),
    ]
    async with db.session() as session:
        for number, sub in enumerate(subs):
            for kind, name, aliases in watches[number:]:
                await put_watch(session, sub, kind, name, aliases)
    async with db.read_session() as session:
        stored = await all_watch_items(session)
    monkeypatch.setattr(live, "LOAD_SLICE", 2)
    watchlist = LiveWatchlist(db)
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    ticker = asyncio.create_task(tick())
    try:
        assert await watchlist.load() == len(stored) == 15
    finally:
        ticker.cancel()
    assert ticks >= len(stored) // 2  # the loop ran between every two rows
    reference = WatchIndex(stored)
    notices = [
        make_notice("n1", ("抖音", "北京微播视界科技有限公司"), ("微信", None)),
        make_notice("n2", ("斗音", None), ("腾讯视频", "深圳市腾讯计算机系统有限公司")),
        make_notice("n3", ("weixin", None), ("某某健身", "字节跳动")),
    ]
    for n in notices:
        assert watchlist.match(n) == reference.match(n)
    assert sum(len(watchlist.match(n)) for n in notices) >= 6
    for sub in subs:
        assert watchlist.items_of(sub) == {i for i in stored if i.subscriber_id == sub}


# --- stored forms ------------------------------------------------------------------------------


async def _forms(db: Database) -> dict[tuple[str, str, str], tuple[str, str]]:
    async with db.read_session() as session:
        rows = await session.execute(
            select(
                WatchFormRow.kind,
                WatchFormRow.name,
                WatchFormRow.aliases,
                WatchFormRow.version,
                WatchFormRow.form,
            )
        )
        return {(k, n, a): (v, f) for k, n, a, v, f in rows.all()}


def _prepared(watchlist: LiveWatchlist) -> int:
    return sum(1 for s in watchlist.index._slots if s is not None and s._spec is not None)


async def test_a_start_stores_the_forms_the_next_start_reads(
    db: Database, make_subscriber: Callable[..., Awaitable[str]]
) -> None:
    subs = [await make_subscriber(db, name) for name in ("A", "B")]
    watches = [
        ("app", "抖音", ()),
        ("app", "Douyin", ("斗音", "TikTok")),
        ("company", "Tencent", ()),
        ("app", "Fitness Tracker", ()),
    ]
    async with db.session() as session:
        for sub in subs:
            for kind, name, aliases in watches:
                await put_watch(session, sub, kind, name, aliases)
    first = LiveWatchlist(db)
    assert await first.load() == 8
    assert _prepared(first) == 4  # no form stored yet: each distinct watch prepared
    assert await first.store_forms() == 4
    assert await first.store_forms() == 0  # each once
    stored = await _forms(db)
    assert {(k, n) for k, n, _ in stored} == {(k, n) for k, n, _ in watches}
    assert {v for v, _ in stored.values()} == {form_version()}
    assert stored[("app", "Douyin", '["斗音", "TikTok"]')][1] == watch_form(
        watch_spec("app", "Douyin", ("斗音", "TikTok"))
    )

    second = LiveWatchlist(db)
    assert await second.load() == 8
    assert _prepared(second) == 0  # every watch filed under its stored keys
    notices = [
        make_notice("n1", ("抖音", "北京微播视界科技有限公司"), ("微信", None)),
        make_notice("n2", ("Fitness Trakcer", None), ("腾讯视频", "深圳市腾讯计算机系统有限公司")),
    ]
    for n in notices:
        assert second.match(n) == first.match(n)
    assert sum(len(m) for n in notices for m in second.match(n).values()) >= 6
    assert 0 < _prepared(second) <= 4
    assert await second.store_forms() == 0


async def test_stale_and_unused_forms_are_deleted_and_new_watches_stored(
    db: Database, make_subscriber: Callable[..., Awaitable[str]]
) -> None:
    sub = await make_subscriber(db)
    async with db.session() as session:
        await put_watch(session, sub, "app", "抖音")
        await put_watch(session, sub, "app", "微信")
        await save_forms(
            session,
            "another-version",
            [(("app", "抖音", ()), "0\x1f错")],  # stale: never read
        )
        await save_forms(
            session,
            form_version(),
            [
                (("app", "微信", ()), watch_form(watch_spec("app", "微信")) or ""),
                (("app", "快手", ()), "0\x1f快手"),  # nobody watches it
            ],
        )
    watchlist = LiveWatchlist(db)
    await watchlist.load()
    assert _prepared(watchlist) == 1  # 抖音: its form is of another version
    assert await watchlist.store_forms() == 1
    assert set(await _forms(db)) == {("app", "抖音", "[]"), ("app", "微信", "[]")}
    assert {v for v, _ in (await _forms(db)).values()} == {form_version()}
    found = watchlist.match(make_notice("n1", ("抖音", None), ("微信", None)))
    assert [m.watch.name for m in found[sub]] == ["抖音", "微信"]

    # a watch added while running: prepared by the refresh, stored by the background step
    async with db.session() as session:
        await put_watch(session, sub, "company", "Tencent", ["腾讯"])
    await watchlist.refresh_step()
    assert ("company", "Tencent", '["腾讯"]') in await _forms(db)
