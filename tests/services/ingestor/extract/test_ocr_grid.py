"""Rows and columns rebuilt from text boxes (as OCR gives them), without running OCR."""

from __future__ import annotations

from services.ingestor.extract.ocr import TextBox
from services.ingestor.extract.ocr_grid import (
    clean_cell,
    group_lines,
    split_at_rules,
    table_from_boxes,
    text_from_boxes,
)
from services.ingestor.extract.tables import table_entities

H = 24  # text height


def row(y: float, *cells: tuple[float, str]) -> list[TextBox]:
    """Boxes on one line at ``y``: (left x, text); 20 px per character."""
    return [TextBox(text, x, y, x + 20 * len(text), y + H) for x, text in cells]


def names(boxes: list[TextBox], **rules: list[float]) -> list[tuple[str, str | None]]:
    table = table_from_boxes(boxes, **rules)  # type: ignore[arg-type]
    assert table is not None
    return [(e.name, e.developer) for e in table_entities(table.grid)]


def test_lines_group_by_vertical_centre_and_sort_left_to_right() -> None:
    boxes = [
        TextBox("b", 100, 52, 120, 76),
        TextBox("a", 10, 50, 30, 74),
        TextBox("c", 10, 90, 30, 114),
    ]
    lines = group_lines(boxes)
    assert [line.texts() for line in lines] == [["a", "b"], ["c"]]


def test_a_plain_table_with_left_aligned_long_company_names() -> None:
    boxes = [
        *row(10, (10, "序号"), (80, "应用名称"), (260, "应用开发者"), (700, "应用来源")),
        # the company names reach far past their header: the boundary stays before 应用来源
        *row(60, (10, "1"), (80, "云朵阅读"), (260, "杭州云朵网络科技有限公司"), (700, "应用宝")),
        *row(
            110, (10, "2"), (80, "微信"), (260, "腾讯科技（深圳）有限公司"), (700, "华为应用市场")
        ),
    ]
    table = table_from_boxes(boxes)
    assert table is not None
    entities = table_entities(table.grid)
    assert [(e.name, e.developer, e.store) for e in entities] == [
        ("云朵阅读", "杭州云朵网络科技有限公司", "应用宝"),
        ("微信", "腾讯科技（深圳）有限公司", "华为应用市场"),
    ]


def test_developer_first_columns_are_read_by_their_header() -> None:
    boxes = [
        *row(10, (10, "序号"), (80, "开发运营者"), (420, "应用名称")),
        *row(60, (10, "1"), (80, "北京微播视界科技有限公司"), (420, "抖音")),
        *row(110, (10, "2"), (80, "北京快手科技有限公司"), (420, "快手")),
    ]
    assert names(boxes) == [
        ("抖音", "北京微播视界科技有限公司"),
        ("快手", "北京快手科技有限公司"),
    ]


def test_a_cell_over_two_lines_stays_in_its_row_without_rules() -> None:
    boxes = [
        *row(10, (10, "序号"), (80, "应用名称"), (260, "应用开发者"), (600, "所涉问题")),
        # row 1: the issue cell has two lines; the name is centred between them
        *row(60, (600, "违规收集个人信息")),
        *row(75, (10, "1"), (80, "晴空相机"), (260, "深圳市晴空影像有限公司")),
        *row(90, (600, "账号注销难")),
        *row(
            140,
            (10, "2"),
            (80, "快看天气"),
            (260, "北京晴朗信息技术有限公司"),
            (600, "APP频繁自启动和关联启动"),
        ),
    ]
    table = table_from_boxes(boxes)
    assert table is not None
    entities = table_entities(table.grid)
    assert [(e.name, e.issues) for e in entities] == [
        ("晴空相机", ["违规收集个人信息", "账号注销难"]),
        ("快看天气", ["APP频繁自启动和关联启动"]),
    ]


def test_a_line_that_reaches_the_column_edge_wraps_on() -> None:
    boxes = [
        *row(10, (10, "序号"), (80, "应用名称"), (260, "所涉问题")),
        *row(60, (10, "1"), (80, "小熊课堂"), (260, "APP强制、频繁、过度索取权")),
        *row(90, (260, "限")),
        *row(140, (10, "2"), (80, "晨跑计步"), (260, "账号注销难")),
    ]
    table = table_from_boxes(boxes)
    assert table is not None
    assert [e.issues for e in table_entities(table.grid)] == [
        ["APP强制、频繁、过度索取权限"],
        ["账号注销难"],
    ]


def test_numbered_issues_are_not_joined_even_at_the_edge() -> None:
    boxes = [
        *row(10, (10, "序号"), (80, "应用名称"), (260, "所涉问题")),
        *row(60, (10, "1"), (80, "小熊课堂"), (260, "1.违规收集个人信息")),
        *row(90, (260, "2.账号注销难")),
    ]
    table = table_from_boxes(boxes)
    assert table is not None
    assert [e.issues for e in table_entities(table.grid)] == [["违规收集个人信息", "账号注销难"]]


def test_ruling_lines_decide_rows_and_columns() -> None:
    boxes = [
        *row(10, (10, "序号"), (80, "App名称"), (300, "运营者")),
        *row(60, (10, "1"), (80, "青柠日记"), (300, "杭州青柠互动科技有限公司")),
        # a name over two lines inside one ruled row: one app, not two
        *row(110, (10, "2"), (80, "大象找房"), (300, "北京大象置业网络")),
        *row(140, (80, "极速版"), (300, "科技有限公司")),
        *row(230, (10, "注：名单按检测时间排列")),
    ]
    rules = {"row_rules": [5.0, 50.0, 100.0, 180.0], "column_rules": [5.0, 70.0, 290.0, 800.0]}
    table = table_from_boxes(boxes, **rules)
    assert table is not None
    assert [(e.name, e.developer) for e in table_entities(table.grid)] == [
        ("青柠日记", "杭州青柠互动科技有限公司"),
        ("大象找房\n极速版".replace("\n", ""), "北京大象置业网络科技有限公司"),
    ]
    assert table.after == ["注：名单按检测时间排列"]


def test_a_header_whose_labels_wrap_onto_a_second_line() -> None:
    boxes = [
        *row(10, (10, "序号"), (80, "应用名称"), (260, "应用开"), (560, "应用")),
        *row(36, (260, "发者"), (560, "来源")),
        *row(90, (10, "1"), (80, "米粒漫画"), (260, "广州米粒动漫科技有限公司"), (560, "应用宝")),
    ]
    table = table_from_boxes(boxes)
    assert table is not None
    entity = table_entities(table.grid)[0]
    assert (entity.name, entity.developer, entity.store) == (
        "米粒漫画",
        "广州米粒动漫科技有限公司",
        "应用宝",
    )


def test_lines_above_the_header_are_kept_as_text() -> None:
    boxes = [
        *row(10, (10, "附件：2款App名单")),
        *row(60, (10, "序号"), (80, "应用名称"), (260, "应用开发者")),
        *row(110, (10, "1"), (80, "晚风电台"), (260, "南京晚风文化传媒有限公司")),
    ]
    table = table_from_boxes(boxes)
    assert table is not None
    assert table.before == ["附件：2款App名单"]


def test_no_header_means_no_table_and_the_lines_as_text() -> None:
    boxes = [
        *row(10, (10, "1.米粒漫画"), (300, "广州米粒动漫科技有限公司")),
        *row(60, (10, "2.小满天气")),
    ]
    assert table_from_boxes(boxes) is None
    assert text_from_boxes(boxes) == "1.米粒漫画  广州米粒动漫科技有限公司\n2.小满天气"


def test_ocr_punctuation_is_dropped_at_the_edges_only() -> None:
    assert clean_cell("|云朵阅读·") == "云朵阅读"
    assert clean_cell("《快看天气》") == "快看天气"
    assert clean_cell("V5.5.11") == "V5.5.11"
    assert clean_cell("腾讯科技（深圳）有限公司") == "腾讯科技（深圳）有限公司"
    assert clean_cell("输人法") == "输人法"  # an OCR slip is the matcher's to forgive


def test_a_text_across_columns_is_a_section_row_not_an_app() -> None:
    boxes = [
        *row(10, (10, "序号"), (80, "App名称"), (260, "运营者")),
        *row(60, (200, "一、短视频类")),
        *row(110, (10, "1"), (80, "抖音"), (260, "北京微播视界科技有限公司")),
        *row(160, (200, "二、SDK")),
        *row(210, (10, "2"), (80, "元气SDK"), (260, "上海元气信息技术有限公司")),
    ]
    table = table_from_boxes(boxes)
    assert table is not None
    assert [(e.name, e.kind) for e in table_entities(table.grid)] == [
        ("抖音", "app"),
        ("元气SDK", "sdk"),
    ]


def test_a_box_across_a_vertical_rule_is_cut_at_the_rule() -> None:
    joined = TextBox("1抖音", 10, 60, 10 + 0.55 * 20 + 40, 84)  # "1" ends at 21, the rule at 24
    assert [b.text for b in split_at_rules([joined], [24.0])] == ["1", "抖音"]
    assert [b.text for b in split_at_rules([joined], [200.0])] == ["1抖音"]


def test_a_picture_that_goes_on_with_the_list_takes_the_header_before() -> None:
    first = table_from_boxes(
        [
            *row(10, (10, "序号"), (80, "App名称"), (300, "运营者")),
            *row(60, (10, "1"), (80, "青柠日记"), (300, "杭州青柠互动科技有限公司")),
        ],
        width=800,
    )
    assert first is not None and first.header is not None
    rest = [
        *row(10, (10, "2"), (80, "大象找房"), (300, "北京大象置业网络科技有限公司")),
        *row(60, (10, "3"), (80, "快手"), (300, "北京快手科技有限公司")),
    ]
    alone = table_from_boxes(rest, width=800)
    assert alone is not None and alone.headerless  # without the picture before: no header
    table = table_from_boxes(rest, carried=first.header, width=800)
    assert table is not None
    assert [(e.name, e.developer) for e in table_entities(table.grid)] == [
        ("大象找房", "北京大象置业网络科技有限公司"),
        ("快手", "北京快手科技有限公司"),
    ]
    # lines of prose do not line up in the columns: not a continuation
    prose = [
        *row(10, (10, "上述App应在15个工作日内完成整改。")),
        *row(60, (10, "国家互联网信息办公室")),
    ]
    assert table_from_boxes(prose, carried=first.header, width=800) is None


def test_a_table_without_header_is_read_by_what_its_columns_hold() -> None:
    boxes = [
        *row(10, (10, "1"), (80, "抖音"), (260, "北京微播视界科技有限公司"), (760, "应用宝")),
        *row(
            60,
            (10, "2"),
            (80, "青柠日记"),
            (260, "杭州青柠互动科技有限公司"),
            (760, "华为应用市场"),
        ),
        *row(
            110, (10, "3"), (80, "百度地"), (260, "北京百度网讯科技有限公司"), (760, "小米应用商店")
        ),
        *row(135, (80, "图")),
    ]
    table = table_from_boxes(boxes)
    assert table is not None and table.headerless
    assert [
        (e.name, e.developer, e.store) for e in table_entities(table.grid, headerless=True)
    ] == [
        ("抖音", "北京微播视界科技有限公司", "应用宝"),
        ("青柠日记", "杭州青柠互动科技有限公司", "华为应用市场"),
        ("百度地图", "北京百度网讯科技有限公司", "小米应用商店"),
    ]


def test_a_cell_the_row_rule_does_not_cross_is_merged_with_the_one_above() -> None:
    boxes = [
        *row(10, (10, "序号"), (80, "应用名称"), (260, "应用开发者"), (700, "应用来源")),
        # app 1 in two stores: seq, name and developer merged over two ruled rows, their text
        # centred on the rule between them
        *row(88, (10, "1"), (80, "悦听FM"), (260, "悦听（北京）文化传媒有限公司")),
        *row(60, (700, "华为应用市场")),
        *row(110, (700, "应用宝")),
        *row(
            160,
            (10, "2"),
            (80, "步步高升"),
            (260, "步步高升网络科技有限公司"),
            (700, "小米应用商店"),
        ),
    ]
    rules = [5.0, 50.0, 100.0, 150.0, 200.0]

    def spans(y: float, x0: float, x1: float) -> bool:
        return not (y == 100.0 and x1 < 690)  # the rule at 100 stops at the store column

    table = table_from_boxes(boxes, row_rules=rules, rule_spans=spans)
    assert table is not None
    entities = table_entities(table.grid)
    assert [(e.name, e.developer, e.store) for e in entities] == [
        ("悦听FM", "悦听（北京）文化传媒有限公司", "华为应用市场/应用宝"),
        ("步步高升", "步步高升网络科技有限公司", "小米应用商店"),
    ]


def test_two_header_lines_the_lower_one_where_it_has_labels() -> None:
    boxes = [
        *row(10, (10, "序号"), (200, "应用信息"), (760, "所涉问题")),
        *row(60, (80, "应用名称"), (260, "应用开发者"), (560, "应用版本")),
        *row(
            110,
            (10, "1"),
            (80, "晴空相机"),
            (260, "深圳市晴空影像有限公司"),
            (560, "7.2.3"),
            (760, "账号注销难"),
        ),
    ]
    table = table_from_boxes(boxes)
    assert table is not None
    entity = table_entities(table.grid)[0]
    assert (entity.name, entity.developer, entity.version) == (
        "晴空相机",
        "深圳市晴空影像有限公司",
        "7.2.3",
    )


def test_a_box_that_only_runs_over_a_rule_is_not_cut() -> None:
    # OCR's box for "6.2.29" starts a little left of the rule at 675: it is one cell
    boxes = [
        TextBox("OPPO软件商店", 542, 407, 680, 430, 0.99),
        TextBox("6.2.29", 669, 408, 746, 428, 0.99),
    ]
    assert [b.text for b in split_at_rules(boxes, [675.0])] == ["OPPO软件商店", "6.2.29"]


def test_two_cells_joined_by_ocr_part_where_the_script_changes() -> None:
    boxes = [TextBox("OPPO软件商店6.2.29", 542, 407, 746, 430, 0.99)]
    assert [b.text for b in split_at_rules(boxes, [668.0])] == ["OPPO软件商店", "6.2.29"]
