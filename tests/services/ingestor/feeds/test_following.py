"""A feed item's page is followed to its attachments and list images, on a real HTTP server
on 127.0.0.1: same site only, count and size limits, failures recorded without losing the
page; and (with the readers) an .xlsx list read into the one notice."""

from __future__ import annotations

import inspect
import io
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from html import escape

import pytest
from sqlalchemy import select

from services.ingestor.extract import parse_notice
from services.ingestor.feeds import FeedPoller, Fetcher, add_source
from services.ingestor.feeds.attachments import AttachmentLimits
from services.ingestor.models import FeedItemRow
from services.ingestor.store import get_notice
from shared.db import Database
from shared.poll_schedule import PollSchedule
from tests.support.dns import FakeDNS, fake_dns
from tests.support.feeds import FeedServer, Page, rss

__all__ = ["fake_dns"]  # the fixture, used by name

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
APPS = [
    ("星云笔记", "杭州星云软件有限公司", "华为应用市场"),
    ("蓝鲸出行", "成都蓝鲸出行科技有限公司", "应用宝"),
    ("海豚阅读", "海豚文化传媒有限公司", "小米应用商店"),
]


@dataclass
class Setup:
    db: Database
    server: FeedServer
    fetcher: Fetcher

    def poller(self, count: int = 5, max_bytes: int = 50_000) -> FeedPoller:
        limits = AttachmentLimits(count=count, max_bytes=max_bytes)
        return FeedPoller(
            self.db,
            self.fetcher,
            default_schedule=PollSchedule(timedelta(minutes=15)),
            attachments=limits,
        )


@pytest.fixture
async def setup(db: Database) -> AsyncIterator[Setup]:
    async with (
        FeedServer() as server,
        Fetcher(timeout=5, max_bytes=200_000, allow_private=True) as fetcher,
    ):
        yield Setup(db, server, fetcher)


def page_with(links: str, *, named: int = 1) -> bytes:
    """A MIIT-style notice page naming ``named`` of its three apps in the text, the list
    attached (``links``: the page's attachment markup)."""
    title = f"关于{APPS[0][0]}等3款App侵害用户权益行为的通报"
    text = "、".join(app for app, _dev, _store in APPS[:named])
    return (
        f"<html><head><meta charset='utf-8'><title>{title}</title></head><body>"
        "<nav><a href='/'>首页</a><img src='/img/logo.png' alt='附件'></nav>"
        f"<h1>{title}</h1><p>工业和信息化部信息通信管理局</p><p>2021年6月1日</p>"
        f"<p>近期，我局检查发现{escape(text)}等3款App存在侵害用户权益行为，具体名单见附件。"
        "上述App应在6月8日前完成整改。</p>"
        f"{links}</body></html>"
    ).encode()


def xlsx_list() -> bytes:
    openpyxl = pytest.importorskip("openpyxl", reason="openpyxl builds the test's .xlsx file")
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["序号", "应用名称", "应用开发者", "应用来源", "应用版本", "所涉问题"])
    for number, (app, developer, store) in enumerate(APPS, 1):
        sheet.append([number, app, developer, store, "2.0.1", "违规收集个人信息"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


async def test_the_follower_takes_same_site_files_within_the_limits(setup: Setup) -> None:
    server = setup.server
    other_host = server.url("/files/elsewhere.xlsx").replace("127.0.0.1", "localhost")
    server.pages["/files/list.xlsx"] = Page(b"PK fake sheet", XLSX)
    server.pages["/files/big.pdf"] = Page(b"%PDF" + b"0" * 2_000, "application/pdf")
    server.pages["/up/list-image"] = Page(b"\x89PNG fake", "image/png")
    server.pages["/files/extra.docx"] = Page(b"PK fake doc", "application/octet-stream")
    links = (
        f'<p><a href="{other_host}">another host</a></p>'
        '<p>附件1：<a href="/files/list.xlsx">名单</a></p>'
        '<p><a href="/files/missing.pdf">全文</a> <a href="/files/big.pdf">附件2</a></p>'
        '<p><img src="/up/list-image" alt="App名单"></p>'
        '<p><a href="/files/extra.docx">附件3</a></p>'
    )
    page_url = server.url("/notice.html")

    followed = await setup.poller(count=4, max_bytes=1_000).follow(page_with(links), page_url)

    assert [name for name, _body in followed.files] == ["list.xlsx", "list-image.png"]
    assert followed.files[0][1] == b"PK fake sheet"
    assert followed.urls == [server.url("/files/list.xlsx"), server.url("/up/list-image")]
    assert len(followed.errors) == 2
    assert "missing.pdf" in followed.errors[0] and "404" in followed.errors[0]
    assert "big.pdf" in followed.errors[1] and "over the limit of 1000" in followed.errors[1]
    assert server.hits("/files/extra.docx") == []  # the fifth link: over the count
    assert server.hits("/img/logo.png") == [] and server.hits("/files/elsewhere.xlsx") == []


async def test_the_follower_keeps_the_ssrf_guard(db: Database) -> None:
    async with (
        FeedServer() as server,
        Fetcher(timeout=5, max_bytes=10_000, allow_private=False) as fetcher,
    ):
        server.pages["/files/list.xlsx"] = Page(b"PK", XLSX)
        poller = FeedPoller(db, fetcher, default_schedule=PollSchedule(timedelta(minutes=15)))
        links = '<p>附件：<a href="/files/list.xlsx">名单</a></p>'
        followed = await poller.follow(page_with(links), server.url("/notice.html"))
    assert followed.files == [] and "REGWATCH_FEEDS_ALLOW_PRIVATE" in followed.errors[0]
    assert server.requests == []


async def test_attachment_fetches_refuse_dns_rebinding(db: Database, fake_dns: FakeDNS) -> None:
    """The page's host answers a public address when checked, 127.0.0.1 when connected to."""
    async with (
        FeedServer() as server,
        Fetcher(timeout=5, max_bytes=10_000, allow_private=False) as fetcher,
    ):
        server.pages["/files/list.xlsx"] = Page(b"PK", XLSX)
        fake_dns.answer("rebind.test", ["93.184.216.34"], ["127.0.0.1"])
        poller = FeedPoller(db, fetcher, default_schedule=PollSchedule(timedelta(minutes=15)))
        links = '<p>附件：<a href="/files/list.xlsx">名单</a></p>'
        page_url = f"http://rebind.test:{server.port}/notice.html"
        followed = await poller.follow(page_with(links), page_url)
        assert server.requests == []
    assert followed.files == []
    (error,) = followed.errors
    assert "127.0.0.1 is a loopback address" in error and "REGWATCH_FEEDS_ALLOW_PRIVATE" in error


async def test_failed_attachments_are_recorded_and_the_page_is_ingested(setup: Setup) -> None:
    server = setup.server
    server.pages["/notice.html"] = Page(
        page_with('<p>附件：<a href="/files/gone.xlsx">名单</a></p>')
    )
    server.pages["/rss.xml"] = Page(
        rss([("关于App的通报", server.url("/notice.html"))]), "application/rss+xml"
    )
    async with setup.db.session() as session:
        source = await add_source(session, server.url("/rss.xml"))
    result = await setup.poller().poll(source.id)
    [item] = result.items
    assert item.status == "ingested" and item.attachments == []
    assert len(item.attachment_errors) == 1 and "gone.xlsx" in item.attachment_errors[0]
    async with setup.db.session() as session:
        row = await session.scalar(select(FeedItemRow).where(FeedItemRow.source_id == source.id))
        notice = await get_notice(session, item.notice_id or "")
    assert row is not None and row.status == "ingested" and "gone.xlsx" in (row.error or "")
    assert notice is not None and [e.name for e in notice.entities] == ["星云笔记"]
    assert notice.list_incomplete


@pytest.mark.skipif(
    "attachments" not in inspect.signature(parse_notice).parameters,
    reason="parse_notice does not take attachments yet (the .xlsx/.pdf/image readers)",
)
async def test_an_xlsx_list_joins_the_notice_its_page_names(setup: Setup) -> None:
    server = setup.server
    server.pages["/files/list.xlsx"] = Page(xlsx_list(), XLSX)
    links = '<p>附件：<a href="/files/list.xlsx">3款App名单.xlsx</a></p>'
    server.pages["/notice.html"] = Page(page_with(links))
    server.pages["/rss.xml"] = Page(
        rss([("关于App的通报", server.url("/notice.html"))]), "application/rss+xml"
    )
    async with setup.db.session() as session:
        source = await add_source(session, server.url("/rss.xml"))
    [item] = (await setup.poller().poll(source.id)).items
    assert item.status == "ingested" and item.attachment_errors == []
    assert item.attachments == [server.url("/files/list.xlsx")]
    async with setup.db.session() as session:
        notice = await get_notice(session, item.notice_id or "")
    assert notice is not None
    assert [(e.name, e.developer) for e in notice.entities] == [(a, d) for a, d, _s in APPS]
    assert {e.source for e in notice.entities[1:]} == {"attachment"}
    assert not notice.list_incomplete
