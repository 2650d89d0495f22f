"""Old Excel ``.xls`` workbooks (xlrd) as grids of cells, one per sheet, like ``xlsx_reader``.

Provincial offices still attach lists as .xls. Merged cells keep one origin (``spanned`` below
the first row of a merge); date cells read as dates.
"""

from __future__ import annotations

from typing import Any

from shared.errors import InputError

from .tables import Cell, Grid
from .xlsx_reader import MAX_COLUMNS, MAX_ROWS, Sheet, cell_value

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def _value(sheet: Any, book: Any, r: int, c: int) -> str:
    import xlrd

    cell = sheet.cell(r, c)
    if cell.ctype == xlrd.XL_CELL_DATE:
        try:
            return cell_value(xlrd.xldate.xldate_as_datetime(cell.value, book.datemode))
        except (ValueError, OverflowError, xlrd.xldate.XLDateError):
            return cell_value(cell.value)
    if cell.ctype == xlrd.XL_CELL_BOOLEAN:
        return cell_value(bool(cell.value))
    return cell_value(cell.value)


def read_xls(data: bytes, *, name: str) -> list[Sheet]:
    """Every visible sheet that has cells. Raises InputError when ``data`` is not a readable
    .xls workbook."""
    try:
        import xlrd

        book = xlrd.open_workbook(file_contents=data, formatting_info=True, on_demand=True)
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
            rows, columns = min(sheet.nrows, MAX_ROWS), min(sheet.ncols, MAX_COLUMNS)
            if not rows or not columns:
                continue
            corners: dict[tuple[int, int], tuple[int, int]] = {}
            for r0, r1, c0, c1 in sheet.merged_cells:
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
