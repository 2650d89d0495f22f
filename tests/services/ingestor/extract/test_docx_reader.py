from __future__ import annotations

import io
import zipfile

import pytest
from docx import Document

from services.ingestor.extract import docx_reader, parse_notice
from services.ingestor.extract.docx_reader import docx_to_html
from services.ingestor.extract.entities_html import extract_entities_html, parse_html
from shared.errors import InputError


def docx_bytes() -> bytes:
    doc = Document()
    doc.add_heading("关于侵害用户权益行为的APP通报（2022年第4批，总第24批）", level=1)
    doc.add_paragraph("发布时间：2022-09-16")
    doc.add_paragraph("上述APP应在9月23日前完成整改落实工作。")
    table = doc.add_table(rows=4, cols=4)
    for r, values in enumerate(
        [
            ["序号", "应用名称", "应用开发者", "应用来源"],
            ["1", "悦听FM", "悦听（北京）文化传媒有限公司", "华为应用市场"],
            ["", "", "", "应用宝"],
            ["2", "步步高升", "", "小米应用商店"],
        ]
    ):
        for c, value in enumerate(values):
            if value:
                table.cell(r, c).text = value
    for column in (0, 1, 2):
        table.cell(1, column).merge(table.cell(2, column))
    doc.add_paragraph("工业和信息化部信息通信管理局")
    doc.add_paragraph("2022年9月16日")
    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()


def test_merged_cells_become_rowspan() -> None:
    page = docx_to_html(docx_bytes(), name="a.docx")
    assert "<h1>" in page and 'rowspan="2"' in page
    entities = extract_entities_html(parse_html(page))
    assert [(e.name, e.developer, e.store) for e in entities] == [
        ("悦听FM", "悦听（北京）文化传媒有限公司", "华为应用市场/应用宝"),
        ("步步高升", None, "小米应用商店"),
    ]


def test_parse_notice_reads_docx_by_name_or_by_signature() -> None:
    data = docx_bytes()
    by_name = parse_notice(data, name="attachment.docx")
    by_signature = parse_notice(data, name="upload")  # no extension: the zip tells
    assert by_name == by_signature
    assert by_name.regulator.code == "MIIT"
    assert by_name.batch == "2022年第4批（总第24批）"
    assert [e.name for e in by_name.entities] == ["悦听FM", "步步高升"]


def test_broken_docx_and_other_zips_are_refused() -> None:
    with pytest.raises(InputError, match=r"^bad\.docx: not a readable \.docx file"):
        parse_notice(b"PK\x03\x04 not really a zip", name="bad.docx")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("ppt/presentation.xml", "<presentation/>")
    with pytest.raises(InputError, match=r"^upload: a zip archive that is not a \.docx"):
        parse_notice(buffer.getvalue(), name="upload")


def test_word_list_numbering_is_written_out() -> None:
    doc = Document()
    doc.add_paragraph("名单如下：")
    for name in ("天天看", "日日新"):
        doc.add_paragraph(name, style="List Number")
    buffer = io.BytesIO()
    doc.save(buffer)
    page = docx_to_html(buffer.getvalue(), name="list.docx")
    assert "<p>1. 天天看</p>" in page and "<p>2. 日日新</p>" in page


def test_a_document_beyond_the_line_limit_is_refused_before_it_is_converted(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(docx_reader, "MAX_TEXT_LINES", 3)
    doc = Document()
    for line in ("国家互联网信息办公室", "2021年5月10日", "1. 抖音", "2. 快手"):
        doc.add_paragraph(line)
    out = io.BytesIO()
    doc.save(out)
    with pytest.raises(
        InputError, match=r"^long\.docx: the document has 4 paragraphs and table rows, more than"
    ):
        docx_to_html(out.getvalue(), name="long.docx")
