"""The publication date of a notice, and what the notice says its own date is.

Two kinds of dates are read:

- the **page's date**: a publication marker ("发布时间：2023-06-02 10:15", "Published:") or a
  date line at the top of a web page ("2021-05-10 来源：...");
- the **notice's own date**: the date under (or beside) the signer at the end
  ("工业和信息化部信息通信管理局　2022年3月9日", the office and the date on one line), else a date
  standing alone in the first lines, under the title ("（2023年6月1日）").

When both are there and differ, which one is the publication date:

- on a **reprint** (a page whose "来源" is not a regulator, that says 转载/原标题, that is written
  in traditional script, or whose date marker sits in a sidebar after the notice), the notice's
  own date wins: the page's date is only when the copy was made;
- on the **regulator's own page**, the page's date wins when it is up to two weeks after the
  signature (a notice is signed on the 8th and posted on the 9th: it is published on the 9th);
- otherwise (the page's date before the notice's, or weeks later) the notice's own date wins.

Each disagreement leaves a note saying which date was kept and why.

A month without a day ("2023年5月", "二〇二三年五月", "May 2023") where the notice's own date
would be, and nothing better: the publication date is the **first day of that month** (the
earliest it can be, so a deadline counted from it is never late), marked as an estimate
(``estimated``), with a note. A full date on the page is better: the regulator's own page's date,
or a reprint's date in that same month. No date at all: the caller's fallback (a feed item's
date), else InputError naming the CLI's ``--published-on``; a date the caller gives (that flag)
always wins.
English dates ("May 10, 2021", "10 May 2021"), ISO dates and Chinese numerals are read too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from shared.errors import InputError

from .lazy_re import lazy
from .textutil import clean_line, cn_number, fold_width, nonempty_lines

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
_WEEKDAY = lazy(
    r"(?:(?:Mon|Tue|Tues|Wed|Wednes|Thu|Thur|Thurs|Fri|Sat|Satur|Sun)(?:day)?\.?,?\s*"
    r"|星期[一二三四五六日天]\s*|周[一二三四五六日]\s*)?",
    re.I,
)
# "BEIJING, May 10 (Reuters) -": a news dateline without a year.
_DATELINE = lazy(
    rf"^[A-Z][A-Za-z .'’-]{{1,30}},\s+{_MONTH_NAME}\s+(?P<d>\d{{1,2}})\b"
    r"(?:\s*\([A-Za-z .]{2,30}\))?\s*[-—–]"
)
_COPYRIGHT_YEAR = lazy(r"(?:©|\(c\)|copyright)\s*(?P<y>(?:19|20)\d{2})", re.I)
# Where a page says it got the notice from: a regulator's own site, or a reprint.
# Where a page says it got the notice from: a regulator's own site, or a reprint. "应用来源："
# is a table's store column, not the page's source.
_SOURCE = lazy(
    r"(?<!应用)(?<!软件)(?<!下载)(?:来源|Source)\s*[:：]\s*(?P<source>[^\s|｜]{2,30})", re.I
)
_OFFICIAL_SOURCE = lazy(
    r"网信|互联网信息办公室|工业和信息化部|工信部|信息通信管理局|通信管理局|公安部|公安厅"
    r"|网络安全通报中心|病毒应急处理中心|市场监督管理|市场监管|人民政府|政府网|gov\.cn"
    r"|Cyberspace Administration|Ministry of",
    re.I,
)
_REPRINT = lazy(
    r"转载|转自|转发自|轉載|轉自|编者按|編者按|原标题|原標題|免责声明|版权归原作者|如有侵权"
)
_SIGNATURE_GAP_DAYS = 14
_CN_NUM = "〇零○O0一二三四五六七八九十"
_MONTH_PATTERNS = [
    re.compile(
        r"(?<!\d)(?P<y>(?:19|20)\d{2})\s*年\s*(?P<m>\d{1,2})\s*月(?!\s*\d{1,2}\s*日|份?\s*\d)"
    ),
    re.compile(
        rf"(?P<y>[{_CN_YEAR_DIGITS}]{{4}})\s*年\s*(?P<m>[一二三四五六七八九十]{{1,3}})\s*月"
        rf"(?!\s*[{_CN_NUM}]{{1,3}}\s*日)"
    ),
    re.compile(rf"(?<![\d\w])(?<!\d )\b{_MONTH_NAME},?\s+(?P<y>(?:19|20)\d{{2}})\b"),
]
# What ends the name of an office, a bureau or an association ("…秘书处", "…联盟", "…公安厅").
ORG_END = (
    r"(?:局|办公室|委员会|中心|协会|学会|联合会|促进会|商会|研究会|基金会|联盟|秘书处|厅|部|院"
    r"|政府|网信办|办|总队|支队|大队|工作组|小组)"
)
_SIGNER = lazy(
    r"网信办|信息办公室|信息化委员会办公室|信息化部|通信管理局|公安部|通报中心|应急处理中心"
    r"|市场监督管理|监管总局|办公厅|管理局|委员会|人民政府"
    rf"|^[\u4e00-\u9fff()（）·]{{2,40}}{ORG_END}$"
)
# A line naming the page's date or its source: never the signer's line.
_PAGE_WORDS = lazy(
    r"来源|发布|时间|日期|作者|浏览|字号|阅读|点击|编辑|Source|Published|Updated|Posted", re.I
)


@dataclass(frozen=True)
class FoundDate:
    day: date
    start: int
    end: int


@dataclass(frozen=True)
class FoundMonth:
    """A month without a day: "2023年5月", "二〇二三年五月", "May 2023"."""

    year: int
    month: int
    start: int
    end: int

    @property
    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def label(self) -> str:
        return f"{self.year}年{self.month}月"


@dataclass(frozen=True)
class Dating:
    """The publication date a notice is given, and how it was decided."""

    published_on: date
    estimated: bool = False
    """True when the notice gives only a month: ``published_on`` is its first day."""
    own: date | None = None
    """The notice's own date (its signature, or the date under its title), when it gives one."""
    notes: tuple[str, ...] = ()


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


def find_months(line: str) -> list[FoundMonth]:
    """Months written without a day in ``line`` ("2023年5月"; not the "2023年5月" of a full
    date), in order of position."""
    folded = fold_width(line)
    taken = [(f.start, f.end) for f in find_dates(line)]
    found: list[FoundMonth] = []
    for pattern in _MONTH_PATTERNS:
        for m in pattern.finditer(folded):
            if any(start <= m.start() < end for start, end in taken):
                continue
            year = cn_number(m["y"])
            month = _MONTHS[m["mon"][:3].lower()] if m.groupdict().get("mon") else cn_number(m["m"])
            if year is None or month is None or not 1990 <= year <= 2100 or not 1 <= month <= 12:
                continue
            found.append(FoundMonth(year, month, m.start(), m.end()))
            taken.append(m.span())
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


def _alone(line: str, start: int, end: int) -> bool:
    """Is the text outside ``line[start:end]`` only brackets, spaces and punctuation?"""
    rest = line[:start] + line[end:]
    return not re.sub(r"[\s()（）\[\]【】〔〕.,，。:：\-—|·]", "", fold_width(rest))


def _is_signer(text: str) -> bool:
    """A short line that names an organisation (a signer or a letterhead)."""
    text = clean_line(text)
    return (
        0 < len(text) <= 40
        and "。" not in text
        and not _PAGE_WORDS.search(text)
        and bool(_SIGNER.search(re.sub(r"\s", "", text)))
    )


def _own_date_on(line: str) -> FoundDate | FoundMonth | None:
    """The date of a line that is a date alone ("2023年6月1日", "（2023年6月1日）", "2023年5月"),
    or an office and its date ("广东省通信管理局 2024年1月5日")."""
    if len(line) > 60 or "。" in line:
        return None
    found: list[FoundDate | FoundMonth] = [*find_dates(line), *find_months(line)]
    if len(found) != 1:
        return None
    one = found[0]
    if _alone(line, one.start, one.end):
        return one
    before, after = line[: one.start].rstrip(" (（[【"), line[one.end :]
    if _alone(after, 0, 0) and _is_signer(before):
        return one
    return None


def find_signature_date(text: str) -> date | None:
    """The date of the signature block: a date line right under the signer's name, or beside it
    on the same line (the last such block). None when the text has no signature block."""
    found = _signature(nonempty_lines(text))
    if found is None or not isinstance(found[0], FoundDate):
        return None
    return found[0].day


def _signature(lines: list[str]) -> tuple[FoundDate | FoundMonth, int] | None:
    """The signature's date (or month) and its line index, looking up from the end."""
    for index in range(len(lines) - 1, 0, -1):
        line = lines[index]
        own = _own_date_on(line)
        if own is None:
            continue
        if not _alone(line, own.start, own.end):
            return own, index  # the office and the date on one line
        signer = lines[max(0, index - 2) : index]
        if any(_is_signer(s) for s in signer):
            return own, index
    return None


def _first_lines_date(lines: list[str]) -> tuple[FoundDate | FoundMonth, int] | None:
    """A date standing alone under the title ("（2023年6月1日）", "2023年6月1日"), not a web
    page's date line ("2021-05-10 来源：..." is the page's)."""
    for index, line in enumerate(lines[1:6], start=1):
        own = _own_date_on(line)
        if own is None:
            continue
        if isinstance(own, FoundDate) and not re.search(r"年|[A-Za-z]", line[own.start : own.end]):
            continue  # "2024-07-05": a web page's date, not the document's
        return own, index
    return None


def _last_date_line(lines: list[str]) -> date | None:
    """The last line near the end that is mainly a date."""
    for line in reversed(lines[-12:]):
        dates = find_dates(line)
        if dates and _is_date_line(line, dates[-1]):
            return dates[-1].day
    return None


@dataclass(frozen=True)
class _PageDate:
    day: date
    index: int
    label: str


def _marked_date(lines: list[str]) -> _PageDate | None:
    """The date after a publication marker near the top, or in a sidebar at the end."""
    candidates = list(enumerate(lines[:40]))
    candidates += [(i, line) for i, line in enumerate(lines) if i >= max(40, len(lines) - 10)]
    for marker_re in _MARKERS:
        for index, line in candidates:
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
                        return _PageDate(found.day, index, marker.group(0).strip(" :："))
    return None


def _page_date(lines: list[str], skip: int | None) -> _PageDate | None:
    """The page's own date: a publication marker, else a date line at the top of the page
    (``skip``: the line that holds the notice's own date)."""
    marked = _marked_date(lines)
    if marked is not None:
        return marked
    for index, line in enumerate(lines[:6]):
        dates = find_dates(line)
        if index != skip and dates and _is_date_line(line, dates[0]):
            source = _SOURCE.search(fold_width(line))
            label = f"来源：{source['source']}" if source else "the page's date line"
            return _PageDate(dates[0].day, index, label)
    return None


def _date_in_opening(lines: list[str]) -> tuple[date, str] | None:
    """A full date (with its year) in the first lines' sentences, when nothing better dates
    the text: "in a notice issued on Thursday, June 12, 2025", "Tech Brief | September 27,
    2024", "（2023年6月1日）发布"."""
    for line in lines[:12]:
        if re.search(r"[\u4e00-\u9fff]", line) or _CAPTION_LINE.search(line):
            continue  # Chinese dates in a sentence are earlier notices ("1月22日，我部通报了")
        dates = find_dates(line)
        if dates and (_ABOUT_THE_NOTICE.search(line) or _LABELLED_DATE.match(line)):
            return dates[0].day, line.strip()
    return None


_ABOUT_THE_NOTICE = lazy(
    r"\b(?:notice|notification|statement|circular|list|named|naming|issued|dated|published|"
    r"released|announced|ordered|cited|flagged)\b",
    re.I,
)
_LABELLED_DATE = lazy(r"^[A-Za-z][A-Za-z .'’&-]{1,30}\|\s*")  # "Tech Brief | June 12, 2025"
_CAPTION_LINE = lazy(
    r"\b(?:is|are) (?:seen|pictured|displayed|shown)\b|\((?:[^)]*)(?:Reuters|AFP|Getty|"
    r"Illustration|Photo)[^)]*\)",
    re.I,
)


# "新京报讯（记者 李明）11月15日，工业和信息化部发布…": a day without a year opening a story.
_CN_DAY_OPENING = lazy(
    r"^(?:[^，。]{0,24}?讯\s*(?:[（(][^）)]{0,20}[)）])?\s*)?(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*日\s*[，,]"
)
_BATCH_YEAR = lazy(r"(?P<y>20\d{2})\s*年\s*(?:度\s*)?第\s*[\d一二三四五六七八九十]{1,3}\s*批")


def _chinese_day_with_year(lines: list[str]) -> tuple[date, str] | None:
    """A Chinese story's opening "11月15日，…" dated with the year of the batch it reports
    ("2023年第7批"), or of its copyright line."""
    for line in lines[:6]:
        m = _CN_DAY_OPENING.match(fold_width(line).strip())
        if m is None:
            continue
        text = "\n".join(lines)
        batch = _BATCH_YEAR.search(fold_width(text))
        copyright_year = _COPYRIGHT_YEAR.search(text)
        for found, why in ((batch, "the batch's"), (copyright_year, "the copyright line's")):
            if found is not None:
                try:
                    return date(int(found["y"]), int(m["m"]), int(m["d"])), why
                except ValueError:
                    return None
        return None
    return None


def _dateline_without_year(lines: list[str]) -> tuple[int, int] | None:
    for line in lines[:12]:
        m = _DATELINE.match(fold_width(line))
        if m:
            return _MONTHS[m["mon"][:3].lower()], int(m["d"])
    return None


# "…通报4款侵害用户权益APP_科技频道_黔讯网": the site a page's title names.
_SITE_TITLE = lazy(r"[_|｜]\s*(?P<site>[^_|｜]{2,16}(?:网|报|新闻|资讯|频道|日报|在线|头条))\s*$")
_NEWS_BOX = lazy(r"^\s*(?:相关阅读|相关新闻|延伸阅读|推荐阅读|热点推荐|猜你喜欢)")


def _reprint_reason(text: str, lines: list[str], page: _PageDate, own_index: int) -> str | None:
    """Why the page is a reprint by someone other than the regulator (a news site, an
    account), or None when it may be the regulator's own page."""
    near = {page.index, *range(min(10, len(lines))), *range(max(0, len(lines) - 10), len(lines))}
    for index in sorted(near):
        source = _SOURCE.search(fold_width(lines[index]))
        if source and not _OFFICIAL_SOURCE.search(source["source"]):
            return f"来源 {source['source']}"
    said = _REPRINT.search(text[:300]) or _REPRINT.search("\n".join(lines[-6:]))
    if said:
        return f"it says {said.group(0)}"
    site = _SITE_TITLE.search(lines[0]) if lines else None
    if site and not _OFFICIAL_SOURCE.search(site["site"]):
        return f"the page is {site['site']}'s"
    if any(_NEWS_BOX.match(line) for line in lines[-12:]):
        return "it ends with a news site's related-reading box"
    if page.index > own_index and page.index >= len(lines) * 2 // 3:
        return "its date is in a sidebar after the notice"
    return None


def date_notice(
    text: str, *, given: date | None = None, fallback: date | None = None, reprint: bool = False
) -> Dating:
    """The publication date of ``text`` (see the module docstring for the rules).

    ``given``: the date the caller says it is (``--published-on``); it wins.
    ``fallback``: a date to use when the text gives none (a feed item's date: often a
    reprint's, so never over the notice's own).
    ``reprint``: the caller knows the page is a reprint (a traditional-script copy).
    Raises InputError("no publication date found ...") when neither the text nor the caller
    gives a date.
    """
    lines = nonempty_lines(text)
    signed = _signature(lines)
    under_title = _first_lines_date(lines)
    month_signed = signed is not None and isinstance(signed[0], FoundMonth)
    if month_signed and under_title is not None and isinstance(under_title[0], FoundDate):
        signed = None  # a full date under the title says more than a month at the end
    own_found = signed or under_title
    own, own_index = own_found if own_found else (None, len(lines))
    own_day = own.day if isinstance(own, FoundDate) else None
    if given is not None:
        notes: tuple[str, ...] = ()
        if own_day is not None and own_day != given:
            notes = (f"the notice is dated {own_day}; kept the date given, {given}",)
        return Dating(given, own=own_day, notes=notes)
    page = _page_date(lines, own_index if own_found and not signed else None)
    if page is not None and own is not None:
        return _decide(text, lines, page, own, own_index, reprint)
    if page is not None:
        return Dating(page.day)
    if isinstance(own, FoundDate):
        return Dating(own.day, own=own.day)
    if isinstance(own, FoundMonth):
        return _estimate(own)
    last = _last_date_line(lines)
    if last is not None:
        return Dating(last)
    english = _english_date(lines)
    if english is not None:
        return Dating(english)
    yearless = _chinese_day_with_year(lines)
    if yearless is not None and fallback is None:
        day, why = yearless
        return Dating(day, notes=(f"the text gives {day:%m-%d} without a year; the year is {why}",))
    in_text = _date_in_opening(lines)
    if in_text is not None:
        day, line = in_text
        note = f'no date line: the date the opening text gives, {day} ("{line[:60]}")'
        return Dating(day, notes=(note,))
    if fallback is not None:
        note = f"the notice gives no date; kept the date its feed item gives, {fallback}"
        return Dating(fallback, notes=(note,))
    raise InputError(_no_date_message(lines))


def _decide(
    text: str,
    lines: list[str],
    page: _PageDate,
    own: FoundDate | FoundMonth,
    own_index: int,
    reprint: bool,
) -> Dating:
    """The page's date and the notice's own date are both there: which one to keep."""
    why = "it is in traditional script" if reprint else None
    why = why or _reprint_reason(text, lines, page, own_index)
    if isinstance(own, FoundMonth):
        if why is None or (page.day.year, page.day.month) == (own.year, own.month):
            note = f"the notice gives only {own.label}; kept the page's date {page.day}"
            return Dating(page.day, notes=(note,))
        return _estimate(own, f"the page says {page.day} ({page.label}), a reprint's date")
    if own.day == page.day:
        return Dating(page.day, own=own.day)
    gap = (page.day - own.day).days
    if why is None and 0 < gap <= _SIGNATURE_GAP_DAYS:
        note = (
            f"the notice is dated {own.day} and the page was posted {page.day} ({page.label}):"
            " kept the posting date"
        )
        return Dating(page.day, own=own.day, notes=(note,))
    reason = f"a reprint: {why}" if why else "too far from the notice's date"
    note = (
        f"the page says {page.day} ({page.label}; {reason}); the notice is dated {own.day}:"
        " kept the notice's date"
    )
    return Dating(own.day, own=own.day, notes=(note,))


def _estimate(month: FoundMonth, why: str | None = None) -> Dating:
    note = (
        f"the notice gives only a month ({month.label}): published_on {month.first_day} is an"
        " estimate (the first day of that month)"
    )
    notes = (note,) if why is None else (note, why)
    return Dating(month.first_day, estimated=True, notes=notes)


def _english_date(lines: list[str]) -> date | None:
    """English articles: a dateline in the first lines ("BEIJING, May 10, 2021 -"), near the
    start of the line ("seen on a smartphone on July 13, 2021" in a photo caption is not the
    publication date); a dateline without a year when a copyright notice gives the year."""
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
                    return None
    return None


def _no_date_message(lines: list[str]) -> str:
    dateline = _dateline_without_year(lines)
    if dateline is not None:
        month, day_of_month = dateline
        return (
            f"no publication date found (the dateline says {_MONTH_ABBR[month - 1]}"
            f" {day_of_month} without a year; supply the date, e.g. --published-on YYYY-MM-DD)"
        )
    return "no publication date found (give it with --published-on YYYY-MM-DD)"


def find_published_on(text: str) -> date:
    """The publication date; raises InputError("no publication date found ...")."""
    return date_notice(text).published_on
