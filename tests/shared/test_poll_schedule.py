"""Poll schedules: the grammar and its errors, the canonical text, and the next poll across
time zones, weekends and DST changes (shared/poll_schedule.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

import pytest

from shared.poll_schedule import (
    EXAMPLE,
    PollSchedule,
    ScheduleError,
    Window,
    first_poll,
    format_schedule,
    in_window,
    next_poll,
    parse_schedule,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
NEW_YORK = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")
OFFICE = parse_schedule("every 10m Mon-Fri 08:00-19:00 Asia/Shanghai, else every 2h")
OFFICE_ONLY = parse_schedule("every 10m Mon-Fri 08:00-19:00 Asia/Shanghai")


def at(
    zone: tzinfo, year: int, month: int, day: int, hour: int, minute: int, *, fold: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=zone, fold=fold)


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("every 10m", "every 10m"),
        ("10m", "every 10m"),
        ("  every   90m ", "every 90m"),
        (
            "every 10m Mon-Fri 08:00-19:00 Asia/Shanghai",
            "every 10m Mon-Fri 08:00-19:00 Asia/Shanghai",
        ),
        (
            "every 10m mon-fri 8:00-19:00 Asia/Shanghai else 2h",
            "every 10m Mon-Fri 08:00-19:00 Asia/Shanghai, else every 2h",
        ),
        (
            "every 5m Asia/Shanghai 09:00-17:30 Monday,Wednesday,Friday, else never",
            "every 5m Mon,Wed,Fri 09:00-17:30 Asia/Shanghai",
        ),
        ("every 1h Sat-Sun UTC, else off", "every 1h Sat-Sun UTC"),
        ("every 1h Fri-Mon Europe/Berlin", "every 1h Mon,Fri-Sun Europe/Berlin"),
        ("every 30m 00:00-24:00 Mon-Sun UTC", "every 30m"),
        (
            "every 30m 18:00-24:00 America/New_York, ELSE every 1d",
            "every 30m 18:00-24:00 America/New_York, else every 1d",
        ),
    ],
)
def test_texts_parse_to_one_canonical_form_that_parses_back(text: str, canonical: str) -> None:
    schedule = parse_schedule(text)
    assert format_schedule(schedule) == canonical
    assert parse_schedule(canonical) == schedule


def test_the_parts_are_read_as_written() -> None:
    expected = PollSchedule(
        timedelta(minutes=10),
        Window(frozenset({0, 1, 2, 3, 4}), 8 * 3600, 19 * 3600, "Asia/Shanghai"),
        timedelta(hours=2),
    )
    assert parse_schedule(EXAMPLE) == expected
    assert OFFICE_ONLY.outside is None
    assert parse_schedule("every 10m").window is None


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "empty"),
        ("every", "interval: give an interval such as 'every 10m'"),
        ("every 10x", "did you mean"),
        ("every 0s", "at least 1s"),
        ("every 10m Mon-Fri 08:00-19:00", "days or hours need a time zone"),
        ("every 10m Mon-Fir 08:00-19:00 UTC", "'Fir' is not a day"),
        ("every 10m Mon-Fri 19:00-08:00 UTC", "the end must come after the start"),
        ("every 10m Mon-Fri 08:00-25:00 UTC", "times run 00:00 to 24:00"),
        ("every 10m Mon-Fri 08:00-19:00 Asia/Shangai", "'Asia/Shangai' is not days"),
        ("every 10m Asia/Shanghai", "without days or hours"),
        ("every 10m, else every 2h", "'else' needs days or hours"),
        ("every 10m Mon-Fri UTC, else", "after 'else': give an interval"),
        ("every 10m Mon-Fri UTC, else every 2h daily", "after 'else': an interval"),
        ("every 10m Mon-Fri Sat UTC", "days given twice"),
    ],
)
def test_bad_schedules_name_the_field_the_problem_and_an_example(text: str, problem: str) -> None:
    with pytest.raises(ScheduleError) as caught:
        parse_schedule(text, "--schedule")
    message = str(caught.value)
    assert message.startswith(f"--schedule {text!r}: ")
    assert problem in message
    assert message.endswith(f"e.g. {EXAMPLE!r}")
    parse_schedule(EXAMPLE)  # the example itself is good


def test_without_hours_the_interval_is_all() -> None:
    schedule = parse_schedule("every 15m")
    polled = at(UTC, 2026, 12, 5, 23, 58)  # a Saturday night
    assert next_poll(schedule, polled) == polled + timedelta(minutes=15)
    assert first_poll(schedule, polled) == polled


def test_inside_office_hours_every_interval() -> None:
    polled = at(SHANGHAI, 2026, 12, 2, 10, 0)  # Wednesday 10:00 in Shanghai = 02:00 UTC
    assert next_poll(OFFICE, polled) == at(UTC, 2026, 12, 2, 2, 10)
    assert next_poll(OFFICE_ONLY, polled) == at(UTC, 2026, 12, 2, 2, 10)


def test_outside_office_hours_the_else_interval_until_they_open() -> None:
    evening = at(SHANGHAI, 2026, 12, 2, 20, 0)
    assert next_poll(OFFICE, evening) == evening + timedelta(hours=2)
    late = at(SHANGHAI, 2026, 12, 3, 7, 0)  # an hour before Thursday's opening
    assert next_poll(OFFICE, late) == at(SHANGHAI, 2026, 12, 3, 8, 0)


def test_with_no_polls_outside_the_next_is_the_next_opening() -> None:
    last_of_friday = at(SHANGHAI, 2026, 12, 4, 18, 55)
    assert next_poll(OFFICE_ONLY, last_of_friday) == at(SHANGHAI, 2026, 12, 7, 8, 0)  # Monday
    assert next_poll(OFFICE, last_of_friday) == at(SHANGHAI, 2026, 12, 4, 19, 5)
    saturday = at(SHANGHAI, 2026, 12, 5, 12, 0)
    assert next_poll(OFFICE_ONLY, saturday) == at(SHANGHAI, 2026, 12, 7, 8, 0)
    assert first_poll(OFFICE_ONLY, saturday) == at(SHANGHAI, 2026, 12, 7, 8, 0)
    assert first_poll(OFFICE, saturday) == saturday.astimezone(UTC)


def test_days_are_the_zone_s_days_not_utc_s() -> None:
    # Monday 07:30 in Shanghai is still Sunday 23:30 UTC: the window opens at 08:00 Shanghai
    sunday_utc = at(UTC, 2026, 12, 6, 23, 30)
    assert not in_window(OFFICE.window, sunday_utc)  # type: ignore[arg-type]
    assert next_poll(OFFICE_ONLY, sunday_utc) == at(UTC, 2026, 12, 7, 0, 0)
    # Friday 19:30 in New York is Saturday 00:30 UTC: inside a Fri window there
    friday = parse_schedule("every 10m Fri 18:00-22:00 America/New_York")
    saturday_utc = at(UTC, 2026, 12, 5, 0, 30)
    assert in_window(friday.window, saturday_utc)  # type: ignore[arg-type]
    assert next_poll(friday, saturday_utc) == saturday_utc + timedelta(minutes=10)


def test_office_hours_keep_local_time_across_dst() -> None:
    berlin = parse_schedule("every 15m Mon-Fri 08:00-19:00 Europe/Berlin")
    # Friday 2027-03-26 after hours: the clocks go forward on Sunday the 28th
    friday = at(BERLIN, 2027, 3, 26, 19, 0)
    monday = next_poll(berlin, friday)
    assert monday == at(UTC, 2027, 3, 29, 6, 0)  # 08:00 CEST, not 07:00 UTC as before
    assert monday.astimezone(BERLIN).hour == 8
    # and back on Sunday 2027-10-31
    assert next_poll(berlin, at(BERLIN, 2027, 10, 29, 19, 0)) == at(UTC, 2027, 11, 1, 7, 0)


def test_a_window_opening_in_the_spring_gap_opens_an_hour_later_on_the_wall() -> None:
    # 2027-03-14 02:00 does not exist in New York (02:00 EST -> 03:00 EDT)
    night = parse_schedule("every 10m 02:30-05:00 America/New_York")
    opens = next_poll(night, at(NEW_YORK, 2027, 3, 14, 1, 0))
    assert opens == at(UTC, 2027, 3, 14, 7, 30)
    assert opens.astimezone(NEW_YORK).hour == 3  # 03:30 EDT
    assert in_window(night.window, opens)  # type: ignore[arg-type]
    assert next_poll(night, opens) == opens + timedelta(minutes=10)


def test_the_interval_is_real_time_across_the_autumn_repeat() -> None:
    # 2027-11-07 01:00-02:00 happens twice in New York: 10 minutes are 10 real minutes
    nights = parse_schedule("every 10m 00:00-03:00 America/New_York")
    first = at(NEW_YORK, 2027, 11, 7, 1, 55, fold=0)  # 05:55 UTC (EDT)
    then = next_poll(nights, first)
    assert then == at(UTC, 2027, 11, 7, 6, 5)
    assert then.astimezone(NEW_YORK).replace(tzinfo=None) == datetime(2027, 11, 7, 1, 5)


def test_a_naive_clock_is_never_mixed_in() -> None:
    polled = at(SHANGHAI, 2026, 12, 2, 10, 0)
    assert next_poll(OFFICE, polled).tzinfo is UTC
    assert first_poll(OFFICE, polled).tzinfo is UTC


def test_the_server_default_is_validated_and_kept_canonical() -> None:
    from pydantic import ValidationError

    from shared.settings import Settings

    settings = Settings(feed_schedule="10m mon-fri 8:00-19:00 Asia/Shanghai else 2h")
    assert settings.feed_schedule == EXAMPLE
    assert settings.default_poll_schedule == OFFICE
    assert Settings(feed_interval="5m").default_poll_schedule == PollSchedule(timedelta(minutes=5))
    with pytest.raises(ValidationError, match="feed schedule 'every 10m Mon-Fri': days or hours"):
        Settings(feed_schedule="every 10m Mon-Fri")
