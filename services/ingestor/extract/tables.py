r"""Tables of apps, whatever they came from: HTML, a .docx attachment, tab/pipe/CSV text.

A table is a grid of cells in which every cell remembers the cell it came from (``origin``) and
whether it continues a vertical merge from the row above (``spanned``). Columns are mapped by
header text, not position (序号 | 应用名称/软件名称/SDK名称 | 应用开发者/企业名称/开发运营者 |
应用来源 | 应用版本/版本号 | 所涉问题/问题项 ...); with two header rows (a grouped
"应用信息" over 名称/开发者/版本) the row that maps most columns wins.

Rows of one app:

- rows whose name cell is the *same* merged cell (rowspan, vMerge) are one app listed once per
  store or version: ONE entity, stores and versions joined with "/" (each distinct value once, in
  table order), issues unioned;
- a row with neither sequence number nor name (a merged cell exported as blanks) continues the
  app above it, unless it names a different developer;
- a blank developer cell is never filled from the row above unless it is that row's merged cell:
  an app with a blank developer keeps ``developer=None``;
- a row with fewer cells than the header (a merged cell the copy or the page lost, so the
  cells after it shifted left) is re-aligned by what each cell looks like (``cells.align``);
  when the cell it lost is the developer's, the row is under the developer cell of the row
  above (a merge over several apps) and takes that developer.

Placeholder cells (``\``, ``/``, ``—``, ``-``, ``--``, ``无``) are empty. Every entity read from a
table says so (``source="table"``).

A table without a header row is read when the look of its columns tells them apart
(``infer_header``: names, and companies, stores, versions or issues).

The name column's header gives the kind when it says so (SDK名称 -> sdk, 小程序名称 ->
mini_program); so does a full-width section row inside the table ("二、SDK").
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from shared.events import Entity, EntityKind

from .cells import align, is_placeholder, look
from .lazy_re import lazy
from .merge import entity_kind, merge_into
from .textutil import fold_width

Column = str  # "seq", "name", "developer", "store", "version", "issues", "ignore"

# Checked in order: "应用开发者" is a developer column although it says 应用; "企业名称" is not
# the app's name although it says 名称.
HEADER_RULES: list[tuple[Column, re.Pattern[str]]] = [
    ("seq", re.compile(r"^(?:序号|编号|No\.?|#|序)$", re.I)),
    (
        "ignore",
        re.compile(r"数量|备案|ICP|日期|时间|备注|链接|下载量|类别|类型|分类|联系|地址|电话", re.I),
    ),
    (
        "developer",
        re.compile(
            r"开发者|企业|公司|运营者|运营方|运营主体|主体|开发商|单位|developer|company|operator",
            re.I,
        ),
    ),
    ("name", re.compile(r"^(?:应用|软件|APP|SDK|小程序|产品|移动应用)?(?:名称|name)", re.I)),
    ("issues", re.compile(r"问题|违规|情形|行为|issue|problem", re.I)),
    ("store", re.compile(r"来源|商店|市场|渠道|平台|store|source|platform", re.I)),
    ("version", re.compile(r"版本|version", re.I)),
    ("name", re.compile(r"名称|应用|软件|APP|SDK|小程序|产品|name", re.I)),
]


@dataclass(frozen=True)
class Cell:
    text: str
    origin: int  # id of the source cell (<td>, docx cell, text field) this grid cell comes from
    spanned: bool = False  # continuation of a vertical merge from a row above


Grid = list[list[Cell | None]]


@dataclass(frozen=True)
class Header:
    row: int
    columns: dict[Column, int]
    kind: EntityKind | None  # from the name column's label


def header_columns(labels: list[str]) -> dict[Column, int]:
    columns: dict[Column, int] = {}
    for index, raw in enumerate(labels):
        label = re.sub(r"\s+", "", fold_width(raw))
        # "App名称(运营者)": the column is what the label says outside its brackets
        label = re.sub(r"(?<=.)\([^()]*\)$", "", label) or label
        if not label or len(label) > 20:
            continue
        for column, pattern in HEADER_RULES:
            if pattern.search(label):
                if column not in columns:
                    columns[column] = index
                break
    return columns


def is_header(labels: list[str]) -> bool:
    """Do these cells read like the header row of an app table?"""
    columns = header_columns(labels)
    if "name" not in columns or len(set(columns) - {"ignore"}) < 2:
        return False
    filled = [label for label in labels if label.strip()]
    if any(look(label) in ("digits", "version", "company") for label in filled):
        return False  # a row of data: "1", "2.0.6", "…有限公司" are no column names
    return len(columns) * 2 >= len(filled)


def _kind_of_label(label: str) -> EntityKind | None:
    folded = fold_width(label).upper()
    if "SDK" in folded or "开发工具包" in folded:
        return "sdk"
    if "小程序" in folded:
        return "mini_program"
    return None


def find_header(grid: Grid) -> Header | None:
    """The header row among the first rows: the one mapping the most columns."""
    best: Header | None = None
    for r, row in enumerate(grid[:6]):
        labels = [cell.text if cell else "" for cell in row]
        if not is_header(labels):
            continue
        columns = header_columns(labels)
        if best is None or len(columns) > len(best.columns):
            best = Header(r, columns, _kind_of_label(labels[columns["name"]]))
    return best


def cell_text(row: list[Cell | None], index: int | None) -> str:
    if index is None or index >= len(row) or row[index] is None:
        return ""
    cell = row[index]
    assert cell is not None
    return cell.text


_CJK_GAP = lazy(r"(?<=[\u3400-\u9fff\uf900-\ufaff])[ \u3000]+(?=[\u3400-\u9fff\uf900-\ufaff])")


def one_line(text: str) -> str:
    """Cell lines joined: CJK runs without a space, Latin words with one; spaces that spread
    characters over a justified cell ("快　手") go."""
    result = ""
    for line in text.split("\n"):
        line = line.strip()
        if result and re.search(r"[A-Za-z0-9.,]$", result) and re.match(r"[A-Za-z0-9]", line):
            result += " "
        result += line
    return _CJK_GAP.sub("", result.strip())


def value(text: str) -> str | None:
    """A cell's value; None for empty cells and placeholders such as "—", "\\" or "无"."""
    text = text.strip()
    if not text or is_placeholder(text):
        return None
    return text


def issues_of(text: str) -> list[str]:
    """A problem cell's issues: one per line or "；"; commas split short labels only."""
    parts: list[str] = []
    for piece in re.split(r"[\n；;]", text):
        pieces = [p for p in re.split(r"[,，]", piece) if p.strip()]
        if len(pieces) > 1 and all(len(p.strip()) <= 24 for p in pieces):
            parts.extend(pieces)
        else:
            parts.append(piece)
    issues: list[str] = []
    for part in parts:
        part = re.sub(r"^\s*(?:\d{1,2}\s*[.、．)）]|[（(]\d{1,2}[)）])\s*", "", part).strip()
        part = part.strip('。，, "')  # and the quotes of a spreadsheet cell
        if part and value(part) and part not in issues:
            issues.append(part)
    return issues


_SECTION = lazy(r"^(?:[一二三四五六七八九十]+、|\d+[.、])?.{0,12}$")


def _section_kind(row: list[Cell | None]) -> EntityKind | bool | None:
    """A row that is one cell across the table ("二、SDK名单"): its kind, or False if not one."""
    cells = [cell for cell in row if cell is not None]
    if not cells or len({cell.origin for cell in cells}) != 1 or len(row) < 2:
        return False
    text = cells[0].text.strip()
    if not _SECTION.match(text):
        return False
    return _kind_of_label(text) or ("app" if re.search(r"APP|App|应用", text) else None)


_QUOTED = lazy(r"^[《“\"「『](.+?)[》”\"」』]$")
_NUMBERED = lazy(r"^\d{1,3}\s*[.、．]\s*(?=\D)(?!\d)")
_TRAILING_BRACKET = lazy(r"^(?P<name>.+?)\s*[（(](?P<inner>[^（）()]+)[)）]$")


def split_name_cell(
    name: str, developer: str | None, version: str | None
) -> tuple[str, str | None, str | None]:
    """A name cell as written ("1.《鞍钢e家》（V2.0.7）", "“盛京通”（沈阳盛京城市服务有限公司）")
    -> the name, and the operator or version its bracket gives when the row has none."""
    name = _NUMBERED.sub("", name).strip() or name
    bracket = _TRAILING_BRACKET.match(name)
    if bracket:
        inner = bracket["inner"].strip()
        kind = look(inner)
        if kind == "company" and developer in (None, inner):
            name, developer = bracket["name"], inner
        elif kind == "version" and version in (None, inner):
            name, version = bracket["name"], inner
    quoted = _QUOTED.match(name.strip())
    if quoted:
        name = quoted.group(1)
    return name.strip(), developer, version


def realign(
    row: list[Cell | None], columns: dict[Column, int], width: int, above: Cell | None
) -> list[Cell | None]:
    """A row with fewer cells than the header, its cells put back into their columns by what
    they look like. ``above`` is the developer cell of the row above: it covers this row when
    the cell this row lost is the developer's and the cells after it shifted left."""
    present = [(i, cell) for i, cell in enumerate(row[:width]) if cell is not None]
    if len(present) >= width or not present:
        return row
    own = [(i, cell) for i, cell in present if not cell.spanned]
    if len({cell.origin for _, cell in own}) != len(own):
        return row  # a cell spread over several columns: leave the row as it is
    fixed = {i for i, cell in present if cell.spanned}
    slots = [i for i in range(width) if i not in fixed]
    placed = align([cell.text for _, cell in own], columns, slots)
    result: list[Cell | None] = [None] * width
    for i in fixed:
        result[i] = row[i]
    for (_, cell), at in zip(own, placed, strict=True):
        result[at] = cell
    shifted = any(at > i for (i, _), at in zip(own, placed, strict=True))
    developer, name = columns.get("developer"), columns.get("name")
    name_cell = result[name] if name is not None else None
    if (
        shifted
        and developer is not None
        and result[developer] is None
        and name_cell is not None
        and value(name_cell.text)
        and above is not None
        and value(above.text)
    ):
        result[developer] = Cell(above.text, above.origin, spanned=True)
    return result


_LOOK_COLUMN: dict[str, Column] = {
    "digits": "seq",
    "company": "developer",
    "store": "store",
    "version": "version",
    "issue": "issues",
    "text": "name",
}


def _one_cell_across(row: list[Cell | None]) -> bool:
    cells = [cell for cell in row if cell is not None]
    return len(row) > 1 and len(cells) == len(row) and len({cell.origin for cell in cells}) == 1


def infer_header(grid: Grid) -> Header | None:
    """The columns of a table without a header row, from what most cells of each column look
    like: a column of names and at least one of companies, stores, versions or issues, over
    two rows or more; None when the cells do not say."""
    rows = [row for row in grid if _section_kind(row) is False and not _one_cell_across(row)]
    if len(rows) < 2:
        return None
    width = max(len(row) for row in rows)
    columns: dict[Column, int] = {}
    for index in range(width):
        looks = [look(cell_text(row, index)) for row in rows]
        filled = [kind for kind in looks if kind != "blank"]
        if not filled:
            continue
        kind, count = Counter(filled).most_common(1)[0]
        column = _LOOK_COLUMN[kind]
        if count * 10 >= len(filled) * 6 and column not in columns:
            columns[column] = index
    if "name" not in columns or not {"developer", "store", "version", "issues"} & set(columns):
        return None
    return Header(-1, columns, None)


_TOTAL_OR_NOTE = lazy(
    r"^(?:合计|共计|总计|小计|合計|總計|总数|Total)\b|^\d{1,4}\s*款(?:APP|App|应用)?$"
    r"|^[(（][^()（）]*(?:详见|其余|其他|略|附件|注|見|详|以下)[^()（）]*[)）]$",
    re.I,
)


def table_entities(grid: Grid, *, headerless: bool = False) -> list[Entity]:
    """The apps listed in one table; [] when no header row says which column holds the apps'
    names - nor, with ``headerless``, the look of its columns (``infer_header``)."""
    header = find_header(grid) or (infer_header(grid) if headerless else None)
    if header is None:
        return []
    columns = header.columns
    entities: list[Entity] = []
    by_origin: dict[int, Entity] = {}
    labels = grid[header.row] if header.row >= 0 else []
    header_labels = {cell_text(labels, i) for i in columns.values()} - {""}
    section_kind: EntityKind | None = header.kind
    previous: Entity | None = None
    width = len(labels) if labels else max(len(row) for row in grid)
    above: Cell | None = None  # the developer cell of the row above
    for row in grid[header.row + 1 :]:
        section = _section_kind(row)
        if section is not False:
            if section is not None and not isinstance(section, bool):
                section_kind = section
            continue
        if _one_cell_across(row):
            continue  # a title or a note over the whole table ("注：排名不分先后")
        row = realign(row, columns, width, above)
        developer_at = columns.get("developer")
        above = row[developer_at] if developer_at is not None and developer_at < len(row) else None
        name_cell = row[columns["name"]] if columns["name"] < len(row) else None
        name = one_line(name_cell.text) if name_cell else ""
        seq = value(cell_text(row, columns.get("seq")))
        developer = value(one_line(cell_text(row, columns.get("developer"))))
        store = value("/".join(x.strip() for x in cell_text(row, columns.get("store")).split("\n")))
        version = value(one_line(cell_text(row, columns.get("version"))))
        issues = issues_of(cell_text(row, columns.get("issues")))
        if name and name in header_labels:
            continue  # a repeated header row
        if _TOTAL_OR_NOTE.match(fold_width(name)) or _TOTAL_OR_NOTE.match(fold_width(seq or "")):
            continue  # "合计 | | 7款", "（其余34款详见附件）": not an app
        if name_cell is not None and name_cell.spanned and name_cell.origin in by_origin:
            first = by_origin[name_cell.origin]
            developer_index = columns.get("developer")
            developer_cell = row[developer_index] if developer_index is not None else None
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
        if not value(name):
            if seq is None and previous is not None and developer in (None, previous.developer):
                if store or version or issues:  # the rest of a merged app, exported as blanks
                    merge_into(
                        previous,
                        Entity(name=previous.name, store=store, version=version, issues=issues),
                    )
                continue
            spanned = any(cell and cell.spanned for cell in row)
            if developer and not spanned:
                name, developer = developer, None  # a company listed on its own
            else:
                continue
        if re.fullmatch(r"[\d\s.、]{1,4}", name):
            continue  # a number in the name column; "12306" is a name
        name, developer, version = split_name_cell(name, developer, version)
        kind = entity_kind(name, developer=developer)
        if kind == "app" and section_kind is not None:
            kind = section_kind
        entity = Entity(
            kind=kind,
            name=name,
            developer=developer,
            store=store,
            version=version,
            issues=issues,
            source="table",
        )
        entities.append(entity)
        previous = entity
        if name_cell is not None:
            by_origin[name_cell.origin] = entity
    return entities
