from __future__ import annotations

from datetime import date

import pytest

from services.ingestor.extract.dates import find_dates, find_published_on, find_signature_date
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
