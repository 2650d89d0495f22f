"""What reprint sites add to a notice, taken out before it is read.

- pinyin in brackets after characters: ``應(yīng)用``, ``违(wei2)规``, ``应(ying)用``,
  ``应用(yīng yòng)``; a bracket is pinyin only when every word in it is one pinyin syllable
  (tone marks or a tone digit, or one bare lowercase syllable) and it follows a CJK character,
  so ``抖音（北京微播视界科技有限公司）``, ``QQ(安卓版)``, ``Keep (Android)`` and
  ``版本(V5.2)`` stay;
- encoding junk: runs of U+FFFD, ``锟斤拷``, byte-order marks and zero-width characters,
  Windows-1252 mojibake of quotes (``â€œ``), and HTML entities left as text (``&nbsp;``,
  ``&amp;nbsp;``, ``&#160;`` become spaces; ``&ldquo;`` and ``&amp;mdash;`` their characters);
- page furniture: a site's navigation line (``首页 > 新闻中心 > 正文``, ``当前位置：…``) and its
  widgets (``【字体：大 中 小】``, ``打印本页``, ``【关闭窗口】``, ``分享到：…``,
  ``扫一扫在手机打开当前页``). A widget is removed from its line; the rest of the line (a
  date, a source) stays.

``strip_inline_noise`` cleans one line (or one table cell); ``is_noise_line`` tells a whole line
of page furniture; ``strip_noise`` does both to a text, keeping its lines and tabs.
"""

from __future__ import annotations

import html
import re
import unicodedata

from .lazy_re import lazy

_CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"

# One pinyin syllable once its tone marks are taken off: an optional initial, a vowel run and
# an optional final n/ng/r, with an optional tone digit.
_SYLLABLE = lazy(r"^(?:zh|ch|sh|[bpmfdtnlgkhjqxrzcsyw])?(?:[aeiouv]{1,3})(?:ng|n|r)?[0-5]?$")
_TONE_MARKED = lazy(r"[āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜüńňǹḿ]")
_PINYIN_BRACKET = lazy(
    rf"(?<=[{_CJK}])\s?(?:\((?P<a>[^()（）\[\]\n]{{1,40}})\)|（(?P<b>[^()（）\n]{{1,40}})）"
    rf"|\[(?P<c>[^\[\]\n]{{1,40}})\])"
)


def _bare(word: str) -> str:
    """A pinyin word without its tone marks (ü as v)."""
    decomposed = unicodedata.normalize("NFD", word.replace("ü", "v").replace("Ü", "v"))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def is_pinyin_annotation(text: str) -> bool:
    """Is this bracket's content a reading of the characters before it ("yīng", "wei2",
    "yīng yòng"), rather than a name, a version or a store?"""
    words = text.strip().split()
    if not words or len(words) > 6:
        return False
    marked = False
    for word in words:
        if not re.fullmatch(r"[a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜüńňǹḿ]+[0-5]?", word.lower()):
            return False  # digits inside, CJK, punctuation
        toned = bool(_TONE_MARKED.search(word.lower())) or word[-1].isdigit()
        if word != word.lower() and not (toned and word[1:] == word[1:].lower()):
            return False  # capitals (names), unless a toned syllable opening a sentence
        if not _SYLLABLE.match(_bare(word.lower())):
            return False
        marked = marked or toned
    return marked or len(words) == 1


_BARE_TONED = lazy(
    rf"(?<=[{_CJK}])[a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜü]{{1,6}}(?=[{_CJK}]|$|[，。、；：\s])"
)


def strip_pinyin(text: str) -> str:
    """``應(yīng)用`` -> ``應用``: bracketed pinyin after a CJK character removed, and so is a
    tone-marked syllable written straight after one (ruby flattened by a copy: ``應yīng用``)."""

    def drop(m: re.Match[str]) -> str:
        inner = m["a"] or m["b"] or m["c"] or ""
        return "" if is_pinyin_annotation(inner) else m.group(0)

    def drop_bare(m: re.Match[str]) -> str:
        word = m.group(0)
        toned = _TONE_MARKED.search(word) is not None
        return "" if toned and is_pinyin_annotation(word) else word

    return _BARE_TONED.sub(drop_bare, _PINYIN_BRACKET.sub(drop, text))


_SPACE_ENTITIES = lazy(r"&(?:amp;)*(?:nbsp|ensp|emsp|thinsp|#160|#xa0|#12288|#x3000);?", re.I)
_ENTITIES = lazy(r"&(?:amp;)*(?P<entity>[a-z]{2,8}|#\d{2,6}|#x[0-9a-f]{2,5});", re.I)
# Junk: replacement characters, "锟斤拷" (U+FFFD written as GBK and read back), invisible marks,
# and Windows-1252 mojibake of curly quotes and dashes ("â€œ").
_JUNK = lazy(r"(?:锟斤拷)+|\ufffd+|[\ufeff\u200b\u200c\u200d\u2060]|â€[\x80-\xbf\u0152-\u2122]?")


def _unescape(m: re.Match[str]) -> str:
    entity = f"&{m['entity']};"
    plain = html.unescape(entity)
    return m.group(0) if plain == entity else plain


_WIDGETS = lazy(
    r"[【\[(（]?\s*(?:字体|字号|文字)\s*[:：]?\s*[【\[]?\s*大\s*[】\]]?\s*[【\[]?\s*中\s*[】\]]?\s*"
    r"[【\[]?\s*小\s*[】\]]?\s*[】\])）]?"
    r"|[【\[]\s*(?:我要)?(?:打印|关闭|關閉|收藏|纠错|糾錯|返回顶部|返回頂部|顶部|頂部|分享|关闭窗口|關閉窗口|"
    r"打印本页|打印本頁|打印此页|打印此頁)\s*[】\]]"
    r"|(?:打印本页|打印本頁|打印此页|打印此頁|关闭窗口|關閉窗口|关闭本页|關閉本頁|"
    r"扫一扫在手机打开当前页|掃一掃在手機打開當前頁|返回顶部|返回頂部)"
)
_SHARE = lazy(r"分享(?:到|至)\s*[:：]\s*(?P<rest>.*)$")
_NAV_START = lazy(
    r"^\s*(?:您?当前(?:的)?位置|您?當前(?:的)?位置|您的位置|您现在的位置|您現在的位置|所在位置|"
    r"现在位置|位置)\s*[:：]"
)
_NAV_SEPARATOR = lazy(r"\s*(?:>>?|＞＞?|»|›|→|->|/|\\|\s-\s|\||｜)\s*")
_NAV_HOME = lazy(
    r"^\s*(?:首页|首頁|网站首页|網站首頁|主页|主頁|Home)\s*(?:>|＞|»|›|→|/|-|\||｜)", re.I
)
_NAV_CHAIN = lazy(r"(?:>>?|＞＞?|»|›|→)")


def is_noise_line(line: str) -> bool:
    """A site's navigation line ("首页 > 新闻中心 > 正文", "当前位置：…")?"""
    stripped = line.strip()
    if not stripped or len(stripped) > 80 or "。" in stripped:
        return False
    if _NAV_START.match(stripped):
        return True
    parts = [part for part in _NAV_SEPARATOR.split(stripped) if part]
    if _NAV_HOME.match(stripped):
        return all(len(part) <= 20 for part in parts)
    # "新闻中心 > 通知公告 > 正文": a chain of short section names
    return len(_NAV_CHAIN.findall(stripped)) >= 2 and all(len(part) <= 12 for part in parts)


# A character every kind of inline noise contains: most lines have none and are left alone.
_MAYBE_NOISE = lazy(
    r"[&(（\[【锟\ufffd\ufeff\u200b\u200c\u200d\u2060âāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜü]"
    r"|打印|关闭|關閉|扫一扫|掃一掃|返回|字体|字號|字号|文字|分享"
)


def strip_inline_noise(line: str) -> str:
    """One line or table cell without pinyin annotations, encoding junk and page widgets."""
    if not _MAYBE_NOISE.search(line):
        return line
    line = _SPACE_ENTITIES.sub(" ", line)
    line = _ENTITIES.sub(_unescape, line)  # escaped twice by a reprint: "&amp;ldquo;"
    line = _JUNK.sub("", line)
    line = strip_pinyin(line)
    line = _WIDGETS.sub(" ", line)
    share = _SHARE.search(line)
    if share and len(share["rest"]) <= 40 and "。" not in share["rest"]:
        line = line[: share.start()]
    return line


def strip_noise(text: str, *, markup: bool = False) -> str:
    """A text without reprint noise: navigation lines dropped (their place left blank, so line
    numbers hold), every other line cleaned inline; tabs are kept.

    With ``markup`` (an HTML page before it is parsed) only pinyin annotations and encoding
    junk go: entities, widgets and navigation are taken out of the page's text lines
    (``clean_line``, ``entities_html.html_to_text``), where tags no longer get in the way.
    """
    if markup:
        return strip_pinyin(_JUNK.sub("", text))
    lines: list[str] = []
    for line in text.split("\n"):
        if is_noise_line(line):
            lines.append("")
            continue
        cleaned = strip_inline_noise(line)
        lines.append(cleaned if cleaned.strip() or not line.strip() else "")
    return "\n".join(lines)
