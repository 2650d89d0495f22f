"""Parsing of duration lists such as ``5s,5m,30m,2h`` and reminder offsets ``7d,3d,1d``."""

from __future__ import annotations

import re
from datetime import timedelta

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_ONE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)\s*$")


def parse_duration(text: str) -> timedelta:
    """``'30m'`` -> 30 minutes. Raises ValueError naming the bad item."""
    found = _ONE.match(text)
    if not found:
        raise ValueError(
            f"bad duration {text!r}: expected a number and a unit (ms, s, m, h, d, w), e.g. 5m"
        )
    value, unit = float(found.group(1)), found.group(2)
    if unit == "ms":
        return timedelta(milliseconds=value)
    return timedelta(seconds=value * _UNITS[unit])


def parse_durations(text: str) -> list[timedelta]:
    """``'5s,5m'`` -> [5 s, 5 min]. Empty items are errors; an empty string is an empty list."""
    if not text.strip():
        return []
    return [parse_duration(item) for item in text.split(",")]


def format_duration(delta: timedelta) -> str:
    """Largest exact unit up to days: 7 days -> ``7d`` (never weeks), 36 hours -> ``36h``,
    90 minutes -> ``90m``; zero -> ``0s``."""
    milliseconds = round(delta / timedelta(milliseconds=1))
    if milliseconds == 0:
        return "0s"
    for unit in ("d", "h", "m", "s"):
        size = _UNITS[unit] * 1000
        if milliseconds % size == 0:
            return f"{milliseconds // size}{unit}"
    return f"{milliseconds}ms"
