"""The live watchlist: large indexes are moved out of the garbage collector's way; a CSV
import's batch events are applied in one step."""

from __future__ import annotations

import gc
from collections.abc import Awaitable, Callable, Iterator

import pytest
from sqlalchemy import func, select

from services.matcher import watchlist as live
from services.matcher.csvimport import import_watches, parse_watch_csv
from services.matcher.models import MatcherOutboxRow
from services.matcher.store import WATCHLIST_STREAM, put_watch, watchlist_changes_since
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
