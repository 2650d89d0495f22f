"""Durations (``5m``, ``7d,3d,1d``): a wrong one is refused naming what it probably meant."""

from __future__ import annotations

from datetime import timedelta

import pytest

from shared.durations import format_duration, parse_duration, parse_durations


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30m", timedelta(minutes=30)),
        (" 7d ", timedelta(days=7)),
        ("1.5h", timedelta(hours=1, minutes=30)),
        ("250ms", timedelta(milliseconds=250)),
        ("2w", timedelta(weeks=2)),
    ],
)
def test_parses_a_number_and_a_unit(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    ("text", "meant"),
    [
        ("7x", "did you mean '7d' or '7s'?"),  # a letter that is not a unit: the keys next to it
        ("3r", "did you mean '3d'?"),
        ("7D", "did you mean '7d'?"),  # capitals
        ("7 days", "did you mean '7d'?"),  # the word
        ("15 mins", "did you mean '15m'?"),
        ("2 hours", "did you mean '2h'?"),
        ("1.5hr", "did you mean '1.5h'?"),
        ("3 weeks", "did you mean '3w'?"),
        ("7dys", "did you mean '7d'?"),  # a misspelt word
        ("3天", "did you mean '3d'?"),  # Chinese
        ("2 小时", "did you mean '2h'?"),
        ("d7", "did you mean '7d'?"),  # the wrong order
        ("h 12", "did you mean '12h'?"),
        ("7", "did you mean '7m', '7h' or '7d'?"),  # no unit
    ],
)
def test_a_wrong_duration_names_what_it_probably_meant(text: str, meant: str) -> None:
    with pytest.raises(ValueError) as refused:
        parse_duration(text)
    message = str(refused.value)
    assert message.startswith(f"bad duration {text!r}: {meant}")
    assert message.endswith("(a number and a unit: ms, s, m, h, d, w)")


@pytest.mark.parametrize("text", ["", "soon", "x", "-7d", "7d3"])
def test_without_a_likely_meaning_it_names_the_form(text: str) -> None:
    with pytest.raises(ValueError) as refused:
        parse_duration(text)
    assert str(refused.value) == (
        f"bad duration {text!r}: expected a number and a unit (ms, s, m, h, d, w), e.g. 5m"
    )


def test_every_suggestion_is_a_valid_duration() -> None:
    for text in ("7x", "7", "3 weeks", "d7", "9q", "4z", "1.5 hrs", "2 sec", "12 分钟"):
        with pytest.raises(ValueError) as refused:
            parse_duration(text)
        quoted = str(refused.value).split("did you mean ")[1].split("?")[0]
        for meant in quoted.replace(" or ", ", ").split(", "):
            parse_duration(meant.strip("'"))


def test_a_list_names_the_bad_item() -> None:
    assert parse_durations("7d, 3d,1d") == [timedelta(days=n) for n in (7, 3, 1)]
    with pytest.raises(ValueError, match=r"bad duration '3x': did you mean '3d' or '3s'\?"):
        parse_durations("7d,3x")


def test_format_is_the_largest_exact_unit() -> None:
    assert [format_duration(parse_duration(t)) for t in ("7d", "36h", "90m", "0s")] == [
        "7d",
        "36h",
        "90m",
        "0s",
    ]
