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
from dataclasses import dataclass
from functools import lru_cache

from opencc import OpenCC
from pypinyin import Style, lazy_pinyin

__all__ = [
    "QualifiedName",
    "company_core",
    "fold",
    "has_cjk",
    "normalize",
    "normalize_pinyin",
    "pinyin_key",
    "roman_key",
    "split_companies",
    "strip_qualifiers",
]

_CACHE = 65536
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
    return "".join(ch for ch in text if _keep(ch))


@lru_cache(maxsize=_CACHE)
def _simplify(text: str) -> str:
    if not has_cjk(text):
        return text
    out: str = _T2S.convert(text)
    return out


@lru_cache(maxsize=_CACHE)
def normalize(name: str) -> str:
    """Canonical comparison form of a name.

    NFKC (full-width letters, digits and brackets -> ASCII), lower-case, traditional ->
    simplified Chinese, then only letters (including CJK) and digits are kept.

    >>> normalize("ＱＱ 閱讀")
    'qq阅读'
    """
    return _simplify(fold(name))


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
    return "".join(lazy_pinyin(norm, style=Style.NORMAL))


# a run of letters ending like a pinyin syllable (vowel, n, ng, r), then a tone digit 0-5
_TONE_DIGIT_RE = re.compile(r"(?<=[aeiouvnrg])[0-5](?![0-9])")
_PINYIN_INPUT_RE = re.compile(r"(?:[a-z]+[0-5]?)+")


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
    if _PINYIN_INPUT_RE.fullmatch(plain) and any(ch.isdigit() for ch in plain):
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
_TRAILING_BRACKET_RE = re.compile(
    rf"^(?P<base>.*?)\s*[{re.escape(_OPEN)}](?P<inner>[^{re.escape(_OPEN + _CLOSE)}]*)"
    rf"[{re.escape(_CLOSE)}]\s*$",
    re.DOTALL,
)
_PLATFORM_RE = re.compile(
    r"(?:android|安卓|ios|iphone|苹果|鸿蒙|harmonyos|harmony)\s*(?:版|端|客户端|version|app)?",
    re.IGNORECASE,
)
_VERSION_RE = re.compile(r"(?:v|ver\.?|version|版本)?\s*\d+(?:\.\d+)+[\w.\-/ ]*", re.IGNORECASE)
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
    (``（V5.5.11）``) and an operator in brackets, as CAC lists write them
    (``抖音（北京微播视界科技有限公司）``; returned as ``operator``).

    Kept (different app): edition words such as ``（极速版）``, ``(Lite)``, ``（HD）``,
    ``（国际版）`` - ``抖音（极速版）`` is its own app, with its own store listing.
    """
    text = unicodedata.normalize("NFKC", name).strip()
    qualifiers: list[str] = []
    operator: str | None = None
    while True:
        m = _TRAILING_BRACKET_RE.match(text)
        if m is None:
            break
        base, inner = m.group("base").strip(), m.group("inner").strip()
        if not base or not fold(base):
            break
        if _PLATFORM_RE.fullmatch(inner) or _VERSION_RE.fullmatch(inner):
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
_EN_REGIONS = frozenset(
    _words(
        "china prc beijing shanghai shenzhen guangzhou hangzhou tianjin chongqing nanjing chengdu "
        "wuhan xiamen suzhou fuzhou xian changsha qingdao jinan hefei zhengzhou dongguan zhuhai "
        "ningbo dalian shenyang kunming guangdong zhejiang jiangsu fujian"
    )
)
_BRACKET_REGION_RE = re.compile(
    r"[(\[【〔]\s*(?:"
    + "|".join(re.escape(r) for r in _BRACKET_REGIONS)
    + "|"
    + "|".join(sorted(_EN_REGIONS, key=len, reverse=True))
    + r")\s*[)\]】〕]"
)

# legal forms and industry words, longest first; stripped repeatedly from the end
_ZH_SUFFIXES = sorted(
    _words(
        "有限责任公司 股份有限公司 股份公司 有限公司 分公司 公司 集团 控股 股份 "
        "计算机系统 计算机技术 计算机科技 信息技术 网络技术 信息科技 网络科技 "
        "科技 网络 技术 信息 软件 电子商务 商务 文化传媒 传媒 小额贷款 互联网"
    ),
    key=len,
    reverse=True,
)
_EN_SUFFIXES = frozenset(
    _words(
        "co company ltd limited inc incorporated corp corporation holdings holding group "
        "technology technologies tech network networks information software commerce plc llc "
        "owned subsidiary the"
    )
)
# cores too generic to stand alone: keep the region word then (北京银行 is not 上海银行)
_GENERIC_CORES = frozenset(
    _words(
        "银行 农商银行 农村商业银行 商业银行 证券 保险 人寿 财险 航空 电信 移动 联通 "
        "地铁 公交 医院 日报 晚报 广播电视 电视台 燃气 电力 水务 烟草 邮政 银联 出租车 交通"
    )
)


def _strip_zh_suffixes(core: str) -> str:
    changed = True
    while changed:
        changed = False
        for suffix in _ZH_SUFFIXES:
            if core.endswith(suffix) and len(core) - len(suffix) >= 2:
                core = core[: -len(suffix)]
                changed = True
                break
        else:
            for region in _BRACKET_REGIONS:
                if core.endswith(region) and len(core) - len(region) >= 2:
                    core = core[: -len(region)]
                    changed = True
                    break
    return core


def _strip_zh_prefix(core: str) -> str:
    for region in _REGION_WORDS:
        if core.startswith(region) and len(core) - len(region) >= 2:
            return core[len(region) :]
    return core


def _zh_core(text: str) -> str:
    plain = normalize(text)
    with_region = _strip_zh_suffixes(plain)
    without_region = _strip_zh_suffixes(_strip_zh_prefix(plain))
    if without_region in _GENERIC_CORES or len(without_region) < 2:
        return with_region
    return without_region


def _en_core(text: str) -> str:
    tokens = [t for t in re.split(r"[^0-9a-z\u00c0-\u024f]+", text) if t]
    changed = True
    while changed and len(tokens) > 1:
        changed = False
        if tokens[-1] in _EN_SUFFIXES or tokens[-1] in _EN_REGIONS:
            tokens.pop()
            changed = True
        elif tokens[0] in _EN_REGIONS or tokens[0] == "the":
            tokens.pop(0)
            changed = True
    return normalize("".join(tokens))


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
