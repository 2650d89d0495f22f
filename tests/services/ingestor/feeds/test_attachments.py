"""Which attachments and list images of a notice page a feed follows (pure)."""

from __future__ import annotations

from services.ingestor.feeds.attachments import attachment_links, file_name, same_site

PAGE_URL = "http://www.regulator.example/xw/2021-05/notice.html"

PAGE = """<html><body>
<nav><img src="/img/logo.png" alt="首页"><a href="/img/banner.jpg">banner</a></nav>
<div class="article">
<p>附件：<a href="/files/App%E5%90%8D%E5%8D%95.xlsx">违规App名单</a></p>
<p><a href="../files/details.pdf">通报全文</a> <a href="/files/old.doc">旧格式</a></p>
<p><a href="http://elsewhere.example/list.xlsx">another site's copy</a></p>
<p><a href="/files/App%E5%90%8D%E5%8D%95.xlsx">the same file again</a></p>
<p><img src="/upload/table-1.png" alt="名单（一）"></p>
<p><img src="/upload/photo.jpg" alt="会议现场"></p>
<p>附件2：应用清单</p><p><img src="/upload/pic?id=7"></p>
<p><img src="https://www.regulator.example/upload/list-2.jpeg"></p>
<p><img src="data:image/png;base64,AAAA" alt="名单"></p>
</div>
<footer><img src="/img/police.png" alt="附件"></footer>
</body></html>"""


def test_links_to_files_and_list_images_on_the_same_site_in_page_order() -> None:
    found = attachment_links(PAGE, PAGE_URL, limit=10)
    assert [
        (link.url.removeprefix("http://www.regulator.example"), link.kind) for link in found
    ] == [
        ("/files/App%E5%90%8D%E5%8D%95.xlsx", "file"),
        ("/xw/files/details.pdf", "file"),
        ("/upload/table-1.png", "image"),
        ("/upload/pic?id=7", "image"),  # the text above it says it is a list
        ("https://www.regulator.example/upload/list-2.jpeg", "image"),
    ]
    assert found[0].name == "App名单.xlsx"


def test_at_most_the_limit() -> None:
    assert len(attachment_links(PAGE, PAGE_URL, limit=2)) == 2
    assert attachment_links(PAGE, PAGE_URL, limit=0) == []


def test_same_site_means_the_same_host() -> None:
    assert same_site("https://www.regulator.example:8443/a.pdf", PAGE_URL)
    assert not same_site("http://regulator.example/a.pdf", PAGE_URL)
    assert not same_site("http://www.regulator.example.evil.example/a.pdf", PAGE_URL)


def test_an_image_with_a_list_name_in_its_url_is_followed() -> None:
    page = '<html><body><p><img src="/u/2021/mingdan-名单.png"></p></body></html>'
    assert [link.name for link in attachment_links(page, PAGE_URL, limit=5)] == ["mingdan-名单.png"]


def test_the_file_name_takes_its_suffix_from_the_media_type_when_the_url_has_none() -> None:
    assert file_name("http://x.example/download?id=3", "image/png") == "download.png"
    assert file_name("http://x.example/f/a.xlsx", "application/octet-stream") == "a.xlsx"
    assert file_name("http://x.example/f/get", "application/pdf") == "get.pdf"
