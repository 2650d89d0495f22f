"""Properties of the extractor over generated input (hypothesis).

- ``parse_notice`` and ``decode_bytes`` never fail with anything but ``InputError``, whatever
  the bytes, and a notice they read never has a deadline before its publication.
- ``extract_deadline`` never gives a due date before publication, for any publication date;
  its deadlines agree with their rule; month/day and full dates resolve as documented.
- ``add_working_days`` counts the days of ``chinese_calendar`` where that covers the year and
  Monday-Friday (flagged as an estimate) where it does not.
"""

from __future__ import annotations

from datetime import date, timedelta

import chinese_calendar
import pytest
from hypothesis import HealthCheck, Phase, example, find, given, settings
from hypothesis import strategies as st

from services.ingestor.extract import parse_notice
from services.ingestor.extract.calendar import add_working_days
from services.ingestor.extract.deadline import extract_deadline
from services.ingestor.extract.decode import decode_bytes
from shared.errors import InputError
from shared.events import NoticeEvent

FUZZ = settings(
    max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
PROPERTY = settings(max_examples=200, deadline=None, database=None)

# Years the holiday calendar covers (2004-2026 in chinesecalendar 1.11).
FIRST_YEAR = min(chinese_calendar.holidays).year
LAST_YEAR = max(chinese_calendar.holidays).year

CN_DIGITS = "零一二三四五六七八九"
MODALS = ["应", "应当", "须", "需", "必须", "请", "要"]
ACTIONS = ["完成整改", "整改完毕", "完成整改并反馈", "报送整改报告", "提交整改情况"]
APPS = ["抖音", "快手", "云游宝", "星云笔记", "蓝鲸出行", "WiFi万能钥匙", "某某阅读", "QQ"]
COMPANIES = [
    "北京微播视界科技有限公司",
    "北京快手科技有限公司",
    "杭州星云软件有限公司",
    "成都蓝鲸出行科技有限公司",
    "上海某某信息技术有限公司",
]
REGULATORS = [
    "国家互联网信息办公室",
    "工业和信息化部",
    "北京市通信管理局",
    "广东省通信管理局",
    "国家计算机病毒应急处理中心",
    "公安部",
]
MONTHS_EN = ["Jan.", "February", "Mar", "April", "May", "June", "Jul", "Aug.", "Sept", "Nov"]


def chinese_number(n: int) -> str:
    """1..99 in Chinese numerals: 15 -> 十五, 20 -> 二十."""
    if n < 10:
        return CN_DIGITS[n]
    tens, ones = divmod(n, 10)
    return ("" if tens == 1 else CN_DIGITS[tens]) + "十" + (CN_DIGITS[ones] if ones else "")


def numeral(n: int) -> st.SearchStrategy[str]:
    """n as Arabic digits, full-width digits or (below 100) Chinese numerals."""
    forms = [str(n), str(n).translate(str.maketrans("0123456789", "０１２３４５６７８９"))]
    if 0 < n < 100:
        forms.append(chinese_number(n))
    return st.sampled_from(forms)


def working_day_oracle(day: date) -> tuple[bool, bool]:
    """(working day, estimated): chinese_calendar inside its years, else Monday-Friday."""
    if FIRST_YEAR <= day.year <= LAST_YEAR:
        return chinese_calendar.is_workday(day), False
    return day.weekday() < 5, True


# --- generated notices ----------------------------------------------------------------

modal = st.sampled_from(MODALS)
action = st.sampled_from(ACTIONS)
month = st.integers(0, 13)  # 0 and 13 are not months
day_of_month = st.integers(0, 32)


# Characters a notice could hold: no controls, surrogates or unassigned code points (arbitrary
# text and bytes have tests of their own).
readable = st.characters(exclude_categories=("Cc", "Cs", "Co", "Cn"))
filler = st.text(readable, max_size=40)


@st.composite
def deadline_phrase(draw: st.DrawFn) -> str:
    """A deadline sentence of one of the kinds notices use, sometimes impossible (2月30日)."""
    kind = draw(st.sampled_from(["md", "ymd", "work", "days", "weeks", "en", "bare", "removal"]))
    m, d = draw(month), draw(day_of_month)
    if kind == "md":
        hour = draw(st.sampled_from(["", "12点", "下午5点", "18:00"]))
        return f"{draw(modal)}在{m}月{d}日{hour}前{draw(action)}。"
    if kind == "ymd":
        y = draw(st.integers(1000, 9999))
        return f"相关企业{draw(modal)}于{y}年{m}月{d}日前{draw(action)}。"
    if kind == "work":
        written = draw(numeral(draw(st.integers(0, 999))))
        since = draw(st.sampled_from(["", "自本通报发布之日起", "自通知下发之日起"]))
        return f"{draw(modal)}{since}{written}个工作日内{draw(action)}。"
    if kind == "days":
        written = draw(numeral(draw(st.integers(0, 999))))
        unit = draw(st.sampled_from(["天", "日", "自然日", "个自然日"]))
        return f"{draw(modal)}在{written}{unit}内{draw(action)}。"
    if kind == "weeks":
        written = draw(st.sampled_from(["一", "两", "二", "1", "3", "十"]))
        unit = draw(st.sampled_from(["周", "个星期", "个礼拜"]))
        return f"{draw(modal)}在{written}{unit}内{draw(action)}。"
    if kind == "en":
        n, mon = draw(st.integers(0, 400)), draw(st.sampled_from(MONTHS_EN))
        return draw(
            st.sampled_from(
                [
                    f"The apps must rectify within {n} working days.",
                    f"They have {n} days to fix the problems.",
                    "Operators were given a week to rectify.",
                    f"Fix the problems by {mon} {d}.",
                    f"They have until {mon} {d}, {1900 + n % 200} to rectify.",
                ]
            )
        )
    if kind == "bare":
        return f"于{m}月{d}日前{draw(st.sampled_from(['完成', '整改', '反馈']))}。"
    return "现组织对上述App进行下架处理。"


@st.composite
def date_line(draw: st.DrawFn) -> str:
    y, m, d = draw(st.integers(1985, 2105)), draw(month), draw(day_of_month)
    return draw(
        st.sampled_from(
            [
                f"{y}年{m}月{d}日",
                f"发布时间：{y}-{m:02d}-{d:02d}",
                f"{y}-{m:02d}-{d:02d} 来源：网信办",
                f"日期：{y}/{m}/{d}",
                f"Published: May {d}, {y}",
            ]
        )
    )


@st.composite
def list_line(draw: st.DrawFn) -> str:
    index = draw(st.integers(0, 200))
    app = draw(st.sampled_from(APPS) | st.text(readable, min_size=1, max_size=12))
    company = draw(st.sampled_from(COMPANIES) | st.text(readable, max_size=20))
    version = draw(st.sampled_from(["", " 6.2.1", "（版本号：1.0）"]))
    return draw(
        st.sampled_from(
            [
                f"{index}. {app}（{company}）",
                f"{index}、{app}{version}，{company}",
                f"{index}\t{app}\t{company}\t{draw(st.sampled_from(['应用宝', '华为应用市场']))}",
                f"（{chinese_number(index % 99 + 1)}）{app}",
            ]
        )
    )


@st.composite
def title_line(draw: st.DrawFn) -> str:
    n = draw(st.integers(0, 300))
    app = draw(st.sampled_from(APPS))
    return draw(
        st.sampled_from(
            [
                f"关于{app}等{n}款App违法违规收集使用个人信息情况的通报",
                f"关于侵害用户权益行为的APP通报（2021年第{n}批，总第{n + 10}批）",
                f"关于下架{app}等{chinese_number(n % 99 + 1)}款App的通报",
                f"Regulator names {n} apps over data collection",
            ]
        )
    )


def html_table(rows: list[str]) -> str:
    cells = "".join(
        "<tr>" + "".join(f"<td>{cell}</td>" for cell in row.split("（", 1)) + "</tr>"
        for row in rows
    )
    return f"<table><tr><th>序号</th><th>应用名称</th><th>开发者</th></tr>{cells}</table>"


@st.composite
def notice_text(draw: st.DrawFn) -> tuple[str, str]:
    """(text, file name): the parts of a notice - regulator, title, date, deadline, list - in
    their usual order or shuffled, with filler, as text or as a page."""
    parts = draw(
        st.lists(
            st.one_of(
                st.sampled_from(REGULATORS),
                title_line(),
                date_line(),
                deadline_phrase(),
                list_line(),
                filler,
            ),
            max_size=14,
        )
    )
    if draw(st.booleans()):
        head = [draw(st.sampled_from(REGULATORS)), draw(title_line()), draw(date_line())]
        parts = [*head, draw(deadline_phrase()), *parts]
    rows = draw(st.lists(list_line(), max_size=5))
    if draw(st.booleans()):
        body = "".join(f"<p>{part}</p>" for part in parts) + html_table(rows)
        page = draw(st.sampled_from(["<html><body>{}</body></html>", "<div>{}</div>", "{}"]))
        return page.format(body), draw(st.sampled_from(["notice.html", "notice", "n.shtml"]))
    return "\n".join(parts + rows), draw(st.sampled_from(["notice.txt", "notice", "n.md"]))


encoding = st.sampled_from(["utf-8", "utf-8-sig", "gb18030", "utf-16", "utf-16-le", "big5"])
# Any date, weighted towards the years notices have and the last days a date can be.
any_date = st.one_of(
    st.dates(),
    st.dates(min_value=date(1900, 1, 1), max_value=date(2200, 12, 31)),
    st.dates(min_value=date.max - timedelta(days=60)),
)
published = st.none() | any_date
# Month and day, weighted towards the ends of months and 29 February.
month_day = st.tuples(st.integers(1, 12), st.integers(1, 31)) | st.sampled_from(
    [(2, 28), (2, 29), (12, 31), (1, 1), (4, 30)]
)


def parse_or_refuse(data: bytes, name: str, published_on: date | None) -> NoticeEvent | None:
    """The event, or None when the notice is refused with an ``InputError`` naming the file."""
    try:
        event = parse_notice(data, name=name, published_on=published_on)
    except InputError as error:
        assert str(error).startswith(name), error
        return None
    assert isinstance(event, NoticeEvent)
    if published_on is not None:
        assert event.published_on == published_on
    if event.deadline is not None:
        assert event.deadline.due_on >= event.published_on, event.deadline
    return event


@FUZZ
@given(text=st.text(max_size=400), published_on=published)
def test_any_text_is_read_or_refused(text: str, published_on: date | None) -> None:
    parse_or_refuse(text.encode("utf-8", "surrogatepass"), "notice.txt", published_on)


@FUZZ
@given(
    data=st.binary(max_size=600)
    | st.binary(max_size=300).map(lambda b: b"PK\x03\x04" + b)
    | st.binary(max_size=300).map(lambda b: b"\xff\xfe" + b),
    name=st.sampled_from(["notice.txt", "notice.html", "notice.docx", "notice.csv", "notice"]),
    published_on=published,
)
def test_any_bytes_are_read_or_refused(data: bytes, name: str, published_on: date | None) -> None:
    parse_or_refuse(data, name, published_on)


@FUZZ
@given(data=st.binary(max_size=600))
def test_decoding_gives_text_or_input_error(data: bytes) -> None:
    try:
        text = decode_bytes(data, name="n.txt")
    except InputError as error:
        assert str(error).startswith("n.txt: ")
    else:
        assert text.strip()


@FUZZ
@given(notice=notice_text(), encoding=encoding, published_on=published)
def test_generated_notices_are_read_or_refused(
    notice: tuple[str, str], encoding: str, published_on: date | None
) -> None:
    text, name = notice
    try:
        data = text.encode(encoding)
    except UnicodeEncodeError:
        data = text.encode("utf-8", "surrogatepass")
    parse_or_refuse(data, name, published_on)


def test_generated_notices_reach_the_whole_extractor() -> None:
    """Not only refusals: some generated notices are read, with a deadline and entities."""

    def read_with_deadline(generated: tuple[tuple[str, str], str]) -> bool:
        (text, name), encoding = generated
        try:
            event = parse_notice(text.encode(encoding, "replace"), name=name)
        except InputError:
            return False
        return event.deadline is not None and bool(event.entities)

    find(
        st.tuples(notice_text(), encoding),
        read_with_deadline,
        settings=settings(max_examples=300, database=None, phases=[Phase.generate]),
    )


# --- deadlines ------------------------------------------------------------------------


@PROPERTY
@given(
    phrases=st.lists(deadline_phrase() | st.text(max_size=20), min_size=1, max_size=4),
    published_on=any_date,
)
@example(phrases=["应自本通报发布之日起15个工作日内完成整改。"], published_on=date.max)
@example(phrases=["应在1月5日前完成整改。"], published_on=date(9999, 12, 31))
def test_deadline_is_never_before_publication(phrases: list[str], published_on: date) -> None:
    deadline = extract_deadline("\n".join(phrases), published_on)
    if deadline is None:
        return
    assert deadline.due_on >= published_on
    if deadline.rule == "calendar_days":
        assert deadline.amount is not None
        assert (deadline.due_on - published_on).days == deadline.amount
    elif deadline.rule == "working_days":
        assert deadline.amount is not None and deadline.amount > 0
        assert deadline.due_on > published_on
        working, estimated = working_day_oracle(deadline.due_on)
        assert working
        assert deadline.estimated or not estimated
    else:
        assert deadline.amount is None


def first_on_or_after(published_on: date, m: int, d: int) -> date | None:
    """The first ``m``/``d`` on or after publication, in its year or the next."""
    for year in (published_on.year, published_on.year + 1):
        try:
            due = date(year, m, d)
        except ValueError:
            continue
        if due >= published_on:
            return due
    return None


@PROPERTY
@given(
    published_on=any_date,
    md=month_day,
    verb=modal,
    act=action,
)
@example(published_on=date(2020, 12, 22), md=(1, 5), verb="应", act="完成整改")
@example(published_on=date(2021, 11, 3), md=(11, 3), verb="应", act="完成整改")
@example(published_on=date(2023, 3, 1), md=(2, 29), verb="应", act="完成整改")
@example(published_on=date(2024, 3, 1), md=(2, 29), verb="应", act="完成整改")
def test_month_and_day_roll_forward_to_the_next_such_date(
    published_on: date, md: tuple[int, int], verb: str, act: str
) -> None:
    m, d = md
    deadline = extract_deadline(f"上述App{verb}在{m}月{d}日前{act}。", published_on)
    expected = first_on_or_after(published_on, m, d)
    if expected is None:
        assert deadline is None
        return
    assert deadline is not None
    assert (deadline.due_on, deadline.rule) == (expected, "absolute")


@PROPERTY
@given(
    published_on=any_date,
    due=st.dates(min_value=date(1000, 1, 1)),
    verb=modal,
    act=action,
)
def test_a_full_date_is_taken_unless_it_is_before_publication(
    published_on: date, due: date, verb: str, act: str
) -> None:
    text = f"相关企业{verb}于{due.year}年{due.month}月{due.day}日前{act}。"
    deadline = extract_deadline(text, published_on)
    if due < published_on:
        assert deadline is None  # a deadline of an earlier notice, quoted
    else:
        assert deadline is not None
        assert (deadline.due_on, deadline.rule) == (due, "absolute")


@PROPERTY
@given(
    published_on=st.dates(min_value=date(1900, 1, 1), max_value=date(2200, 12, 31)),
    n=st.integers(1, 366),
    data=st.data(),
)
def test_n_working_days_is_the_nth_working_day(
    published_on: date, n: int, data: st.DataObject
) -> None:
    words = data.draw(numeral(n), label="n as written")
    deadline = extract_deadline(f"应自本通报发布之日起{words}个工作日内完成整改。", published_on)
    assert deadline is not None
    assert (deadline.rule, deadline.amount) == ("working_days", n)
    counted, day, estimated = 0, published_on, False
    while counted < n:
        day += timedelta(days=1)
        working, guessed = working_day_oracle(day)
        counted += working
        estimated = estimated or guessed
    assert (deadline.due_on, deadline.estimated) == (day, estimated)


# --- working days ---------------------------------------------------------------------

covered = st.dates(min_value=date(FIRST_YEAR, 1, 1), max_value=date(LAST_YEAR, 12, 31))
uncovered = st.dates(min_value=date(1900, 1, 1), max_value=date(FIRST_YEAR - 1, 12, 31)) | (
    st.dates(min_value=date(LAST_YEAR + 1, 1, 1), max_value=date(2300, 12, 31))
)
near_an_edge = st.sampled_from([date(FIRST_YEAR, 1, 1), date(LAST_YEAR + 1, 1, 1)]).flatmap(
    lambda edge: st.integers(-200, 30).map(lambda offset: edge + timedelta(days=offset))
)


def days_after(start: date, end: date) -> list[date]:
    """The days of (start, end]."""
    return [start + timedelta(days=i) for i in range(1, (end - start).days + 1)]


@PROPERTY
@given(start=covered | uncovered | near_an_edge, n=st.integers(0, 150))
def test_working_days_follow_the_calendar(start: date, n: int) -> None:
    due, estimated = add_working_days(start, n)
    days = days_after(start, due)
    if n == 0:
        assert (due, estimated) == (start, False)
        return
    inside = [day for day in days if FIRST_YEAR <= day.year <= LAST_YEAR]
    outside = [day for day in days if not FIRST_YEAR <= day.year <= LAST_YEAR]
    # n working days in (start, due], the last of them on due itself
    counted = sum(chinese_calendar.is_workday(day) for day in inside) + sum(
        day.weekday() < 5 for day in outside
    )
    assert counted == n
    assert working_day_oracle(due)[0]
    assert estimated == bool(outside)
    if not outside:
        assert chinese_calendar.is_workday(due)
    else:
        with pytest.raises(NotImplementedError):
            chinese_calendar.is_workday(outside[0])


@given(start=st.dates(), n=st.integers(max_value=-1))
def test_negative_working_days_are_refused(start: date, n: int) -> None:
    with pytest.raises(ValueError, match="must not be negative"):
        add_working_days(start, n)
