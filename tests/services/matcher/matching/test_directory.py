from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from services.matcher.matching import (
    DirectoryError,
    brand_of,
    default_directory,
    group_named,
    group_of_company,
    load_directory,
    normalize,
)
from services.matcher.matching.directory import SOURCE_KINDS

DIRECTORY = default_directory()


# --- size and integrity of the shipped file -------------------------------------------------


def test_counts() -> None:
    assert len(DIRECTORY.brands) >= 300
    assert len(DIRECTORY.groups) >= 100
    assert sum(len(g.entities) for g in DIRECTORY.groups) >= 200


def test_shipped_file_loads_fresh_and_says_where_facts_come_from() -> None:
    fresh = load_directory()  # validates: references, cycles, publishers, unique aliases
    assert [b.id for b in fresh.brands] == [b.id for b in DIRECTORY.brands]
    assert set(fresh.about["sources"]) == SOURCE_KINDS
    assert "not re-checked" in fresh.about["caveat"]
    for entry in (*DIRECTORY.brands, *DIRECTORY.groups):
        assert entry.source and set(entry.source) <= SOURCE_KINDS, entry.id


def test_pinyin_tables_are_built_on_the_first_romanized_lookup() -> None:
    """Loading (validation included) and Chinese lookups leave the pinyin tables unbuilt;
    a romanized name builds them and resolves by them."""
    fresh = load_directory()
    assert fresh.brand_hit("抖音") is not None and fresh.company("腾讯科技（深圳）有限公司")
    assert "_brand_roman" not in vars(fresh) and "_company_roman" not in vars(fresh)
    app = fresh.brand_hit("teng4xun4 di4tu2")
    assert app is not None and (app.brand.id, app.how, app.via) == (
        "tencent_map",
        "pinyin",
        "腾讯地图",
    )
    assert "_brand_roman" in vars(fresh) and "_company_roman" not in vars(fresh)
    company = fresh.company("Tengxun")
    assert company is not None and (company.group.id, company.how) == ("tencent", "pinyin")
    assert "_company_roman" in vars(fresh)


def test_every_app_name_resolves_to_its_app() -> None:
    for brand in DIRECTORY.brands:
        for name in brand.names:
            if normalize(name) in DIRECTORY.ambiguous_names:
                continue
            hit = DIRECTORY.brand_hit(name)
            assert hit is not None and hit.brand is brand, (brand.id, name)
            assert hit.how == "name"


def test_every_company_name_and_entity_resolves_to_its_company() -> None:
    for group in DIRECTORY.groups:
        for name in group.names:
            hit = DIRECTORY.company(name)
            assert hit is not None and hit.group is group, (group.id, name)
            assert hit.names_group, (group.id, name)
        for entity in group.entities:
            for name in entity:
                hit = DIRECTORY.company(name)
                assert hit is not None and hit.group is group, (group.id, name)


def test_publishers_are_entities_of_the_owner_chain() -> None:
    for brand in DIRECTORY.brands:
        if brand.publisher is None:
            continue
        assert brand.owner is not None
        hit = DIRECTORY.company(brand.publisher)
        assert hit is not None
        owner = DIRECTORY.group(brand.owner)
        assert owner in DIRECTORY.chain(hit.group) or hit.group in DIRECTORY.chain(owner)


@pytest.mark.parametrize(
    "names",
    [
        ("WeChat", "微信", "Weixin"),
        ("Ctrip", "Trip.com", "携程旅行"),
        ("LinkedIn", "领英"),
        ("51job", "前程无忧"),
        ("iQiyi", "爱奇艺"),
        ("Kugou", "酷狗音乐"),
        ("Mango TV", "芒果TV"),
        ("Tencent Map", "腾讯地图"),
        ("Tencent Video", "腾讯视频"),
        ("Douyin", "抖音"),
        ("Kuaishou", "快手"),
        ("Xiaohongshu", "小红书", "RED"),
        ("Huya", "虎牙直播"),
        ("Jinri Toutiao", "今日头条"),
        ("Sogou Input", "搜狗输入法"),
        ("Meitu", "美图秀秀"),
        ("Zhihu", "知乎"),
        ("Bilibili", "哔哩哔哩", "B站"),
        ("Weibo", "微博"),
        ("Didi", "滴滴出行"),
        ("Meituan", "美团"),
        ("Ele.me", "饿了么"),
        ("Taobao", "淘宝"),
        ("Alipay", "支付宝"),
        ("JD", "京东"),
        ("Pinduoduo", "拼多多"),
        ("NetEase Cloud Music", "网易云音乐"),
        ("Youku", "优酷"),
        ("QQ Music", "QQ音乐"),
        ("WPS", "WPS Office"),
        ("UC Browser", "UC浏览器"),
        ("360 Mobile Security", "360手机卫士"),
        ("Baidu Maps", "百度地图"),
        ("Amap", "Gaode", "高德地图"),
        ("Tongcheng", "同程旅行"),
        ("Qunar", "去哪儿旅行"),
        ("Ximalaya", "喜马拉雅"),
        ("Keep",),
        ("Soul",),
        ("Momo", "陌陌"),
        ("Tantan", "探探"),
        ("Boss Zhipin", "BOSS直聘"),
        ("Zhaopin", "智联招聘"),
        ("Liepin", "猎聘"),
        ("58.com", "58同城"),
        ("Anjuke", "安居客"),
        ("Lianjia", "链家"),
        ("Beike", "贝壳找房"),
        ("Autohome", "汽车之家"),
        ("Dianping", "大众点评"),
        ("Hupu", "虎扑"),
        ("Douyu", "斗鱼直播"),
        ("Kuaikan", "快看漫画"),
        ("Zuoyebang", "作业帮"),
        ("Yuanfudao", "猿辅导"),
        ("Youdao Dictionary", "网易有道词典"),
    ],
)
def test_well_known_apps_under_all_their_names(names: tuple[str, ...]) -> None:
    brands = {brand_of(n) for n in names}
    assert len(brands) == 1 and None not in brands, names


@pytest.mark.parametrize(
    ("name", "brand_id"),
    [
        ("Tengxun Shipin", "tencent_video"),
        ("wēi xìn", "wechat"),
        ("攜程旅行", "ctrip"),
        ("ＱＱ", "qq"),
        ("QQ阅读", "qq_reader"),
        ("TikTok", "tiktok"),
        ("抖音极速版", "douyin_lite"),
        ("脉脉", "maimai"),
    ],
)
def test_brand_of(name: str, brand_id: str) -> None:
    brand = brand_of(name)
    assert brand is not None and brand.id == brand_id


@pytest.mark.parametrize("name", ["芒果", "QQ音乐2", "斗音", "WeChat Pay", "Tencent", "搜狗"])
def test_not_an_app(name: str) -> None:
    assert brand_of(name) is None


def test_international_editions_are_separate_apps() -> None:
    pairs = [("抖音", "TikTok"), ("快手", "Kwai"), ("腾讯视频", "WeTV"), ("剪映", "CapCut")]
    pairs += [("飞书", "Lark"), ("喜马拉雅", "Himalaya"), ("拼多多", "Temu")]
    for chinese, international in pairs:
        a, b = brand_of(chinese), brand_of(international)
        assert a is not None and b is not None and a != b


@pytest.mark.parametrize(
    ("name", "group_id"),
    [
        ("北京微播视界科技有限公司", "bytedance"),
        ("Beijing Microlive Vision Technology Co., Ltd.", "bytedance"),
        ("深圳市腾讯计算机系统有限公司", "tencent"),
        ("腾讯科技（深圳）有限公司", "tencent"),
        ("Tencent Technology (Shenzhen) Company Limited", "tencent"),
        ("北京奇虎科技有限公司", "qihoo360"),
        ("北京奇元科技有限公司", "qihoo360"),
        ("Baidu Online Network Technology (Beijing) Co., Ltd.", "baidu"),
        ("Beijing Baidu Netcom Science and Technology Co., Ltd.", "baidu"),
        ("北京小桔科技有限公司", "didi"),
        ("抚州市新浪网络小额贷款有限公司", "sina"),
        ("广州酷狗计算机科技有限公司", "tme"),
        ("Shanghai Ctrip Commerce Co.,Ltd", "ctrip"),
        ("北京达佳互联信息技术有限公司", "kuaishou"),
        ("Beijing Kuaishou Keji Youxian Gongsi", "kuaishou"),
        ("汉海信息技术（上海）有限公司", "dianping"),
        ("腾讯数码（天津）有限公司", "tencent"),  # core is 腾讯
        ("腾讯云计算（北京）有限责任公司", "tencent"),
        ("网易有道信息技术（杭州）有限公司", "youdao"),
        ("京东方科技集团股份有限公司", "boe"),
    ],
)
def test_group_of_company(name: str, group_id: str) -> None:
    group = group_of_company(name)
    assert group is not None and group.id == group_id


def test_prefix_names_and_their_guards() -> None:
    hit = DIRECTORY.company("腾讯音乐娱乐文化（深圳）有限公司")
    assert hit is not None and hit.group.id == "tme"
    hit = DIRECTORY.company("百度智能云（北京）有限公司")
    assert hit is not None and (hit.group.id, hit.how) == ("baidu", "prefix")
    hit = DIRECTORY.company("Baidu Smart Cloud Co., Ltd.")
    assert hit is not None and (hit.group.id, hit.how) == ("baidu", "prefix")
    # a longer directory name starts it: 京东方 is BOE, never JD
    hit = DIRECTORY.company("京东方光电科技有限公司")
    assert hit is None or hit.group.id == "boe"
    # names not declared as prefixes never claim other companies
    assert DIRECTORY.company("菜鸟驿站加盟服务部") is None
    assert DIRECTORY.company("阿里山茶业有限公司") is None


@pytest.mark.parametrize(
    ("name", "group_id"),
    [
        ("Tencent", "tencent"),
        ("腾讯", "tencent"),
        ("騰訊控股", "tencent"),
        ("ByteDance", "bytedance"),
        ("字节跳动", "bytedance"),
        ("Qihoo 360", "qihoo360"),
        ("奇虎", "qihoo360"),
        ("微博", "weibo"),
        ("Microsoft", "microsoft"),
        ("LinkedIn", "linkedin"),
        ("Ant Group", "ant"),
    ],
)
def test_group_named(name: str, group_id: str) -> None:
    group = group_named(name)
    assert group is not None and group.id == group_id


def test_entities_name_no_group_but_belong_to_one() -> None:
    assert group_named("北京微播视界科技有限公司") is None
    assert group_named("北京奇元科技有限公司") is None
    member = group_of_company("北京奇元科技有限公司")
    assert member is not None and member.id == "qihoo360"


def test_ownership_chains() -> None:
    def chain(group_id: str) -> list[str]:
        return [g.id for g in DIRECTORY.chain(DIRECTORY.group(group_id))]

    assert chain("linkedin") == ["linkedin", "microsoft"]
    assert chain("tme") == ["tme", "tencent"]
    assert chain("qunar") == ["qunar", "ctrip"]
    assert chain("tencent") == ["tencent"]
    # investors are not parents; spin-offs are their own groups
    for independent in ("huya", "douyu", "ant", "qifu", "du_xiaoman", "webank", "honor"):
        assert chain(independent) == [independent]


# --- validation of bad files ----------------------------------------------------------------


def _write(tmp_path: Path, apps: list[dict[str, Any]], companies: list[dict[str, Any]]) -> Path:
    path = tmp_path / "directory.json"
    path.write_text(json.dumps({"apps": apps, "companies": companies}), encoding="utf-8")
    return path


ACME = {"id": "acme", "names": ["Acme", "艾克米"], "entities": [["艾克米科技有限公司"]],
        "source": ["registry"]}  # fmt: skip


def test_duplicate_alias_for_two_apps_is_an_error(tmp_path: Path) -> None:
    apps = [
        {"id": "a", "names": ["Rocket", "火箭"], "source": ["store"]},
        {"id": "b", "names": ["ROCKET!"], "source": ["store"]},
    ]
    with pytest.raises(DirectoryError, match=r"'ROCKET!'.*names both a and b"):
        load_directory(_write(tmp_path, apps, []))


def test_declared_ambiguous_alias_loads_and_resolves_to_nothing(tmp_path: Path) -> None:
    apps = [
        {"id": "a", "names": ["Rocket", "火箭"], "source": ["store"], "ambiguous": ["Rocket"]},
        {"id": "b", "names": ["Rocket", "火箭助手"], "source": ["store"], "ambiguous": ["Rocket"]},
    ]
    directory = load_directory(_write(tmp_path, apps, []))
    assert directory.brand_hit("Rocket") is None
    hit = directory.brand_hit("火箭助手")
    assert hit is not None and hit.brand.id == "b"


@pytest.mark.parametrize(
    ("apps", "companies", "message"),
    [
        ([{"id": "a", "names": ["X"], "owner": "nobody", "source": ["store"]}], [], "unknown owner"),
        ([{"id": "a", "names": ["X"]}], [], "needs a source"),
        ([{"id": "a", "names": ["X"], "source": ["rumour"]}], [], "unknown source kind"),
        ([{"id": "a", "names": [], "source": ["store"]}], [], "at least one name"),
        ([{"id": "a", "names": ["X"], "source": ["store"]}] * 2, [], "duplicate app id"),
        (
            [],
            [{**ACME, "parent": "beta"}, {**ACME, "id": "beta", "names": ["Beta"],
                                           "entities": [], "parent": "acme"}],
            "cycle",
        ),
        (
            [{"id": "a", "names": ["X"], "owner": "acme", "publisher": "别的公司有限公司",
              "source": ["store"]}],
            [ACME],
            "not a legal entity",
        ),
        (
            [],
            [ACME, {**ACME, "id": "other", "names": ["Other"], "entities": [["艾克米网络科技有限公司"]]}],
            "reads as",
        ),
    ],
)  # fmt: skip
def test_validation_errors_name_the_entry(
    tmp_path: Path, apps: list[dict[str, Any]], companies: list[dict[str, Any]], message: str
) -> None:
    with pytest.raises(DirectoryError, match=message):
        load_directory(_write(tmp_path, apps, companies))


def test_unreadable_or_malformed_file(tmp_path: Path) -> None:
    with pytest.raises(DirectoryError, match="cannot read"):
        load_directory(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text("[]", encoding="utf-8")
    with pytest.raises(DirectoryError, match="JSON object"):
        load_directory(bad)
