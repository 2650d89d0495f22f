"""When an alert is held instead of sent at once (pure): the daily digest and quiet hours.

* ``digest = "daily"``: ``notice.matched`` alerts are held until the next ``digest_hour:00``
  in the subscriber's time zone and sent together as one digest per channel.
* quiet hours ``start``-``end`` (local ``HH:MM``; ``22:00``-``07:00`` spans midnight):
  ``notice.matched`` and ``deadline.reminder`` alerts created inside them are held until the
  end of the quiet period.
* ``notice.escalated`` (a removal notice) and service messages are never held.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta, tzinfo

from shared.errors import InputError

HOLDABLE_BY_QUIET = frozenset({"notice.matched", "deadline.reminder"})
HOLDABLE_BY_DIGEST = frozenset({"notice.matched"})
DIGEST_MODES = ("immediate", "daily")

_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


def parse_hhmm(text: str) -> time:
    """``"22:30"`` -> 22:30. Raises InputError naming the value."""
    found = _HHMM.match(text.strip()) if isinstance(text, str) else None
    if not found:
        raise InputError(f"bad time of day {text!r}: expected HH:MM between 00:00 and 23:59")
    return time(int(found.group(1)), int(found.group(2)))


@dataclass(frozen=True)
class Holding:
    """A subscriber's holding rules."""

    tz: tzinfo
    digest: str = "immediate"
    digest_hour: int = 9
    quiet_start: time | None = None
    quiet_end: time | None = None

    @property
    def has_quiet_hours(self) -> bool:
        return (
            self.quiet_start is not None
            and self.quiet_end is not None
            and self.quiet_start != self.quiet_end
        )


def _local(moment: datetime, tz: tzinfo) -> datetime:
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return aware.astimezone(tz)


def _at(day: datetime, clock: time, tz: tzinfo) -> datetime:
    """``clock`` on the local date of ``day``, as an aware datetime in ``tz``.

    Wall-clock arithmetic: a time skipped by a DST change resolves as zoneinfo does (fold 0).
    """
    return datetime.combine(day.date(), clock, tzinfo=tz)


def quiet_until(rules: Holding, now: datetime) -> datetime | None:
    """The end of the quiet period ``now`` is in (UTC), or None outside quiet hours."""
    if not rules.has_quiet_hours:
        return None
    assert rules.quiet_start is not None and rules.quiet_end is not None
    local = _local(now, rules.tz)
    clock = local.time().replace(tzinfo=None)
    start, end = rules.quiet_start, rules.quiet_end
    if start < end:  # same day, e.g. 12:00-14:00
        if start <= clock < end:
            return _at(local, end, rules.tz).astimezone(UTC)
        return None
    # spans midnight, e.g. 22:00-07:00
    if clock >= start:
        return _at(local + timedelta(days=1), end, rules.tz).astimezone(UTC)
    if clock < end:
        return _at(local, end, rules.tz).astimezone(UTC)
    return None


def next_digest_at(rules: Holding, now: datetime) -> datetime:
    """The next ``digest_hour:00`` local time strictly after ``now`` (UTC)."""
    local = _local(now, rules.tz)
    candidate = _at(local, time(rules.digest_hour), rules.tz)
    if candidate <= local:
        candidate = _at(local + timedelta(days=1), time(rules.digest_hour), rules.tz)
    return candidate.astimezone(UTC)


def hold_until(rules: Holding, alert_type: str, now: datetime) -> tuple[str, datetime] | None:
    """(why, until) when an alert of ``alert_type`` created at ``now`` is held, else None.

    ``why`` is ``"digest"`` or ``"quiet"``.
    """
    if alert_type in HOLDABLE_BY_DIGEST and rules.digest == "daily":
        return "digest", next_digest_at(rules, now)
    if alert_type in HOLDABLE_BY_QUIET:
        until = quiet_until(rules, now)
        if until is not None:
            return "quiet", until
    return None
