"""What a table cell looks like, and which column it belongs to when its place was lost.

Copied tables lose cells: a paste one cell per line drops the blank ones, and a developer cell
merged over several rows appears only in the first of them, so later rows shift left. Each cell
is then put back by what it looks like - a company ends in 公司/Ltd/工作室, a store is 商店/市场/
应用宝/App Store/华为/小米, a version is digits and dots ("V5.5.11(0839)RLC", "7.2.3/7.3.1"), an
issue is a phrase with problem words, a sequence number is a small number - in the order the
header gives the columns:

- ``align`` places the cells of one short row (a row of an HTML or text table that has fewer
  cells than its header);
- ``segment`` cuts a run of cells pasted one per line into rows and places each cell, cutting
  where the columns come round again (a sequence number, or the first column's kind of cell);
- ``fill`` groups the words of one row whose cells are separated by single spaces (a table
  copied out of a PDF) into cells and places them.

All three pick the placement that fits best over the whole row or run (dynamic programming), and
prefer the cells' own positions when looks do not decide.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Literal

from .lazy_re import lazy
from .merge import is_company

_CJK = "\u3400-\u9fff\uf900-\ufaff"

Look = Literal["blank", "digits", "company", "store", "version", "issue", "text"]

# A dash read by OCR is often 一 (one): alone in a cell it is a placeholder too.
_PLACEHOLDER = lazy(r"^(?:[-—–－/\\／＼_=~·.。、一]+|无|無|暂无|暫無|空|N/?A|null|none|nil)$", re.I)
_DIGITS = lazy(r"^(?:\d{1,4}\s*[.、．]?|[（(]\s*\d{1,4}\s*[)）])$")
_VERSION = lazy(
    r"^(?:(?:版本号?|版本號|version|ver\.?)\s*[:：]?\s*)?"
    r"[Vv]?\d+(?:\s*[.\-_]\s*\d+)+[^\s，,；;]*"
    r"(?:\s*[/、,，;；]\s*[Vv]?\d+(?:[.\-_]\d+)+[^\s，,；;/、]*)*$"
    r"|^[Vv]\d+$",
    re.I,
)
# A store: a Chinese store name ("华为应用市场", "360手机助手"), or a Latin one on its own or
# after a Chinese brand ("苹果App Store"), never after another Latin word ("Helper App Store").
_STORE_END = lazy(
    r"(?:应用市场|应用商店|软件商店|应用商城|应用中心|游戏中心|软件中心|手机助手|应用宝|豌豆荚|"
    r"应用汇|官网|官方网站|网站|商店|市场)$"
    r"|(?:^|[^A-Za-z\s])\s*(?:App\s*Store|AppStore|Google\s*Play|Play\s*Store)$",
    re.I,
)
_LATIN_STORE = lazy(r"\S*(?:App\s*Store|Google\s*Play|Play\s*Store)", re.I)
_STORE_BRAND = lazy(
    # brands that name a store on their own in a store column ("百度" is an app: not here)
    r"^(?:华为|小米|vivo|OPPO|魅族|荣耀|三星|联想|苹果|安卓|iOS|Android|iPhone|一加|"
    r"金立|中兴|努比亚|酷派|乐视|锤子|华为鸿蒙|鸿蒙|Huawei|Xiaomi|Honor|Meizu|Samsung|Apple|"
    r"Google|应用宝|豌豆荚|PP助手|安智|机锋)$",
    re.I,
)
_PROBLEM = lazy(
    r"收集|使用个人信息|个人信息|权限|违规|违法|超范围|强制|频繁|误导|欺骗|骚扰|注销|自启动|"
    r"关联启动|定向推送|弹窗|索取|调用|明示|共享|传输|泄露|漏洞|隐私政策|未经|未向|未提供|未按|"
    r"未明示|擅自|过度|诱导|捆绑|不合理|不到位|难以|无法"
)

# Words that make even a short phrase an issue ("违规收集"), where "权限管家" is a name.
_STRONG = lazy(r"违规|违法|超范围|强制|频繁|过度|误导|欺骗|骚扰|未经|擅自|诱导")


def is_placeholder(text: str) -> bool:
    """``\\``, ``/``, ``—``, ``-``, ``--``, ``无``, ``N/A`` and such: a cell that says "none"."""
    return _PLACEHOLDER.match(unicodedata.normalize("NFKC", text).strip()) is not None


def _is_store(text: str) -> bool:
    parts = [part.strip() for part in re.split(r"[、/，,；;]|\s{2,}", text) if part.strip()]
    return bool(parts) and all(
        len(part) <= 20
        and (_STORE_END.search(part) or _STORE_BRAND.match(part))
        and (" " not in part or _LATIN_STORE.fullmatch(part))  # not "Helper 华为应用市场"
        for part in parts
    )


def look(text: str) -> Look:
    """What kind of value a cell holds, by its text alone."""
    folded = unicodedata.normalize("NFKC", text).strip()
    if not folded or is_placeholder(folded):
        return "blank"
    single = re.sub(r"\s+", " ", folded)
    if _DIGITS.match(single):
        return "digits"
    if _VERSION.match(single):
        return "version"
    if _is_store(single):
        return "store"
    if is_company(single):
        return "company"
    if _PROBLEM.search(single) and (
        len(single) >= 6 or _STRONG.search(single) or re.search(r"(?:难|不到位|不足)$", single)
    ):
        return "issue"
    return "text"


# How well a look fits a column (positive: belongs there; negative: does not).
_FIT: dict[Look, dict[str, float]] = {
    "blank": {},
    "digits": {"seq": 3.0, "ignore": 1.5, "name": -1.0},
    "company": {"developer": 3.0, "name": -1.0},
    "store": {"store": 3.0, "name": -0.5},
    "version": {"version": 3.0, "name": -1.0},
    "issue": {"issues": 3.0, "name": -2.0},
    "text": {"name": 2.0, "developer": 1.0, "ignore": 0.5, "store": -1.0, "issues": -1.0},
}
_MISFIT = -3.0
_SKIP = -0.3  # a column left out of a row: a blank cell that was dropped
_NEW_ROW = -1.0
_ISSUE_GOES_ON = 0.5  # one more line of the same issue cell


def fit(cell: Look, column: str) -> float:
    if cell == "blank":
        return 0.0
    return _FIT[cell].get(column, _MISFIT)


def _kinds(columns: dict[str, int], width: int) -> list[str]:
    kinds = ["ignore"] * width
    for column, index in columns.items():
        if index < width:
            kinds[index] = column
    return kinds


def align(texts: list[str], columns: dict[str, int], slots: list[int]) -> list[int]:
    """The column (one of ``slots``, in order) each cell of a short row belongs to.

    ``columns`` maps column names (``tables.HEADER_RULES``) to indexes; ``slots`` are the free
    column indexes, ascending. Cells keep their order; a cell that fits nowhere better stays
    at its own position among the slots.
    """
    if len(texts) > len(slots):
        return slots[: len(texts)]
    kinds = _kinds(columns, max(slots) + 1 if slots else 0)
    looks = [look(text) for text in texts]
    n, m = len(texts), len(slots)

    def placed_at(cell: Look, kind: str) -> float:
        # the cell a short row lost is most often a developer cell merged over several rows:
        # a blank cell goes elsewhere when it can
        return -0.05 if cell == "blank" and kind == "developer" else fit(cell, kind)

    # best[i][j]: the first i cells placed within the first j slots; took: cell i-1 in slot j-1
    best = [[0.0 if i == 0 else float("-inf")] * (m + 1) for i in range(n + 1)]
    took = [[False] * (m + 1) for _ in range(n + 1)]
    for i in range(1, n + 1):
        for j in range(i, m + 1):
            place = best[i - 1][j - 1] + placed_at(looks[i - 1], kinds[slots[j - 1]])
            place += 0.01 if i == j else 0.0  # ties: the cell's own position
            if place >= best[i][j - 1]:
                best[i][j], took[i][j] = place, True
            else:
                best[i][j] = best[i][j - 1]
    placed = [0] * n
    i, j = n, m
    while i > 0:
        if took[i][j]:
            placed[i - 1] = slots[j - 1]
            i -= 1
        j -= 1
    return placed


def segment(texts: list[str], columns: dict[str, int], width: int) -> list[dict[int, str]]:
    """A run of cells pasted one per line, cut into rows: each row maps column index -> text
    (several lines of one issue cell joined with a line break)."""
    if not texts:
        return []
    kinds = _kinds(columns, width)
    issues = columns.get("issues")
    looks = [look(text) for text in texts]
    # score[i][j]: best placement of cells 0..i with cell i in column j
    score = [[float("-inf")] * width for _ in texts]
    back = [[-1] * width for _ in texts]
    for j in range(width):
        score[0][j] = fit(looks[0], kinds[j]) + _SKIP * j
    for i in range(1, len(texts)):
        for j in range(width):
            here = fit(looks[i], kinds[j])
            for k in range(width):
                if score[i - 1][k] == float("-inf"):
                    continue
                if j > k:
                    step = _SKIP * (j - k - 1)
                elif j == k and j == issues and looks[i] == "issue":
                    step = _ISSUE_GOES_ON
                else:
                    step = _NEW_ROW + _SKIP * (width - 1 - k) + _SKIP * j
                total = score[i - 1][k] + step + here
                if total > score[i][j]:
                    score[i][j], back[i][j] = total, k
    last = max(range(width), key=lambda j: score[-1][j] + _SKIP * (width - 1 - j))
    path = [last]
    for i in range(len(texts) - 1, 0, -1):
        path.append(back[i][path[-1]])
    path.reverse()
    rows: list[dict[int, str]] = []
    previous = width
    for text, column in zip(texts, path, strict=True):
        same_issue = column == previous and column == issues
        if not rows or (column <= previous and not same_issue):
            rows.append({})
        row = rows[-1]
        row[column] = f"{row[column]}\n{text}" if column in row else text
        previous = column
    return rows


# Chinese companies' English names start with their city or province ("Hangzhou Tripmate
# Technology Co.,Ltd"): where a row's words could be cut before or after such a word, the
# company starts there.
_PLACES = frozenset(
    """beijing tianjin hebei shanxi liaoning jilin heilongjiang shanghai jiangsu zhejiang anhui
    fujian jiangxi shandong henan hubei hunan guangdong guangxi hainan chongqing sichuan
    guizhou yunnan tibet xizang shaanxi gansu qinghai ningxia xinjiang shenzhen guangzhou
    hangzhou chengdu wuhan nanjing xiamen suzhou xian changsha qingdao dalian ningbo hefei
    fuzhou jinan zhengzhou kunming guiyang nanning haikou lanzhou xining yinchuan urumqi
    lhasa harbin changchun shenyang taiyuan shijiazhuang hohhot nanchang dongguan foshan
    zhuhai wuxi hong kong macau macao taipei china sanya""".split()  # noqa: SIM905
)


def _group_fit(words: list[str], column: str) -> float:
    text = " ".join(words)
    score = fit(look(text), column) - 0.2 * (len(words) - 1)
    first = re.sub(r"[^a-z]", "", words[0].lower())
    if column == "developer" and first in _PLACES and look(text) == "company":
        score += 0.5
    latin = not re.search(f"[{_CJK}]", text)
    if column == "developer" and look(text) == "text" and latin:
        score -= 1.5  # a Latin developer says Co., Ltd or Inc.; "Trip" is part of a name
    if column == "issues":  # issues are Chinese phrases: "Helper 违规收集…" is two cells
        score -= sum(1.0 for word in words if not re.search(f"[{_CJK}]", word))
    return score


def fill(words: list[str], columns: dict[str, int], width: int) -> dict[int, str]:
    """The words of one row (cells separated by single spaces, as a PDF copy gives them) grouped
    into cells and placed: column index -> text. Issue cells keep their issues one per line."""
    kinds = _kinds(columns, width)
    n = len(words)
    # best[i][j]: words[:i] placed in columns before j; step: (previous i, previous j, column)
    best = [[float("-inf")] * (width + 1) for _ in range(n + 1)]
    step: list[list[tuple[int, int, int]]] = [[(-1, -1, -1)] * (width + 1) for _ in range(n + 1)]
    best[0][0] = 0.0
    for i in range(n):
        for j in range(width):
            if best[i][j] == float("-inf"):
                continue
            for column in range(j, width):
                for k in range(i + 1, min(n, i + 12) + 1):
                    total = best[i][j] + _SKIP * (column - j)
                    total += _group_fit(words[i:k], kinds[column])
                    if total > best[k][column + 1]:
                        best[k][column + 1] = total
                        step[k][column + 1] = (i, j, column)
    end = max(range(width + 1), key=lambda j: best[n][j] + _SKIP * (width - j))
    cells: dict[int, str] = {}
    i, j = n, end
    while i > 0:
        before, previous, column = step[i][j]
        group = words[before:i]
        issues = kinds[column] == "issues" and all(look(word) == "issue" for word in group)
        cells[column] = ("\n" if issues else " ").join(group)
        i, j = before, previous
    return cells
