"""When a feed source is polled: an interval, and optionally days and hours in a time zone.

    every 10m
    every 10m Mon-Fri 08:00-19:00 Asia/Shanghai               (not at all outside those hours)
    every 10m Mon-Fri 08:00-19:00 Asia/Shanghai, else every 2h

Days are ``Mon``..``Sun`` (ranges ``Mon-Fri``, lists ``Mon,Wed,Fri``; every day when left out),
hours ``HH:MM-HH:MM`` in the zone's wall-clock time (start included, end excluded, ``24:00``
for midnight; the whole day when left out). A time zone is an IANA name (``Asia/Shanghai``,
``UTC``) and is needed whenever days or hours are given. ``else`` says how often to poll
outside them: ``else every 2h``, or ``else never`` (the default).

Pure functions only: :func:`parse_schedule` (ValueError naming the field, the problem and an
example), :func:`format_schedule` (the canonical text, which parses back to the same
schedule), :func:`next_poll` (the poll after one at a given moment) and :func:`first_poll`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from shared.durations import duration_error, format_duration, parse_duration

EXAMPLE = "every 10m Mon-Fri 08:00-19:00 Asia/Shanghai, else every 2h"
MIN_INTERVAL = timedelta(seconds=1)
DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_FULL_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_DAY_OF = {name.lower(): i for i, name in enumerate(DAY_NAMES)} | {
    name: i for i, name in enumerate(_FULL_NAMES)
}
_DAY = r"[A-Za-z]+"
_DAYS = re.compile(rf"^{_DAY}(?:-{_DAY})?(?:,{_DAY}(?:-{_DAY})?)*$")
_HOURS = re.compile(r"^(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})$")
_ELSE = re.compile(r",?\s*\belse\b", re.IGNORECASE)
_NEVER = {"never", "off", "no"}
DAY_SECONDS = 86_400


@dataclass(frozen=True)
class Window:
    """Days and hours in a time zone (wall-clock time)."""

    days: frozenset[int]
    """Weekdays, 0 = Monday."""
    start: int
    """Seconds after midnight, included."""
    end: int
    """Seconds after midnight, excluded (at most 86,400)."""
    zone: str

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.zone)


@dataclass(frozen=True)
class PollSchedule:
    every: timedelta
    """Between polls (inside the window, when there is one)."""
    window: Window | None = None
    outside: timedelta | None = None
    """Between polls outside the window; None: no polls there."""


class ScheduleError(ValueError):
    pass


def _fail(field: str, text: str, problem: str) -> ScheduleError:
    return ScheduleError(f"{field} {text!r}: {problem}; e.g. {EXAMPLE!r}")


def _interval(field: str, text: str, words: list[str], what: str) -> timedelta:
    if words and words[0].lower() == "every":
        words = words[1:]
    if not words:
        raise _fail(field, text, f"{what}: give an interval such as 'every 10m'")
    try:
        every = parse_duration(words[0])
    except ValueError:
        raise _fail(field, text, f"{what}: {duration_error(words[0])}") from None
    if every < MIN_INTERVAL:
        raise _fail(field, text, f"{what} {format_duration(every)}: at least 1s")
    return every


def _days(field: str, text: str, token: str) -> frozenset[int]:
    days: set[int] = set()
    for part in token.split(","):
        first, _, last = part.partition("-")
        ends = []
        for name in (first, last or first):
            if name.lower() not in _DAY_OF:
                raise _fail(field, text, f"{name!r} is not a day (Mon, Tue, ... Sun)")
            ends.append(_DAY_OF[name.lower()])
        day = ends[0]
        days.add(day)
        while day != ends[1]:  # Fri-Mon wraps over the weekend
            day = (day + 1) % 7
            days.add(day)
    return frozenset(days)


def _hours(field: str, text: str, found: re.Match[str]) -> tuple[int, int]:
    h1, m1, h2, m2 = (int(g) for g in found.groups())
    if h1 > 23 or m1 > 59 or m2 > 59 or h2 > 24 or (h2 == 24 and m2 != 0):
        raise _fail(field, text, f"hours {found.group(0)!r}: times run 00:00 to 24:00")
    start, end = h1 * 3600 + m1 * 60, h2 * 3600 + m2 * 60
    if end <= start:
        raise _fail(
            field,
            text,
            f"hours {found.group(0)!r}: the end must come after the start"
            " (hours past midnight are not supported)",
        )
    return start, end


def _zone(token: str) -> str | None:
    if "/" not in token and token.upper() not in {"UTC", "GMT"}:
        return None
    try:
        ZoneInfo(token)
    except (ZoneInfoNotFoundError, ValueError):
        return None
    return token


def parse_schedule(text: str, field: str = "schedule") -> PollSchedule:
    """A schedule from its text (module docstring). Raises :class:`ScheduleError` (a
    ValueError) naming ``field``, what is wrong and an example."""
    clean = " ".join(text.split())
    if not clean:
        raise _fail(field, text, "empty")
    main, outside_text = clean, None
    found_else = _ELSE.search(clean)
    if found_else is not None:
        main, outside_text = clean[: found_else.start()], clean[found_else.end() :].strip()
    words = main.split()
    every = _interval(field, text, words, "interval")
    rest = words[2:] if words[0].lower() == "every" else words[1:]
    days: frozenset[int] | None = None
    hours: tuple[int, int] | None = None
    zone: str | None = None
    for token in rest:
        if (found := _HOURS.match(token)) is not None and hours is None:
            hours = _hours(field, text, found)
        elif _DAYS.match(token) and token.split(",")[0].split("-")[0].lower() in _DAY_OF:
            if days is not None:
                raise _fail(field, text, f"days given twice ({token!r})")
            days = _days(field, text, token)
        elif zone is None and (named := _zone(token)) is not None:
            zone = named
        else:
            raise _fail(
                field,
                text,
                f"{token!r} is not days (Mon-Fri), hours (08:00-19:00) or a time zone"
                " (Asia/Shanghai), or is given twice",
            )
    window = None
    if days is not None or hours is not None:
        if zone is None:
            raise _fail(field, text, "days or hours need a time zone, such as Asia/Shanghai")
        start, end = hours or (0, DAY_SECONDS)
        window = Window(days if days is not None else frozenset(range(7)), start, end, zone)
    elif zone is not None:
        raise _fail(field, text, f"time zone {zone} without days or hours to read in it")
    outside = None
    if outside_text is not None:
        if window is None:
            raise _fail(field, text, "'else' needs days or hours to be outside of")
        if outside_text.lower() not in _NEVER:
            words = outside_text.split()
            outside = _interval(field, text, words, "after 'else'")
            if len(words) > (2 if words[0].lower() == "every" else 1):
                raise _fail(field, text, "after 'else': an interval (every 2h) or never")
    if (
        window is not None
        and len(window.days) == 7
        and (window.start, window.end) == (0, DAY_SECONDS)
    ):
        return PollSchedule(every)  # always inside: the same as no window
    return PollSchedule(every, window, outside)


def _format_days(days: frozenset[int]) -> str:
    runs: list[list[int]] = []
    for day in sorted(days):
        if runs and runs[-1][-1] == day - 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    return ",".join(
        DAY_NAMES[run[0]] if len(run) == 1 else f"{DAY_NAMES[run[0]]}-{DAY_NAMES[run[-1]]}"
        for run in runs
    )


def _clock(seconds: int) -> str:
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}"


def format_schedule(schedule: PollSchedule) -> str:
    """The canonical text: ``every 10m Mon-Fri 08:00-19:00 Asia/Shanghai, else every 2h``."""
    text = f"every {format_duration(schedule.every)}"
    window = schedule.window
    if window is None:
        return text
    if len(window.days) < 7:
        text += " " + _format_days(window.days)
    if (window.start, window.end) != (0, DAY_SECONDS):
        text += f" {_clock(window.start)}-{_clock(window.end)}"
    text += f" {window.zone}"
    if schedule.outside is not None:
        text += f", else every {format_duration(schedule.outside)}"
    return text


def in_window(window: Window, at: datetime) -> bool:
    """Whether the wall clock in the window's zone at ``at`` (aware) is inside it."""
    local = at.astimezone(window.tz)
    seconds = local.hour * 3600 + local.minute * 60 + local.second
    return local.weekday() in window.days and window.start <= seconds < window.end


def window_opens(window: Window, after: datetime) -> datetime:
    """The first moment after ``after`` (aware) at which the window opens, in UTC. A start
    that the clocks skip (a DST gap) opens at the same moment an hour later on the wall."""
    tz = window.tz
    first = after.astimezone(tz).date() - timedelta(days=1)
    start = time(window.start // 3600, window.start % 3600 // 60)
    for offset in range(9):
        day: date = first + timedelta(days=offset)
        if day.weekday() not in window.days:
            continue
        opens = datetime.combine(day, start, tzinfo=tz).astimezone(UTC)
        if opens > after:
            return opens
    raise AssertionError("a window with days opens within a week")  # parse_schedule's days


def next_poll(schedule: PollSchedule, polled_at: datetime) -> datetime:
    """When to poll after a poll at ``polled_at`` (aware), in UTC.

    Without a window: ``every`` later. Inside it: ``every`` later, or (with no polls outside)
    when it next opens if that would fall outside. Outside it: ``else`` later but no later
    than when it opens; with no polls outside, when it opens."""
    polled_at = polled_at.astimezone(UTC)
    window = schedule.window
    if window is None:
        return polled_at + schedule.every
    if in_window(window, polled_at):
        then = polled_at + schedule.every
        if schedule.outside is None and not in_window(window, then):
            return window_opens(window, polled_at)
        return then
    opens = window_opens(window, polled_at)
    if schedule.outside is None:
        return opens
    return min(polled_at + schedule.outside, opens)


def first_poll(schedule: PollSchedule, now: datetime) -> datetime:
    """When a source with this schedule that was never polled is first due: now, unless it
    only polls inside a window that is closed now (then when it opens)."""
    now = now.astimezone(UTC)
    window = schedule.window
    if window is None or schedule.outside is not None or in_window(window, now):
        return now
    return window_opens(window, now)
