from __future__ import annotations

from datetime import date

import pytest

from services.matcher.matching import (
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
            "developer Shanghai Ctrip Commerce Co.,Ltd belongs to Trip.com Group",
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


def test_directory_publisher_and_owner_only_without_developer() -> None:
    entities = [ent("微信"), ent("微信", "某某网络科技有限公司"), ent("TikTok"), ent("全民K歌")]
    assert rows([company("Tencent"), company("Tencent Music")], entities) == [
        (
            "Tencent",
            "微信",
            None,
            0.85,
            "publisher 深圳市腾讯计算机系统有限公司 belongs to Tencent "
            "(no developer listed; 微信's publisher per the directory)",
        ),
        (
            "Tencent",
            "全民K歌",
            None,
            0.85,
            "publisher 深圳市腾讯计算机系统有限公司 belongs to Tencent "
            "(no developer listed; 全民K歌's publisher per the directory)",
        ),
        (
            "Tencent Music",
            "全民K歌",
            None,
            0.85,
            "全民K歌 is an app of Tencent Music Entertainment in the directory "
            "(no developer listed)",
        ),
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


# --- more app rules ---------------------------------------------------------------------------


def test_directory_apps_never_match_each_other_by_sound() -> None:
    # pypinyin reads 脉脉 as momo; Momo (陌陌) and 脉脉 (Maimai) are different directory apps
    assert rows([app("Momo")], [ent("脉脉"), ent("陌陌")]) == [
        ("Momo", "陌陌", None, 0.95, "pinyin of 陌陌 is momo")
    ]
    assert [r[1] for r in rows([app("Maimai")], [ent("脉脉")])] == ["脉脉"]


def test_a_directory_app_does_not_match_a_homophone_of_its_chinese_name() -> None:
    assert rows([app("Weibo")], [ent("微播"), ent("微博")]) == [
        ("Weibo", "微博", None, 0.95, "pinyin of 微博 is weibo")
    ]
    # two names the directory does not know still match by pinyin
    assert rows([app("Xingfu Licheng")], [ent("幸福里程")]) == [
        ("Xingfu Licheng", "幸福里程", None, 0.95, "pinyin of 幸福里程 is xingfulicheng")
    ]


def test_typo_in_a_long_latin_name() -> None:
    assert rows([app("Tencent Vidoe")], [ent("腾讯视频"), ent("Tencent Video"), ent("WeTV")]) == [
        (
            "Tencent Vidoe",
            "腾讯视频",
            None,
            0.8,
            "Tencent Vidoe looks like a misspelling of Tencent Video (92% similar), "
            "another name of 腾讯视频",
        ),
        (
            "Tencent Vidoe",
            "Tencent Video",
            None,
            0.8,
            "Tencent Vidoe looks like a misspelling of Tencent Video (92% similar)",
        ),
    ]
    # typo on the entity side, and between two names the directory does not know
    assert rows(
        [app("Tencent Video"), app("Fitness Tracker")],
        [ent("Tencnet Video"), ent("Fitness Trakcer")],
    ) == [
        (
            "Tencent Video",
            "Tencnet Video",
            None,
            0.8,
            "Tencnet Video looks like a misspelling of Tencent Video (92% similar)",
        ),
        (
            "Fitness Tracker",
            "Fitness Trakcer",
            None,
            0.8,
            "Fitness Tracker and Fitness Trakcer differ by one typo (93% similar)",
        ),
    ]


@pytest.mark.parametrize(
    ("watch", "entity"),
    [
        ("Wecaht", "WeChat"),  # short names: no typos
        ("腾讯视屏", "腾讯视频"),  # Chinese names: no typos
        ("Tencent Video", "Tencent Video HD"),  # an edition, not a typo
        ("Taobao Live", "Taobao Lite"),
        ("Ximalaya", "Himalaya"),  # two directory apps
        ("Kugou Musik", "Kuwo Music"),  # the typo is of Kugou Music, not Kuwo
    ],
)
def test_what_typos_never_match(watch: str, entity: str) -> None:
    assert rows([app(watch)], [ent(entity)]) == []


def test_trailing_app_and_nested_operator_notes() -> None:
    entities = [ent("快手APP"), ent("小红书（行吟信息科技（上海）有限公司）"), ent("WhatsApp")]
    assert [(r[1], r[4]) for r in rows([app("快手"), app("小红书"), app("Whats")], entities)] == [
        ("快手APP", "app name matches after normalization (快手 = 快手) ignoring (APP)"),
        (
            "小红书（行吟信息科技（上海）有限公司）",
            "app name matches after normalization (小红书 = 小红书) "
            "ignoring (行吟信息科技(上海)有限公司)",
        ),
    ]


# --- aliases per watch ------------------------------------------------------------------------


def test_user_alias_matches_and_says_so() -> None:
    watch = WatchItem("s1", "app", "Lark", aliases=("飞书",))
    assert rows([watch, app("Lark", "s2")], [ent("飞书"), ent("Lark")]) == [
        (
            "Lark",
            "飞书",
            None,
            1.0,
            "via your alias '飞书': app name matches after normalization (飞书 = 飞书)",
        ),
        ("Lark", "Lark", None, 1.0, "app name matches after normalization (Lark = Lark)"),
        ("Lark", "Lark", None, 1.0, "app name matches after normalization (Lark = Lark)"),
    ]


def test_alias_rules_are_the_same_rules() -> None:
    watch = WatchItem("s1", "app", "Some App", aliases=("Mou Yingyong", "  ", "some app"))
    assert rows([watch], [ent("某应用"), ent("某应用极速版")]) == [
        (
            "Some App",
            "某应用",
            None,
            0.95,
            "via your alias 'Mou Yingyong': pinyin of 某应用 is mouyingyong",
        )
    ]
    # an alias does not open traps
    assert rows([WatchItem("s1", "app", "微信", aliases=("Weixin",))], [ent("企业微信")]) == []


def test_the_name_wins_a_tie_with_an_alias() -> None:
    watch = WatchItem("s1", "app", "抖音", aliases=("Douyin", "抖音"))
    assert rows([watch], [ent("抖音")]) == [
        ("抖音", "抖音", None, 1.0, "app name matches after normalization (抖音 = 抖音)")
    ]


def test_company_alias() -> None:
    watch = WatchItem("s1", "company", "My Vendor", aliases=("北京某某科技有限公司",))
    assert rows([watch], [ent("某某工具", "北京某某科技有限公司")]) == [
        (
            "My Vendor",
            "某某工具",
            "北京某某科技有限公司",
            1.0,
            "via your alias '北京某某科技有限公司': developer name matches after normalization "
            "(北京某某科技有限公司 = 北京某某科技有限公司)",
        )
    ]


# --- more company rules -----------------------------------------------------------------------


def test_english_legal_names_reach_the_group() -> None:
    watch = company("Baidu Online Network Technology (Beijing) Co., Ltd.")
    entities = [
        ent("百度地图", "北京百度网讯科技有限公司"),
        ent("爱奇艺", "北京奇艺世纪科技有限公司"),
        ent("度小满金融", "度小满科技（北京）有限公司"),
    ]
    assert [(r[1], r[3], r[4]) for r in rows([watch], entities)] == [
        ("百度地图", 0.9, "developer 北京百度网讯科技有限公司 belongs to Baidu"),
        ("爱奇艺", 0.9, "developer 北京奇艺世纪科技有限公司 belongs to Baidu (through iQIYI)"),
    ]


def test_same_legal_entity_across_languages() -> None:
    watch = company("Beijing Microlive Vision Technology Co., Ltd.")
    entities = [
        ent("抖音", "北京微播视界科技有限公司"),
        ent("今日头条", "北京字节跳动科技有限公司"),
    ]
    assert rows([watch], entities) == [
        (
            "Beijing Microlive Vision Technology Co., Ltd.",
            "抖音",
            "北京微播视界科技有限公司",
            0.95,
            "developer 北京微播视界科技有限公司 is Beijing Microlive Vision Technology Co., Ltd., "
            "the same company (ByteDance) under another name",
        )
    ]


def test_prefix_of_a_group_name_and_its_guard() -> None:
    entities = [
        ent("某App", "腾讯智慧科技（深圳）有限公司"),
        ent("智慧屏", "京东方科技集团股份有限公司"),
        ent("某某", "京东方光电科技有限公司"),
    ]
    assert rows([company("Tencent"), company("JD")], entities) == [
        (
            "Tencent",
            "某App",
            "腾讯智慧科技（深圳）有限公司",
            0.85,
            "developer 腾讯智慧科技（深圳）有限公司 carries the name 腾讯 of Tencent",
        )
    ]


def test_typo_in_a_company_watch() -> None:
    assert rows([company("Bytedancee")], [ent("抖音", "北京微播视界科技有限公司")]) == [
        (
            "Bytedancee",
            "抖音",
            "北京微播视界科技有限公司",
            0.8,
            "Bytedancee looks like a misspelling of bytedance (95% similar); developer "
            "北京微播视界科技有限公司 belongs to ByteDance",
        )
    ]


def test_investors_and_spin_offs_are_not_owners() -> None:
    entities = [
        ent("京东", "北京京东叁佰陆拾度电子商务有限公司"),
        ent("虎牙直播", "广州虎牙信息科技有限公司"),
        ent("支付宝", "支付宝（中国）网络技术有限公司"),
        ent("360借条", "上海淇毓信息科技有限公司"),
    ]
    assert rows([company("Tencent"), company("Alibaba"), company("Qihoo 360")], entities) == []
