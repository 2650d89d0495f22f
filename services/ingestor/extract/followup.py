"""The earlier notice a removal (or a re-check) follows up, and how many apps a notice names.

"2021年1月22日，我部向社会通报了157家存在侵害用户权益行为的企业" -> the notice of 2021-01-22 by
the same regulator, naming 157. The store links the two by regulator and date.
"""

from __future__ import annotations

import re
from datetime import date

from shared.errors import InputError
from shared.events import NoticeRef

from .lazy_re import lazy
from .regulators import detect_regulator
from .textutil import CN_NUMERAL_CHARS, cn_number, en_number, fold_width, nonempty_lines

_NUM = rf"(?:\d{{1,4}}|[{CN_NUMERAL_CHARS}]{{1,6}})"
_EARLIER = lazy(
    r"(?P<pre>[^，,。；;\n]{0,20}?)(?:于|在)?\s*"
    r"(?P<y>\d{4})\s*年\s*(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*日\s*[,，]?\s*"
    r"(?P<who>[^，,。；;\n]{0,20}?)"
    r"(?:向社会|公开|曾|已|先后|在官网|在其官网)*(?:公开)?(?:通报|公布|发布)了?"
    rf"(?:[^。；;\n\d]{{0,60}}?)(?P<count>{_NUM})\s*(?:家|款|个)"
)
_SELF = lazy(r"^(?:我部|我局|我办|本部|本局|我中心|本中心|我委|本委)?$")
_TITLE = lazy(r"《(?P<title>关于[^》]{4,80})》")
# "等84款App", "发现有4款APP", "42款移动应用": how many the notice says it names.
_CN_COUNT = lazy(
    rf"(?P<n>{_NUM})\s*款\s*[^\s，。,、；]{{0,20}}?(?:App|APP|app|移动应用|应用程序|应用|软件|SDK"
    r"|小程序|产品)"
)
_EN_COUNT = lazy(
    r"\b(?P<n>\d{1,3}|(?:twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)(?:-\w+)?"
    r"|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen"
    r"|three|four|five|six|seven|eight|nine|ten)\s+(?:more\s+)?(?:mobile\s+)?(?:apps|applications)\b",
    re.I,
)

_PAST = lazy(r"上周|此前|曾经|\bearlier\b|\blast (?:week|month|year)\b", re.I)


_QUICK = lazy(r"\d{4}\s*年[^。]*?(?:通报|公布|发布)")


def _earlier(sentence: str) -> re.Match[str] | None:
    """``_EARLIER`` in a sentence (a cheap test first: most sentences name no date)."""
    if not _QUICK.search(sentence):
        return None
    return _EARLIER.search(sentence)


def find_follows_up(text: str, regulator_code: str) -> NoticeRef | None:
    """The earlier notice this one refers back to, when it says when that one was published."""
    folded = fold_width(text)
    for sentence in re.split(r"[。！？\n]", folded):
        m = _earlier(sentence)
        if m is None:
            continue
        try:
            published = date(int(m["y"]), int(m["m"]), int(m["d"]))
        except ValueError:
            continue
        code: str | None = regulator_code
        for who in (m["who"].strip(), m["pre"].strip()):
            if _SELF.match(who):
                continue
            try:
                code = detect_regulator(who).code
                break
            except InputError:  # not a regulator's name: the notice's own regulator
                continue
        title = _TITLE.search(sentence)
        return NoticeRef(
            published_on=published,
            count=cn_number(m["count"]),
            regulator_code=code,
            title=title["title"] if title else None,
        )
    return None


def declared_count(title: str, text: str, *, english: bool) -> int | None:
    """How many apps the notice says it names: from the title, else the opening paragraphs
    (sentences about an earlier notice do not count)."""
    sources = [title, *nonempty_lines(text)[:12]]
    for source in sources:
        folded = fold_width(source)
        for sentence in re.split(r"[。！？；;]|(?<=[a-z])\.\s", folded):
            if _earlier(sentence) or _PAST.search(sentence):
                continue
            if english:
                m = _EN_COUNT.search(sentence)
                number = en_number(m["n"]) if m else None
            else:
                m = _CN_COUNT.search(sentence)
                number = cn_number(m["n"]) if m else None
            if number:
                return number
    return None
