"""The pictures and attachments a page links to (for the CLI and the feed follower)."""

from __future__ import annotations

from services.ingestor.extract.links import Link, linked_files

PAGE = """<html><body><h1>关于侵害用户权益行为的APP通报</h1>
<img src="/images/logo.gif"><img src="data:image/png;base64,AAAA">
<p><img src="list-1.png" alt="名单"><img src="list-1.png"></p>
<p>附件：<a href="/files/2023/APP名单.xlsx">APP名单.xlsx</a>
<a href="https://www.miit.gov.cn/n1.pdf">名单.pdf</a>
<a href="other.html">上一篇</a><a href="old.doc">旧名单</a><a href="javascript:void(0)">打印</a></p>
</body></html>"""


def test_pictures_and_attachments_in_page_order_each_once() -> None:
    assert linked_files(PAGE.encode(), name="n.html") == [
        Link("list-1.png", "picture", "名单"),
        Link("/files/2023/APP名单.xlsx", "attachment", "APP名单.xlsx"),
        Link("https://www.miit.gov.cn/n1.pdf", "attachment", "名单.pdf"),
    ]


def test_text_and_binary_notices_link_to_nothing() -> None:
    assert linked_files("附件：名单.xlsx".encode(), name="n.txt") == []
    assert linked_files(b"%PDF-1.4 ...", name="n.pdf") == []
