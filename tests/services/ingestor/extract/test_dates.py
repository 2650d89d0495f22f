from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.ingestor.extract.dates import (
    date_notice,
    find_dates,
    find_months,
    find_published_on,
    find_signature_date,
)
from shared.errors import InputError


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("关于APP的通报\n发布时间：2021-05-10 17:30 来源：国家网信办\n正文", date(2021, 5, 10)),
        ("关于APP的通报\n发布日期：2023年6月20日\n正文", date(2023, 6, 20)),
        ("Title\nPublished: May 10, 2021\nbody", date(2021, 5, 10)),
        ("关于APP的通报\n2021-09-07  来源：信息通信管理局\n正文", date(2021, 9, 7)),
        ("关于APP的通报\n2024/7/5\n正文", date(2024, 7, 5)),
        ("关于APP的通报\n正文\n国家互联网信息办公室\n2021年5月10日", date(2021, 5, 10)),
        ("关于APP的通报\n正文\n工业和信息化部\n二〇二一年五月十日", date(2021, 5, 10)),
        ("关于APP的通报\n正文\n山东省通信管理局\n２０２３年３月６日", date(2023, 3, 6)),
        ("Apps warned\nBy a reporter | 10 May 2021\nbody", date(2021, 5, 10)),
        ("Apps warned\nJuly 26, 2021\nbody", date(2021, 7, 26)),
        ("Apps warned\nBEIJING, Sept. 3, 2021 - The ministry said", date(2021, 9, 3)),
    ],
)
def test_publication_date(text: str, expected: date) -> None:
    assert find_published_on(text) == expected


def test_marker_beats_signature() -> None:
    text = "标题\n发布时间：2021-01-09\n正文\n工业和信息化部\n2021年1月8日"
    assert find_published_on(text) == date(2021, 1, 9)


def test_date_inside_a_body_sentence_is_not_the_publication_date() -> None:
    text = "标题\n2021年1月22日，我部向社会通报了157家企业。\n正文\n工业和信息化部\n2021年2月5日"
    assert find_published_on(text) == date(2021, 2, 5)


def test_generic_marker_inside_a_sentence_is_ignored() -> None:
    text = "标题\n本次检测时间：2021-03-01至2021-03-15。\n正文\n国家网信办\n2021年4月2日"
    assert find_published_on(text) == date(2021, 4, 2)


@pytest.mark.parametrize(
    "text",
    [
        "关于APP的通报\n正文没有日期\n工业和信息化部",
        "关于APP的通报\n2021年1月22日，我部向社会通报了一批企业。\n正文",
        "",
    ],
)
def test_no_date(text: str) -> None:
    with pytest.raises(InputError, match="no publication date found"):
        find_published_on(text)


def test_find_dates_skips_impossible_dates() -> None:
    assert [d.day for d in find_dates("2021年2月30日 2021-13-01 2021年3月1日")] == [
        date(2021, 3, 1)
    ]


def test_photo_caption_date_is_not_the_publication_date() -> None:
    text = "Apps warned\nThe app is seen on a phone on July 13, 2021. (Photo agency)\nThe ministry said"
    with pytest.raises(InputError, match="no publication date found"):
        find_published_on(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Title\nPUBLISHED : Monday, 26 Jul, 2021, 7:15pm\nUPDATED : Tuesday, 27 Jul, 2021",
            date(2021, 7, 26),
        ),
        ("Title\nUpdated: 2022-03-15 14:02\nbody", date(2022, 3, 15)),
        (
            "Title\nBy Reuters Staff\nNovember 3, 2021 10:27 AM GMT+8 Updated 2 years ago\nbody",
            date(2021, 11, 3),
        ),
        ("Title\nPublished 2022-09-28 | Tech Desk\nbody", date(2022, 9, 28)),
        ("标题\n发布日期：2021年5月10日 星期一\n正文", date(2021, 5, 10)),
        ("标题\n成文日期：2020-12-15\n发布日期：2020-12-16\n正文", date(2020, 12, 16)),
    ],
)
def test_more_publication_markers(text: str, expected: date) -> None:
    assert find_published_on(text) == expected


def test_reprint_site_date_gives_way_to_the_signature() -> None:
    text = (
        "网信办通报\n2022-03-22 09:41 来源：某某财经网\n正文。\n国家互联网信息办公室\n2022年3月21日"
    )
    assert find_published_on(text) == date(2022, 3, 21)


def test_regulator_page_posted_after_signing_keeps_its_date() -> None:
    text = "标题\n发布时间：2021-01-09 来源：信息通信管理局\n正文。\n工业和信息化部信息通信管理局\n2021年1月8日"
    assert find_published_on(text) == date(2021, 1, 9)


def test_signature_date_needs_a_signer() -> None:
    assert find_signature_date("正文。\n工业和信息化部信息通信管理局\n2021年1月8日\n") == date(
        2021, 1, 8
    )
    assert find_signature_date("正文。\n相关阅读\n2021-01-08\n") is None


def test_dateline_without_year() -> None:
    with pytest.raises(InputError, match=r"no publication date found .*dateline"):
        find_published_on("Title\nBEIJING, May 10 (Reuters) - The regulator said on Monday")
    text = "Title\nBEIJING, May 10 (Reuters) - The regulator said\n(c) 2021 Reuters"
    assert find_published_on(text) == date(2021, 5, 10)


# --- the office and the date on one line --------------------------------------------------


@pytest.mark.parametrize(
    ("signature", "expected"),
    [
        ("工业和信息化部信息通信管理局\u30002022年3月9日", date(2022, 3, 9)),
        ("广东省通信管理局 2024年1月5日", date(2024, 1, 5)),
        ("海南省互联网信息办公室\u3000\u30002023年7月14日", date(2023, 7, 14)),
        ("青石县市场监督管理局 二〇二四年四月十八日", date(2024, 4, 18)),
        ("东岳移动互联网产业联盟（2023年11月2日）", date(2023, 11, 2)),
    ],
)
def test_signer_and_date_on_one_line(signature: str, expected: date) -> None:
    text = f"关于APP的通报\n正文。\n1. 某某（某某有限公司）\n{signature}\n"
    assert find_signature_date(text) == expected
    assert find_published_on(text) == expected


def test_a_sentence_with_a_date_is_not_a_signature() -> None:
    text = "关于APP的通报\n正文。\n我局于2023年3月1日组织了检测\n"
    assert find_signature_date(text) is None


# --- the notice's own date and the page's date --------------------------------------------


def test_date_under_the_title_wins_over_a_reprint_sidebar() -> None:
    text = (
        "国家互联网信息办公室关于某某等3款App的通报\n（2023年6月1日）\n正文。\n"
        "1. 某某（某某有限公司）\n2. 某甲\n3. 某乙\n4. 某丙\n"
        "发布时间: 2023-06-02 10:15\n来源：蓝海科技网\n热门推荐\n"
    )
    dating = date_notice(text)
    assert (dating.published_on, dating.own, dating.estimated) == (
        date(2023, 6, 1),
        date(2023, 6, 1),
        False,
    )
    (note,) = dating.notes
    assert "2023-06-02" in note and "2023-06-01" in note and "kept the notice's date" in note


def test_reprint_source_line_with_a_date_gives_way_to_the_signature() -> None:
    text = (
        "关于侵害用户权益行为的APP通报\n来源：极客前哨网 2022-03-10\n正文。\n"
        "工业和信息化部信息通信管理局\u30002022年3月9日\n"
    )
    dating = date_notice(text)
    assert dating.published_on == date(2022, 3, 9)
    assert "极客前哨网" in dating.notes[0]


def test_traditional_script_copy_is_a_reprint() -> None:
    text = "关于App的通报\n发布时间：2023-08-16\n正文。\n北京市互联网信息办公室\n2023年8月15日\n"
    assert date_notice(text).published_on == date(2023, 8, 16)
    dating = date_notice(text, reprint=True)
    assert dating.published_on == date(2023, 8, 15)
    assert "traditional" in dating.notes[0]


def test_regulator_page_posted_a_day_after_signing_says_so() -> None:
    text = "标题\n发布时间：2021-01-09 来源：信息通信管理局\n正文。\n工业和信息化部\n2021年1月8日"
    dating = date_notice(text)
    assert (dating.published_on, dating.own) == (date(2021, 1, 9), date(2021, 1, 8))
    assert "kept the posting date" in dating.notes[0]


def test_page_date_weeks_after_the_signature_is_not_the_publication() -> None:
    text = "标题\n发布时间：2023-06-20\n正文。\n海南省互联网信息办公室\n2023年6月1日"
    dating = date_notice(text)
    assert dating.published_on == date(2023, 6, 1)
    assert "kept the notice's date" in dating.notes[0]


def test_same_dates_leave_no_note() -> None:
    text = "标题\n发布时间：2023-06-01\n正文。\n海南省互联网信息办公室\n2023年6月1日"
    assert date_notice(text).notes == ()


# --- a month without a day --------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("关于App的通报\n正文。\n东岳产业联盟秘书处\n2023年5月\n", date(2023, 5, 1)),
        ("关于App的通报\n正文。\n贵州省委网信办\n二〇二三年五月\n", date(2023, 5, 1)),
        ("关于App的通报\n正文。\n海南省委网信办 2022年12月\n", date(2022, 12, 1)),
        ("关于App的通报\n（2024年2月）\n正文。\n", date(2024, 2, 1)),
        ("Apps named\nMay 2023\nThe regulator said", date(2023, 5, 1)),
    ],
)
def test_month_without_a_day_is_an_estimate(text: str, expected: date) -> None:
    dating = date_notice(text)
    assert dating.published_on == expected
    assert dating.estimated is True
    assert dating.own is None
    assert "estimate" in dating.notes[0] and "first day" in dating.notes[0]


def test_month_in_a_sentence_is_not_a_date() -> None:
    with pytest.raises(InputError, match="no publication date found"):
        date_notice("关于App的通报\n2023年5月，我办组织了检测。\n1. 某某\n")


def test_a_full_date_beats_a_month() -> None:
    text = "标题\n发布时间：2023-05-20\n正文。\n海南省互联网信息办公室\n2023年5月"
    dating = date_notice(text)
    assert (dating.published_on, dating.estimated) == (date(2023, 5, 20), False)
    assert "2023年5月" in dating.notes[0]


def test_find_months_skips_full_dates() -> None:
    months = find_months("2023年5月12日 2023年6月 二〇二三年七月 August 2023 9 Sept 2023")
    assert [(m.year, m.month) for m in months] == [(2023, 6), (2023, 7), (2023, 8)]


# --- no date, or the caller's date ------------------------------------------------------


def test_no_date_names_the_flag() -> None:
    with pytest.raises(InputError, match=r"no publication date found .*--published-on YYYY-MM-DD"):
        date_notice("关于App的通报\n正文没有日期\n1. 某某（某某有限公司）\n")


def test_given_date_wins_and_says_when_the_notice_differs() -> None:
    text = "关于App的通报\n正文。\n海南省互联网信息办公室\n2023年6月1日"
    dating = date_notice(text, given=date(2023, 6, 3))
    assert (dating.published_on, dating.own) == (date(2023, 6, 3), date(2023, 6, 1))
    assert "2023-06-01" in dating.notes[0]
    assert date_notice("关于App的通报\n正文。", given=date(2023, 6, 3)).notes == ()


def test_fallback_date_only_when_the_notice_gives_none() -> None:
    undated = "关于App的通报\n正文。\n1. 某某（某某有限公司）\n"
    dating = date_notice(undated, fallback=date(2023, 6, 3))
    assert dating.published_on == date(2023, 6, 3) and "feed item" in dating.notes[0]
    dated = "关于App的通报\n正文。\n海南省互联网信息办公室\n2023年6月1日"
    assert date_notice(dated, fallback=date(2023, 6, 3)).published_on == date(2023, 6, 1)


def test_a_full_date_under_the_title_beats_a_month_at_the_end() -> None:
    text = "关于App的通报\n（2023年5月12日）\n正文。\n贵州省委网信办\n2023年5月\n"
    dating = date_notice(text)
    assert (dating.published_on, dating.estimated, dating.own) == (
        date(2023, 5, 12),
        False,
        date(2023, 5, 12),
    )


_DATE_PIECES = st.sampled_from(
    [
        "发布时间：",
        "来源：某某网",
        "来源：国家网信办",
        "（2023年6月1日）",
        "2023年5月",
        "二〇二三年五月",
        "2023-06-02 10:15",
        "May 2023",
        "海南省委网信办",
        "某某协会\u30002023年6月1日",
        "\n",
        "。",
    ]
)


@settings(max_examples=200, deadline=None, database=None)
@given(st.lists(st.one_of(_DATE_PIECES, st.text(max_size=6)), max_size=14).map("".join))
def test_date_notice_decides_or_asks_for_the_flag(text: str) -> None:
    try:
        dating = date_notice(text)
    except InputError as error:
        assert "--published-on" in str(error)
    else:
        assert not dating.estimated or dating.published_on.day == 1
        assert dating.own is None or not dating.estimated
    assert date_notice(text, given=date(2024, 2, 29)).published_on == date(2024, 2, 29)
