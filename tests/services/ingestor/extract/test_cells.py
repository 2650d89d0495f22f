from __future__ import annotations

import pytest

from services.ingestor.extract.cells import align, fill, is_placeholder, look, segment

NAME_FIRST = {"seq": 0, "name": 1, "developer": 2, "store": 3, "version": 4, "issues": 5}


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("", "blank"),
        ("—", "blank"),
        ("\\", "blank"),
        ("--", "blank"),
        ("无", "blank"),
        ("－", "blank"),
        ("12", "digits"),
        ("3、", "digits"),
        ("V5.5.11(0839)RLC", "version"),
        ("7.2.3/7.3.1", "version"),
        ("版本号：3.9.9", "version"),
        ("华为应用市场", "store"),
        ("华为", "store"),
        ("vivo", "store"),
        ("应用宝、小米应用商店", "store"),
        ("App Store", "store"),
        ("北京微播视界科技有限公司", "company"),
        ("Shanghai Ctrip Commerce Co.,Ltd", "company"),
        ("湘潭湘味文化传播工作室", "company"),
        ("APP强制、频繁、过度索取权限", "issue"),
        ("账号注销难", "issue"),
        ("抖音", "text"),
        ("Keep", "text"),
        ("华为视频", "text"),
        ("12306铁路", "text"),
    ],
)
def test_look(text: str, kind: str) -> None:
    assert look(text) == kind


def test_placeholders() -> None:
    assert all(is_placeholder(x) for x in ["/", "／", "\\", "—", "——", "-", "N/A", "暂无"])
    assert is_placeholder("一")  # a dash as OCR reads it
    assert not is_placeholder("无忧行")
    assert not is_placeholder("一起学")


def test_align_a_row_that_lost_its_developer_cell() -> None:
    row = ["2", "汽车城二手车", "应用宝", "2.3.0", "APP强制、频繁、过度索取权限"]
    assert align(row, NAME_FIRST, list(range(6))) == [0, 1, 3, 4, 5]


def test_align_a_row_that_lost_number_name_and_developer() -> None:
    assert align(["OPPO软件商店", "3.0.0", "账号注销难"], NAME_FIRST, list(range(6))) == [3, 4, 5]


def test_align_keeps_positions_when_looks_do_not_decide() -> None:
    # trailing cells trimmed: nothing moves
    assert align(["2", "橘子壁纸", "", "应用宝"], NAME_FIRST, list(range(6))) == [0, 1, 2, 3]


def test_align_around_cells_merged_from_above() -> None:
    # columns 0 and 2 are covered by cells merged from the row above
    assert align(["鹤岗煤城", "1.0.3"], NAME_FIRST, [1, 3, 4, 5]) == [1, 4]


def test_segment_without_numbers_developer_first() -> None:
    columns = {"developer": 0, "name": 1, "store": 2, "issues": 3}
    cells = [
        *["甲乙网络科技有限公司", "甲乙天气", "华为应用市场", "违规使用个人信息"],
        *["丙丁科技有限公司", "丙丁", "App Store", "账号注销难", "欺骗误导用户下载APP"],
        *["戊己文旅有限公司", "戊己旅游", "违规收集个人信息"],  # no store
    ]
    assert segment(cells, columns, 4) == [
        {0: "甲乙网络科技有限公司", 1: "甲乙天气", 2: "华为应用市场", 3: "违规使用个人信息"},
        {0: "丙丁科技有限公司", 1: "丙丁", 2: "App Store", 3: "账号注销难\n欺骗误导用户下载APP"},
        {0: "戊己文旅有限公司", 1: "戊己旅游", 3: "违规收集个人信息"},
    ]


def test_segment_tells_a_count_from_the_next_number() -> None:
    columns = {**NAME_FIRST, "ignore": 6}
    cells = [
        *["1", "甲", "甲有限公司", "应用宝", "1.0.1", "账号注销难", "3"],
        *["2", "乙", "乙有限公司", "应用宝", "2.0.1", "账号注销难"],  # no count
        *["3", "丙", "丙有限公司", "应用宝", "3.0.1", "账号注销难", "2"],
    ]
    rows = segment(cells, columns, 7)
    assert [row[1] for row in rows] == ["甲", "乙", "丙"]
    assert [row.get(6) for row in rows] == ["3", None, "2"]


def test_segment_a_developer_that_is_not_a_company() -> None:
    columns = {"seq": 0, "developer": 1, "name": 2, "version": 3}
    rows = segment(["1", "张三", "记账本", "1.0.0", "2", "李四", "看天气", "2.0.0"], columns, 4)
    assert [(row.get(1), row.get(2)) for row in rows] == [("张三", "记账本"), ("李四", "看天气")]


def test_numbers_in_brackets_are_sequence_numbers() -> None:
    assert look("（12）") == "digits"
    assert look("(3)") == "digits"


def test_fill_groups_the_words_of_a_row_into_cells() -> None:
    words = "2 遵义红色旅游 遵义红城文化旅游有限公司 应用宝 V2.1.6 账号注销难 违规使用个人信息"
    assert fill(words.split(), NAME_FIRST, 6) == {
        0: "2",
        1: "遵义红色旅游",
        2: "遵义红城文化旅游有限公司",
        3: "应用宝",
        4: "V2.1.6",
        5: "账号注销难\n违规使用个人信息",
    }


def test_fill_leaves_out_a_blank_cell() -> None:
    words = ["3", "安顺瀑布", "小米应用商店", "1.0.9", "开屏弹窗信息骚扰用户"]
    assert fill(words, NAME_FIRST, 6) == {
        0: "3",
        1: "安顺瀑布",
        3: "小米应用商店",
        4: "1.0.9",
        5: "开屏弹窗信息骚扰用户",
    }


def test_fill_cuts_latin_names_before_the_company_city() -> None:
    words = [
        "5",
        "Trip",
        "Helper",
        "Hangzhou",
        "Tripmate",
        "Technology",
        "Co.,Ltd",
        "App",
        "Store",
        "2.1",
        "账号注销难",
    ]
    cells = fill(words, NAME_FIRST, 6)
    assert (cells[1], cells[2], cells[3]) == (
        "Trip Helper",
        "Hangzhou Tripmate Technology Co.,Ltd",
        "App Store",
    )


def test_names_with_a_problem_word_are_not_issues() -> None:
    assert look("权限管家") == "text"
    assert look("隐私相册") == "text"
    assert look("违规收集") == "issue"
    assert look("注销难") == "issue"


def test_a_short_row_lost_its_developer_rather_than_its_store() -> None:
    # "-" could be the developer's placeholder or the store's; a merged developer cell is what
    # copies lose most often
    row = ["4", "携程旅行", "-", "7.2.3/7.3.1", "账号注销难"]
    assert align(row, NAME_FIRST, list(range(6))) == [0, 1, 3, 4, 5]


def test_fill_keeps_latin_words_out_of_the_issues() -> None:
    columns = {"version": 0, "developer": 1, "name": 2, "store": 3, "issues": 4}
    words = ["7.2.3/7.3.1", "Trip", "Helper", "违规收集个人信息；账号注销难"]
    assert fill(words, columns, 5) == {
        0: "7.2.3/7.3.1",
        2: "Trip Helper",
        4: "违规收集个人信息；账号注销难",
    }


def test_a_brand_that_is_also_an_app_is_a_name_on_its_own() -> None:
    assert look("百度") == "text"
    assert look("百度手机助手") == "store"
    assert look("小米商城") == "text"  # Xiaomi's shop is an app, not a store
