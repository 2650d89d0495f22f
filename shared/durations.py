"""Parsing of duration lists such as ``5s,5m,30m,2h`` and reminder offsets ``7d,3d,1d``."""

from __future__ import annotations

import difflib
import re
from datetime import timedelta

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_ONE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)\s*$")
UNIT_LIST = "ms, s, m, h, d, w"

_NUMBER = r"\d+(?:\.\d+)?"
_NUMBER_WORD = re.compile(rf"^(?P<number>{_NUMBER})?(?P<word>[^\d.]*)$")
_WORD_NUMBER = re.compile(rf"^(?P<word>[^\d.]+)(?P<number>{_NUMBER})$")
UNIT_WORDS = {
    **{word: "ms" for word in ("ms", "msec", "msecs", "millisecond", "milliseconds", "毫秒")},
    **{word: "s" for word in ("s", "sec", "secs", "second", "seconds", "秒", "秒钟")},
    **{word: "m" for word in ("m", "min", "mins", "minute", "minutes", "分", "分钟")},
    **{word: "h" for word in ("h", "hr", "hrs", "hour", "hours", "小时", "时")},
    **{word: "d" for word in ("d", "day", "days", "天", "日")},
    **{word: "w" for word in ("w", "wk", "wks", "week", "weeks", "周", "星期")},
}
"""What people write for a unit, in English and Chinese, and the unit it is."""
_NEAR_KEYS = {
    "q": "wa", "w": "qeasd", "e": "wrsdf", "r": "edft", "t": "rfgy", "y": "tghu", "u": "yhji",
    "i": "ujko", "o": "iklp", "p": "ol", "a": "qwsz", "s": "qweadzx", "d": "wersfxc",
    "f": "ertdgcv", "g": "rtyfhvb", "h": "tyugjbn", "j": "yuihknm", "k": "uiojlm", "l": "iopk",
    "z": "asx", "x": "zsdc", "c": "xdfv", "v": "cfgb", "b": "vghn", "n": "bhjm", "m": "njk",
}  # fmt: skip
"""The keys next to each on a QWERTY keyboard: a mistyped unit is usually one of them."""
_PREFERENCE = ("d", "h", "m", "w", "s", "ms")


def suggest(text: str) -> list[str]:
    """Valid durations ``text`` was probably meant as, likeliest first: ``7x`` -> ``7d``,
    ``7s`` (a key next to it), ``7 days`` -> ``7d``, ``d7`` -> ``7d``, ``7`` -> ``7m``, ``7h``,
    ``7d`` (no unit); none when there is no number."""
    compact = "".join(text.split()).lower()
    found = _NUMBER_WORD.match(compact) or _WORD_NUMBER.match(compact)
    if found is None or found.group("number") is None:
        return []
    number, word = found.group("number"), found.group("word")
    if not word:
        units = ["m", "h", "d"]
    elif word in UNIT_WORDS:
        units = [UNIT_WORDS[word]]
    elif len(word) == 1:
        units = [u for u in _PREFERENCE if len(u) == 1 and u in _NEAR_KEYS.get(word, "")]
    else:
        close = difflib.get_close_matches(word, UNIT_WORDS, n=3, cutoff=0.6)
        units = list(dict.fromkeys(UNIT_WORDS[w] for w in close))
    return [f"{number}{unit}" for unit in units]


def duration_error(text: str) -> str:
    """Why ``text`` is not a duration, with what it was probably meant as."""
    guesses = [repr(g) for g in suggest(text)]
    if not guesses:
        return f"bad duration {text!r}: expected a number and a unit ({UNIT_LIST}), e.g. 5m"
    meant = guesses[0] if len(guesses) == 1 else ", ".join(guesses[:-1]) + " or " + guesses[-1]
    return f"bad duration {text!r}: did you mean {meant}? (a number and a unit: {UNIT_LIST})"


def parse_duration(text: str) -> timedelta:
    """``'30m'`` -> 30 minutes. Raises ValueError naming the bad item (and what it was
    probably meant as: ``'7x'`` -> did you mean ``'7d'`` or ``'7s'``?)."""
    found = _ONE.match(text)
    if not found:
        raise ValueError(duration_error(text))
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
