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

from .tables import Cell, Grid
from .zipguard import checked_package

MAX_ROWS = 20_000
MAX_COLUMNS = 60
MAX_CELLS = 200_000
"""Most cells of one sheet's grid (rows x columns of the box its values and merges span): a
few-KB workbook naming one cell at A1 and one at BH20000 would otherwise be read as 1.2
million cells (646 MB, 28 s)."""


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


def check_cells(name: str, sheet: str, rows: int, columns: int) -> None:
    """Refuse a sheet whose grid would hold more than :data:`MAX_CELLS` cells."""
    if rows * columns > MAX_CELLS:
        raise InputError(
            f"{name}: sheet {sheet!r} spans {rows:,} rows x {columns} columns, more than the "
            f"{MAX_CELLS:,} cells read"
        )


def read_xlsx(data: bytes, *, name: str) -> list[Sheet]:
    """Every visible sheet that has cells. Raises InputError when ``data`` is not a readable
    workbook or expands beyond the limits."""
    package = checked_package(data, name)
    try:
        from openpyxl import load_workbook

        workbook = load_workbook(io.BytesIO(package), data_only=True)
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
        values: dict[tuple[int, int], str] = {}
        # The cells the sheet holds (openpyxl keeps them by position; asking for a range
        # would create every empty cell in it), within MAX_ROWS x MAX_COLUMNS.
        for (r, c), cell in getattr(worksheet, "_cells", {}).items():
            if r <= MAX_ROWS and c <= MAX_COLUMNS:
                text = cell_value(cell.value)
                if text:
                    values[(r, c)] = text
        merges = [
            (m.min_row, m.min_col, min(m.max_row, MAX_ROWS), min(m.max_col, MAX_COLUMNS))
            for m in worksheet.merged_cells.ranges
            if m.min_row <= MAX_ROWS and m.min_col <= MAX_COLUMNS
        ]
        rows = max([r for r, _c in values] + [m[2] for m in merges], default=0)
        columns = max([c for _r, c in values] + [m[3] for m in merges], default=0)
        if rows == 0 or columns == 0:
            continue
        check_cells(name, worksheet.title, rows, columns)
        spans: dict[tuple[int, int], tuple[int, int]] = {}  # cell -> its merged range's corner
        for min_row, min_col, max_row, max_col in merges:
            for r in range(min_row, max_row + 1):
                for c in range(min_col, max_col + 1):
                    spans[(r, c)] = (min_row, min_col)
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
