"""Apps written as labelled records, one field per line (a table turned on its side)."""

from __future__ import annotations

from services.ingestor.extract.entities_records import extract_entities_records


def rows(text: str) -> list[tuple[str, str | None, str | None, str | None, list[str]]]:
    return [
        (e.name, e.developer, e.store, e.version, e.issues) for e in extract_entities_records(text)
    ]


def test_numbered_records_with_an_issue_over_two_lines() -> None:
    text = """经检测，以下APP存在问题：
1、应用名称：京城停车
   开发者：北京京城停车管理有限公司
   版本号：V2.3.1
   所涉问题：违规收集个人信息；
   超范围收集个人信息
2、应用名称：胡同游
   开发者：北京胡同文化旅游有限公司
   所涉问题：账号注销难
请上述APP于2024年4月19日前完成整改。
"""
    assert rows(text) == [
        (
            "京城停车",
            "北京京城停车管理有限公司",
            None,
            "V2.3.1",
            ["违规收集个人信息", "超范围收集个人信息"],
        ),
        ("胡同游", "北京胡同文化旅游有限公司", None, None, ["账号注销难"]),
    ]


def test_fields_in_any_order_on_shared_lines_with_ascii_colons_and_placeholders() -> None:
    text = """开发运营者: 杭州西湖云游科技有限公司; APP名称: 西湖云游
下载渠道: 小米应用商店；版本：—
开发运营者: 杭州钱塘潮讯传媒有限公司; APP名称: 钱塘潮讯
下载渠道: /
"""
    assert rows(text) == [
        ("西湖云游", "杭州西湖云游科技有限公司", "小米应用商店", None, []),
        ("钱塘潮讯", "杭州钱塘潮讯传媒有限公司", None, None, []),
    ]


def test_traditional_labels_read_after_conversion_and_a_lone_label_is_not_a_record() -> None:
    assert rows("应用名称：掌上公交\n开发者：宁波掌上公交科技有限公司") == [
        ("掌上公交", "宁波掌上公交科技有限公司", None, None, [])
    ]
    assert rows("应用名称：掌上公交\n其他说明：无") == []
    assert rows("联系电话：010-12345678\n地址：北京市") == []
