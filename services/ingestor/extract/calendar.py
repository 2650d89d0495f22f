"""Chinese working-day arithmetic.

Working days follow the State Council holiday arrangement as published by the
``chinesecalendar`` package: weekends and statutory holidays are off, make-up working days
(调休, a Saturday or Sunday worked in exchange for a longer holiday) count. For years the
package does not cover, we fall back to Monday-Friday and say the result is an estimate.
"""

from __future__ import annotations

from datetime import date, timedelta

import chinese_calendar


def is_working_day(day: date) -> tuple[bool, bool]:
    """``(is_working_day, estimated)``; estimated is True outside the package's coverage."""
    try:
        return bool(chinese_calendar.is_workday(day)), False
    except NotImplementedError:
        return day.weekday() < 5, True


def add_working_days(start: date, n: int) -> tuple[date, bool]:
    """The n-th working day after ``start`` (``start`` itself never counts).

    Returns ``(due_date, estimated)``: estimated is True when any day examined fell in a year
    the holiday calendar does not cover (Monday-Friday was assumed there). ``n == 0`` returns
    ``start``. Raises ValueError for a negative n.
    """
    if n < 0:
        raise ValueError(f"working days must not be negative, got {n}")
    day = start
    estimated = False
    counted = 0
    while counted < n:
        day += timedelta(days=1)
        working, guessed = is_working_day(day)
        estimated = estimated or guessed
        if working:
            counted += 1
    return day, estimated


def add_calendar_days(start: date, n: int) -> date:
    """``start`` plus n calendar days (the day after ``start`` is day 1)."""
    if n < 0:
        raise ValueError(f"calendar days must not be negative, got {n}")
    return start + timedelta(days=n)
