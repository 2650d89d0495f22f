"""Feed polling against a real HTTP server on 127.0.0.1: conditional GET, items ingested once,
backoff after errors, broken items recorded without stopping the rest."""

from __future__ import annotations

from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from services.ingestor.feeds import FeedPoller, FeedScheduler, Fetcher, add_source, describe
from services.ingestor.feeds.poller import MAX_ITEM_ATTEMPTS
from services.ingestor.models import FeedItemRow, FeedSourceRow
from services.ingestor.store import get_notice, pending_outbox
from shared.db import Database
from shared.db.base import utcnow
from shared.poll_schedule import PollSchedule
from tests.support.feeds import FeedServer, Page, atom, list_page, notice_page, rss

INTERVAL = timedelta(minutes=15)
SHANGHAI = ZoneInfo("Asia/Shanghai")
APPS_1 = [("星云笔记", "杭州星云软件有限公司"), ("蓝鲸出行", "成都蓝鲸出行科技有限公司")]
APPS_2 = [("海豚阅读", "海豚文化传媒有限公司")]
APPS_3 = [("松果天气", "厦门松果信息技术有限公司"), ("青柠记账", "苏州青柠软件有限公司")]


@dataclass
class Feeds:
    db: Database
    server: FeedServer
    poller: FeedPoller
    kicks: list[int]

    async def add(self, path: str, **options: object) -> int:
        async with self.db.session() as session:
            row = await add_source(session, self.server.url(path), **options)  # type: ignore[arg-type]
            return row.id

    async def source(self, source_id: int) -> FeedSourceRow:
        async with self.db.session() as session:
            row = await session.get(FeedSourceRow, source_id)
            assert row is not None
            return row

    async def items(self, source_id: int) -> list[FeedItemRow]:
        async with self.db.session() as session:
            rows = await session.scalars(
                select(FeedItemRow)
                .where(FeedItemRow.source_id == source_id)
                .order_by(FeedItemRow.id)
            )
            return list(rows)


@pytest.fixture
async def feeds(db: Database) -> AsyncIterator[Feeds]:
    kicks: list[int] = []
    async with (
        FeedServer() as server,
        Fetcher(timeout=5, max_bytes=200_000, allow_private=True) as fetcher,
    ):
        server.pages["/n1.html"] = Page(notice_page("2021年5月10日", APPS_1))
        server.pages["/n2.html"] = Page(notice_page("2021年6月1日", APPS_2, regulator="MIIT"))
        server.pages["/n3.html"] = Page(notice_page("2021年7月5日", APPS_3))
        poller = FeedPoller(
            db,
            fetcher,
            default_schedule=PollSchedule(INTERVAL),
            on_ingested=lambda: kicks.append(1),
        )
        yield Feeds(db, server, poller, kicks)


def feed_of(server: FeedServer, *paths: str) -> bytes:
    return rss([(f"关于App的通报 {p}", server.url(p)) for p in paths])


async def test_rss_items_are_ingested_and_a_second_poll_gets_304(feeds: Feeds) -> None:
    server = feeds.server
    server.pages["/rss.xml"] = Page(
        feed_of(server, "/n2.html", "/n1.html"), "application/rss+xml", etag='"v1"'
    )
    source_id = await feeds.add("/rss.xml")
    first = await feeds.poller.poll(source_id)
    second = await feeds.poller.poll(source_id)

    assert first.status == "ok" and second.status == "not_modified"
    assert [i.url for i in first.items] == [server.url("/n1.html"), server.url("/n2.html")]
    assert {i.status for i in first.items} == {"ingested"} and second.items == []
    assert [r.status for r in server.hits("/rss.xml")] == [200, 304]
    assert server.hits("/rss.xml")[1].headers["if-none-match"] == '"v1"'
    assert len(server.hits("/n1.html")) == len(server.hits("/n2.html")) == 1
    async with feeds.db.session() as session:
        stored = await get_notice(session, first.items[0].notice_id or "")
        assert stored is not None and stored.source_url == server.url("/n1.html")
        assert [e.name for e in stored.entities] == ["星云笔记", "蓝鲸出行"]
        assert len(await pending_outbox(session)) == 2
    assert len(feeds.kicks) == 2
    source = await feeds.source(source_id)
    assert (source.status, source.etag, source.failures) == ("not_modified", '"v1"', 0)


async def test_last_modified_makes_the_get_conditional_too(feeds: Feeds) -> None:
    stamp = "Mon, 10 May 2021 08:00:00 GMT"
    server = feeds.server
    server.pages["/atom.xml"] = Page(
        atom([("通报 n1", server.url("/n1.html"))]), "application/atom+xml", last_modified=stamp
    )
    source_id = await feeds.add("/atom.xml", kind="atom")
    first = await feeds.poller.poll(source_id)
    second = await feeds.poller.poll(source_id)
    assert [len(first.items), len(second.items)] == [1, 0]
    assert server.hits("/atom.xml")[1].headers["if-modified-since"] == stamp
    assert second.status == "not_modified"


async def test_an_item_seen_again_is_fetched_and_ingested_once(feeds: Feeds) -> None:
    server = feeds.server
    page = Page(feed_of(server, "/n1.html"), "application/rss+xml", etag='"v1"')
    server.pages["/rss.xml"] = page
    source_id = await feeds.add("/rss.xml")
    await feeds.poller.poll(source_id)
    page.body, page.etag = feed_of(server, "/n3.html", "/n1.html"), '"v2"'
    second = await feeds.poller.poll(source_id)
    assert [i.url for i in second.items] == [server.url("/n3.html")]
    assert second.already_seen == 1
    assert len(server.hits("/n1.html")) == 1
    items = await feeds.items(source_id)
    assert [(i.status, i.attempts) for i in items] == [("ingested", 1), ("ingested", 1)]


async def test_the_same_notice_in_two_feeds_is_one_notice(feeds: Feeds) -> None:
    server = feeds.server
    server.pages["/a.xml"] = Page(feed_of(server, "/n1.html"), "application/rss+xml")
    server.pages["/mirror/n1.html"] = Page(notice_page("2021年5月10日", APPS_1))
    server.pages["/b.xml"] = Page(feed_of(server, "/mirror/n1.html"), "application/rss+xml")
    a = await feeds.poller.poll(await feeds.add("/a.xml"))
    b = await feeds.poller.poll(await feeds.add("/b.xml"))
    assert a.items[0].notice_id == b.items[0].notice_id
    assert (a.items[0].outcome, b.items[0].outcome) == ("new", "unchanged")


async def test_server_errors_back_off_exponentially_and_recover(feeds: Feeds) -> None:
    server = feeds.server
    server.pages["/rss.xml"] = Page(
        feed_of(server, "/n1.html"), "application/rss+xml", fail=deque([500, 503])
    )
    source_id = await feeds.add("/rss.xml", schedule="every 10m")
    now = utcnow()
    (first,) = await feeds.poller.poll_due(now)
    assert first.status == "error" and "HTTP 500" in (first.error or "")
    assert first.backoff_until == now + timedelta(minutes=20)
    assert await feeds.poller.poll_due(now + timedelta(minutes=19)) == []

    later = now + timedelta(minutes=21)
    (second,) = await feeds.poller.poll_due(later)
    source = await feeds.source(source_id)
    assert second.status == "error" and "HTTP 503" in (second.error or "")
    assert source.failures == 2 and source.backoff_until == later + timedelta(minutes=40)
    shown = describe(source, PollSchedule(INTERVAL))
    assert shown["status"] == "error" and "HTTP 503" in shown["error"]
    assert shown["backoff_until"] == source.backoff_until.isoformat()

    (third,) = await feeds.poller.poll_due(later + timedelta(minutes=41))
    source = await feeds.source(source_id)
    assert third.status == "ok" and len(third.items) == 1
    assert (source.failures, source.backoff_until, source.last_error) == (0, None, None)
    assert len(server.hits("/rss.xml")) == 3


async def test_a_broken_item_is_recorded_and_the_rest_are_ingested(feeds: Feeds) -> None:
    server = feeds.server
    server.pages["/empty.html"] = Page(
        "<html><body><h1>关于App的通报</h1><p>国家互联网信息办公室</p><p>2021年5月10日</p></body></html>".encode()
    )
    server.pages["/flaky.html"] = Page(
        notice_page("2021年6月1日", APPS_2, regulator="MIIT"), fail=deque([503])
    )
    page = Page(
        feed_of(server, "/n3.html", "/flaky.html", "/missing.html", "/empty.html", "/n1.html"),
        "application/rss+xml",
        etag='"v1"',
    )
    server.pages["/rss.xml"] = page
    source_id = await feeds.add("/rss.xml")
    first = await feeds.poller.poll(source_id)
    outcome = {i.url.rsplit("/", 1)[-1]: (i.status, i.error) for i in first.items if i.url}
    assert outcome["n1.html"][0] == outcome["n3.html"][0] == "ingested"
    assert outcome["empty.html"][0] == "failed"
    assert server.url("/empty.html") in (outcome["empty.html"][1] or "")
    assert "HTTP 404" in (outcome["missing.html"][1] or "")
    assert outcome["flaky.html"][0] == "retry" and "HTTP 503" in (outcome["flaky.html"][1] or "")

    second = await feeds.poller.poll(source_id)  # 304 for the feed; the flaky item is retried
    assert second.status == "not_modified"
    assert [(i.url, i.status) for i in second.items] == [(server.url("/flaky.html"), "ingested")]
    items = {i.url.rsplit("/", 1)[-1]: i for i in await feeds.items(source_id) if i.url}
    assert (items["flaky.html"].status, items["flaky.html"].attempts) == ("ingested", 2)
    assert items["empty.html"].status == "failed" and "no apps" in (items["empty.html"].error or "")
    assert len(server.hits("/empty.html")) == 1 and len(server.hits("/missing.html")) == 1


async def test_links_to_files_extraction_cannot_read_are_not_downloaded(feeds: Feeds) -> None:
    server = feeds.server
    server.pages["/list.zip"] = Page(b"PK\x03\x04", "application/zip")
    server.pages["/rss.xml"] = Page(feed_of(server, "/list.zip", "/n1.html"), "application/rss+xml")
    result = await feeds.poller.poll(await feeds.add("/rss.xml"))
    assert [(i.status, i.error) for i in result.items] == [
        ("ingested", None),
        ("failed", f"{server.url('/list.zip')}: unsupported file type '.zip' (not fetched)"),
    ]
    assert server.hits("/list.zip") == []


async def test_an_item_failing_every_time_gives_up(feeds: Feeds) -> None:
    server = feeds.server
    server.pages["/down.html"] = Page(b"", fail=deque([500] * 10))
    server.pages["/rss.xml"] = Page(
        feed_of(server, "/down.html"), "application/rss+xml", etag='"1"'
    )
    source_id = await feeds.add("/rss.xml")
    for _ in range(MAX_ITEM_ATTEMPTS + 1):
        await feeds.poller.poll(source_id)
    (item,) = await feeds.items(source_id)
    assert (item.status, item.attempts) == ("failed", MAX_ITEM_ATTEMPTS)
    assert len(server.hits("/down.html")) == MAX_ITEM_ATTEMPTS


async def test_html_list_page_follows_only_links_that_look_like_notices(feeds: Feeds) -> None:
    server = feeds.server
    server.pages["/list.html"] = Page(
        list_page(
            [
                ("关于侵害用户权益行为的APP通报（2021年第5批）", "/n2.html"),
                ("关于星云笔记等2款App违法违规收集使用个人信息情况的通报", "n1.html"),
                ("局领导出席会议", "/meeting.html"),
            ]
        )
    )
    result = await feeds.poller.poll(await feeds.add("/list.html"))
    assert sorted(i.url or "" for i in result.items) == [
        server.url("/n1.html"),
        server.url("/n2.html"),
    ]
    assert {i.status for i in result.items} == {"ingested"}
    assert server.hits("/meeting.html") == [] and server.hits("/app.html") == []


async def test_a_feed_that_is_not_a_feed_is_an_error(feeds: Feeds) -> None:
    feeds.server.pages["/rss.xml"] = Page(b"\x00\x01 not xml at all", "application/rss+xml")
    result = await feeds.poller.poll(await feeds.add("/rss.xml", kind="rss"))
    assert result.status == "error" and "feed could not be read" in (result.error or "")


async def test_private_addresses_are_refused_unless_allowed(db: Database) -> None:
    async with (
        FeedServer() as server,
        Fetcher(timeout=5, max_bytes=1000, allow_private=False) as fetcher,
    ):
        server.pages["/rss.xml"] = Page(rss([]), "application/rss+xml")
        async with db.session() as session:
            source = await add_source(session, server.url("/rss.xml"))
        result = await FeedPoller(db, fetcher, default_schedule=PollSchedule(INTERVAL)).poll(
            source.id
        )
    assert result.status == "error"
    assert "loopback" in (result.error or "") and "REGWATCH_FEEDS_ALLOW_PRIVATE" in (
        result.error or ""
    )
    assert server.requests == []


async def test_oversized_responses_are_refused(feeds: Feeds) -> None:
    feeds.server.pages["/rss.xml"] = Page(
        b"<rss>" + b" " * 300_000 + b"</rss>", "application/rss+xml"
    )
    result = await feeds.poller.poll(await feeds.add("/rss.xml"))
    assert result.status == "error" and "over the limit of 200000" in (result.error or "")


async def test_the_scheduler_polls_due_sources(feeds: Feeds) -> None:
    server = feeds.server
    server.pages["/rss.xml"] = Page(feed_of(server, "/n1.html"), "application/rss+xml", etag='"1"')
    await feeds.add("/rss.xml", schedule="every 1s")
    scheduler = FeedScheduler(feeds.poller, tick=0.1)
    scheduler.start()
    try:
        await server.wait_for_hits("/rss.xml", 2)
    finally:
        await scheduler.stop()
    assert [r.status for r in server.hits("/rss.xml")][:2] == [200, 304]
    assert len(server.hits("/n1.html")) == 1


async def test_a_notice_without_a_date_takes_the_feed_item_s_date(feeds: Feeds) -> None:
    server = feeds.server
    server.pages["/undated.html"] = Page(
        "<html><body><h1>关于星云笔记等2款App违法违规收集使用个人信息情况的通报</h1>"
        "<p>国家互联网信息办公室通报，星云笔记（杭州星云软件有限公司）、蓝鲸出行"
        "（成都蓝鲸出行科技有限公司）等2款App存在问题。</p></body></html>".encode()
    )
    server.pages["/dated.xml"] = Page(
        (
            '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>t</title>'
            f"<item><title>关于App的通报</title><link>{server.url('/undated.html')}</link>"
            "<pubDate>Tue, 11 May 2021 02:00:00 GMT</pubDate></item></channel></rss>"
        ).encode(),
        "application/rss+xml",
    )
    source_id = await feeds.add("/dated.xml")
    result = await feeds.poller.poll(source_id)

    assert [i.status for i in result.items] == ["ingested"], result.items
    async with feeds.db.session() as session:
        stored = await get_notice(session, result.items[0].notice_id or "")
    assert stored is not None
    assert stored.published_on == date(2021, 5, 11)
    assert [e.name for e in stored.entities] == ["星云笔记", "蓝鲸出行"]


class Clock:
    """A fake clock the poller reads: moved by hand, never by time passing."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


async def test_the_scheduler_polls_each_source_on_its_own_schedule(db: Database) -> None:
    # Wednesday 2026-12-02 07:55 in Shanghai (23:55 UTC the day before)
    clock = Clock(datetime(2026, 12, 1, 23, 55, tzinfo=UTC))
    async with (
        FeedServer() as server,
        Fetcher(timeout=5, max_bytes=200_000, allow_private=True) as fetcher,
    ):
        for path in ("/office.xml", "/office-only.xml", "/default.xml"):
            # one item the poller records without fetching: a poll is one request
            server.pages[path] = Page(rss([("附件", server.url("/n.pdf"))]), "application/rss+xml")
        poller = FeedPoller(db, fetcher, default_schedule=PollSchedule(INTERVAL), clock=clock)
        async with db.session() as session:
            for path, schedule in (
                ("/office.xml", "every 10m Mon-Fri 08:00-19:00 Asia/Shanghai, else every 2h"),
                ("/office-only.xml", "every 10m Mon-Fri 08:00-19:00 Asia/Shanghai"),
                ("/default.xml", None),
            ):
                await add_source(
                    session,
                    server.url(path),
                    schedule=schedule,
                    default=poller.default_schedule,
                    now=clock(),
                )
        scheduler = FeedScheduler(poller)

        async def sweep_at(
            year: int, month: int, day: int, hour: int, minute: int
        ) -> dict[str, int]:
            clock.now = datetime(year, month, day, hour, minute, tzinfo=SHANGHAI).astimezone(UTC)
            await scheduler.sweep()
            return {
                p: len(server.hits(p)) for p in ("/office.xml", "/office-only.xml", "/default.xml")
            }

        # before office hours: the one polling outside them and the default are due at once
        assert await sweep_at(2026, 12, 2, 7, 55) == {
            "/office.xml": 1,
            "/office-only.xml": 0,
            "/default.xml": 1,
        }
        # the office opens: both office sources (the first's 2h cut short by the opening)
        assert await sweep_at(2026, 12, 2, 8, 0) == {
            "/office.xml": 2,
            "/office-only.xml": 1,
            "/default.xml": 1,
        }
        assert await sweep_at(2026, 12, 2, 8, 5) == {
            "/office.xml": 2,
            "/office-only.xml": 1,
            "/default.xml": 1,
        }
        assert await sweep_at(2026, 12, 2, 8, 10) == {
            "/office.xml": 3,
            "/office-only.xml": 2,
            "/default.xml": 2,
        }
        # Friday's last poll, then the weekend: every 2h for one, nothing for the other
        await sweep_at(2026, 12, 4, 18, 55)
        before = {p: len(server.hits(p)) for p in ("/office.xml", "/office-only.xml")}
        await sweep_at(2026, 12, 5, 12, 0)
        assert len(server.hits("/office.xml")) == before["/office.xml"] + 1
        assert len(server.hits("/office-only.xml")) == before["/office-only.xml"]
        async with db.session() as session:
            rows = {r.url: r for r in await session.scalars(select(FeedSourceRow))}
        assert rows[server.url("/office-only.xml")].next_poll_at == datetime(
            2026, 12, 7, 8, 0, tzinfo=SHANGHAI
        )
        assert rows[server.url("/office.xml")].next_poll_at == datetime(
            2026, 12, 5, 14, 0, tzinfo=SHANGHAI
        )
        await sweep_at(2026, 12, 7, 8, 0)  # Monday's opening
        assert len(server.hits("/office-only.xml")) == before["/office-only.xml"] + 1
