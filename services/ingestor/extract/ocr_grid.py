"""Rows and columns rebuilt from OCR text boxes, so a picture of a table goes through the same
``tables.table_entities`` as an HTML table.

1. Boxes whose vertical centres are close form a *line* (sorted left to right).
2. The header is the first line whose cells read like an app table's header
   (``tables.is_header``); a header whose labels wrap onto a second line is joined with it.
3. Columns: between two header labels, the boundary is the x crossed by the fewest boxes below
   (a long, left-aligned company name does not spill into the next column); the picture's
   vertical rules, when it has them, are used instead.
4. Rows: the picture's horizontal rules when it has them; otherwise each line that has a box in
   the sequence column (or, without one, the name column) starts a row, and lines without one
   (a cell's second line) join the row whose start is nearest.

A cell's boxes are joined in reading order; OCR's stray punctuation at a cell's edges ("|",
"·", "_") is dropped, the text inside is kept as read.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from statistics import median

from .lazy_re import lazy
from .ocr import TextBox
from .tables import Cell, Grid, header_columns, is_header
from .textutil import to_simplified

_ITEM = lazy(r"\s*(?:\d{1,2}\s*[.、．)）]|[（(]\d{1,2}[)）]|[一二三四五六七八九十]、)")
_EDGE_JUNK = " \t|｜丨¦_,，.。·•:：;；'\"‘’“”`~^*«»《》「」"


def clean_cell(text: str) -> str:
    """A cell's text without OCR's stray punctuation at its edges (a trailing ")" or a
    version's dots inside are kept)."""
    return text.strip(_EDGE_JUNK)


@dataclass
class Line:
    boxes: list[TextBox]

    @property
    def yc(self) -> float:
        return median(box.yc for box in self.boxes)

    @property
    def y0(self) -> float:
        return min(box.y0 for box in self.boxes)

    @property
    def y1(self) -> float:
        return max(box.y1 for box in self.boxes)

    def texts(self) -> list[str]:
        return [box.text for box in self.boxes]


def _width(ch: str) -> float:
    """A character's width relative to a CJK one."""
    return 1.0 if ord(ch) > 0x2E7F else 0.55


def _kind(ch: str) -> str:
    if ch.isspace():
        return " "
    if ord(ch) > 0x2E7F:
        return "cjk"
    return "latin"


def _natural_cut(text: str, end: int, start: int, reach: int = 3) -> int | None:
    """Where two cells' text joined by OCR really part near ``end`` (the cut the characters'
    widths give): a space, else a change between Chinese and Latin or digits ("OPPO软件商店
    6.2.29" parts before 6, not after it); None when there is none close by: the text is
    one cell's."""
    best: tuple[int, int] | None = None
    for k in range(max(start + 1, end - reach), min(len(text), end + reach) + 1):
        if k >= len(text):
            break
        if text[k - 1].isspace() or text[k].isspace():
            rank = 0
        elif _kind(text[k - 1]) != _kind(text[k]):
            rank = 1
        else:
            continue
        candidate = (rank, abs(k - end))
        if best is None or candidate < (best[0], abs(best[1] - end)):
            best = (rank, k)
    return None if best is None else best[1]


def split_at_rules(boxes: Sequence[TextBox], rules: Sequence[float]) -> list[TextBox]:
    """Boxes that run across a vertical rule (OCR joined two cells' text) cut at the rule,
    their text shared out by the characters' widths."""
    result: list[TextBox] = []
    for box in boxes:
        inside = [x for x in rules if box.x0 + box.height / 2 < x < box.x1 - box.height / 2]
        if not inside or len(box.text) < 2:
            result.append(box)
            continue
        widths = [_width(ch) for ch in box.text]
        scale = (box.x1 - box.x0) / sum(widths)
        start, x = 0, box.x0
        for cut in [*inside, box.x1]:
            end, reach = start, x
            while end < len(box.text) and reach + widths[end] * scale / 2 < cut:
                reach += widths[end] * scale
                end += 1
            if end < len(box.text):
                moved = _natural_cut(box.text, end, start)
                if moved is None:
                    continue  # no place to part: the box only runs over the rule a little
                shift = sum(widths[min(end, moved) : max(end, moved)]) * scale
                reach += shift if moved > end else -shift
                end = moved
            piece = box.text[start:end].strip()
            if piece:
                result.append(TextBox(piece, x, box.y0, reach, box.y1, box.score))
            start, x = end, reach
    return result


def group_lines(boxes: Sequence[TextBox]) -> list[Line]:
    """Boxes into lines by vertical centre, top to bottom, each left to right."""
    if not boxes:
        return []
    tolerance = 0.5 * median(box.height for box in boxes)
    lines: list[Line] = []
    for box in sorted(boxes, key=lambda b: b.yc):
        if lines and abs(box.yc - lines[-1].yc) <= tolerance:
            lines[-1].boxes.append(box)
        else:
            lines.append(Line([box]))
    for line in lines:
        line.boxes.sort(key=lambda b: b.x0)
    return lines


def join_text(parts: Sequence[str]) -> str:
    """Pieces of one cell on one line: CJK runs joined directly, Latin words with a space."""
    result = ""
    for part in parts:
        if result and re.search(r"[A-Za-z0-9]$", result) and re.match(r"[A-Za-z0-9]", part):
            result += " "
        result += part
    return result


def line_text(line: Line) -> str:
    """A line as text, boxes apart by two spaces (the text-table reader's column gap)."""
    return "  ".join(box.text for box in line.boxes)


@dataclass(frozen=True)
class _Header:
    index: int  # first line of the header
    end: int  # line after the header
    labels: list[tuple[float, float, str]]  # x0, x1, text per column, left to right


def _merge_wrapped(first: Line, second: Line) -> list[tuple[float, float, str]] | None:
    """Header labels over two lines: each box below continues the label it sits under; None
    when a box below sits under no label (the second line is not the header's)."""
    labels = [(b.x0, b.x1, b.text) for b in first.boxes]
    for box in second.boxes:
        for i, (x0, x1, text) in enumerate(labels):
            if min(x1, box.x1) - max(x0, box.x0) > 0:
                labels[i] = (min(x0, box.x0), max(x1, box.x1), text + box.text)
                break
        else:
            return None
    return labels


def _labels(texts: list[str]) -> list[str]:
    """Header labels as the header rules read them (a traditional-script picture's too)."""
    return [to_simplified(text) for text in texts]


def find_header(lines: list[Line], row_rules: Sequence[float] = ()) -> _Header | None:
    """The line that reads like a table's header, joined with the line under it when that
    line continues its labels (close below, every box under a label, more columns). Of two
    header lines one above the other (a grouped "应用信息" over 名称 | 开发者 | 版本), the
    lower one's labels where it has them."""
    first = _first_header(lines, row_rules, 0)
    if first is None:
        return None
    second = _first_header(lines, row_rules, first.end, limit=first.end + 1)
    if second is None or len(_header_columns(second)) < len(_header_columns(first)):
        return first
    # the lower line's labels, and the upper line's over no lower one (序号, 所涉问题 merged
    # down over both lines)
    kept = [
        upper
        for upper in first.labels
        if not any(min(upper[1], low[1]) > max(upper[0], low[0]) for low in second.labels)
    ]
    return _Header(first.index, second.end, sorted([*second.labels, *kept]))


def _header_columns(header: _Header) -> dict[str, int]:
    return header_columns(_labels([text for _x0, _x1, text in header.labels]))


def _first_header(
    lines: list[Line], row_rules: Sequence[float], start: int, limit: int = 12
) -> _Header | None:
    for index in range(start, min(limit, len(lines))):
        line = lines[index]
        single = [(b.x0, b.x1, b.text) for b in line.boxes]
        single_columns = header_columns(_labels([text for _x0, _x1, text in single]))
        if len(single_columns) >= 2 and index + 1 < len(lines):
            below = lines[index + 1]
            close = below.y0 - line.y1 < 0.35 * median(box.height for box in line.boxes)
            close = close and not any(line.yc < y < below.yc for y in row_rules)
            merged = _merge_wrapped(line, below) if close else None
            if merged is not None:
                texts = _labels([text for _x0, _x1, text in merged])
                if is_header(texts) and len(header_columns(texts)) >= len(single_columns):
                    return _Header(index, index + 2, merged)
        if is_header(_labels([text for _x0, _x1, text in single])):
            return _Header(index, index + 1, single)
    return None


def _boundaries(
    labels: list[tuple[float, float, str]], boxes: list[TextBox], rules: Sequence[float]
) -> list[float]:
    """x of the boundary between each pair of neighbouring columns."""
    cuts: list[float] = []
    for (a0, a1, _a), (b0, b1, _b) in itertools.pairwise(labels):
        left, right = (a0 + a1) / 2, (b0 + b1) / 2
        between = [x for x in rules if left < x < right]
        if between:
            cuts.append(min(between, key=lambda x: abs(x - (a1 + b0) / 2)))
            continue
        best: tuple[int, float, float] | None = None
        gap_middle = (a1 + b0) / 2
        steps = max(1, int(right - left) // 2)
        for k in range(steps + 1):
            x = left + (right - left) * k / steps
            crossing = sum(1 for box in boxes if box.x0 < x < box.x1)
            candidate = (crossing, abs(x - gap_middle), x)
            if best is None or candidate < best:
                best = candidate
        cuts.append(best[2] if best else gap_middle)
    return cuts


def _column_of(box: TextBox, cuts: list[float]) -> int:
    """The column a box overlaps most."""
    edges = [-float("inf"), *cuts, float("inf")]
    overlaps = [min(box.x1, edges[i + 1]) - max(box.x0, edges[i]) for i in range(len(edges) - 1)]
    return max(range(len(overlaps)), key=lambda i: overlaps[i])


def _rows(
    lines: list[Line],
    placed: list[dict[int, list[TextBox]]],
    anchors: list[int],
    rules: Sequence[float],
) -> list[list[int]]:
    """Which lines make up each row (indices into ``lines``)."""
    if len(rules) >= 2:
        bands: dict[int, list[int]] = {}
        for i, line in enumerate(lines):
            band = sum(1 for y in rules if y < line.yc)
            bands.setdefault(band, []).append(i)
        return [bands[key] for key in sorted(bands)]
    if anchors:
        starts = [i for i, cells in enumerate(placed) if any(a in cells for a in anchors)]
    else:  # no header: a line with text in two columns or more starts a row
        starts = [i for i, cells in enumerate(placed) if len(cells) >= 2]
    if not starts:
        return [[i] for i in range(len(lines))]
    rows: dict[int, list[int]] = {start: [] for start in starts}
    for i, line in enumerate(lines):
        if i in rows:
            rows[i].append(i)
            continue
        nearest = min(starts, key=lambda s: (abs(lines[s].yc - line.yc), s > i))
        rows[nearest].append(i)
    return [sorted(rows[start]) for start in starts]


def _right_edges(placed: list[dict[int, list[TextBox]]], width: int) -> list[float]:
    """How far right the text of each column reaches (where its long lines wrap)."""
    edges = [0.0] * width
    for cells in placed:
        for column, boxes in cells.items():
            edges[column] = max(edges[column], *(box.x1 for box in boxes))
    return edges


@dataclass
class OcrTable:
    grid: Grid
    before: list[str]
    """Lines above the table (a title, "附件：…名单")."""
    after: list[str]
    header: Carried | None = None
    """Its header, for a next picture that goes on with the list."""
    headerless: bool = False
    """No header row: the grid's columns are to be told apart by what their cells look like
    (``tables.table_entities(grid, headerless=True)``)."""


@dataclass(frozen=True)
class Carried:
    """A table's header, for the next picture of a list split over several (which does not
    repeat it): its labels' x extents as fractions of the picture's width."""

    labels: tuple[tuple[float, float, str], ...]


def _carried_header(lines: list[Line], carried: Carried, width: float) -> _Header | None:
    """The carried header placed on this picture, when its lines line up in its columns:
    most lines have boxes in two or more of them, one of them the name column."""
    labels = [(x0 * width, x1 * width, text) for x0, x1, text in carried.labels]
    columns = header_columns(_labels([text for _x0, _x1, text in labels]))
    if "name" not in columns or not lines:
        return None
    cuts = [(a1 + b0) / 2 for (_a0, a1, _a), (b0, _b1, _b) in itertools.pairwise(labels)]
    aligned = 0
    for line in lines:
        used = {_column_of(box, cuts) for box in line.boxes}
        aligned += len(used) >= 2 and columns["name"] in used
    if aligned * 3 < len(lines) * 2:
        return None
    return _Header(0, 0, labels)


RuleSpans = Callable[[float, float, float], bool]
"""Does the horizontal rule at y run across x0..x1 (a cell's width)?"""


def _with_merges(
    entries: list[tuple[str, int | None, list[str]]],
    rules: Sequence[float],
    edges: list[float],
    rule_spans: RuleSpans | None,
) -> list[tuple[str, list[tuple[str, int | None]]]]:
    """Rows as (kind, [(text, owner)...]): a cell that the rule above it does not cross (a
    merged cell over several rows: one app in two stores, one developer for two apps) has as
    owner the row whose cell it continues, and its text joins that cell's."""
    out: list[tuple[str, list[tuple[str, int | None]]]] = []
    previous: int | None = None  # band of the row before
    owners: list[int] = []  # per column: the row that owns the cell above
    for kind, band, texts in entries:
        cells: list[tuple[str, int | None]] = [(text, None) for text in texts]
        if kind == "section":
            out.append((kind, cells))
            previous, owners = None, []
            continue
        here = len(out)
        between = (
            [rules[b] for b in range(previous, band) if b < len(rules)]
            if rule_spans is not None and band is not None and previous is not None
            else []
        )
        for column in range(len(texts)):
            x0, x1 = edges[column], edges[column + 1]
            crossed = rule_spans is not None and any(rule_spans(y, x0, x1) for y in between)
            if between and owners and not crossed:
                owner = owners[column]
                text, _ = out[owner][1][column]
                joined = "\n".join(t for t in (text, texts[column]) if t)
                out[owner][1][column] = (joined, None)
                cells[column] = ("", owner)
        owners = [
            owner if cell[1] is not None else here
            for cell, owner in zip(cells, owners or [here] * len(cells), strict=True)
        ]
        out.append((kind, cells))
        previous = band
    return out


def _columns_of_lines(lines: list[Line]) -> _Header | None:
    """Columns of a table without a header: the line with the most boxes gives them, when
    most lines have two boxes or more (lines of prose have one)."""
    several = [line for line in lines if len(line.boxes) >= 2]
    if len(several) < 2 or len(several) * 3 < len(lines) * 2:
        return None
    template = max(several, key=lambda line: len(line.boxes))
    return _Header(0, 0, [(box.x0, box.x1, "") for box in template.boxes])


def table_from_boxes(
    boxes: Sequence[TextBox],
    *,
    row_rules: Sequence[float] = (),
    column_rules: Sequence[float] = (),
    carried: Carried | None = None,
    width: float | None = None,
    rule_spans: RuleSpans | None = None,
) -> OcrTable | None:
    """The table the boxes show (header row first), or None when no line reads like a header.

    ``row_rules`` and ``column_rules`` are the y and x of the picture's ruling lines, if any.
    ``carried`` is the header of the picture before (a list split over pictures), used when
    this one has none of its own; ``width`` is this picture's width. ``rule_spans`` tells
    whether a row rule crosses a cell (a cell it does not cross is merged with the one above).
    """
    if len(row_rules) >= 2:  # cut only inside the ruled frame, not the title or notes
        top, bottom = min(row_rules), max(row_rules)
        inside = [box for box in boxes if top < box.yc < bottom]
        outside = [box for box in boxes if not top < box.yc < bottom]
        boxes = [*split_at_rules(inside, column_rules), *outside]
    picture_width = width
    lines = group_lines(boxes)
    header = find_header(lines, row_rules)
    if header is None and carried is not None and picture_width:
        header = _carried_header(lines, carried, picture_width)
    headerless = header is None
    if header is None:
        header = _columns_of_lines(lines)
    if header is None:
        return None
    labels = header.labels
    body = lines[header.end :]
    top = lines[header.end - 1].y1 if header.end else -float("inf")
    rules = sorted(y for y in row_rules if y >= top - 2)
    after: list[str] = []
    if len(rules) >= 2:  # lines under the table's last rule are notes, not rows
        after = [line_text(line) for line in body if line.yc > rules[-1]]
        body = [line for line in body if line.yc <= rules[-1]]
    body_boxes = [box for line in body for box in line.boxes]
    cuts = _boundaries(labels, body_boxes, column_rules)
    columns = header_columns(_labels([text for _x0, _x1, text in labels]))
    placed: list[dict[int, list[TextBox]]] = []
    for line in body:
        cells: dict[int, list[TextBox]] = {}
        for box in line.boxes:
            cells.setdefault(_column_of(box, cuts), []).append(box)
        placed.append(cells)
    anchors = [columns["seq"]] if "seq" in columns else []
    if not anchors or sum(1 for cells in placed if columns["seq"] in cells) * 2 < len(placed):
        anchors = [columns["name"]] if "name" in columns else []
    width = len(labels)
    grid: Grid = [[Cell(text, origin) for origin, (_x0, _x1, text) in enumerate(labels)]]
    if headerless:
        grid = []
    origin = width
    notes: list[str] = []
    rights = _right_edges(placed, width)
    wrap = 1.2 * median(box.height for box in body_boxes) if body_boxes else 0.0
    entries: list[tuple[str, int | None, list[str]]] = []  # (kind, band between rules, texts)
    for row_lines in _rows(body, placed, anchors, rules):
        texts: list[str] = []
        for column in range(width):
            text = ""
            previous_end = 0.0
            for i in row_lines:
                pieces = placed[i].get(column, [])
                if not pieces:
                    continue
                piece = join_text([box.text for box in pieces])
                if text:  # a line that reached the column's edge wraps on: no line break
                    wrapped = previous_end >= rights[column] - wrap and not _ITEM.match(piece)
                    text += "" if wrapped else "\n"
                text += piece
                previous_end = max(box.x1 for box in pieces)
            texts.append(clean_cell(text))
        spread = [box for i in row_lines for box in body[i].boxes]
        if len(spread) == 1 and any(spread[0].x0 < cut < spread[0].x1 for cut in cuts):
            # one text across columns: a section row ("一、短视频类") or a note
            entries.append(("section", None, [clean_cell(spread[0].text)] * width))
            continue
        named = "name" in columns and bool(texts[columns["name"]])
        alone = sum(1 for t in texts if t) == 1 and not named and len(row_lines) == 1
        if alone and len(rules) < 2:  # (between rules it is a row: cells merged above)
            notes.append(line_text(body[row_lines[0]]))  # a note under the table
            continue
        band = sum(1 for y in rules if y < body[row_lines[0]].yc) if len(rules) >= 2 else None
        entries.append(("row", band, texts))
    edges = [min(box.x0 for box in boxes) - 1, *cuts, max(box.x1 for box in boxes) + 1]
    rows_out = _with_merges(entries, rules, edges, rule_spans)
    start = len(grid)
    for kind, out_cells in rows_out:
        if kind == "section":
            origin += 1
            grid.append([Cell(out_cells[0][0], origin) for _column in range(width)])
            continue
        row: list[Cell | None] = []
        for column, (cell_text, owner_row) in enumerate(out_cells):
            if owner_row is None:
                origin += 1
                row.append(Cell(clean_cell(cell_text), origin))
            else:
                above = grid[start + owner_row][column]
                assert above is not None
                row.append(Cell(above.text, above.origin, spanned=True))
        grid.append(row)
    before = [line_text(line) for line in lines[: header.index]]
    extent = picture_width or max((box.x1 for box in boxes), default=0.0)
    header_out = Carried(tuple((x0 / extent, x1 / extent, t) for x0, x1, t in labels))
    if headerless:
        return OcrTable(grid, before, notes + after, None, headerless=True)
    return OcrTable(grid, before, notes + after, header_out if extent else None)


def text_from_boxes(boxes: Sequence[TextBox]) -> str:
    """The boxes as lines of text (for a picture that lists names without a table)."""
    return "\n".join(line_text(line) for line in group_lines(boxes))
