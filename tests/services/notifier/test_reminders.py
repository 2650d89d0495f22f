"""Reminder times: end of the due day in Asia/Shanghai minus each offset."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from services.notifier.reminders import (
    SHANGHAI,
    days_left,
    deadline_at,
    fire_times,
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
