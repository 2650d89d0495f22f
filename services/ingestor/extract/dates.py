"""The publication date of a notice.

Preference: a "发布时间/发布日期/Published" marker, then a date line near the top (the
"2021-05-10 来源：..." line of a web page), then the signature date at the end (the date under
the signer). English dates ("May 10, 2021", "10 May 2021") and ISO dates are read too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from shared.errors import InputError

from .textutil import cn_number, fold_width, nonempty_lines

_MONTHS = {
    "jan": 1,
    "feb": 2,
    "mar": 3,
    "apr": 4,
    "may": 5,
    "jun": 6,
    "jul": 7,
    "aug": 8,
    "sep": 9,
    "oct": 10,
    "nov": 11,
    "dec": 12,
}
_MONTH_NAME = (
    r"(?P<mon>Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?"
    r"|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
)
_CN_YEAR_DIGITS = "〇零○O0一二三四五六七八九"
_DATE_PATTERNS = [
    re.compile(r"(?<!\d)(?P<y>(?:19|20)\d{2})\s*年\s*(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*日"),
    re.compile(
        rf"(?P<y>[{_CN_YEAR_DIGITS}]{{4}})\s*年\s*(?P<m>[一二三四五六七八九十]{{1,3}})\s*月"
        r"\s*(?P<d>[一二三四五六七八九十]{1,3})\s*日"
    ),
    re.compile(r"(?<![\d.])(?P<y>(?:19|20)\d{2})[-/.](?P<m>\d{1,2})[-/.](?P<d>\d{1,2})(?![\d.])"),
    re.compile(
        rf"\b{_MONTH_NAME}\s+(?P<d>\d{{1,2}})(?:st|nd|rd|th)?,?\s+(?P<y>(?:19|20)\d{{2}})\b"
    ),
    re.compile(rf"\b(?P<d>\d{{1,2}})(?:st|nd|rd|th)?\s+{_MONTH_NAME}\s+(?P<y>(?:19|20)\d{{2}})\b"),
]
_MARKER = re.compile(
    r"(?:发布时间|发布日期|发文日期|成文日期|印发日期|时间|日期|Published(?:\s+on)?|Updated|Date)"
    r"\s*[:：]?\s*",
    re.I,
)


@dataclass(frozen=True)
class FoundDate:
    day: date
    start: int
    end: int


def _to_date(m: re.Match[str]) -> date | None:
    groups = m.groupdict()
    year = cn_number(groups["y"])
    if groups.get("mon"):
        month: int | None = _MONTHS[groups["mon"][:3].lower()]
    else:
        month = cn_number(groups["m"])
    day = cn_number(groups["d"])
    if year is None or month is None or day is None or not 1990 <= year <= 2100:
        return None
    try:
        return date(year, month, day)
    except ValueError:
        return None


def find_dates(line: str) -> list[FoundDate]:
    """All dates written in ``line``, in order of position."""
    folded = fold_width(line)
    found: list[FoundDate] = []
    for pattern in _DATE_PATTERNS:
        for m in pattern.finditer(folded):
            if any(f.start <= m.start() < f.end for f in found):
                continue
            day = _to_date(m)
            if day is not None:
                found.append(FoundDate(day, m.start(), m.end()))
    return sorted(found, key=lambda f: f.start)


def _is_date_line(line: str, found: FoundDate) -> bool:
    """A line that is mainly a date, perhaps with a time, a source or a view counter."""
    if "。" in line or len(line) > 80:
        return False
    rest = (line[: found.start] + line[found.end :]).strip()
    rest = re.sub(r"\d{1,2}:\d{2}(?::\d{2})?", "", rest)
    if len(rest) <= 4:
        return True
    return bool(re.search(r"来源|发布|作者|浏览|字号|Source|By\b|Updated|Published", rest, re.I))


def find_published_on(text: str) -> date:
    """The publication date; raises InputError("no publication date found")."""
    lines = nonempty_lines(text)
    # 1. an explicit marker anywhere in the head of the document
    for line in lines[:40]:
        for marker in _MARKER.finditer(fold_width(line)):
            generic = marker.group(0).strip(" :：").lower() in {"时间", "日期", "date"}
            if generic and line[: marker.start()].strip():
                continue  # "检测时间：..." is not the publication date
            for found in find_dates(line):
                if 0 <= found.start - marker.end() <= 2:
                    return found.day
    # 2. a date line at the top
    for line in lines[:6]:
        dates = find_dates(line)
        if dates and _is_date_line(line, dates[0]):
            return dates[0].day
    # 3. the signature date: the last date line near the end
    for line in reversed(lines[-12:]):
        dates = find_dates(line)
        if dates and _is_date_line(line, dates[-1]):
            return dates[-1].day
    # 4. English articles: a dateline in the first lines ("BEIJING, May 10, 2021 -")
    # (near the start of the line: "seen on a smartphone on July 13, 2021" in a photo caption
    # is not the publication date)
    for line in lines[:8]:
        dates = find_dates(line)
        if not dates or re.search(r"[\u4e00-\u9fff]", line):
            continue
        if dates[0].start <= 25 and re.fullmatch(r"[A-Z .,'’]*", line[: dates[0].start]):
            return dates[0].day
    raise InputError("no publication date found")
