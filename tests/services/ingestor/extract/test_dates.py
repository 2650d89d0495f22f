from __future__ import annotations

from datetime import date

import pytest

from services.ingestor.extract.dates import find_dates, find_published_on
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
