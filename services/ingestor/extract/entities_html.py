"""Apps listed in HTML tables (MIIT and provincial 通信管理局 pages), and HTML to plain text.

Columns are mapped by header text, not position (序号 | 应用名称/软件名称 | 应用开发者/企业名称/
公司名称/开发运营者 | 应用来源 | 应用版本/版本号 | 所涉问题/问题项 ...).

rowspan/colspan are expanded into a grid in which every cell remembers the ``<td>`` it came from.
Rows whose name cell is the *same* ``<td>`` (a rowspan) are one app listed once per store or
version: they become ONE entity whose stores and versions are joined with "/" (each distinct
value once, in table order) and whose issues are the union. A blank cell is never filled from
the row above unless it is that row's rowspan: an app with a blank developer keeps
``developer=None``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bs4 import BeautifulSoup, NavigableString, Tag

from shared.events import Entity

from .merge import entity_kind, merge_entities, merge_into
from .textutil import clean_line, fold_width

Column = str  # "seq", "name", "developer", "store", "version", "issues", "ignore"

# Checked in order: "应用开发者" is a developer column although it says 应用; "企业名称" is not
# the app's name although it says 名称.
_HEADER_RULES: list[tuple[Column, re.Pattern[str]]] = [
    ("seq", re.compile(r"^(?:序号|编号|No\.?|#)$", re.I)),
    ("ignore", re.compile(r"数量|备案|ICP|日期|时间|备注|链接|下载量|类别|类型|分类")),
    (
        "developer",
        re.compile(
            r"开发者|企业|公司|运营者|运营方|运营主体|主体|开发商|单位|developer|company", re.I
        ),
    ),
    ("name", re.compile(r"^(?:应用|软件|APP|SDK|小程序|产品)?(?:名称|name)", re.I)),
    ("issues", re.compile(r"问题|违规|情形|行为|issue|problem", re.I)),
    ("store", re.compile(r"来源|商店|市场|渠道|平台|store|source", re.I)),
    ("version", re.compile(r"版本|version", re.I)),
    ("name", re.compile(r"名称|应用|软件|APP|SDK|小程序|产品|name", re.I)),
]
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
_DROP_TAGS = ("script", "style", "noscript", "template", "iframe", "svg")


@dataclass(frozen=True)
class _Cell:
    text: str
    origin: int  # id of the <td> this grid cell comes from
    spanned: bool  # True when it is the continuation of a rowspan from a row above


def parse_html(html: str) -> BeautifulSoup:
    soup = BeautifulSoup(html, "lxml")
    for tag in soup(list(_DROP_TAGS)):
        tag.decompose()
    return soup


def cell_lines(tag: Tag) -> list[str]:
    """The visible lines of an element, split at <br> and block elements."""
    parts: list[str] = []
    for node in tag.descendants:
        if isinstance(node, NavigableString):
            if type(node) is NavigableString:  # not comments, CDATA, doctype
                parts.append(str(node))
        elif isinstance(node, Tag) and node.name in _BLOCK_TAGS | {"td", "th"}:
            parts.append("\n")
    return [line for line in (clean_line(x) for x in "".join(parts).split("\n")) if line]


def html_to_text(soup: BeautifulSoup) -> str:
    """Page text, one line per block element, table cells separated by tabs."""
    parts: list[str] = []

    def walk(node: Tag) -> None:
        for child in node.children:
            if isinstance(child, NavigableString):
                if type(child) is NavigableString:
                    parts.append(re.sub(r"[\r\n]+", " ", str(child)))
            elif isinstance(child, Tag):
                if child.name in ("td", "th"):
                    parts.append("\t")
                    walk(child)
                    parts.append("\t")
                    continue
                block = child.name in _BLOCK_TAGS
                if block:
                    parts.append("\n")
                walk(child)
                if block:
                    parts.append("\n")

    walk(soup)
    lines = []
    for line in "".join(parts).split("\n"):
        cells = [clean_line(cell) for cell in line.split("\t")]
        joined = "\t".join(cell for cell in cells if cell)
        if joined:
            lines.append(joined)
    return "\n".join(lines)


_TITLE_WORDS = re.compile(r"通报|通知|公告|名单|App|APP|apps?\b|SDK", re.I)


def html_title(soup: BeautifulSoup) -> str | None:
    """The notice's title: a heading or title-classed element, else <title> minus the site name."""
    candidates: list[str] = []
    for tag in soup.find_all(["h1", "h2", "h3"]):
        candidates.append(" ".join(cell_lines(tag)))
    for tag in soup.find_all(class_=re.compile(r"title|tit\b|bt\b", re.I)):
        if isinstance(tag, Tag) and tag.name not in ("html", "body", "head"):
            candidates.append(" ".join(cell_lines(tag)))
    for candidate in candidates:
        if 4 <= len(candidate) <= 120 and _TITLE_WORDS.search(candidate):
            return candidate
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


def _rows(table: Tag) -> list[Tag]:
    return [tr for tr in table.find_all("tr") if tr.find_parent("table") is table]


def _span(tag: Tag, attribute: str) -> int:
    raw = tag.get(attribute)
    value = raw[0] if isinstance(raw, list) else raw
    try:
        return max(1, min(int(str(value).strip() or "1"), 500))
    except (TypeError, ValueError):
        return 1


def table_grid(table: Tag) -> list[list[_Cell | None]]:
    """The table as a rectangular grid with rowspan and colspan expanded."""
    grid: dict[tuple[int, int], _Cell] = {}
    width = 0
    origin = 0
    rows = _rows(table)
    for r, tr in enumerate(rows):
        c = 0
        for td in tr.find_all(["td", "th"], recursive=False):
            while (r, c) in grid:
                c += 1
            rowspan, colspan = _span(td, "rowspan"), _span(td, "colspan")
            text = "\n".join(cell_lines(td))
            origin += 1
            for dr in range(rowspan):
                for dc in range(colspan):
                    grid[(r + dr, c + dc)] = _Cell(text, origin, spanned=dr > 0)
            c += colspan
            width = max(width, c)
    height = len(rows)
    return [[grid.get((r, c)) for c in range(width)] for r in range(height)]


def _header_columns(row: list[_Cell | None]) -> dict[Column, int]:
    columns: dict[Column, int] = {}
    for index, cell in enumerate(row):
        if cell is None:
            continue
        label = re.sub(r"\s+", "", fold_width(cell.text))
        if not label or len(label) > 20:
            continue
        for column, pattern in _HEADER_RULES:
            if pattern.search(label):
                if column not in columns:
                    columns[column] = index
                break
    return columns


def _find_header(grid: list[list[_Cell | None]]) -> tuple[int, dict[Column, int]] | None:
    for r, row in enumerate(grid[:6]):
        columns = _header_columns(row)
        if "name" in columns and len(set(columns) - {"ignore"}) >= 2:
            return r, columns
    return None


def _text(row: list[_Cell | None], index: int | None) -> str:
    if index is None or index >= len(row) or row[index] is None:
        return ""
    cell = row[index]
    assert cell is not None
    return cell.text


def _one_line(text: str) -> str:
    """Cell lines joined: CJK runs without a space, Latin words with one."""
    result = ""
    for line in text.split("\n"):
        if result and re.search(r"[A-Za-z0-9.,]$", result) and re.match(r"[A-Za-z0-9]", line):
            result += " "
        result += line
    return result.strip()


_PLACEHOLDER = re.compile(r"^(?:[-—–/\\]+|无|暂无|N/?A|null|none)$", re.I)


def _value(text: str) -> str | None:
    """A cell's value; None for empty cells and placeholders such as "—" or "无"."""
    text = text.strip()
    if not text or _PLACEHOLDER.match(text):
        return None
    return text


def _issues(text: str) -> list[str]:
    issues: list[str] = []
    for part in re.split(r"[\n；;]", text):
        part = re.sub(r"^\s*(?:\d{1,2}\s*[.、．)）]|[（(]\d{1,2}[)）])\s*", "", part).strip()
        part = part.strip("。，, ")
        if part and part not in issues:
            issues.append(part)
    return issues


def _table_entities(table: Tag) -> list[Entity]:
    grid = table_grid(table)
    header = _find_header(grid)
    if header is None:
        return []
    header_row, columns = header
    entities: list[Entity] = []
    by_origin: dict[int, Entity] = {}
    header_labels = {_text(grid[header_row], i) for i in columns.values()}
    for row in grid[header_row + 1 :]:
        name_cell = row[columns["name"]] if columns["name"] < len(row) else None
        name = _one_line(name_cell.text) if name_cell else ""
        developer = _value(_one_line(_text(row, columns.get("developer"))))
        store = _value("/".join(_text(row, columns.get("store")).split("\n")))
        version = _value(_one_line(_text(row, columns.get("version"))))
        issues = _issues(_text(row, columns.get("issues")))
        if name in header_labels:
            continue  # a repeated header row
        if name_cell is not None and name_cell.spanned and name_cell.origin in by_origin:
            first = by_origin[name_cell.origin]
            developer_cell = row[columns["developer"]] if "developer" in columns else None
            same_developer = (
                developer is None
                or developer == first.developer
                or (developer_cell is not None and developer_cell.spanned)
            )
            if same_developer:
                merge_into(
                    first, Entity(name=first.name, store=store, version=version, issues=issues)
                )
                continue
        if not name:
            if developer and not any(cell and cell.spanned for cell in row):
                name, developer = developer, None  # a company listed on its own
            else:
                continue
        if re.fullmatch(r"[\d\s]+", name) or _value(name) is None:
            continue
        name = re.sub(r"^《(.+)》$", r"\1", name).strip()
        entity = Entity(
            kind=entity_kind(name, developer=developer),
            name=name,
            developer=developer,
            store=store,
            version=version,
            issues=issues,
        )
        entities.append(entity)
        if name_cell is not None:
            by_origin[name_cell.origin] = entity
    return entities


def extract_entities_html(soup: BeautifulSoup) -> list[Entity]:
    """Entities from every table whose header names an app/software column."""
    entities: list[Entity] = []
    for table in soup.find_all("table"):
        if isinstance(table, Tag):
            entities.extend(_table_entities(table))
    return merge_entities(entities)
