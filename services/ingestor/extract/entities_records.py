"""Apps written as labelled records, one field per line - a table turned on its side:

    1. 应用名称：京城停车
       开发者：北京京城停车管理有限公司
       应用来源：华为应用市场
       所涉问题：违规收集个人信息

The labels are read like a table's header (``tables.header_columns``: 应用名称 / APP名称 / 开发者
/ 开发运营者 / 应用来源 / 版本号 / 所涉问题 ...), in any order, full-width or ASCII colons; a
record starts with the label its block starts with (a developer-first block starts each record
with 开发者) or when a field comes again, and a block ends at a line that is neither a field nor
the continuation of an issue. Several fields may share a line ("应用名称：A；开发者：B").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from shared.events import Entity

from .cells import is_placeholder, look
from .lazy_re import lazy
from .merge import entity_kind
from .tables import header_columns, issues_of
from .textutil import fold_width

_NUMBER = lazy(r"^\s*(?:\d{1,3}\s*[.、．)）]|[（(]\d{1,3}[)）])\s*")
_FIELD = lazy(r"(?P<label>[^:：；;，,。\s]{2,10})\s*[:：]\s*(?P<value>[^；;]*)")


@dataclass
class _Record:
    fields: dict[str, str] = field(default_factory=dict)

    def entity(self) -> Entity | None:
        name = self.fields.get("name", "").strip()
        if not name or is_placeholder(name):
            return None

        def value(column: str) -> str | None:
            text = self.fields.get(column, "").strip()
            return None if not text or is_placeholder(text) else text

        developer = value("developer")
        return Entity(
            kind=entity_kind(name, developer=developer),
            name=name,
            developer=developer,
            store=value("store"),
            version=value("version"),
            issues=issues_of(self.fields.get("issues", "")),
            source="table",
        )


def _continues_issue(line: str) -> bool:
    """ "超范围收集个人信息" under "所涉问题：违规收集个人信息": more of the same issue cell
    (not the notice's next sentence, "请上述APP于…前完成整改。")."""
    return (
        len(line) <= 60 and look(line) == "issue" and not re.search(r"整改|通报|要求|[。：:]", line)
    )


def _fields(line: str) -> list[tuple[str, str]] | None:
    """``label：value`` pairs of a line, each label a table column; None when the line is not
    made of such pairs."""
    text = _NUMBER.sub("", fold_width(line)).strip()
    pairs: list[tuple[str, str]] = []
    position = 0
    for m in _FIELD.finditer(text):
        if text[position : m.start()].strip(" ；;，,"):
            return None
        columns = header_columns([m["label"]])
        if len(columns) != 1:
            return None
        (column,) = columns
        pairs.append((column, m["value"].strip()))
        position = m.end()
    if not pairs or text[position:].strip(" ；;，,。"):
        return None
    return pairs


def extract_entities_records(text: str) -> list[Entity]:
    """The apps of every labelled record in ``text``, in order; [] when there are fewer than
    two fields per record (a single "应用名称：X" line is left to the other readers)."""
    records: list[_Record] = []
    current: _Record | None = None
    last_column: str | None = None
    first: str | None = None  # the label a record of this block starts with
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        pairs = _fields(line)
        if pairs is None:
            if current is not None and last_column == "issues" and _continues_issue(line):
                current.fields["issues"] += "\n" + line  # an issue over several lines
                continue
            current, last_column, first = None, None, None
            continue
        for column, value in pairs:
            if column in ("seq", "ignore"):
                continue
            if current is None or column == first or column in current.fields:
                # a record starts with the label the block started with, whatever it is
                # (开发者 first is a developer-first record), or when a field comes again
                current = _Record()
                records.append(current)
                first = first or column
            previous = current.fields.get(column)
            current.fields[column] = f"{previous}\n{value}" if previous else value
            last_column = column
    complete = [r for r in records if len(r.fields) >= 2]
    entities = [e for e in (r.entity() for r in complete) if e is not None]
    return entities
