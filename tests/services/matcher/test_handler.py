"""The notice handler on the live index, without a broker: every change committed before a
notice is stored is in the index when that notice is matched, events or not."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from services.matcher.alerts import give_feedback, match_id
from services.matcher.handler import handle_notice
from services.matcher.notices import stored_notice
from services.matcher.store import put_watch, remove_watch, update_watch
from services.matcher.watchlist import LiveWatchlist
from shared.db import Database
from shared.events import EntityRef, NoticeEvent, WatchRef

MakeSubscriber = Callable[..., Awaitable[str]]
TENCENT_DEV = "深圳市腾讯计算机系统有限公司"


@pytest.mark.parametrize("mode", ["own copy", "index lists items"])
async def test_index_follows_the_database(
    db: Database,
    make_subscriber: MakeSubscriber,
    make_notice: Callable[..., NoticeEvent],
    mode: str,
) -> None:
    a, b = await make_subscriber(db, "A"), await make_subscriber(db, "B")
    async with db.session() as session:
        douyin = (await put_watch(session, a, "app", "Douyin")).row
        await put_watch(session, b, "company", "Tencent")
    live = LiveWatchlist(db, interval=3600)
    if mode == "own copy":
        live._copy = {}  # what it does with an index that cannot list a subscriber's items
    elif live._copy is not None:
        pytest.skip("WatchIndex has no items_of(subscriber_id) yet: the live index keeps a copy")
    assert await live.load() == 2
    notice = make_notice("n1", ("抖音", None), ("腾讯地图", TENCENT_DEV))

    events = await handle_notice(db, live, notice)
    assert {e.subscriber_id: [m.entity.name for m in e.matches] for e in events} == {
        a: ["抖音"],
        b: ["腾讯地图"],
    }
    async with db.session() as session:
        assert await stored_notice(session, "n1") == notice

    # changes committed with no event delivered (no broker here) are caught up before matching
    async with db.session() as session:
        await remove_watch(session, a, douyin.id)
        await put_watch(session, a, "app", "腾讯地图")
        await put_watch(session, b, "app", "抖音")
    events = await handle_notice(
        db, live, make_notice("n2", *[(e.name, e.developer) for e in notice.entities])
    )
    assert {e.subscriber_id: sorted(m.watch.name for m in e.matches) for e in events} == {
        a: ["腾讯地图"],
        b: ["Tencent", "抖音"],
    }
    assert sorted(i.name for i in live.items_of(a)) == ["腾讯地图"]
    assert len(live) == 3


async def test_a_notice_seen_again_alerts_only_what_is_new(
    db: Database, make_subscriber: MakeSubscriber, make_notice: Callable[..., NoticeEvent]
) -> None:
    a = await make_subscriber(db)
    async with db.session() as session:
        await put_watch(session, a, "company", "Tencent")
    live = LiveWatchlist(db, interval=3600)
    await live.load()
    first = make_notice("n1", ("腾讯地图", TENCENT_DEV))
    [event] = await handle_notice(db, live, first)
    assert event.reason == "match"
    assert await handle_notice(db, live, first) == []  # redelivered
    updated = make_notice("n1", ("腾讯地图", TENCENT_DEV), ("腾讯视频", TENCENT_DEV))
    [more] = await handle_notice(db, live, updated)
    assert (more.reason, [m.entity.name for m in more.matches]) == ("match-2", ["腾讯视频"])


async def test_feedback_and_aliases_change_what_matches(
    db: Database, make_subscriber: MakeSubscriber, make_notice: Callable[..., NoticeEvent]
) -> None:
    a = await make_subscriber(db)
    async with db.session() as session:
        watch = (await put_watch(session, a, "company", "Tencent")).row
    live = LiveWatchlist(db, interval=3600)
    await live.load()
    [event] = await handle_notice(db, live, make_notice("n1", ("腾讯地图", TENCENT_DEV)))
    async with db.session() as session:
        await give_feedback(
            session,
            a,
            match_id(a, "n1"),
            WatchRef(kind="company", name="Tencent"),
            EntityRef(name="腾讯地图", developer=TENCENT_DEV),
            "wrong",
        )
    both = make_notice("n2", ("腾讯地图", TENCENT_DEV), ("腾讯视频", TENCENT_DEV))
    [event] = await handle_notice(db, live, both)
    assert [m.entity.name for m in event.matches] == ["腾讯视频"]

    async with db.session() as session:
        await update_watch(session, a, watch.id, aliases=["鹅厂"])
    await live.catch_up()
    [item] = live.items_of(a)
    assert item.aliases == ("鹅厂",)
