"""The portal's notices page: search (regulator, dates, app name, title words), newest first,
keyset pages with a "next page" link, a wrong parameter shown at the form, one notice whole
(every app with where it was read, notes, where it was seen), an unknown id is a 404, Chinese,
and sign-in required."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import date
from html import unescape
from pathlib import Path

import httpx
import pytest

from services.ingestor import portal_notices
from services.ingestor.store import Seen, save_notice
from shared.db import Database
from shared.events import Deadline, Entity, NoticeEvent, Regulator
from tests.support.portal import Portal, add_subscriber, client_for, portal_app, sign_in

BASE = "http://127.0.0.1:8080"
NAMES = {"CAC": "国家互联网信息办公室", "MIIT": "工业和信息化部", "CAC-HAINAN": "海南省网信办"}


@pytest.fixture
async def portal(tmp_path: Path) -> AsyncIterator[Portal]:
    async with portal_app(tmp_path) as found:
        yield found


@pytest.fixture
async def client(portal: Portal) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(portal.app, BASE) as found:
        yield found


async def signed_in(portal: Portal, client: httpx.AsyncClient) -> None:
    _, key = await add_subscriber(portal.db)
    assert (await sign_in(client, key)).status_code == 303


def notice(
    notice_id: str,
    day: date,
    *entities: Entity,
    code: str = "CAC",
    title: str | None = None,
    **fields: object,
) -> NoticeEvent:
    return NoticeEvent.model_validate(
        {
            "notice_id": notice_id,
            "regulator": Regulator(code=code, name=NAMES[code]),
            "kind": "rectification",
            "title": title or f"关于{entities[0].name}等App侵害用户权益行为的通报",
            "published_on": day,
            "entities": list(entities),
            "source_url": f"https://www.example.gov.cn/{notice_id}.htm",
            **fields,
        }
    )


async def store(db: Database, *notices: NoticeEvent) -> None:
    async with db.session() as session:
        for item in notices:
            await save_notice(session, item, seen=Seen(item.source_url or "-", item.notice_id))


def titles_in(html: str) -> list[str]:
    return [
        unescape(found)
        for found in re.findall(r'<a href="/portal/notices/[^"]+">([^<]+)</a>', html)
    ]


async def some_notices(db: Database) -> None:
    await store(
        db,
        notice(
            "cac-douyin",
            date(2021, 5, 10),
            Entity(name="抖音", developer="北京微播视界科技有限公司", source="table"),
            Entity(name="快手", source="text"),
            deadline=Deadline(
                due_on=date(2021, 5, 25), rule="working_days", amount=10, source_text="10个工作日内"
            ),
            notes=["两个日期不一致：采用正文日期"],
        ),
        notice(
            "miit-wechat",
            date(2021, 6, 1),
            Entity(name="微信"),
            code="MIIT",
            list_incomplete=True,
            declared_count=84,
            published_on_estimated=True,
        ),
        notice("hainan-taobao", date(2021, 4, 2), Entity(name="淘宝"), code="CAC-HAINAN"),
    )


async def test_sign_in_is_required(client: httpx.AsyncClient) -> None:
    for path in ("/portal/notices?app=%E6%8A%96%E9%9F%B3", "/portal/notices/cac-douyin"):
        answer = await client.get(path)
        assert answer.status_code == 303
        assert answer.headers["location"].startswith("/portal/signin?next=/portal/notices")


async def test_every_notice_newest_first_with_its_facts(
    portal: Portal, client: httpx.AsyncClient
) -> None:
    await signed_in(portal, client)
    await some_notices(portal.db)
    page = await client.get("/portal/notices")
    assert page.status_code == 200
    html = page.text
    assert 'aria-current="page">Notices<' in html  # in the navigation
    assert titles_in(html) == [
        "关于微信等App侵害用户权益行为的通报",
        "关于抖音等App侵害用户权益行为的通报",
        "关于淘宝等App侵害用户权益行为的通报",
    ]
    assert '2021-06-01</time><br><span class="flag">estimated' in html
    assert "List incomplete" in html and "(the notice says 84)" in html
    assert '<time datetime="2021-05-25">2021-05-25</time>' in html  # the deadline
    assert "Next page" not in html
    assert "<script>" not in html and " style=" not in html  # CSP: no inline script or style


async def test_filters(portal: Portal, client: httpx.AsyncClient) -> None:
    await signed_in(portal, client)
    await some_notices(portal.db)

    async def found(**params: str) -> list[str]:
        answer = await client.get("/portal/notices", params=params)
        assert answer.status_code == 200
        return [title[2:4] for title in titles_in(answer.text)]

    assert await found(regulator="cac") == ["抖音"]
    assert await found(regulator="CAC*") == ["抖音", "淘宝"]
    assert await found(since="2021-05-01") == ["微信", "抖音"]
    assert await found(since="2021-05-01", until="2021-05-31") == ["抖音"]
    assert await found(app="北京微播视界科技有限公司") == ["抖音"]  # its developer
    assert await found(app="快手") == ["抖音"]
    assert await found(app="douyin") == ["抖音"]
    assert await found(q="淘宝 通报") == ["淘宝"]
    nothing = await client.get("/portal/notices", params={"app": "不存在的应用"})
    assert "No notice matches this search." in nothing.text
    assert 'value="不存在的应用"' in nothing.text  # the form keeps what was asked


async def test_pages_follow_the_next_page_link(
    portal: Portal, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(portal_notices, "PAGE_SIZE", 2)
    await signed_in(portal, client)
    await some_notices(portal.db)
    await store(portal.db, notice("cac-weibo", date(2021, 3, 1), Entity(name="微博")))
    first = await client.get("/portal/notices", params={"regulator": "CAC*"})
    assert [t[2:4] for t in titles_in(first.text)] == ["抖音", "淘宝"]
    link = re.search(r'<a href="([^"]+)" rel="next">Next page</a>', first.text)
    assert link is not None
    href = unescape(link.group(1))
    assert "regulator=CAC%2A" in href and "cursor=" in href
    second = await client.get(href)
    assert [t[2:4] for t in titles_in(second.text)] == ["微博"]
    assert "Next page" not in second.text
    assert 'href="/portal/notices?regulator=CAC%2A">First page<' in second.text


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"since": "2021-13-01"}, "f-since", "Published on or after: not a date"),
        ({"until": "yesterday"}, "f-until", "Published on or before: not a date"),
        (
            {"since": "2021-06-01", "until": "2021-05-01"},
            "f-until",
            "this day is before the &#39;on or after&#39; day",
        ),
        ({"regulator": "网信办"}, "f-regulator", "Regulator: not a regulator code"),
        ({"app": "!!!"}, "f-app", "App or company: give a name"),
        ({"q": " ".join("abcdefghijk")}, "f-q", "at most 10 words"),
        ({"cursor": "not-a-cursor"}, None, "This page link no longer works"),
    ],
)
async def test_a_wrong_parameter_is_shown_in_the_form(
    portal: Portal,
    client: httpx.AsyncClient,
    params: dict[str, str],
    field: str | None,
    message: str,
) -> None:
    await signed_in(portal, client)
    await some_notices(portal.db)
    answer = await client.get("/portal/notices", params=params)
    assert answer.status_code == 200
    assert 'role="alert" id="search-error"' in answer.text and message in answer.text
    assert titles_in(answer.text) == []  # no results under an error
    if field is not None:
        tag = re.search(rf'<input id="{field}"[^>]*>', answer.text)
        assert tag is not None and 'aria-invalid="true"' in tag.group(0)
        assert "search-error" in tag.group(0)


async def test_one_notice_whole(portal: Portal, client: httpx.AsyncClient) -> None:
    await signed_in(portal, client)
    await some_notices(portal.db)
    await store(
        portal.db,
        notice(
            "cac-douyin",
            date(2021, 5, 10),
            Entity(name="抖音", developer="北京微播视界科技有限公司", source="table"),
            Entity(name="快手", source="text"),
            Entity(name="某SDK", kind="sdk", source="attachment"),
            title="关于抖音等App侵害用户权益行为的通报",
            source_url="https://www.example.gov.cn/cac-douyin-copy.htm",
        ),
    )
    list_page = await client.get("/portal/notices", params={"app": "抖音"})
    link = re.search(r'<a href="(/portal/notices/[^"]+)">', list_page.text)
    assert link is not None and link.group(1) == "/portal/notices/cac-douyin"
    page = await client.get(link.group(1))
    assert page.status_code == 200, page.text
    html = page.text
    assert "国家互联网信息办公室 (CAC)" in html
    assert "Rectification" in html
    assert "10个工作日内" in html and "2021-05-25" in html
    row = re.search(r"<tr>\s*<td>抖音</td>.*?</tr>", html, re.S)
    assert row is not None
    assert "北京微播视界科技有限公司" in row.group(0) and "a table in the page" in row.group(0)
    assert re.search(r"<td>快手</td>.*?the text", html, re.S)
    assert re.search(r"<td>某SDK</td>\s*<td>SDK</td>.*?an attached file", html, re.S)
    assert "两个日期不一致：采用正文日期" in html
    assert 'href="https://www.example.gov.cn/cac-douyin.htm"' in html
    assert "https://www.example.gov.cn/cac-douyin-copy.htm</a>" in html  # the second copy seen


async def test_an_unknown_notice_is_a_404(portal: Portal, client: httpx.AsyncClient) -> None:
    await signed_in(portal, client)
    answer = await client.get("/portal/notices/no-such-notice")
    assert answer.status_code == 404
    assert "There is nothing here" in answer.text


async def test_the_pages_in_chinese(portal: Portal, client: httpx.AsyncClient) -> None:
    await signed_in(portal, client)
    await some_notices(portal.db)
    page = await client.get("/portal/notices", params={"lang": "zh"})
    assert page.status_code == 200
    assert '<html lang="zh-CN">' in page.text
    for words in ("找到的通报", "发布日期", "名单不完整", "（通报称 84 款）", "估计"):
        assert words in page.text, words
    wrong = await client.get("/portal/notices", params={"since": "5月"})
    assert "发布日期不早于：不是日期" in wrong.text
    detail = await client.get("/portal/notices/cac-douyin")
    assert detail.status_code == 200
    for words in ("页面中的表格", "正文", "在何处看到", "全部通报", "责令整改"):
        assert words in detail.text, words
    missing = await client.get("/portal/notices/nope")
    assert missing.status_code == 404
