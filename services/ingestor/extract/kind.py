"""What a notice asks for: rectification, removal (下架) or something else."""

from __future__ import annotations

import re

from shared.events import NoticeKind

from .textutil import nonempty_lines

# A removal actually ordered (not threatened: "逾期不整改的，将依法予以下架").
_REMOVAL_ORDER = re.compile(
    r"(?:立即|已|现|依法)?组织(?:对)?[^。；\n]{0,60}?(?:进行|予以|实施)?下架(?:处理)?"
    r"|下架(?:处理|名单|的通报)"
    r"|予以下架(?!等)"
)
_CONDITIONAL = re.compile(r"逾期|如未|若未|拒不|否则|将视情|将依法|仍未整改的|未按要求整改的")
_EN_REMOVAL_TITLE = re.compile(
    r"\b(?:remov(?:e|ed|al|es|ing)|pull(?:ed|s)?|tak(?:e|es|en) down|taken off|delist)", re.I
)
_RECTIFY = re.compile(r"整改|改正|rectif|fix (?:the|their)|\bfix\b", re.I)


def is_removal(text: str, title: str | None = None) -> bool:
    """True when the notice orders apps removed from stores (下架)."""
    head = title if title is not None else " ".join(nonempty_lines(text)[:3])
    if "下架" in head or _EN_REMOVAL_TITLE.search(head):
        return True
    for sentence in re.split(r"[。！？\n]", text):
        if _REMOVAL_ORDER.search(sentence) and not _CONDITIONAL.search(sentence):
            return True
    return False


def notice_kind(text: str, title: str | None, *, has_deadline: bool) -> NoticeKind:
    if is_removal(text, title):
        return "removal"
    if has_deadline or _RECTIFY.search(text):
        return "rectification"
    return "other"
