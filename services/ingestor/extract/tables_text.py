"""Tables written as text: tab-separated (copied from a spreadsheet or a web page), pipe
(Markdown), CSV, or columns aligned with runs of spaces.

A table starts at a line whose cells read like an app table's header (``tables.is_header``) and
runs while the following lines split into at least two non-empty cells with the same separator.
Blank cells keep their column (``\\t\\t\\t华为应用市场\\t4.2.1`` is the rest of the app above), so
the rows go through the same ``tables.table_entities`` as HTML tables.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from shared.events import Entity

from .merge import is_company
from .tables import Cell, Grid, header_columns, is_header, table_entities
from .textutil import fold_width

Splitter = Callable[[str], list[str]]

_PIPE_RULE = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(?:\|\s*:?-{2,}:?\s*)*\|?\s*$")


def _tabs(line: str) -> list[str]:
    return [cell.strip(" \u3000\u00a0") for cell in line.split("\t")]


def _pipes(line: str) -> list[str]:
    stripped = line.strip(" \u3000")
    if stripped.startswith("|"):
        stripped = stripped[1:]
    if stripped.endswith("|"):
        stripped = stripped[:-1]
    return [cell.strip(" \u3000\u00a0") for cell in stripped.split("|")]


def _commas(line: str) -> list[str]:
    try:
        row = next(csv.reader([line.strip(" \u3000")], skipinitialspace=True))
    except (csv.Error, StopIteration):
        return []
    return [cell.strip(" \u3000\u00a0") for cell in row]


def _spaces(line: str) -> list[str]:
    return [cell for cell in re.split(r"\s{2,}|\u3000+", line.strip(" \u3000")) if cell]


def _splitter(line: str) -> Splitter | None:
    if "\t" in line:
        return _tabs
    if line.count("|") >= 2:
        return _pipes
    if line.count(",") >= 2:
        return _commas
    if re.search(r"\S(?:\s{2,}|\u3000+)\S", line.strip(" \u3000")):
        return _spaces
    return None


@dataclass
class TextTable:
    start: int  # index of the header line
    end: int  # index after the last row
    entities: list[Entity] = field(default_factory=list)


def find_text_tables(lines: list[str]) -> list[TextTable]:
    """Tables in ``lines`` (raw lines: tabs and blank cells intact), each with its entities."""
    tables: list[TextTable] = []
    index = 0
    origin = 0
    while index < len(lines):
        split = _splitter(lines[index])
        header = split(lines[index]) if split else []
        if split is None or not is_header(header):
            vertical = _vertical_table(lines, index)
            if vertical is not None:
                tables.append(vertical)
                index = vertical.end
            else:
                index += 1
            continue
        grid: Grid = [[Cell(text, origin + i) for i, text in enumerate(header)]]
        origin += len(header)
        end = index + 1
        while end < len(lines):
            line = lines[end]
            if not line.strip():
                end += 1
                if end < len(lines) and _splitter(lines[end]) is split:
                    continue
                break
            if split is _pipes and _PIPE_RULE.match(line):
                end += 1
                continue
            if _splitter(line) is not split and not (split is _spaces and "\t" not in line):
                break
            cells = split(line)
            if sum(1 for cell in cells if cell) < 2:
                break
            width = max(len(header), len(cells))
            cells += [""] * (width - len(cells))
            grid.append([Cell(text, origin + i) for i, text in enumerate(cells)])
            origin += len(cells)
            end += 1
        tables.append(TextTable(index, end, table_entities(grid)))
        index = end
    return tables


_SEQ = re.compile(r"^\d{1,3}[.、]?$")
_END_OF_TABLE = re.compile(
    r"。|通信管理局$|信息化部$|网信办$|办公室$|通报中心$|处理中心$|监督管理总局$|^\d{4}\s*年"
)


def _vertical_table(lines: list[str], start: int) -> TextTable | None:
    """A table pasted one cell per line: a run of header labels (序号 / 应用名称 / 应用开发者 ...),
    then rows that each start with their sequence number. Rows with blank cells (dropped in the
    paste) are read by what each line looks like."""
    labels: list[tuple[int, str]] = []
    index = start
    while index < len(lines) and len(labels) < 10:
        label = lines[index].strip(" \u3000")
        if not label:
            index += 1
            continue
        columns = header_columns([label])
        if not columns or set(columns) == {"ignore"}:
            break
        labels.append((index, label))
        index += 1
    names = [label for _, label in labels]
    if len(names) < 3 or not is_header(names) or header_columns(names).get("seq") != 0:
        return None
    width = len(names)
    rows: list[list[str]] = []
    expected = 1
    while index < len(lines):
        line = lines[index].strip(" \u3000")
        if not line:
            index += 1
            continue
        if not _SEQ.match(line) or int(line.rstrip(".、")) != expected:
            break
        row = [line]
        index += 1
        while index < len(lines) and len(row) < width:
            cell = lines[index].strip(" \u3000")
            if not cell:
                index += 1
                continue
            if _SEQ.match(cell) and int(cell.rstrip(".、")) == expected + 1:
                break
            if _END_OF_TABLE.search(cell):
                break
            row.append(cell)
            index += 1
        rows.append(row)
        expected += 1
    if not rows:
        return None
    grid: Grid = [[Cell(text, i) for i, text in enumerate(names)]]
    origin = width
    columns = header_columns(names)
    for row in rows:
        cells = row if len(row) == width else _place(row, columns, width)
        grid.append([Cell(text, origin + i) for i, text in enumerate(cells)])
        origin += width
    return TextTable(start, index, table_entities(grid))


def _place(row: list[str], columns: dict[str, int], width: int) -> list[str]:
    """A short row (blank cells were dropped) put into its columns by what each value is."""
    cells = [""] * width
    cells[0] = row[0]
    if "name" in columns and len(row) > 1:
        cells[columns["name"]] = row[1]
    for value in row[2:]:
        folded = fold_width(value)
        if "developer" in columns and is_company(folded) and not cells[columns["developer"]]:
            cells[columns["developer"]] = value
        elif "version" in columns and _VERSION_CELL.match(folded):
            cells[columns["version"]] = value
        elif "store" in columns and _STORE_CELL.search(folded):
            cells[columns["store"]] = value
        elif "issues" in columns:
            index = columns["issues"]
            cells[index] = f"{cells[index]}\n{value}".strip()
    return cells


_VERSION_CELL = re.compile(r"^[Vv]?\d+(?:[.\-_]\d+)+\S*$")
_STORE_CELL = re.compile(
    r"应用市场|应用商店|软件商店|应用商城|手机助手|应用宝|豌豆荚|App\s*Store|Google\s*Play|官网|微信$",
    re.I,
)


def csv_to_text(text: str) -> str:
    """A CSV file as tab-separated lines (a cell's own line breaks become spaces)."""
    lines: list[str] = []
    for row in csv.reader(io.StringIO(text, newline="")):
        cells = [re.sub(r"[\t\r\n]+", " ", cell).strip() for cell in row]
        lines.append("\t".join(cells).rstrip("\t"))
    return "\n".join(lines)
