"""Matching watchlist items against the entities named in a notice.

Pure functions, no I/O. Two entry points give the same answers:

- :func:`match_entities` compares every watch with every entity (simple; the reference).
- :class:`WatchIndex` keys watches by normalized name, alias brand, pinyin, company core and
  group, so a notice costs O(entities) dictionary lookups whatever the number of watches;
  :func:`match_notice` uses it. Candidates found by key are then scored by the very same
  rules as :func:`match_entities`.

App watches (entity kinds ``app``, ``sdk``, ``mini_program``), first rule that holds wins:

====  =======================================================================================
1.0   equal names after :func:`normalize` (width, case, spaces, punctuation folded); trailing
      platform/version/operator notes in brackets are ignored (``微信（安卓版）`` = ``微信``)
0.95  equal after traditional -> simplified conversion (``騰訊視頻`` = ``腾讯视频``)
0.95  pinyin of the Chinese side equals the romanized other side (``Douyin`` / ``dǒu yīn`` /
      ``dou3yin1`` = ``抖音``); two Chinese names are never matched by sound
0.95  both names are names of the same brand in the alias table (``WeChat`` = ``微信``)
====  =======================================================================================

Keys are compared for equality only, never as substrings or prefixes: ``QQ`` does not match
``QQ阅读``, ``微信`` does not match ``企业微信``, ``Mango TV`` does not match ``芒果``. Edition
words are part of the name: ``抖音（极速版）`` is a different app from ``抖音``.

Company watches look at the entity's developer (each company of a ``A/B`` cell), at an
operator written in brackets after the app name when no developer is given, and at the entity
itself when its kind is ``company``:

====  =======================================================================================
1.0   equal normalized names
0.95  equal :func:`company_core` (``腾讯科技（深圳）有限公司`` ~ ``深圳市腾讯计算机系统有限公司``)
0.95  pinyin of one core equals the romanized other core (``Kuaishou`` ~ ``北京快手科技有限公司``)
0.9   the company belongs to the group the watch names, directly or through a subsidiary group
      (``Tencent`` ~ ``深圳市腾讯计算机系统有限公司``; ``Microsoft`` ~ ``领英``)
0.85  no developer is given and the app is a brand the alias table assigns to the group
====  =======================================================================================
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal

from shared.events import Entity, EntityRef, Match, NoticeEvent, WatchRef

from .aliases import (
    Brand,
    Group,
    brand_of,
    group_by_id,
    group_chain,
    group_named,
    group_of_company,
)
from .names import (
    company_core,
    fold,
    has_cjk,
    normalize,
    roman_key,
    split_companies,
    strip_qualifiers,
)

__all__ = [
    "APP_ENTITY_KINDS",
    "SCORE_ALIAS",
    "SCORE_BRAND_OWNER",
    "SCORE_CORE",
    "SCORE_EXACT",
    "SCORE_GROUP",
    "SCORE_PINYIN",
    "SCORE_SCRIPT",
    "WatchIndex",
    "WatchItem",
    "match_entities",
    "match_notice",
]

SCORE_EXACT = 1.0
SCORE_SCRIPT = 0.95
SCORE_PINYIN = 0.95
SCORE_ALIAS = 0.95
SCORE_CORE = 0.95
SCORE_GROUP = 0.9
SCORE_BRAND_OWNER = 0.85

APP_ENTITY_KINDS: frozenset[str] = frozenset({"app", "sdk", "mini_program"})

_CACHE = 65536


@dataclass(frozen=True)
class WatchItem:
    """One entry of a subscriber's watchlist."""

    subscriber_id: str
    kind: Literal["app", "company"]
    name: str
    id: int | None = None


# --- features -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _AppName:
    base: str
    qualifiers: tuple[str, ...]
    operator: str | None
    folded: str
    norm: str
    cjk: bool
    roman: str | None
    brand: Brand | None


@lru_cache(maxsize=_CACHE)
def _app_name(name: str) -> _AppName:
    q = strip_qualifiers(name)
    return _AppName(
        base=q.base,
        qualifiers=q.qualifiers,
        operator=q.operator,
        folded=fold(q.base),
        norm=normalize(q.base),
        cjk=has_cjk(q.base),
        roman=roman_key(q.base),
        brand=brand_of(q.base),
    )


@dataclass(frozen=True)
class _Company:
    text: str
    norm: str
    core: str
    cjk: bool
    roman: str | None
    groups: tuple[Group, ...]
    """The group the company belongs to, then its owners (empty when unknown)."""


@lru_cache(maxsize=_CACHE)
def _company(name: str) -> _Company:
    core = company_core(name)
    group = group_of_company(name)
    return _Company(
        text=name.strip(),
        norm=normalize(name),
        core=core,
        cjk=has_cjk(core),
        roman=roman_key(core) if core else None,
        groups=group_chain(group) if group else (),
    )


@dataclass(frozen=True)
class _Watch:
    item: WatchItem
    app: _AppName | None = None
    company: _Company | None = None
    group: Group | None = None
    """For company watches: the alias-table group the watch names."""


def _watch(item: WatchItem) -> _Watch:
    if item.kind == "app":
        return _Watch(item, app=_app_name(item.name))
    if item.kind == "company":
        return _Watch(item, company=_company(item.name), group=group_named(item.name))
    raise ValueError(f"unknown watch kind {item.kind!r}")


@dataclass(frozen=True)
class _Subject:
    label: Literal["developer", "operator", "company"]
    company: _Company


@dataclass(frozen=True)
class _Entity:
    entity: Entity
    app: _AppName | None
    subjects: tuple[_Subject, ...]
    owners: tuple[Group, ...]
    """Alias-table owner chain of the app's brand; only used when there is no subject."""
    ref: EntityRef = field(compare=False)


def _entity(entity: Entity) -> _Entity:
    developer = (entity.developer or "").strip()
    app: _AppName | None = None
    subjects: list[_Subject] = []
    if entity.kind == "company":
        subjects.append(_Subject("company", _company(entity.name)))
    else:
        if entity.kind in APP_ENTITY_KINDS:
            app = _app_name(entity.name)
        if developer:
            subjects.extend(_Subject("developer", _company(p)) for p in split_companies(developer))
        elif app is not None and app.operator:
            subjects.append(_Subject("operator", _company(app.operator)))
    owners: tuple[Group, ...] = ()
    if not subjects and app is not None and app.brand is not None and app.brand.owner:
        owners = group_chain(group_by_id(app.brand.owner))
    return _Entity(
        entity=entity,
        app=app,
        subjects=tuple(subjects),
        owners=owners,
        ref=EntityRef(name=entity.name, developer=entity.developer),
    )


# --- rules ----------------------------------------------------------------------------------

_Verdict = tuple[float, str]


def _ignoring(w: _AppName, e: _AppName) -> str:
    notes = [*w.qualifiers, *e.qualifiers]
    if e.operator:
        notes.append(e.operator)
    if w.operator:
        notes.append(w.operator)
    if not notes:
        return ""
    return " ignoring " + ", ".join(f"({n})" for n in notes)


def _match_app(w: _AppName, e: _AppName) -> _Verdict | None:
    if not w.norm or not e.norm:
        return None
    if w.norm == e.norm:
        if w.folded == e.folded:
            return (
                SCORE_EXACT,
                f"app name matches after normalization ({w.base} = {e.base}){_ignoring(w, e)}",
            )
        return (
            SCORE_SCRIPT,
            f"app name matches after traditional/simplified conversion "
            f"({w.base} = {e.base}){_ignoring(w, e)}",
        )
    if w.roman and w.roman == e.roman and not (w.cjk and e.cjk):
        if e.cjk:
            return SCORE_PINYIN, f"pinyin of {e.base} is {e.roman}{_ignoring(w, e)}"
        if w.cjk:
            return SCORE_PINYIN, f"pinyin of {w.base} is {w.roman}{_ignoring(w, e)}"
        return (
            SCORE_PINYIN,
            f"{w.base} and {e.base} are the same romanization ({w.roman}){_ignoring(w, e)}",
        )
    if w.brand is not None and w.brand == e.brand:
        if e.cjk and not w.cjk:
            return SCORE_ALIAS, f"{e.base} is known in English as {w.base}{_ignoring(w, e)}"
        if w.cjk and not e.cjk:
            return SCORE_ALIAS, f"{w.base} is known in English as {e.base}{_ignoring(w, e)}"
        return (
            SCORE_ALIAS,
            f"{w.base} and {e.base} are names of the same app, {w.brand.display}{_ignoring(w, e)}",
        )
    return None


def _belongs(groups: tuple[Group, ...], group: Group) -> str:
    if groups[0] == group:
        return group.display
    return f"{group.display} (through {groups[0].display})"


def _match_company(watch: _Watch, subject: _Subject) -> _Verdict | None:
    w = watch.company
    c = subject.company
    label = subject.label
    if w is None:
        return None
    if w.norm and w.norm == c.norm:
        return (
            SCORE_EXACT,
            f"{label} name matches after normalization ({watch.item.name} = {c.text})",
        )
    if w.core and w.core == c.core:
        return (
            SCORE_CORE,
            f"{label} {c.text} is {w.core} once region and legal-form words are removed",
        )
    if w.roman and w.roman == c.roman and not (w.cjk and c.cjk):
        if c.cjk:
            return SCORE_PINYIN, f"pinyin of {label} {c.text} ({c.core}) is {c.roman}"
        if w.cjk:
            return SCORE_PINYIN, f"pinyin of {w.core} is {w.roman}, as {label} {c.text}"
        return SCORE_PINYIN, f"{label} {c.text} is the same romanization as {watch.item.name}"
    if watch.group is not None and watch.group in c.groups:
        return SCORE_GROUP, f"{label} {c.text} belongs to {_belongs(c.groups, watch.group)}"
    return None


def _evaluate(watch: _Watch, ent: _Entity) -> _Verdict | None:
    if watch.app is not None:
        if ent.app is None:
            return None
        return _match_app(watch.app, ent.app)
    best: _Verdict | None = None
    for subject in ent.subjects:
        verdict = _match_company(watch, subject)
        if verdict is not None and (best is None or verdict[0] > best[0]):
            best = verdict
    if best is None and watch.group is not None and watch.group in ent.owners:
        return (
            SCORE_BRAND_OWNER,
            f"{ent.entity.name} is an app of {_belongs(ent.owners, watch.group)} "
            f"in the alias table (no developer listed)",
        )
    return best


def _to_match(watch: _Watch, ent: _Entity, verdict: _Verdict) -> Match:
    score, reason = verdict
    return Match(
        watch=WatchRef(kind=watch.item.kind, name=watch.item.name),
        entity=ent.ref.model_copy(),
        score=score,
        reason=reason,
    )


def _entity_key(entity: Entity) -> tuple[str, str, str | None]:
    return (entity.kind, entity.name, entity.developer)


# --- reference implementation ---------------------------------------------------------------


def match_entities(
    watches: Sequence[WatchItem], entities: Sequence[Entity]
) -> list[tuple[WatchItem, Match]]:
    """Every (watch, entity) pair that matches, by comparing all pairs.

    Ordered by entity position, then watch position. A repeated entity (same kind, name and
    developer, e.g. one row per store) yields one match per watch, at its first position.
    """
    prepared = [_watch(w) for w in dict.fromkeys(watches)]
    out: list[tuple[WatchItem, Match]] = []
    seen: set[tuple[WatchItem, tuple[str, str, str | None]]] = set()
    for entity in entities:
        ent = _entity(entity)
        for watch in prepared:
            key = (watch.item, _entity_key(entity))
            if key in seen:
                continue
            verdict = _evaluate(watch, ent)
            if verdict is not None:
                seen.add(key)
                out.append((watch.item, _to_match(watch, ent, verdict)))
    return out


def _group_by_subscriber(pairs: Iterable[tuple[WatchItem, Match]]) -> dict[str, list[Match]]:
    grouped: dict[str, list[Match]] = {}
    seen: set[tuple[str, str, str, str, str | None]] = set()
    for item, match in pairs:
        key = (
            item.subscriber_id,
            match.watch.kind,
            match.watch.name,
            match.entity.name,
            match.entity.developer,
        )
        if key in seen:
            continue
        seen.add(key)
        grouped.setdefault(item.subscriber_id, []).append(match)
    return grouped


# --- index ----------------------------------------------------------------------------------


def _app_keys(app: _AppName) -> list[tuple[str, str]]:
    """Index keys of an app name: normalized, romanized, alias-table brand."""
    keys: list[tuple[str, str]] = []
    if app.norm:
        keys.append(("app-norm", app.norm))
    if app.roman:
        keys.append(("app-roman", app.roman))
    if app.brand is not None:
        keys.append(("app-brand", app.brand.id))
    return keys


def _company_keys(company: _Company) -> list[tuple[str, str]]:
    """Index keys of a company name: normalized, core, romanized core."""
    keys: list[tuple[str, str]] = []
    if company.norm:
        keys.append(("co-norm", company.norm))
    if company.core:
        keys.append(("co-core", company.core))
    if company.roman:
        keys.append(("co-roman", company.roman))
    return keys


class WatchIndex:
    """Watches keyed for O(1) candidate lookup per entity.

    Keys: app watches by normalized name, alias brand and romanization; company watches by
    normalized name, company core, romanization of the core and the alias-table group they
    name. Candidates are scored with the same rules as :func:`match_entities`, and results come
    out in the same order (entity position, then the order watches were added).
    """

    def __init__(self, items: Iterable[WatchItem] = ()) -> None:
        self._watches: dict[WatchItem, tuple[int, _Watch]] = {}
        self._seq = 0
        self._keys: dict[tuple[str, str], set[WatchItem]] = {}
        for item in items:
            self.add(item)

    def __len__(self) -> int:
        return len(self._watches)

    def __contains__(self, item: object) -> bool:
        return item in self._watches

    @staticmethod
    def _keys_of(watch: _Watch) -> list[tuple[str, str]]:
        keys = _app_keys(watch.app) if watch.app is not None else []
        if watch.company is not None:
            keys.extend(_company_keys(watch.company))
        if watch.group is not None:
            keys.append(("co-group", watch.group.id))
        return keys

    def add(self, item: WatchItem) -> None:
        """Add a watch; adding an equal item again is a no-op."""
        if item in self._watches:
            return
        watch = _watch(item)
        self._watches[item] = (self._seq, watch)
        self._seq += 1
        for key in self._keys_of(watch):
            self._keys.setdefault(key, set()).add(item)

    def remove(self, item: WatchItem) -> None:
        """Remove a watch; removing an unknown item is a no-op."""
        entry = self._watches.pop(item, None)
        if entry is None:
            return
        for key in self._keys_of(entry[1]):
            bucket = self._keys.get(key)
            if bucket is not None:
                bucket.discard(item)
                if not bucket:
                    del self._keys[key]

    def _lookup_keys(self, ent: _Entity) -> list[tuple[str, str]]:
        keys = _app_keys(ent.app) if ent.app is not None else []
        for subject in ent.subjects:
            keys.extend(_company_keys(subject.company))
            keys.extend(("co-group", g.id) for g in subject.company.groups)
        keys.extend(("co-group", g.id) for g in ent.owners)
        return keys

    def _candidates(self, ent: _Entity) -> list[_Watch]:
        found: set[WatchItem] = set()
        for key in self._lookup_keys(ent):
            bucket = self._keys.get(key)
            if bucket:
                found.update(bucket)
        entries = sorted((self._watches[item] for item in found), key=lambda e: e[0])
        return [watch for _, watch in entries]

    def match_entities(self, entities: Sequence[Entity]) -> list[tuple[WatchItem, Match]]:
        """Same result as :func:`match_entities` over the indexed watches."""
        out: list[tuple[WatchItem, Match]] = []
        seen: set[tuple[WatchItem, tuple[str, str, str | None]]] = set()
        for entity in entities:
            ent = _entity(entity)
            for watch in self._candidates(ent):
                key = (watch.item, _entity_key(entity))
                if key in seen:
                    continue
                verdict = _evaluate(watch, ent)
                if verdict is not None:
                    seen.add(key)
                    out.append((watch.item, _to_match(watch, ent, verdict)))
        return out

    def match(self, notice: NoticeEvent) -> dict[str, list[Match]]:
        """subscriber_id -> that subscriber's matches, in the notice's entity order.

        Subscribers without a match are absent. Matches that would read the same (same watch
        kind and name, same entity name and developer) are listed once.
        """
        return _group_by_subscriber(self.match_entities(notice.entities))


def match_notice(watches: Sequence[WatchItem], notice: NoticeEvent) -> dict[str, list[Match]]:
    """subscriber_id -> matches for ``notice``; see :meth:`WatchIndex.match`."""
    return WatchIndex(watches).match(notice)
