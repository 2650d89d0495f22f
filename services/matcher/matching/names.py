"""Name normalization for matching app and company names across scripts and spellings.

Everything here is pure and cached: the same few thousand names are normalized over and over.

- :func:`normalize` folds width, case and script (traditional -> simplified) and drops
  whitespace and punctuation: ``ＱＱ``, ``qq`` and ``Q Q`` are all ``qq``; ``騰訊`` is ``腾讯``.
- :func:`pinyin_key` romanizes the Chinese characters of a name (``抖音`` -> ``douyin``).
- :func:`normalize_pinyin` folds pinyin *typed by a user* (``Dou Yin``, ``dǒuyīn``,
  ``dou3yin1``) to the same form as :func:`pinyin_key`.
- :func:`company_core` strips region words and legal-form / industry words from a company name
  (``深圳市腾讯计算机系统有限公司`` -> ``腾讯``).
- :func:`strip_qualifiers` removes trailing bracketed platform / version / operator notes from
  an app name (``微信（安卓版）`` -> ``微信``) but keeps edition words (``抖音（极速版）`` stays a
  different app).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import Any, NamedTuple

import opencc
from opencc import OpenCC

__all__ = [
    "QualifiedName",
    "company_core",
    "fold",
    "has_cjk",
    "normalize",
    "normalize_pinyin",
    "pinyin_key",
    "roman_key",
    "simplified",
    "split_companies",
    "strip_qualifiers",
]

_CACHE = 8192  # names are kept prepared by their users (the index); this serves repeats
_T2S = OpenCC("t2s")

_CJK_RE = re.compile(
    "[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ffff\U00030000-\U0003134f]"
)


def has_cjk(text: str) -> bool:
    """True when ``text`` contains at least one Chinese (CJK unified) character."""
    return _CJK_RE.search(text) is not None


def _keep(ch: str) -> bool:
    # letters (Latin, CJK = Lo, kana ...) and digits; drops punctuation, symbols, spaces, controls
    cat = unicodedata.category(ch)
    return cat[0] in ("L", "N")


@lru_cache(maxsize=_CACHE)
def fold(name: str) -> str:
    """NFKC + lower-case + drop everything but letters and digits, *without* script conversion.

    Used to tell a plain normalization match (``ＱＱ`` = ``QQ``) from a traditional/simplified
    one (``騰訊`` = ``腾讯``).
    """
    text = unicodedata.normalize("NFKC", name).lower()
    return "".join(filter(str.isalnum, text))


def _t2s_triggers() -> frozenset[str] | None:
    """Characters whose presence can make OpenCC's t2s conversion change a text.

    The characters OpenCC's t2s tables convert (single characters, and the characters phrases
    replace). A text with none of them converts to itself, so the (slow) conversion is skipped.
    None when the tables cannot be read: then every text with Chinese characters is converted.
    """
    folder = Path(opencc.__file__).resolve().parent / "dictionary"
    triggers: set[str] = set()
    try:
        for table in ("TSCharacters.txt", "TSPhrases.txt"):
            for line in (folder / table).read_text(encoding="utf-8").splitlines():
                key, _, value = line.partition("\t")
                target = value.split(" ")[0]
                if len(key) == 1:
                    if key != target:
                        triggers.add(key)
                    continue
                for a, b in zip(key, target, strict=False):
                    if a != b:
                        triggers.add(a)
                if len(key) != len(target):
                    triggers.update(key)
    except OSError:
        return None
    return frozenset(triggers)


_T2S_TRIGGERS = _t2s_triggers()


@lru_cache(maxsize=_CACHE)
def _simplify(text: str) -> str:
    if not has_cjk(text):
        return text
    if _T2S_TRIGGERS is not None and _T2S_TRIGGERS.isdisjoint(text):
        return text
    out: str = _T2S.convert(text)
    return out


def simplified(text: str) -> str:
    """``text`` in NFKC and simplified script, otherwise as written (case, spaces, brackets)."""
    return _simplify(unicodedata.normalize("NFKC", text))


@lru_cache(maxsize=_CACHE)
def normalize(name: str) -> str:
    """Canonical comparison form of a name.

    NFKC (full-width letters, digits and brackets -> ASCII), lower-case, traditional ->
    simplified Chinese, then only letters (including CJK) and digits are kept.

    >>> normalize("ＱＱ 閱讀")
    'qq阅读'
    """
    return _simplify(fold(name))


class _Pypinyin(NamedTuple):
    lazy_pinyin: Callable[..., list[str]]
    normal: Any
    phrases: dict[str, Any]
    readings: dict[int, str]
    phrase_sizes: range


@cache
def _pypinyin() -> _Pypinyin:
    """pypinyin and its dictionaries, loaded on the first name read (about a second of CPU,
    which every ``regwatch run`` paid at start before)."""
    from pypinyin import Style, lazy_pinyin
    from pypinyin.phrases_dict import phrases_dict
    from pypinyin.pinyin_dict import pinyin_dict

    sizes = range(2, 1 + max(len(p) for p in phrases_dict))
    return _Pypinyin(lazy_pinyin, Style.NORMAL, phrases_dict, pinyin_dict, sizes)


@lru_cache(maxsize=1 << 16)
def _char_pinyin(char: str) -> str:
    py = _pypinyin()
    return "".join(py.lazy_pinyin(char, style=py.normal))


def _in_a_phrase(text: str, pos: int) -> bool:
    """True when a phrase of pypinyin's dictionary covers ``text[pos]``."""
    py = _pypinyin()
    phrases = py.phrases
    for size in py.phrase_sizes[: max(0, len(text) - 1)]:  # phrases no longer than the text
        for start in range(max(0, pos - size + 1), min(pos, len(text) - size) + 1):
            if text[start : start + size] in phrases:
                return True
    return False


def _pinyin(text: str) -> str:
    """Toneless pinyin of ``text``, as pypinyin reads it.

    Character by character (fast) unless a character with several readings sits inside a
    phrase pypinyin knows (then its phrase-aware reading, which picks the phrase's one).
    Outside phrases pypinyin reads every character by its first reading, as done here.
    """
    py = _pypinyin()
    for pos, ch in enumerate(text):
        readings = py.readings.get(ord(ch))
        if readings is not None and "," in readings and _in_a_phrase(text, pos):
            return "".join(py.lazy_pinyin(text, style=py.normal))
    return "".join(_char_pinyin(ch) if ord(ch) in py.readings else ch for ch in text)


@lru_cache(maxsize=_CACHE)
def pinyin_key(name: str) -> str | None:
    """Toneless pinyin, without separators, of the name's Chinese characters.

    Non-Chinese letters and digits are kept as they are (``芒果TV`` -> ``mangguotv``,
    ``360 浏览器`` -> ``360liulanqi``); ``ü`` is written ``v`` as pypinyin does (``旅`` -> ``lv``).
    Returns None when the name has no Chinese character. Polyphonic characters get the single
    reading pypinyin picks from its phrase dictionary.
    """
    norm = normalize(name)
    if not has_cjk(norm):
        return None
    return _pinyin(norm)


# a run of letters ending like a pinyin syllable (vowel, n, ng, r), then a tone digit 0-5
_TONE_DIGIT_RE = re.compile(r"(?<=[aeiouvnrg])[0-5](?![0-9])")
_PINYIN_INPUT_RE = re.compile(r"[a-z]+(?:[0-5][a-z]+)*[0-5]?")


@lru_cache(maxsize=_CACHE)
def normalize_pinyin(text: str) -> str | None:
    """Fold romanized input to the form :func:`pinyin_key` produces.

    ``Dou Yin``, ``dǒuyīn`` and ``dou3yin1`` -> ``douyin``; ``lǚxíng`` and ``lüxing`` ->
    ``lvxing``. Tone digits are only removed when the whole input looks like numbered pinyin
    (letters each optionally followed by one digit 0-5 after a vowel, n, g or r), so ``51job`` and
    ``mp3`` keep their digits. Returns None when ``text`` contains Chinese characters (use
    :func:`pinyin_key`) or nothing is left.
    """
    if has_cjk(text):
        return None
    decomposed = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", text).lower())
    decomposed = decomposed.replace("u\u0308", "v")
    plain = "".join(ch for ch in decomposed if _keep(ch))
    if any(ch.isdigit() for ch in plain) and _PINYIN_INPUT_RE.fullmatch(plain):
        stripped = _TONE_DIGIT_RE.sub("", plain)
        if not any(ch.isdigit() for ch in stripped):
            plain = stripped
    return plain or None


def roman_key(name: str) -> str | None:
    """:func:`pinyin_key` for names with Chinese characters, else :func:`normalize_pinyin`."""
    return pinyin_key(name) if has_cjk(name) else normalize_pinyin(name)


# --- app name qualifiers ---------------------------------------------------------------------

_OPEN = "([【〔〖"
_CLOSE = ")]】〕〗"


def _trailing_bracket(text: str) -> tuple[str, str] | None:
    """(base, inner) when ``text`` ends with a bracketed part (brackets may nest:
    ``小红书（行吟信息科技（上海）有限公司）``), else None."""
    text = text.rstrip()
    if not text or text[-1] not in _CLOSE:
        return None
    depth = 0
    for pos in range(len(text) - 1, -1, -1):
        ch = text[pos]
        if ch in _CLOSE:
            depth += 1
        elif ch in _OPEN:
            depth -= 1
            if depth == 0:
                return text[:pos].strip(), text[pos + 1 : -1].strip()
    return None


_PLATFORM_RE = re.compile(
    r"(?:android|安卓|ios|iphone|苹果|鸿蒙|harmonyos|harmony)\s*(?:版|端|客户端|version|app)?",
    re.IGNORECASE,
)
_VERSION_RE = re.compile(r"(?:v|ver\.?|version|版本)?\s*\d+(?:\.\d+)+[\w.\-/ ]*", re.IGNORECASE)
# notes that say nothing about which app it is: （App）, （客户端）, （官方版）
_GENERIC_NOTE_RE = re.compile(
    r"app|客户端|手机客户端|手机版|移动版|官方版|正式版|最新版", re.IGNORECASE
)
# the same words written after the name without brackets: 抖音APP, Soul App (not WhatsApp)
_TRAILING_APP_RE = re.compile(
    r"^(?P<base>.*?[\u3400-\u9fff\s)）》」』])\s*(?P<note>app|客户端|手机客户端)\s*$", re.IGNORECASE
)
_COMPANY_TAIL_RE = re.compile(
    r"(?:公司|集团|co\.?,?\s*ltd\.?|ltd\.?|limited|inc\.?|corp\.?|corporation|llc)$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class QualifiedName:
    """An app name split from the bracketed notes that follow it."""

    base: str
    qualifiers: tuple[str, ...] = ()
    operator: str | None = None


@lru_cache(maxsize=_CACHE)
def strip_qualifiers(name: str) -> QualifiedName:
    """Split trailing bracketed *non-identity* notes off an app name.

    Removed (same app): platform notes (``（安卓版）``, ``(iOS)``, ``（鸿蒙版）``), version notes
    (``（V5.5.11）``), notes that say nothing (``（客户端）``, ``（官方版）``, a trailing ``APP``
    after Chinese or a space: ``抖音APP``, ``Soul App``, but not ``WhatsApp``) and an operator in
    brackets, as CAC lists write them (``抖音（北京微播视界科技有限公司）``; returned as
    ``operator``).

    Kept (different app): edition words such as ``（极速版）``, ``(Lite)``, ``（HD）``,
    ``（国际版）`` - ``抖音（极速版）`` is its own app, with its own store listing.
    """
    text = unicodedata.normalize("NFKC", name).strip()
    qualifiers: list[str] = []
    operator: str | None = None
    while True:
        tail = _TRAILING_APP_RE.match(text)
        if tail is not None and fold(tail.group("base")):
            qualifiers.append(tail.group("note"))
            text = tail.group("base").strip()
            continue
        split = _trailing_bracket(text)
        if split is None:
            break
        base, inner = split
        if not base or not fold(base):
            break
        if (
            _PLATFORM_RE.fullmatch(inner)
            or _VERSION_RE.fullmatch(inner)
            or _GENERIC_NOTE_RE.fullmatch(inner)
        ):
            qualifiers.append(inner)
        elif _COMPANY_TAIL_RE.search(inner) and len(fold(inner)) >= 4:
            if operator is not None:
                break
            operator = inner
        else:
            break
        text = base
    if not qualifiers and operator is None:
        return QualifiedName(base=name)
    return QualifiedName(base=text, qualifiers=tuple(reversed(qualifiers)), operator=operator)


# --- company names -------------------------------------------------------------------------


def _words(text: str) -> list[str]:
    return text.split()


_PROVINCES = _words(
    "北京 天津 上海 重庆 河北 山西 辽宁 吉林 黑龙江 江苏 浙江 安徽 福建 江西 山东 河南 湖北 湖南 "
    "广东 海南 四川 贵州 云南 陕西 甘肃 青海 台湾 内蒙古 广西 西藏 宁夏 新疆 香港 澳门"
)
_CITIES = _words(
    "深圳 广州 杭州 南京 苏州 成都 武汉 西安 长沙 厦门 福州 青岛 济南 合肥 郑州 东莞 佛山 珠海 "
    "宁波 无锡 大连 沈阳 哈尔滨 长春 昆明 贵阳 南昌 南宁 海口 三亚 石家庄 太原 呼和浩特 兰州 银川 "
    "西宁 乌鲁木齐 拉萨 温州 绍兴 嘉兴 金华 常州 徐州 扬州 烟台 潍坊 泉州 汕头 惠州 江门 抚州 "
    "赣州 九江 芜湖 洛阳 宜昌 襄阳 株洲 衡阳 桂林 柳州 绵阳 遵义 保定 唐山 廊坊 天津滨海"
)
_AUTONOMOUS = (
    "内蒙古自治区",
    "广西壮族自治区",
    "西藏自治区",
    "宁夏回族自治区",
    "新疆维吾尔自治区",
    "香港特别行政区",
    "澳门特别行政区",
)
_REGION_WORDS = sorted(
    [
        *_AUTONOMOUS,
        *(p + "省" for p in _PROVINCES),
        *(c + "市" for c in [*_PROVINCES, *_CITIES]),
        *_PROVINCES,
        *_CITIES,
    ],
    key=len,
    reverse=True,
)
# regions also accepted inside brackets or at the end: the country itself
_BRACKET_REGIONS = [*_REGION_WORDS, "中国"]
# English region words stripped from the front of a company name ("Shanghai Ctrip Commerce")
_EN_LEADING_REGIONS = frozenset(
    _words(
        "beijing shanghai shenzhen guangzhou hangzhou tianjin chongqing nanjing chengdu "
        "wuhan xiamen suzhou fuzhou xian changsha qingdao jinan hefei zhengzhou dongguan zhuhai "
        "ningbo dalian shenyang kunming guiyang anhui hunan hubei guangdong zhejiang jiangsu "
        "fujian shandong sichuan"
    )
)
# ... and from the end or in brackets, where the country is a region too ("Microsoft (China)")
_EN_REGIONS = _EN_LEADING_REGIONS | {"china", "prc", "hongkong"}
_BRACKET_REGION_RE = re.compile(
    r"[(\[【〔]\s*(?:"
    + "|".join(re.escape(r) for r in _BRACKET_REGIONS)
    + "|hong\\s*kong|"
    + "|".join(sorted(_EN_REGIONS, key=len, reverse=True))
    + r")\s*[)\]】〕]"
)

# legal forms and industry words, longest first; stripped repeatedly from the end
_ZH_SUFFIXES = sorted(
    _words(
        "有限责任公司 股份有限公司 股份公司 有限公司 有限责任 分公司 公司 集团 控股 股份 "
        "计算机系统 计算机技术 计算机科技 计算机 信息技术 网络技术 信息科技 网络科技 数码科技 "
        "数字科技 教育科技 环保科技 科技发展 技术发展 技术服务 信息服务 生活服务 "
        "科技 网络 技术 信息 软件 电子商务 商务 文化传媒 文化传播 文化发展 文化 传媒 传播 "
        "互动娱乐 娱乐 影视文化 影视 新媒体 媒体 广告 小额贷款 互联网 互联 在线 数码 数字 "
        "通信 教育 咨询 发展 贸易 商贸 智能 云计算 人工智能 基础技术研究 研究 "
        "供应链管理 酒店管理 管理 房地产经纪 旧机动车经纪 经纪 电子 服务"
    ),
    key=len,
    reverse=True,
)
_EN_SUFFIXES = frozenset(
    _words(
        "co company ltd limited inc incorporated corp corporation holdings holding group "
        "technology technologies tech network networks networking information software commerce "
        "ecommerce e plc llc owned subsidiary the online internet computer computers system "
        "systems science sciences service services digital culture cultural media new "
        "communication communications telecommunications interactive entertainment trading "
        "trade development consulting education educational web intelligent cloud data and "
        "payment payments electronic electronics management supply chain real estate brokerage "
        "motors device devices travel international "
        # romanized legal forms: Beijing Kuaishou Keji Youxian Gongsi
        "gongsi youxian youxiangongsi keji wangluo xinxi jishu jituan gufen"
    )
)
# cores too generic to stand alone: keep the region word then (北京银行 is not 上海银行)
_GENERIC_CORES = frozenset(
    _words(
        "银行 农商银行 农村商业银行 商业银行 证券 保险 人寿 财险 航空 电信 移动 联通 "
        "地铁 公交 医院 日报 晚报 广播电视 电视台 燃气 电力 水务 烟草 邮政 银联 出租车 交通"
    )
)


def _by_length(words: list[str]) -> tuple[tuple[int, frozenset[str]], ...]:
    lengths = sorted({len(w) for w in words}, reverse=True)
    return tuple((n, frozenset(w for w in words if len(w) == n)) for n in lengths)


_ZH_SUFFIXES_BY_LENGTH = _by_length(_ZH_SUFFIXES)
_BRACKET_REGIONS_BY_LENGTH = _by_length(_BRACKET_REGIONS)
_REGION_WORDS_BY_LENGTH = _by_length(_REGION_WORDS)


def _strip_tail(core: str, table: tuple[tuple[int, frozenset[str]], ...]) -> str | None:
    """``core`` without its longest ending in ``table`` (2+ characters left), or None."""
    for size, words in table:
        if len(core) - size >= 2 and core[-size:] in words:
            return core[:-size]
    return None


def _strip_zh_suffixes(core: str) -> str:
    """Repeatedly strip legal-form/industry words, else a region, from the end."""
    while True:
        shorter = _strip_tail(core, _ZH_SUFFIXES_BY_LENGTH)
        if shorter is None:
            shorter = _strip_tail(core, _BRACKET_REGIONS_BY_LENGTH)
        if shorter is None:
            return core
        core = shorter


def _strip_zh_prefix(core: str) -> str:
    for size, words in _REGION_WORDS_BY_LENGTH:
        if len(core) - size >= 2 and core[:size] in words:
            return core[size:]
    return core


def _zh_core(text: str) -> str:
    plain = normalize(text)
    with_region = _strip_zh_suffixes(plain)
    without_region = _strip_zh_suffixes(_strip_zh_prefix(plain))
    if without_region in _GENERIC_CORES or len(without_region) < 2:
        return with_region
    return without_region


def latin_tokens(text: str) -> list[str]:
    """Lower-case Latin/digit words of ``text`` (NFKC; accents kept, punctuation dropped)."""
    folded = unicodedata.normalize("NFKC", text).lower().replace("&", " and ")
    return [t for t in re.split(r"[^0-9a-z\u00c0-\u024f]+", folded) if t]


def _en_core_tokens(text: str) -> list[str]:
    tokens = latin_tokens(text)
    changed = True
    while changed and len(tokens) > 1:
        changed = False
        if tokens[-2] in ("of", "for"):  # Bank of China, Bank of Communications
            break
        if tokens[-1] in _EN_SUFFIXES or tokens[-1] in _EN_REGIONS:
            if all(t in _EN_REGIONS for t in tokens[:-1]):
                break  # China Media Group stays china media, not china
            tokens.pop()
            changed = True
        elif tokens[0] in _EN_LEADING_REGIONS or tokens[0] == "the":
            tokens.pop(0)
            changed = True
    return tokens


def _en_core(text: str) -> str:
    return normalize("".join(_en_core_tokens(text)))


@lru_cache(maxsize=_CACHE)
def company_core_tokens(name: str) -> tuple[str, ...]:
    """The words of :func:`company_core` for a name without Chinese characters (else ``()``).

    ``Baidu Online Network Technology (Beijing) Co., Ltd.`` -> ``("baidu",)``;
    ``Beijing Baidu Netcom Science and Technology Co., Ltd.`` -> ``("baidu", "netcom")``.
    """
    text = _simplify(unicodedata.normalize("NFKC", name).lower())
    if has_cjk(text):
        return ()
    return tuple(_en_core_tokens(_BRACKET_REGION_RE.sub(" ", text)))


@lru_cache(maxsize=_CACHE)
def company_core(name: str) -> str:
    """The distinctive part of a company name.

    Normalizes (as :func:`normalize`), removes bracketed regions anywhere (``（深圳）``,
    ``(China)``), a leading region (``深圳市``, ``北京``, ``广东省``; English ``Shanghai``) and
    repeatedly the trailing legal-form and industry words (``有限公司``, ``股份有限公司``,
    ``集团``, ``科技``, ``网络``, ``信息技术``, ``计算机系统`` ...; ``Co., Ltd``, ``Inc``,
    ``Holdings``, ``Group``, ``Technology`` ...). Never strips down to less than two characters,
    and keeps the region when what is left is generic (``北京银行`` stays ``北京银行``).

    >>> company_core("深圳市腾讯计算机系统有限公司"), company_core("腾讯科技（深圳）有限公司")
    ('腾讯', '腾讯')
    """
    text = unicodedata.normalize("NFKC", name).lower()
    text = _simplify(text)
    text = _BRACKET_REGION_RE.sub(" ", text)
    core = _zh_core(text) if has_cjk(text) else _en_core(text)
    return core or normalize(name)


_COMPANY_SEP_RE = re.compile(r"\s*(?:/|、|;|；|\||\n|，(?=[^，]*(?:公司|集团)))\s*")


def split_companies(text: str) -> list[str]:
    """Split a developer cell listing several companies (``A公司/B公司``, ``A、B``).

    ASCII commas are not separators (``Co.,Ltd``).
    """
    parts = [p.strip() for p in _COMPANY_SEP_RE.split(text)]
    return [p for p in parts if p and fold(p)]
