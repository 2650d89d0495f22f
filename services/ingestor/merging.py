"""Pure rules for "one notice however often and wherever it is republished".

* :func:`merge` folds a reprint into what is stored: the union of the entities (a name seen
  again fills in what was missing: developer, store, version, issues), missing fields filled,
  the regulator's own (Chinese) deadline preferred over a press summary's.
* :func:`same_notice` says whether two copies that extraction gave different ids are one
  notice (a reprint with another title, or dated by its signature a day later).
* :func:`follow_up_score` ranks stored notices as the one a removal notice follows up.

No I/O: the store (``store.py``) loads candidates and applies these.
"""

from __future__ import annotations

import copy
import unicodedata
from datetime import date
from functools import lru_cache
from typing import Any

from opencc import OpenCC

from shared.events import Entity, NoticeEvent

REPRINT_DAYS = 3
"""A reprint may carry the signature date rather than the posting date (a day or two apart)."""
FOLLOW_UP_DAYS = 3
"""How far the date a removal notice cites may be from the stored notice's date."""
SAME_ENTITIES = 0.8
"""Share of entity names two copies must have in common (Jaccard) to be one notice."""

FOLLOWS_UP = "follows_up"
"""The optional NoticeEvent field of a removal notice: its reference to the earlier notice."""

_T2S = OpenCC("t2s")


@lru_cache(maxsize=4096)
def name_key(name: str) -> str:
    """Comparable form of a name: NFKC (full-width folded), simplified script, case-folded,
    without spaces and punctuation. ``騰訊 視頻`` and ``腾讯视频`` give the same key."""
    text = _T2S.convert(unicodedata.normalize("NFKC", name))
    return "".join(
        ch for ch in text if not ch.isspace() and unicodedata.category(ch)[0] not in "PSZ"
    ).casefold()


def _same_developer(a: str | None, b: str | None) -> bool:
    return a is None or b is None or name_key(a) == name_key(b)


def merge_entities(old: list[Entity], new: list[Entity]) -> list[Entity]:
    """Old entities in their order, each completed from the new copy, then the new ones.

    The same name with two different developers stays two entities (two apps can share a name);
    a name without a developer joins the entity of that name that has one.
    """
    merged = [entity.model_copy(deep=True) for entity in old]
    for entity in new:
        key = name_key(entity.name)
        same = [
            m
            for m in merged
            if name_key(m.name) == key and _same_developer(m.developer, entity.developer)
        ]
        if not same:
            merged.append(entity.model_copy(deep=True))
            continue
        target = next((m for m in same if m.developer is not None), same[0])
        if target.developer is None and entity.developer is not None:
            target.developer = entity.developer
        if target.store is None:
            target.store = entity.store
        if target.version is None:
            target.version = entity.version
        if target.kind == "app" and entity.kind != "app":
            target.kind = entity.kind
        known = {name_key(issue) for issue in target.issues}
        for issue in entity.issues:
            if name_key(issue) not in known:
                target.issues.append(issue)
                known.add(name_key(issue))
    return merged


_MERGED_ABOVE = frozenset({"deadline", "list_incomplete_reason"})


def merge(old: NoticeEvent, new: NoticeEvent) -> NoticeEvent:
    """The same notice seen again (a reprint): keep what was known, add what is new.

    The stored identity (``notice_id``, regulator, publication date) never changes. Missing
    fields are filled from the new copy; a deadline read from the regulator's own Chinese text
    replaces one read from an English press summary (the press rounds "15 working days" to
    "15 days").
    """
    merged = old.model_copy(deep=True)
    merged.entities = merge_entities(old.entities, new.entities)
    if merged.kind == "other" and new.kind != "other":
        merged.kind = new.kind
    regulator_text = old.language != "zh" and new.language == "zh"
    better = merged.deadline is None or (regulator_text and new.deadline != old.deadline)
    if merged.kind != "removal" and new.deadline is not None and better:
        merged.deadline = new.deadline.model_copy()
    if regulator_text and new.title:
        merged.title = new.title
        merged.language = "zh"
    elif not merged.title.strip() and new.title.strip():
        merged.title = new.title
    if merged.list_incomplete and not new.list_incomplete:
        merged.list_incomplete = False  # one copy gave the whole list
        merged.list_incomplete_reason = None
    for name in type(merged).model_fields:  # any other optional field one copy lacked
        if name not in _MERGED_ABOVE and getattr(merged, name) is None:
            value = getattr(new, name)
            if value is not None:
                setattr(merged, name, copy.deepcopy(value))
    return merged


def entity_keys(notice: NoticeEvent) -> set[str]:
    return {name_key(entity.name) for entity in notice.entities}


def jaccard(a: set[str], b: set[str]) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)


def _kinds_compatible(a: NoticeEvent, b: NoticeEvent) -> bool:
    return a.kind == b.kind or "other" in (a.kind, b.kind)


def same_notice(stored: NoticeEvent, incoming: NoticeEvent) -> bool:
    """Two copies with different ids that are one notice: same regulator, dates at most
    :data:`REPRINT_DAYS` apart, compatible kinds, and the same batch label (when both have
    one) or nearly the same entities (at least :data:`SAME_ENTITIES` in common; for copies
    dated differently, at least three entities, so that two one-app notices a day apart are
    not taken for one)."""
    if stored.regulator.code != incoming.regulator.code:
        return False
    if abs((stored.published_on - incoming.published_on).days) > REPRINT_DAYS:
        return False
    if not _kinds_compatible(stored, incoming):
        return False
    if stored.batch and incoming.batch:
        return name_key(stored.batch) == name_key(incoming.batch)
    a, b = entity_keys(stored), entity_keys(incoming)
    if jaccard(a, b) < SAME_ENTITIES:
        return False
    return stored.published_on == incoming.published_on or min(len(a), len(b)) >= 3


# --- removal notices and the notice they follow up ---------------------------------------


def ref_value(ref: Any, name: str) -> Any:
    """A field of a ``follows_up`` reference, whether a model or a plain dict."""
    if isinstance(ref, dict):
        return ref.get(name)
    return getattr(ref, name, None)


def ref_date(ref: Any) -> date | None:
    value = ref_value(ref, "published_on")
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


def ref_regulator(ref: Any, default: str) -> str:
    for name in ("regulator", "regulator_code"):
        value = ref_value(ref, name)
        if isinstance(value, str) and value:
            return value
        code = ref_value(value, "code") if value is not None else None
        if isinstance(code, str) and code:
            return code
    return default


def ref_count(ref: Any) -> int | None:
    value = ref_value(ref, "count")
    return value if isinstance(value, int) and value > 0 else None


def follow_up_score(removal: NoticeEvent, candidate: NoticeEvent, cited: date) -> float | None:
    """How well ``candidate`` fits as the notice ``removal`` follows up; None if it cannot be.

    It must be an earlier, non-removal notice of the cited regulator within
    :data:`FOLLOW_UP_DAYS` of the cited date. The exact date, the cited count (of apps or of
    companies) and the share of the removed apps it named raise the score.
    """
    if candidate.notice_id == removal.notice_id or candidate.kind == "removal":
        return None
    if candidate.published_on > removal.published_on:
        return None
    gap = abs((candidate.published_on - cited).days)
    if gap > FOLLOW_UP_DAYS:
        return None
    score = 2.0 if gap == 0 else 1.0 - gap / (FOLLOW_UP_DAYS + 1)
    ref = getattr(removal, FOLLOWS_UP, None)
    count = ref_count(ref) if ref is not None else None
    if count is not None:
        developers = {name_key(e.developer) for e in candidate.entities if e.developer}
        if count in (len(candidate.entities), len(developers)):
            score += 2.0
    removed = entity_keys(removal)
    if removed:
        score += 3.0 * len(removed & entity_keys(candidate)) / len(removed)
    return score
