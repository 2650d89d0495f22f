"""Rectification deadlines written in a notice, resolved to a date.

Only what the text says is used: a notice that says "按有关规定进行整改" (MIIT APP(SDK)
notices from 2023) or orders a removal has no deadline, and we never invent one.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from shared.events import Deadline

from .calendar import add_calendar_days, add_working_days
from .kind import is_removal
from .lazy_re import LazyPattern, lazy
from .textutil import CN_NUMERAL_CHARS, EN_NUMBER_PATTERN, cn_number, en_number, fold_width

_NUM = rf"(?:\d{{1,3}}|[{CN_NUMERAL_CHARS}]{{1,4}})"
_MODAL = r"(?:应当|应|须|需|必须|务必|要|请)"
_BEFORE = (
    r"\s*(?:(?P<period>上午|中午|下午|晚上|晚)?\s*(?P<hour>\d{1,2})\s*"
    r"(?:[点时:](?:\s*\d{1,2}\s*分?|整)?|:\d{2}))?\s*(?:之前|以前|前)"
)
_YMD = r"(?P<y>\d{4})\s*年\s*(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*[日号]"
_MD = r"(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*[日号]"
# "应在2025年4月1日前", "应于2020年1月6日12点前", "请相关企业于3月5日前完成整改".
_GAP = r"(?:(?!应|须|需|务必|要|请)[^，。；\n]){0,20}?"  # "请相关企业于": no second modal
_ABS_YMD = lazy(rf"{_MODAL}{_GAP}(?:在|于)\s*{_YMD}{_BEFORE}")
_ABS_MD = lazy(rf"{_MODAL}{_GAP}(?:在|于)\s*(?<!年){_MD}{_BEFORE}")
# Without a modal verb the phrase must go on to say what has to be done.
_ABS_YMD_BARE = lazy(rf"(?:在|于)\s*{_YMD}{_BEFORE}(?=\s*(?:完成|整改|反馈|提交|报送))")
_ABS_MD_BARE = lazy(rf"(?:在|于)\s*(?<![年\d]){_MD}{_BEFORE}(?=\s*(?:完成|整改|反馈|提交|报送))")
_SINCE = r"(?:(?:自|从)?(?:本通报|本通知|通报|通知)?(?:发布|印发|公布|下发|发出)?之?日起\s*)?"
_WORKING = lazy(
    rf"{_SINCE}(?<![\d月.])(?P<n>{_NUM})\s*个?\s*工作日(?:之内|以内|内)"
    rf"|(?:期限|时限|限期)(?:为|是)?\s*(?P<n2>{_NUM})\s*个?\s*工作日"
)
_CAL_DAYS = lazy(rf"{_SINCE}(?<![\d月.])(?P<n>{_NUM})\s*(?:个)?\s*(?:自然日|日|天)(?:之内|以内|内)")
_WEEKS = lazy(rf"{_SINCE}(?P<n>{_NUM})\s*(?:个)?\s*(?:周|星期|礼拜)(?:之内|以内|内)")
# A relative phrase counts only in a sentence that asks for something to be done.
_ANY_ACTION = lazy(".", re.S)  # any sentence: no action word asked for around the period
_ACTION = lazy(r"整改|完成|反馈|落实|报送|提交|改正|整治|修复")

_EN_WORKING = lazy(
    rf"\b(?:within|in|over)\s+(?:the\s+next\s+)?(?P<n>{EN_NUMBER_PATTERN})\s+"
    r"(?:working|business|work)\s+days?\b",
    re.I,
)
_EN_WORKING_LOOSE = lazy(
    rf"\b(?P<n>{EN_NUMBER_PATTERN})\s+(?:working|business)\s+days?\b(?!\s+(?:ago|earlier))", re.I
)
# "gave them a week", "giving the companies one week": who is given may stand in between.
_EN_GIVEN = r"(?:have|has|had|given|got|gave|give|gives|giving|granted|grants)(?:\s+[\w'’-]+){0,3}?"
_EN_WEEK = lazy(
    rf"\b(?:(?:within|in)\s+(?:a|one|the\s+(?:set|given|next))|{_EN_GIVEN}"
    rf"\s+(?:only\s+|just\s+)?(?:a|one))\s+week\b"
    rf"|\b(?:within|in)\s+(?P<n>{EN_NUMBER_PATTERN})\s+weeks\b",
    re.I,
)
_EN_DAYS = lazy(
    rf"\b(?:within|in|{_EN_GIVEN})\s+(?:the\s+next\s+)?(?P<n>{EN_NUMBER_PATTERN})"
    r"\s+(?:calendar\s+)?days\b(?!\s+(?:ago|earlier))",
    re.I,
)
_EN_ACTION = lazy(
    r"rectif|fix|correct|remed|comply|report|resolve|address|deadline|chang|amend|improv", re.I
)
_EN_MONTHS = {
    m: i + 1
    for i, m in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
    )
}
# "fix the problems by Nov. 10", "have until January 5, 2022 to rectify"
_EN_ABSOLUTE = lazy(
    r"\b(?:by|before|until|no later than)\s+(?:(?:Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day,?\s+)?"
    r"(?P<mon>Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?"
    r"|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?\s+(?P<d>\d{1,2})"
    r"(?:st|nd|rd|th)?\b(?:,?\s+(?P<y>(?:19|20)\d{2})\b)?",
    re.I,
)


@dataclass(frozen=True)
class _Found:
    start: int
    deadline: Deadline


def _sentence_around(text: str, start: int, end: int) -> str:
    left = max(text.rfind(mark, 0, start) for mark in "。；;\n!?！？")
    right_candidates = [i for i in (text.find(mark, end) for mark in "。；;\n!?！？") if i >= 0]
    right = min(right_candidates) if right_candidates else len(text)
    return text[left + 1 : right]


def _hour(m: re.Match[str]) -> int | None:
    raw = m.groupdict().get("hour")
    if raw is None:
        return None
    hour = int(raw)
    if m.groupdict().get("period") in ("下午", "晚上", "晚") and hour < 12:
        hour += 12
    return hour if 0 <= hour <= 24 else None


def _month_day(published_on: date, month: int, day: int) -> date | None:
    """Month and day without a year: the first such date on or after publication, in its year
    or the next (a December notice with a January deadline is due next year; 2月29日 in a
    notice of March 2023 is 29 February 2024)."""
    for year in (published_on.year, published_on.year + 1):
        try:
            due = date(year, month, day)
        except ValueError:  # no such day that year (2月30日, 29 February), or past year 9999
            continue
        if due >= published_on:
            return due
    return None


def _english_absolute(text: str, folded: str, published_on: date) -> list[_Found]:
    found: list[_Found] = []
    for m in _EN_ABSOLUTE.finditer(folded):
        if not _EN_ACTION.search(_sentence_around(folded, m.start(), m.end())):
            continue
        month, day = _EN_MONTHS[m["mon"][:3].lower()], int(m["d"])
        if m["y"]:
            try:
                due: date | None = date(int(m["y"]), month, day)
            except ValueError:
                continue
            if due is not None and due < published_on:
                continue
        else:
            due = _month_day(published_on, month, day)
        if due is None:
            continue
        phrase = text[m.start() : m.end()]
        found.append(_Found(m.start(), Deadline(due_on=due, rule="absolute", source_text=phrase)))
    return found


def _absolute(text: str, folded: str, published_on: date) -> list[_Found]:
    found: list[_Found] = []
    for pattern in (_ABS_YMD, _ABS_YMD_BARE):
        for m in pattern.finditer(folded):
            try:
                due = date(int(m["y"]), int(m["m"]), int(m["d"]))
            except ValueError:
                continue
            if due < published_on:  # a deadline of an earlier notice, quoted
                continue
            phrase = text[m.start() : m.end()]
            deadline = Deadline(due_on=due, rule="absolute", source_text=phrase, due_hour=_hour(m))
            found.append(_Found(m.start(), deadline))
    for pattern in (_ABS_MD, _ABS_MD_BARE):
        for m in pattern.finditer(folded):
            month_day = _month_day(published_on, int(m["m"]), int(m["d"]))
            if month_day is None:
                continue
            phrase = text[m.start() : m.end()]
            deadline = Deadline(
                due_on=month_day, rule="absolute", source_text=phrase, due_hour=_hour(m)
            )
            found.append(_Found(m.start(), deadline))
    return found


def _relative(
    text: str,
    folded: str,
    published_on: date,
    pattern: LazyPattern,
    number: Callable[[str], int | None],
    *,
    working: bool,
    multiplier: int = 1,
    action: LazyPattern = _ACTION,
) -> list[_Found]:
    found: list[_Found] = []
    for m in pattern.finditer(folded):
        raw = m.groupdict().get("n") or m.groupdict().get("n2")
        amount = number(raw) if raw else 1
        if amount is None or amount <= 0 or amount > 366:
            continue
        if not action.search(_sentence_around(folded, m.start(), m.end())):
            continue
        amount *= multiplier
        phrase = text[m.start() : m.end()].strip()
        try:
            if working:
                due, estimated = add_working_days(published_on, amount)
            else:
                due, estimated = add_calendar_days(published_on, amount), False
        except OverflowError:  # due after 9999-12-31: no date to give
            continue
        deadline = Deadline(
            due_on=due,
            rule="working_days" if working else "calendar_days",
            amount=amount,
            source_text=phrase,
            estimated=estimated,
        )
        found.append(_Found(m.start(), deadline))
    return found


def extract_deadline(text: str, published_on: date) -> Deadline | None:
    """The rectification deadline stated in ``text``, or None when it states none.

    Preference: an explicit date (with a year, then month/day only), then N working days,
    then N calendar days or weeks; within one kind, the first in the text. Removal notices
    have no rectification deadline.
    """
    if is_removal(text):
        return None
    folded = fold_width(text)
    absolute = _absolute(text, folded, published_on)
    with_year = [f for f in absolute if re.search(r"\d{4}\s*年", f.deadline.source_text)]
    english = _english_absolute(text, folded, published_on)
    groups: list[list[_Found]] = [
        with_year,
        [f for f in absolute if f not in with_year] + english,
        _relative(text, folded, published_on, _WORKING, cn_number, working=True)
        + _relative(
            text,
            folded,
            published_on,
            _EN_WORKING,
            en_number,
            working=True,
            action=_ANY_ACTION,
        )
        + _relative(
            text,
            folded,
            published_on,
            _EN_WORKING_LOOSE,
            en_number,
            working=True,
            action=_EN_ACTION,
        ),
        _relative(text, folded, published_on, _CAL_DAYS, cn_number, working=False)
        + _relative(text, folded, published_on, _WEEKS, cn_number, working=False, multiplier=7)
        + _relative(
            text,
            folded,
            published_on,
            _EN_WEEK,
            en_number,
            working=False,
            multiplier=7,
            action=_ANY_ACTION,
        )
        + _relative(
            text, folded, published_on, _EN_DAYS, en_number, working=False, action=_EN_ACTION
        ),
    ]
    for group in groups:
        if group:
            return min(group, key=lambda f: f.start).deadline
    return None
