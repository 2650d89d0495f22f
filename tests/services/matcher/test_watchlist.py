"""The live watchlist's loading: large indexes are moved out of the garbage collector's way."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from services.matcher import watchlist as live
from services.matcher.store import put_watch
from services.matcher.watchlist import LiveWatchlist
from shared.accounts import register_subscriber
from shared.db import Database


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
