"""Reminder times: end of the due day in Asia/Shanghai minus each offset."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from services.notifier.reminders import (
    SHANGHAI,
    days_left,
    deadline_at,
    deadline_passed,
    describe_label,
    due_day_at,
    fire_times,
    is_late,
    local_iso,
    overdue_at,
    reminder_plan,
    still_worth_sending,
    zone,
)
from shared.durations import format_duration, parse_durations

DUE = date(2021, 6, 11)
OFFSETS = parse_durations("7d,3d,1d")


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def test_deadline_is_end_of_day_in_shanghai() -> None:
    assert deadline_at(DUE) == utc(2021, 6, 11, 15, 59, 59)
    assert deadline_at(DUE).astimezone(SHANGHAI).isoformat() == "2021-06-11T23:59:59+08:00"


def test_all_reminders_ahead() -> None:
    assert fire_times(DUE, OFFSETS, utc(2021, 5, 21, 10)) == [
        ("7d", utc(2021, 6, 4, 15, 59, 59)),
        ("3d", utc(2021, 6, 8, 15, 59, 59)),
        ("1d", utc(2021, 6, 10, 15, 59, 59)),
    ]


def test_order_and_labels_do_not_depend_on_input_order() -> None:
    shuffled = parse_durations("1d,7d,12h,3d,7d")
    labels = [label for label, _ in fire_times(DUE, shuffled, utc(2021, 5, 21))]
    assert labels == ["7d", "3d", "1d", "12h"]


def test_past_offsets_are_skipped() -> None:
    now = utc(2021, 6, 6)  # after the 7d reminder, before the 3d one
    assert [label for label, _ in fire_times(DUE, OFFSETS, now)] == ["3d", "1d"]
    assert fire_times(DUE, OFFSETS, utc(2021, 6, 12)) == []
    exactly = utc(2021, 6, 10, 15, 59, 59)
    assert fire_times(DUE, OFFSETS, exactly) == [("1d", exactly)]


def test_naive_now_is_utc() -> None:
    assert fire_times(DUE, OFFSETS, datetime(2021, 6, 6)) == fire_times(
        DUE, OFFSETS, utc(2021, 6, 6)
    )


def test_negative_offset_is_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        fire_times(DUE, [timedelta(days=-1)], utc(2021, 5, 21))


def test_days_left_counts_shanghai_days() -> None:
    for label, fire_at in fire_times(DUE, OFFSETS, utc(2021, 5, 21)):
        assert days_left(DUE, fire_at) == int(label.removesuffix("d"))
    # 2021-06-10 17:00 UTC is already 2021-06-11 01:00 in Shanghai: the due day
    assert days_left(DUE, utc(2021, 6, 10, 17)) == 0
    assert days_left(DUE, utc(2021, 6, 10, 15)) == 1
    assert days_left(DUE, utc(2021, 6, 13)) == -2
    assert days_left(DUE, datetime(2021, 6, 10, 17)) == 0


@pytest.mark.parametrize(
    ("text", "label"),
    [("7d", "7d"), ("14d", "14d"), ("1w", "7d"), ("36h", "36h"), ("90m", "90m"), ("45s", "45s")],
)
def test_offset_labels_use_days_not_weeks(text: str, label: str) -> None:
    assert format_duration(parse_durations(text)[0]) == label


# --- due day, overdue, late ------------------------------------------------------------------


def test_plan_adds_due_day_and_overdue_at_nine_in_shanghai() -> None:
    plan = reminder_plan(DUE, OFFSETS, utc(2021, 5, 21))
    assert [label for label, _ in plan] == ["7d", "3d", "1d", "due", "overdue"]
    times = dict(plan)
    assert times["due"].astimezone(SHANGHAI).isoformat() == "2021-06-11T09:00:00+08:00"
    assert times["overdue"].astimezone(SHANGHAI).isoformat() == "2021-06-12T09:00:00+08:00"
    assert due_day_at(DUE) == times["due"] and overdue_at(DUE) == times["overdue"]


def test_plan_without_extras_and_after_some_passed() -> None:
    assert [
        label
        for label, _ in reminder_plan(DUE, OFFSETS, utc(2021, 5, 21), due_day=False, overdue=False)
    ] == ["7d", "3d", "1d"]
    # on the due day at noon Shanghai (04:00 UTC): only the overdue one is still ahead
    assert [label for label, _ in reminder_plan(DUE, OFFSETS, utc(2021, 6, 11, 4))] == ["overdue"]


def test_worth_sending_until_the_deadline_passes_except_overdue() -> None:
    assert still_worth_sending("1d", DUE, utc(2021, 6, 11, 15))  # 23:00 Shanghai on the due day
    assert not still_worth_sending("1d", DUE, utc(2021, 6, 11, 16, 0, 1))  # next day in Shanghai
    assert still_worth_sending("overdue", DUE, utc(2021, 6, 14))
    assert not still_worth_sending("overdue", DUE, utc(2021, 6, 20))  # a week after: stale
    assert deadline_passed(DUE, utc(2021, 6, 12)) and not deadline_passed(DUE, utc(2021, 6, 11))


def test_late_and_local_time() -> None:
    fire_at = utc(2021, 6, 10, 15, 59, 59)
    tolerance = timedelta(minutes=1)
    assert not is_late(fire_at, fire_at + timedelta(seconds=30), tolerance)
    assert is_late(fire_at, fire_at + timedelta(hours=3), tolerance)
    assert local_iso(fire_at, zone("Europe/Berlin")) == "2021-06-10T17:59:59+02:00"
    assert local_iso(fire_at, zone("Not/AZone")) == "2021-06-10T23:59:59+08:00"
    assert local_iso(fire_at, zone(None)) == "2021-06-10T23:59:59+08:00"


@pytest.mark.parametrize(
    ("label", "text"),
    [("7d", "7d before the deadline"), ("due", "due today"), ("overdue", "overdue")],
)
def test_labels(label: str, text: str) -> None:
    assert describe_label(label) == text


def test_a_deadline_at_an_hour_moves_the_reminders() -> None:
    plan = dict(reminder_plan(DUE, parse_durations("1d"), utc(2021, 5, 21), due_hour=12))
    assert plan["1d"] == utc(2021, 6, 10, 4)  # 12:00 Shanghai the day before
    assert plan["due"] == utc(2021, 6, 11, 1)  # 09:00 is still before noon
    early = dict(reminder_plan(DUE, [], utc(2021, 5, 21), due_hour=8))
    assert early["due"] == utc(2021, 6, 10, 23)  # an hour before 08:00 Shanghai
    assert deadline_at(DUE, 24) == deadline_at(DUE)
