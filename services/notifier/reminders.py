"""Deadline reminder arithmetic (pure).

A deadline ends at the end of its due day in Asia/Shanghai (23:59:59 local time). A reminder
with offset ``7d`` fires seven days before that moment. Two more reminders are fixed points in
Asia/Shanghai: ``due`` at 09:00 on the due day ("due today") and ``overdue`` at 09:00 on the day
after it. Times returned are aware UTC datetimes.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from shared.durations import format_duration

SHANGHAI = ZoneInfo("Asia/Shanghai")
END_OF_DAY = time(23, 59, 59)
DUE_DAY_AT = time(9, 0)
DUE = "due"
OVERDUE = "overdue"
OVERDUE_EXPIRES = timedelta(days=7)


def _aware(moment: datetime) -> datetime:
    """A naive datetime is taken to be UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def zone(name: str | None) -> tzinfo:
    """The IANA zone ``name``; Asia/Shanghai when it is empty or unknown."""
    if not name:
        return SHANGHAI
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return SHANGHAI


def deadline_at(due_on: date, due_hour: int | None = None) -> datetime:
    """The end of ``due_on`` (23:59:59 Asia/Shanghai) as a UTC datetime, or ``due_hour:00``
    that day when the notice names an hour ("12点前")."""
    clock = END_OF_DAY if due_hour is None or due_hour >= 24 else time(max(0, due_hour))
    return datetime.combine(due_on, clock, tzinfo=SHANGHAI).astimezone(UTC)


def due_day_at(due_on: date) -> datetime:
    """09:00 Asia/Shanghai on the due day, in UTC (the "due today" reminder)."""
    return datetime.combine(due_on, DUE_DAY_AT, tzinfo=SHANGHAI).astimezone(UTC)


def overdue_at(due_on: date) -> datetime:
    """09:00 Asia/Shanghai on the day after the due day, in UTC (the "overdue" reminder)."""
    return due_day_at(due_on + timedelta(days=1))


def fire_times(
    due_on: date, offsets: list[timedelta], now: datetime, due_hour: int | None = None
) -> list[tuple[str, datetime]]:
    """``(label, fire_at)`` for each offset whose firing time is not in the past, earliest first.

    ``label`` is :func:`format_duration` (``"7d"``); ``fire_at`` = end of the due day in
    Asia/Shanghai (or its ``due_hour``) minus the offset, in UTC. Duplicate offsets are listed
    once. Raises ValueError for a negative offset.
    """
    current = _aware(now)
    deadline = deadline_at(due_on, due_hour)
    planned: dict[str, datetime] = {}
    for offset in offsets:
        if offset < timedelta(0):
            raise ValueError(f"reminder offset must not be negative: {offset}")
        fire_at = deadline - offset
        if fire_at < current:
            continue
        planned.setdefault(format_duration(offset), fire_at)
    return sorted(planned.items(), key=lambda item: item[1])


def reminder_plan(
    due_on: date,
    offsets: list[timedelta],
    now: datetime,
    *,
    due_day: bool = True,
    overdue: bool = True,
    due_hour: int | None = None,
) -> list[tuple[str, datetime]]:
    """Every reminder of a deadline still ahead of ``now``: the offsets (see
    :func:`fire_times`), then ``due`` and ``overdue`` when asked for; earliest first.

    A deadline at an early hour (``due_hour`` 9 or before) gets its ``due`` reminder an hour
    before it instead of at 09:00."""
    planned = dict(fire_times(due_on, offsets, now, due_hour))
    current = _aware(now)
    due_at = min(due_day_at(due_on), deadline_at(due_on, due_hour) - timedelta(hours=1))
    if due_day and due_at >= current:
        planned.setdefault(DUE, due_at)
    if overdue and overdue_at(due_on) >= current:
        planned.setdefault(OVERDUE, overdue_at(due_on))
    return sorted(planned.items(), key=lambda item: item[1])


def days_left(due_on: date, now: datetime) -> int:
    """Whole days from ``now``'s date in Asia/Shanghai to ``due_on``: 0 on the due day,
    negative once it has passed."""
    return (due_on - _aware(now).astimezone(SHANGHAI).date()).days


def deadline_passed(due_on: date, now: datetime) -> bool:
    """True once the due day has ended in Asia/Shanghai."""
    return days_left(due_on, now) < 0


def still_worth_sending(label: str, due_on: date, now: datetime) -> bool:
    """A reminder that fires now is sent unless its deadline has passed; the ``overdue``
    reminder is the exception (it exists for that), until a week after it was due."""
    if label == OVERDUE:
        return _aware(now) < overdue_at(due_on) + OVERDUE_EXPIRES
    return not deadline_passed(due_on, now)


def is_late(fire_at: datetime, fired_at: datetime, tolerance: timedelta) -> bool:
    """Fired more than ``tolerance`` after its time (the notifier was down, or busy)."""
    return _aware(fired_at) - _aware(fire_at) > tolerance


def local_iso(moment: datetime, tz: tzinfo) -> str:
    """``moment`` in the zone ``tz``, ISO-8601 with its UTC offset."""
    return _aware(moment).astimezone(tz).isoformat()


def describe_label(label: str) -> str:
    """``7d`` -> ``7d before the deadline``; ``due`` -> ``due today``; ``overdue``."""
    if label == DUE:
        return "due today"
    if label == OVERDUE:
        return "overdue"
    return f"{label} before the deadline"
