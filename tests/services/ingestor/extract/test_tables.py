from __future__ import annotations

from services.ingestor.extract.tables import (
    Cell,
    Grid,
    find_header,
    header_columns,
    is_header,
    table_entities,
)


def grid(*rows: list[str]) -> Grid:
    cells: Grid = []
    origin = 0
    for row in rows:
        line: list[Cell | None] = []
        for text in row:
            origin += 1
            line.append(Cell(text, origin))
        cells.append(line)
    return cells


def test_header_spellings() -> None:
    assert is_header(["序号", "应用名称", "应用开发者", "应用来源", "应用版本", "所涉问题"])
    assert is_header(["序号", "软件名称", "企业名称", "下架版本"])
    assert is_header(["序號", "應用名稱", "應用開發者"]) is False  # callers simplify first
    assert not is_header(["发布时间：2021-02-24", "来源：工业和信息化部"])
    assert not is_header(["抖音", "北京微播视界科技有限公司"])


def test_best_of_two_header_rows() -> None:
    table = grid(
        ["序号", "应用信息", "应用信息", "应用来源"],
        ["序号", "应用名称", "开发者", "应用来源"],
        ["1", "西湖导览", "杭州西湖数字文旅有限公司", "华为应用市场"],
    )
    header = find_header(table)
    assert header is not None and header.row == 1
    assert [(e.name, e.developer) for e in table_entities(table)] == [
        ("西湖导览", "杭州西湖数字文旅有限公司")
    ]


def test_mini_program_header_and_section_rows() -> None:
    table = grid(
        ["序号", "名称", "开发者"],
        ["1", "星辰天气", "星辰（天津）气象科技有限公司"],
        ["二、SDK", "二、SDK", "二、SDK"],
        ["1", "云雀统计", "北京云雀数据技术有限公司"],
    )
    # the section row is one cell across the table
    table[2] = [Cell("二、SDK", 999), Cell("二、SDK", 999), Cell("二、SDK", 999)]
    assert [(e.kind, e.name) for e in table_entities(table)] == [
        ("app", "星辰天气"),
        ("sdk", "云雀统计"),
    ]
    mini = grid(["序号", "小程序名称", "开发者"], ["1", "鲜果到家", "武汉鲜果到家电子商务有限公司"])
    assert [e.kind for e in table_entities(mini)] == ["mini_program"]


def test_placeholders_and_title_marks() -> None:
    table = grid(
        ["序号", "应用名称", "应用开发者", "应用版本"],
        ["1", "《极简笔记》", "—", "/"],
    )
    [entity] = table_entities(table)
    assert (entity.name, entity.developer, entity.version) == ("极简笔记", None, None)


def test_entities_say_they_come_from_a_table() -> None:
    table = grid(["序号", "应用名称", "开发者"], ["1", "星辰天气", "星辰气象科技有限公司"])
    assert [e.source for e in table_entities(table)] == ["table"]


def test_header_labels_in_any_order_and_spelling() -> None:
    labels = [
        "序　号",
        "所涉问题",
        "ＡＰＰ名称",
        "主办单位",
        "应 用 商 店",
        "版本号",
        "发现安全隐患数量",
    ]
    assert header_columns(labels) == {
        "seq": 0,
        "issues": 1,
        "name": 2,
        "developer": 3,
        "store": 4,
        "version": 5,
        "ignore": 6,
    }
    for developer in ["开发运营者", "运营者", "企业名称", "公司名称", "应用开发者", "主办单位"]:
        assert header_columns(["序号", developer, "产品名称"]) == {
            "seq": 0,
            "developer": 1,
            "name": 2,
        }


def test_placeholder_cells_are_empty() -> None:
    table = grid(
        ["序号", "应用名称", "公司名称", "应用来源", "版本号"],
        ["1", "甲", "\\", "--", "无"],
        ["2", "乙", "－", "／", "—"],
    )
    assert [(e.developer, e.store, e.version) for e in table_entities(table)] == [
        (None, None, None),
        (None, None, None),
    ]


def short(*rows: list[str], width: int) -> Grid:
    """Rows as a copy gives them: missing cells at the end of a short row are None."""
    cells = grid(*rows)
    return [row + [None] * (width - len(row)) for row in cells]


def test_a_row_that_lost_a_merged_developer_cell_takes_the_one_above() -> None:
    table = short(
        ["序号", "应用名称", "应用开发者", "应用来源", "应用版本", "所涉问题"],
        ["1", "草原牧歌", "呼和浩特牧歌传媒有限公司", "华为应用市场", "2.2.0", "违规收集个人信息"],
        ["2", "牧歌直播", "小米应用商店", "V1.4.7", "违规使用个人信息"],
        ["3", "牧歌音乐", "应用宝", "1.0.0", "账号注销难"],
        ["4", "钢城通", "", "应用宝", "3.0.1", "账号注销难"],
        ["5", "钢城宝", "OPPO软件商店", "3.0.0", "账号注销难"],
        width=6,
    )
    assert [(e.name, e.developer, e.store, e.version) for e in table_entities(table)] == [
        ("草原牧歌", "呼和浩特牧歌传媒有限公司", "华为应用市场", "2.2.0"),
        ("牧歌直播", "呼和浩特牧歌传媒有限公司", "小米应用商店", "V1.4.7"),
        ("牧歌音乐", "呼和浩特牧歌传媒有限公司", "应用宝", "1.0.0"),
        ("钢城通", None, "应用宝", "3.0.1"),  # a blank cell of its own: no developer
        ("钢城宝", None, "OPPO软件商店", "3.0.0"),  # nothing to take from a blank
    ]


def test_a_short_row_without_a_name_is_more_of_the_app_above() -> None:
    table = short(
        ["序号", "应用名称", "应用开发者", "应用来源", "应用版本", "所涉问题"],
        ["1", "钢城通", "包头钢城数据服务有限公司", "应用宝", "3.0.1", "违规收集个人信息"],
        ["OPPO软件商店", "3.0.0", "开屏弹窗信息骚扰用户"],
        width=6,
    )
    [entity] = table_entities(table)
    assert (entity.developer, entity.store, entity.version, entity.issues) == (
        "包头钢城数据服务有限公司",
        "应用宝/OPPO软件商店",
        "3.0.1/3.0.0",
        ["违规收集个人信息", "开屏弹窗信息骚扰用户"],
    )


def test_trimmed_trailing_cells_do_not_shift() -> None:
    table = short(
        ["序号", "应用名称", "应用开发者", "应用来源", "应用版本"],
        ["1", "甲", "甲有限公司", "应用宝", "1.0"],
        ["2", "乙", "", "应用宝"],
        width=5,
    )
    assert [(e.name, e.developer, e.store) for e in table_entities(table)] == [
        ("甲", "甲有限公司", "应用宝"),
        ("乙", None, "应用宝"),
    ]


def test_a_bracket_in_the_header_label_does_not_change_the_column() -> None:
    assert header_columns(["序号", "App名称（运营者）", "版本（号）"]) == {
        "seq": 0,
        "name": 1,
        "version": 2,
    }


def test_name_cells_give_up_their_operator_version_numbering_and_quotes() -> None:
    table = grid(
        ["序号", "App名称（运营者）", "版本"],
        ["1", "“盛京通”（沈阳盛京城市服务有限公司）", "3.3.1"],
        ["2", "3、《鞍钢e家》（V2.0.7）", ""],
        ["3", "1.5倍速播放器", "1.5.0"],
        ["4", "QQ音乐（安卓版）", "12.6.0"],
    )
    assert [(e.name, e.developer, e.version) for e in table_entities(table)] == [
        ("盛京通", "沈阳盛京城市服务有限公司", "3.3.1"),
        ("鞍钢e家", None, "V2.0.7"),
        ("1.5倍速播放器", None, "1.5.0"),
        ("QQ音乐（安卓版）", None, "12.6.0"),
    ]


def test_a_bracketed_company_other_than_the_developer_cell_stays_in_the_name() -> None:
    table = grid(
        ["序号", "应用名称", "开发者"],
        ["1", "星河阅读（星河传媒有限公司）", "星河数字科技有限公司"],
    )
    [entity] = table_entities(table)
    assert (entity.name, entity.developer) == (
        "星河阅读（星河传媒有限公司）",
        "星河数字科技有限公司",
    )


def test_a_row_of_data_is_not_a_header() -> None:
    assert not is_header(["1", "应用宝", "银川好停车智能科技有限公司", "华为应用市场", "2.0.6"])


def test_columns_of_a_table_without_header_come_from_their_look() -> None:
    table = grid(
        [
            "1",
            "银川好停车",
            "银川好停车智能科技有限公司",
            "华为应用市场",
            "2.0.6",
            "违规收集个人信息",
        ],
        ["2", "贺兰山葡萄酒", "", "应用宝", "1.2.0", "开屏弹窗信息骚扰用户"],
        ["3", "Keep", "北京卡路里信息技术有限公司", "App Store", "8.1.0", "账号注销难"],
    )
    assert table_entities(table) == []  # only when asked
    assert [(e.name, e.developer, e.store) for e in table_entities(table, headerless=True)] == [
        ("银川好停车", "银川好停车智能科技有限公司", "华为应用市场"),
        ("贺兰山葡萄酒", None, "应用宝"),
        ("Keep", "北京卡路里信息技术有限公司", "App Store"),
    ]


def test_a_layout_table_is_not_an_app_table() -> None:
    table = grid(["发布机构", "工业和信息化部"], ["发布日期", "2023年7月14日"], ["主题", "通报"])
    assert table_entities(table, headerless=True) == []


def test_totals_and_note_rows_are_not_apps() -> None:
    entities = table_entities(
        grid(
            ["序号", "开发者", "应用名称", "版本"],
            ["1", "济南学车帮科技有限公司", "学车帮", "2.0.1"],
            ["合计", "", "7款", ""],
            ["", "", "（其余34款详见附件）", ""],
            ["2", "青岛公交信息有限公司", "掌上公交通", "1.1"],
        )
    )
    assert [e.name for e in entities] == ["学车帮", "掌上公交通"]
