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
    # the owner in front of a list is the owner of the names after it that carry its brand
    assert pairs(text) == [
        ("WeChat", "Tencent Holdings Ltd."),
        ("Tencent Map", "Tencent Holdings Ltd."),
    ]
    other = "Apps such as Tencent's WeChat and Kuaishou were named."
    assert pairs(other) == [("WeChat", "Tencent"), ("Kuaishou", None)]


def test_appositions_give_the_owner_of_the_name_before_them() -> None:
    text = (
        "Headline\n"
        "Those named include Huya, the Tencent-backed game-streaming platform, and Weibo "
        "Wallet, a lending service run by Sina."
    )
    assert pairs(text) == [("Huya", "Tencent"), ("Weibo Wallet", "Sina")]


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


def test_descriptions_before_names_and_plural_possessives() -> None:
    text = (
        "Title\nThe 17 apps, including food delivery platform Ele.me, recipe app Xiachufang and "
        "Sina-owned Weibo Wallet, had collected data. Others named include Tencent Holdings' "
        "QQ Music and Hunan TV's Mango TV."
    )
    assert pairs(text) == [
        ("Ele.me", None),
        ("Xiachufang", None),
        ("Weibo Wallet", "Sina"),
        ("QQ Music", "Tencent Holdings"),
        ("Mango TV", "Hunan TV"),
    ]


def test_names_opening_a_sentence() -> None:
    text = "Title\nDouyin, Kuaishou and Microsoft's LinkedIn were among the 105 apps named."
    assert pairs(text) == [("Douyin", None), ("Kuaishou", None), ("LinkedIn", "Microsoft")]
    assert pairs("Title\nChinese tech giants were among those named.") == []


def test_names_right_after_the_noun_or_verb() -> None:
    text = (
        "Title\nShort-video apps Douyin and Kuaishou were on the list. The list also names "
        "ByteDance's Toutiao Lite and NetEase Cloud Music."
    )
    assert pairs(text) == [
        ("Douyin", None),
        ("Kuaishou", None),
        ("Toutiao Lite", "ByteDance"),
        ("NetEase Cloud Music", None),
    ]


def test_appositions_dates_and_store_owners_are_not_apps() -> None:
    text = (
        "Title\nAmong them were Huya, a game streaming platform, and Xiaohongshu, the lifestyle "
        "app. The regulator cited 105 apps Friday. It was unavailable on app stores, including "
        "those operated by Huawei, Tencent and Xiaomi."
    )
    assert pairs(text) == [("Huya", None), ("Xiaohongshu", None)]


def test_headline_only_when_the_body_names_nobody() -> None:
    text = "China fines apps including Douyin, LinkedIn illegally collected data\nIt named Kuaishou's app Kuaishou Lite and others."
    assert pairs(text) == [("Kuaishou Lite", "Kuaishou")]
    assert pairs("Apps including Douyin and Kuaishou named\nNo names in the body.") == [
        ("Douyin", None),
        ("Kuaishou", None),
    ]


def test_apps_from_companies_name_companies() -> None:
    entities = extract_entities_en(
        "Title\nThe list included apps from Tencent, Alibaba and ByteDance, the ministry said."
    )
    assert [(e.kind, e.name) for e in entities] == [
        ("company", "Tencent"),
        ("company", "Alibaba"),
        ("company", "ByteDance"),
    ]


def triples(text: str) -> list[tuple[str, str | None, str]]:
    return [(e.name, e.developer, e.kind) for e in extract_entities_en(text)]


def test_naming_and_camel_case_names_after_a_description() -> None:
    text = (
        "Headline\n"
        "The ministry acted on Monday, naming online travel agency Trip.com and video "
        "streamer iQiyi as well as music app Kuwo."
    )
    assert [name for name, _, _ in triples(text)] == ["Trip.com", "iQiyi", "Kuwo"]


def test_operators_after_the_name_and_legal_names_with_commas() -> None:
    text = (
        "Headline\n"
        'The list includes "Island Tour Pass", developed by Hainan Daoyou Technology Co., Ltd., '
        "and the ferry ticketing app Qiongzhou Ferry, operated by Haikou Ferry Co., Ltd."
    )
    assert triples(text) == [
        ("Island Tour Pass", "Hainan Daoyou Technology Co., Ltd.", "app"),
        ("Qiongzhou Ferry", "Haikou Ferry Co., Ltd.", "app"),
    ]


def test_owner_prefixes_and_places() -> None:
    text = (
        "Headline\n"
        "Apps named include the Tencent-owned music streaming service Kugou, NetEase-run "
        "Kuwo and Beijing-based food delivery app Eleme."
    )
    assert triples(text) == [
        ("Kugou", "Tencent", "app"),
        ("Kuwo", "NetEase", "app"),
        ("Eleme", None, "app"),
    ]


def test_bulleted_lists_with_operators_and_no_regulator_as_an_app() -> None:
    text = (
        "Headline\n"
        "China's Ministry of Industry and Information Technology (MIIT) named six apps. "
        "The apps named are:\n"
        "- Lianjia Home (Beijing Lianjia Real Estate Brokerage Co., Ltd.)\n"
        "- Tantan (Tantan Cultural Development (Beijing) Co., Ltd.)\n"
    )
    assert triples(text) == [
        ("Lianjia Home", "Beijing Lianjia Real Estate Brokerage Co., Ltd.", "app"),
        ("Tantan", "Tantan Cultural Development (Beijing) Co., Ltd.", "app"),
    ]


def test_a_dash_list_after_a_counted_noun_and_companies_with_co() -> None:
    text = (
        "Headline\n"
        "The entries include three SDKs - the Yuanqi SDK, Lingxi Push SDK and Xingtu "
        "Analytics SDK - together with other apps.\n"
        "Operators on the list include Sogou Inc., Qihoo 360 Technology Co. and Beijing "
        "Kuaishou Technology Co. Ltd."
    )
    assert triples(text) == [
        ("Yuanqi SDK", None, "sdk"),
        ("Lingxi Push SDK", None, "sdk"),
        ("Xingtu Analytics SDK", None, "sdk"),
        ("Sogou Inc.", None, "company"),
        ("Qihoo 360 Technology Co.", None, "company"),
        ("Beijing Kuaishou Technology Co. Ltd.", None, "company"),
    ]


def test_photo_captions_are_not_read() -> None:
    text = (
        "Headline\n"
        "Photo: A woman checks her phone. Apps such as WeChat and Alipay dominate daily life.\n"
        "The regulator named 12 apps including Soul and Momo."
    )
    assert [name for name, _, _ in triples(text)] == ["Soul", "Momo"]


def test_operators_named_in_a_sentence_of_their_own() -> None:
    text = (
        "Headline\n"
        "The 19 apps, which include Weibo, Douban and Zhihu, have until May 30 to fix them.\n"
        "Weibo is operated by Beijing Weimeng Chuangke Network Technology Co., Ltd.; Zhihu by "
        "Beijing Zhizhe Tianxia Technology Co., Ltd.\n"
        "Douban is run by KE Holdings Inc., which also runs other brands."
    )
    assert pairs(text) == [
        ("Weibo", "Beijing Weimeng Chuangke Network Technology Co., Ltd."),
        ("Douban", "KE Holdings Inc."),
        ("Zhihu", "Beijing Zhizhe Tianxia Technology Co., Ltd."),
    ]


def test_a_description_opening_the_sentence_that_names_the_app() -> None:
    text = (
        "Headline\n"
        "Lifestyle platform Xiaohongshu is one of 21 apps named by the ministry on Thursday."
    )
    assert pairs(text) == [("Xiaohongshu", None)]
