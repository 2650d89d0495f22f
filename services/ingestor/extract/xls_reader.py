"""Old Excel ``.xls`` workbooks (xlrd) as grids of cells, one per sheet, like ``xlsx_reader``.

Provincial offices still attach lists as .xls. Merged cells keep one origin (``spanned`` below
the first row of a merge); date cells read as dates.
"""

from __future__ import annotations

from typing import Any

from shared.errors import InputError

from .tables import Cell, Grid
from .xlsx_reader import MAX_COLUMNS, MAX_ROWS, Sheet, cell_value, check_cells

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def _value(sheet: Any, book: Any, r: int, c: int) -> str:
    import xlrd

    if c >= sheet.row_len(r):  # rows are ragged: a row ends at its last cell
        return ""
    cell = sheet.cell(r, c)
    if cell.ctype == xlrd.XL_CELL_DATE:
        try:
            return cell_value(xlrd.xldate.xldate_as_datetime(cell.value, book.datemode))
        except (ValueError, OverflowError, xlrd.xldate.XLDateError):
            return cell_value(cell.value)
    if cell.ctype == xlrd.XL_CELL_BOOLEAN:
        return cell_value(bool(cell.value))
    return cell_value(cell.value)


def _has_text(sheet: Any, r: int) -> bool:
    return any(str(value).strip() for value in sheet.row_values(r, 0, MAX_COLUMNS))


def read_xls(data: bytes, *, name: str) -> list[Sheet]:
    """Every visible sheet that has cells. Raises InputError when ``data`` is not a readable
    .xls workbook."""
    try:
        import xlrd

        # ragged_rows: a row holds the cells it has (not every row padded to the widest one:
        # a few-KB file naming cell IV65536 made 16 million cells, 550 MB)
        book = xlrd.open_workbook(
            file_contents=data, formatting_info=True, on_demand=True, ragged_rows=True
        )
    except ImportError:  # pragma: no cover - a dependency of the project
        raise InputError(f"{name}: reading .xls files needs xlrd (not installed)") from None
    except Exception as error:  # xlrd raises its own types (XLRDError, CompDocError ...)
        raise InputError(f"{name}: not a readable .xls file ({error})") from None
    sheets: list[Sheet] = []
    origin = 0
    try:
        for index in range(book.nsheets):
            sheet = book.sheet_by_index(index)
            if getattr(sheet, "visibility", 0) != 0:
                continue
            merges = [
                (r0, r1, c0, c1)
                for r0, r1, c0, c1 in sheet.merged_cells
                if r0 < MAX_ROWS and c0 < MAX_COLUMNS
            ]
            rows = max(
                [r + 1 for r in range(min(sheet.nrows, MAX_ROWS)) if _has_text(sheet, r)]
                + [min(r1, MAX_ROWS) for _r0, r1, _c0, _c1 in merges],
                default=0,
            )
            columns = max(
                [min(sheet.row_len(r), MAX_COLUMNS) for r in range(rows)]
                + [min(c1, MAX_COLUMNS) for _r0, _r1, _c0, c1 in merges],
                default=0,
            )
            if not rows or not columns:
                continue
            check_cells(name, sheet.name, rows, columns)
            corners: dict[tuple[int, int], tuple[int, int]] = {}
            for r0, r1, c0, c1 in merges:
                for r in range(r0, min(r1, rows)):
                    for c in range(c0, min(c1, columns)):
                        corners[(r, c)] = (r0, c0)
            origins: dict[tuple[int, int], int] = {}
            grid: Grid = []
            for r in range(rows):
                line: list[Cell | None] = []
                for c in range(columns):
                    corner = corners.get((r, c), (r, c))
                    if corner not in origins:
                        origin += 1
                        origins[corner] = origin
                    text = _value(sheet, book, *corner)
                    line.append(Cell(text, origins[corner], spanned=corner[0] < r))
                grid.append(line)
            while grid and not any(cell and cell.text for cell in grid[-1]):
                grid.pop()
            if grid:
                sheets.append(Sheet(sheet.name, grid))
    finally:
        book.release_resources()
    if not sheets:
        raise InputError(f"{name}: the workbook has no cells")
    return sheets
