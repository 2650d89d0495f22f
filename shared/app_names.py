"""English names the press gives well-known Chinese apps whose pinyin they are not.

Small on purpose: the ingestor uses it only to tell whether a press story about a regulator's
notice names the same apps (``WeChat`` is 微信, ``Tencent Video`` is 腾讯视频); names whose
English form is their pinyin (Douyin 抖音, Kuaishou 快手, Xiaohongshu 小红书) need no entry, they
are compared by pinyin. The matcher's directory (``services/matcher/matching/data``) remains the
full record of names for matching watchlists.
"""

from __future__ import annotations

import unicodedata
from typing import Final

ENGLISH_TO_CHINESE: Final[dict[str, tuple[str, ...]]] = {
    "wechat": ("微信",),
    "weixin": ("微信",),
    "wecom": ("企业微信",),
    "wechat work": ("企业微信",),
    "linkedin": ("领英",),
    "tencent video": ("腾讯视频",),
    "tencent map": ("腾讯地图",),
    "tencent maps": ("腾讯地图",),
    "tencent news": ("腾讯新闻",),
    "qq music": ("QQ音乐",),
    "qq browser": ("QQ浏览器",),
    "iqiyi": ("爱奇艺",),
    "kugou": ("酷狗音乐", "酷狗"),
    "kugou music": ("酷狗音乐",),
    "kuwo": ("酷我音乐",),
    "mango tv": ("芒果TV",),
    "51job": ("前程无忧", "前程无忧51Job"),
    "ctrip": ("携程旅行", "携程"),
    "trip.com": ("携程旅行", "携程"),
    "baidu": ("百度",),
    "baidu maps": ("百度地图",),
    "baidu map": ("百度地图",),
    "baidu browser": ("百度浏览器",),
    "toutiao": ("今日头条",),
    "jinri toutiao": ("今日头条",),
    "toutiao lite": ("今日头条极速版",),
    "douyin lite": ("抖音极速版",),
    "kuaishou lite": ("快手极速版",),
    "netease cloud music": ("网易云音乐",),
    "sogou input": ("搜狗输入法",),
    "sogou input method": ("搜狗输入法",),
    "sogou browser": ("搜狗浏览器",),
    "didi": ("滴滴出行",),
    "didi chuxing": ("滴滴出行",),
    "weibo": ("微博",),
    "sina weibo": ("微博",),
    "alipay": ("支付宝",),
    "tmall": ("天猫",),
    "meituan": ("美团",),
    "dianping": ("大众点评",),
    "youku": ("优酷视频", "优酷"),
    "bilibili": ("哔哩哔哩",),
    "zhihu": ("知乎",),
    "keep": ("Keep",),
}
"""English press name (case-folded, single spaces) -> the Chinese names notices list it under."""


def english_key(name: str) -> str:
    """How a name is looked up in :data:`ENGLISH_TO_CHINESE`: NFKC, case-folded, one space
    between words, without a trailing "app"."""
    text = " ".join(unicodedata.normalize("NFKC", name).casefold().split())
    return text.removesuffix(" app").strip()


def chinese_names(name: str) -> tuple[str, ...]:
    """The Chinese names of an app the press names in English; empty when not known."""
    return ENGLISH_TO_CHINESE.get(english_key(name), ())
