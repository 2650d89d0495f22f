"""Reading a notice with its pictures and attachments: where each row comes from, what could
not be read, and how rows from elsewhere join what the page names (OCR faked here: a fake
engine returns the boxes of a small table; test_image_reader.py runs the real one)."""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
from docx import Document
from openpyxl import Workbook
from PIL import Image

from services.ingestor.extract import image_reader, parse_notice
from services.ingestor.extract.ocr import Reading, TextBox
from services.ingestor.extract.reading import read_notice, with_rows_elsewhere
from shared.errors import InputError
from shared.events import Entity

PAGE = """<html><head><title>国家互联网信息办公室关于云朵阅读等2款App的通报</title></head><body>
<h1>国家互联网信息办公室关于云朵阅读等2款App违法违规收集使用个人信息情况的通报</h1>
<p>检测发现，云朵阅读等2款App存在违法违规收集使用个人信息问题。名单如下：</p>
{images}
<p>国家互联网信息办公室</p><p>2021年5月10日</p></body></html>"""


def png(width: int = 300, height: int = 120) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), "white").save(out, format="PNG")
    return out.getvalue()


def boxes(*rows: list[str]) -> tuple[TextBox, ...]:
    found = []
    for r, cells in enumerate(rows):
        for c, text in enumerate(cells):
            x = [10, 80, 260][c]
            found.append(TextBox(text, x, 10 + 50 * r, x + 20 * len(text), 34 + 50 * r))
    return tuple(found)


TABLE = boxes(
    ["序号", "应用名称", "应用开发者"],
    ["1", "云朵阅读", "杭州云朵网络科技有限公司"],
    ["2", "快看天气", "北京晴朗信息技术有限公司"],
)


@pytest.fixture
def fake_ocr(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int]]:
    """Every picture reads as TABLE; the sizes of the pictures read are recorded."""
    seen: list[tuple[int, int]] = []

    def read(picture: np.ndarray) -> Reading:
        seen.append(picture.shape[:2])
        return Reading(TABLE, picture)

    monkeypatch.setattr(image_reader, "read_text_boxes", read)
    return seen


def names(entities: list[Entity]) -> list[tuple[str, str | None, str | None]]:
    return [(e.name, e.developer, e.source) for e in entities]


def test_a_data_uri_picture_is_read_and_completes_the_list(fake_ocr: list[tuple[int, int]]) -> None:
    inline = base64.b64encode(png()).decode()
    page = PAGE.format(images=f'<img alt="名单" src="data:image/png;base64,{inline}">')
    event = parse_notice(page.encode(), name="n.html")
    assert names(event.entities) == [
        ("云朵阅读", "杭州云朵网络科技有限公司", "image"),
        ("快看天气", "北京晴朗信息技术有限公司", "image"),
    ]
    assert event.list_incomplete is False
    assert any("picture 1 of the page" in note for note in event.notes)


def test_the_list_picture_not_given_leaves_the_list_incomplete() -> None:
    page = PAGE.format(images='<img alt="名单" src="/img/list.png">')
    event = parse_notice(page.encode(), name="n.html")
    assert names(event.entities) == [("云朵阅读", None, "text")]
    assert event.list_incomplete is True and event.list_incomplete_reason


def test_a_picture_given_by_its_src_is_read_once(fake_ocr: list[tuple[int, int]]) -> None:
    page = PAGE.format(images='<img src="/uploads/2021/list.png">')
    read = read_notice(page.encode(), "n.html", attachments=[("list.png", png())])
    assert names(read.elsewhere)[0] == ("云朵阅读", "杭州云朵网络科技有限公司", "image")
    assert len(fake_ocr) == 1  # matched to the page's <img>, not read again as an attachment


def test_an_unreadable_attachment_is_noted_and_the_list_stays_incomplete() -> None:
    page = PAGE.format(images='<img alt="名单" src="list.png">')
    event = parse_notice(
        page.encode(), name="n.html", attachments=[("list.png", b"\x89PNG\r\n\x1a\nbroken")]
    )
    assert event.list_incomplete is True
    assert any(
        note.startswith("could not read list.png: not a readable picture") for note in event.notes
    )


def test_pictures_beyond_the_budget_are_not_read(
    fake_ocr: list[tuple[int, int]], monkeypatch: pytest.MonkeyPatch
) -> None:
    from services.ingestor.extract import reading

    monkeypatch.setattr(reading, "MAX_IMAGES", 1)
    page = PAGE.format(images='<img src="a.png"><img src="b.png">')
    read = read_notice(page.encode(), "n.html", attachments=[("a.png", png()), ("b.png", png(301))])
    assert len(fake_ocr) == 1
    assert any("more than 1 pictures" in reason for reason in read.unread)


def test_xlsx_and_docx_attachments_give_attachment_rows_in_their_own_script() -> None:
    book = Workbook()
    book.active.append(["序號", "應用名稱", "應用開發者"])  # a traditional-script reprint's sheet
    book.active.append([1, "雲朵閱讀", "杭州雲朵網絡科技有限公司"])
    sheet = io.BytesIO()
    book.save(sheet)
    doc = Document()
    table = doc.add_table(rows=2, cols=2)
    for c, (head, cell) in enumerate(
        [("应用名称", "快看天气"), ("应用开发者", "北京晴朗信息技术有限公司")]
    ):
        table.cell(0, c).text = head
        table.cell(1, c).text = cell
    word = io.BytesIO()
    doc.save(word)
    page = PAGE.format(images="<p>附件：App名单.xlsx</p>")
    read = read_notice(
        page.encode(),
        "n.html",
        attachments=[("名单.xlsx", sheet.getvalue()), ("名单.docx", word.getvalue())],
    )
    assert names(read.elsewhere) == [
        ("雲朵閱讀", "杭州雲朵網絡科技有限公司", "attachment"),
        ("快看天气", "北京晴朗信息技术有限公司", "attachment"),
    ]


def test_a_docx_picture_is_read_where_the_document_shows_it(
    fake_ocr: list[tuple[int, int]],
) -> None:
    doc = Document()
    doc.add_paragraph("国家互联网信息办公室关于云朵阅读等2款App的通报")
    doc.add_picture(io.BytesIO(png()))
    doc.add_paragraph("国家互联网信息办公室　2021年5月10日")
    data = io.BytesIO()
    doc.save(data)
    read = read_notice(data.getvalue(), "n.docx")
    assert names(read.elsewhere)[1] == ("快看天气", "北京晴朗信息技术有限公司", "image")
    assert read.notes == ["read 2 entries from the picture word/media/image1.png (OCR)"]


def test_rows_from_elsewhere_come_first_and_the_page_adds_what_they_lack() -> None:
    rows = [
        Entity(name="输人法大全", developer="某某科技有限公司", source="image"),
        Entity(name="快手", developer="北京快手科技有限公司", source="image"),
    ]
    page = [
        Entity(name="输入法大全", source="text"),
        Entity(name="快手", source="text"),
        Entity(name="抖音", source="text"),
    ]
    combined = with_rows_elsewhere(page, rows)
    # an OCR slip of one character in a longer name is the same app; 快手 is listed once
    assert [(e.name, e.source) for e in combined] == [
        ("输人法大全", "image"),
        ("快手", "image"),
        ("抖音", "text"),
    ]
    assert with_rows_elsewhere(page, []) == page


def test_a_bare_table_picture_is_titled_by_its_file_and_read_as_chinese(
    fake_ocr: list[tuple[int, int]],
) -> None:
    from datetime import date

    event = parse_notice(png(), name="shared/APP名单截图.png", published_on=date(2024, 3, 1))
    assert event.title == "APP名单截图"
    assert event.language == "zh"
    assert [e.source for e in event.entities] == ["image", "image"]


def test_a_scanned_pdf_is_read_by_ocr(fake_ocr: list[tuple[int, int]]) -> None:
    pytest.importorskip("reportlab", reason="reportlab (a test dependency) writes the PDF")
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    out = io.BytesIO()
    sheet = canvas.Canvas(out, pagesize=A4)
    sheet.drawImage(ImageReader(Image.new("RGB", (600, 200), "white")), 40, 500, 500, 170)
    sheet.showPage()
    sheet.save()
    read = read_notice(out.getvalue(), "scan.pdf")
    assert names(read.table_entities)[0] == ("云朵阅读", "杭州云朵网络科技有限公司", "image")
    assert read.notes == ["read 2 entries from the picture scan.pdf (picture 1) (OCR)"]


def test_a_list_pasted_as_a_picture_in_a_pdf_with_text_is_read(
    fake_ocr: list[tuple[int, int]],
) -> None:
    pytest.importorskip("reportlab", reason="reportlab (a test dependency) writes the PDF")
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    out = io.BytesIO()
    sheet = canvas.Canvas(out, pagesize=A4)
    sheet.drawString(60, 800, "List of apps")
    sheet.drawImage(ImageReader(Image.new("RGB", (40, 40), "white")), 500, 780, 30, 30)  # a logo
    sheet.drawImage(ImageReader(Image.new("RGB", (600, 200), "white")), 40, 400, 500, 170)
    sheet.showPage()
    sheet.save()
    read = read_notice(out.getvalue(), "n.pdf")
    assert len(fake_ocr) == 1  # the list, not the logo
    assert names(read.table_entities)[1] == ("快看天气", "北京晴朗信息技术有限公司", "image")


def test_an_attachment_that_names_apps_in_prose() -> None:
    doc = Document()
    doc.add_paragraph("经检测，存在问题的应用包括云朵阅读、快看天气和晴空相机等3款App。")
    word = io.BytesIO()
    doc.save(word)
    page = PAGE.format(images="<p>附件：检测情况.docx</p>")
    read = read_notice(page.encode(), "n.html", attachments=[("检测情况.docx", word.getvalue())])
    assert [(e.name, e.source) for e in read.elsewhere] == [
        ("云朵阅读", "attachment"),
        ("快看天气", "attachment"),
        ("晴空相机", "attachment"),
    ]


def test_a_notice_or_attachment_beyond_the_line_limit_is_refused() -> None:
    page = "国家互联网信息办公室\n2021年5月10日\n1. 星云笔记（杭州星云软件有限公司）\n"
    long = "".join(f"{i}. 应用{i}\n" for i in range(1, 20_002)).encode()
    with pytest.raises(InputError, match=r"^long\.txt: the notice has 20,001 lines of text, more"):
        read_notice(long, "long.txt")
    html = b"<html><body>" + b"".join(b"<p>%d</p>" % i for i in range(20_001)) + b"</body></html>"
    with pytest.raises(InputError, match=r"^long\.html: the notice has 20,001 lines of text"):
        read_notice(html, "long.html")
    read = read_notice(page.encode(), "n.txt", attachments=[("list.txt", long)])
    assert read.unread == [
        "list.txt: the notice has 20,001 lines of text, more than the 20,000 read; not read"
    ]
    blank = ("\n" * 30_000 + page).encode()  # blank lines do not count
    assert read_notice(blank, "blank.txt").plain.strip()
