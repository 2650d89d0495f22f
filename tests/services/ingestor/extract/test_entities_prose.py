"""Apps named in running prose and headlines: cue words, counts, quotes, subject lists, and
the words that are never apps (categories, stores, laws, problem labels, lead-ins)."""

from __future__ import annotations

import pytest

from services.ingestor.extract.entities_prose import extract_entities_prose, name_like


def names(text: str) -> list[str]:
    return [entity.name for entity in extract_entities_prose(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # cue word, 、 and 和, the last one before 等N款 included
        (
            "检测发现存在问题的应用包括云朵阅读、快看天气、晴空相机和星河视频等43款App。",
            ["云朵阅读", "快看天气", "晴空相机", "星河视频"],
        ),
        # the same with ASCII commas, spaces and 以及
        (
            "发现问题的应用包括 云朵阅读, 快看天气 以及 晴空相机 等 3 款 APP",
            ["云朵阅读", "快看天气", "晴空相机"],
        ),
        # cue and colon, Chinese commas only, no count
        (
            "共发现4款APP存在侵害用户权益行为，分别是：星图天气，拾光记账，趣听FM和易行公交。",
            ["星图天气", "拾光记账", "趣听FM", "易行公交"],
        ),
        # 分别为 with full-width colon and a trailing 等
        ("涉及的应用分别为：青禾学堂、火星日历等。", ["青禾学堂", "火星日历"]),
        # headline without a cue word
        ("网信办通报云朵阅读、快看天气等43款App违法违规收集使用个人信息", ["云朵阅读", "快看天气"]),
        ("通报晴空相机等33款App", ["晴空相机"]),
        # quoted names, adjacent, then a count
        ("“拾光记账”“趣听FM”“点点优选”等16款App被点名", ["拾光记账", "趣听FM", "点点优选"]),
        # corner brackets and title marks, separated by 、
        ("「掌上菜谱」、「青柠日记」等2款应用存在问题", ["掌上菜谱", "青柠日记"]),
        (
            "其中，《悦跑圈子》《青柠日记》存在未经用户同意收集使用个人信息问题",
            ["悦跑圈子", "青柠日记"],
        ),
        # subject list before 在列
        ("其中微信、QQ音乐、腾讯视频均在列。", ["微信", "QQ音乐", "腾讯视频"]),
        # a name that starts with 和 is not split, the clause before the names is not one
        (
            "通报显示，和风天气、乐享健身与途牛旅游等43款APP存在问题",
            ["和风天气", "乐享健身", "途牛旅游"],
        ),
        (
            "经查，金陵外卖、秦淮夜读，以及“姑苏e行”、运河云盘等4款APP",
            ["金陵外卖", "秦淮夜读", "姑苏e行", "运河云盘"],
        ),
        # an app whose name ends like a category is an app
        (
            "晴空相机、墨鱼输入法、路路通导航等33款App存在问题",
            ["晴空相机", "墨鱼输入法", "路路通导航"],
        ),
        # SDK names keep their "SDK"
        (
            "发现《繁星推送SDK》《云图统计SDK》存在未经同意向境外提供个人信息的问题",
            ["繁星推送SDK", "云图统计SDK"],
        ),
        # the names on the line after "名单如下："
        (
            "存在问题的APP名单如下：\n青禾学堂、极光扫描王、云上菜园；火星日历 及 西湖约车\n",
            ["青禾学堂", "极光扫描王", "云上菜园", "火星日历", "西湖约车"],
        ),
    ],
)
def test_names_in_prose(text: str, expected: list[str]) -> None:
    assert names(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        # categories, before a count and before "App"
        "关于输入法等33款App违法违规收集使用个人信息情况的通报",
        "对地图导航、短视频、网络直播等常用App进行了检测",
        "又对输入法、浏览器等App开展了专项检测",
        "重点关注网上购物、金融借贷和学习教育等类型APP",
        "对运动健身类、新闻资讯类等App进行检测",
        # app stores
        "对华为应用市场、小米应用商店、应用宝等应用商店上架的APP进行了抽测",
        # laws and standards in title marks
        "依据《网络安全法》《App违法违规收集使用个人信息行为认定方法》等规定",
        # problem labels and features in quotes
        "检测内容包括隐私政策、权限调用、个人信息收集等方面",
        "这些App普遍存在“一键注销”功能形同虚设、未提供“拒绝”选项等情况",
        "App存在违规收集个人信息、强制频繁过度索取权限等问题",
        # lead-ins and counts alone
        "国家网信办通报43款App违法违规收集使用个人信息",
        "截至目前，尚有8款APP未完成整改",
    ],
)
def test_not_apps(text: str) -> None:
    assert names(text) == []


def test_every_entity_is_from_the_text_and_once() -> None:
    text = "网信办通报云朵阅读、快看天气等43款App\n存在问题的应用包括云朵阅读、快看天气和晴空相机等43款App。"
    entities = extract_entities_prose(text)
    assert [e.name for e in entities] == ["云朵阅读", "快看天气", "晴空相机"]
    assert {e.source for e in entities} == {"text"}
    assert {e.kind for e in entities} == {"app"}


@pytest.mark.parametrize(
    "name", ["云朵阅读", "QQ音乐", "趣听FM", "360 浏览器", "墨鱼输入法", "58同城"]
)
def test_name_like_accepts_names(name: str) -> None:
    assert name_like(name)


@pytest.mark.parametrize(
    "name",
    ["输入法", "短视频类", "小米应用商店", "经查", "上述应用", "App", "2021年5月", "个人信息"],
)
def test_name_like_refuses_what_is_not_a_name(name: str) -> None:
    assert not name_like(name)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # the owner before the app, and 以及 before the last names; a trailing 等
        (
            "工信部近日通报了43款APP，其中包括腾讯旗下的微信、腾讯地图、腾讯视频，以及爱奇艺、携程等。",
            [
                ("微信", None),
                ("腾讯地图", None),
                ("腾讯视频", None),
                ("爱奇艺", None),
                ("携程", None),
            ],
        ),
        # operators in brackets inside the sentence
        (
            "经检测发现，抖音（北京微播视界科技有限公司）、快手（北京快手科技有限公司）等105款App存在问题。",
            [("抖音", "北京微播视界科技有限公司"), ("快手", "北京快手科技有限公司")],
        ),
        # an ellipsis before 等, 了 after the lead-in verb
        (
            "通报点名了云朵阅读、快看天气、晴空相机……等43款App。",
            [("云朵阅读", None), ("快看天气", None), ("晴空相机", None)],
        ),
        # numbered items inside one sentence, MPS style
        (
            "监测发现17款App存在隐私不合规行为，分别是：1、《极速清理大师》（版本1.2.0，360手机助手）；2、《星空壁纸》（版本3.0.1，应用宝）。",
            [("极速清理大师", None), ("星空壁纸", None)],
        ),
        # 如 after a clause about apps; a count right after the names
        (
            "此次被通报的App有多款是知名应用，如小红书、知乎、百度网盘等。",
            [("小红书", None), ("知乎", None), ("百度网盘", None)],
        ),
        (
            "这次上榜的还有58同城、链家和贝壳找房三款APP。",
            [("58同城", None), ("链家", None), ("贝壳找房", None)],
        ),
    ],
)
def test_names_in_press_prose(text: str, expected: list[tuple[str, str | None]]) -> None:
    assert [(e.name, e.developer) for e in extract_entities_prose(text)] == expected


@pytest.mark.parametrize(
    "text",
    [
        "国家网络安全通报中心关于19款App违法违规收集使用个人信息的通报",
        "被点名的App中，有不少是用户量过亿的头部应用。",
        "截至目前，尚有8款APP未完成整改，涉及5款App。",
        "我局对43款App进行检测，上述2款APP应整改。",
    ],
)
def test_counts_without_names(text: str) -> None:
    assert names(text) == []


@pytest.mark.parametrize(
    "text",
    [
        "推进“一网通办”“最多跑一次”等改革，提升App服务水平。",
        "开展“清朗·App专项整治”和“净网”行动。",
        "要求App提供“一键注销”“拒绝授权”等功能。",
    ],
)
def test_quoted_terms_are_not_apps(text: str) -> None:
    assert names(text) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # operators in brackets anywhere, one level of brackets inside the operator
        (
            "发现企业微信（腾讯科技（深圳）有限公司）、QQ阅读（上海阅文信息技术有限公司）存在问题",
            [("企业微信", "腾讯科技（深圳）有限公司"), ("QQ阅读", "上海阅文信息技术有限公司")],
        ),
        (
            "我局发现黔行天下（贵州黔行网络科技有限公司）、遵义生活通（遵义市便民信息服务有限公司）存在问题。",
            [
                ("黔行天下", "贵州黔行网络科技有限公司"),
                ("遵义生活通", "遵义市便民信息服务有限公司"),
            ],
        ),
        # a later mention with the operator completes an earlier one
        (
            "发现京东到家、京味外卖等2款App存在问题，其中京味外卖（北京京味餐饮管理有限公司）问题较为突出。",
            [("京东到家", None), ("京味外卖", "北京京味餐饮管理有限公司")],
        ),
        # the operator in the next clause
        (
            "（一）“苏e行”，运营者为无锡苏e行交通科技有限公司，存在违反必要原则收集个人信息问题；",
            [("苏e行", "无锡苏e行交通科技有限公司")],
        ),
        # quoted names with a suffix before the operator; a mini-program among apps
        (
            "“悦读小镇”（北京悦读小镇文化有限公司）、“健康宝宝”微信小程序（上海健康宝宝母婴用品有限公司）、“燕京健身”App（北京燕京体育健身有限公司）等12款",
            [
                ("悦读小镇", "北京悦读小镇文化有限公司"),
                ("健康宝宝", "上海健康宝宝母婴用品有限公司"),
                ("燕京健身", "北京燕京体育健身有限公司"),
            ],
        ),
        # 和 inside names, and a law in title marks, are not separators
        ("发现和平精英、天和健康等2款App", [("和平精英", None), ("天和健康", None)]),
        (
            "“星光K歌”“乐跑步”等16款App，涉及《中华人民共和国个人信息保护法》",
            [("星光K歌", None), ("乐跑步", None)],
        ),
        # a cue word or 和 right before an app with its operator is not part of its name
        (
            "存在问题的App分别是掌上药店（北京掌上医药科技有限公司）和自贸通（海南自贸通数字科技有限公司）。",
            [("掌上药店", "北京掌上医药科技有限公司"), ("自贸通", "海南自贸通数字科技有限公司")],
        ),
        (
            "发现和平精英（深圳市腾讯计算机系统有限公司）存在问题",
            [("和平精英", "深圳市腾讯计算机系统有限公司")],
        ),
        # 涉及X类App的有A、B
        (
            "涉及输入法类App的有速记输入法、拼音宝输入法；涉及短视频类的有看点视频。",
            [("速记输入法", None), ("拼音宝输入法", None), ("看点视频", None)],
        ),
    ],
)
def test_names_with_operators_and_inner_brackets(
    text: str, expected: list[tuple[str, str | None]]
) -> None:
    assert [(e.name, e.developer) for e in extract_entities_prose(text)] == expected


def test_a_mini_program_keeps_its_kind() -> None:
    text = "“健康宝宝”微信小程序（上海健康宝宝母婴用品有限公司）、“悦读小镇”等2款"
    assert [(e.name, e.kind) for e in extract_entities_prose(text)] == [
        ("健康宝宝", "mini_program"),
        ("悦读小镇", "app"),
    ]


def test_what_a_notice_says_it_does_not_name_is_not_named() -> None:
    assert names("本次通报不涉及微信、QQ、QQ音乐等应用。") == []
