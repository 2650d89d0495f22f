"""Which regulator published a notice.

The publisher is decided by where a regulator is named, not by how often: the title, a line
that is just an organisation name (the signature block or a letterhead), a "来源/发布机构" marker
and the first lines weigh most; mentions in the body ("根据工业和信息化部工作部署") and in a title
that relays another's list ("关于国家网络安全通报中心通报的…") weigh little. So a provincial
通信管理局 that signs its notice wins over the ministry it quotes, and a market regulator that
relays 国家网络安全通报中心's list is the publisher.

Codes: ``CAC``, ``MIIT``, ``MPS``, ``SAMR`` for the national bodies; provincial offices get the
national code and the province in pinyin: ``CA-<PROVINCE>`` (通信管理局), ``CAC-<PROVINCE>``
(省委网信办 / 省互联网信息办公室), ``SAMR-<PROVINCE>`` (省/市市场监督管理局), ``MPS-<PROVINCE>``
(省公安厅, the four municipalities' 公安局).

An issuer regwatch does not know (a county bureau, a city office, an industry association) never
stops a notice: ``identify_issuer`` keeps it as printed in the signature or the title, with the
code ``OTHER`` and ``recognised`` false.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from shared.errors import InputError
from shared.events import Regulator

from .dates import ORG_END, find_dates, find_months
from .lazy_re import lazy
from .textutil import clean_line, fold_width, nonempty_lines

# province -> (pinyin code, full name prefix as the 通信管理局 writes it)
PROVINCES: dict[str, tuple[str, str]] = {
    "北京": ("BEIJING", "北京市"),
    "天津": ("TIANJIN", "天津市"),
    "河北": ("HEBEI", "河北省"),
    "山西": ("SHANXI", "山西省"),
    "内蒙古": ("NEIMENGGU", "内蒙古自治区"),
    "辽宁": ("LIAONING", "辽宁省"),
    "吉林": ("JILIN", "吉林省"),
    "黑龙江": ("HEILONGJIANG", "黑龙江省"),
    "上海": ("SHANGHAI", "上海市"),
    "江苏": ("JIANGSU", "江苏省"),
    "浙江": ("ZHEJIANG", "浙江省"),
    "安徽": ("ANHUI", "安徽省"),
    "福建": ("FUJIAN", "福建省"),
    "江西": ("JIANGXI", "江西省"),
    "山东": ("SHANDONG", "山东省"),
    "河南": ("HENAN", "河南省"),
    "湖北": ("HUBEI", "湖北省"),
    "湖南": ("HUNAN", "湖南省"),
    "广东": ("GUANGDONG", "广东省"),
    "广西": ("GUANGXI", "广西壮族自治区"),
    "海南": ("HAINAN", "海南省"),
    "重庆": ("CHONGQING", "重庆市"),
    "四川": ("SICHUAN", "四川省"),
    "贵州": ("GUIZHOU", "贵州省"),
    "云南": ("YUNNAN", "云南省"),
    "西藏": ("XIZANG", "西藏自治区"),
    "陕西": ("SHAANXI", "陕西省"),
    "甘肃": ("GANSU", "甘肃省"),
    "青海": ("QINGHAI", "青海省"),
    "宁夏": ("NINGXIA", "宁夏回族自治区"),
    "新疆": ("XINJIANG", "新疆维吾尔自治区"),
}
_EN_PROVINCE = {code.capitalize(): key for key, (code, _) in PROVINCES.items()}
_EN_PROVINCE["Shaanxi"] = "陕西"
_EN_PROVINCE["Inner Mongolia"] = "内蒙古"
_EN_PROVINCE["Tibet"] = "西藏"

_PLACE = "(?P<place>" + "|".join(sorted(PROVINCES, key=len, reverse=True)) + ")"
_LEVEL = r"(?:省|市|壮族自治区|回族自治区|维吾尔自治区|自治区)?"
_EN_PLACE = (
    r"\b(?P<place>" + "|".join(sorted(_EN_PROVINCE, key=len, reverse=True)) + r")"
    r"(?:'s|’s)?(?: [Pp]rovincial| [Mm]unicipal)?"
)
_MUNICIPALITIES = "北京|天津|上海|重庆"


@dataclass(frozen=True)
class _Office:
    """A provincial office: the national code it belongs to and how it is written."""

    prefix: str
    pattern: re.Pattern[str]
    name: Callable[[str], str]
    english: bool = False


_PROVINCIAL: list[_Office] = [
    _Office("CA", re.compile(_PLACE + _LEVEL + r"\s*通信管理局"), lambda full: f"{full}通信管理局"),
    _Office(
        "CAC",
        re.compile(
            r"(?:中共)?" + _PLACE + _LEVEL + r"(?:党?委)?\s*"
            r"(?:网信办|互联网信息办公室|网络安全和信息化委员会办公室|网络安全和信息化办公室)"
            rf"|网信(?P<account>{'|'.join(PROVINCES)})(?![省市])"
        ),
        lambda full: f"{full}互联网信息办公室",
    ),
    _Office(
        "SAMR",
        re.compile(_PLACE + _LEVEL + r"\s*(?:市场监督管理局|市场监管局)"),
        lambda full: f"{full}市场监督管理局",
    ),
    _Office(
        "MPS",
        re.compile(
            _PLACE + r"(?:省|壮族自治区|回族自治区|维吾尔自治区|自治区)?公安厅"
            rf"|(?P<city>{_MUNICIPALITIES})市?公安局"
        ),
        lambda full: f"{full}公安局" if full[:2] in _MUNICIPALITIES else f"{full}公安厅",
    ),
    _Office(
        "CA",
        re.compile(_EN_PLACE + r" Communications? Administration\b"),
        lambda full: f"{full}通信管理局",
        english=True,
    ),
    _Office(
        "CAC",
        re.compile(
            _EN_PLACE + r" (?:[Cc]yberspace [Aa]dministration|Internet Information Office"
            r"|[Cc]yberspace (?:[Aa]ffairs )?(?:[Rr]egulator|[Aa]uthorit(?:y|ies)|[Oo]ffice))\b"
        ),
        lambda full: f"{full}互联网信息办公室",
        english=True,
    ),
    _Office(
        "SAMR",
        re.compile(
            _EN_PLACE + r" (?:(?:Administration|Bureau) (?:for|of) Market Regulation"
            r"|[Mm]arket [Rr]egulat(?:or|ion"
            r" [Aa]dministration|ion [Bb]ureau))\b"
        ),
        lambda full: f"{full}市场监督管理局",
        english=True,
    ),
    _Office(
        "MPS",
        re.compile(
            _EN_PLACE + r" (?:Public Security Department|Department of Public Security"
            r"|Public Security Bureau)\b"
        ),
        lambda full: f"{full}公安局" if full[:2] in _MUNICIPALITIES else f"{full}公安厅",
        english=True,
    ),
]

CENTRAL: dict[str, str] = {
    "CAC": "国家互联网信息办公室",
    "MIIT": "工业和信息化部",
    "MPS": "公安部",
    "SAMR": "国家市场监督管理总局",
}
_CENTRAL_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    (
        "CAC",
        re.compile(
            r"国家互联网信息办公室|中央网络安全和信息化委员会办公室|国家网信办|中央网信办"
            r"|(?<![省市县区州盟旗委])网信办|中国网信网|网信中国"
            r"|Cyberspace Administration|\bCAC\b"
        ),
    ),
    (
        "MIIT",
        re.compile(
            r"工业和信息化部|工业与信息化部|工信部|信息通信管理局"
            r"|Ministry of Industry and Information Technology|\bMIIT\b"
        ),
    ),
    (
        "MPS",
        re.compile(
            r"公安部|国家网络安全通报中心|国家计算机病毒应急处理中心|Ministry of Public Security"
            r"|\bMPS\b"
        ),
    ),
    (
        "SAMR",
        re.compile(
            r"国家市场监督管理总局|市场监管总局|State Administration for Market Regulation"
            r"|\bSAMR\b"
        ),
    ),
]
# How the press names a regulator without its name: weighs little, only decides when nothing
# better is there ("China's cyberspace regulator said on Monday ...").
_ALIASES: list[tuple[str, re.Pattern[str]]] = [
    (
        "CAC",
        re.compile(
            r"\b(?:cyberspace|internet|cyber-?security)\s+(?:regulator|watchdog|administration)",
            re.I,
        ),
    ),
    (
        "MIIT",
        re.compile(
            r"\b(?:industry|technology|IT)\s+ministry\b|\btelecoms?\s+(?:regulator|ministry)"
            r"|\bMinistry of Industry\b",
            re.I,
        ),
    ),
    (
        "MPS",
        re.compile(
            r"\bpublic security (?:ministry|bureau)\b"
            r"|\bcyber-?security\s+(?:notification|reporting|incident)\s+cent(?:er|re)\b"
            r"|\bcomputer virus emergency response cent(?:er|re)\b|\bCVERC\b",
            re.I,
        ),
    ),
    ("SAMR", re.compile(r"\bmarket regulator\b", re.I)),
]
_MARKER = lazy(r"(?:来源|发布机构|发文机关|发布单位|信息来源|Source)\s*[:：]")
# The regulator is cited, not publishing: "根据工业和信息化部工作部署".
_CITED = lazy(r"根据|按照|依据|落实|贯彻|部署|要求|指导|统一安排|in line with|according to", re.I)
# Just before a name: the notice is about that body's list, not by it ("关于国家网络安全通报
# 中心通报的…", "转发公安部…").
_CITED_BEFORE = lazy(r"(?:关于|转发|转载|根据|按照|依据|据|经)\s*[“\"《「]?\s*$")
_LEAD_IN = lazy(r"(?:【[^】]*】|\[[^\]]*\]|\s)*")  # "【转载】国家网信办关于..."
_TITLE_FORM = lazy(r"\s*(?:关于|印发|发布|公布|通报)")
# An organisation as printed: Chinese characters (brackets allowed) ending like an office.
# An issuer's name ends like an office or an association; not in "部" (a newsroom's 编辑部).
_ISSUER_END = ORG_END.replace("|部|", "|")
_ORG_LINE = lazy(rf"(?:中共)?[\u4e00-\u9fff（）()·]{{2,38}}{_ISSUER_END}")
# "XX关于…", "近日，XX发布…": the organisation that opens a title or a first line.
_ORG_OPENS = lazy(
    r"(?:(?:近日|日前|近期|今天|今日|昨天|昨日)\s*[,，]?\s*)?"
    rf"(?P<org>(?:中共)?[\u4e00-\u9fff（）()·]{{2,30}}?{_ISSUER_END})"
    r"(?=\s*(?:关于|发布|通报|公布|印发|公告|提示|提醒|转发|转载))"
)
_MARKED_ORG = lazy(
    r"(?:来源|发布机构|发文机关|发布单位|信息来源)\s*[:：]\s*"
    rf"(?P<org>[\u4e00-\u9fff（）()·]{{2,30}}?{_ISSUER_END})(?![\u4e00-\u9fff])"
)


@dataclass
class _Mention:
    code: str
    name: str
    position: int
    end: int


def _mentions(line: str) -> list[_Mention]:
    found: list[_Mention] = []
    taken: list[tuple[int, int]] = []
    for office in _PROVINCIAL:
        for m in office.pattern.finditer(line):
            if any(start <= m.start() < end for start, end in taken):
                continue
            groups = m.groupdict()
            place = groups.get("place") or groups.get("account") or groups.get("city") or ""
            if office.english:
                place = _EN_PROVINCE[place]
            code, full = PROVINCES[place]
            found.append(_Mention(f"{office.prefix}-{code}", office.name(full), m.start(), m.end()))
            taken.append(m.span())
    for code, pattern in _CENTRAL_PATTERNS:
        for m in pattern.finditer(line):
            if any(start <= m.start() < end for start, end in taken):
                continue
            found.append(_Mention(code, CENTRAL[code], m.start(), m.end()))
    return found


_ORG_FILLER = lazy(r"中华人民共和国|中共|办公厅|网络安全管理局|(?:Issued|Signed)by")
_DATE_TEXT = lazy(
    r"[\d〇零○一二三四五六七八九十]{2,4}年[\d一二三四五六七八九十]{1,3}月"
    r"(?:[\d一二三四五六七八九十]{1,3}日)?|\d{4}[\-/.]\d{1,2}[\-/.]\d{1,2}"
)


def _is_org_line(line: str) -> bool:
    """A line that is essentially an organisation name (signature block or letterhead)."""
    stripped = re.sub(r"[\s()（）:：，,。]", "", line)
    stripped = _DATE_TEXT.sub("", stripped)
    if not stripped or len(stripped) > 40:
        return False
    mentions = _mentions(stripped)
    if not mentions:
        return False
    leftover = stripped
    for mention in sorted(mentions, key=lambda m: m.position, reverse=True):
        leftover = leftover[: mention.position] + leftover[mention.end :]
    leftover = _ORG_FILLER.sub("", leftover)
    return len(leftover) <= 4


def _cited_at(line: str, mention: _Mention) -> bool:
    return _CITED_BEFORE.search(line[max(0, mention.position - 6) : mention.position]) is not None


def _scores(
    text: str, title: str | None
) -> tuple[dict[str, float], dict[str, str], dict[str, float]]:
    """Each regulator named, best first: its score, its name, and the weight of its strongest
    single mention (20 the title, 12 a signature, 10 a letterhead or a source marker, 4 the
    first lines, 1 the body)."""
    lines = nonempty_lines(fold_width(text))
    scores: dict[str, float] = {}
    names: dict[str, str] = {}
    first_seen: dict[str, int] = {}
    peak: dict[str, float] = {}

    def add(mention: _Mention, weight: float, order: int) -> None:
        scores[mention.code] = scores.get(mention.code, 0.0) + weight
        names.setdefault(mention.code, mention.name)
        first_seen.setdefault(mention.code, order)
        peak[mention.code] = max(peak.get(mention.code, 0.0), weight)

    if title:
        folded_title = fold_width(title)
        for mention in _mentions(folded_title):
            add(mention, 2.0 if _cited_at(folded_title, mention) else 20.0, -1)
    tail_start = max(0, len(lines) - 8)
    for index, line in enumerate(lines):
        mentions = _mentions(line)
        if not mentions:
            continue
        org_line = _is_org_line(line)
        marker = _MARKER.search(line)
        cited = _CITED.search(line) is not None
        strongest: dict[str, tuple[float, _Mention]] = {}
        for mention in mentions:
            weight = 4.0 if index < 3 else 1.0
            if cited or _cited_at(line, mention):
                weight /= 4
            title_form = _TITLE_FORM.match(line, mention.end)
            if (
                title_form
                and index < 3
                and _LEAD_IN.fullmatch(line[: mention.position])
                and not _cited_at(line, mention)
            ):
                weight = 20.0
            if org_line:
                weight = max(weight, 12.0 if index >= tail_start else 10.0)
            if marker and mention.position > marker.start():
                weight = max(weight, 10.0)
            if mention.code not in strongest or strongest[mention.code][0] < weight:
                strongest[mention.code] = (weight, mention)
        for weight, mention in strongest.values():
            add(mention, weight, index)
    if not scores:
        for index, line in enumerate(lines):
            for code, pattern in _ALIASES:
                if pattern.search(line):
                    add(_Mention(code, CENTRAL[code], 0, 0), 1.0 if index < 3 else 0.5, index)
    # "我局" (our bureau), "我办" (our office) in the body point to a provincial office.
    for words, prefixes in (("我局", ("CA-", "SAMR-")), ("我办", ("CAC-",)), ("我厅", ("MPS-",))):
        if words in text:
            for code in scores:
                if code.startswith(prefixes):
                    scores[code] += 3.0
    ranked = sorted(scores, key=lambda c: (-scores[c], "-" not in c, first_seen[c]))
    return {code: scores[code] for code in ranked}, names, peak


def detect_regulator(text: str, *, title: str | None = None) -> Regulator:
    """The known regulator that published ``text``.

    Raises InputError("cannot tell which regulator published this notice") when no regulator
    regwatch knows is named anywhere (``identify_issuer`` then keeps the issuer as printed).
    """
    scores, names, _peak = _scores(text, title)
    if not scores:
        raise InputError("cannot tell which regulator published this notice")
    best = next(iter(scores))
    return Regulator(code=best, name=names[best])


def _org_in(text: str) -> str | None:
    """The organisation a line is, as printed ("青石县市场监督管理局 2024年4月18日" ->
    "青石县市场监督管理局"), when the line is an organisation and perhaps a date."""
    line = clean_line(text)
    spans = [(f.start, f.end) for f in find_dates(line)]
    spans += [(m.start, m.end) for m in find_months(line)]
    for start, end in spans:
        line = line[:start] + " " * (end - start) + line[end:]
    line = re.sub(r"[\s()（）\[\]【】:：,，.]+$|^[\s()（）\[\]【】]+", "", line).strip()
    line = re.sub(r"\s+", "", line)
    if _ORG_LINE.fullmatch(line) and not _mentions(line):
        return line
    return None


def _printed(text: str, title: str | None) -> tuple[str, float] | None:
    """The issuer as printed, when it is not a regulator regwatch knows, and how strongly the
    text says it publishes: opening the title or the first lines ("XX关于…的通报", "XX发布…",
    "XX转发…") 20, the signer above or beside the date at the end 12, a "来源：" marker or a
    letterhead line 10 (the weights of ``_scores``)."""
    lines = nonempty_lines(text)
    for line in ([title] if title else []) + lines[:3]:
        line = _LEAD_IN.sub("", clean_line(line), count=1)
        m = _ORG_OPENS.match(line)
        if m and not _mentions(m["org"]):
            return m["org"], 20.0
    for index in range(len(lines) - 1, max(0, len(lines) - 12), -1):
        line = lines[index]
        if not (find_dates(line) or find_months(line)):
            continue
        beside = _org_in(line)
        if beside:
            return beside, 12.0
        for above in (lines[index - 1], lines[index - 2] if index >= 2 else ""):
            org = _org_in(above) if above else None
            if org:
                return org, 12.0
    for line in lines[:10]:
        marked = _MARKED_ORG.search(fold_width(line))
        if marked and not _mentions(marked["org"]):
            return marked["org"], 10.0
    for line in lines[:3]:  # a letterhead: a line that is just the organisation
        org = _org_in(line)
        if org:
            return org, 10.0
    return None


def printed_issuer(text: str, *, title: str | None = None) -> str | None:
    """The issuer as the notice prints it, when it is not a regulator regwatch knows: the
    organisation that opens the title or the first lines ("XX关于…的通报", "XX发布…"), else the
    signer above (or beside) the date at the end, else a "来源：" marker or a letterhead line."""
    found = _printed(text, title)
    return found[0] if found else None


def identify_issuer(text: str, *, title: str | None = None) -> tuple[Regulator, str | None]:
    """The notice's issuer and, when it is not a regulator regwatch knows, a note saying so.

    The known regulator with the highest score, unless an issuer printed where a publisher
    stands (title, signature, source marker, letterhead) is named more strongly than that
    regulator ever is: a county bureau relaying 国家网络安全通报中心's list ("XX县市场监督管理局
    转发…", or signing it) publishes it itself. Never raises: with no issuer at all the
    regulator is ``OTHER`` / "unknown issuer".
    """
    scores, names, peak = _scores(text, title)
    best = next(iter(scores), None)
    printed = _printed(text, title)
    if best is not None and (printed is None or peak[best] >= printed[1]):
        return Regulator(code=best, name=names[best]), None
    if printed is None:
        note = "no issuer named in the notice: regulator OTHER (unknown issuer)"
        return Regulator(code="OTHER", name="unknown issuer", recognised=False), note
    name = printed[0]
    note = f"the issuer {name} is not a regulator regwatch knows: kept as printed (OTHER)"
    return Regulator(code="OTHER", name=name, recognised=False), note
