from __future__ import annotations

from datetime import date

from services.ingestor.store import mark_published, pending_outbox, save_notice
from shared.db import Database
from shared.events import Entity, NoticeEvent, Regulator


def notice(*entities: Entity, **fields: object) -> NoticeEvent:
    base: dict[str, object] = {
        "notice_id": "cac-20210510-0123456789",
        "regulator": Regulator(code="CAC", name="国家互联网信息办公室"),
        "kind": "rectification",
        "title": "关于抖音等84款App违法违规收集使用个人信息情况的通报",
        "published_on": date(2021, 5, 10),
        "entities": list(entities),
    }
    base.update(fields)
    return NoticeEvent.model_validate(base)


DOUYIN = Entity(name="抖音", developer="北京微播视界科技有限公司")
KUAISHOU = Entity(name="快手", developer="北京快手科技有限公司")


async def test_same_notice_twice_is_one_notice_and_one_event(db: Database) -> None:
    async with db.session() as session:
        first = await save_notice(session, notice(DOUYIN))
    async with db.session() as session:
        second = await save_notice(session, notice(DOUYIN))
        pending = await pending_outbox(session)
    assert (first.outcome, second.outcome) == ("new", "unchanged")
    assert [row.key for row in pending] == ["cac-20210510-0123456789"]


async def test_reprint_with_more_entities_merges_and_republishes(db: Database) -> None:
    async with db.session() as session:
        await save_notice(session, notice(DOUYIN))
    async with db.session() as session:
        merged = await save_notice(
            session, notice(Entity(name="抖音"), KUAISHOU, source_url="https://example.cn/n")
        )
        pending = await pending_outbox(session)
    assert merged.outcome == "updated"
    assert [(e.name, e.developer) for e in merged.notice.entities] == [
        ("抖音", "北京微播视界科技有限公司"),
        ("快手", "北京快手科技有限公司"),
    ]
    assert merged.notice.source_url == "https://example.cn/n"
    assert len(pending) == 2


async def test_outbox_marks_published_in_order(db: Database) -> None:
    async with db.session() as session:
        await save_notice(session, notice(DOUYIN))
        await save_notice(session, notice(KUAISHOU, notice_id="cac-20210511-x"))
    async with db.session() as session:
        rows = await pending_outbox(session)
        assert [r.key for r in rows] == ["cac-20210510-0123456789", "cac-20210511-x"]
        await mark_published(session, rows[0].id)
    async with db.session() as session:
        assert [r.key for r in await pending_outbox(session)] == ["cac-20210511-x"]
