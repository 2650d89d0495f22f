from __future__ import annotations

from services.ingestor.extract.tables import Cell, Grid, find_header, is_header, table_entities


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
