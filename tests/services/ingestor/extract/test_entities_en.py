from __future__ import annotations

from services.ingestor.extract.entities_en import extract_entities_en


def pairs(text: str) -> list[tuple[str, str | None]]:
    return [(e.name, e.developer) for e in extract_entities_en(text)]


def test_including_list() -> None:
    text = "The ministry named 43 apps, including WeChat, Tencent Map and Tencent Video. Others"
    assert pairs(text) == [("WeChat", None), ("Tencent Map", None), ("Tencent Video", None)]


def test_owned_by() -> None:
    text = "The list included Tencent-owned Kugou and Microsoft-owned LinkedIn, which were told"
    assert pairs(text) == [("Kugou", "Tencent"), ("LinkedIn", "Microsoft")]


def test_possessive_owner() -> None:
    text = "Apps such as Tencent Holdings Ltd.'s WeChat and Tencent Map were named."
    assert pairs(text) == [("WeChat", "Tencent Holdings Ltd."), ("Tencent Map", None)]


def test_companies() -> None:
    entities = extract_entities_en(
        "Others on the list include LinkedIn, Baidu Inc., Sogou Inc., and 51job Inc. Their apps"
    )
    assert [(e.kind, e.name) for e in entities] == [
        ("app", "LinkedIn"),
        ("company", "Baidu Inc."),
        ("company", "Sogou Inc."),
        ("company", "51job Inc."),
    ]


def test_lowercase_words_are_not_names() -> None:
    assert pairs("including those that collect data, and others.") == []
