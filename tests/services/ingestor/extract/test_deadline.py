from __future__ import annotations

from datetime import date

import pytest

from services.ingestor.extract.deadline import extract_deadline

MAY_10 = date(2021, 5, 10)


@pytest.mark.parametrize(
    ("text", "published_on", "due_on"),
    [
        ("上述APP应在11月10日前完成整改落实工作。", date(2021, 11, 3), date(2021, 11, 10)),
        # a December notice with a January deadline: next year
        ("上述APP应在1月5日前完成整改。", date(2020, 12, 22), date(2021, 1, 5)),
        ("应在2025年4月1日前完成整改及反馈工作。", date(2025, 3, 20), date(2025, 4, 1)),
        ("相关企业应于2020年1月6日12点前完成整改。", date(2019, 12, 30), date(2020, 1, 6)),
        ("请相关企业于3月5日前完成整改。", date(2022, 2, 20), date(2022, 3, 5)),
        ("应在１２月１日前完成整改。", date(2022, 11, 20), date(2022, 12, 1)),
        ("相关企业须在2022年 3 月 15 日之前整改完毕。", date(2022, 3, 1), date(2022, 3, 15)),
    ],
)
def test_absolute_dates(text: str, published_on: date, due_on: date) -> None:
    deadline = extract_deadline(text, published_on)
    assert deadline is not None
    assert deadline.due_on == due_on
    assert deadline.rule == "absolute"
    assert deadline.amount is None
    assert deadline.source_text in text
    assert "前" in deadline.source_text


def test_source_text_starts_at_the_last_modal_verb() -> None:
    deadline = extract_deadline(
        "请相关APP开发运营者应在2024年7月15日前完成整改。", date(2024, 7, 5)
    )
    assert deadline is not None
    assert deadline.source_text == "应在2024年7月15日前"


@pytest.mark.parametrize(
    ("text", "amount", "due_on"),
    [
        ("相关App运营者应自本通报发布之日起15个工作日内完成整改。", 15, date(2021, 5, 31)),
        ("要求其在十五个工作日内完成整改。", 15, date(2021, 5, 31)),
        ("请于10个工作日内完成整改并反馈。", 10, date(2021, 5, 24)),
        ("自通报发布之日起十个工作日内整改完毕。", 10, date(2021, 5, 24)),
        ("须在二十个工作日内报送整改报告。", 20, date(2021, 6, 7)),
        ("Operators must rectify within 15 working days.", 15, date(2021, 5, 31)),
        ("They must submit reports within fifteen business days.", 15, date(2021, 5, 31)),
        ("The apps were given 15 business days to rectify.", 15, date(2021, 5, 31)),
    ],
)
def test_working_days(text: str, amount: int, due_on: date) -> None:
    deadline = extract_deadline(text, MAY_10)
    assert deadline is not None
    assert (deadline.rule, deadline.amount, deadline.due_on) == ("working_days", amount, due_on)
    assert deadline.estimated is False
    assert deadline.source_text in text


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("请于一周内完成整改。", 7),
        ("应在7日内完成整改。", 7),
        ("限期5天内整改完毕。", 5),
        ("应在两周内完成整改。", 14),
        ("Companies have a week to fix the problems.", 7),
        ("The apps must be fixed within a week.", 7),
        ("Operators must rectify within seven days.", 7),
        ("They were told to fix the issues within two weeks.", 14),
        ("The firms must fix the issues within 10 days.", 10),
    ],
)
def test_calendar_days(text: str, amount: int) -> None:
    deadline = extract_deadline(text, MAY_10)
    assert deadline is not None
    assert deadline.rule == "calendar_days"
    assert deadline.amount == amount
    assert (deadline.due_on - MAY_10).days == amount


def test_chinese_numerals_up_to_ninety_nine() -> None:
    deadline = extract_deadline("须在九十九个工作日内完成整改。", date(2021, 1, 4))
    assert deadline is not None
    assert deadline.amount == 99


@pytest.mark.parametrize(
    "text",
    [
        "上述APP(SDK)应按有关规定进行整改，整改落实不到位的，我部将依法依规组织开展相关处置工作。",
        "依据有关规定，我部组织对上述3款APP进行下架。要求应用商店立即组织下架处理。",
        "关于下架侵害用户权益APP名单的通报\n要求相关企业于5月20日前完成整改。",
        "该App近7日内下载量超过10万次。",
        "工作人员在一周内对20款App进行了检测。",
        "The ministry named 43 apps on Monday.",
        "应在2月30日前完成整改。",
        "",
    ],
)
def test_no_deadline(text: str) -> None:
    assert extract_deadline(text, MAY_10) is None


def test_deadline_quoted_from_an_earlier_notice_is_ignored() -> None:
    text = "2021年1月22日，我部通报了157家企业，要求于2021年1月29日前完成整改。"
    assert extract_deadline(text, date(2021, 2, 5)) is None


def test_explicit_date_wins_over_relative_phrase() -> None:
    text = "各企业应在10个工作日内自查，并应在2021年6月30日前完成整改。"
    deadline = extract_deadline(text, MAY_10)
    assert deadline is not None
    assert deadline.due_on == date(2021, 6, 30)


def test_working_days_outside_calendar_coverage_are_estimated() -> None:
    deadline = extract_deadline("应自本通报发布之日起15个工作日内完成整改。", date(2030, 3, 1))
    assert deadline is not None
    assert deadline.estimated is True
    assert deadline.due_on == date(2030, 3, 22)


def test_day_of_month_is_not_a_number_of_days() -> None:
    assert extract_deadline("应在5月15日内完成整改。", MAY_10) is None


@pytest.mark.parametrize(
    ("text", "due", "hour"),
    [
        ("上述APP应于1月6日12点前完成整改。", date(2022, 1, 6), 12),
        ("请于2021年12月31日下午5时前报送整改报告。", date(2021, 12, 31), 17),
        ("上述APP应在12月20日前完成整改。", date(2021, 12, 20), None),
    ],
)
def test_deadline_hour(text: str, due: date, hour: int | None) -> None:
    deadline = extract_deadline(text, date(2021, 12, 10))
    assert deadline is not None
    assert (deadline.due_on, deadline.due_hour) == (due, hour)


def test_deadline_period_phrasing() -> None:
    deadline = extract_deadline("整改期限为15个工作日。", date(2021, 5, 10))
    assert deadline is not None and deadline.due_on == date(2021, 5, 31)


@pytest.mark.parametrize(
    ("text", "due"),
    [
        ("It told the operators to fix the problems by Nov. 10.", date(2021, 11, 10)),
        ("Apps have until January 5, 2022 to rectify.", date(2022, 1, 5)),
        ("The operators must rectify by Dec 1.", date(2021, 12, 1)),
    ],
)
def test_english_absolute_dates(text: str, due: date) -> None:
    deadline = extract_deadline(text, date(2021, 11, 3))
    assert deadline is not None and (deadline.due_on, deadline.rule) == (due, "absolute")


def test_english_date_without_an_action_is_not_a_deadline() -> None:
    assert extract_deadline("The rules took effect by May 1.", date(2021, 5, 10)) is None
