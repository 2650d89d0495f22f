from __future__ import annotations

import pytest

from services.ingestor.extract.noise import (
    is_noise_line,
    is_pinyin_annotation,
    strip_inline_noise,
    strip_noise,
    strip_pinyin,
)


@pytest.mark.parametrize(
    ("noisy", "clean"),
    [
        ("應(yīng)用名稱", "應用名稱"),
        ("违（wéi）规收集", "违规收集"),
        ("违(wei2)规使(shi3)用", "违规使用"),
        ("应(ying)用", "应用"),
        ("应用(yīng yòng)商店", "应用商店"),
        ("绿(lǜ)色", "绿色"),
        ("双[shuāng]色球", "双色球"),
    ],
)
def test_pinyin_after_characters_is_removed(noisy: str, clean: str) -> None:
    assert strip_pinyin(noisy) == clean


@pytest.mark.parametrize(
    "kept",
    [
        "抖音（北京微播视界科技有限公司）",
        "QQ(安卓版)",
        "Keep (Android)",
        "星河阅读(V5.2.1)",
        "晴空相机（Sunny Camera）",
        "微信(weixin)",  # two syllables without tones: a romanised name, not a reading
        "快手(Kuaishou)",
        "云盘(iOS)",
        "火锅地图（重庆版）",
        "版本(2)",
    ],
)
def test_real_brackets_stay(kept: str) -> None:
    assert strip_pinyin(kept) == kept


def test_what_counts_as_a_reading() -> None:
    assert is_pinyin_annotation("yīng")
    assert is_pinyin_annotation("zhuang4")
    assert not is_pinyin_annotation("Android")
    assert not is_pinyin_annotation("lite pro")
    assert not is_pinyin_annotation("")


def test_encoding_junk_and_entities_as_text() -> None:
    assert strip_inline_noise("锟斤拷锟斤拷橘子打车") == "橘子打车"
    assert strip_inline_noise("两江\ufffd\ufffd新闻") == "两江新闻"
    assert (
        strip_inline_noise("深圳海豚财务软件有限公司&nbsp;").strip() == "深圳海豚财务软件有限公司"
    )
    assert strip_inline_noise("整改。&amp;nbsp;&#160;").strip() == "整改。"
    assert strip_inline_noise("\ufeff关于") == "关于"


def test_widgets_go_and_the_rest_of_the_line_stays() -> None:
    line = "时间：2024-09-06　来源：重庆市通信管理局　【字体：大 中 小】【打印本页】"
    assert strip_inline_noise(line).strip() == "时间：2024-09-06　来源：重庆市通信管理局"
    assert strip_inline_noise("字号：[大] [中] [小]").strip() == ""
    assert strip_inline_noise("【打印】 【关闭窗口】").strip() == ""
    assert strip_inline_noise("分享到：微信 微博 QQ空间").strip() == ""
    assert strip_inline_noise("扫一扫在手机打开当前页").strip() == ""
    # a sentence that happens to mention sharing is not a widget
    sentence = (
        "擅自向第三方共享，分享到：其他平台的用户数据超过规定范围且未告知用户，违反了相关规定。"
    )
    assert strip_inline_noise(sentence) == sentence


@pytest.mark.parametrize(
    "line",
    [
        "首页 > 新闻中心 > 正文",
        "首页>>通知公告",
        "当前位置：远帆资讯网 >> 科技 >> 互联网",
        "您的位置：山城资讯网 » 政务 » 通报",
        "首頁 > 政務公開 > 通知公告",
    ],
)
def test_navigation_lines(line: str) -> None:
    assert is_noise_line(line)


@pytest.mark.parametrize(
    "line",
    [
        "首页推荐位展示的APP应在显著位置明示收集规则。",
        "重庆市通信管理局关于侵害用户权益行为的APP通报（2024年第4批）",
        "1\t山城打车\t重庆山城出行科技有限公司",
        "",
    ],
)
def test_not_navigation(line: str) -> None:
    assert not is_noise_line(line)


def test_strip_noise_keeps_lines_and_tabs() -> None:
    text = "首页 > 正文\n标题\n序号\t应(ying)用名称\t\t版本\n分享到："
    assert strip_noise(text) == "\n标题\n序号\t应用名称\t\t版本\n"


def test_markup_mode_leaves_tags_and_entities() -> None:
    html = '<p>违(wéi)规&nbsp;</p><div>首页 &gt; 正文</div><a href="#">分享到：微博</a>'
    assert strip_noise(html, markup=True) == (
        '<p>违规&nbsp;</p><div>首页 &gt; 正文</div><a href="#">分享到：微博</a>'
    )


def test_readings_that_open_a_sentence_or_lost_their_brackets() -> None:
    assert strip_pinyin("關(Guān)於通報") == "關於通報"
    assert strip_pinyin("應yīng用名稱") == "應用名稱"
    # letters without tone marks between characters are words, not readings
    assert strip_pinyin("下载app应用") == "下载app应用"
    assert strip_pinyin("抖音(Douyin)") == "抖音(Douyin)"


@pytest.mark.parametrize(
    "line",
    ["新闻中心 > 通知公告 > 正文", "首页 | 政务公开 | 通知公告", "首页 - 新闻 - 正文"],
)
def test_more_navigation_lines(line: str) -> None:
    assert is_noise_line(line)


def test_entities_escaped_twice_and_quote_mojibake() -> None:
    line = "&ldquo;抖音&rdquo;&amp;mdash;快手 AT&T R&D &foo; â€œ微信â€"
    assert strip_inline_noise(line) == "“抖音”—快手 AT&T R&D &foo; 微信"


def test_navigation_said_in_other_words() -> None:
    assert is_noise_line("您当前的位置：首页 > 正文")
    assert is_noise_line("您当前位置：首页")
