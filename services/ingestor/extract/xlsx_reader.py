"""``.xlsx`` workbooks (openpyxl) as grids of cells, one per sheet, and as text.

Merged cells keep one origin: a merged developer cell over three rows gives those three rows
the same cell (``spanned`` below the first), as an HTML ``rowspan`` does, so the sheet goes
through ``tables.table_entities`` like any other table. Lines above the header ("附件：33款App
名单") are kept as text.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from shared.errors import InputError

from .formats import check_zip
from .tables import Cell, Grid

MAX_ROWS = 20_000
MAX_COLUMNS = 60


@dataclass
class Sheet:
    title: str
    grid: Grid


def cell_value(value: Any) -> str:
    """A cell's value as the sheet shows it: 3.0 -> "3", a date -> 2021-05-10."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat(" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


def read_xlsx(data: bytes, *, name: str) -> list[Sheet]:
    """Every visible sheet that has cells. Raises InputError when ``data`` is not a readable
    workbook or expands beyond the limits."""
    check_zip(data, name)
    try:
        from openpyxl import load_workbook

        workbook = load_workbook(io.BytesIO(data), data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, TypeError) as error:
        raise InputError(f"{name}: not a readable .xlsx file ({error})") from None
    except Exception as error:  # openpyxl raises its own types for broken workbooks
        raise InputError(
            f"{name}: not a readable .xlsx file ({type(error).__name__}: {error})"
        ) from None
    sheets: list[Sheet] = []
    origin = 0
    for worksheet in workbook.worksheets:
        if worksheet.sheet_state != "visible":
            continue
        rows = min(worksheet.max_row or 0, MAX_ROWS)
        columns = min(worksheet.max_column or 0, MAX_COLUMNS)
        if rows == 0 or columns == 0:
            continue
        spans: dict[tuple[int, int], tuple[int, int]] = {}  # cell -> its merged range's corner
        for merged in worksheet.merged_cells.ranges:
            for r in range(merged.min_row, merged.max_row + 1):
                for c in range(merged.min_col, merged.max_col + 1):
                    spans[(r, c)] = (merged.min_row, merged.min_col)
        values: dict[tuple[int, int], str] = {}
        for r, row in enumerate(
            worksheet.iter_rows(min_row=1, max_row=rows, max_col=columns, values_only=True),
            start=1,
        ):
            for c, value in enumerate(row, start=1):
                text = cell_value(value)
                if text:
                    values[(r, c)] = text
        origins: dict[tuple[int, int], int] = {}
        grid: Grid = []
        for r in range(1, rows + 1):
            line: list[Cell | None] = []
            for c in range(1, columns + 1):
                corner = spans.get((r, c), (r, c))
                if corner not in origins:
                    origin += 1
                    origins[corner] = origin
                line.append(Cell(values.get(corner, ""), origins[corner], spanned=corner[0] < r))
            grid.append(line)
        while grid and not any(cell and cell.text for cell in grid[-1]):
            grid.pop()
        if grid:
            sheets.append(Sheet(worksheet.title, grid))
    if not sheets:
        raise InputError(f"{name}: the workbook has no cells")
    return sheets


def grid_text(grid: Grid) -> str:
    """A grid as tab-separated lines (a merged cell's text once, on its first row)."""
    lines: list[str] = []
    for row in grid:
        cells = [
            cell.text.replace("\n", " ") if cell is not None and not cell.spanned else ""
            for cell in row
        ]
        seen: set[int] = set()
        for index, cell in enumerate(row):  # a merged cell across columns: its text once
            if cell is not None and cell.origin in seen:
                cells[index] = ""
            elif cell is not None:
                seen.add(cell.origin)
        line = "\t".join(cells).rstrip("\t")
        if line.strip():
            lines.append(line)
    return "\n".join(lines)
