from __future__ import annotations

import codecs

import pytest

from services.ingestor.extract.decode import (
    decode_bytes,
    detect_format,
    extension,
    format_from_name,
)
from shared.errors import InputError

TEXT = "国家互联网信息办公室关于抖音等App的通报\n1. 抖音（北京微播视界科技有限公司）\n"


def test_utf8_without_bom() -> None:
    assert decode_bytes(TEXT.encode("utf-8"), name="a.txt") == TEXT


def test_utf8_with_bom_is_stripped() -> None:
    assert decode_bytes(codecs.BOM_UTF8 + TEXT.encode("utf-8"), name="a.txt") == TEXT


def test_gb18030_fallback() -> None:
    data = TEXT.encode("gb18030")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    assert decode_bytes(data, name="a.txt") == TEXT


def test_gbk_page_decodes_as_gb18030() -> None:
    assert decode_bytes("广东省通信管理局".encode("gbk"), name="p.html") == "广东省通信管理局"


def test_utf16_with_bom() -> None:
    assert decode_bytes(TEXT.encode("utf-16"), name="a.txt") == TEXT


@pytest.mark.parametrize("data", [b"", b"   \n\t\r\n", codecs.BOM_UTF8, "\u3000\u3000\n".encode()])
def test_empty_input(data: bytes) -> None:
    with pytest.raises(InputError, match=r"^empty\.txt: file is empty$"):
        decode_bytes(data, name="empty.txt")


@pytest.mark.parametrize(
    "data",
    [
        b"\x80\x81\xff\xfe\x80",  # invalid in UTF-8 and in GB18030
        bytes(range(256)) * 4,  # binary junk with NUL bytes
        b"abc\x00def\x00ghi",
        b"%PDF-1.7\n1 0 obj <<>> endobj\n",
        b"PK\x03\x04\x14\x00\x06\x00word/document.xml",
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
        b"\x01\x02\x03\x04\x05\x06\x07\x08" * 20 + b"some text",
    ],
)
def test_undecodable_input(data: bytes) -> None:
    with pytest.raises(
        InputError,
        match=r"^bad\.bin: cannot decode text \(tried UTF-8, UTF-16, GB18030 and Big5\)$",
    ):
        decode_bytes(data, name="bad.bin")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("notice.html", ".html"),
        ("NOTICE.HTM", ".htm"),
        ("https://www.miit.gov.cn/a/art_1.shtml?id=3#top", ".shtml"),
        ("notice", ""),
        ("notice.2021", ""),
        ("dir.v2/notice.txt", ".txt"),
    ],
)
def test_extension(name: str, expected: str) -> None:
    assert extension(name) == expected


@pytest.mark.parametrize("name", ["a.html", "a.htm", "a.shtml", "https://x.gov.cn/art_1.html"])
def test_html_by_extension(name: str) -> None:
    assert detect_format("plain words", name) == "html"


@pytest.mark.parametrize("name", ["a.txt", "a.text", "a.md", "a", "<input>"])
def test_text_by_extension_or_none(name: str) -> None:
    assert detect_format("第一行\n第二行", name) == "text"


@pytest.mark.parametrize(
    "text",
    [
        "<!DOCTYPE html><html><body>x</body></html>",
        "  <html lang='zh'><head><title>t</title></head></html>",
        "<div><p>1</p><p>2</p><table><tr><td>x</td></tr></table></div>",
    ],
)
def test_html_by_content(text: str) -> None:
    assert detect_format(text, "notice") == "html"
    assert detect_format(text, "notice.txt") == "html"


def test_markdown_with_a_few_tags_stays_text() -> None:
    assert detect_format("# 标题\n<p>a</p><br><p>b</p>\n", "notes.md") == "text"


@pytest.mark.parametrize("name", ["bundle.zip", "a.doc", "old.ppt", "anim.gif", "slides.pptx"])
def test_unknown_extension(name: str) -> None:
    with pytest.raises(InputError) as info:
        detect_format("text", name)
    message = str(info.value)
    assert message.startswith(f"{name}: unsupported file type")
    # the message lists what is read, from the format registry
    assert all(s in message for s in (".html", ".txt", ".docx", ".xlsx", ".pdf", ".png", ".jpg"))


@pytest.mark.parametrize("name", ["list.pdf", "list.xlsx", "shot.png", "scan.jpeg"])
def test_binary_formats_are_named_not_decoded(name: str) -> None:
    """Spreadsheets, PDFs and pictures have their own readers: the name is accepted, the bytes
    are never decoded as text."""
    assert format_from_name(name) in ("pdf", "xlsx", "image")
    with pytest.raises(InputError, match="cannot decode"):
        decode_bytes(b"%PDF-1.7\n" + bytes(range(256)), name=name)


def test_declared_big5_page() -> None:
    page = '<html><head><meta charset="big5"></head><body>國家網信辦關於某某的通報</body></html>'
    assert decode_bytes(page.encode("big5"), name="tw.html") == page


def test_gbk_declared_page_reads_as_gb18030() -> None:
    page = '<meta http-equiv="Content-Type" content="text/html; charset=gb2312">关于某某的通报'
    assert decode_bytes(page.encode("gbk"), name="a.html") == page


def test_big5_reprints_are_read() -> None:
    text = "國家互聯網信息辦公室關於騰訊視頻等3款App違法違規收集使用個人信息情況的通報"
    assert decode_bytes(text.encode("big5"), name="tw.txt") == text


def test_gb18030_pages_are_still_read_as_gb18030() -> None:
    text = "工业和信息化部关于侵害用户权益行为的APP通报，发现的问题已经通报整改。"
    assert decode_bytes(text.encode("gb18030"), name="cn.txt") == text
