"""A small built-in alias table of app brands and company groups.

This is a stop-gap until the full directory exists: a handful of brands that show up in
regulators' notices, with the names they go by (Chinese, English, pinyin spellings that are not
plain pinyin of the Chinese name), and the company groups that operate them with their legal
entities as notices list them. Everything here is public knowledge (app-store listings, company
registrations reported in the press, annual reports); each entry says where it comes from.

Lookups are by normalized name (:func:`~services.matcher.matching.names.normalize`), by the
pinyin of an entry's Chinese names for romanized input, and for companies by
:func:`~services.matcher.matching.names.company_core`. Keys are exact: ``QQ`` is not ``QQ音乐``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from .names import company_core, has_cjk, normalize, normalize_pinyin, pinyin_key

__all__ = [
    "BRANDS",
    "GROUPS",
    "Brand",
    "Group",
    "brand_by_id",
    "brand_of",
    "group_by_id",
    "group_chain",
    "group_named",
    "group_of_company",
]


@dataclass(frozen=True)
class Brand:
    """One app (one store listing family), under all the names it is known by."""

    id: str
    display: str
    names: tuple[str, ...]
    owner: str | None
    """Id of the :class:`Group` that operates it, when known."""
    source: str
    note: str = ""


@dataclass(frozen=True)
class Group:
    """A company group: what it is called, and the companies/brands that belong to it."""

    id: str
    display: str
    names: tuple[str, ...]
    """Names of the group itself; a company watch with one of these covers the whole group."""
    members: tuple[str, ...]
    """Legal entities and subsidiaries; a developer with one of these belongs to the group."""
    source: str
    note: str = ""
    parent: str | None = None
    """Id of the group that owns this one (LinkedIn -> Microsoft)."""


BRANDS: tuple[Brand, ...] = (
    Brand(
        "wechat",
        "WeChat (微信)",
        ("微信", "WeChat", "Weixin"),
        "tencent",
        "Tencent product pages; app-store listing 微信 / WeChat",
    ),
    Brand(
        "wecom",
        "WeCom (企业微信)",
        ("企业微信", "WeCom", "WeChat Work", "Qiye Weixin"),
        "tencent",
        "Tencent: WeChat Work was renamed WeCom in 2020; Chinese name 企业微信",
        "A different app from 微信/WeChat.",
    ),
    Brand(
        "tencent_maps",
        "Tencent Maps (腾讯地图)",
        ("腾讯地图", "Tencent Map", "Tencent Maps"),
        "tencent",
        "app-store listing 腾讯地图; English press calls it Tencent Map(s)",
    ),
    Brand(
        "tencent_video",
        "Tencent Video (腾讯视频)",
        ("腾讯视频", "Tencent Video"),
        "tencent",
        "app-store listing 腾讯视频",
        "WeTV is Tencent's separate international app and is not aliased here.",
    ),
    Brand(
        "qq",
        "QQ",
        ("QQ", "腾讯QQ", "Tencent QQ"),
        "tencent",
        "Tencent; the messenger is listed as QQ or 腾讯QQ",
        "QQ音乐, QQ阅读, QQ浏览器, QQ输入法 ... are different apps.",
    ),
    Brand(
        "qq_music",
        "QQ Music (QQ音乐)",
        ("QQ音乐", "QQ Music"),
        "tme",
        "Tencent Music Entertainment (a Tencent subsidiary) annual reports",
    ),
    Brand(
        "qq_reader",
        "QQ Reader (QQ阅读)",
        ("QQ阅读", "QQ Reader"),
        "tencent",
        "China Literature (阅文集团, controlled by Tencent) annual reports",
    ),
    Brand(
        "linkedin",
        "LinkedIn (领英)",
        ("领英", "LinkedIn"),
        "linkedin",
        "LinkedIn China used the name 领英; Microsoft acquired LinkedIn in 2016",
        "领英职场 (InCareer, 2021-2023) was a separate app and is not aliased.",
    ),
    Brand(
        "51job",
        "51job (前程无忧)",
        ("前程无忧", "51job", "前程无忧51job", "51job前程无忧"),
        None,
        "app-store listing 前程无忧51Job; company 51job, Inc.",
    ),
    Brand(
        "ctrip",
        "Ctrip (携程旅行)",
        ("携程旅行", "携程", "Ctrip", "Trip.com", "携程旅行网"),
        "ctrip",
        "app-store listing 携程旅行; Trip.com Group annual reports",
        "Trip.com is, strictly, the group's international app; aliased here because news uses "
        "Ctrip and Trip.com interchangeably for the domestic app.",
    ),
    Brand(
        "iqiyi",
        "iQiyi (爱奇艺)",
        ("爱奇艺", "iQiyi", "iQIYI"),
        "baidu",
        "iQIYI, Inc. filings (Baidu is the controlling shareholder)",
    ),
    Brand(
        "kugou",
        "Kugou (酷狗音乐)",
        ("酷狗音乐", "酷狗", "Kugou", "Kugou Music"),
        "tme",
        "Tencent Music Entertainment annual reports; news: 'Tencent-owned Kugou'",
        "酷狗概念版 and other editions are not aliased.",
    ),
    Brand(
        "mango_tv",
        "Mango TV (芒果TV)",
        ("芒果TV", "Mango TV", "MangoTV"),
        None,
        "app-store listing 芒果TV (Hunan Broadcasting's Mango Excellent Media)",
        "芒果 alone is a fruit, not this app.",
    ),
    Brand(
        "douyin",
        "Douyin (抖音)",
        ("抖音", "Douyin", "Douyin short video"),
        "bytedance",
        "app-store listing 抖音, developer 北京微播视界科技有限公司",
        "TikTok is ByteDance's separate international app: NOT an alias of 抖音. "
        "抖音极速版 / 抖音火山版 are separate apps.",
    ),
    Brand(
        "kuaishou",
        "Kuaishou (快手)",
        ("快手", "Kuaishou"),
        "kuaishou",
        "app-store listing 快手, developer 北京快手科技有限公司",
        "Kwai (international) and 快手极速版 are separate apps.",
    ),
    Brand(
        "xiaohongshu",
        "Xiaohongshu (小红书)",
        ("小红书", "Xiaohongshu", "RED", "Little Red Book", "RedNote"),
        None,
        "company English name Xingin; press names RED / Little Red Book; RedNote since 2025",
    ),
    Brand(
        "toutiao",
        "Toutiao (今日头条)",
        ("今日头条", "Toutiao", "Jinri Toutiao"),
        "bytedance",
        "app-store listing 今日头条 (ByteDance)",
        "今日头条极速版 is a separate app.",
    ),
    Brand(
        "huya",
        "Huya (虎牙)",
        ("虎牙直播", "虎牙", "Huya", "Huya Live"),
        None,
        "app-store listing 虎牙直播; HUYA Inc. filings",
        "Owner left empty on purpose; Tencent is the controlling shareholder, not the operator.",
    ),
    Brand(
        "baidu",
        "Baidu (百度)",
        ("百度", "Baidu", "Baidu App"),
        "baidu",
        "app-store listing 百度, developer 北京百度网讯科技有限公司",
        "百度地图, 百度网盘, 百度极速版 ... are different apps.",
    ),
    Brand(
        "baidu_maps",
        "Baidu Maps (百度地图)",
        ("百度地图", "Baidu Maps", "Baidu Map"),
        "baidu",
        "app-store listing 百度地图",
    ),
    Brand(
        "didi",
        "Didi (滴滴出行)",
        ("滴滴出行", "滴滴", "Didi", "DiDi Chuxing", "Didi Chuxing"),
        "didi",
        "app-store listing 滴滴出行, developer 北京小桔科技有限公司",
        "滴滴车主 (the driver app) is a different app.",
    ),
)


GROUPS: tuple[Group, ...] = (
    Group(
        "tencent",
        "Tencent",
        ("Tencent", "腾讯", "Tencent Holdings", "腾讯控股", "腾讯集团"),
        (
            "深圳市腾讯计算机系统有限公司",
            "腾讯科技（深圳）有限公司",
            "腾讯科技（北京）有限公司",
            "Tencent Holdings Ltd.",
            "Shenzhen Tencent Computer Systems Co., Ltd.",
        ),
        "Tencent Holdings annual reports; operators in MIIT notices",
    ),
    Group(
        "bytedance",
        "ByteDance",
        ("ByteDance", "字节跳动", "今日头条"),
        (
            "北京微播视界科技有限公司",
            "北京字节跳动科技有限公司",
            "北京字节跳动网络技术有限公司",
            "Beijing Microlive Vision Technology Co., Ltd.",
        ),
        "operators of 抖音 / 今日头条 in MIIT and CAC notices",
        "今日头条 is a group name here because older notices list it as the developer.",
    ),
    Group(
        "kuaishou",
        "Kuaishou",
        ("Kuaishou", "快手", "Kuaishou Technology"),
        ("北京快手科技有限公司", "北京快手网络科技有限公司"),
        "Kuaishou Technology prospectus; operators in MIIT notices",
    ),
    Group(
        "qihoo360",
        "Qihoo 360",
        ("Qihoo 360", "Qihoo", "360", "奇虎", "奇虎360", "三六零", "360集团"),
        ("北京奇虎科技有限公司", "北京奇元科技有限公司", "三六零安全科技股份有限公司"),
        "360 Security Technology filings; operators of 360 apps in MIIT notices",
    ),
    Group(
        "didi",
        "Didi Chuxing",
        ("Didi", "Didi Chuxing", "DiDi Global", "滴滴", "滴滴出行"),
        ("北京小桔科技有限公司", "滴滴出行科技有限公司"),
        "DiDi Global prospectus; operator of 滴滴出行 in notices",
    ),
    Group(
        "sina",
        "Sina / Weibo",
        ("Sina", "Weibo", "新浪", "微博", "新浪微博"),
        ("抚州市新浪网络小额贷款有限公司", "北京微梦创科网络技术有限公司"),
        "Weibo Corp. filings; 微博钱包 listed with 抚州市新浪网络小额贷款有限公司",
    ),
    Group(
        "baidu",
        "Baidu",
        ("Baidu", "百度", "百度集团"),
        ("北京百度网讯科技有限公司", "百度在线网络技术（北京）有限公司"),
        "Baidu, Inc. annual reports; operator of Baidu apps in notices",
    ),
    Group(
        "alibaba",
        "Alibaba",
        ("Alibaba", "Alibaba Group", "阿里巴巴", "阿里巴巴集团", "阿里"),
        (
            "阿里巴巴（中国）有限公司",
            "阿里巴巴（中国）网络技术有限公司",
            "浙江淘宝网络有限公司",
            "浙江天猫网络有限公司",
        ),
        "Alibaba Group annual reports",
        "Ant Group (支付宝) is a separate company and is not a member.",
    ),
    Group(
        "microsoft",
        "Microsoft",
        ("Microsoft", "微软"),
        ("微软（中国）有限公司", "Microsoft Corporation"),
        "Microsoft annual reports",
    ),
    Group(
        "linkedin",
        "LinkedIn",
        ("LinkedIn", "领英"),
        ("LinkedIn Corporation", "领英（中国）"),
        "Microsoft acquired LinkedIn in 2016; LinkedIn China operated as 领英",
        "A company watch on LinkedIn/领英 covers LinkedIn's entities only, not all of Microsoft.",
        parent="microsoft",
    ),
    Group(
        "tme",
        "Tencent Music Entertainment",
        ("Tencent Music", "Tencent Music Entertainment", "TME", "腾讯音乐", "腾讯音乐娱乐"),
        ("广州酷狗计算机科技有限公司", "北京酷我科技有限公司"),
        "Tencent Music Entertainment annual reports (operators of Kugou and Kuwo)",
        parent="tencent",
    ),
    Group(
        "ctrip",
        "Trip.com Group (Ctrip)",
        ("Ctrip", "Trip.com", "Trip.com Group", "携程", "携程集团"),
        (
            "上海携程商务有限公司",
            "Shanghai Ctrip Commerce Co.,Ltd",
            "携程计算机技术（上海）有限公司",
            "上海携程国际旅行社有限公司",
        ),
        "Trip.com Group annual reports; developer strings in notices",
    ),
)


def _check_unique(pairs: Iterable[tuple[str, str]], what: str) -> dict[str, str]:
    table: dict[str, str] = {}
    for key, ident in pairs:
        if not key:
            continue
        other = table.setdefault(key, ident)
        if other != ident:
            raise ValueError(f"alias table: {what} key {key!r} maps to both {other} and {ident}")
    return table


def _brand_name_pairs() -> Iterable[tuple[str, str]]:
    for brand in BRANDS:
        for name in brand.names:
            yield normalize(name), brand.id


def _brand_pinyin_pairs() -> Iterable[tuple[str, str]]:
    for brand in BRANDS:
        for name in brand.names:
            if has_cjk(name):
                yield pinyin_key(name) or "", brand.id
            else:
                yield normalize_pinyin(name) or "", brand.id


def _group_name_pairs() -> Iterable[tuple[str, str]]:
    for group in GROUPS:
        for name in group.names:
            yield company_core(name), group.id


def _group_member_pairs() -> Iterable[tuple[str, str]]:
    yield from _group_name_pairs()
    for group in GROUPS:
        for name in group.members:
            yield company_core(name), group.id


_BRAND_BY_ID = {b.id: b for b in BRANDS}
_GROUP_BY_ID = {g.id: g for g in GROUPS}


@lru_cache(maxsize=1)
def _tables() -> tuple[dict[str, str], dict[str, str], dict[str, str], dict[str, str]]:
    return (
        _check_unique(_brand_name_pairs(), "brand name"),
        _check_unique(_brand_pinyin_pairs(), "brand pinyin"),
        _check_unique(_group_name_pairs(), "group name"),
        _check_unique(_group_member_pairs(), "group member"),
    )


def brand_by_id(brand_id: str) -> Brand:
    return _BRAND_BY_ID[brand_id]


def group_by_id(group_id: str) -> Group:
    return _GROUP_BY_ID[group_id]


def group_chain(group: Group) -> tuple[Group, ...]:
    """``group`` followed by the groups that own it, nearest first (LinkedIn, Microsoft)."""
    chain = [group]
    while chain[-1].parent is not None:
        parent = _GROUP_BY_ID[chain[-1].parent]
        if parent in chain:
            raise ValueError(f"alias table: group ownership cycle at {parent.id}")
        chain.append(parent)
    return tuple(chain)


@lru_cache(maxsize=65536)
def brand_of(name: str) -> Brand | None:
    """The brand an app name denotes, by exact normalized name.

    Romanized input (no Chinese characters) is also tried as pinyin of the brand's Chinese
    names (``Tengxun Shipin`` -> Tencent Video). Chinese names are never resolved by sound.
    """
    by_name, by_pinyin, _, _ = _tables()
    ident = by_name.get(normalize(name))
    if ident is None and not has_cjk(name):
        key = normalize_pinyin(name)
        ident = by_pinyin.get(key) if key else None
    return _BRAND_BY_ID[ident] if ident else None


@lru_cache(maxsize=65536)
def group_named(name: str) -> Group | None:
    """The group a company *watch* names, by :func:`company_core` of the group's own names only.

    ``Tencent`` and ``腾讯`` name Tencent; ``北京微播视界科技有限公司`` names no group (it is a
    member of ByteDance, but watching it does not mean watching all of ByteDance).
    """
    ident = _tables()[2].get(company_core(name))
    return _GROUP_BY_ID[ident] if ident else None


@lru_cache(maxsize=65536)
def group_of_company(name: str) -> Group | None:
    """The group a company (an app's developer) belongs to: by core of names and members."""
    ident = _tables()[3].get(company_core(name))
    return _GROUP_BY_ID[ident] if ident else None
