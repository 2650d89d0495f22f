"""Listing stored notices: each filter alone and together, keyset pages that stay put while
notices are stored between them, parameters refused with a message naming them, and one
notice whole with where it was seen."""

from __future__ import annotations

from datetime import date

import pytest

from services.ingestor.listing import (
    BadParameter,
    NoticeFilter,
    NoticePage,
    check_limit,
    decode_cursor,
    list_notices,
    notice_detail,
    notice_filter,
)
from services.ingestor.store import Seen, save_notice
from shared.db import Database
from shared.events import Deadline, Entity, NoticeEvent, Regulator

REGULATORS = {
    "CAC": "国家互联网信息办公室",
    "MIIT": "工业和信息化部",
    "CAC-HAINAN": "海南省互联网信息办公室",
    "CA-BEIJING": "北京市通信管理局",
}


def make(
    notice_id: str,
    day: date,
    *entities: Entity,
    regulator: str = "CAC",
    title: str = "关于App违法违规收集使用个人信息情况的通报",
    **fields: object,
) -> NoticeEvent:
    return NoticeEvent.model_validate(
        {
            "notice_id": notice_id,
            "regulator": Regulator(code=regulator, name=REGULATORS[regulator]),
            "kind": "rectification",
            "title": title,
            "published_on": day,
            "entities": list(entities),
            **fields,
        }
    )


DOUYIN = Entity(name="抖音", developer="北京微播视界科技有限公司")
KUAISHOU = Entity(name="快手", developer="北京快手科技有限公司")
WECHAT = Entity(name="微信", developer="深圳市腾讯计算机系统有限公司")
SDK = Entity(kind="sdk", name="某统计SDK")

NOTICES = [
    make(
        "cac-2021-05-10",
        date(2021, 5, 10),
        DOUYIN,
        KUAISHOU,
        title="关于抖音等84款App违法违规收集使用个人信息情况的通报",
        deadline=Deadline(
            due_on=date(2021, 5, 25), rule="working_days", amount=10, source_text="10个工作日内"
        ),
        batch="2021-第1批",
        source_url="https://www.cac.gov.cn/2021-05/10/c_1.htm",
    ),
    make(
        "miit-2021-06-01",
        date(2021, 6, 1),
        WECHAT,
        regulator="MIIT",
        title="关于侵害用户权益行为的APP通报",
    ),
    make(
        "cac-hainan-2021-07-01",
        date(2021, 7, 1),
        Entity(name="椰子天气"),
        regulator="CAC-HAINAN",
        title="海南省网信办通报 Privacy Policy 问题",
    ),
    make("ca-beijing-2021-07-02", date(2021, 7, 2), SDK, regulator="CA-BEIJING"),
    make(
        "cac-2022-01-05",
        date(2022, 1, 5),
        Entity(name="小红书"),
        published_on_estimated=True,
        notes=["only a month given"],
    ),
]


async def store(db: Database, *notices: NoticeEvent) -> None:
    for notice in notices:
        async with db.session() as session:
            saved = await save_notice(
                session, notice, seen=Seen(f"https://x/{notice.notice_id}", "h")
            )
        assert saved.outcome == "new", notice.notice_id


async def ids(db: Database, **filters: str) -> list[str]:
    async with db.read_session() as session:
        page = await list_notices(session, notice_filter(**filters), limit=200)
    return [item.notice_id for item in page.items]


@pytest.fixture
async def stored(db: Database) -> Database:
    await store(db, *NOTICES)
    return db


async def test_newest_first_with_every_field_a_list_shows(stored: Database) -> None:
    async with stored.read_session() as session:
        page = await list_notices(session)
    assert [item.notice_id for item in page.items] == [
        "cac-2022-01-05",
        "ca-beijing-2021-07-02",
        "cac-hainan-2021-07-01",
        "miit-2021-06-01",
        "cac-2021-05-10",
    ]
    assert page.next_cursor is None
    first = page.items[-1]
    assert first.regulator == Regulator(code="CAC", name="国家互联网信息办公室")
    assert first.deadline is not None and first.deadline.due_on == date(2021, 5, 25)
    assert (first.batch, first.entity_count, first.kind) == ("2021-第1批", 2, "rectification")
    assert [(e.kind, e.name, e.developer) for e in first.entities] == [
        ("app", "抖音", "北京微播视界科技有限公司"),
        ("app", "快手", "北京快手科技有限公司"),
    ]
    assert first.source_url == "https://www.cac.gov.cn/2021-05/10/c_1.htm"
    newest = page.items[0]
    assert newest.published_on_estimated and newest.notes == ["only a month given"]
    assert newest.deadline is None and not first.published_on_estimated


async def test_regulator_exact_any_case_or_prefix(stored: Database) -> None:
    assert await ids(stored, regulator="CAC") == ["cac-2022-01-05", "cac-2021-05-10"]
    assert await ids(stored, regulator=" miit ") == ["miit-2021-06-01"]
    assert await ids(stored, regulator="cac-hainan") == ["cac-hainan-2021-07-01"]
    assert await ids(stored, regulator="CAC*") == [
        "cac-2022-01-05",
        "cac-hainan-2021-07-01",
        "cac-2021-05-10",
    ]
    assert await ids(stored, regulator="CAC-*") == ["cac-hainan-2021-07-01"]
    assert await ids(stored, regulator="CA*") == [
        "cac-2022-01-05",
        "ca-beijing-2021-07-02",
        "cac-hainan-2021-07-01",
        "cac-2021-05-10",
    ]
    assert await ids(stored, regulator="SAMR") == []


async def test_dates_are_inclusive(stored: Database) -> None:
    assert await ids(stored, since="2021-07-01") == [
        "cac-2022-01-05",
        "ca-beijing-2021-07-02",
        "cac-hainan-2021-07-01",
    ]
    assert await ids(stored, until="2021-06-01") == ["miit-2021-06-01", "cac-2021-05-10"]
    assert await ids(stored, since="2021-06-01", until="2021-07-01") == [
        "cac-hainan-2021-07-01",
        "miit-2021-06-01",
    ]


async def test_app_by_name_in_any_script_by_developer_or_in_the_title(stored: Database) -> None:
    for name in ("抖音", "Douyin", "douyin", "抖 音", "北京微播视界科技有限公司"):
        assert await ids(stored, app=name) == ["cac-2021-05-10"], name
    assert await ids(stored, app="快手") == ["cac-2021-05-10"]
    assert await ids(stored, app="WeChat") == ["miit-2021-06-01"]  # English press name
    assert await ids(stored, app="深圳市腾讯计算机系统有限公司") == ["miit-2021-06-01"]
    assert await ids(stored, app="某统计SDK") == ["ca-beijing-2021-07-02"]  # any kind
    assert await ids(stored, app="privacy policy") == ["cac-hainan-2021-07-01"]  # the title
    assert await ids(stored, app="微博") == []


async def test_q_finds_every_word_in_the_title(stored: Database) -> None:
    assert await ids(stored, q="app通报") == ["miit-2021-06-01"]  # "APP通报", any case
    assert await ids(stored, q="通报 84款") == ["cac-2021-05-10"]
    assert await ids(stored, q="PRIVACY  policy") == ["cac-hainan-2021-07-01"]
    assert await ids(stored, q="100%") == []  # LIKE wildcards are literal
    assert await ids(stored, q="通报 侵害") == ["miit-2021-06-01"]
    assert len(await ids(stored, q="通报")) == 5


async def test_filters_together(stored: Database) -> None:
    assert await ids(stored, regulator="CAC*", since="2021-06-01") == [
        "cac-2022-01-05",
        "cac-hainan-2021-07-01",
    ]
    assert await ids(stored, regulator="CAC", app="Douyin", q="通报") == ["cac-2021-05-10"]
    assert await ids(stored, regulator="MIIT", app="Douyin") == []
    assert await ids(stored, app="Douyin", since="2021-05-11") == []


async def test_pages_stay_put_when_notices_are_stored_between_them(db: Database) -> None:
    days = [date(2021, 1, day) for day in (9, 8, 8, 8, 7, 6, 5)]
    await store(
        db,
        *(make(f"cac-{n}", day, Entity(name=f"应用{n}")) for n, day in enumerate(days)),
    )

    async def page(cursor: str | None) -> NoticePage:
        async with db.read_session() as session:
            return await list_notices(session, limit=3, cursor=cursor)

    first = await page(None)
    assert [item.notice_id for item in first.items] == ["cac-0", "cac-1", "cac-2"]
    assert first.next_cursor is not None
    # stored meanwhile: one newer than the page read (not shown again), one on the date the
    # cursor stopped at but sorting before it, one in the pages to come
    await store(
        db,
        make("cac-new", date(2021, 2, 1), Entity(name="新应用")),
        make("cac-0a", date(2021, 1, 8), Entity(name="同日应用")),
        make("cac-late", date(2021, 1, 6), Entity(name="迟到应用")),
    )
    second = await page(first.next_cursor)
    assert [item.notice_id for item in second.items] == ["cac-3", "cac-4", "cac-5"]
    third = await page(second.next_cursor)
    assert [item.notice_id for item in third.items] == ["cac-late", "cac-6"]
    assert third.next_cursor is None


async def test_a_filtered_list_pages_too(stored: Database) -> None:
    async with stored.read_session() as session:
        one = await list_notices(session, notice_filter(regulator="CAC*"), limit=2)
        two = await list_notices(
            session, notice_filter(regulator="CAC*"), limit=2, cursor=one.next_cursor
        )
    assert [i.notice_id for i in one.items + two.items] == [
        "cac-2022-01-05",
        "cac-hainan-2021-07-01",
        "cac-2021-05-10",
    ]
    assert two.next_cursor is None


@pytest.mark.parametrize(
    ("filters", "message"),
    [
        ({"since": "2021-13-01"}, "since: '2021-13-01' is not a date (YYYY-MM-DD)"),
        ({"until": "yesterday"}, "until: 'yesterday' is not a date (YYYY-MM-DD)"),
        ({"since": "2021-5-1"}, "since: '2021-5-1' is not a date (YYYY-MM-DD)"),
        (
            {"since": "2021-06-02", "until": "2021-06-01"},
            "until: 2021-06-01 is before since (2021-06-02)",
        ),
        ({"regulator": "C@C"}, "regulator: 'C@C' is not a regulator code"),
        ({"regulator": "*"}, "regulator: '*' is not a regulator code"),
        ({"app": "!!!"}, "app: '!!!' has no letters or digits to look for"),
        ({"app": "a" * 201}, "app: 201 characters; at most 200"),
        ({"q": " ".join("w" * 11)}, "q: 11 words; at most 10"),
        ({"q": "a\x00b"}, "q: control characters are not allowed"),
    ],
)
def test_bad_parameters_are_named(filters: dict[str, str], message: str) -> None:
    with pytest.raises(BadParameter) as raised:
        notice_filter(**filters)
    assert str(raised.value).startswith(message)
    assert raised.value.parameter == message.split(":")[0]


def test_blank_parameters_are_no_filter() -> None:
    assert notice_filter(regulator=" ", since="", until=None, app=" ", q="  ") == NoticeFilter()


@pytest.mark.parametrize(
    "cursor", ["nope", "bjF8MjAyMS0xMy0wMXx4", "!!", "a" * 300, "bjJ8MjAyMS0wMS0wMXx4"]
)
def test_cursors_not_made_here_are_refused(cursor: str) -> None:
    with pytest.raises(BadParameter, match=r"^cursor: not a cursor this list gave"):
        decode_cursor(cursor)


@pytest.mark.parametrize("limit", [0, 201, -1])
def test_limit_is_checked(limit: int) -> None:
    with pytest.raises(BadParameter, match=rf"^limit: {limit} is not between 1 and 200"):
        check_limit(limit)


async def test_one_notice_whole_with_where_it_was_seen(db: Database) -> None:
    await store(db, NOTICES[0])
    reprint = NOTICES[0].model_copy(
        update={"notice_id": "cac-reprint-x", "entities": [DOUYIN, KUAISHOU, WECHAT]}
    )
    async with db.session() as session:
        merged = await save_notice(session, reprint, seen=Seen("https://reprint.example/n", "h2"))
    assert merged.outcome == "updated" and merged.notice.notice_id == "cac-2021-05-10"
    async with db.read_session() as session:
        detail = await notice_detail(session, "cac-2021-05-10")
        by_alias = await notice_detail(session, "cac-reprint-x")  # the id the reprint had
        missing = await notice_detail(session, "nope")
    assert detail is not None and missing is None
    assert by_alias == detail
    assert detail.notice == merged.notice
    assert [(s.source, s.parsed_id, s.times_seen) for s in detail.sources] == [
        ("https://x/cac-2021-05-10", "cac-2021-05-10", 1),
        ("https://reprint.example/n", "cac-reprint-x", 1),
    ]
    assert detail.stored_at <= detail.updated_at
    # the merged entity is found by name from now on
    assert await ids(db, app="微信") == ["cac-2021-05-10"]
