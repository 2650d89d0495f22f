"""Deadline reminder arithmetic (pure).

A deadline ends at the end of its due day in Asia/Shanghai (23:59:59 China time), or at the hour
the notice names. Reminders fire at a human hour of the subscriber's time zone (a
:class:`Clock`: the zone and the reminder time of day, 09:00 unless set otherwise):

- an offset of whole days (``7d``, ``1w``, ``24h``): that many local calendar days before the
  deadline's day, at the reminder time. The deadline's day is the local date of the deadline's
  moment, but never later than the notice's own date (in Tokyo 23:59:59 China time is 00:59 the
  next day; the reminders still count from the notice's date);
- any other offset (``12h``, ``90m``): exactly that long before the deadline's moment;
- ``due`` ("due today"): the reminder time on the deadline's day, or an hour before the deadline
  when that comes earlier;
- ``overdue``: the reminder time on the first local day after the deadline's day that comes after
  the deadline.

A local time that does not exist (skipped by a DST change) or exists twice resolves as zoneinfo
does with ``fold=0``: a skipped 02:30 becomes 03:30 summer time, a doubled one is the first.
Times returned are aware UTC datetimes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from shared.durations import format_duration, parse_duration

SHANGHAI = ZoneInfo("Asia/Shanghai")
END_OF_DAY = time(23, 59, 59)
DEFAULT_TIME = time(9, 0)
DUE = "due"
OVERDUE = "overdue"
OVERDUE_EXPIRES = timedelta(days=7)
DUE_AHEAD = timedelta(hours=1)
ONE_DAY = timedelta(days=1)


@dataclass(frozen=True)
class Clock:
    """When a subscriber's reminders fire: the reminder time of day in their time zone."""

    tz: tzinfo = SHANGHAI
    at: time = DEFAULT_TIME


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


def local_at(day: date, clock: Clock) -> datetime:
    """The reminder time on ``day`` in the clock's zone, in UTC (``fold=0`` for a time skipped
    or doubled by a DST change)."""
    return datetime.combine(day, clock.at, tzinfo=clock.tz).astimezone(UTC)


def deadline_day(due_on: date, clock: Clock, due_hour: int | None = None) -> date:
    """The deadline's day in the clock's zone: the local date of its moment, never later than
    ``due_on``."""
    return min(deadline_at(due_on, due_hour).astimezone(clock.tz).date(), due_on)


def whole_days(offset: timedelta) -> int | None:
    """``7`` for a ``7d`` (or ``1w``, ``168h``) offset; None for one that is not whole days."""
    if offset >= ONE_DAY and offset % ONE_DAY == timedelta(0):
        return offset // ONE_DAY
    return None


def offset_at(
    offset: timedelta, due_on: date, clock: Clock, due_hour: int | None = None
) -> datetime:
    """When the reminder ``offset`` before the deadline fires (see the module). Raises
    ValueError for a negative offset."""
    if offset < timedelta(0):
        raise ValueError(f"reminder offset must not be negative: {offset}")
    days = whole_days(offset)
    if days is None:
        return deadline_at(due_on, due_hour) - offset
    return local_at(deadline_day(due_on, clock, due_hour) - timedelta(days=days), clock)


def due_day_at(due_on: date, clock: Clock, due_hour: int | None = None) -> datetime:
    """The ``due`` ("due today") reminder: the reminder time on the deadline's day, or an hour
    before the deadline when that is earlier."""
    on_the_day = local_at(deadline_day(due_on, clock, due_hour), clock)
    return min(on_the_day, deadline_at(due_on, due_hour) - DUE_AHEAD)


def overdue_at(due_on: date, clock: Clock, due_hour: int | None = None) -> datetime:
    """The ``overdue`` reminder: the reminder time on the first local day after the deadline's
    day that comes after the deadline."""
    deadline = deadline_at(due_on, due_hour)
    day = deadline_day(due_on, clock, due_hour) + ONE_DAY
    while local_at(day, clock) <= deadline:
        day += ONE_DAY
    return local_at(day, clock)


def label_at(label: str, due_on: date, clock: Clock, due_hour: int | None = None) -> datetime:
    """When the reminder ``label`` (``7d``, ``12h``, ``due``, ``overdue``) fires. Raises
    ValueError for a label that is none of these."""
    if label == DUE:
        return due_day_at(due_on, clock, due_hour)
    if label == OVERDUE:
        return overdue_at(due_on, clock, due_hour)
    return offset_at(parse_duration(label), due_on, clock, due_hour)


def reminder_plan(
    due_on: date,
    offsets: list[timedelta],
    clock: Clock,
    *,
    due_day: bool = True,
    overdue: bool = True,
    due_hour: int | None = None,
) -> list[tuple[str, datetime]]:
    """``(label, fire_at)`` of every reminder of a deadline, past ones included: the offsets
    (labelled by :func:`format_duration`, ``7d``; duplicates once), then ``due`` and ``overdue``
    when asked for; earliest first. Raises ValueError for a negative offset."""
    planned: dict[str, datetime] = {}
    for offset in offsets:
        planned.setdefault(format_duration(offset), offset_at(offset, due_on, clock, due_hour))
    if due_day:
        planned.setdefault(DUE, due_day_at(due_on, clock, due_hour))
    if overdue:
        planned.setdefault(OVERDUE, overdue_at(due_on, clock, due_hour))
    return sorted(planned.items(), key=lambda item: item[1])


def split_plan(
    plan: list[tuple[str, datetime]], now: datetime
) -> tuple[list[tuple[str, datetime]], list[tuple[str, datetime]]]:
    """``plan`` as (still ahead of ``now`` or due right now, already past)."""
    current = _aware(now)
    ahead = [item for item in plan if item[1] >= current]
    return ahead, [item for item in plan if item[1] < current]


def days_left(due_on: date, now: datetime) -> int:
    """Whole days from ``now``'s date in Asia/Shanghai to ``due_on``: 0 on the due day,
    negative once it has passed."""
    return (due_on - _aware(now).astimezone(SHANGHAI).date()).days


def deadline_passed(due_on: date, now: datetime) -> bool:
    """True once the due day has ended in Asia/Shanghai."""
    return days_left(due_on, now) < 0


def still_worth_sending(label: str, due_on: date, now: datetime) -> bool:
    """A reminder that fires now is sent unless its deadline has passed; the ``overdue``
    reminder is the exception (it exists for that), until a week after the day after the due
    day (China time)."""
    if label == OVERDUE:
        return _aware(now) < deadline_at(due_on) + ONE_DAY + OVERDUE_EXPIRES
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
