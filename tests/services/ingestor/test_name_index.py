"""The name keys of stored notices: the forms a name is found under, and keys kept current as a
notice is saved, merged with a reprint or seen again unchanged."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from services.ingestor.models import NoticeEntityRow
from services.ingestor.name_index import name_keys, query_keys
from services.ingestor.store import save_notice
from shared.db import Database
from shared.events import Entity, NoticeEvent, Regulator

DOUYIN = Entity(name="抖音", developer="北京微播视界科技有限公司")


def notice(*entities: Entity) -> NoticeEvent:
    return NoticeEvent(
        notice_id="cac-20210510-keys",
        regulator=Regulator(code="CAC", name="国家互联网信息办公室"),
        title="关于抖音等App违法违规收集使用个人信息情况的通报",
        published_on=date(2021, 5, 10),
        entities=list(entities),
    )


def test_a_name_is_found_in_any_script_width_or_case() -> None:
    stored = name_keys(["抖音"])
    for typed in ("抖音", "抖 音", "Douyin", "DOUYIN", "ｄｏｕｙｉｎ"):
        assert query_keys(typed) & stored, typed
    assert query_keys("騰訊視頻") & name_keys(["腾讯视频"])
    assert query_keys("Tencent Video") & name_keys(["腾讯视频"])  # the press's English name
    assert not query_keys("快手") & stored
    assert query_keys("!!") == set() and name_keys([None, " "]) == set()


def test_long_names_are_cut_alike_when_stored_and_looked_up() -> None:
    long = "很长的公司名称" * 60
    assert all(len(key) <= 200 for key in name_keys([long]))
    assert query_keys(long) & name_keys([long])


async def _keys(db: Database) -> set[str]:
    async with db.session() as session:
        return set(await session.scalars(select(NoticeEntityRow.name_key)))


async def test_keys_follow_the_stored_entities(db: Database) -> None:
    async with db.session() as session:
        assert (await save_notice(session, notice(DOUYIN))).outcome == "new"
    first = await _keys(db)
    assert {"抖音", "py:douyin", "北京微播视界科技有限公司"} <= first

    async with db.session() as session:  # a reprint naming one more app: merged, keys added
        merged = await save_notice(session, notice(DOUYIN, Entity(name="快手")))
    assert merged.outcome == "updated"
    assert await _keys(db) == first | name_keys(["快手"])

    async with db.session() as session:
        assert (await save_notice(session, notice(DOUYIN))).outcome == "unchanged"
    assert await _keys(db) == first | name_keys(["快手"])
