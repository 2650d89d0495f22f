from __future__ import annotations

import asyncio
import json
from datetime import date

from sqlalchemy import select

from services.ingestor.intake import ingest_event
from services.ingestor.merging import batch_key
from services.ingestor.models import NoticeRow
from services.ingestor.store import (
    Seen,
    get_notice,
    mark_published,
    notice_sources,
    pending_outbox,
    save_notice,
)
from shared.db import Database
from shared.events import Deadline, Entity, NoticeEvent, NoticeRef, Regulator


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
        await mark_published(session, [rows[0].id])
    async with db.session() as session:
        assert [r.key for r in await pending_outbox(session)] == ["cac-20210511-x"]


# --- one notice however often and wherever it is republished -------------------------------


async def test_each_copy_is_recorded_with_where_it_was_seen(db: Database) -> None:
    copies = [
        Seen("https://www.cac.gov.cn/n1.htm", "a" * 64),
        Seen("https://news.example.cn/reprint/77", "b" * 64),
        Seen("https://www.cac.gov.cn/n1.htm", "a" * 64),
    ]
    outcomes = []
    for seen in copies:
        async with db.session() as session:
            outcomes.append((await save_notice(session, notice(DOUYIN), seen=seen)).outcome)
    async with db.session() as session:
        sources = await notice_sources(session, "cac-20210510-0123456789")
        pending = await pending_outbox(session)
    assert outcomes == ["new", "unchanged", "unchanged"]
    assert [(s.source, s.times_seen) for s in sources] == [
        ("https://www.cac.gov.cn/n1.htm", 2),
        ("https://news.example.cn/reprint/77", 1),
    ]
    assert all(s.first_seen <= s.last_seen for s in sources)
    assert len(pending) == 1


THREE = (DOUYIN, KUAISHOU, Entity(name="腾讯地图", developer="腾讯科技（深圳）有限公司"))


async def test_reprint_with_another_title_and_date_is_the_same_notice(db: Database) -> None:
    reprint = notice(
        Entity(name="抖音"),
        Entity(name="快手", developer="北京快手科技有限公司", issues=["违规收集个人信息"]),
        Entity(name="騰訊地圖", developer="騰訊科技（深圳）有限公司"),
        notice_id="cac-20210511-reprint000",
        title="【转载】网信办通报84款App",
        published_on=date(2021, 5, 11),
    )
    async with db.session() as session:
        await save_notice(session, notice(*THREE))
    async with db.session() as session:
        saved = await save_notice(session, reprint, seen=Seen("https://mirror.example/x", "c" * 64))
    async with db.session() as session:
        again = await save_notice(session, reprint, seen=Seen("https://mirror.example/x", "c" * 64))
        stored = await get_notice(session, "cac-20210510-0123456789")
        assert await get_notice(session, "cac-20210511-reprint000") is None
        sources = await notice_sources(session, "cac-20210510-0123456789")
        pending = await pending_outbox(session)
    assert (saved.outcome, again.outcome) == ("updated", "unchanged")
    assert saved.notice.notice_id == again.notice.notice_id == "cac-20210510-0123456789"
    assert stored is not None and stored.title == notice().title
    assert [(e.name, e.developer, e.issues) for e in stored.entities] == [
        ("抖音", "北京微播视界科技有限公司", []),
        ("快手", "北京快手科技有限公司", ["违规收集个人信息"]),
        ("腾讯地图", "腾讯科技（深圳）有限公司", []),
    ]
    assert [s.parsed_id for s in sources] == [
        "cac-20210510-0123456789",
        "cac-20210511-reprint000",
    ]
    assert [r.key for r in pending] == ["cac-20210510-0123456789"] * 2


async def test_other_notices_of_the_same_regulator_and_day_stay_apart(db: Database) -> None:
    other = notice(
        Entity(name="星云笔记", developer="杭州星云软件有限公司"),
        notice_id="cac-20210510-other00000",
        title="关于星云笔记等App的通报",
    )
    batch_8 = notice(*THREE, notice_id="miit-a", regulator=MIIT, batch="2021年第8批")
    batch_9 = notice(*THREE, notice_id="miit-b", regulator=MIIT, batch="2021年第9批")
    async with db.session() as session:
        outcomes = [
            (await save_notice(session, n)).outcome
            for n in (notice(*THREE), other, batch_8, batch_9)
        ]
    assert outcomes == ["new"] * 4


async def test_reprint_dated_differently_with_the_same_batch_is_one_notice(db: Database) -> None:
    signed = notice(*THREE[:1], notice_id="miit-1", regulator=MIIT, batch="2021年第8批")
    posted = notice(
        *THREE[1:],
        notice_id="miit-2",
        regulator=MIIT,
        batch="2021年第8批",
        published_on=date(2021, 5, 12),
    )
    async with db.session() as session:
        await save_notice(session, signed)
        saved = await save_notice(session, posted)
    assert (saved.outcome, saved.notice.notice_id) == ("updated", "miit-1")
    assert [e.name for e in saved.notice.entities] == ["抖音", "快手", "腾讯地图"]


async def test_a_label_learnt_from_a_reprint_finds_the_next_copy(db: Database) -> None:
    """The copy check reads only stored notices whose batch label is the copy's or none: a
    label a later copy adds is stored with the notice, so the copy after that still finds
    it, while other batches of the same regulator and days are not read."""
    unlabelled = notice(*THREE, notice_id="miit-1", regulator=MIIT)
    labelled = notice(*THREE, notice_id="miit-2", regulator=MIIT, batch="2021年第8批")
    other_batch = notice(
        Entity(name="星云笔记", developer="杭州星云软件有限公司"),
        notice_id="miit-9",
        regulator=MIIT,
        batch="2021年第9批",
    )
    relabelled = notice(  # the label in full-width digits, one app of three, two days later
        *THREE[2:],
        notice_id="miit-3",
        regulator=MIIT,
        batch="2021年第８批",
        published_on=date(2021, 5, 12),
    )
    async with db.session() as session:
        outcomes = [(await save_notice(session, n)).outcome for n in (unlabelled, other_batch)]
        merged = await save_notice(session, labelled)
        last = await save_notice(session, relabelled)
        keys = dict((await session.execute(select(NoticeRow.notice_id, NoticeRow.batch_key))).all())
    assert outcomes == ["new", "new"]
    assert (merged.outcome, merged.notice.notice_id) == ("updated", "miit-1")
    assert last.notice.notice_id == "miit-1"  # nothing new in it: "unchanged"
    assert keys == {"miit-1": batch_key(labelled), "miit-9": batch_key(other_batch)}
    assert keys["miit-1"] != keys["miit-9"]


async def test_the_same_new_notice_stored_twice_at_once_is_one_notice(db: Database) -> None:
    copies = [notice(DOUYIN), notice(DOUYIN, KUAISHOU)]
    saved = await asyncio.gather(
        *(ingest_event(db, n, name=f"copy {i}") for i, n in enumerate(copies))
    )
    async with db.session() as session:
        stored = await get_notice(session, "cac-20210510-0123456789")
        pending = await pending_outbox(session)
    outcomes = sorted(s.outcome for s in saved)  # which copy wins the race varies
    assert outcomes in (["new", "updated"], ["new", "unchanged"])
    assert stored is not None and sorted(e.name for e in stored.entities) == ["快手", "抖音"]
    assert len(pending) == 1 + outcomes.count("updated")


# --- removal notices link to the notice they follow up -------------------------------------

MIIT = Regulator(code="MIIT", name="工业和信息化部")
JANUARY = notice(
    *THREE,
    notice_id="miit-20210122-original",
    regulator=MIIT,
    title="关于侵害用户权益行为的APP通报（2021年第1批，总第10批）",
    published_on=date(2021, 1, 22),
    batch="2021年第1批（总第10批）",
)
DECOY = notice(
    Entity(name="星云笔记", developer="杭州星云软件有限公司"),
    notice_id="miit-20210121-decoy",
    regulator=MIIT,
    title="关于星云笔记的通报",
    published_on=date(2021, 1, 21),
)


def removal(**ref: object) -> NoticeEvent:
    return notice(
        Entity(name="快手", developer="北京快手科技有限公司"),
        notice_id="miit-20210205-removal",
        regulator=MIIT,
        kind="removal",
        title="关于下架侵害用户权益APP名单的通报",
        published_on=date(2021, 2, 5),
        follows_up=NoticeRef.model_validate({"published_on": date(2021, 1, 22), **ref}),
    )


async def test_removal_notice_links_to_the_notice_it_follows_up(db: Database) -> None:
    async with db.session() as session:
        await save_notice(session, DECOY)
        await save_notice(session, JANUARY)
    async with db.session() as session:
        saved = await save_notice(session, removal(count=3, regulator_code="MIIT"))
    async with db.session() as session:
        again = await save_notice(session, removal(count=3))
        rows = await pending_outbox(session)
    assert saved.outcome == "new" and again.outcome == "unchanged"
    assert saved.notice.follows_up is not None
    assert saved.notice.follows_up.notice_id == "miit-20210122-original"
    published = json.loads(rows[-1].payload)
    assert published["follows_up"]["notice_id"] == "miit-20210122-original"


async def test_removal_stored_first_is_linked_when_its_notice_arrives(db: Database) -> None:
    async with db.session() as session:
        first = await save_notice(session, removal())
    assert first.notice.follows_up is not None and first.notice.follows_up.notice_id is None
    async with db.session() as session:
        original = await save_notice(session, JANUARY)
    async with db.session() as session:
        linked = await get_notice(session, "miit-20210205-removal")
        rows = await pending_outbox(session)
    assert original.relinked == ("miit-20210205-removal",)
    assert linked is not None and linked.follows_up is not None
    assert linked.follows_up.notice_id == "miit-20210122-original"
    assert [r.key for r in rows] == [
        "miit-20210205-removal",
        "miit-20210122-original",
        "miit-20210205-removal",
    ]


async def test_removal_citing_a_date_with_no_stored_notice_stays_unlinked(db: Database) -> None:
    async with db.session() as session:
        await save_notice(session, JANUARY)
        saved = await save_notice(session, removal(published_on=date(2020, 12, 1)))
    assert saved.notice.follows_up is not None and saved.notice.follows_up.notice_id is None


# --- press stories ---------------------------------------------------------------------------

WORKING_DAYS = Deadline(
    due_on=date(2021, 5, 31), rule="working_days", amount=15, source_text="15个工作日内"
)
CALENDAR_DAYS = Deadline(
    due_on=date(2021, 5, 26), rule="calendar_days", amount=15, source_text="given 15 days"
)
OTHERS = [Entity(name=f"样例应用{n}", developer=f"样例{n}有限公司") for n in range(82)]


def regulators_notice(count: int = 84, **fields: object) -> NoticeEvent:
    base: dict[str, object] = {
        "notice_id": f"cac-20210510-own{count}",
        "title": f"关于抖音等{count}款App违法违规收集使用个人信息情况的通报",
        "declared_count": count,
        "deadline": WORKING_DAYS,
    }
    base.update(fields)
    return notice(DOUYIN, KUAISHOU, *OTHERS[: count - 2], **base)


def news_story(**fields: object) -> NoticeEvent:
    base: dict[str, object] = {
        "notice_id": "cac-20210511-press",
        "title": "Chinese regulator names 84 apps over personal data",
        "language": "en",
        "published_on": date(2021, 5, 11),
        "declared_count": 84,
        "deadline": CALENDAR_DAYS,
        "list_incomplete": True,
        "source_url": "https://news.example.com/84-apps",
    }
    base.update(fields)
    return notice(Entity(name="Douyin"), Entity(name="Kuaishou"), **base)


async def test_a_press_story_after_the_regulators_notice_changes_nothing(db: Database) -> None:
    async with db.session() as session:
        own = await save_notice(session, regulators_notice())
    async with db.session() as session:
        press = await save_notice(session, news_story())
        pending = await pending_outbox(session)
        sources = await notice_sources(session, own.notice.notice_id)
    assert press.outcome == "unchanged" and press.notice == own.notice
    assert [row.key for row in pending] == [own.notice.notice_id]
    assert [s.source for s in sources][-1] == "https://news.example.com/84-apps"


async def test_the_regulators_notice_upgrades_a_press_only_notice(db: Database) -> None:
    async with db.session() as session:
        press = await save_notice(session, news_story())
    async with db.session() as session:
        own = await save_notice(session, regulators_notice())
        pending = await pending_outbox(session)
        row = await session.get(NoticeRow, press.notice.notice_id)
    assert own.outcome == "updated" and own.notice.notice_id == "cac-20210511-press"
    assert own.notice.deadline == WORKING_DAYS and own.notice.language == "zh"
    assert len(own.notice.entities) == 84 and own.notice.entities[0].name == "抖音"
    assert row is not None and row.published_on == date(2021, 5, 10)
    assert [json.loads(r.payload)["deadline"]["due_on"] for r in pending] == [
        "2021-05-26",
        "2021-05-31",
    ]


async def test_a_press_story_joins_the_notice_its_count_names(db: Database) -> None:
    async with db.session() as session:
        await save_notice(session, regulators_notice(33))
        await save_notice(session, regulators_notice(84, published_on=date(2021, 5, 11)))
    async with db.session() as session:
        press = await save_notice(session, news_story())
    assert press.notice.notice_id == "cac-20210510-own84"


async def test_a_repost_under_a_new_url_is_recorded_and_publishes_nothing(db: Database) -> None:
    async with db.session() as session:
        await save_notice(session, regulators_notice(source_url="https://www.cac.gov.cn/a.htm"))
    async with db.session() as session:
        again = await save_notice(
            session, regulators_notice(source_url="https://mirror.example.cn/a.htm")
        )
        pending = await pending_outbox(session)
        sources = await notice_sources(session, again.notice.notice_id)
    assert again.outcome == "unchanged" and len(pending) == 1
    assert again.notice.source_url == "https://www.cac.gov.cn/a.htm"
    assert [s.source for s in sources] == [
        "https://www.cac.gov.cn/a.htm",
        "https://mirror.example.cn/a.htm",
    ]
