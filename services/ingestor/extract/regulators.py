"""Which regulator published a notice.

The publisher is decided by where a regulator is named, not by how often: the title, a line
that is just an organisation name (the signature block or a letterhead), a "来源/发布机构" marker
and the first lines weigh most; mentions in the body ("根据工业和信息化部工作部署") weigh little.
So a provincial 通信管理局 that signs its notice wins over the ministry it quotes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from shared.errors import InputError
from shared.events import Regulator

from .textutil import fold_width, nonempty_lines

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

_PROVINCE_RE = re.compile(
    "(" + "|".join(sorted(PROVINCES, key=len, reverse=True)) + ")"
    r"(?:省|市|壮族自治区|回族自治区|维吾尔自治区|自治区)?\s*通信管理局"
)
_EN_PROVINCE_RE = re.compile(
    r"\b(" + "|".join(sorted(_EN_PROVINCE, key=len, reverse=True)) + r")(?: Provincial| Municipal)?"
    r" Communications? Administration\b"
)

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
            r"国家互联网信息办公室|中央网络安全和信息化委员会办公室|国家网信办|中央网信办|网信办"
            r"|中国网信网|Cyberspace Administration|\bCAC\b"
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
    ("MPS", re.compile(r"\bpublic security (?:ministry|bureau)\b", re.I)),
    ("SAMR", re.compile(r"\bmarket regulator\b", re.I)),
]
_MARKER = re.compile(r"(?:来源|发布机构|发文机关|发布单位|信息来源|Source)\s*[:：]")
# The regulator is cited, not publishing: "根据工业和信息化部工作部署".
_CITED = re.compile(
    r"根据|按照|依据|落实|贯彻|部署|要求|指导|统一安排|in line with|according to", re.I
)
_LEAD_IN = re.compile(r"(?:【[^】]*】|\[[^\]]*\]|\s)*")  # "【转载】国家网信办关于..."
_TITLE_FORM = re.compile(r"\s*(?:关于|印发|发布|公布|通报)")


@dataclass
class _Mention:
    code: str
    name: str
    position: int


def _name_at(line: str, mention: _Mention) -> str:
    """The text of the regulator name that starts at ``mention.position``."""
    for pattern in [_PROVINCE_RE, _EN_PROVINCE_RE] + [p for _c, p in _CENTRAL_PATTERNS]:
        m = pattern.match(line, mention.position)
        if m:
            return m.group(0)
    return ""


def _mentions(line: str) -> list[_Mention]:
    found: list[_Mention] = []
    taken: list[tuple[int, int]] = []
    for m in _PROVINCE_RE.finditer(line):
        code, full = PROVINCES[m.group(1)]
        found.append(_Mention(f"CA-{code}", f"{full}通信管理局", m.start()))
        taken.append(m.span())
    for m in _EN_PROVINCE_RE.finditer(line):
        code, full = PROVINCES[_EN_PROVINCE[m.group(1)]]
        found.append(_Mention(f"CA-{code}", f"{full}通信管理局", m.start()))
        taken.append(m.span())
    for code, pattern in _CENTRAL_PATTERNS:
        for m in pattern.finditer(line):
            if any(start <= m.start() < end for start, end in taken):
                continue
            found.append(_Mention(code, CENTRAL[code], m.start()))
    return found


def _is_org_line(line: str) -> bool:
    """A line that is essentially an organisation name (signature block or letterhead)."""
    stripped = re.sub(r"[\s()（）:：，,。]", "", line)
    stripped = re.sub(r"\d{4}[年\-/.]\d{1,2}[月\-/.]\d{1,2}日?", "", stripped)
    if not stripped or len(stripped) > 40:
        return False
    if not _mentions(stripped):
        return False
    leftover = _PROVINCE_RE.sub("", stripped)
    for _code, pattern in _CENTRAL_PATTERNS:
        leftover = pattern.sub("", leftover)
    leftover = re.sub(r"中华人民共和国|办公厅|网络安全管理局|(?:Issued|Signed)by", "", leftover)
    return len(leftover) <= 4


def detect_regulator(text: str, *, title: str | None = None) -> Regulator:
    """The regulator that published ``text``.

    Raises InputError("cannot tell which regulator published this notice") when no regulator
    is named anywhere.
    """
    lines = nonempty_lines(fold_width(text))
    scores: dict[str, float] = {}
    names: dict[str, str] = {}
    first_seen: dict[str, int] = {}

    def add(mention: _Mention, weight: float, order: int) -> None:
        scores[mention.code] = scores.get(mention.code, 0.0) + weight
        names.setdefault(mention.code, mention.name)
        first_seen.setdefault(mention.code, order)

    if title:
        for mention in _mentions(fold_width(title)):
            add(mention, 20.0, -1)
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
            if cited:
                weight /= 4
            title_form = _TITLE_FORM.match(line, mention.position + len(_name_at(line, mention)))
            if title_form and index < 3 and _LEAD_IN.fullmatch(line[: mention.position]):
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
                    add(_Mention(code, CENTRAL[code], 0), 1.0 if index < 3 else 0.5, index)
    if not scores:
        raise InputError("cannot tell which regulator published this notice")
    # "我局" (our bureau) in the body points to a provincial bureau when one is named.
    if "我局" in text:
        for code in scores:
            if code.startswith("CA-"):
                scores[code] += 3.0
    best = max(scores, key=lambda code: (scores[code], code.startswith("CA-"), -first_seen[code]))
    return Regulator(code=best, name=names[best])
