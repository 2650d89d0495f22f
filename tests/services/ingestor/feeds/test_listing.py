"""What a feed lists: RSS/Atom entries, or notice-like links on an HTML list page."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from services.ingestor.feeds.listing import detect_kind, looks_like_notice_title, parse_listing
from services.ingestor.feeds.poller import backoff_delay, parse_name
from shared.errors import InputError
from tests.support.feeds import atom, list_page, rss

BASE = "https://www.example.gov.cn/zwgk/index.html"


def test_rss_and_atom_entries_in_feed_order_with_absolute_links() -> None:
    kind, items = parse_listing(rss([("通报二", "/b.html"), ("通报一", "a.html")]), base_url=BASE)
    assert kind == "rss"
    assert [(i.title, i.url) for i in items] == [
        ("通报二", "https://www.example.gov.cn/b.html"),
        ("通报一", "https://www.example.gov.cn/zwgk/a.html"),
    ]
    kind, items = parse_listing(atom([("通报", "https://x.example/n.htm")]), base_url=BASE)
    assert kind == "atom" and [i.url for i in items] == ["https://x.example/n.htm"]


def test_entry_without_link_keeps_its_inline_content() -> None:
    body = (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
        "<item><guid isPermaLink='false'>id-1</guid><title>通报</title>"
        "<description>&lt;p&gt;正文&lt;/p&gt;</description></item></channel></rss>"
    ).encode()
    (item,) = parse_listing(body, base_url=BASE)[1]
    assert (item.key, item.url) == ("id-1", None) and "正文" in (item.content or "")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("关于侵害用户权益行为的APP通报（2021年第5批）", True),
        ("关于下架侵害用户权益APP名单的通报", True),
        ("MIIT names 43 apps for violations", True),
        ("APP下载", False),
        ("局领导出席会议", False),
        ("Happy applications of pineapple", False),
    ],
)
def test_notice_titles(text: str, expected: bool) -> None:
    assert looks_like_notice_title(text) is expected


def test_html_list_uses_the_title_attribute_when_the_text_is_cut_short() -> None:
    body = (
        "<html><body><a href='/n/1.html' title='关于侵害用户权益行为的APP通报（2021年第5批）'>"
        "关于侵害用户权益...</a><a href='javascript:void(0)'>APP通报专栏入口</a>"
        "<a href='#top'>App通报列表顶部</a></body></html>"
    ).encode()
    kind, items = parse_listing(body, base_url=BASE, content_type="text/html")
    assert kind == "html"
    assert [(i.url, i.title) for i in items] == [
        ("https://www.example.gov.cn/n/1.html", "关于侵害用户权益行为的APP通报（2021年第5批）")
    ]


def test_html_list_skips_navigation_and_duplicates() -> None:
    body = list_page([("关于App的通报一则", "/n.html"), ("关于App的通报一则", "/n.html#x")])
    assert [i.url for i in parse_listing(body, base_url=BASE, kind="html")[1]] == [
        "https://www.example.gov.cn/n.html"
    ]


def test_kind_from_media_type_or_root_element() -> None:
    assert detect_kind(b"<html></html>", "application/atom+xml") == "atom"
    assert detect_kind(b'<?xml version="1.0"?>\n<rss version="2.0">', "text/plain") == "rss"
    assert detect_kind(b'<?xml version="1.0"?><feed xmlns="x">', "") == "atom"
    assert detect_kind(b"<!doctype html><html>", "text/html") == "html"


def test_unreadable_feed_is_an_input_error() -> None:
    with pytest.raises(InputError, match="feed could not be read"):
        parse_listing(b"\x00\x01\x02", base_url=BASE, kind="rss")


def test_backoff_doubles_up_to_a_day() -> None:
    minute = timedelta(minutes=1)
    assert [backoff_delay(15 * minute, n) for n in (1, 2, 3)] == [
        30 * minute,
        60 * minute,
        120 * minute,
    ]
    assert backoff_delay(15 * minute, 20) == timedelta(hours=24)
    assert backoff_delay(timedelta(days=2), 3) == timedelta(days=2)


def test_parse_name_gives_the_extension_the_media_type_implies() -> None:
    assert parse_name("https://x.cn/a.html", "text/html") == "https://x.cn/a.html"
    assert parse_name("https://x.cn/view.jsp?id=3", "text/html; charset=gbk") == (
        "https://x.cn/view.jsp.html?id=3"
    )
    docx = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    assert parse_name("https://x.cn/att/123", docx) == "https://x.cn/att/123.docx"
    assert parse_name("https://x.cn/list.pdf", "application/pdf") == "https://x.cn/list.pdf"


def test_an_entry_s_date_is_read_in_china_time() -> None:
    feed = (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>t</title>'
        "<item><title>关于App的通报</title><link>http://example.invalid/a.html</link>"
        "<pubDate>Mon, 10 May 2021 18:30:00 GMT</pubDate></item>"
        "<item><title>关于App的通报二</title><link>http://example.invalid/b.html</link></item>"
        "</channel></rss>"
    ).encode()
    _kind, items = parse_listing(feed, base_url="http://example.invalid/")
    assert [item.published for item in items] == [date(2021, 5, 11), None]
