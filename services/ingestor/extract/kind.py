"""What a notice asks for: rectification, removal (下架) or something else."""

from __future__ import annotations

import re

from shared.events import NoticeKind

from .lazy_re import lazy
from .textutil import nonempty_lines

# A removal actually ordered (not threatened: "逾期不整改的，将依法予以下架").
_REMOVAL_ORDER = lazy(
    r"(?:立即|已|现|依法)?组织(?:对)?[^。；\n]{0,60}?(?:进行|予以|实施)?下架(?:处理)?"
    r"|(?:通知|要求|责令|责成)[^。；，,\n]{0,30}?(?:应用商店|应用市场|平台|商店)"
    r"[^。；\n]{0,10}?下架"
    r"|下架(?:处理|名单|的通报)"
    r"|予以下架(?!等)"
)
_CONDITIONAL = lazy(
    r"逾期|如未|若未|拒不|否则|将视情|将依法|仍未整改的|未按要求整改的|未[^。，,]{0,6}整改(?:到位)?的"
    r"|整改不到位的"
)
_EN_REMOVAL_TITLE = lazy(
    r"\b(?:remov(?:e|ed|al|es|ing)|pull(?:ed|s)?|tak(?:e|es|en|ing) down|taken off|delist"
    r"|tak(?:e|es|en|ing)\b[^.]{0,30}\boff\b|off (?:the )?(?:shelves|app stores))",
    re.I,
)
# "ordered app stores to take down 14 apps", "ordered the removal of 23 apps"
_EN_REMOVAL_ORDER = lazy(
    r"\b(?:order(?:s|ed)?|told|tells|instructed|asked)\b[^.]{0,40}?\b(?:to\s+)?"
    r"(?:take\s+down|remove|pull|delist|the removal of|the delisting of)\s+"
    r"(?:[\w-]+\s+){0,3}?(?:apps?|applications|them)\b",
    re.I,
)
_EN_NOT_NOW = lazy(
    r"\b(?:last (?:week|month|year)|earlier|previously|in the past|would|will|could|if|unless"
    r"|had (?:been )?ordered)\b",
    re.I,
)
_RECTIFY = lazy(r"整改|改正|rectif|fix (?:the|their)|\bfix\b", re.I)


def is_removal(text: str, title: str | None = None) -> bool:
    """True when the notice orders apps removed from stores (下架)."""
    lines = nonempty_lines(text)
    head = title if title is not None else lines[0] if lines else ""
    if "下架" in head or _EN_REMOVAL_TITLE.search(head):
        return True
    for sentence in re.split(r"[。！？\n]", text):
        if _REMOVAL_ORDER.search(sentence) and not _CONDITIONAL.search(sentence):
            return True
    # English articles: an order to remove apps in the opening paragraphs, said as news.
    for sentence in re.split(r"(?<=[.!?])\s+|\n", "\n".join(lines[1:6])):
        if _EN_REMOVAL_ORDER.search(sentence) and not _EN_NOT_NOW.search(sentence):
            return True
    return False


def notice_kind(text: str, title: str | None, *, has_deadline: bool) -> NoticeKind:
    if is_removal(text, title):
        return "removal"
    if has_deadline or _RECTIFY.search(text):
        return "rectification"
    return "other"
