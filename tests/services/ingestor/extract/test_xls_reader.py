"""Old Excel workbooks built here (xlwt) read like .xlsx ones: merged cells, dates, rows."""

from __future__ import annotations

import io

import pytest

from services.ingestor.extract import parse_notice
from services.ingestor.extract.tables import table_entities
from services.ingestor.extract.xls_reader import read_xls
from shared.errors import InputError

xlwt = pytest.importorskip("xlwt", reason="xlwt (a test dependency) writes the .xls files")


def workbook() -> bytes:
    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("名单")
    sheet.write_merge(0, 0, 0, 3, "山东省通信管理局关于侵害用户权益行为的APP通报（2024年第5批）")
    for c, label in enumerate(["序号", "应用名称", "应用开发者", "应用来源"]):
        sheet.write(1, c, label)
    sheet.write(2, 0, 1)
    sheet.write_merge(2, 3, 1, 1, "海风看房")
    sheet.write_merge(2, 3, 2, 2, "青岛海风网络科技有限公司")
    sheet.write(2, 3, "应用宝")
    sheet.write(3, 3, "华为应用市场")
    sheet.write(4, 0, 2)
    sheet.write(4, 1, "滴滴出行")
    sheet.write(4, 2, "北京小桔科技有限公司")
    sheet.write(4, 3, "小米应用商店")
    sheet.write(6, 0, "山东省通信管理局　2024年9月3日")
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_merged_cells_and_rows() -> None:
    sheets = read_xls(workbook(), name="list.xls")
    grid = sheets[0].grid
    assert grid[3][1] is not None and grid[3][1].spanned  # type: ignore[union-attr]
    assert [(e.name, e.developer, e.store) for e in table_entities(grid)] == [
        ("海风看房", "青岛海风网络科技有限公司", "应用宝/华为应用市场"),
        ("滴滴出行", "北京小桔科技有限公司", "小米应用商店"),
    ]


def test_an_xls_notice_given_on_its_own() -> None:
    event = parse_notice(workbook(), name="通报.xls")
    assert event.regulator.code == "CA-SHANDONG"
    assert [(e.name, e.source) for e in event.entities] == [
        ("海风看房", "attachment"),
        ("滴滴出行", "attachment"),
    ]


def test_a_doc_named_xls_or_junk_is_refused() -> None:
    with pytest.raises(InputError, match=r"^x\.xls: not a readable \.xls file"):
        parse_notice(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, name="x.xls")
    with pytest.raises(InputError, match=r"^y\.xls: not a readable \.xls file$"):
        parse_notice("序号,应用名称".encode(), name="y.xls")


def test_a_cell_far_out_is_not_read_and_rows_are_not_padded() -> None:
    """A few-KB .xls naming cell IV65536 made xlrd pad every row to 256 cells (16 million)."""
    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("名单")
    sheet.write(0, 0, "应用名称")
    sheet.write(0, 1, "开发者")
    sheet.write(65535, 255, "x")
    out = io.BytesIO()
    book.save(out)
    [read] = read_xls(out.getvalue(), name="far.xls")
    assert [[cell.text if cell else None for cell in row] for row in read.grid] == [
        ["应用名称", "开发者"]
    ]
