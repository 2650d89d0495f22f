from __future__ import annotations

from datetime import date

import pytest

from services.ingestor.extract.calendar import add_calendar_days, add_working_days, is_working_day


def test_cac_may_2021_fifteen_working_days() -> None:
    # Published Monday 2021-05-10; the May Day holiday is already over.
    assert add_working_days(date(2021, 5, 10), 15) == (date(2021, 5, 31), False)


def test_start_day_does_not_count() -> None:
    assert add_working_days(date(2021, 5, 10), 1) == (date(2021, 5, 11), False)


def test_weekend_is_skipped() -> None:
    assert add_working_days(date(2021, 6, 4), 1) == (date(2021, 6, 7), False)


def test_statutory_holiday_is_skipped() -> None:
    # Spring Festival 2021: 11-17 February off.
    assert add_working_days(date(2021, 2, 10), 1) == (date(2021, 2, 18), False)


def test_make_up_working_sunday_counts() -> None:
    # Sunday 2021-02-07 was a working day (调休) before the Spring Festival.
    assert add_working_days(date(2021, 2, 5), 1) == (date(2021, 2, 7), False)


def test_national_day_with_make_up_saturday() -> None:
    # 1-7 October 2021 off; Saturday 9 October worked.
    assert add_working_days(date(2021, 9, 30), 10) == (date(2021, 10, 20), False)


def test_zero_days_is_the_start() -> None:
    assert add_working_days(date(2021, 5, 10), 0) == (date(2021, 5, 10), False)


def test_negative_days_are_refused() -> None:
    with pytest.raises(ValueError):
        add_working_days(date(2021, 5, 10), -1)
    with pytest.raises(ValueError):
        add_calendar_days(date(2021, 5, 10), -1)


def test_year_outside_coverage_is_an_estimate() -> None:
    # Friday 2030-01-04: no holiday data, Monday-Friday assumed.
    assert add_working_days(date(2030, 1, 4), 1) == (date(2030, 1, 7), True)
    assert is_working_day(date(2030, 1, 5)) == (False, True)


def test_crossing_out_of_coverage_is_an_estimate() -> None:
    due, estimated = add_working_days(date(2026, 12, 28), 5)
    assert estimated is True
    assert due.year == 2027


def test_calendar_days() -> None:
    assert add_calendar_days(date(2020, 12, 29), 7) == date(2021, 1, 5)
    assert add_calendar_days(date(2021, 5, 10), 0) == date(2021, 5, 10)
