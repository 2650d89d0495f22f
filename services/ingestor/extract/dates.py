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
_MONTH_ABBR = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
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
    re.compile(
        rf"\b(?P<d>\d{{1,2}})(?:st|nd|rd|th)?\s+{_MONTH_NAME},?\s+(?P<y>(?:19|20)\d{{2}})\b"
    ),
]
# Strongest first: the page's publication marker, then the document's own date fields, then
# generic "时间/日期/Date" labels and "Updated".
_MARKERS = [
    re.compile(
        r"(?:发布时间|发布日期|发稿时间|发表时间|Published(?:\s+on)?|Posted(?:\s+on)?)\s*[:：]?\s*",
        re.I,
    ),
    re.compile(r"(?:发文日期|成文日期|印发日期)\s*[:：]?\s*"),
    re.compile(r"(?:时间|日期|Updated|Date)\s*[:：]?\s*", re.I),
]
_WEEKDAY = re.compile(
    r"(?:(?:Mon|Tue|Tues|Wed|Wednes|Thu|Thur|Thurs|Fri|Sat|Satur|Sun)(?:day)?\.?,?\s*"
    r"|星期[一二三四五六日天]\s*|周[一二三四五六日]\s*)?",
    re.I,
)
# "BEIJING, May 10 (Reuters) -": a news dateline without a year.
_DATELINE = re.compile(
    rf"^[A-Z][A-Za-z .'’-]{{1,30}},\s+{_MONTH_NAME}\s+(?P<d>\d{{1,2}})\b"
    r"(?:\s*\([A-Za-z .]{2,30}\))?\s*[-—–]"
)
_COPYRIGHT_YEAR = re.compile(r"(?:©|\(c\)|copyright)\s*(?P<y>(?:19|20)\d{2})", re.I)
# Where a page says it got the notice from: a regulator's own site, or a reprint.
_SOURCE = re.compile(r"(?:来源|信息来源|Source)\s*[:：]\s*(?P<source>[^\s|｜]{2,30})", re.I)
_OFFICIAL_SOURCE = re.compile(
    r"网信|工业和信息化部|工信部|信息通信管理局|通信管理局|公安部|网络安全通报中心|病毒应急处理中心"
    r"|市场监督管理|市场监管|人民政府|政府网|gov\.cn|Cyberspace Administration|Ministry of",
    re.I,
)
_REPRINT = re.compile(r"转载|转自|转发自|轉載|轉自|编者按|編者按")
_SIGNATURE_GAP_DAYS = 14


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
    rest = re.sub(r"\d{1,2}:\d{2}(?::\d{2})?(?:\s*[AaPp]\.?[Mm]\.?)?", "", rest)
    rest = re.sub(r"\b(?:GMT|UTC)\s*[+-]?\d{0,2}(?::?\d{2})?|\bCST\b|北京时间", "", rest)
    if len(rest.strip(" |·-—")) <= 4:
        return True
    return bool(
        re.search(r"来源|发布|作者|浏览|字号|阅读|点击|Source|By\b|Updated|Published", rest, re.I)
    )


def _marked_date(lines: list[str]) -> tuple[date, int] | None:
    """The date after a publication marker near the top: (date, line index)."""
    for marker_re in _MARKERS:
        for index, line in enumerate(lines[:40]):
            folded = fold_width(line)
            for marker in marker_re.finditer(folded):
                label = marker.group(0).strip(" :：").lower()
                generic = label in {"时间", "日期", "date", "updated"}
                if generic and line[: marker.start()].strip(" |·"):
                    continue  # "检测时间：..." is not the publication date
                gap = _WEEKDAY.match(folded, marker.end())
                start = gap.end() if gap else marker.end()
                for found in find_dates(line):
                    if 0 <= found.start - start <= 2:
                        return found.day, index
    return None


_SIGNER = re.compile(
    r"网信办|信息办公室|信息化委员会办公室|信息化部|通信管理局|公安部|通报中心|应急处理中心"
    r"|市场监督管理|监管总局|办公厅|管理局|委员会|人民政府"
)


def find_signature_date(text: str) -> date | None:
    """The date of the signature block: a date line right under the signer's name (the last
    such block). None when the text has no signature block."""
    lines = nonempty_lines(text)
    for index in range(len(lines) - 1, 0, -1):
        line = lines[index]
        dates = find_dates(line)
        if not dates or not _is_date_line(line, dates[-1]):
            continue
        signer = lines[max(0, index - 2) : index]
        if any(len(s) <= 40 and "。" not in s and _SIGNER.search(s) for s in signer):
            return dates[-1].day
    return None


def _signature_date(lines: list[str]) -> date | None:
    """The date under the signer, else the last date line near the end."""
    signed = find_signature_date("\n".join(lines))
    if signed is not None:
        return signed
    for line in reversed(lines[-12:]):
        dates = find_dates(line)
        if dates and _is_date_line(line, dates[-1]):
            return dates[-1].day
    return None


def _dateline_without_year(lines: list[str]) -> tuple[int, int] | None:
    for line in lines[:12]:
        m = _DATELINE.match(fold_width(line))
        if m:
            return _MONTHS[m["mon"][:3].lower()], int(m["d"])
    return None


def _is_reprint(text: str, lines: list[str], page_line: int) -> bool:
    """Is the page a reprint by someone other than the regulator (a news site, an account)?"""
    source = _SOURCE.search(fold_width(lines[page_line]))
    if source and not _OFFICIAL_SOURCE.search(source["source"]):
        return True
    return bool(_REPRINT.search(text[:300])) or bool(_REPRINT.search("\n".join(lines[-6:])))


def find_published_on(text: str) -> date:
    """The publication date; raises InputError("no publication date found ...").

    Order: a publication marker near the top ("发布时间：", "Published:"), then a date line at
    the top of the page ("2021-05-10 来源：..."), then the signature date at the end, then an
    English dateline ("BEIJING, May 10, 2021 -"; without a year only when the page gives the year
    elsewhere, in a date line or a copyright notice). A reprint's own page date (a news site or
    an account posting the notice a day later) gives way to the regulator's signature date when
    that is at most two weeks earlier.
    """
    lines = nonempty_lines(text)
    page: tuple[date, int] | None = _marked_date(lines)
    if page is None:
        for index, line in enumerate(lines[:6]):
            dates = find_dates(line)
            if dates and _is_date_line(line, dates[0]):
                page = dates[0].day, index
                break
    signature = _signature_date(lines)
    if page is not None:
        day, index = page
        if (
            signature is not None
            and 0 < (day - signature).days <= _SIGNATURE_GAP_DAYS
            and _is_reprint(text, lines, index)
        ):
            return signature
        return day
    if signature is not None:
        return signature
    # English articles: a dateline in the first lines ("BEIJING, May 10, 2021 -"), near the start
    # of the line ("seen on a smartphone on July 13, 2021" in a photo caption is not the
    # publication date).
    for line in lines[:8]:
        dates = find_dates(line)
        if not dates or re.search(r"[\u4e00-\u9fff]", line):
            continue
        if dates[0].start <= 25 and re.fullmatch(r"[A-Z .,'’]*", line[: dates[0].start]):
            return dates[0].day
    dateline = _dateline_without_year(lines)
    if dateline is not None:
        month, day_of_month = dateline
        for line in lines:
            m = _COPYRIGHT_YEAR.search(line)
            if m:
                try:
                    return date(int(m["y"]), month, day_of_month)
                except ValueError:
                    break
        raise InputError(
            f"no publication date found (the dateline says {_MONTH_ABBR[month - 1]}"
            f" {day_of_month} without a year; supply the date, e.g. --published-on YYYY-MM-DD)"
        )
    raise InputError("no publication date found")
