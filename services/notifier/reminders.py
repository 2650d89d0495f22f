"""Deadline reminder arithmetic (pure).

A deadline ends at the end of its due day in Asia/Shanghai (23:59:59 local time). A reminder
with offset ``7d`` fires seven days before that moment. Times returned are aware UTC datetimes.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from shared.durations import format_duration

SHANGHAI = ZoneInfo("Asia/Shanghai")
END_OF_DAY = time(23, 59, 59)


def _aware(moment: datetime) -> datetime:
    """A naive datetime is taken to be UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def deadline_at(due_on: date) -> datetime:
    """The end of ``due_on`` (23:59:59 Asia/Shanghai) as a UTC datetime."""
    return datetime.combine(due_on, END_OF_DAY, tzinfo=SHANGHAI).astimezone(UTC)


def fire_times(due_on: date, offsets: list[timedelta], now: datetime) -> list[tuple[str, datetime]]:
    """``(label, fire_at)`` for each offset whose firing time is not in the past, earliest first.

    ``label`` is :func:`format_duration` (``"7d"``); ``fire_at`` = end of the due day in
    Asia/Shanghai minus the offset, in UTC. Duplicate offsets are listed once. Raises
    ValueError for a negative offset.
    """
    current = _aware(now)
    deadline = deadline_at(due_on)
    planned: dict[str, datetime] = {}
    for offset in offsets:
        if offset < timedelta(0):
            raise ValueError(f"reminder offset must not be negative: {offset}")
        fire_at = deadline - offset
        if fire_at < current:
            continue
        planned.setdefault(format_duration(offset), fire_at)
    return sorted(planned.items(), key=lambda item: item[1])


def days_left(due_on: date, now: datetime) -> int:
    """Whole days from ``now``'s date in Asia/Shanghai to ``due_on``: 0 on the due day,
    negative once it has passed."""
    return (due_on - _aware(now).astimezone(SHANGHAI).date()).days
