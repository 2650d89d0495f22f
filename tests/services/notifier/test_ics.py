"""The iCalendar feed (RFC 5545): structure, folding at 75 octets, escaping, stable UIDs."""

from __future__ import annotations

from datetime import UTC, date, datetime

from services.notifier.ics import (
    CalendarDeadline,
    calendar,
    escape_text,
    event_uid,
    fold,
    unfold,
)
from shared.events import Deadline, EntityRef, Match, NoticeSummary, Regulator, WatchRef


def item(notice_id: str = "cac-2021-05-21", title: str | None = None) -> CalendarDeadline:
    notice = NoticeSummary(
        notice_id=notice_id,
        regulator=Regulator(code="CAC", name="国家互联网信息办公室"),
        kind="rectification",
        title=title
        or "关于抖音、快手等105款App违法违规收集使用个人信息情况的通报; 第二批, 共105款",
        published_on=date(2021, 5, 21),
        deadline=Deadline(
            due_on=date(2021, 6, 11), rule="working_days", amount=15, source_text="15个工作日内"
        ),
        source_url="https://www.cac.gov.cn/2021-05/21/c_1623191833.htm",
    )
    matches = [
        Match(
            watch=WatchRef(kind="app", name="Douyin"),
            entity=EntityRef(name="抖音", developer="北京微播视界科技有限公司"),
            score=0.97,
            reason="alias, Douyin = 抖音; pinyin",
        ),
        Match(
            watch=WatchRef(kind="company", name="Kuaishou"),
            entity=EntityRef(name="快手"),
            score=0.9,
            reason="developer",
        ),
    ]
    return CalendarDeadline(
        "sub_1", notice, matches, date(2021, 6, 11), datetime(2021, 5, 21, 8, tzinfo=UTC)
    )


def test_escape_text() -> None:
    assert escape_text("a,b;c\\d\ne\r\nf") == "a\\,b\\;c\\\\d\\ne\\nf"
    assert escape_text("x\x00y\x1b") == "xy"


def test_fold_keeps_lines_within_75_octets_and_never_splits_a_character() -> None:
    line = "SUMMARY:" + "抖音快手" * 40
    folded = fold(line)
    physical = folded.split("\r\n")
    assert len(physical) > 1
    assert all(len(p.encode("utf-8")) <= 75 for p in physical)
    assert all(p.startswith(" ") for p in physical[1:])
    assert unfold(folded) == [line]
    assert fold("SHORT:x") == "SHORT:x"


def test_calendar_document() -> None:
    text = calendar([item(), item("miit-2021-08-03", title="Short")])
    assert text.endswith("\r\n")
    assert "\n" not in text.replace("\r\n", "")  # only CRLF line ends
    for physical in text.split("\r\n"):
        assert len(physical.encode("utf-8")) <= 75
    lines = unfold(text)[:-1]
    assert lines[0] == "BEGIN:VCALENDAR" and lines[-1] == "END:VCALENDAR"
    assert "VERSION:2.0" in lines and any(line.startswith("PRODID:") for line in lines)
    assert lines.count("BEGIN:VEVENT") == 2 == lines.count("END:VEVENT")
    first = lines[lines.index("BEGIN:VEVENT") : lines.index("END:VEVENT") + 1]
    props = {line.split(":", 1)[0]: line.split(":", 1)[1] for line in first}
    assert props["DTSTART;VALUE=DATE"] == "20210611"
    assert props["DTEND;VALUE=DATE"] == "20210612"  # all day, exclusive end
    assert props["DTSTAMP"] == "20210521T080000Z"
    assert props["UID"] == event_uid("sub_1", "cac-2021-05-21")
    assert props["SUMMARY"] == "CAC deadline: 抖音\\, 快手"
    assert props["URL"] == "https://www.cac.gov.cn/2021-05/21/c_1623191833.htm"
    assert "第二批\\, 共105款" in props["DESCRIPTION"] and "\\;" in props["DESCRIPTION"]
    assert "\\n" in props["DESCRIPTION"]


def test_uid_is_stable_and_distinct() -> None:
    assert event_uid("sub_1", "n1") == event_uid("sub_1", "n1")
    assert event_uid("sub_1", "n1") != event_uid("sub_2", "n1")
    assert event_uid("sub_1", "n1").endswith("@regwatch")


def test_unsafe_source_link_is_left_out() -> None:
    unsafe = item()
    unsafe.notice.source_url = "javascript:alert(1)"
    assert "URL:" not in calendar([unsafe])


def test_empty_calendar_is_valid() -> None:
    lines = unfold(calendar([]))
    assert lines[0] == "BEGIN:VCALENDAR" and lines[-2] == "END:VCALENDAR" and lines[-1] == ""
