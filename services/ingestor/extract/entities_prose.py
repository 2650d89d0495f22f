"""Apps named in running Chinese prose and headlines, not in a list or a table.

Shapes read (full-width or ASCII punctuation alike, any order, any spacing):

- an enumeration that ends in a count or "App": "…应用包括云朵阅读、快看天气和晴空相机等43款App",
  the last name before 等N款 included; headlines do the same ("XX、YY等N款App被通报",
  "通报晴空相机等33款App");
- an enumeration after a cue word in a clause about apps: "存在问题的App分别是：A，B和C。",
  "涉及的应用包括A、B以及C", "名单如下：" with the names on the next line;
- quoted names: “A”“B”等16款App, 《A》《B》, 「A」, also alone when the text around them says
  they are apps ("名为“A”的App", "“A”App");
- a subject list: "其中微信、QQ音乐、腾讯视频均在列", "A、B被点名".

Items are separated by 、，,；; and by 和 / 及 / 以及 / 与 between two names. An enumeration is
read backwards from its end and stops at the first piece that does not read as an app name; a
clause before it ("经查，") is not crossed when the names are separated by 、.

Never apps: categories (输入法, 地图导航, 短视频类 - a category is only ever the whole item,
"墨鱼输入法" is an app), app stores, laws and standards (《网络安全法》), problem labels and
discourse words ("经查", "其中").
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from importlib.resources import files

from shared.events import Entity

from .entities_text import parse_entry
from .lazy_re import lazy
from .merge import entity_kind, is_company
from .textutil import fold_width

_QUOTES = {"“": "”", "「": "」", "『": "』", "《": "》", '"': '"', "‘": "’"}
_BRACKETS = {"（": "）", "(": ")", "【": "】", "[": "]"}
_OPENERS = {**_QUOTES, **_BRACKETS}
_SEPARATORS = "、，,；;"

_APP_WORD = r"(?:App|APP|app|应用程序|移动应用|应用|软件|客户端|小程序|SDK|sdk|产品)"
# The end of an enumeration: "等43款App", "等3个应用", "等App", "等常用App", "均在列", "被点名".
_COUNT = r"(?:\d{1,4}|[一二三四五六七八九十百两]{1,6})"
_END = lazy(
    rf"等\s*(?:{_COUNT}\s*(?:款|个|家)\s*(?:{_APP_WORD}(?!商店|市场|分发|商城))?"
    rf"|(?:常用|主流|热门|多款)?\s*{_APP_WORD}(?!商店|市场|分发|商城))"
    r"|(?:[均也亦都]\s*)?(?:在列|上榜|榜上有名|名列其中|被点名|被通报|被约谈|被下架|遭通报|遭点名)(?!的)"
    # "A、B和C三款APP": a count right after the names
    rf"|(?<=[^\d\s])(?:[这等]\s*)?(?<!第)(?:[一二三四五六七八九十两]{{1,3}}|\d{{1,3}})\s*款\s*"
    rf"{_APP_WORD}(?!商店|市场|分发|商城)"
)
_COMPANY_END = lazy(rf"等\s*{_COUNT}\s*家")
# Cue words after which names follow, in a clause about apps.
_CUE = lazy(
    r"(?:包括|包含|分别是|分别为|分别有|涉及到?|具体为|依次为|主要有|名单(?:如下|为|是)|如下"
    r"|例如|比如|诸如|(?<=[，,])如|(?<=[的还])有(?=\s*[:：]))(?!的)\s*(?:[:：]\s*)?"
    # "涉及运动健身类App：A（…）、B（…）；新闻资讯类：C": a category label, then its apps
    rf"|[\u4e00-\u9fff]{{2,8}}类\s*(?:{_APP_WORD})?\s*(?:[:：]|的有|有)\s*"
)
_APP_CONTEXT = lazy(rf"{_APP_WORD}|名单|清单")
# Where a lead-in ends in the first piece: "检测发现存在问题的应用包括|云朵阅读".
_LEAD = lazy(
    r"(?:(?:包括|包含|分别是|分别为|分别有|涉及到?|具体为|依次为|主要有|如下|名单|通报|点名|曝光|"
    r"约谈|下架|发现|关于|其中|显示|指出|称|对|(?<=[还也中的])有|例如|比如|诸如|(?<=[，,])如)了?"
    r"|[:：]|\s)\s*"
)
# "以及A", "和“A”": a connector before the last names (a bare 和 may start a name: 和风天气).
_CONNECTOR = lazy(r"^(?:(?:以及|还有|还包括|另有)\s*|[和及与](?=\s|[“「『《\"]))\s*")
_INNER_AND = lazy(r"\s*(?:以及|(?<![涉以])及|和|与)\s*")
_OPENS_TITLE = lazy(r"[《“「『][^》”」』]*$|^[^《“「『]*[》”」』]")
_TRAILING_WORD = lazy(r"\s*(?:App|APP|app|应用程序|移动应用|应用|软件|客户端|等)$")

# Generic kinds of app that notices group apps by ("对输入法、地图导航等App进行检测").
_CATEGORIES = frozenset(
    line.strip()
    for line in (files(__package__) / "data" / "categories.txt").read_text("utf-8").splitlines()
    if line.strip() and not line.startswith("#")
)
_CATEGORY_SUFFIX = lazy(r"(?:类|类型|领域|行业|方面|板块|等)$")
_STORE = lazy(
    r"(?:应用市场|应用商店|软件商店|应用商城|应用中心|游戏中心|手机助手|应用宝|豌豆荚|App\s*Store|"
    r"Google\s*Play|官网|商店|市场)$",
    re.I,
)
_LAW = lazy(
    r"(?:(?<!输入)法|条例|规定|办法|方法|通知|意见|标准|指南|规范|决定|方案|要求|通报|公告|细则|规则|目录|"
    r"报|日报|晚报|杂志|周刊|白皮书|报告|协议|政策|声明)$"
)
_NOT_NAME = lazy(
    r"个人信息|权限|违规|违法|整改|通报|要求|用户|问题|情况|工作|管理|责任|保护|检测|开展|进行|组织|"
    r"相关|依法|监督|规定|部门|以下|如下|上述|名单|发现|存在|加强|落实|截至|联系|电话|附件|地址|邮箱|"
    r"举报|收集|索取|注销|弹窗|自启动|定向推送|误导|欺骗|骚扰|隐私|运营者|开发者|运营商|功能|选项|"
    r"服务|平台方|监管|部署|专项|行动|治理|网信|信息化|通信管理局|市场监管|处置|约谈|下架|款|批次|"
    r"涉及|尚有|共有|还有|另有|共计|合计|其余|剩余|累计|上榜|在列|点名|被|不少|多款|若干|类的|的有"
)
_BAD_START = lazy(
    r"^(?:关于|根据|按照|依据|为|经|对|由|截至|截止|近期|近日|目前|其中|包括|注|附|据|该|这|此|上述|相关|"
    r"部分|多款|一些|其他|其它|各|本|我|以上|以下|有关|同时|此外|另外|然而|但|而|并|且|又|也|均|都|"
    r"已|将|还|再|从|在|向|于|以|又|一批|这批|记者|今年|去年|日前|随后|今天|昨天|\d+月|\d+日)"
)
_TRAILING_BRACKET = lazy(r"\([^()]*(?:\([^()]*\)[^()]*)*\)\s*$")
"""A bracket at the end, one level of brackets inside allowed: (腾讯科技(深圳)有限公司)."""
_OWNER_PREFIX = lazy(r"^[^、，,]{1,12}?旗下(?:的)?")
_APP_WORD_ONLY = lazy(rf"^{_APP_WORD}$")
# What may follow a quoted name that is an app: "“A”App", "《A》《B》存在…问题", "「A」则超范围…".
_VOUCHED_AFTER = lazy(
    rf"\s*(?:{_APP_WORD}|等\s*(?:{_COUNT}\s*[款个]\s*)?(?:{_APP_WORD}|{_COUNT}\s*[款个])|均|都|也|还|则|"
    r"被|在列|上榜|存在|涉及|未|不|无法|没有|违规|违法|超范围|强制|频繁|过度|擅自|私自)"
)
# What follows quoted terms that are not apps: "等改革", "功能", "行动".
_NOT_APPS_AFTER = lazy(
    rf"\s*(?:等(?=\s*[\u4e00-\u9fff])(?!\s*(?:{_COUNT}\s*[款个]|{_APP_WORD}))|[的之]?(?:功能|行动|选项|按钮|字样|机制|政策|"
    r"活动|改革|专项|模式|标准|条款|协议|提示|入口|页面|权限|服务|工作|要求))"
)
# A phrase cut in the middle ("…中心关于"), or an office ("…管理局").
_BAD_END = lazy(
    r"(?:关于|对|的|了|为|是|在|有|将|和|与|及|中|里|后|前|中心|管理局|办公室|委员会|信息化部|网信办|厅)$"
)
_DATE_LIKE = lazy(r"^[\d\s.\-/年月日号]+$")


@dataclass(frozen=True)
class _Piece:
    text: str
    start: int  # offset in the sentence
    separator: str  # the separator before it ("" for the first piece)


# "分别是：1、《A》（…）；2、《B》（…）": item numbers inside a sentence.
_INLINE_NUMBER = lazy(r"(?:^|(?<=[；;，,。：:]))\s*(?:\d{1,3}\s*[、.．]|[（(]\d{1,3}[)）])(?!\d)")


def _pieces(segment: str) -> list[_Piece]:
    """Split on separators outside brackets and quotes, remembering each piece's separator."""
    segment = _INLINE_NUMBER.sub(lambda m: " " * len(m.group(0)), segment)
    pieces: list[_Piece] = []
    stack: list[str] = []
    begin = 0
    separator = ""
    for index, ch in enumerate(segment):
        if stack and ch == stack[-1]:
            stack.pop()
            continue
        if ch in _OPENERS and not (ch == '"' and stack and stack[-1] == '"'):
            stack.append(_OPENERS[ch])
            continue
        if ch in _SEPARATORS and not stack:
            pieces.append(_Piece(segment[begin:index], begin, separator))
            begin, separator = index + 1, ch
    if stack:  # unbalanced: fall back to plain separators
        return [
            _Piece(part, 0, "、") for part in re.split(f"[{_SEPARATORS}]", segment) if part.strip()
        ]
    pieces.append(_Piece(segment[begin:], begin, separator))
    return [p for p in pieces if p.text.strip()]


_QUOTED = lazy(
    r"“([^“”]{1,40})”|「([^「」]{1,40})」|『([^『』]{1,40})』|《([^《》]{1,40})》|\"([^\"]{1,40})\""
)
_QUOTE_RUN = lazy(
    r"(?:(?:“[^“”]{1,40}”|「[^「」]{1,40}」|『[^『』]{1,40}』|《[^《》]{1,40}》|\"[^\"]{1,40}\")"
    r"\s*(?:和|及|与|以及)?\s*)+$"
)


def _quoted_names(text: str) -> list[str]:
    return [next(g for g in m.groups() if g is not None) for m in _QUOTED.finditer(text)]


def _is_category(name: str) -> bool:
    core = re.sub(r"(?:类型|类|领域|行业|方面|板块)$", "", name)
    core = _TRAILING_WORD.sub("", core) or core
    return name in _CATEGORIES or core in _CATEGORIES or _CATEGORY_SUFFIX.search(name) is not None


_ITEM_NUMBER = lazy(r"^(?:\d{1,3}\s*[、.．)）]|[（(]\d{1,3}[)）])\s*")
_TITLED = lazy(
    r"^[“「『《](?P<name>[^“”「」『』《》]{1,40})[”」』》]\s*"
    r"(?P<suffix>(?:微信|支付宝|百度|抖音|QQ)?小程序|快应用|App|APP|app|应用|软件|客户端)?\s*"
    r"(?P<bracket>[（(].*[)）])?$"
)


def clean_name(raw: str) -> str:
    """An item as a name: without quotes, a trailing "App"/"应用", an owner before it
    ("腾讯旗下的微信"), ellipses and stray spaces. An operator in brackets stays
    ("抖音（北京微播视界科技有限公司）"): ``_entity`` reads it."""
    name = _ITEM_NUMBER.sub("", raw.strip().strip(" \u3000").strip("…．."))
    name = _OWNER_PREFIX.sub("", name)
    titled = _TITLED.match(name)
    if titled is not None:
        suffix = titled["suffix"] or ""
        kind = f"（{suffix}）" if "小程序" in suffix or suffix == "快应用" else ""
        return titled["name"].strip() + kind + (titled["bracket"] or "")
    quoted = _quoted_names(name)
    if len(quoted) == 1 and _QUOTED.fullmatch(name.strip()):
        name = quoted[0]
    name = name.strip().strip("“”\"'‘’「」『』《》 ")
    trimmed = _TRAILING_WORD.sub("", name).strip()
    if len(trimmed) >= 2 and not _is_category(trimmed):
        name = trimmed
    return name


def name_like(name: str, *, quoted: bool = False) -> bool:
    """Does ``name`` read as the name of one app (not a category, store, law or a phrase)?
    A bracket at its end must hold an operator, version or store."""
    folded = fold_width(name).strip()
    bracket = _TRAILING_BRACKET.search(folded)
    if bracket is not None:
        if parse_entry(name, strict_bare=False) is None:
            return False
        folded = folded[: bracket.start()].strip()
    cjk = sum(1 for ch in folded if "\u4e00" <= ch <= "\u9fff")
    limit = 25 if quoted else 16
    if not 2 <= len(folded) <= (limit if cjk else 40):
        return False
    if cjk == 0 and not re.search(r"[A-Za-z]{2}|\d[A-Za-z]|[A-Za-z]\d", folded):
        return False
    if re.search(r"[。！？!?；;：:，,、“”「」《》【】\[\]]", folded):
        return False
    if _DATE_LIKE.match(folded) or _is_category(folded) or _APP_WORD_ONLY.match(folded):
        return False
    if _STORE.search(folded) or (quoted and _LAW.search(folded) and cjk):
        return False
    return not (_NOT_NAME.search(folded) or _BAD_START.match(folded) or _BAD_END.search(folded))


def _split_and(text: str) -> list[str]:
    """ "晴空相机和星河视频" -> two names; "和风天气", "和平精英", "天和健康", "发现和平精英" and
    "《中华人民共和国…法》" stay one piece: 和 / 与 / 及 split only between two names."""
    if _OPENS_TITLE.search(text):
        return [text]
    parts = [p for p in _INNER_AND.split(text) if p]
    if (
        len(parts) > 1
        and text.strip()[:1] not in "和及与"
        and all(len(p) >= 2 and name_like(clean_name(p)) for p in parts)
    ):
        return parts
    return [text]


def _items_of(piece: str) -> tuple[list[str], bool]:
    """Names in one piece of an enumeration (read from its end), and whether the walk may go
    on to the piece before it.

    A piece with a lead-in ("检测发现存在问题的应用包括云朵阅读") gives the name after the lead-in
    and ends the walk; a piece ending in quoted names gives those names.
    """
    text = _CONNECTOR.sub("", piece.strip())
    run = _QUOTE_RUN.search(text)
    if run is not None:
        quoted = [clean_name(n) for n in _quoted_names(run.group(0))]
        return [n for n in quoted if name_like(n, quoted=True)], not text[: run.start()].strip()
    candidates = _split_and(text)
    names: list[str] = []
    for candidate in reversed(candidates):
        name = clean_name(candidate)
        if name_like(name):
            names.insert(0, name)
            continue
        cut = _cut_lead(candidate)
        if cut is not None:
            names.insert(0, cut)
        return names, False
    return names, True


def _cut_lead(text: str) -> str | None:
    """ "存在问题的应用包括云朵阅读" -> "云朵阅读": what follows the last lead-in word."""
    last = None
    for m in _LEAD.finditer(text):
        if m.end() < len(text):
            last = m
    if last is None:
        return None
    name = clean_name(text[last.end() :])
    return name if name_like(name) else None


def _walk_back(segment: str) -> list[str]:
    """The enumeration at the end of ``segment``, in reading order."""
    pieces = _pieces(segment)
    found: list[list[str]] = []
    uses_dun = False  # the names seen so far are separated by 、
    for piece in reversed(pieces):
        names, go_on = _items_of(piece.text)
        if names:
            found.append(names)
        if not names or not go_on:
            break
        if piece.separator in "，,；;" and uses_dun and not _CONNECTOR.match(piece.text.strip()):
            break  # "经查，A、B等": the clause before the names is not one of them
        if piece.separator == "、":
            uses_dun = True
    return [name for group in reversed(found) for name in group]


def _walk_forward(segment: str) -> list[str]:
    """The enumeration at the start of ``segment`` (what follows a cue word), in reading
    order; it ends at the first piece that is not a name ("A、B，上述应用…") or at the
    enumeration's own end ("A、B等4款": those are read backwards from 等)."""
    names: list[str] = []
    for piece in _pieces(segment):
        text = _CONNECTOR.sub("", piece.text.strip())
        end = _END.search(fold_width(text))
        if end is not None:
            text = text[: end.start()]
        if _QUOTE_RUN.fullmatch(text):
            names.extend(
                n for n in (clean_name(q) for q in _quoted_names(text)) if name_like(n, quoted=True)
            )
        else:
            parts = [clean_name(p) for p in _split_and(text)]
            good = list(itertools.takewhile(name_like, parts))
            names.extend(good)
            if len(good) < len(parts):
                break
        if end is not None:
            break
    return names


@dataclass
class _Found:
    position: int
    name: str
    company: bool = False


def _entity(name: str, *, company: bool = False) -> Entity:
    if _TRAILING_BRACKET.search(fold_width(name)):
        parsed = parse_entry(name, strict_bare=False)
        if parsed is not None:
            entity = parsed.entity
            entity.source = "text"
            return entity
    kind = "company" if company and is_company(name) else entity_kind(name)
    return Entity(kind=kind, name=name, source="text")


def _sentences(text: str) -> list[tuple[int, str]]:
    sentences: list[tuple[int, str]] = []
    start = 0
    for m in re.finditer(r"[。！？!?\n]", text):
        sentences.append((start, text[start : m.start()]))
        start = m.end()
    sentences.append((start, text[start:]))
    return [(offset, s) for offset, s in sentences if s.strip()]


def _quoted_alone(sentence: str) -> list[tuple[int, str]]:
    """Quoted names vouched for by the words right around them: “A”App, 名为“A”的应用,
    “A”“B”在一句讲App的话里."""
    found: list[tuple[int, str]] = []
    app_sentence = _APP_CONTEXT.search(sentence) is not None
    for run in re.finditer(
        r"(?:(?:“[^“”]{1,40}”|「[^「」]{1,40}」|『[^『』]{1,40}』|《[^《》]{1,40}》)\s*[、，,和及与]?\s*)+",
        sentence,
    ):
        names = [n for n in _quoted_names(run.group(0)) if name_like(clean_name(n), quoted=True)]
        if not names:
            continue
        after = sentence[run.end() : run.end() + 6]
        before = sentence[max(0, run.start() - 6) : run.start()]
        if _NOT_APPS_AFTER.match(after):
            continue  # “一键注销”“拒绝”等功能, “一网通办”等改革
        vouched = (
            _VOUCHED_AFTER.match(after) is not None
            or re.search(rf"(?:{_APP_WORD}|名为|叫做|分别是|分别为|包括)\s*[:：]?\s*$", before)
            is not None
            or (len(names) >= 2 and app_sentence)
        )
        if vouched:
            found.extend((run.start(), clean_name(n)) for n in names)
    return found


# "京味外卖（北京京味餐饮管理有限公司）", "“燕京健身”App（北京燕京体育健身有限公司）": an app
# with its operator in brackets, anywhere in a sentence (one level of brackets inside).
_BRACKETED = lazy(
    r"(?P<name>[^\s，,。；;、：:（）()“”「」『』《》]{1,24}|[“「『《][^“”「」『』《》]{1,24}[”」』》]"
    r"(?:(?:微信|支付宝|百度|抖音|QQ)?小程序|快应用|App|APP|应用|客户端)?)"
    r"\s*[（(](?P<dev>[^（）()]{2,60}(?:[（(][^（）()]{1,10}[)）][^（）()]{0,40})?)[)）]"
)
# "“苏e行”，运营者为无锡苏e行交通科技有限公司": the operator in the next clause.
_OPERATOR_IS = lazy(
    r"(?P<name>[“「『《][^“”「」『』《》]{1,24}[”」』》])\s*[，,]?\s*(?:其)?"
    r"(?:运营者|开发者|运营主体|开发运营者|运营方|开发商)(?:为|是)\s*[:：]?\s*"
    r"(?P<dev>[^，,。；;（）()]{4,60}?(?:公司|Ltd\.?|Limited|Inc\.?|工作室))"
)


_NEGATION = lazy(
    r"不涉及|未涉及|不包括|不包含|不含|并非|并不|不属于|不在[^。]{0,12}之列|除[^。]{1,30}外"
)


def _with_operator(sentence: str) -> list[tuple[int, str]]:
    """Apps named with their operator: ``X（某某有限公司）`` and ``“X”，运营者为某某有限公司``, in
    any sentence; the operator must read as a company."""
    found: list[tuple[int, str]] = []
    for m in [*_BRACKETED.finditer(sentence), *_OPERATOR_IS.finditer(sentence)]:
        developer = m["dev"].strip()
        labelled = re.match(r"^(?:运营者|开发者|运营主体|开发运营者)\s*[:：]\s*", developer)
        if labelled:
            developer = developer[labelled.end() :]
        if not is_company(fold_width(developer)):
            continue
        name = _cut_lead(m["name"]) or clean_name(m["name"])  # "分别是掌上药店（…）"
        if m.start() > 0 and sentence[m.start() - 1] in "）)" and name[:1] in "和及与":
            name = name[1:]  # "A（…）和B（…）"
        if not name_like(name, quoted=m["name"][:1] in "“「『《"):
            continue
        found.append((m.start(), f"{name}（{developer}）"))
    return found


def extract_entities_prose(text: str) -> list[Entity]:
    """Apps named in the prose of ``text`` (simplified script), in the order the text names
    them, each once."""
    found: list[_Found] = []
    lines = text.split("\n")
    offset = 0
    line_starts: list[int] = []
    for line in lines:
        line_starts.append(offset)
        offset += len(line) + 1
    for base, sentence in _sentences(text):
        folded = fold_width(sentence)
        if _NEGATION.search(folded):  # "本次通报不涉及微信、QQ等应用"
            for position, name in _with_operator(sentence):
                found.append(_Found(base + position, name))
            continue
        covered_until = 0
        for end in _END.finditer(folded):
            segment = sentence[covered_until : end.start()]
            company = _COMPANY_END.match(folded, end.start()) is not None
            for name in _walk_back(segment):
                found.append(_Found(base + end.start(), name, company))
            covered_until = end.end()
        for cue in _CUE.finditer(folded):
            context = folded[max(0, cue.start() - 30) : cue.start()]
            if not (_APP_CONTEXT.search(context) or re.search(r"名单|类", cue.group(0))):
                continue
            rest = sentence[cue.end() :]
            if not rest.strip():
                continue
            for name in _walk_forward(rest):
                found.append(_Found(base + cue.end(), name))
        for position, name in _quoted_alone(sentence):
            found.append(_Found(base + position, name))
        for position, name in _with_operator(sentence):
            found.append(_Found(base + position, name))
    found.extend(_next_line_lists(lines, line_starts))
    found.sort(key=lambda f: f.position)
    entities: list[Entity] = []
    at: dict[str, int] = {}
    for item in found:
        key = re.sub(r"\s+", "", _TRAILING_BRACKET.sub("", fold_width(item.name))).lower()
        entity = _entity(item.name, company=item.company)
        if key not in at:
            at[key] = len(entities)
            entities.append(entity)
        elif entities[at[key]].developer is None and entity.developer is not None:
            entities[at[key]] = entity  # named again with its operator: keep that
    return entities


_LIST_INTRO = lazy(
    rf"(?:{_APP_WORD}|名单|清单)[^。]{{0,12}}(?:如下|分别是|分别为|包括|为|是)\s*[:：]\s*$"
)


def _next_line_lists(lines: list[str], starts: list[int]) -> list[_Found]:
    """ "存在问题的APP名单如下：" with the names, separated by 、, on the next line."""
    found: list[_Found] = []
    for index, line in enumerate(lines[:-1]):
        if not _LIST_INTRO.search(fold_width(line.strip())):
            continue
        following = next((i for i in range(index + 1, len(lines)) if lines[i].strip()), None)
        if following is None:
            continue
        names = _walk_forward(lines[following].strip().rstrip("。"))
        if len(names) >= 2:
            found.extend(_Found(starts[following], name) for name in names)
    return found
