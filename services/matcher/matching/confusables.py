"""Characters OCR confuses, in one table, and the folded form names are compared in.

Text recognition of Chinese app lists mistakes a few characters for look-alikes that differ by
a stroke or a dot (``输入法`` read as ``输人法``), and in names that mix Chinese with Latin
letters or digits it mistakes ``Q``/``O``/``0``, ``l``/``1``/``I``, ``S``/``5`` and ``B``/``8``
(``QQ音乐`` read as ``0Q音乐``). :func:`ocr_fold` writes every character of such a group as the
group's first one, so a name and its likely OCR misreading fold to the same text.

Only what :data:`GROUPS` lists is folded: two names that differ by any other character never
fold together. Latin letters and digits are folded only in names with Chinese characters:
purely Latin names have the typo rule (:mod:`.fuzzy`) and many short Latin names differ by
exactly one of these letters (``Soul`` / ``5oul`` is rare, ``Ali`` / ``All`` is not).

The first character of each Chinese group is the one common in names and in the region and
legal-form words :func:`~.names.company_core` strips (``广州``, ``天津``, ``人工智能``,
``海口``, ``日报``), so a folded company name still loses those words.
"""

from __future__ import annotations

from functools import lru_cache

from .names import has_cjk

__all__ = [
    "GROUPS",
    "LATIN_GROUPS",
    "fold_text",
    "has_confusable",
    "ocr_fold",
    "slips",
    "text_slips",
]

GROUPS: tuple[str, ...] = (
    "人入",
    "己已巳",
    "未末",
    "土士",
    "日曰",
    "干千于",
    "天夭",
    "王玉",
    "广厂",
    "口囗",
)
"""Chinese look-alikes OCR confuses; each group folds to its first character. ``王``/``玉``
(a dot) is kept because OCR does drop that dot; names of two directory apps that fold together
(any group) are never resolved by their folded form (:mod:`.directory`)."""

LATIN_GROUPS: tuple[str, ...] = ("o0q", "l1i", "s5", "b8")
"""Latin letters and digits OCR confuses, lower-case (names are compared after
:func:`~.names.normalize`); folded only in names that also have Chinese characters."""

_CJK_FOLD = {ord(ch): group[0] for group in GROUPS for ch in group}
_LATIN_FOLD = {ord(ch): group[0] for group in LATIN_GROUPS for ch in group}
_ALL_FOLD = {**_CJK_FOLD, **_LATIN_FOLD}
_CJK_CHARS = frozenset(ch for group in GROUPS for ch in group)
_LATIN_CHARS = frozenset(ch for group in LATIN_GROUPS for ch in group)


def _mixed(norm: str) -> bool:
    """True when ``norm`` mixes Chinese characters with anything (Latin letters, digits)."""
    return not norm.isascii() and has_cjk(norm)


def has_confusable(norm: str) -> bool:
    """True when :func:`ocr_fold` could bring ``norm`` and another name together: it holds a
    character of a Chinese group, or (with Chinese characters) a Latin letter or digit of one."""
    if not _CJK_CHARS.isdisjoint(norm):
        return True
    return _mixed(norm) and not _LATIN_CHARS.isdisjoint(norm)


@lru_cache(maxsize=1 << 16)
def ocr_fold(norm: str) -> str:
    """``norm`` (a :func:`~.names.normalize` d name) with look-alikes written alike.

    >>> ocr_fold("输入法") == ocr_fold("输人法"), ocr_fold("qq音乐") == ocr_fold("0q音乐")
    (True, True)
    >>> ocr_fold("qq") == ocr_fold("0q")  # Latin-only names are not folded
    False
    """
    return norm.translate(_ALL_FOLD if _mixed(norm) else _CJK_FOLD)


def fold_text(text: str) -> str:
    """``text`` as printed (brackets, spaces kept) with its Chinese look-alikes folded: for
    company names, whose region and legal-form words survive the folding."""
    return text.translate(_CJK_FOLD)


def text_slips(text: str, limit: int = 32) -> list[str]:
    """``text`` as printed with one Chinese look-alike changed, each way (at most ``limit``):
    the names an OCR slip of one character could stand for. ``厂州`` -> ``广州``."""
    out: list[str] = []
    for pos, ch in enumerate(text):
        if ch in _CJK_CHARS:
            group = next(g for g in GROUPS if ch in g)
            out.extend(text[:pos] + other + text[pos + 1 :] for other in group if other != ch)
            if len(out) >= limit:
                return out[:limit]
    return out


def slips(norm: str) -> list[str]:
    """Every misreading of ``norm`` that changes one character within its group (for tests
    and measurements): ``输入法`` -> ``输人法``."""
    groups = (*GROUPS, *LATIN_GROUPS) if _mixed(norm) else GROUPS
    out: list[str] = []
    for pos, ch in enumerate(norm):
        for group in groups:
            if ch in group:
                out.extend(norm[:pos] + other + norm[pos + 1 :] for other in group if other != ch)
    return out
