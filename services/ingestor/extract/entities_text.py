"""Apps, SDKs and companies listed in plain text.

Layouts handled (full-width or ASCII brackets and punctuation alike):

- numbered lines: ``1. 抖音（北京微播视界科技有限公司）``, ``1、...``, ``（1）...``, ``1 ...``;
- unnumbered lines of the same shape when the bracket holds a company name;
- MPS style: ``《App名》（版本X，应用商店）`` grouped under numbered problem headings - each
  app gets the heading as an issue, and an app repeated under several problems is one entity;
- CAC category headings (``一、短视频类`` / ``短视频类：``) are not entities, but a list written
  after one on the same line is (``短视频类：抖音（...）、快手（...）``);
- two-column lines ``抖音  北京微播视界科技有限公司`` (the second column must be a company);
- tab, pipe, CSV and space-aligned tables with a header row (``tables_text``), read like HTML
  tables;
- section headings naming the kind of entry below them (``二、SDK名单``, ``小程序：``).

The operator in brackets becomes ``developer`` (also when labelled: ``（运营者：某某有限公司）``);
a version or store in brackets fills those (``（版本号：3.9.9，来源：应用宝）``); ``（微信小程序）``
makes a mini-program; issues after the brackets (``——违规收集个人信息``) become the entry's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from shared.events import Entity, EntityKind

from .lazy_re import lazy
from .merge import entity_kind, is_company, merge_entities
from .tables_text import find_text_tables
from .textutil import clean_line, fold_width

_OPEN = "（(【["
_CLOSE = "）)】]"
_PAIRS = {"（": "）", "(": ")", "【": "】", "[": "]", "《": "》", "“": "”", "‘": "’", "「": "」"}
_CN_ORD = "一二三四五六七八九十"

_NUMBERED = lazy(
    r"^(?:(?P<a>\d{1,3})\s*(?:[.．、:：)）](?!\d))|[（(](?P<b>\d{1,3})[)）]|(?P<c>\d{1,3})\s+(?=\S))\s*"
)
_HEADING = lazy(
    rf"^(?:[{_CN_ORD}]{{1,3}}\s*[、.．]|[（(][{_CN_ORD}]{{1,3}}[)）]|第[{_CN_ORD}]{{1,3}}[类项部分])\s*"
)
_CATEGORY = lazy(
    r"^(?P<cat>[^\s:：，,。、（）()]{1,14}类)\s*(?:(?:[:：]|\t|\s{2,})\s*(?P<rest>.*))?$"
)
_PROBLEM_WORDS = lazy(
    r"收集|使用|个人信息|权限|违规|违法|超范围|强制|频繁|误导|欺骗|骚扰|注销|自启动|定向推送|弹窗|"
    r"索取|调用|明示|共享|传输|泄露|安全漏洞|隐私"
)
_STOP_WORDS = lazy(
    r"个人信息|权限|违规|违法|整改|通报|要求|用户|问题|情况|工作|管理|责任|保护|检测|开展|进行|"
    r"组织|相关|依法|监督|规定|部门|以下|如下|上述|名单|发现|存在|加强|落实|截至|联系|电话|附件|"
    r"地址|邮箱|举报"
)
_BAD_START = lazy(r"^(?:关于|根据|按照|依据|为|经|对|由|截至|截止|近期|目前|其中|包括|注|附)")
_LAW_TITLE = lazy(r"(?:法|条例|规定|办法|通知|意见|标准|指南|规范|决定|方案|要求|通报|公告)$")
_VERSION = lazy(r"^(?:版本号?|version|ver\.?)?\s*[:：]?\s*[Vv]?\d+(?:[.\-_]\d+)+\S*$", re.I)
_VERSION_PREFIX = lazy(r"^(?:版本号?|version|ver\.?)\s*[:：]?\s*", re.I)
_STORE = lazy(
    r"(?:应用市场|应用商店|软件商店|应用商城|应用中心|游戏中心|手机助手|应用宝|豌豆荚|App\s*Store|"
    r"Google\s*Play|官网|官方网站|商店|市场)$",
    re.I,
)
_QUALIFIER = lazy(r"(?:版|端|版本|客户端|极速|精简|国际|HD|Lite|Pro)$", re.I)
_SEPARATORS = "、，,；;"


@dataclass
class _Parsed:
    lead: str
    groups: list[str] = field(default_factory=list)
    tail: str = ""


def split_top_level(text: str, separators: str = _SEPARATORS) -> list[str]:
    """Split on separators that are outside any brackets, 《》 or quotes."""
    pieces: list[str] = []
    stack: list[str] = []
    current: list[str] = []
    for ch in text:
        if stack and ch == stack[-1]:
            stack.pop()
        elif ch in _PAIRS:
            stack.append(_PAIRS[ch])
        elif ch in _CLOSE and stack and stack[-1] in _CLOSE:
            stack.pop()  # mismatched closer ("(" closed by "）"): accept it
        if ch in separators and not stack:
            pieces.append("".join(current))
            current = []
            continue
        current.append(ch)
    pieces.append("".join(current))
    return [piece.strip() for piece in pieces if piece.strip()]


def _parse_brackets(item: str) -> _Parsed | None:
    """``name（a）（b）tail`` -> lead, top-level bracket contents, tail. None if unbalanced."""
    lead: list[str] = []
    groups: list[str] = []
    tail: list[str] = []
    depth = 0
    current: list[str] = []
    in_title = False
    for ch in item:
        if ch == "《" and depth == 0:
            in_title = True
        elif ch == "》" and depth == 0:
            in_title = False
        if ch in _OPEN and not in_title:
            if depth > 0:
                current.append(ch)
            depth += 1
            continue
        if ch in _CLOSE and not in_title:
            if depth == 0:
                return None
            depth -= 1
            if depth == 0:
                groups.append("".join(current).strip())
                current = []
            else:
                current.append(ch)
            continue
        if depth > 0:
            current.append(ch)
        elif groups:
            tail.append(ch)
        else:
            lead.append(ch)
    if depth != 0:
        return None
    return _Parsed("".join(lead).strip(), groups, "".join(tail).strip())


def _clean_name(name: str) -> tuple[str, bool]:
    """Strip quotes and 《》; returns (name, was_in_title_marks)."""
    name = name.strip().strip("“”\"'‘’「」:：")
    titled = False
    m = re.fullmatch(r"《(.+?)》\s*(.*)", name)
    if m:
        titled = True
        name = (m.group(1) + m.group(2)).strip()
    return name.strip(), titled


def _name_like(name: str, *, strict: bool) -> bool:
    if not 1 <= len(name) <= 40:
        return False
    if re.search(r"[。！？!?；;：:]", name) or re.search(r"[，,]", name):
        return False
    if _BAD_START.match(name) or name.endswith("类"):
        return False
    if re.fullmatch(r"[\d\s.\-/年月日]+", name):
        return False
    return not (strict and (_STOP_WORDS.search(name) or len(name) > 20))


@dataclass
class _Candidate:
    entity: Entity
    bare: bool  # no bracket, 《》 or column told us this is an app


_LABEL = lazy(r"^(?P<label>[^:：，,]{1,8}?)\s*[:：]\s*(?P<value>\S.*)$")
_DEVELOPER_LABEL = lazy(
    r"运营者|开发者|运营方|运营主体|开发商|主办|企业|公司|单位|developer|operator", re.I
)
_VERSION_LABEL = lazy(r"版本|version|ver", re.I)
_STORE_LABEL = lazy(r"来源|商店|市场|平台|渠道|store|source", re.I)
# "（微信小程序）", "（快应用）": where a mini-program lives, not part of its name.
_MINI_PROGRAM = lazy(r"^(?:微信|支付宝|百度|抖音|QQ|头条)?\s*(?:小程序|快应用)$")
_TAIL_ISSUES = lazy(r"^(?:[-—–－─]+|[:：]|存在|涉及)\s*(?P<issues>\S.*)$")


# "黔货出山（贵州黔货电子商务有限公司）——违规收集个人信息": the issues after the last bracket.
_LINE_TAIL = lazy(r"^(?P<head>.*[）)》])\s*(?P<tail>(?:[-—–－─]+|[:：])\s*[^）)》]+)$")


def _labelled(part: str) -> tuple[str, str] | None:
    """``版本号：3.9.9`` -> ("version", "3.9.9"); None when the part carries no known label."""
    m = _LABEL.match(part.strip())
    if m is None:
        return None
    label, value = m["label"], m["value"].strip()
    if _DEVELOPER_LABEL.search(label):
        return "developer", value
    if _VERSION_LABEL.search(label):
        return "version", value
    if _STORE_LABEL.search(label):
        return "store", value
    return None


def _tail_issues(tail: str) -> list[str] | None:
    """``——违规收集个人信息；账号注销难`` after the brackets: the app's issues."""
    m = _TAIL_ISSUES.match(tail.strip())
    if m is None:
        return None
    issues = [x.strip(" 。，,") for x in re.split(r"[；;]", m["issues"]) if x.strip(" 。，,")]
    if not issues or not all(_PROBLEM_WORDS.search(issue) for issue in issues):
        return None
    return issues


def parse_entry(item: str, *, strict_bare: bool = True) -> _Candidate | None:
    """One listed item: ``抖音（北京微播视界科技有限公司）``, ``《XX SDK》（版本1.2，应用宝）``,
    ``XX（运营者：某某有限公司）``, ``XX（公司）——违规收集个人信息``."""
    item = item.strip().rstrip("。；;，,、.").strip()
    if not item:
        return None
    parsed = _parse_brackets(item)
    if parsed is None:
        return None
    name, titled = _clean_name(parsed.lead)
    if titled and _LAW_TITLE.search(name):
        return None
    issues: list[str] = []
    if parsed.tail and parsed.tail not in ("等",):
        tail_issues = _tail_issues(parsed.tail)
        if tail_issues is None:
            return None
        issues = tail_issues
    developer: str | None = None
    version: str | None = None
    store: str | None = None
    mini_program = False
    qualifiers: list[str] = []
    for group in parsed.groups:
        folded = fold_width(group).strip()
        if _labelled(group) is None and is_company(folded) and developer is None:
            developer = group.strip()
            continue
        if _MINI_PROGRAM.match(folded):
            mini_program = True
            continue
        parts = split_top_level(group)
        recognised = False
        for part in parts:
            part_folded = fold_width(part).strip()
            labelled = _labelled(part.strip())
            if labelled is not None:
                field_name, field_value = labelled
                if field_name == "developer" and developer is None:
                    developer = field_value
                elif field_name == "version":
                    version = field_value
                elif field_name == "store":
                    store = field_value
                recognised = True
            elif _VERSION.match(part_folded) or _VERSION_PREFIX.match(part_folded):
                version = _VERSION_PREFIX.sub("", part.strip()) or None
                recognised = True
            elif _STORE.search(part_folded):
                store = part.strip()
                recognised = True
            elif is_company(part_folded) and developer is None:
                developer = part.strip()
                recognised = True
        if not recognised and (_QUALIFIER.search(folded) or len(folded) <= 5) and not qualifiers:
            qualifiers.append(group.strip())
    if not name and parsed.groups:
        return None
    if qualifiers:
        name = f"{name}（{qualifiers[0]}）"
    bare = not (titled or developer or version or store or mini_program)
    if not _name_like(name, strict=bare and strict_bare):
        return None
    kind = "mini_program" if mini_program else entity_kind(name, developer=developer)
    entity = Entity(
        kind=kind, name=name, developer=developer, store=store, version=version, issues=issues
    )
    return _Candidate(entity, bare)


def _columns(line: str) -> list[str]:
    if "\t" in line or re.search(r"\S\s{2,}\S", line):
        return [c.strip() for c in re.split(r"\t|\s{2,}", line) if c.strip()]
    return line.split()


def parse_columns(line: str) -> Entity | None:
    """``抖音  北京微播视界科技有限公司 [store] [version] [issue]`` -> an entity."""
    columns = _columns(line)
    if len(columns) < 2:
        return None
    company_at = next(
        (i for i, c in enumerate(columns) if i > 0 and is_company(fold_width(c))), None
    )
    if company_at is None:
        return None
    name = " ".join(columns[:company_at])
    name, _ = _clean_name(name)
    if not _name_like(name, strict=False) or is_company(name):
        return None
    entity = Entity(
        kind=entity_kind(name, developer=columns[company_at]),
        name=name,
        developer=columns[company_at],
    )
    for column in columns[company_at + 1 :]:
        folded = fold_width(column)
        if entity.version is None and _VERSION.match(folded):
            entity.version = _VERSION_PREFIX.sub("", column)
        elif entity.store is None and _STORE.search(folded):
            entity.store = column
        elif _PROBLEM_WORDS.search(column):
            entity.issues.append(column)
    return entity


def _problem_heading(text: str) -> str | None:
    """A heading that names a problem: its first sentence, without "涉及N款App如下"."""
    text = text.strip()
    first = re.split(r"[。！？]", text, maxsplit=1)[0]
    first = re.sub(r"[，,]?\s*(?:涉及|包括|共)[^，,]{0,20}(?:如下|有)?\s*[:：]?$", "", first)
    first = first.strip().rstrip("：:；;，,")
    if (
        first
        and len(first) <= 100
        and _PROBLEM_WORDS.search(first)
        and not re.search(r"[（(《]", first)
    ):
        return first
    return None


def _section_kind(text: str) -> EntityKind | None:
    """ "二、SDK名单", "存在问题的小程序：": the kind of entry listed below such a heading."""
    text = fold_width(text).strip().rstrip("：:")
    if len(text) > 20 or _PROBLEM_WORDS.search(text):
        return None
    if re.search(r"SDK|软件开发工具包", text, re.I):
        return "sdk"
    if "小程序" in text:
        return "mini_program"
    if re.search(r"APP|应用", text, re.I):
        return "app"
    return None


@dataclass
class _ListState:
    issue: str | None = None  # the problem heading entries are listed under (MPS style)
    section: EntityKind | None = None  # "二、SDK名单": the kind of the entries below
    last_number: int = 0  # of the last "N " numbered line (tells "360 浏览器" from item 360)


def extract_entities_text(text: str) -> list[Entity]:
    """Entities listed in plain text (tables first, then lists), deduplicated by name and
    developer, in the order the text gives them."""
    raw_lines = text.splitlines()
    in_table: set[int] = set()
    placed: list[tuple[int, Entity]] = []  # (raw line index, entity)
    for table in find_text_tables(raw_lines):
        in_table.update(range(table.start, table.end))
        placed.extend((table.start, entity) for entity in table.entities)

    found: list[tuple[int, _Candidate]] = []  # (index among the list lines, candidate)
    positions: list[int] = []  # raw line index of each list line
    numbered_lines: set[int] = set()
    state = _ListState()
    for raw_index, raw in enumerate(raw_lines):
        line = clean_line(raw)
        if raw_index in in_table or not line:
            continue
        index = len(positions)
        positions.append(raw_index)
        start = len(found)
        if _read_line(line, index, state, found):
            numbered_lines.add(index)
        if state.section is not None:
            for _, candidate in found[start:]:
                if candidate.entity.kind == "app":
                    candidate.entity.kind = state.section
    for index, candidate in _keep(found, numbered_lines):
        placed.append((positions[index], candidate.entity))
    placed.sort(key=lambda item: item[0])
    return merge_entities([entity for _, entity in placed])


def _read_line(
    line: str, index: int, state: _ListState, found: list[tuple[int, _Candidate]]
) -> bool:
    """Add the entries one list line gives (none for headings and prose) and update the state.

    Returns True when the line is a numbered entry line.
    """
    folded = fold_width(line)
    heading = _HEADING.match(folded)
    if heading:
        rest = line[heading.end() :].strip()
        category = _CATEGORY.match(rest)
        if category:
            state.issue = None
            if category.group("rest"):
                _add_list(found, index, category.group("rest"), None, category=True)
            return False
        state.issue = _problem_heading(rest)
        if state.issue is None:
            state.section = _section_kind(rest) or state.section
        return False
    category = _CATEGORY.match(line)
    if category:
        if category.group("rest"):
            _add_list(found, index, category.group("rest"), state.issue, category=True)
        return False
    numbered = _NUMBERED.match(folded)
    if numbered:
        number = int(numbered.group("a") or numbered.group("b") or numbered.group("c"))
        if numbered.group("c") and number not in (1, state.last_number + 1):
            numbered = None
        else:
            state.last_number = number
    content = line[numbered.end() :].strip() if numbered else line
    if not content:
        return False
    bracketed = re.search(r"[（(《【\[]", content) is not None
    if numbered and not bracketed:
        problem = _problem_heading(content)
        if problem and not parse_columns(content):
            state.issue = problem
            return False
    if bracketed and _add_list(
        found, index, content, state.issue, category=False, numbered=bool(numbered)
    ):
        return bool(numbered)
    columns = parse_columns(content)
    if columns is not None:
        if state.issue and state.issue not in columns.issues:
            columns.issues.append(state.issue)
        found.append((index, _Candidate(columns, bare=False)))
        return False
    if numbered and _add_list(found, index, content, state.issue, category=False, numbered=True):
        return True
    if not numbered and not bracketed and re.search(r"(?:名单|如下)\s*[:：]?$", line):
        state.section = _section_kind(re.sub(r"名单|如下", "", line)) or state.section
    return False


def _add_list(
    found: list[tuple[int, _Candidate]],
    index: int,
    content: str,
    issue: str | None,
    *,
    category: bool,
    numbered: bool = False,
) -> bool:
    """Parse a line's items; keep them only if every item parses (a list, not a sentence)."""
    line_issues: list[str] = []
    tail = _LINE_TAIL.match(content)
    if tail:
        found_issues = _tail_issues(tail["tail"])
        if found_issues is not None:
            content, line_issues = tail["head"], found_issues
    pieces = split_top_level(content)
    candidates: list[_Candidate] = []
    for piece in pieces:
        candidate = parse_entry(piece)
        if candidate is None:
            return False
        if candidate.bare and not (category or numbered):
            return False
        for line_issue in line_issues:
            if line_issue not in candidate.entity.issues:
                candidate.entity.issues.append(line_issue)
        candidates.append(candidate)
    if len(candidates) > 1 and not category and all(c.bare for c in candidates):
        return False
    for candidate in candidates:
        if category:
            candidate.bare = False
        if issue and issue not in candidate.entity.issues:
            candidate.entity.issues.append(issue)
        found.append((index, candidate))
    return bool(candidates)


def _keep(
    found: list[tuple[int, _Candidate]], numbered_lines: set[int]
) -> list[tuple[int, _Candidate]]:
    """Bare names (no bracket, 《》 or column to vouch for them) survive only in runs of at least
    two consecutive numbered lines, or next to a vouched-for entry."""
    vouched_lines = {i for i, c in found if not c.bare}
    kept: list[tuple[int, _Candidate]] = []
    for i, candidate in found:
        if not candidate.bare:
            kept.append((i, candidate))
            continue
        neighbours = {i - 1, i + 1}
        bare_run = any(
            n in numbered_lines and any(j == n and c.bare for j, c in found) for n in neighbours
        )
        if bare_run or neighbours & vouched_lines:
            kept.append((i, candidate))
    return kept
