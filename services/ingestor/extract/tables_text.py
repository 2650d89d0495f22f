"""Tables written as text: tab-separated (copied from a spreadsheet or a web page), pipe
(Markdown), CSV, or columns aligned with runs of spaces.

A table starts at a line whose cells read like an app table's header (``tables.is_header``) and
runs while the following lines split with the same separator. Blank cells keep their column
(``\\t\\t\\t华为应用市场\\t4.2.1`` is the rest of the app above; ``\\t\\t\\t\\t\\t账号注销难`` more
of its issues); a row with fewer cells than the header (a merged cell the copy lost) keeps the
missing ones as None, for ``tables.table_entities`` to re-align, as for HTML tables; a line
without separators that reads like an issue continues the issue cell above.

A table pasted one cell per line (header cells one per line, a wrapped header cell joined
again, then each row's cells) is cut into rows by ``cells.segment``; a table copied out of a PDF
with single spaces between cells has its words grouped into cells by ``cells.fill``.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from shared.events import Entity

from .cells import align, fill, look, segment
from .lazy_re import lazy
from .tables import Cell, Grid, header_columns, is_header, table_entities
from .textutil import fold_width

Splitter = Callable[[str], list[str]]

_PIPE_RULE = lazy(r"^\s*\|?\s*:?-{2,}:?\s*(?:\|\s*:?-{2,}:?\s*)*\|?\s*$")


def _tabs(line: str) -> list[str]:
    cells = [cell.strip(" \u3000\u00a0") for cell in line.split("\t")]
    # a spreadsheet quotes a cell that holds a line break or a quote: "…""…"
    return [
        cell[1:-1].replace('""', '"') if len(cell) >= 2 and cell[0] == cell[-1] == '"' else cell
        for cell in cells
    ]


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
    unread_until = 0  # rows without header from here on were tried and are no app table
    while index < len(lines):
        split = _splitter(lines[index])
        header = split(lines[index]) if split else []
        if split is None or not is_header(header):
            found = _vertical_table(lines, index) or _words_table(lines, index)
            if found is None and index >= unread_until:
                found, unread_until = _headerless_table(lines, index, split)
            if found is not None:
                tables.append(found)
                index = found.end
            else:
                index += 1
            continue
        grid: Grid = [[Cell(text, origin + i) for i, text in enumerate(header)]]
        origin += len(header)
        issues_at = header_columns(header).get("issues")
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
            if _continues_issue(grid, line, issues_at):
                end += 1
                continue
            if _splitter(line) is not split and not (split is _spaces and "\t" not in line):
                break
            cells = split(line)
            filled = sum(1 for cell in cells if cell)
            if filled == 0 or (filled < 2 and (split is _spaces or len(cells) < 2)):
                break
            if split is _spaces and len(cells) < len(header):
                # spaces cannot show a blank cell: the row is short because of blanks, not of
                # a merged cell, so its cells are placed by their look and the rest left blank
                at = align(cells, header_columns(header), list(range(len(header))))
                placed = dict(zip(at, cells, strict=True))
                cells = [placed.get(i, "") for i in range(len(header))]
            # a short row keeps its missing cells as None: tables.realign puts it right
            row: list[Cell | None] = [Cell(text, origin + i) for i, text in enumerate(cells)]
            grid.append(row + [None] * (len(header) - len(cells)))
            origin += len(cells)
            end += 1
        table = TextTable(index, end, table_entities(grid))
        if len(grid) == 1:  # a header row, then the cells one per line
            table = _cells_per_line(lines, index, header, index + 1) or table
        tables.append(table)
        index = table.end
    return tables


def _continues_issue(grid: Grid, line: str, issues_at: int | None) -> bool:
    """A line without separators that is more of the row above's issue cell (a cell's own line
    break copied as a line break): added to that cell."""
    text = line.strip(" \u3000")
    if issues_at is None or len(grid) < 2 or _splitter(line) is not None or look(text) != "issue":
        return False
    row = grid[-1]
    cell = row[issues_at] if issues_at < len(row) else None
    if cell is None or not cell.text.strip():
        return False
    row[issues_at] = Cell(f"{cell.text}\n{text}", cell.origin, cell.spanned)
    return True


def _headerless_table(
    lines: list[str], start: int, split: Splitter | None
) -> tuple[TextTable | None, int]:
    """Tab or pipe rows of three cells or more without a header line (a reprint that dropped
    it, a page whose header is a picture): read when the look of the columns tells them apart
    (``tables.infer_header``). Also gives the end of the rows looked at."""
    if split not in (_tabs, _pipes):
        return None, start + 1
    grid: Grid = []
    origin = 0
    end = start
    while end < len(lines) and _splitter(lines[end]) is split:
        cells = split(lines[end])
        if sum(1 for cell in cells if cell) < 2 or (not grid and len(cells) < 3):
            break
        grid.append([Cell(text, origin + i) for i, text in enumerate(cells)])
        origin += len(cells)
        end += 1
    if len(grid) < 2:
        return None, max(end, start + 1)
    width = max(len(row) for row in grid)
    padded: Grid = [row + [None] * (width - len(row)) for row in grid]
    entities = table_entities(padded, headerless=True)
    return (TextTable(start, end, entities) if entities else None), end


_END_OF_TABLE = lazy(
    r"通信管理局$|信息化部$|网信办$|办公室$|通报中心$|处理中心$|监督管理总局$|^\d{4}\s*年"
    r"|^(?:附件|注|备注|说明|抄送|联系人|联系电话)\s*\d?\s*[:：]"
)
_LABEL_PUNCTUATION = lazy(r"[:：，,。；;、!！?？()（）《》“”\"]")


def _label(line: str) -> dict[str, int] | None:
    """The column a line names when it is one header cell on its own ("应 用 名 称")."""
    label = re.sub(r"\s+", "", fold_width(line))
    if not label or len(label) > 10 or _LABEL_PUNCTUATION.search(label):
        return None
    columns = header_columns([label])
    return columns or None


_SECTION_HEADING = lazy(
    r"^(?:[一二三四五六七八九十]{1,3}\s*[、.．]|第[一二三四五六七八九十]{1,3}[部类批])"
)


def _ends_table(cell: str) -> bool:
    """Is this line past the table: prose (a sentence that is not an issue), a signature, a
    date, a note, a new section?"""
    if "\t" in cell or len(cell) > 80 or _END_OF_TABLE.search(cell):
        return True
    if _SECTION_HEADING.match(cell):
        return True
    body = cell.rstrip("。")
    issue = look(cell) == "issue"
    if "。" in body or (body != cell and (len(cell) > 40 or not issue)):
        return True
    return not issue and len(cell) > 12 and re.search(r"[，；;]", cell) is not None


_GENERIC_LABEL = lazy(
    r"^(?:应用|APP|软件|产品|SDK|小程序|移动应用|应用开|开发|开发运|所涉|涉及)$", re.I
)


def _header_run(lines: list[str], start: int) -> tuple[list[str], int]:
    """The header cells at ``start``, one per line, and the index after them. A header cell
    that wrapped in the copy ("应用" / "名称") is joined again."""
    labels: list[str] = []
    seen: set[str] = set()
    index = start
    while index < len(lines) and len(labels) < 12:
        line = lines[index].strip(" \u3000")
        if not line:
            index += 1
            continue
        last = index  # the last line this label takes
        after = index + 1
        while after < len(lines) and not lines[after].strip(" \u3000"):
            after += 1
        folded = re.sub(r"\s+", "", fold_width(line))
        fragment = len(folded) <= 6 and (_label(line) is None or _GENERIC_LABEL.match(folded))
        if after < len(lines) and fragment:
            rest = lines[after].strip(" \u3000")
            joined = _label(line + rest)
            data = look(rest) in ("company", "version", "digits", "issue") or (
                look(rest) == "store" and len(rest) > 3
            )
            if joined is not None and not data and not (set(joined) - {"ignore"}) & seen:
                line, last = line + rest, after
        label = _label(line)
        if label is None:
            break
        [column] = label
        if column != "ignore" and column in seen:
            break
        seen.add(column)
        labels.append(line)
        index = last + 1
    return labels, index


_COMPANY_TAIL = lazy(
    r"^(?:(?:股份|有限|责任|集团|科技|网络|信息|技术)*(?:有限责任公司|股份有限公司|有限公司|"
    r"公司|集团|工作室)|(?:Co\.?,?\s*)?Ltd\.?|Limited|Inc\.?)$",
    re.I,
)


def _continues_company(previous: str, line: str) -> bool:
    """Is ``line`` the end of a company name that wrapped ("…文化旅游开发" / "有限公司")?"""
    return (
        _COMPANY_TAIL.match(fold_width(line).strip()) is not None
        and look(previous) not in ("company", "digits", "store", "version", "issue", "blank")
        and look(previous + line) == "company"
    )


def _companies_listed(rows: list[dict[int, str]], developer: int) -> bool:
    """A two-column paste (名称 / 运营者) is a table only if its rows name companies."""
    return len(rows) >= 2 and all(look(row.get(developer, "")) == "company" for row in rows)


def _spaced_labels(words: list[str], *, join: bool = True) -> list[str] | None:
    """The header cells of a line of labels, where a label may be spread out one character a
    word ("序号 应 用 名 称 开发者") or cut in two ("应用 名称"); None when a word is no
    label."""
    labels: list[str] = []
    index = 0
    while index < len(words):
        word = words[index]
        if join and _GENERIC_LABEL.match(word) and index + 1 < len(words):
            joined = word + words[index + 1]  # "应用 名称": one label cut in two
            if _label(joined) is not None:
                labels.append(joined)
                index += 2
                continue
        if _label(word) is not None and len(word) > 1:
            labels.append(word)
            index += 1
            continue
        run = index
        while run < len(words) and len(words[run]) == 1:
            run += 1
        taken = next(
            (
                end
                for end in range(min(run, index + 8), index, -1)
                if _label("".join(words[index:end]))
            ),
            None,
        )
        if taken is None:
            return None
        labels.append("".join(words[index:taken]))
        index = taken
    return labels


def _words_table(lines: list[str], start: int) -> TextTable | None:
    """A table whose cells are separated by single spaces (copied out of a PDF): a header line
    of labels only, then one line per row; each row's words are grouped into cells by what
    they look like (``cells.fill``)."""
    words = lines[start].split()
    header = _spaced_labels(words)
    if header is not None and "name" not in header_columns(header):
        header = _spaced_labels(words, join=False)  # "应用 开发者": 应用 was the name column
    if header is None or len(header) < 3:
        return None
    columns = header_columns(header)
    if not is_header(header) or len(set(columns) - {"ignore"}) < 3:
        return None
    following = next((line.split() for line in lines[start + 1 :] if line.strip()), [])
    if len(following) == 1:
        return _cells_per_line(lines, start, header, start + 1)  # the cells one per line
    width = len(header)
    grid: Grid = [[Cell(text, i) for i, text in enumerate(header)]]
    origin = width
    issues_at = columns.get("issues")
    index = start + 1
    end = index
    while index < len(lines):
        line = lines[index].strip(" \u3000")
        index += 1
        if not line:
            continue
        # a row here is a whole line: long, and its issues may end with a full stop
        sentence = "。" in line.rstrip("。") or (
            line.endswith("。") and look(line.split()[0]) != "digits"
        )
        if _END_OF_TABLE.search(line) or _SECTION_HEADING.match(line) or sentence:
            break
        words = line.split()
        if len(words) == 1 and _continues_issue(grid, line, issues_at):
            end = index
            continue
        if len(words) < 2:
            break
        cells = fill(words, columns, width)
        grid.append([Cell(cells.get(i, ""), origin + i) for i in range(width)])
        origin += width
        end = index
    if len(grid) < 2:
        return None
    return TextTable(start, end, table_entities(grid))


def _vertical_table(lines: list[str], start: int) -> TextTable | None:
    """A table pasted one cell per line: the header cells one per line (in any order, with or
    without 序号), then every row's cells one per line, blank cells dropped and an issue cell
    perhaps over several lines. The columns come from the header; the rows are cut and each
    cell placed by what it looks like (``cells.segment``)."""
    labels, index = _header_run(lines, start)
    return _cells_per_line(lines, start, labels, index)


def _cells_per_line(
    lines: list[str], start: int, labels: list[str], index: int
) -> TextTable | None:
    """The rows pasted one cell per line from ``index`` on, under the header ``labels``
    (which the paste gave one per line, or on one line)."""
    columns = header_columns(labels)
    named = set(columns) - {"ignore"}
    if len(labels) < 2 or not is_header(labels) or not (len(named) >= 3 or "developer" in named):
        return None
    width = len(labels)
    texts: list[str] = []
    end = index
    while index < len(lines):
        cell = lines[index].strip(" \u3000")
        index += 1
        if not cell:
            continue
        if _ends_table(cell):
            break
        if texts and _continues_company(texts[-1], cell):
            texts[-1] += cell
        else:
            texts.append(cell)
        end = index
    rows = segment(texts, columns, width)
    if not rows or (len(named) < 3 and not _companies_listed(rows, columns["developer"])):
        return None
    grid: Grid = [[Cell(text, i) for i, text in enumerate(labels)]]
    origin = width
    for row in rows:
        grid.append([Cell(row.get(i, ""), origin + i) for i in range(width)])
        origin += width
    return TextTable(start, end, table_entities(grid))


def csv_to_text(text: str) -> str:
    """A CSV file as tab-separated lines (a cell's own line breaks become spaces)."""
    lines: list[str] = []
    for row in csv.reader(io.StringIO(text, newline="")):
        cells = [re.sub(r"[\t\r\n]+", " ", cell).strip() for cell in row]
        lines.append("\t".join(cells).rstrip("\t"))
    return "\n".join(lines)
