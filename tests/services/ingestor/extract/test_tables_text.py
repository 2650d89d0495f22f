from __future__ import annotations

from services.ingestor.extract.entities_text import extract_entities_text
from services.ingestor.extract.tables_text import csv_to_text, find_text_tables

HEADER = "序号\t应用名称\t应用开发者\t应用来源\t应用版本\t所涉问题"


def rows(text: str) -> list[tuple[str, str | None, str | None, str | None, list[str]]]:
    return [
        (e.name, e.developer, e.store, e.version, e.issues) for e in extract_entities_text(text)
    ]


def test_tab_table_with_blank_continuation_rows() -> None:
    text = "\n".join(
        [
            "上述APP应在3月3日前完成整改。",
            HEADER,
            "1\t趣味直播\t湖南趣味文化传媒有限公司\t小米应用商店\t4.2.0\t违规收集个人信息",
            "\t\t\t华为应用市场\t4.2.1\t账号注销难",
            "2\t速借宝\t\t应用宝\t2.8.3\t超范围收集个人信息",
            "工业和信息化部",
        ]
    )
    assert rows(text) == [
        (
            "趣味直播",
            "湖南趣味文化传媒有限公司",
            "小米应用商店/华为应用市场",
            "4.2.0/4.2.1",
            ["违规收集个人信息", "账号注销难"],
        ),
        ("速借宝", None, "应用宝", "2.8.3", ["超范围收集个人信息"]),
    ]


def test_pipe_table_with_rule_row() -> None:
    text = """| 序号 | 应用名称 | 应用开发者 | 应用版本 |
| --- | :--- | --- | ---: |
| 1 | 拼拼乐 | 上海拼拼乐网络科技有限公司 | 3.1.0 |
| 2 | 橘子壁纸 |  | 2.0.0 |
"""
    assert rows(text) == [
        ("拼拼乐", "上海拼拼乐网络科技有限公司", None, "3.1.0", []),
        ("橘子壁纸", None, None, "2.0.0", []),
    ]


def test_csv_lines_with_quoted_commas() -> None:
    text = """序号,应用名称,开发运营者,问题项
1,苏e停,苏州易停智能科技有限公司,"APP频繁自启动和关联启动,违规调用通信录和地理位置权限"
2,"Linky, Chat & Meet","Linky Social Co., Ltd.",违规使用个人信息
"""
    assert rows(text) == [
        (
            "苏e停",
            "苏州易停智能科技有限公司",
            None,
            None,
            ["APP频繁自启动和关联启动", "违规调用通信录和地理位置权限"],
        ),
        ("Linky, Chat & Meet", "Linky Social Co., Ltd.", None, None, ["违规使用个人信息"]),
    ]


def test_space_aligned_columns() -> None:
    text = "序号  应用名称  开发运营者  应用来源\n1  津门快送  天津津门快送物流有限公司  华为应用市场\n"
    assert rows(text) == [("津门快送", "天津津门快送物流有限公司", "华为应用市场", None, [])]


def test_sdk_header_gives_the_kind() -> None:
    text = "序号\tSDK名称\tSDK开发者\tSDK版本\n1\t鹰眼定位\t武汉鹰眼位置服务有限公司\t6.3.0\n"
    assert [(e.kind, e.name) for e in extract_entities_text(text)] == [("sdk", "鹰眼定位")]


def test_table_ends_at_prose() -> None:
    lines = [
        "开头",
        HEADER,
        "1\t甲\t甲科技有限公司\t应用宝\t1.0\t问题",
        "工业和信息化部信息通信管理局",
        "2021年2月24日",
    ]
    [table] = find_text_tables(lines)
    assert (table.start, table.end) == (1, 3)
    assert [e.name for e in table.entities] == ["甲"]


def test_prose_with_commas_is_not_a_table() -> None:
    assert find_text_tables(["近期，我部组织检测，发现问题，现予以通报。"]) == []


def test_csv_to_text_keeps_blank_cells_and_joins_cell_lines() -> None:
    assert csv_to_text('a,"b\nc",\n,,x\n') == "a\tb c\n\t\tx"


def test_table_pasted_one_cell_per_line() -> None:
    text = "\n".join(
        [
            *["序号", "应用名称", "应用开发者", "应用版本"],
            *["1", "悦动计步", "深圳悦动健康科技有限公司", "2.3.1"],
            *["2", "小鹿记账", "4.0.2"],  # the blank developer cell was lost in the paste
            *["工业和信息化部信息通信管理局", "2020年12月22日"],
        ]
    )
    assert rows(text) == [
        ("悦动计步", "深圳悦动健康科技有限公司", None, "2.3.1", []),
        ("小鹿记账", None, None, "4.0.2", []),
    ]
