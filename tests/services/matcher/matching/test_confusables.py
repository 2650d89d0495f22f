"""Names read by OCR (``source`` ``image``) still match their apps despite look-alike slips."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from services.matcher.matching import (
    NaiveScan,
    WatchIndex,
    WatchItem,
    default_directory,
    features,
    load_directory,
    match_entities,
    normalize,
    strip_qualifiers,
)
from services.matcher.matching.confusables import (
    GROUPS,
    LATIN_GROUPS,
    has_confusable,
    ocr_fold,
    slips,
    text_slips,
)
from services.matcher.matching.names import _REGION_WORDS, _ZH_SUFFIXES
from shared.events import Entity, NoticeEvent, Regulator

Row = tuple[str, str, float, str]


def app(name: str, sub: str = "s1", aliases: tuple[str, ...] = ()) -> WatchItem:
    return WatchItem(subscriber_id=sub, kind="app", name=name, aliases=aliases)


def image(name: str, developer: str | None = None) -> Entity:
    return Entity(name=name, developer=developer, source="image")


def rows(watches: list[WatchItem], entities: list[Entity]) -> list[Row]:
    """(watch name, entity name, score, reason) per match; the index agrees with the scan."""
    naive = match_entities(watches, entities)
    assert WatchIndex(watches).match_entities(entities) == naive
    return [(m.watch.name, m.entity.name, m.score, m.reason) for _, m in naive]


def notice(*entities: Entity) -> NoticeEvent:
    return NoticeEvent(
        notice_id="ocr",
        regulator=Regulator(code="MIIT", name="工业和信息化部"),
        title="关于侵害用户权益行为的APP通报",
        published_on=date(2024, 5, 1),
        entities=list(entities),
    )


# --- the table ------------------------------------------------------------------------------


def test_fold_writes_look_alikes_alike() -> None:
    assert ocr_fold("输人法") == ocr_fold("输入法")
    assert ocr_fold("己") == ocr_fold("已") == ocr_fold("巳")
    assert ocr_fold("干") == ocr_fold("千") == ocr_fold("于")
    assert ocr_fold("0q音乐") == ocr_fold("qq音乐") == ocr_fold("oo音乐")
    assert ocr_fold("l23o6") != ocr_fold("12306")  # Latin-only names are not folded
    assert ocr_fold("铁路l23o6") == ocr_fold("铁路12306")
    assert ocr_fold("抖音") == "抖音" and not has_confusable("抖音")
    assert has_confusable("qq音乐") and not has_confusable("qq")


def test_every_look_alike_is_in_one_group_only() -> None:
    chars = [ch for group in (*GROUPS, *LATIN_GROUPS) for ch in group]
    assert len(chars) == len(set(chars))
    for group in LATIN_GROUPS:
        assert group == normalize(group)  # compared after normalization: lower case


def test_folded_company_words_still_read_as_company_words() -> None:
    """Each group folds to the character region and legal-form words are written with, so a
    folded company name still loses them."""
    canonical = {group[0] for group in GROUPS}
    look_alikes = {ch for group in GROUPS for ch in group} - canonical
    for word in [*_REGION_WORDS, *_ZH_SUFFIXES]:
        assert look_alikes.isdisjoint(word), word


def test_slips_change_one_character_within_its_group() -> None:
    assert slips("输入法") == ["输人法"]
    assert sorted(slips("qq音乐")) == sorted(["oq音乐", "0q音乐", "qo音乐", "q0音乐"])
    assert slips("qq") == []


# --- apps -----------------------------------------------------------------------------------


def test_an_ocr_slip_matches_its_app_with_a_lower_score() -> None:
    assert rows([app("输入法")], [image("输人法")]) == [
        ("输入法", "输人法", 0.85, "输人法 reads as 输入法 (a likely OCR slip)")
    ]
    assert rows([app("搜狗输入法")], [image("搜狗输人法（安卓版）")]) == [
        (
            "搜狗输入法",
            "搜狗输人法（安卓版）",
            0.85,
            "搜狗输人法 reads as 搜狗输入法 (a likely OCR slip) ignoring (安卓版)",
        )
    ]
    # the exact name still scores 1.0 when read by OCR
    assert rows([app("搜狗输入法")], [image("搜狗输入法")])[0][2] == 1.0


def test_latin_and_digit_slips_in_names_with_chinese() -> None:
    assert rows([app("QQ音乐")], [image("0Q音乐")]) == [
        ("QQ音乐", "0Q音乐", 0.85, "0Q音乐 reads as QQ音乐 (a likely OCR slip)")
    ]
    assert rows([app("58同城")], [image("S8同城")])[0][2] == 0.85
    assert rows([app("铁路12306")], [image("铁路l23O6")])[0][2] == 0.85
    assert rows([app("QQ")], [image("0Q")]) == []  # Latin-only: no folding


def test_a_slip_of_one_name_of_a_directory_app_finds_its_other_names() -> None:
    assert rows([app("QQ Music"), app("Sogou Input")], [image("0Q音乐"), image("搜狗输人法")]) == [
        (
            "QQ Music",
            "0Q音乐",
            0.85,
            "0Q音乐 reads as QQ音乐 (a likely OCR slip), another name of QQ Music",
        ),
        (
            "Sogou Input",
            "搜狗输人法",
            0.85,
            "搜狗输人法 reads as 搜狗输入法 (a likely OCR slip), another name of Sogou Input",
        ),
    ]


def test_a_slip_matches_through_an_alias() -> None:
    watch = app("某某输入", aliases=("某某输入法",))
    assert rows([watch], [image("某某输人法")]) == [
        (
            "某某输入",
            "某某输人法",
            0.85,
            "via your alias '某某输入法': 某某输人法 reads as 某某输入法 (a likely OCR slip)",
        )
    ]


def test_only_names_read_by_ocr_are_folded() -> None:
    for source in ("text", "table", "attachment", None):
        entity = Entity(name="输人法", source=source)
        assert rows([app("输入法")], [entity]) == [], source


def test_a_row_read_by_ocr_anywhere_in_the_notice_counts() -> None:
    text_row = Entity(name="输人法", source="text")
    result = WatchIndex([app("输入法")]).match(notice(text_row, image("输人法")))
    assert [(m.entity.name, m.score) for m in result["s1"]] == [("输人法", 0.85)]
    assert NaiveScan([app("输入法")]).match(notice(text_row, image("输人法"))) == result


def test_prefix_and_edition_traps_hold_for_ocr_rows() -> None:
    watches = [app("QQ"), app("微信"), app("抖音"), app("QQ音乐")]
    entities = [image("QQ阅读"), image("0Q阅读"), image("企业微信"), image("抖音极速版"),
                image("QQ音乐极速版"), image("0Q")]  # fmt: skip
    assert rows(watches, entities) == []


# --- the directory: two apps never match -----------------------------------------------------


def test_no_two_apps_of_the_directory_fold_alike() -> None:
    assert default_directory().ocr_clashes == {}


def test_directory_apps_read_by_ocr_match_only_themselves() -> None:
    """Every name of every directory app, and every one-character slip of it, read by OCR,
    against a watch on every directory app: only the app itself matches."""
    directory = default_directory()
    watches = [app(b.names[0], sub=b.id) for b in directory.brands]
    brand_of_name = {normalize(n): b.id for b in directory.brands for n in b.names}
    entities: list[Entity] = []
    expected: dict[str, str] = {}
    for brand in directory.brands:
        for name in brand.names:
            entities.append(image(name))
            expected[name] = brand.id
            for slip in slips(normalize(name)):
                if slip not in brand_of_name:  # a slip that is another app's name is that app
                    entities.append(image(slip))
                    expected[slip] = brand.id
    assert len(entities) > 1300
    result = WatchIndex(watches).match(notice(*entities))
    found: dict[str, set[str]] = {}
    for sub, matches in result.items():
        for m in matches:
            found.setdefault(m.entity.name, set()).add(sub)
    assert {name: subs for name, subs in found.items() if subs != {expected[name]}} == {}
    # every slip is found; a directory name read by OCR is found as when it is read as text
    names = [n for b in directory.brands for n in b.names]
    as_text = WatchIndex(watches).match(notice(*(Entity(name=n) for n in names)))
    printed = {m.entity.name for ms in as_text.values() for m in ms}
    missed = [n for n in names if n not in found and n in printed]
    assert missed == []
    assert all(slip in found for slip in expected if normalize(slip) not in brand_of_name)


@pytest.fixture
def look_alike_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The shipped entries of 天猫 and 王者荣耀, plus (made up for this test) an app named
    夭猫 and one named 玉者荣耀: two pairs of apps whose names fold alike; and two companies,
    天王 and 夭玉, that a printed 夭王 could each be one slip from."""
    shipped = json.loads(
        (Path(features.__file__).parent / "data" / "directory.json").read_text("utf-8")
    )
    keep = {"tmall", "honor_of_kings"}
    apps: list[dict[str, Any]] = [a for a in shipped["apps"] if a["id"] in keep]
    owners = {a["owner"] for a in apps}
    companies = [c for c in shipped["companies"] if c["id"] in owners]
    apps += [
        {"id": "yaomao", "names": ["夭猫"], "source": ["store"]},
        {"id": "yuzhe", "names": ["玉者荣耀"], "source": ["store"]},
    ]
    companies += [
        {"id": "tianwang", "names": ["天王"], "entities": [["天王科技有限公司"]],
         "source": ["registry"]},
        {"id": "yaoyu", "names": ["夭玉"], "entities": [["夭玉科技有限公司"]],
         "source": ["registry"]},
    ]  # fmt: skip
    path = tmp_path / "directory.json"
    path.write_text(json.dumps({"apps": apps, "companies": companies}), encoding="utf-8")
    directory = load_directory(path)
    monkeypatch.setattr(features, "default_directory", lambda: directory)
    features.clear_caches()
    yield
    features.clear_caches()


def test_two_directory_apps_that_fold_alike_never_match(look_alike_directory: None) -> None:
    directory = features.default_directory()
    assert sorted(directory.ocr_clashes) == sorted([ocr_fold("天猫"), ocr_fold("王者荣耀")])
    watches = [app("天猫"), app("Tmall"), app("夭猫"), app("王者荣耀"), app("玉者荣耀")]
    # each app as printed is that app only; a misreading of either is neither
    assert [(w, e) for w, e, _, _ in rows(watches, [image("夭猫"), image("玉者荣耀")])] == [
        ("夭猫", "夭猫"),
        ("玉者荣耀", "玉者荣耀"),
    ]
    assert rows(watches, [image("天猫"), image("王者荣耀")]) == [
        ("天猫", "天猫", 1.0, "app name matches after normalization (天猫 = 天猫)"),
        ("Tmall", "天猫", 0.95, "天猫 is known in English as Tmall"),
        ("王者荣耀", "王者荣耀", 1.0, "app name matches after normalization (王者荣耀 = 王者荣耀)"),
    ]


def test_a_company_one_slip_from_two_directory_companies_is_neither(
    look_alike_directory: None,
) -> None:
    watches = [company("天王"), company("夭玉")]
    assert rows(watches, [image("某应用", "夭王科技有限公司")]) == []
    assert features.company_reading("夭王科技有限公司").clash  # 天王 or 夭玉: neither
    assert rows(watches, [image("某应用", "天玉科技有限公司")]) == []
    assert rows(watches, [image("某应用", "夭土科技有限公司")]) == []
    assert [r[0] for r in rows(watches, [image("某应用", "天王科技有限公司")])] == ["天王"]


def test_a_watch_that_looks_like_a_directory_app_does_not_take_its_slips() -> None:
    """天猫 is a directory app; 夭猫 is not. An OCR'd 夭猫 may be a slip of 天猫 (it is in
    the directory), so a watch on 夭猫 is not alerted by a misreading, only by the name."""
    assert rows([app("夭猫")], [image("夭猫")])[0][2] == 1.0
    assert rows([app("夭猫")], [image("天猫")]) == []
    assert rows([app("天猫")], [image("夭猫")])[0][2] == 0.85


# --- companies ------------------------------------------------------------------------------


def company(name: str, sub: str = "s1") -> WatchItem:
    return WatchItem(subscriber_id=sub, kind="company", name=name)


def test_a_developer_one_slip_from_a_directory_company() -> None:
    kugou = image("酷狗音乐", "厂州酷狗计算机科技有限公司")
    slip = "developer 厂州酷狗计算机科技有限公司 reads as 广州酷狗计算机科技有限公司 (a likely OCR slip)"
    assert rows([company("Tencent"), company("广州酷狗计算机科技有限公司")], [kugou]) == [
        (
            "Tencent",
            "酷狗音乐",
            0.85,
            f"{slip}; developer 广州酷狗计算机科技有限公司 belongs to Tencent (through Tencent "
            f"Music Entertainment)",
        ),
        ("广州酷狗计算机科技有限公司", "酷狗音乐", 0.85, slip),
    ]
    as_text = kugou.model_copy(update={"source": "table"})
    assert rows([company("Tencent")], [as_text]) == []


def test_a_company_the_directory_does_not_know() -> None:
    watches = [company("某某天文科技有限公司"), company("某某科技")]
    entities = [image("甲", "某某夭文科技有限公司"), image("乙", "厂州某某科技有限公司"),
                image("丙", "某某天文科技有限公司")]  # fmt: skip
    assert rows(watches, entities) == [
        (
            "某某天文科技有限公司",
            "甲",
            0.85,
            "developer 某某夭文科技有限公司 reads as 某某天文科技有限公司 (a likely OCR slip)",
        ),
        (
            "某某科技",
            "乙",
            0.85,
            "developer 厂州某某科技有限公司 reads as 某某科技 (a likely OCR slip)",
        ),
        (
            "某某天文科技有限公司",
            "丙",
            1.0,
            "developer name matches after normalization (某某天文科技有限公司 = 某某天文科技有限公司)",
        ),
    ]
    # a company named in the notice itself (kind company), read from a picture
    entity = Entity(kind="company", name="某某夭文科技有限公司", source="image")
    assert [r[2] for r in rows(watches, [entity])] == [0.85]


def test_an_ocr_slip_of_a_directory_app_without_developer_finds_its_publisher() -> None:
    assert rows([company("Tencent")], [image("玉者荣耀")]) == [
        (
            "Tencent",
            "玉者荣耀",
            0.85,
            "publisher 深圳市腾讯计算机系统有限公司 belongs to Tencent (no developer listed; the "
            "publisher of 王者荣耀 per the directory, which 玉者荣耀 likely misreads (OCR))",
        )
    ]
    assert rows([company("Tencent")], [Entity(name="玉者荣耀", source="text")]) == []


# --- the index ------------------------------------------------------------------------------


def test_index_agrees_with_the_scan_on_rows_read_by_ocr() -> None:
    directory = default_directory()
    names = [n for b in directory.brands for n in b.names if has_confusable(normalize(n))]
    names += ["输入法", "某某输入法", "夭猫", "人人车", "入入车"]
    watches = [app(n, sub=f"s{i % 17}") for i, n in enumerate(names)]
    watches += [app("Sogou Input", sub="s1"), app("QQ Music", sub="s2")]
    entities: list[Entity] = []
    for i, name in enumerate(names):
        base = strip_qualifiers(name).base
        for j, slip in enumerate([normalize(base), *slips(normalize(base))]):
            source = ("image", "text", "table", None)[(i + j) % 4]
            entities.append(Entity(name=slip, source=source))  # type: ignore[arg-type]
    entities += [e.model_copy(update={"source": "image"}) for e in entities[::5]]
    companies = [n for g in directory.groups for n in (*g.names, *g.members)]
    companies = [n for n in companies if has_confusable(normalize(n))]
    companies += ["某某天文科技有限公司", "某某科技", "广州某某科技有限公司"]
    watches += [company(n, sub=f"s{i % 13}") for i, n in enumerate(companies)]
    watches += [company("Tencent", sub="s3"), company("Alibaba", sub="s4")]
    for i, name in enumerate(companies):
        for j, slip in enumerate([name, *text_slips(name)[:4]]):
            source = ("image", "table", "image", None)[(i + j) % 4]
            entities.append(Entity(name="某应用", developer=slip, source=source))  # type: ignore[arg-type]
            if j % 3 == 0:
                entities.append(Entity(kind="company", name=slip, source="image"))
    n = notice(*entities)
    naive = NaiveScan(watches).match_entities(entities)
    assert WatchIndex(watches).match_entities(entities) == naive
    assert WatchIndex(watches).match(n) == NaiveScan(watches).match(n)
    reasons = [m.reason for _, m in naive]
    assert sum("likely OCR slip" in r for r in reasons) > 50
    assert sum("developer" in r and "likely OCR slip" in r for r in reasons) > 20
