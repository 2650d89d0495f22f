"""Workbooks built here (openpyxl) read into grids that keep merged cells."""

from __future__ import annotations

import io
from datetime import date, datetime

import pytest
from openpyxl import Workbook

from services.ingestor.extract.tables import table_entities
from services.ingestor.extract.xlsx_reader import cell_value, grid_text, read_xlsx
from shared.errors import InputError


def saved(book: Workbook) -> bytes:
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_merged_cells_keep_one_origin_and_rows_read_as_a_table() -> None:
    book = Workbook()
    sheet = book.active
    sheet.append(["附件：APP名单"])
    sheet.merge_cells("A1:D1")
    sheet.append(["序号", "应用名称", "应用开发者", "应用来源"])
    sheet.append([1, "咕噜语音", "广州咕噜网络科技有限公司", "应用宝"])
    sheet.append([None, None, None, "华为应用市场"])
    sheet.merge_cells("B3:B4")
    sheet.merge_cells("C3:C4")
    sheet.append([2, "拼拼乐", None, "小米应用商店"])
    hidden = book.create_sheet("old")
    hidden.append(["序号", "应用名称"])
    hidden.append([1, "不该读到"])
    hidden.sheet_state = "hidden"
    sheets = read_xlsx(saved(book), name="list.xlsx")
    assert len(sheets) == 1
    grid = sheets[0].grid
    assert grid[3][1] is not None and grid[3][1].spanned and grid[3][1].origin == grid[2][1].origin  # type: ignore[union-attr]
    entities = table_entities(grid)
    assert [(e.name, e.developer, e.store) for e in entities] == [
        ("咕噜语音", "广州咕噜网络科技有限公司", "应用宝/华为应用市场"),
        ("拼拼乐", None, "小米应用商店"),  # a blank developer is not carried down
    ]
    assert grid_text(grid).split("\n")[0] == "附件：APP名单"


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (3.0, "3"),
        (12.1, "12.1"),
        (7, "7"),
        (date(2024, 5, 1), "2024-05-01"),
        (datetime(2024, 5, 1), "2024-05-01"),
        (None, ""),
        ("  抖音 ", "抖音"),
    ],
)
def test_cell_values_as_the_sheet_shows_them(value: object, shown: str) -> None:
    assert cell_value(value) == shown


def test_an_empty_or_broken_workbook_is_refused() -> None:
    with pytest.raises(InputError, match=r"^e\.xlsx: the workbook has no cells$"):
        read_xlsx(saved(Workbook()), name="e.xlsx")
    with pytest.raises(InputError, match=r"^b\.xlsx: not a readable"):
        read_xlsx(b"PK\x03\x04broken", name="b.xlsx")


def test_a_sheet_spanning_too_many_cells_is_refused_before_they_are_made() -> None:
    """Two cells, at A1 and BH20000: a 5 KB file that read as 1.2 million cells."""
    book = Workbook()
    sheet = book.active
    sheet.title = "名单"
    sheet["A1"] = "应用名称"
    sheet.cell(row=20_000, column=60, value="x")
    with pytest.raises(
        InputError, match=r"^far\.xlsx: sheet '名单' spans 20,000 rows x 60 columns, more than"
    ):
        read_xlsx(saved(book), name="far.xlsx")


def test_styled_empty_cells_do_not_widen_the_grid() -> None:
    book = Workbook()
    sheet = book.active
    sheet.append(["应用名称", "开发者"])
    sheet.append(["抖音", "北京微播视界科技有限公司"])
    sheet.cell(row=5000, column=50).number_format = "0.00"  # formatted, no value
    [read] = read_xlsx(saved(book), name="list.xlsx")
    assert [[cell.text if cell else None for cell in row] for row in read.grid] == [
        ["应用名称", "开发者"],
        ["抖音", "北京微播视界科技有限公司"],
    ]
