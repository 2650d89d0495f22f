"""Reminder times: whole-day offsets at the subscriber's reminder time on local days before the
deadline's day, other offsets exactly before the end of the due day in Asia/Shanghai."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from services.notifier.reminders import (
    SHANGHAI,
    Clock,
    days_left,
    deadline_at,
    deadline_day,
    deadline_passed,
    describe_label,
    due_day_at,
    is_late,
    label_at,
    local_iso,
    offset_at,
    overdue_at,
    reminder_plan,
    split_plan,
    still_worth_sending,
    whole_days,
    zone,
)
from shared.durations import format_duration, parse_duration, parse_durations

DUE = date(2021, 6, 11)
OFFSETS = parse_durations("7d,3d,1d")
BERLIN = Clock(ZoneInfo("Europe/Berlin"))
NEW_YORK = Clock(ZoneInfo("America/New_York"))
KOLKATA = Clock(ZoneInfo("Asia/Kolkata"))
TOKYO = Clock(ZoneInfo("Asia/Tokyo"))
HONOLULU = Clock(ZoneInfo("Pacific/Honolulu"))


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def local(moment: datetime, clock: Clock) -> str:
    return moment.astimezone(clock.tz).isoformat()


def test_deadline_is_end_of_day_in_shanghai() -> None:
    assert deadline_at(DUE) == utc(2021, 6, 11, 15, 59, 59)
    assert deadline_at(DUE).astimezone(SHANGHAI).isoformat() == "2021-06-11T23:59:59+08:00"
    assert deadline_at(DUE, 24) == deadline_at(DUE)


def test_day_offsets_fire_at_nine_in_shanghai_by_default() -> None:
    plan = reminder_plan(DUE, OFFSETS, Clock(), due_day=False, overdue=False)
    assert plan == [
        ("7d", utc(2021, 6, 4, 1)),
        ("3d", utc(2021, 6, 8, 1)),
        ("1d", utc(2021, 6, 10, 1)),
    ]
    assert local(plan[0][1], Clock()) == "2021-06-04T09:00:00+08:00"


def test_berlin_gets_nine_local_on_both_sides_of_the_spring_dst_change() -> None:
    # Berlin moves to summer time on 2026-03-29; the deadline 2026-04-02 ends at 17:59:59 CEST
    due = date(2026, 4, 2)
    times = dict(reminder_plan(due, OFFSETS, BERLIN))
    assert local(times["7d"], BERLIN) == "2026-03-26T09:00:00+01:00"
    assert local(times["3d"], BERLIN) == "2026-03-30T09:00:00+02:00"
    assert local(times["1d"], BERLIN) == "2026-04-01T09:00:00+02:00"
    assert local(times["due"], BERLIN) == "2026-04-02T09:00:00+02:00"
    assert local(times["overdue"], BERLIN) == "2026-04-03T09:00:00+02:00"
    assert times["7d"] == utc(2026, 3, 26, 8) and times["3d"] == utc(2026, 3, 30, 7)


def test_new_york_and_a_half_hour_zone() -> None:
    due = date(2026, 12, 20)  # ends 10:59:59 EST, 21:29:59 IST the same day
    ny = dict(reminder_plan(due, OFFSETS, NEW_YORK))
    assert local(ny["7d"], NEW_YORK) == "2026-12-13T09:00:00-05:00"
    assert local(ny["due"], NEW_YORK) == "2026-12-20T09:00:00-05:00"
    assert local(ny["overdue"], NEW_YORK) == "2026-12-21T09:00:00-05:00"
    kolkata = dict(reminder_plan(due, OFFSETS, KOLKATA))
    assert kolkata["1d"] == utc(2026, 12, 19, 3, 30)
    assert local(kolkata["1d"], KOLKATA) == "2026-12-19T09:00:00+05:30"


def test_east_of_shanghai_counts_from_the_notice_date() -> None:
    # 23:59:59 China time is 00:59:59 the next day in Tokyo: the deadline's day stays the 20th
    due = date(2026, 12, 20)
    assert deadline_day(due, TOKYO) == due
    times = dict(reminder_plan(due, parse_durations("1d"), TOKYO))
    assert local(times["1d"], TOKYO) == "2026-12-19T09:00:00+09:00"
    assert local(times["due"], TOKYO) == "2026-12-20T09:00:00+09:00"
    assert local(times["overdue"], TOKYO) == "2026-12-21T09:00:00+09:00"
    assert times["overdue"] > deadline_at(due)


def test_hour_offsets_keep_exact_time_before_the_deadline() -> None:
    due = date(2026, 12, 20)
    for clock in (Clock(), BERLIN, NEW_YORK, KOLKATA):
        assert offset_at(parse_duration("12h"), due, clock) == utc(2026, 12, 20, 3, 59, 59)
        assert offset_at(parse_duration("36h"), due, clock) == utc(2026, 12, 19, 3, 59, 59)
        assert offset_at(timedelta(0), due, clock) == deadline_at(due)
    assert whole_days(parse_duration("24h")) == 1 and whole_days(parse_duration("1w")) == 7
    assert whole_days(parse_duration("36h")) is None and whole_days(timedelta(0)) is None


def test_a_reminder_time_of_its_own() -> None:
    clock = Clock(ZoneInfo("Europe/Berlin"), time(7, 30))
    assert local(label_at("3d", date(2026, 12, 20), clock), clock) == "2026-12-17T07:30:00+01:00"


def test_a_skipped_local_time_and_a_doubled_one_resolve_as_fold_zero() -> None:
    clock = Clock(ZoneInfo("Europe/Berlin"), time(2, 30))
    # 2026-03-29 02:30 does not exist in Berlin: fold=0 reads it with the winter offset
    assert offset_at(parse_duration("7d"), date(2026, 4, 5), clock) == utc(2026, 3, 29, 1, 30)
    # 2026-10-25 02:30 happens twice: fold=0 is the first (summer time)
    assert offset_at(parse_duration("7d"), date(2026, 11, 1), clock) == utc(2026, 10, 25, 0, 30)


def test_an_early_deadline_hour_moves_the_due_reminder_before_it() -> None:
    due = date(2026, 12, 20)
    # 12:00 China time is 18:00 the day before in Honolulu: that is the deadline's day there
    assert deadline_day(due, HONOLULU, 12) == date(2026, 12, 19)
    assert local(due_day_at(due, HONOLULU, 12), HONOLULU) == "2026-12-19T09:00:00-10:00"
    assert local(label_at("1d", due, HONOLULU, 12), HONOLULU) == "2026-12-18T09:00:00-10:00"
    # 08:00 China time is 01:00 in Berlin: 09:00 would be too late, so an hour before
    assert due_day_at(due, BERLIN, 8) == utc(2026, 12, 19, 23)
    assert local(overdue_at(due, BERLIN, 8), BERLIN) == "2026-12-21T09:00:00+01:00"
    shanghai = dict(reminder_plan(DUE, parse_durations("1d"), Clock(), due_hour=12))
    assert shanghai["1d"] == utc(2021, 6, 10, 1)  # 09:00 Shanghai the day before
    assert shanghai["due"] == utc(2021, 6, 11, 1)  # 09:00 is still before noon


def test_every_reminder_fires_before_the_deadline_and_overdue_after() -> None:
    due = date(2026, 3, 29)
    zones = ["Pacific/Kiritimati", "Pacific/Pago_Pago", "Asia/Kathmandu", "Europe/London"]
    for name in zones:
        for hour in (None, 0, 8, 12):
            for at in (time(0, 0), time(9, 0), time(23, 59)):
                clock = Clock(ZoneInfo(name), at)
                plan = dict(reminder_plan(due, OFFSETS, clock, due_hour=hour))
                deadline = deadline_at(due, hour)
                assert all(plan[label] < deadline for label in ("7d", "3d", "1d", "due"))
                assert plan["overdue"] > deadline


def test_plan_order_labels_and_past_ones() -> None:
    shuffled = parse_durations("1d,7d,12h,3d,7d")
    plan = reminder_plan(DUE, shuffled, Clock())
    assert [label for label, _ in plan] == ["7d", "3d", "1d", "due", "12h", "overdue"]
    ahead, past = split_plan(plan, utc(2021, 6, 6))  # after the 7d reminder, before the 3d
    assert [label for label, _ in past] == ["7d"]
    assert [label for label, _ in ahead] == ["3d", "1d", "due", "12h", "overdue"]
    exactly = dict(plan)["1d"]
    assert split_plan(plan, exactly)[0][0] == ("1d", exactly)
    naive = split_plan(plan, datetime(2021, 6, 6))
    assert naive == (ahead, past)
    without = reminder_plan(DUE, OFFSETS, Clock(), due_day=False, overdue=False)
    assert [label for label, _ in without] == ["7d", "3d", "1d"]


def test_negative_offset_is_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        reminder_plan(DUE, [timedelta(days=-1)], Clock())
    with pytest.raises(ValueError, match="bad duration"):
        label_at("soon", DUE, Clock())


def test_days_left_counts_shanghai_days() -> None:
    for label, fire_at in reminder_plan(DUE, OFFSETS, Clock(), due_day=False, overdue=False):
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
