from __future__ import annotations

import random
from datetime import date

import pytest
from opencc import OpenCC

from services.matcher.matching import (
    BRANDS,
    GROUPS,
    WatchIndex,
    WatchItem,
    match_entities,
    match_notice,
)
from shared.events import Entity, Match, NoticeEvent, Regulator

Row = tuple[str, str, str | None, float, str]


def app(name: str, sub: str = "s1") -> WatchItem:
    return WatchItem(subscriber_id=sub, kind="app", name=name)


def company(name: str, sub: str = "s1") -> WatchItem:
    return WatchItem(subscriber_id=sub, kind="company", name=name)


def ent(name: str, developer: str | None = None, kind: str = "app") -> Entity:
    return Entity.model_validate({"name": name, "developer": developer, "kind": kind})


def rows(watches: list[WatchItem], entities: list[Entity]) -> list[Row]:
    """(watch name, entity name, developer, score, reason) for every match."""
    naive = match_entities(watches, entities)
    assert WatchIndex(watches).match_entities(entities) == naive
    return [(m.watch.name, m.entity.name, m.entity.developer, m.score, m.reason) for _, m in naive]


def notice(*entities: Entity) -> NoticeEvent:
    return NoticeEvent(
        notice_id="n1",
        regulator=Regulator(code="MIIT", name="工业和信息化部"),
        title="关于侵害用户权益行为的APP通报",
        published_on=date(2024, 5, 1),
        entities=list(entities),
    )


# --- app watches ----------------------------------------------------------------------------


def test_exact_and_full_width() -> None:
    assert rows([app("QQ")], [ent("ＱＱ"), ent("Q Q")]) == [
        ("QQ", "ＱＱ", None, 1.0, "app name matches after normalization (QQ = ＱＱ)"),
        ("QQ", "Q Q", None, 1.0, "app name matches after normalization (QQ = Q Q)"),
    ]


def test_space_inside_name() -> None:
    assert rows([app("360浏览器")], [ent("360 浏览器")]) == [
        (
            "360浏览器",
            "360 浏览器",
            None,
            1.0,
            "app name matches after normalization (360浏览器 = 360 浏览器)",
        )
    ]


def test_traditional_script() -> None:
    assert rows([app("腾讯视频")], [ent("騰訊視頻")]) == [
        (
            "腾讯视频",
            "騰訊視頻",
            None,
            0.95,
            "app name matches after traditional/simplified conversion (腾讯视频 = 騰訊視頻)",
        )
    ]


@pytest.mark.parametrize("spelling", ["Douyin", "douyin", "Dou Yin", "dǒu yīn", "dou3yin1"])
def test_pinyin_watch_finds_chinese_app(spelling: str) -> None:
    assert rows([app(spelling)], [ent("抖音", "北京微播视界科技有限公司")]) == [
        (spelling, "抖音", "北京微播视界科技有限公司", 0.95, "pinyin of 抖音 is douyin")
    ]


def test_kuai_shou() -> None:
    assert rows([app("Kuai Shou")], [ent("快手"), ent("快手极速版")]) == [
        ("Kuai Shou", "快手", None, 0.95, "pinyin of 快手 is kuaishou")
    ]


def test_chinese_watch_finds_pinyin_entity() -> None:
    assert rows([app("小红书")], [ent("Xiaohongshu")]) == [
        ("小红书", "Xiaohongshu", None, 0.95, "pinyin of 小红书 is xiaohongshu")
    ]


def test_homophones_in_chinese_do_not_match() -> None:
    assert rows([app("抖音")], [ent("斗音")]) == []


@pytest.mark.parametrize(
    ("watch", "entity", "reason"),
    [
        ("WeChat", "微信", "微信 is known in English as WeChat"),
        ("LinkedIn", "领英", "领英 is known in English as LinkedIn"),
        ("Ctrip", "携程旅行", "携程旅行 is known in English as Ctrip"),
        ("Trip.com", "携程", "携程 is known in English as Trip.com"),
        ("51job", "前程无忧", "前程无忧 is known in English as 51job"),
        ("iQiyi", "爱奇艺", "爱奇艺 is known in English as iQiyi"),
        ("Mango TV", "芒果TV", "芒果TV is known in English as Mango TV"),
        ("WeCom", "企业微信", "企业微信 is known in English as WeCom"),
        ("Baidu Maps", "百度地图", "百度地图 is known in English as Baidu Maps"),
        ("Tencent Map", "腾讯地图", "腾讯地图 is known in English as Tencent Map"),
        ("微信", "WeChat", "微信 is known in English as WeChat"),
        ("酷狗", "酷狗音乐", "酷狗 and 酷狗音乐 are names of the same app, Kugou (酷狗音乐)"),
        ("Ctrip", "Trip.com", "Ctrip and Trip.com are names of the same app, Ctrip (携程旅行)"),
    ],
)
def test_english_brand_names(watch: str, entity: str, reason: str) -> None:
    assert rows([app(watch)], [ent(entity)]) == [(watch, entity, None, 0.95, reason)]


@pytest.mark.parametrize(
    ("watch", "entities"),
    [
        ("QQ", ["QQ阅读", "QQ音乐", "QQ输入法", "QQ浏览器", "腾讯QQ音乐", "QQ（HD）"]),
        ("ＱＱ", ["QQ阅读", "QQ音乐", "QQ输入法"]),
        ("微信", ["企业微信", "微信读书", "微信输入法"]),
        ("WeChat", ["企业微信", "WeChat Work", "微信读书"]),
        ("Mango TV", ["芒果", "芒果味", "Mango"]),
        ("芒果TV", ["芒果"]),
        ("抖音", ["抖音（极速版）", "抖音极速版", "抖音火山版", "TikTok"]),
        ("Douyin", ["抖音极速版", "TikTok"]),
        ("百度", ["百度地图", "百度网盘"]),
        ("Baidu", ["百度地图"]),
        ("Kugou", ["酷狗概念版"]),
    ],
)
def test_prefix_traps(watch: str, entities: list[str]) -> None:
    assert rows([app(watch)], [ent(e) for e in entities]) == []


def test_qq_among_its_siblings() -> None:
    entities = [ent("QQ阅读"), ent("QQ音乐"), ent("ＱＱ"), ent("QQ输入法"), ent("腾讯QQ")]
    assert rows([app("QQ"), app("QQ音乐")], entities) == [
        ("QQ音乐", "QQ音乐", None, 1.0, "app name matches after normalization (QQ音乐 = QQ音乐)"),
        ("QQ", "ＱＱ", None, 1.0, "app name matches after normalization (QQ = ＱＱ)"),
        ("QQ", "腾讯QQ", None, 0.95, "腾讯QQ is known in English as QQ"),
    ]


def test_platform_and_operator_brackets_are_ignored() -> None:
    entities = [
        ent("微信（安卓版）"),
        ent("抖音（北京微播视界科技有限公司）"),
        ent("抖音（极速版）"),
    ]
    assert rows([app("微信"), app("抖音")], entities) == [
        (
            "微信",
            "微信（安卓版）",
            None,
            1.0,
            "app name matches after normalization (微信 = 微信) ignoring (安卓版)",
        ),
        (
            "抖音",
            "抖音（北京微播视界科技有限公司）",
            None,
            1.0,
            "app name matches after normalization (抖音 = 抖音) "
            "ignoring (北京微播视界科技有限公司)",
        ),
    ]


def test_app_watch_ignores_company_entities_and_sdks_match() -> None:
    entities = [ent("元气SDK", kind="sdk"), ent("元气SDK", kind="company")]
    assert rows([app("元气 SDK")], entities) == [
        (
            "元气 SDK",
            "元气SDK",
            None,
            1.0,
            "app name matches after normalization (元气 SDK = 元气SDK)",
        )
    ]


# --- company watches ------------------------------------------------------------------------

TENCENT_ENTITIES = [
    ent("QQ", "深圳市腾讯计算机系统有限公司"),
    ent("快手", "北京快手科技有限公司"),
    ent("企业微信", "腾讯科技（深圳）有限公司"),
    ent("抖音", "北京微播视界科技有限公司"),
]


def test_tencent_finds_both_tencent_entities() -> None:
    assert rows([company("Tencent")], TENCENT_ENTITIES) == [
        (
            "Tencent",
            "QQ",
            "深圳市腾讯计算机系统有限公司",
            0.9,
            "developer 深圳市腾讯计算机系统有限公司 belongs to Tencent",
        ),
        (
            "Tencent",
            "企业微信",
            "腾讯科技（深圳）有限公司",
            0.9,
            "developer 腾讯科技（深圳）有限公司 belongs to Tencent",
        ),
    ]


def test_chinese_tencent_watch_matches_by_core() -> None:
    assert rows([company("腾讯")], TENCENT_ENTITIES) == [
        (
            "腾讯",
            "QQ",
            "深圳市腾讯计算机系统有限公司",
            0.95,
            "developer 深圳市腾讯计算机系统有限公司 is 腾讯 "
            "once region and legal-form words are removed",
        ),
        (
            "腾讯",
            "企业微信",
            "腾讯科技（深圳）有限公司",
            0.95,
            "developer 腾讯科技（深圳）有限公司 is 腾讯 "
            "once region and legal-form words are removed",
        ),
    ]


def test_exact_company_name() -> None:
    assert rows([company("北京快手科技有限公司")], TENCENT_ENTITIES) == [
        (
            "北京快手科技有限公司",
            "快手",
            "北京快手科技有限公司",
            1.0,
            "developer name matches after normalization "
            "(北京快手科技有限公司 = 北京快手科技有限公司)",
        )
    ]


def test_bytedance_finds_douyin() -> None:
    assert rows([company("ByteDance")], TENCENT_ENTITIES) == [
        (
            "ByteDance",
            "抖音",
            "北京微播视界科技有限公司",
            0.9,
            "developer 北京微播视界科技有限公司 belongs to ByteDance",
        )
    ]


def test_qihoo_covers_qihu_and_qiyuan() -> None:
    entities = [
        ent("360手机卫士", "北京奇虎科技有限公司"),
        ent("360清理大师", "北京奇元科技有限公司"),
        ent("360浏览器", "北京奇元科技有限公司/北京奇虎科技有限公司"),
        ent("快手", "北京快手科技有限公司"),
    ]
    expected = [
        (
            "360手机卫士",
            "北京奇虎科技有限公司",
            0.9,
            "developer 北京奇虎科技有限公司 belongs to Qihoo 360",
        ),
        (
            "360清理大师",
            "北京奇元科技有限公司",
            0.9,
            "developer 北京奇元科技有限公司 belongs to Qihoo 360",
        ),
        (
            "360浏览器",
            "北京奇元科技有限公司/北京奇虎科技有限公司",
            0.9,
            "developer 北京奇元科技有限公司 belongs to Qihoo 360",
        ),
    ]
    assert rows([company("Qihoo 360")], entities) == [("Qihoo 360", *e) for e in expected]
    assert rows([company("奇虎")], entities)[1] == (
        "奇虎",
        "360清理大师",
        "北京奇元科技有限公司",
        0.9,
        "developer 北京奇元科技有限公司 belongs to Qihoo 360",
    )


def test_member_watch_does_not_cover_the_group() -> None:
    entities = [
        ent("抖音", "北京微播视界科技有限公司"),
        ent("今日头条", "北京字节跳动科技有限公司"),
    ]
    assert [r[1] for r in rows([company("北京微播视界科技有限公司")], entities)] == ["抖音"]


def test_english_developer_and_parent_hint() -> None:
    entities = [
        ent("携程旅行", "Shanghai Ctrip Commerce Co.,Ltd"),
        ent("Kugou", "Tencent"),
        ent("领英", "领英（中国）有限公司"),
    ]
    assert rows([company("携程"), company("Tencent"), company("Microsoft")], entities) == [
        (
            "携程",
            "携程旅行",
            "Shanghai Ctrip Commerce Co.,Ltd",
            0.9,
            "developer Shanghai Ctrip Commerce Co.,Ltd belongs to Trip.com Group (Ctrip)",
        ),
        (
            "Tencent",
            "Kugou",
            "Tencent",
            1.0,
            "developer name matches after normalization (Tencent = Tencent)",
        ),
        (
            "Microsoft",
            "领英",
            "领英（中国）有限公司",
            0.9,
            "developer 领英（中国）有限公司 belongs to Microsoft (through LinkedIn)",
        ),
    ]


def test_company_entity_and_pinyin_core() -> None:
    entities = [
        ent("北京快手网络科技有限公司", kind="company"),
        ent("快手", "北京快手科技有限公司"),
    ]
    assert rows([company("Kuaishou")], entities) == [
        (
            "Kuaishou",
            "北京快手网络科技有限公司",
            None,
            0.95,
            "pinyin of company 北京快手网络科技有限公司 (快手) is kuaishou",
        ),
        (
            "Kuaishou",
            "快手",
            "北京快手科技有限公司",
            0.95,
            "pinyin of developer 北京快手科技有限公司 (快手) is kuaishou",
        ),
    ]


def test_brand_owner_only_without_developer() -> None:
    entities = [ent("微信"), ent("微信", "某某网络科技有限公司"), ent("TikTok")]
    assert rows([company("Tencent")], entities) == [
        (
            "Tencent",
            "微信",
            None,
            0.85,
            "微信 is an app of Tencent in the alias table (no developer listed)",
        )
    ]


def test_company_watch_does_not_match_other_companies() -> None:
    entities = [
        ent("快手", "北京快手科技有限公司"),
        ent("滴滴出行", "北京小桔科技有限公司"),
        ent("微博", "北京微梦创科网络技术有限公司"),
        ent("上海银行", "上海银行股份有限公司"),
    ]
    assert rows([company("Tencent"), company("腾讯"), company("北京银行")], entities) == []


# --- notice-level API -----------------------------------------------------------------------


def test_match_notice_groups_orders_and_dedupes() -> None:
    watches = [
        company("ByteDance", "bob"),
        app("抖音", "alice"),
        app("QQ", "alice"),
        company("Tencent", "alice"),
        app("Douyin", "carol"),
        WatchItem("alice", "app", "QQ", id=7),  # the same watch saved twice
    ]
    n = notice(
        ent("ＱＱ", "腾讯科技（深圳）有限公司"),
        ent("抖音", "北京微播视界科技有限公司"),
        ent("ＱＱ", "腾讯科技（深圳）有限公司"),  # second store row of the same app
        ent("QQ阅读", "深圳市腾讯计算机系统有限公司"),
        ent("芒果"),
    )
    result = match_notice(watches, n)
    assert sorted(result) == ["alice", "bob", "carol"]
    summary = {
        sub: [(m.watch.kind, m.watch.name, m.entity.name, m.score) for m in matches]
        for sub, matches in result.items()
    }
    assert summary == {
        "alice": [
            ("app", "QQ", "ＱＱ", 1.0),
            ("company", "Tencent", "ＱＱ", 0.9),
            ("app", "抖音", "抖音", 1.0),
            ("company", "Tencent", "QQ阅读", 0.9),
        ],
        "bob": [("company", "ByteDance", "抖音", 0.9)],
        "carol": [("app", "Douyin", "抖音", 0.95)],
    }
    assert all(isinstance(m, Match) for ms in result.values() for m in ms)
    assert match_notice([], n) == {}


def test_index_add_remove() -> None:
    douyin = app("Douyin", "carol")
    index = WatchIndex([douyin, app("QQ", "alice")])
    n = notice(ent("抖音"), ent("QQ"))
    assert sorted(index.match(n)) == ["alice", "carol"]
    index.remove(douyin)
    index.remove(douyin)  # no-op
    assert sorted(index.match(n)) == ["alice"]
    assert douyin not in index and len(index) == 1
    index.add(douyin)
    index.add(douyin)  # no-op
    assert len(index) == 2
    assert sorted(index.match(n)) == ["alice", "carol"]


def test_unknown_watch_kind_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown watch kind"):
        WatchIndex([WatchItem("s", "brand", "QQ")])  # type: ignore[arg-type]


def test_empty_names_never_match() -> None:
    assert rows([app("！！"), company("（）")], [ent("!"), ent("？", "（）")]) == []


# --- index vs reference -----------------------------------------------------------------------

_S2T = OpenCC("s2t")
_TRAPS = [
    "QQ阅读",
    "QQ音乐",
    "QQ输入法",
    "企业微信",
    "芒果",
    "抖音（极速版）",
    "抖音极速版",
    "斗音",
    "TikTok",
    "微信读书",
    "百度网盘",
    "Mango",
    "快手极速版",
]
_DEVELOPERS = [m for g in GROUPS for m in g.members] + [
    "某某网络科技有限公司",
    "上海银行股份有限公司",
    "北京银行股份有限公司",
    "Tencent",
    "Sogou Inc.",
]


def _variant(rng: random.Random, name: str) -> str:
    choice = rng.randrange(6)
    if choice == 0:  # full-width
        return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in name)
    if choice == 1:
        return _S2T.convert(name)
    if choice == 2:
        return " ".join(name)
    if choice == 3:
        return name.upper()
    if choice == 4:
        return name + rng.choice(["（安卓版）", "(iOS)", "（极速版）", "", "（V1.2.3）"])
    return name


def _generated() -> tuple[list[WatchItem], list[Entity]]:
    rng = random.Random(20240501)
    app_names = [n for b in BRANDS for n in b.names] + _TRAPS + ["douyin", "Kuai Shou", "dou3yin1"]
    company_names = [n for g in GROUPS for n in (*g.names, *g.members)] + _DEVELOPERS
    watches = []
    for i in range(400):
        sub = f"s{rng.randrange(25)}"
        if rng.random() < 0.6:
            watches.append(WatchItem(sub, "app", _variant(rng, rng.choice(app_names)), id=i))
        else:
            watches.append(WatchItem(sub, "company", _variant(rng, rng.choice(company_names))))
    entities = []
    for _ in range(250):
        kind = rng.choice(["app", "app", "app", "sdk", "mini_program", "company"])
        if kind == "company":
            entities.append(ent(_variant(rng, rng.choice(company_names)), kind="company"))
            continue
        developer = rng.choice(
            [None, None, *_DEVELOPERS, "北京奇虎科技有限公司/北京奇元科技有限公司"]
        )
        entities.append(ent(_variant(rng, rng.choice(app_names)), developer, kind))
    return watches, entities


def test_index_agrees_with_reference_on_generated_set() -> None:
    watches, entities = _generated()
    naive = match_entities(watches, entities)
    index = WatchIndex(watches)
    assert index.match_entities(entities) == naive
    # the set must exercise every rule, or agreeing proves little
    scores = {m.score for _, m in naive}
    assert scores == {1.0, 0.95, 0.9, 0.85}
    reasons = " ".join(m.reason for _, m in naive)
    for phrase in ("pinyin of", "known in English", "traditional/simplified", "belongs to"):
        assert phrase in reasons
    assert len(naive) > 300

    expected: dict[str, list[Match]] = {}
    seen = set()
    for item, m in naive:
        key = (item.subscriber_id, m.watch.kind, m.watch.name, m.entity.name, m.entity.developer)
        if key not in seen:
            seen.add(key)
            expected.setdefault(item.subscriber_id, []).append(m)
    assert match_notice(watches, notice(*entities)) == expected

    # removing watches keeps the index consistent
    kept = watches[::3]
    for item in watches:
        if item not in kept:
            index.remove(item)
    assert index.match_entities(entities) == match_entities(kept, entities)
