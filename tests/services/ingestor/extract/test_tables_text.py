from __future__ import annotations

import time

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


def test_continuation_rows_with_one_cell_and_issue_lines_without_tabs() -> None:
    text = "\n".join(
        [
            HEADER,
            "1\t晋商手机银行\t\\\t华为应用市场\t6.2.0\t违规收集个人信息",
            "\t\t\t\t\tAPP强制、频繁、过度索取权限",
            "2\t平遥古城\t平遥古城文旅有限公司\t/\t—\t账号注销难",
            "违规调用通信录和地理位置权限",  # the cell's own line break, copied as one
            "3\t太原地铁\t太原地铁出行有限公司\t应用宝\t2.5.1\t-",
            "山西省通信管理局",
        ]
    )
    assert rows(text) == [
        (
            "晋商手机银行",
            None,
            "华为应用市场",
            "6.2.0",
            ["违规收集个人信息", "APP强制、频繁、过度索取权限"],
        ),
        (
            "平遥古城",
            "平遥古城文旅有限公司",
            None,
            None,
            ["账号注销难", "违规调用通信录和地理位置权限"],
        ),
        ("太原地铁", "太原地铁出行有限公司", "应用宝", "2.5.1", []),
    ]


def test_rows_that_lost_a_merged_developer_cell_shift_back() -> None:
    text = "\n".join(
        [
            HEADER,
            "1\t长春汽车城\t长春汽车城网络科技有限公司\t华为应用市场\t5.0.2\t违规收集个人信息",
            "2\t汽车城二手车\t应用宝\t2.3.0\t账号注销难",
            "3\t查干湖冬捕\t\tOPPO软件商店\t1.0.1\t账号注销难",
            "4\t腾讯视频\t深圳市腾讯计算机系统有限公司\t应用宝\t8.9.50\t违规使用个人信息",
            "vivo应用商店\t8.9.45\t超范围收集个人信息",
        ]
    )
    assert rows(text) == [
        ("长春汽车城", "长春汽车城网络科技有限公司", "华为应用市场", "5.0.2", ["违规收集个人信息"]),
        ("汽车城二手车", "长春汽车城网络科技有限公司", "应用宝", "2.3.0", ["账号注销难"]),
        ("查干湖冬捕", None, "OPPO软件商店", "1.0.1", ["账号注销难"]),
        (
            "腾讯视频",
            "深圳市腾讯计算机系统有限公司",
            "应用宝/vivo应用商店",
            "8.9.50/8.9.45",
            ["违规使用个人信息", "超范围收集个人信息"],
        ),
    ]


def test_pasted_one_cell_per_line_developer_first_with_dropped_cells() -> None:
    text = "\n".join(
        [
            *["序号", "应用开发者", "应用名称", "应用来源", "版本", "问题"],
            *[
                "1",
                "西安古城云科技有限公司",
                "古城生活",
                "华为应用市场",
                "5.1.0",
                "违规收集个人信息",
            ],
            *["2", "北京小桔科技有限公司", "滴滴出行", "应用宝", "6.7.8"],
            *["APP频繁自启动和关联启动", "违规调用通信录和地理位置权限"],
            *["3", "秦岭徒步", "OPPO软件商店", "1.2.0", "账号注销难"],  # no developer
            *["陕西省通信管理局", "2023年11月3日"],
        ]
    )
    assert rows(text) == [
        ("古城生活", "西安古城云科技有限公司", "华为应用市场", "5.1.0", ["违规收集个人信息"]),
        (
            "滴滴出行",
            "北京小桔科技有限公司",
            "应用宝",
            "6.7.8",
            ["APP频繁自启动和关联启动", "违规调用通信录和地理位置权限"],
        ),
        ("秦岭徒步", None, "OPPO软件商店", "1.2.0", ["账号注销难"]),
    ]


def test_pasted_one_cell_per_line_without_numbers() -> None:
    lines = [
        "发现以下APP存在问题。",
        *["应 用 名 称", "开发运营者", "应用来源", "版本号", "所涉问题", ""],
        *["春城打车", "昆明春城出行科技有限公司", "华为应用市场", "7.2.3/7.3.1"],
        *["违规收集个人信息", "APP强制、频繁、过度索取权限", ""],
        *["大理风花", "小米应用商店", "2.0.5", "开屏弹窗信息骚扰用户", ""],
        *["普洱茶友", "普洱茶友电子商务有限公司", "3.3.0", "账号注销难", ""],
        "云南省通信管理局",
    ]
    [table] = find_text_tables(lines)
    assert (table.start, table.end) == (1, len(lines) - 2)
    assert [(e.name, e.developer, e.store, e.version) for e in table.entities] == [
        ("春城打车", "昆明春城出行科技有限公司", "华为应用市场", "7.2.3/7.3.1"),
        ("大理风花", None, "小米应用商店", "2.0.5"),
        ("普洱茶友", "普洱茶友电子商务有限公司", None, "3.3.0"),
    ]
    assert table.entities[0].issues == ["违规收集个人信息", "APP强制、频繁、过度索取权限"]


def test_short_label_lines_in_prose_are_not_a_table() -> None:
    lines = ["附件：APP名单", "应用名称", "问题", "请于近日反馈。"]
    assert find_text_tables(lines) == []


def test_wrapped_header_cells_and_company_names_are_joined_again() -> None:
    text = "\n".join(
        [
            *["序号", "应用", "名称", "应用开发者", "应用", "来源", "版本"],
            *[
                "（1）",
                "徽州古村",
                "黄山徽州古村落文化旅游开发",
                "有限公司",
                "华为应用市场",
                "3.0.2",
            ],
            *["（2）", "合肥通", "合肥城市通网络科技有限公司", "应用宝", "6.1.0"],
            "安徽省通信管理局",
        ]
    )
    assert rows(text) == [
        ("徽州古村", "黄山徽州古村落文化旅游开发有限公司", "华为应用市场", "3.0.2", []),
        ("合肥通", "合肥城市通网络科技有限公司", "应用宝", "6.1.0", []),
    ]


def test_two_column_paste_of_names_and_operators() -> None:
    lines = [
        "App名称",
        "运营者",
        "椰城外卖",
        "海口椰城到家网络科技有限公司",
        "三亚潜水",
        "三亚潜水有限公司",
    ]
    [table] = find_text_tables(lines)
    assert [(e.name, e.developer) for e in table.entities] == [
        ("椰城外卖", "海口椰城到家网络科技有限公司"),
        ("三亚潜水", "三亚潜水有限公司"),
    ]
    # without companies the two label lines are not a table
    assert find_text_tables(["App名称", "运营者", "椰城外卖", "三亚潜水", "五指山茶", "琼海"]) == []


def test_cells_separated_by_single_spaces() -> None:
    text = "\n".join(
        [
            "序号 应用名称 应用开发者 应用来源 应用版本 所涉问题",
            "1 黔城出行 贵阳黔城出行服务有限公司 华为应用市场 3.2.0 违规收集个人信息",
            "超范围收集个人信息",
            "2 安顺瀑布 小米应用商店 1.0.9 开屏弹窗信息骚扰用户 账号注销难",
            "贵州省通信管理局",
        ]
    )
    assert rows(text) == [
        (
            "黔城出行",
            "贵阳黔城出行服务有限公司",
            "华为应用市场",
            "3.2.0",
            ["违规收集个人信息", "超范围收集个人信息"],
        ),
        ("安顺瀑布", None, "小米应用商店", "1.0.9", ["开屏弹窗信息骚扰用户", "账号注销难"]),
    ]


def test_a_sentence_with_single_spaces_is_not_a_table() -> None:
    assert find_text_tables(["应用名称 开发者 版本号 均以检测时为准。", "抖音 北京 1.0"]) == []


def test_a_pasted_table_ends_at_a_sentence_or_a_new_section() -> None:
    head = [
        "序号",
        "应用名称",
        "开发者",
        "版本",
        "1",
        "悦动计步",
        "深圳悦动健康科技有限公司",
        "2.3.1",
    ]
    for after in ["请相关企业抓紧整改。", "二、SDK名单", "对此，我局将持续跟踪整改情况"]:
        [table] = find_text_tables([*head, after, "2", "小鹿记账", "4.0.2"])
        assert table.end == len(head), after
        assert [e.name for e in table.entities] == ["悦动计步"]


def test_spreadsheet_quoted_cells_with_line_breaks() -> None:
    text = "\n".join(
        [
            "序号\t应用名称\t开发者\t问题",
            '1\t抖音\t北京微播视界科技有限公司\t"违规收集个人信息',
            '账号注销难"',
            '2\t"快手""极速版"""\t北京快手科技有限公司\t违规使用个人信息',
        ]
    )
    assert rows(text) == [
        ("抖音", "北京微播视界科技有限公司", None, None, ["违规收集个人信息", "账号注销难"]),
        ('快手"极速版"', "北京快手科技有限公司", None, None, ["违规使用个人信息"]),
    ]


def test_tab_rows_without_a_header_line() -> None:
    text = "\n".join(
        [
            "现将名单通报如下：",
            "1\t天山雪莲\t乌鲁木齐天山雪莲网络科技有限公司\t华为应用市场\t3.0.0\t违规收集个人信息",
            "2\t喀什古城\t\t应用宝\t1.1.4\t账号注销难",
            "新疆维吾尔自治区通信管理局",
        ]
    )
    assert rows(text) == [
        (
            "天山雪莲",
            "乌鲁木齐天山雪莲网络科技有限公司",
            "华为应用市场",
            "3.0.0",
            ["违规收集个人信息"],
        ),
        ("喀什古城", None, "应用宝", "1.1.4", ["账号注销难"]),
    ]


def test_single_space_rows_under_a_header_with_spread_out_labels() -> None:
    text = "\n".join(
        [
            "序号 主办单位 应 用 名 称 来源 版本 主要问题",
            "1 Hangzhou Tripmate Technology Co.,Ltd Trip Helper App Store 2.2 违规收集个人信息；"
            "APP强制、频繁、过度索取权限；开屏弹窗信息骚扰用户",
            "2 成都权限网络工作室 权限管家 应用宝 12.6.0 账号注销难。",
            "上述APP应按要求完成整改。",
        ]
    )
    assert [(name, developer, store) for name, developer, store, *_ in rows(text)] == [
        ("Trip Helper", "Hangzhou Tripmate Technology Co.,Ltd", "App Store"),
        ("权限管家", "成都权限网络工作室", "应用宝"),
    ]


def test_a_header_on_one_line_then_the_cells_one_per_line() -> None:
    for header in ["序号\t应用名称\t开发者\t版本", "序号 应用名称 开发者 版本"]:
        text = "\n".join(
            [header, "", "1", "抖音", "北京微播视界科技有限公司", "1.0", "2", "快手", "2.0"]
        )
        assert rows(text) == [
            ("抖音", "北京微播视界科技有限公司", None, "1.0", []),
            ("快手", None, None, "2.0", []),
        ], header


def test_space_aligned_rows_with_blank_cells_take_no_developer_from_above() -> None:
    text = "\n".join(
        [
            "序号  应用名称  开发运营者  应用来源  应用版本",
            "1  津门快送  天津津门快送物流有限公司  华为应用市场  2.0.1",
            "2  海河观光  应用宝  1.3.0",
        ]
    )
    assert rows(text) == [
        ("津门快送", "天津津门快送物流有限公司", "华为应用市场", "2.0.1", []),
        ("海河观光", None, "应用宝", "1.3.0", []),
    ]


def test_many_tab_lines_that_are_no_table_are_looked_at_once() -> None:
    junk = ["x\tx\tx\tx\tx\tx"] * 400
    started = time.perf_counter()
    assert find_text_tables(junk) == []
    assert time.perf_counter() - started < 2.0


def test_single_space_header_labels_cut_in_two() -> None:
    for header, name in [
        ("序号 应用 名称 开发者 版本", "应用名称"),
        ("序号 应用 开发者 版本", "应用"),
    ]:
        text = "\n".join([header, "1 抖音 北京微播视界科技有限公司 30.1.0"])
        [table] = find_text_tables(text.splitlines())
        assert [(e.name, e.developer, e.version) for e in table.entities] == [
            ("抖音", "北京微播视界科技有限公司", "30.1.0")
        ], name
