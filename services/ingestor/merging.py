"""Pure rules for "one notice however often and wherever it is republished".

* :func:`merge` folds a reprint into what is stored: the union of the entities (a name seen
  again fills in what was missing: developer, store, version, issues), missing fields filled,
  the regulator's own (Chinese) deadline preferred over a press summary's.
* :func:`same_notice` says whether two copies that extraction gave different ids are one
  notice (a reprint with another title, or dated by its signature a day later, or a press
  story naming a few of the notice's apps: :func:`press_fit`).
* :func:`follow_up_score` ranks stored notices as the one a removal notice follows up.

No I/O: the store (``store.py``) loads candidates and applies these.
"""

from __future__ import annotations

import copy
import re
import unicodedata
from datetime import date
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from opencc import OpenCC

from shared.app_names import chinese_names
from shared.events import Entity, NoticeEvent

REPRINT_DAYS = 3
"""A reprint may carry the signature date rather than the posting date (a day or two apart)."""
FOLLOW_UP_DAYS = 3
"""How far the date a removal notice cites may be from the stored notice's date."""
SAME_ENTITIES = 0.8
"""Share of entity names two copies must have in common (Jaccard) to be one notice."""
PRESS_DAYS = 3
"""A press story is published at most this many days after the notice it reports."""
PRESS_EARLY_DAYS = 1
"""... and at most this many days before it (the notice posted a day after it was signed)."""
PRESS_SHARED = 2
"""Apps a press story without a count must share with the notice (and at least half of the
apps it names)."""

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
    by_key: dict[str, list[Entity]] = {}  # name key -> those entities, in merged order
    for entity in merged:
        by_key.setdefault(name_key(entity.name), []).append(entity)
    for entity in new:
        key = name_key(entity.name)
        same = [m for m in by_key.get(key, ()) if _same_developer(m.developer, entity.developer)]
        if not same:
            copy = entity.model_copy(deep=True)
            merged.append(copy)
            by_key.setdefault(key, []).append(copy)
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

    A press story and the regulator's notice (:func:`is_press`): the notice wins whichever
    came first. Stored first, the press story adds nothing but the apps a list the notice could
    not give whole lacks; stored after a press-only notice, it replaces it in place (keeping
    its id): the regulator's title, date, batch, deadline and list, plus the press's apps it
    lacks when its own list is incomplete.
    """
    if is_press(new) and not is_press(old):
        return _with_press(old, new)
    if is_press(old) and not is_press(new):
        return _official_over_press(old, new)
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
    _merge_completeness(merged, old, new)
    _fill_missing(merged, new)
    return merged


def _merge_completeness(merged: NoticeEvent, old: NoticeEvent, new: NoticeEvent) -> None:
    """Complete when one copy gave the whole list, or the union reaches the declared count;
    else the reason of the copy that read more."""
    declared = merged.declared_count or new.declared_count
    if not (old.list_incomplete and new.list_incomplete) or (
        declared and len(merged.entities) >= declared
    ):
        merged.list_incomplete = False
        merged.list_incomplete_reason = None
    elif len(new.entities) > len(old.entities):
        merged.list_incomplete_reason = new.list_incomplete_reason


def _fill_missing(merged: NoticeEvent, new: NoticeEvent) -> None:
    for name in type(merged).model_fields:  # any other optional field one copy lacked
        if name not in _MERGED_ABOVE and getattr(merged, name) is None:
            value = getattr(new, name)
            if value is not None:
                setattr(merged, name, copy.deepcopy(value))


def _with_press(official: NoticeEvent, press: NoticeEvent) -> NoticeEvent:
    merged = official.model_copy(deep=True)
    merged.entities = merge_entities(official.entities, press_extras(official, press))
    return merged


def _official_over_press(press: NoticeEvent, official: NoticeEvent) -> NoticeEvent:
    """The regulator's copy in place of a press-only notice. Apps the press named in Chinese
    that the regulator's list lacks stay (they were alerted on; nothing stored is lost); its
    English names of the regulator's apps go."""
    merged = official.model_copy(deep=True, update={"notice_id": press.notice_id})
    forms = _forms(official.entities)
    kept = press_extras(official, press)
    kept_keys = {name_key(e.name) for e in kept}
    kept += [
        e.model_copy(deep=True)
        for e in press.entities
        if _CJK.search(e.name) and not corresponding(e, forms) and name_key(e.name) not in kept_keys
    ]
    merged.entities = merge_entities(official.entities, kept)
    if merged.source_url is None:
        merged.source_url = press.source_url
    if merged.declared_count is None:
        merged.declared_count = press.declared_count
    if merged.follows_up is None and press.follows_up is not None:
        merged.follows_up = press.follows_up.model_copy()
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
    not taken for one). A press story about the notice is one too (:func:`press_fit`)."""
    return is_reprint(stored, incoming) or press_fit(stored, incoming) is not None


def batch_key(notice: NoticeEvent) -> str | None:
    """The key its batch label is compared by (None without one): two copies whose labels
    both exist and differ are never one notice, neither a reprint nor a press story."""
    return name_key(notice.batch) if notice.batch else None


def is_reprint(stored: NoticeEvent, incoming: NoticeEvent) -> bool:
    """The first half of :func:`same_notice`: a reprint of the same text."""
    if stored.regulator.code != incoming.regulator.code:
        return False
    if abs((stored.published_on - incoming.published_on).days) > REPRINT_DAYS:
        return False
    if not _kinds_compatible(stored, incoming):
        return False
    if stored.batch and incoming.batch:
        return batch_key(stored) == batch_key(incoming)
    a, b = entity_keys(stored), entity_keys(incoming)
    if jaccard(a, b) < SAME_ENTITIES:
        return False
    return stored.published_on == incoming.published_on or min(len(a), len(b)) >= 3


# --- press stories about a notice -----------------------------------------------------------

_OFFICIAL_TITLE = re.compile(r"(?:^|[办部局室心会厅])关于.{2,}?(?:通报|通知|公告|通告)")
"""The regulator's own title: "关于…的通报", at the start or after the issuer's name (also with
a site name after it, as page titles have)."""
_OFFICIAL_HOSTS = (".gov.cn", ".gov")
_CJK = re.compile(r"[\u3400-\u9fff]")
_LATIN_KEEP = re.compile(r"[^0-9a-z]+")


def is_press(notice: NoticeEvent) -> bool:
    """A copy written by the press rather than the regulator: in a language other than
    Chinese, or (in Chinese) with no batch label, not under a "关于…的通报" title and not from a
    government site. The regulator's own text (or a reprint of it) is not press."""
    if notice.language != "zh":
        return True
    if notice.batch:
        return False
    host = (urlsplit(notice.source_url).hostname or "") if notice.source_url else ""
    if host.endswith(_OFFICIAL_HOSTS):
        return False
    title = _T2S.convert(unicodedata.normalize("NFKC", notice.title)).strip()
    return _OFFICIAL_TITLE.search(re.sub(r"\s+", "", title)) is None


@lru_cache(maxsize=8192)
def name_forms(name: str) -> frozenset[str]:
    """Every form one app's name may take in a notice or a press story: the name key, the
    toneless pinyin of a Chinese name (抖音 -> ``douyin``), the letters of a Latin one
    (``Douyin`` -> ``douyin``) and the Chinese names the press's English name stands for
    (``Tencent Video`` -> 腾讯视频, from :mod:`shared.app_names`)."""
    key = name_key(name)
    forms = {key} if key else set()
    if _CJK.search(key):
        from pypinyin import Style, lazy_pinyin  # its dictionaries take a second to load

        forms.add("py:" + "".join(lazy_pinyin(key, style=Style.NORMAL)))
    else:
        latin = _LATIN_KEEP.sub("", unicodedata.normalize("NFKC", name).casefold())
        if latin:
            forms.add("py:" + latin)
        forms.update(name_key(chinese) for chinese in chinese_names(name))
    return frozenset(forms)


def _forms(entities: list[Entity]) -> set[str]:
    return {form for entity in entities for form in name_forms(entity.name)}


def corresponding(entity: Entity, forms: set[str]) -> bool:
    """Whether ``entity`` is one of the apps whose :func:`name_forms` are ``forms``."""
    return not name_forms(entity.name).isdisjoint(forms)


def _resolvable(entity: Entity) -> bool:
    """A press name whose absence from a complete list means something: written in Chinese,
    or an English name the table knows."""
    return bool(_CJK.search(entity.name)) or bool(chinese_names(entity.name))


def listed_count(notice: NoticeEvent) -> int | None:
    """How many apps the notice names: its declared count, else the length of a list it gives
    whole; None when neither is known."""
    if notice.declared_count:
        return notice.declared_count
    if not notice.list_incomplete and notice.entities:
        return len(notice.entities)
    return None


def _counts_agree(press: NoticeEvent, official: NoticeEvent) -> bool | None:
    """True when both counts are known and agree, False when they disagree, None when the
    press gives none or the notice's is unknown. A count read from a list (not declared)
    may be a little short of the press's: extraction can miss a row."""
    said = press.declared_count
    if not said:
        return None
    if official.declared_count:
        return official.declared_count == said
    listed = listed_count(official)
    if listed is None:
        return None
    return abs(listed - said) <= max(1, said // 20)


def press_fit(a: NoticeEvent, b: NoticeEvent) -> int | None:
    """When one of the two is a press story about the other, how many of the apps it names
    the other has (a rank among candidates); None when they are not one notice.

    A press story (:func:`is_press`) is the regulator's notice when: same regulator; compatible
    kinds; published from :data:`PRESS_EARLY_DAYS` before to :data:`PRESS_DAYS` after it;
    batch labels equal when both give one; counts equal when both give one ("等105款" vs "105
    apps"; a count read from a whole list may differ by 5 %); and its apps mostly among the
    notice's, compared by name, pinyin and :mod:`shared.app_names`: with agreeing counts, no
    more than half of the Chinese (or known English) names it gives missing from a complete
    list; without a count, at least :data:`PRESS_SHARED` apps in common and half of its own.
    Two press stories are one notice on the same rules, read both ways.
    """
    if is_press(b) and not is_press(a):
        a, b = b, a
    if not is_press(a):
        return None
    press, official = a, b
    if press.regulator.code != official.regulator.code or not _kinds_compatible(press, official):
        return None
    gap = (press.published_on - official.published_on).days
    limit = REPRINT_DAYS if is_press(official) else PRESS_DAYS
    early = REPRINT_DAYS if is_press(official) else PRESS_EARLY_DAYS
    if not -early <= gap <= limit:
        return None
    if press.batch and official.batch and batch_key(press) != batch_key(official):
        return None
    agree = _counts_agree(press, official)
    if agree is None and is_press(official):
        agree = _counts_agree(official, press)
    if agree is False:
        return None
    forms = _forms(official.entities)
    found = sum(corresponding(entity, forms) for entity in press.entities)
    if agree:
        checkable = [e for e in press.entities if _resolvable(e)]
        missing = sum(not corresponding(e, forms) for e in checkable)
        complete = not official.list_incomplete and bool(official.entities)
        if complete and len(checkable) >= 2 and missing * 2 > len(checkable):
            return None
        return found
    if found >= PRESS_SHARED and found * 2 >= len(press.entities):
        return found
    return None


def press_extras(official: NoticeEvent, press: NoticeEvent) -> list[Entity]:
    """What the press story's apps add to the notice's: the details of an app both spell
    alike (a developer, a store), and the apps the notice does not give when its own list is
    incomplete (an image, an attachment not given). An app the notice gives under another
    name (``Douyin`` for 抖音) adds nothing."""
    keys = entity_keys(official)
    forms = _forms(official.entities)
    return [
        e.model_copy(deep=True)
        for e in press.entities
        if name_key(e.name) in keys or (official.list_incomplete and not corresponding(e, forms))
    ]


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
