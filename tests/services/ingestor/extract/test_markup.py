"""Pages nested too deep are refused while they are parsed (an InputError naming the file, not
a RecursionError), and pages nested as deep as allowed are read."""

from __future__ import annotations

import pytest

from services.ingestor.extract import parse_notice
from services.ingestor.extract.links import linked_files
from services.ingestor.extract.markup import MAX_DEPTH, TooDeep, soup_of
from services.ingestor.feeds.attachments import attachment_links
from services.ingestor.feeds.listing import html_items
from shared.errors import InputError
from tests.support.hostile import deep_html


def test_100k_nested_divs_are_refused_naming_the_file() -> None:
    with pytest.raises(
        InputError, match=rf"^deep\.html: the page nests its elements more than {MAX_DEPTH} deep"
    ):
        parse_notice(deep_html(100_000), name="deep.html")


def test_a_page_nested_as_deep_as_allowed_is_read() -> None:
    notice = parse_notice(deep_html(MAX_DEPTH - 10), name="nested.html")
    assert [entity.name for entity in notice.entities] == ["星云笔记"]


def test_the_depth_counts_open_elements_not_all_of_them() -> None:
    wide = "<html><body>" + "<div><p>a</p></div>" * 10_000 + "</body></html>"
    assert len(soup_of(wide).find_all("p")) == 10_000
    with pytest.raises(TooDeep, match=r"^page\.html: the page nests"):
        soup_of("<div>" * (MAX_DEPTH + 1), name="page.html")


def test_feeds_refuse_a_deep_list_page_and_follow_nothing_on_a_deep_notice() -> None:
    page = deep_html(10_000)
    with pytest.raises(InputError, match=r"^https://x\.cn/list\.html: the page nests"):
        html_items(page, "https://x.cn/list.html")
    assert attachment_links(page, "https://x.cn/n.html", limit=5) == []
    assert linked_files(page, name="n.html") == []
