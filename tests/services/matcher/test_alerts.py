"""Alert records: each match is alerted once; later matches of a notice get their own reason;
feedback suppresses what the subscriber marked wrong."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from sqlalchemy import event, func, select

from services.matcher import alerts
from services.matcher.alerts import (
    alert_groups,
    delete_feedback,
    drop_suppressed,
    give_feedback,
    list_feedback,
    match_id,
    record_alerts,
    suppressed_keys,
    suppression_key,
    without_suppressed,
)
from services.matcher.models import MatcherOutboxRow
from shared.db import Database
from shared.errors import InputError
from shared.events import EntityRef, Match, MatchEvent, NoticeEvent, NoticeSummary, WatchRef

MakeSubscriber = Callable[..., Awaitable[str]]


def m(watch: str, entity: str, kind: str = "app", developer: str | None = None) -> Match:
    return Match(
        watch=WatchRef(kind=kind, name=watch),  # type: ignore[arg-type]
        entity=EntityRef(name=entity, developer=developer),
        score=0.95,
        reason=f"{watch} is {entity}",
    )


async def queued(db: Database) -> list[MatchEvent]:
    async with db.session() as session:
        rows = (
            await session.execute(
                select(MatcherOutboxRow)
                .where(MatcherOutboxRow.topic == "matches")
                .order_by(MatcherOutboxRow.id)
            )
        ).scalars()
        return [MatchEvent.model_validate_json(row.payload) for row in rows]


async def test_each_match_is_alerted_once(
    db: Database, make_subscriber: MakeSubscriber, make_notice: Callable[..., NoticeEvent]
) -> None:
    a, b = await make_subscriber(db, "A"), await make_subscriber(db, "B")
    summary = NoticeSummary.of(make_notice("n1", ("抖音", None), ("快手", None)))
    first = await record_alerts(db, summary, {a: [m("Douyin", "抖音")], b: []}, cause="notice")
    assert [(e.subscriber_id, e.reason) for e in first] == [(a, "match")]
    assert first[0].match_id == match_id(a, "n1")

    # the same notice again (redelivered, or replayed): nothing new, nothing queued
    assert await record_alerts(db, summary, {a: [m("Douyin", "抖音")]}, cause="notice") == []

    # a watch added later matches more of it: only the new match, under its own reason
    later = await record_alerts(
        db,
        summary,
        {a: [m("Douyin", "抖音"), m("Kuaishou", "快手")], b: [m("快手", "快手")]},
        cause="watch",
    )
    assert {e.subscriber_id: (e.reason, [x.watch.name for x in e.matches]) for e in later} == {
        a: ("match-2", ["Kuaishou"]),
        b: ("match", ["快手"]),
    }
    assert sorted(e.reason for e in await queued(db)) == ["match", "match", "match-2"]

    async with db.session() as session:
        [group] = await alert_groups(session, a)
        assert group.match_id == match_id(a, "n1")
        assert [(e.row.reason, e.row.cause) for e in group.entries] == [
            ("match", "notice"),
            ("match-2", "watch"),
        ]
        assert await alert_groups(session, a, notice_id="other") == []


async def test_a_chunk_colliding_with_a_concurrent_recording_keeps_everyone_else(
    db: Database,
    make_subscriber: MakeSubscriber,
    make_notice: Callable[..., NoticeEvent],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A chunk's alerts go in with one INSERT; when another instance recorded one of them
    after this one read the earlier alerts, the chunk is recorded row by row: the others are
    alerted, the colliding subscriber is looked at again and gets nothing twice."""
    a, b, c = [await make_subscriber(db, name) for name in "ABC"]
    summary = NoticeSummary.of(make_notice("n1", ("抖音", None)))
    douyin = [m("Douyin", "抖音")]
    await record_alerts(db, summary, {b: douyin}, cause="watch")  # the other instance
    read = alerts._earlier_alerts
    reads = 0

    async def before_the_other_commit(*args: object) -> dict[str, object]:
        nonlocal reads
        reads += 1
        found = await read(*args)  # type: ignore[arg-type]
        if reads == 1:
            found.pop(b, None)
        return found  # type: ignore[return-value]

    monkeypatch.setattr(alerts, "_earlier_alerts", before_the_other_commit)
    made = await record_alerts(db, summary, {a: douyin, b: douyin, c: douyin}, cause="notice")
    assert sorted(e.subscriber_id for e in made) == sorted([a, c])
    assert reads == 2  # the colliding subscriber was read again
    assert sorted(e.subscriber_id for e in await queued(db)) == sorted([a, b, c])


async def test_a_fan_out_is_recorded_with_one_insert_per_table_and_chunk(
    db: Database, make_subscriber: MakeSubscriber, make_notice: Callable[..., NoticeEvent]
) -> None:
    subscribers = [await make_subscriber(db, f"S{n}") for n in range(30)]
    summary = NoticeSummary.of(make_notice("n1", ("抖音", None)))
    inserts: list[str] = []

    def seen(conn: object, cursor: object, statement: str, *args: object) -> None:
        if statement.lstrip().upper().startswith("INSERT"):
            inserts.append(statement.split("(")[0].split()[-1].strip('"'))

    event.listen(db.engine.sync_engine, "before_cursor_execute", seen)
    try:
        made = await record_alerts(
            db, summary, {s: [m("Douyin", "抖音")] for s in subscribers}, cause="notice"
        )
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", seen)
    assert len(made) == 30
    assert sorted(inserts) == ["matcher_alerts", "matcher_outbox"]
    assert [e.subscriber_id for e in await queued(db)] == sorted(subscribers)


async def test_history_is_newest_first_and_limited(
    db: Database, make_subscriber: MakeSubscriber, make_notice: Callable[..., NoticeEvent]
) -> None:
    a = await make_subscriber(db)
    for notice_id in ("n1", "n2", "n3"):
        summary = NoticeSummary.of(make_notice(notice_id, ("抖音", None)))
        await record_alerts(db, summary, {a: [m("Douyin", "抖音")]}, cause="notice")
    summary = NoticeSummary.of(make_notice("n1", ("抖音", None), ("快手", None)))
    await record_alerts(db, summary, {a: [m("快手", "快手")]}, cause="watch")
    async with db.session() as session:
        groups = await alert_groups(session, a, limit=2)
    assert [g.notice.notice_id for g in groups] == ["n1", "n3"]


async def test_feedback_suppresses_a_wrong_match_from_then_on(
    db: Database, make_subscriber: MakeSubscriber, make_notice: Callable[..., NoticeEvent]
) -> None:
    a, b = await make_subscriber(db, "A"), await make_subscriber(db, "B")
    wrong = m("Tencent", "腾讯地图", "company", "深圳市腾讯计算机系统有限公司")
    right = m("Douyin", "抖音")
    summary = NoticeSummary.of(make_notice("n1", ("腾讯地图", None)))
    await record_alerts(db, summary, {a: [wrong, right], b: [wrong]}, cause="notice")
    alert = match_id(a, "n1")
    async with db.session() as session:
        row = await give_feedback(session, a, alert, wrong.watch, wrong.entity, "wrong")
        assert row is not None and row.verdict == "wrong"
        # B cannot give feedback on A's alert, nor A on a match the alert does not have
        assert await give_feedback(session, b, alert, wrong.watch, wrong.entity, "wrong") is None
        with pytest.raises(InputError, match="has no match of app watch 'QQ'"):
            await give_feedback(
                session, a, alert, WatchRef(kind="app", name="QQ"), wrong.entity, "wrong"
            )
        assert await suppressed_keys(session, [a, b]) == {
            a: {suppression_key(a, wrong.watch, wrong.entity)}
        }

    # the same pair in a later notice (developer spelled with other punctuation): suppressed
    again = m("Tencent", "腾讯地图", "company", "深圳市腾讯计算机系统有限公司 ")
    kept = await without_suppressed(db, {a: [again, right], b: [again]})
    assert kept == {a: [right], b: [again]}
    assert drop_suppressed({a: [again]}, {a: {suppression_key(a, again.watch, again.entity)}}) == {}

    async with db.session() as session:
        # saying "right" afterwards lifts it; one verdict per match
        await give_feedback(session, a, alert, wrong.watch, EntityRef(name="腾讯地图"), "right")
        rows = await list_feedback(session, a)
        assert [(r.verdict, r.entity_developer) for r in rows] == [
            ("right", "深圳市腾讯计算机系统有限公司")
        ]
    assert await without_suppressed(db, {a: [again]}) == {a: [again]}
    async with db.session() as session:
        assert not await delete_feedback(session, b, rows[0].id)
        assert await delete_feedback(session, a, rows[0].id)
        count = await session.execute(select(func.count()).select_from(MatcherOutboxRow))
        assert count.scalar_one() == 2
