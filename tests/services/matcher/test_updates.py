"""A notice seen again: re-posts after the deadline alert nobody new; the regulator's text
replacing a press story alerts only what is new and tells alerted subscribers the deadline."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import date

import pytest

from services.matcher import handler
from services.matcher.handler import handle_notice
from services.matcher.store import pending_outbox, put_watch
from services.matcher.updates import deadline_changed, first_alerts_allowed, in_scope
from services.matcher.watchlist import LiveWatchlist
from shared.db import Database
from shared.events import DEADLINE_CHANGED, EntityRef, Match, MatchEvent, NoticeEvent, WatchRef

MakeSubscriber = Callable[..., Awaitable[str]]
DUE = date(2021, 5, 31)
BEFORE, AFTER = date(2021, 5, 20), date(2021, 6, 10)


def _notice(make_notice: Callable[..., NoticeEvent], *apps: str, **kw: object) -> NoticeEvent:
    kw.setdefault("due_on", DUE)
    kw.setdefault("published_on", date(2021, 5, 10))
    return make_notice("cac-n1", *((app, None) for app in apps), **kw)


def _match(subscriber: str, entity: str) -> dict[str, list[Match]]:
    watch = WatchRef(kind="app", name=entity)
    return {subscriber: [Match(watch=watch, entity=EntityRef(name=entity), score=1, reason="x")]}


def test_scope_follows_the_retroactive_setting(make_notice: Callable[..., NoticeEvent]) -> None:
    notice = _notice(make_notice, "抖音")
    assert in_scope(notice, "open", today=BEFORE, days=30)
    assert not in_scope(notice, "open", today=AFTER, days=30)
    assert in_scope(notice, "all", today=AFTER, days=30)
    assert not in_scope(notice, "off", today=BEFORE, days=30)


def test_a_known_notice_past_its_deadline_alerts_only_on_apps_it_adds(
    make_notice: Callable[..., NoticeEvent],
) -> None:
    before = _notice(make_notice, "抖音")
    after = _notice(make_notice, "抖音", "快手")
    found = _match("a", "抖音") | _match("b", "快手")
    assert first_alerts_allowed(found, after, None, "open", today=AFTER, days=30) == found
    assert first_alerts_allowed(found, after, before, "open", today=BEFORE, days=30) == found
    assert first_alerts_allowed(found, after, before, "open", today=AFTER, days=30) == {
        "b": found["b"]
    }


def test_a_deadline_change_is_seen(make_notice: Callable[..., NoticeEvent]) -> None:
    press = _notice(make_notice, "Douyin", due_on=date(2021, 5, 25))
    own = _notice(make_notice, "抖音")
    assert deadline_changed(press, own) and deadline_changed(_notice(make_notice, due_on=None), own)
    assert not deadline_changed(None, own) and not deadline_changed(own, own)


async def test_a_repost_after_the_deadline_alerts_nobody_who_joined_since(
    db: Database, make_subscriber: MakeSubscriber, make_notice: Callable[..., NoticeEvent]
) -> None:
    early = await make_subscriber(db, "Early")
    async with db.session() as session:
        await put_watch(session, early, "app", "抖音")
    live = LiveWatchlist(db, interval=3600)
    await live.load()
    notice = _notice(make_notice, "抖音", "快手")
    [first] = await handle_notice(db, live, notice, today=BEFORE)
    assert first.subscriber_id == early

    late = await make_subscriber(db, "Late")
    async with db.session() as session:
        await put_watch(session, late, "app", "快手")
    assert await handle_notice(db, live, notice, today=AFTER) == []  # re-posted, too late
    # the same re-post before the deadline: the newcomer is told, the early one not again
    [event] = await handle_notice(db, live, notice, today=BEFORE)
    assert (event.subscriber_id, event.reason) == (late, "match")


async def test_a_repost_past_the_deadline_still_alerts_apps_found_since(
    db: Database, make_subscriber: MakeSubscriber, make_notice: Callable[..., NoticeEvent]
) -> None:
    a = await make_subscriber(db)
    async with db.session() as session:
        await put_watch(session, a, "app", "快手")
        await put_watch(session, a, "app", "微博")
    live = LiveWatchlist(db, interval=3600)
    await live.load()
    await handle_notice(db, live, _notice(make_notice, "抖音", "快手"), today=BEFORE)
    completed = _notice(make_notice, "抖音", "快手", "微博")
    [event] = await handle_notice(db, live, completed, today=AFTER)
    assert (event.reason, [m.entity.name for m in event.matches]) == ("match-2", ["微博"])


async def test_the_regulators_text_after_a_press_story_alerts_only_what_is_new(
    db: Database, make_subscriber: MakeSubscriber, make_notice: Callable[..., NoticeEvent]
) -> None:
    a = await make_subscriber(db)
    async with db.session() as session:
        await put_watch(session, a, "app", "Douyin")
        await put_watch(session, a, "company", "Tencent")
        await put_watch(session, a, "app", "快手")
    live = LiveWatchlist(db, interval=3600)
    await live.load()
    press = _notice(make_notice, "Douyin", "WeChat", due_on=date(2021, 5, 25))
    [first] = await handle_notice(db, live, press, today=BEFORE)
    assert sorted(m.entity.name for m in first.matches) == ["Douyin", "WeChat"]

    own = make_notice(
        "cac-n1",
        ("抖音", "北京微播视界科技有限公司"),
        ("微信", "深圳市腾讯计算机系统有限公司"),
        ("快手", "北京快手科技有限公司"),
        due_on=DUE,
        published_on=date(2021, 5, 10),
    )
    [second] = await handle_notice(db, live, own, today=BEFORE)
    assert (second.reason, [m.entity.name for m in second.matches]) == ("match-2", ["快手"])
    async with db.session() as session:
        rows = await pending_outbox(session)
    payloads = [json.loads(r.payload) for r in rows if r.topic == "matches"]
    updates = [p for p in payloads if p["reason"] == DEADLINE_CHANGED]
    assert [(u["subscriber_id"], u["notice"]["deadline"]["due_on"]) for u in updates] == [
        (a, "2021-05-31")
    ]
    assert sorted(m["entity"]["name"] for m in updates[0]["matches"]) == ["Douyin", "WeChat"]
    assert await handle_notice(db, live, own, today=BEFORE) == []  # redelivered: nothing
    async with db.session() as session:
        assert len(await pending_outbox(session)) == len(rows)


async def test_a_matcher_stopped_before_recording_alerts_records_them_when_it_comes_again(
    db: Database,
    make_subscriber: MakeSubscriber,
    make_notice: Callable[..., NoticeEvent],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The notice is stored in one unit of work and its alerts recorded in later ones: a
    process killed in between has stored a notice nobody was alerted on. Its redelivery
    (past the deadline, out of the retroactive scope) is compared with the last version whose
    alerts were all recorded, so it alerts now, once."""
    a = await make_subscriber(db)
    async with db.session() as session:
        await put_watch(session, a, "app", "抖音")
    live = LiveWatchlist(db, interval=3600)
    await live.load()
    notice = _notice(make_notice, "抖音", "快手")

    async def killed(*args: object, **kwargs: object) -> list[MatchEvent]:
        raise SystemExit("killed")

    monkeypatch.setattr(handler, "record_alerts", killed)
    with pytest.raises(SystemExit):
        await handle_notice(db, live, notice, today=BEFORE)
    monkeypatch.undo()

    [event] = await handle_notice(db, live, notice, today=AFTER)
    assert (event.subscriber_id, event.reason) == (a, "match")
    assert await handle_notice(db, live, notice, today=AFTER) == []
