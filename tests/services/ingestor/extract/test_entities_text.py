from __future__ import annotations

from services.ingestor.extract.entities_text import (
    extract_entities_text,
    parse_columns,
    parse_entry,
    split_top_level,
)


def pairs(text: str) -> list[tuple[str, str | None]]:
    return [(e.name, e.developer) for e in extract_entities_text(text)]


def test_numbering_styles_and_brackets() -> None:
    text = """现将有关情况通报如下：
1. 抖音（北京微播视界科技有限公司）
2、快手(北京快手科技有限公司)
（3）微信（腾讯科技（深圳）有限公司）
4．小红书（行吟信息科技（上海）有限公司）
5) 滴滴出行（北京小桔科技有限公司）
"""
    assert pairs(text) == [
        ("抖音", "北京微播视界科技有限公司"),
        ("快手", "北京快手科技有限公司"),
        ("微信", "腾讯科技（深圳）有限公司"),
        ("小红书", "行吟信息科技（上海）有限公司"),
        ("滴滴出行", "北京小桔科技有限公司"),
    ]


def test_category_headings_are_not_entities() -> None:
    text = """一、短视频类
1. 抖音（北京微播视界科技有限公司）
二、浏览器类
2. 360 浏览器（北京奇虎科技有限公司）
求职招聘类：
3. 领英（领英网络技术（北京）有限公司）
"""
    result = pairs(text)
    assert result == [
        ("抖音", "北京微播视界科技有限公司"),
        ("360 浏览器", "北京奇虎科技有限公司"),
        ("领英", "领英网络技术（北京）有限公司"),
    ]


def test_inline_list_after_category_heading() -> None:
    text = "短视频类：抖音（北京微播视界科技有限公司）、快手（北京快手科技有限公司、北京快手网络科技有限公司）"
    assert pairs(text) == [
        ("抖音", "北京微播视界科技有限公司"),
        ("快手", "北京快手科技有限公司、北京快手网络科技有限公司"),
    ]


def test_inline_list_after_numbered_category_heading() -> None:
    text = (
        "一、地图导航类：腾讯地图（腾讯科技（深圳）有限公司）、百度地图（北京百度网讯科技有限公司）"
    )
    assert pairs(text) == [
        ("腾讯地图", "腾讯科技（深圳）有限公司"),
        ("百度地图", "北京百度网讯科技有限公司"),
    ]


def test_unnumbered_line_with_company_in_brackets() -> None:
    assert pairs("携程旅行（上海携程商务有限公司）\n") == [("携程旅行", "上海携程商务有限公司")]


def test_english_developer_in_brackets() -> None:
    assert pairs("1. Trip.com (Shanghai Ctrip Commerce Co.,Ltd)") == [
        ("Trip.com", "Shanghai Ctrip Commerce Co.,Ltd")
    ]


def test_kinds_and_title_marks() -> None:
    entities = extract_entities_text(
        "1. 《元气SDK》（北京元气科技有限公司）\n"
        "2. 某某点餐小程序（杭州某某餐饮管理有限公司）\n"
        "3. 《悦读》（上海悦读信息技术有限公司）\n"
    )
    assert [(e.kind, e.name) for e in entities] == [
        ("sdk", "元气SDK"),
        ("mini_program", "某某点餐小程序"),
        ("app", "悦读"),
    ]


def test_mps_style_grouped_by_problem() -> None:
    text = """一、违规收集个人信息
1.《麦田记账》（版本2.4.1，小米应用商店）
2.《晴空天气通》（V7.0.3，华为应用市场）
二、APP强制、频繁、过度索取权限
1.《麦田记账》（版本2.4.1，小米应用商店）
"""
    entities = extract_entities_text(text)
    assert [(e.name, e.version, e.store, e.issues) for e in entities] == [
        ("麦田记账", "2.4.1", "小米应用商店", ["违规收集个人信息", "APP强制、频繁、过度索取权限"]),
        ("晴空天气通", "V7.0.3", "华为应用市场", ["违规收集个人信息"]),
    ]


def test_two_column_lines() -> None:
    text = "抖音  北京微播视界科技有限公司\n快手\t北京快手科技有限公司\t华为应用市场\t10.2.1\n"
    entities = extract_entities_text(text)
    assert [(e.name, e.developer, e.store, e.version) for e in entities] == [
        ("抖音", "北京微播视界科技有限公司", None, None),
        ("快手", "北京快手科技有限公司", "华为应用市场", "10.2.1"),
    ]


def test_bare_numbered_names_need_a_list() -> None:
    assert pairs("1. 抖音\n2. 快手\n3. 今日头条\n") == [
        ("抖音", None),
        ("快手", None),
        ("今日头条", None),
    ]
    assert pairs("正文\n1. 抖音\n正文") == []


def test_sentences_laws_and_problem_items_are_not_entities() -> None:
    text = """近日，国家网信办依据《个人信息保护法》等法律法规，组织开展了检测。
根据《网络安全法》（2017年）要求，
北京某某科技有限公司（以下简称“某某”）存在违规收集个人信息问题。
1. 落实主体责任，加强个人信息保护
2. 违规收集个人信息
3. 超范围收集个人信息
相关App运营者应自本通报发布之日起15个工作日内完成整改。
国家互联网信息办公室
2021年5月10日
"""
    assert pairs(text) == []


def test_number_like_app_names_are_not_list_numbers() -> None:
    assert pairs("360 浏览器（北京奇虎科技有限公司）") == [("360 浏览器", "北京奇虎科技有限公司")]


def test_company_only_list() -> None:
    entities = extract_entities_text("1. 北京某某科技有限公司\n2. 上海某某网络有限公司\n")
    assert [(e.kind, e.name, e.developer) for e in entities] == [
        ("company", "北京某某科技有限公司", None),
        ("company", "上海某某网络有限公司", None),
    ]


def test_duplicates_merge() -> None:
    text = "1. 抖音（北京微播视界科技有限公司）\n2. 抖音（北京微播视界科技有限公司）\n"
    assert pairs(text) == [("抖音", "北京微播视界科技有限公司")]


def test_split_top_level_keeps_brackets_whole() -> None:
    assert split_top_level("A（甲、乙）、《B，C》、D") == ["A（甲、乙）", "《B，C》", "D"]


def test_parse_entry_qualifier_stays_in_name() -> None:
    candidate = parse_entry("某某视频（极速版）（北京某某科技有限公司）")
    assert candidate is not None
    assert candidate.entity.name == "某某视频（极速版）"
    assert candidate.entity.developer == "北京某某科技有限公司"


def test_parse_columns_needs_a_company() -> None:
    assert parse_columns("抖音 快手") is None
    entity = parse_columns("微博钱包 抚州市新浪网络小额贷款有限公司")
    assert entity is not None
    assert entity.developer == "抚州市新浪网络小额贷款有限公司"
