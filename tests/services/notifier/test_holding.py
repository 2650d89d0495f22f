"""Quiet hours and the daily digest: when an alert is held, and until when (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest

from services.notifier.holding import Holding, hold_until, next_digest_at, parse_hhmm, quiet_until
from shared.errors import InputError

BERLIN = ZoneInfo("Europe/Berlin")
SHANGHAI = ZoneInfo("Asia/Shanghai")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_parse_hhmm() -> None:
    assert parse_hhmm("07:05") == time(7, 5)
    for bad in ("7:05", "24:00", "12:60", "noon", ""):
        with pytest.raises(InputError, match="HH:MM"):
            parse_hhmm(bad)


def test_quiet_hours_spanning_midnight() -> None:
    rules = Holding(tz=SHANGHAI, quiet_start=time(22), quiet_end=time(7))
    # 23:30 Shanghai = 15:30 UTC -> held until 07:00 Shanghai next day = 23:00 UTC
    assert quiet_until(rules, utc(2024, 5, 1, 15, 30)) == utc(2024, 5, 1, 23)
    # 03:00 Shanghai = 19:00 UTC previous day -> until 07:00 the same local day
    assert quiet_until(rules, utc(2024, 5, 1, 19)) == utc(2024, 5, 1, 23)
    # 12:00 Shanghai: not quiet
    assert quiet_until(rules, utc(2024, 5, 1, 4)) is None
    # the end itself is not quiet
    assert quiet_until(rules, utc(2024, 5, 1, 23)) is None


def test_quiet_hours_within_a_day_in_the_subscribers_zone() -> None:
    rules = Holding(tz=BERLIN, quiet_start=time(12), quiet_end=time(14))
    # 12:30 Berlin summer time = 10:30 UTC -> until 14:00 Berlin = 12:00 UTC
    assert quiet_until(rules, utc(2024, 7, 1, 10, 30)) == utc(2024, 7, 1, 12)
    assert quiet_until(rules, utc(2024, 7, 1, 9, 59)) is None


def test_no_quiet_hours_when_unset_or_empty() -> None:
    assert quiet_until(Holding(tz=SHANGHAI), utc(2024, 1, 1)) is None
    same = Holding(tz=SHANGHAI, quiet_start=time(8), quiet_end=time(8))
    assert quiet_until(same, utc(2024, 1, 1)) is None


def test_next_digest_is_the_next_local_hour() -> None:
    rules = Holding(tz=SHANGHAI, digest="daily", digest_hour=9)
    # 08:00 Shanghai -> 09:00 the same day (01:00 UTC)
    assert next_digest_at(rules, utc(2024, 5, 1, 0)) == utc(2024, 5, 1, 1)
    # exactly 09:00 -> the next day's
    assert next_digest_at(rules, utc(2024, 5, 1, 1)) == utc(2024, 5, 2, 1)


def test_what_is_held() -> None:
    daily = Holding(tz=SHANGHAI, digest="daily", digest_hour=9)
    now = utc(2024, 5, 1, 4)
    assert hold_until(daily, "notice.matched", now) == ("digest", utc(2024, 5, 2, 1))
    assert hold_until(daily, "deadline.reminder", now) is None  # reminders are not digested
    assert hold_until(daily, "notice.escalated", now) is None
    quiet = Holding(tz=SHANGHAI, quiet_start=time(11), quiet_end=time(13))  # 12:00 local now
    assert hold_until(quiet, "notice.matched", now) == ("quiet", utc(2024, 5, 1, 5))
    assert hold_until(quiet, "deadline.reminder", now) == ("quiet", utc(2024, 5, 1, 5))
    assert hold_until(quiet, "notice.escalated", now) is None  # escalations never wait
    assert hold_until(Holding(tz=SHANGHAI), "notice.matched", now) is None
