"""Apps listed in HTML tables (MIIT and provincial 通信管理局 pages), and HTML to plain text.

Ruby annotations (``<rt>``, ``<rp>``) are dropped when the page is parsed, and every line and
cell goes through ``textutil.clean_line`` (reprint noise out); a site's navigation line is not
page text.

rowspan/colspan are expanded into a grid in which every cell remembers the ``<td>`` it came
from; ``tables.table_entities`` reads the apps out of it (header mapping, one entity per merged
app, no forward-filling of blank cells).
"""

from __future__ import annotations

import re

from bs4 import BeautifulSoup, NavigableString, Tag

from shared.events import Entity

from .lazy_re import lazy
from .markup import soup_of
from .merge import merge_entities
from .noise import is_noise_line
from .tables import Cell, Grid, is_header, table_entities
from .textutil import clean_line

_BLOCK_TAGS = frozenset(
    {
        "p",
        "div",
        "br",
        "li",
        "ul",
        "ol",
        "tr",
        "table",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "section",
        "article",
        "header",
        "footer",
        "title",
        "blockquote",
        "pre",
        "dd",
        "dt",
        "hr",
    }
)
_CELL_BREAKS = _BLOCK_TAGS | {"td", "th"}
_CELL_OPEN, _CELL_CLOSE = "\ue000", "\ue001"  # around each table cell while the text is built
_DROP_TAGS = ("script", "style", "noscript", "template", "iframe", "svg")
# Ruby annotations (<ruby>應<rt>yīng</rt></ruby>): the reading a reprint site adds, not text.
_ANNOTATION_TAGS = ("rt", "rp", "rtc")


_INLINE_TAGS = ["span", "font", "i", "em", "b", "strong", "small", "u", "s", "sub", "sup", "label"]
_HIDDEN = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden|font-size\s*:\s*0(?![.\d])", re.I)


def parse_html(html: str, *, name: str | None = None) -> BeautifulSoup:
    """The page without scripts and styles, ruby readings, and the hidden characters some
    reprint sites scatter through a text (``<span style="display:none">``). Raises
    ``markup.TooDeep`` (an InputError naming ``name``) for a page nested too deep to read."""
    soup = soup_of(html, name=name)
    for tag in soup([*_DROP_TAGS, *_ANNOTATION_TAGS]):
        tag.decompose()
    for tag in soup.find_all(_INLINE_TAGS, style=_HIDDEN):
        if isinstance(tag, Tag):
            tag.decompose()  # inline only: a hidden block may be a tab the page shows later
    return soup


def cell_lines(tag: Tag) -> list[str]:
    """The visible lines of an element, split at <br> and block elements."""
    parts: list[str] = []
    for node in tag.descendants:
        if isinstance(node, NavigableString):
            if type(node) is NavigableString:  # not comments, CDATA, doctype
                parts.append(str(node))
        elif isinstance(node, Tag) and node.name in _CELL_BREAKS:
            parts.append("\n")
    lines = (clean_line(x) for x in "".join(parts).split("\n"))
    return [line for line in lines if line and not is_noise_line(line)]


_ROW_CELLS = frozenset({"span", "div", "p", "a", "font", "em", "strong", "b", "i", "label", "dd"})


def _cell_row(node: Tag) -> list[Tag] | None:
    """The cells of a table drawn without ``<table>`` (``<div class=tr><span>1</span><span>
    应用名称</span>…``): a block holding at least three leaf elements side by side and no loose
    text of its own. None for anything else."""
    if node.name not in _BLOCK_TAGS or node.name in ("td", "th", "tr", "table"):
        return None
    children: list[Tag] = []
    for child in node.children:
        if isinstance(child, NavigableString):
            if type(child) is NavigableString and str(child).strip():
                return None
            continue
        if not isinstance(child, Tag) or child.name not in _ROW_CELLS:
            return None
        if (
            child.find(list(_BLOCK_TAGS - {"br"})) is not None
            or len(child.find_all(True, limit=3)) > 2
        ):
            return None  # a cell holds text (perhaps in a link or <b>), not cells of its own
        children.append(child)
    return children if len(children) >= 3 else None


def _div_table_rows(node: Tag) -> set[int]:
    """The rows of a table drawn without ``<table>`` among ``node``'s children: at least two
    blocks side by side that each hold the same number (3+) of leaf cells, the first of them
    reading like an app table's header. Word-exported paragraphs made of ``<span>`` runs are
    not rows: none of them reads like a header."""
    rows = [c for c in node.children if isinstance(c, Tag) and _cell_row(c)]
    if len(rows) < 2:
        return set()
    first = _cell_row(rows[0]) or []
    if not is_header([cell.get_text(" ", strip=True) for cell in first]):
        return set()
    width = len(first)
    return {id(row) for row in rows if len(_cell_row(row) or []) in (width - 1, width)}


def html_to_text(soup: BeautifulSoup) -> str:
    """Page text, one line per block element, table cells separated by tabs."""
    parts: list[str] = []
    div_rows: set[int] = set()

    def walk(node: Tag) -> None:
        row = id(node) in div_rows and _cell_row(node)
        cells_of = set(map(id, row)) if row else None
        div_rows.update(_div_table_rows(node))
        items = 0  # <li> of an <ol> so far
        for child in node.children:
            if cells_of is not None and isinstance(child, Tag) and id(child) in cells_of:
                parts.append(_CELL_OPEN)
                walk(child)
                parts.append(_CELL_CLOSE)
                continue
            if isinstance(child, NavigableString):
                if type(child) is NavigableString:
                    parts.append(re.sub(r"[\r\n]+", " ", str(child)))
            elif isinstance(child, Tag):
                if child.name in ("td", "th"):
                    parts.append(_CELL_OPEN)
                    walk(child)
                    parts.append(_CELL_CLOSE)
                    continue
                block = child.name in _BLOCK_TAGS
                if block:
                    parts.append("\n")
                if child.name == "li" and node.name == "ol":  # numbered, as the page shows it
                    items += 1
                    parts.append(f"{items}. ")
                walk(child)
                if block:
                    parts.append("\n")

    walk(soup)
    lines = []
    for line in "".join(parts).split("\n"):
        # cells side by side are one tab apart; a blank cell stays (its column counts)
        line = re.sub(f"{_CELL_CLOSE}\\s*{_CELL_OPEN}", "\t", line)
        line = re.sub(f"^\\s*{_CELL_OPEN}|{_CELL_CLOSE}\\s*$", "", line)
        line = line.replace(_CELL_OPEN, "\t").replace(_CELL_CLOSE, "\t")
        cells = [clean_line(cell) for cell in line.split("\t")]
        while cells and not cells[-1]:
            cells.pop()
        joined = "\t".join(cells)
        if joined.strip("\t") and not is_noise_line(joined.strip("\t")):
            lines.append(joined)
    return "\n".join(lines)


_TITLE_CLASS = re.compile(r"title|tit\b|bt\b", re.I)
_TITLE_WORDS = lazy(r"通报|通知|公告|名单|App|APP|apps?\b|SDK", re.I)


def html_title(soup: BeautifulSoup) -> str | None:
    """The notice's title: a heading or title-classed element, else <title> minus the site name."""

    def titled(candidate: str) -> bool:
        return 4 <= len(candidate) <= 120 and _TITLE_WORDS.search(candidate) is not None

    candidates = [" ".join(cell_lines(tag)) for tag in soup.find_all(["h1", "h2", "h3"])]
    for candidate in candidates:
        if titled(candidate):
            return candidate
    for tag in soup.find_all(class_=_TITLE_CLASS):
        if isinstance(tag, Tag) and tag.name not in ("html", "body", "head"):
            candidates.append(" ".join(cell_lines(tag)))
            if titled(candidates[-1]):
                return candidates[-1]
    if soup.title and soup.title.string:
        title = clean_line(str(soup.title.string))
        # "关于...的通报_工业和信息化部" / "... - 广东省通信管理局"
        title = re.split(r"\s*(?:_|\||-{1,2}|—)\s*(?=[^_|\-—]*$)", title)[0] if title else title
        if title:
            return title
    for candidate in candidates:
        if 4 <= len(candidate) <= 120:
            return candidate
    return None


def _children(tag: Tag, names: tuple[str, ...]) -> list[Tag]:
    return [child for child in tag.children if isinstance(child, Tag) and child.name in names]


def _rows(table: Tag) -> list[Tag]:
    """The table's own rows (not those of tables nested in its cells)."""
    rows: list[Tag] = []
    for child in _children(table, ("tr", "thead", "tbody", "tfoot")):
        rows.extend([child] if child.name == "tr" else _children(child, ("tr",)))
    return rows


def _span(tag: Tag, attribute: str) -> int:
    raw = tag.get(attribute)
    value = raw[0] if isinstance(raw, list) else raw
    try:
        return max(1, min(int(str(value).strip() or "1"), 500))
    except (TypeError, ValueError):
        return 1


def table_grid(table: Tag) -> Grid:
    """The table as a rectangular grid with rowspan and colspan expanded."""
    grid: dict[tuple[int, int], Cell] = {}
    width = 0
    origin = 0
    rows = _rows(table)
    for r, tr in enumerate(rows):
        c = 0
        for td in _children(tr, ("td", "th")):
            while (r, c) in grid:
                c += 1
            rowspan, colspan = _span(td, "rowspan"), _span(td, "colspan")
            text = "\n".join(cell_lines(td))
            origin += 1
            for dr in range(rowspan):
                for dc in range(colspan):
                    grid[(r + dr, c + dc)] = Cell(text, origin, spanned=dr > 0)
            c += colspan
            width = max(width, c)
    height = len(rows)
    return [[grid.get((r, c)) for c in range(width)] for r in range(height)]


def extract_entities_html(soup: BeautifulSoup) -> list[Entity]:
    """Entities from every table whose header names an app/software column, or whose columns
    read as names and companies, stores, versions or issues without a header."""
    entities: list[Entity] = []
    for table in soup.find_all("table"):
        if isinstance(table, Tag):
            entities.extend(table_entities(table_grid(table), headerless=True))
    return merge_entities(entities)
