"""What the rules look at: app and company names prepared once, watches and entities as views.

Preparing a name (normalization, pinyin, directory lookups) costs tens of microseconds; a name
is prepared once per process (cached by its text), and a watch once per distinct (kind, name,
aliases), however many subscribers watch it. Every view also lists its index keys: a watch
and an entity that some rule could match always share a key (or are found through the typo
index), which is what lets :class:`~.index.WatchIndex` look candidates up instead of scanning.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from shared.events import EntityRef, WatchRef

from .directory import BrandHit, CompanyHit, Group, default_directory
from .fuzzy import typo_key
from .names import (
    company_core,
    fold,
    has_cjk,
    normalize,
    normalize_pinyin,
    pinyin_key,
    roman_key,
    split_companies,
    strip_qualifiers,
)

__all__ = [
    "APP_ENTITY_KINDS",
    "AppName",
    "CompanyName",
    "EntityView",
    "Subject",
    "WatchSpec",
    "app_name",
    "company_name",
    "entity_view",
    "watch_spec",
]

APP_ENTITY_KINDS: frozenset[str] = frozenset({"app", "sdk", "mini_program"})

_CACHE = 1 << 17


def _key(prefix: str, value: str) -> str:
    return sys.intern(prefix + value)


@dataclass(frozen=True, eq=False)
class AppName:
    """An app name with everything the app rules compare."""

    text: str
    base: str
    """The name without trailing platform/version/operator notes."""
    qualifiers: tuple[str, ...]
    operator: str | None
    folded: str
    norm: str
    cjk: bool
    roman: str | None
    brand: BrandHit | None
    typo: str | None
    """:func:`~.fuzzy.typo_key` of the base name (None when fuzzy matching never applies)."""

    @property
    def keys(self) -> tuple[str, ...]:
        keys = []
        if self.norm:
            keys.append(_key("n:", self.norm))
            if self.roman:
                keys.append(_key("r:", self.roman))
            if self.brand is not None:
                keys.append(_key("b:", self.brand.brand.id))
        return tuple(keys)


@lru_cache(maxsize=_CACHE)
def app_name(name: str) -> AppName:
    q = strip_qualifiers(name)
    norm = normalize(q.base)
    return AppName(
        text=name,
        base=q.base,
        qualifiers=q.qualifiers,
        operator=q.operator,
        folded=fold(q.base),
        norm=norm,
        cjk=has_cjk(q.base),
        roman=roman_key(q.base) if norm else None,
        brand=default_directory().brand_hit(q.base) if norm else None,
        typo=typo_key(q.base),
    )


@dataclass(frozen=True, eq=False)
class CompanyName:
    """A company name with everything the company rules compare."""

    text: str
    norm: str
    core: str
    cjk: bool
    roman: str | None
    hit: CompanyHit | None
    chain: tuple[Group, ...]
    """The group the company belongs to, then the groups that control it (empty if unknown)."""
    covers: Group | None
    """The group this name denotes as a whole (a company watch on it covers the group)."""
    entity_key: str | None
    """Index key of the directory's legal entity this name is, if it is one."""

    @property
    def keys(self) -> tuple[str, ...]:
        if not self.norm:
            return ()
        keys = [_key("cn:", self.norm), _key("cc:", self.core)]
        if self.roman:
            keys.append(_key("cr:", self.roman))
        if self.entity_key:
            keys.append(self.entity_key)
        return tuple(keys)


@lru_cache(maxsize=_CACHE)
def company_name(name: str) -> CompanyName:
    text = name.strip()
    norm = normalize(text)
    core = company_core(text) if norm else ""
    cjk = has_cjk(core)
    roman = (pinyin_key(core) if cjk else normalize_pinyin(core)) if core else None
    directory = default_directory()
    hit = directory.company(text) if norm else None
    entity_key = None
    if hit is not None and hit.entity is not None:
        entity_key = _key("ce:", f"{hit.group.id}#{hit.entity}")
    return CompanyName(
        text=text,
        norm=norm,
        core=core,
        cjk=cjk,
        roman=roman,
        hit=hit,
        chain=directory.chain(hit.group) if hit is not None else (),
        covers=hit.group if hit is not None and hit.names_group else None,
        entity_key=entity_key,
    )


# --- watches --------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class WatchSpec:
    """A watch without its subscriber: kind, name and aliases, prepared."""

    kind: Literal["app", "company"]
    name: str
    aliases: tuple[str, ...]
    apps: tuple[AppName, ...]
    """For app watches: the name, then each alias."""
    companies: tuple[CompanyName, ...]
    """For company watches: the name, then each alias."""
    keys: tuple[str, ...]
    typos: tuple[str, ...]
    """Typo keys of the app names (for the typo index)."""
    ref: WatchRef
    """What matches show of the watch (shared by all its matches: do not mutate)."""

    @property
    def labels(self) -> tuple[str | None, ...]:
        """None for the watch's own name, the alias text for each alias."""
        return (None, *self.aliases)


def clean_aliases(name: str, aliases: tuple[str, ...]) -> tuple[str, ...]:
    """Stripped, without blanks, repeats or the name itself (compared after normalization)."""
    seen = {normalize(name)}
    out: list[str] = []
    for alias in aliases:
        text = alias.strip()
        norm = normalize(text)
        if norm and norm not in seen:
            seen.add(norm)
            out.append(text)
    return tuple(out)


def _ref(kind: Literal["app", "company"], name: str) -> WatchRef:
    return WatchRef(kind=kind, name=name)


@lru_cache(maxsize=_CACHE)
def watch_spec(kind: str, name: str, aliases: tuple[str, ...] = ()) -> WatchSpec:
    """The prepared form of a watch; raises ValueError for an unknown kind."""
    names = (name, *clean_aliases(name, aliases))
    keys: list[str] = []
    if kind == "app":
        apps = tuple(app_name(n) for n in names)
        for app in apps:
            keys.extend(app.keys)
        typos = tuple(dict.fromkeys(a.typo for a in apps if a.typo))
        return WatchSpec(
            "app", name, names[1:], apps, (), tuple(dict.fromkeys(keys)), typos, _ref("app", name)
        )
    if kind == "company":
        companies = tuple(company_name(n) for n in names)
        for company in companies:
            keys.extend(company.keys)
            if company.covers is not None:
                keys.append(_key("cg:", company.covers.id))
        return WatchSpec(
            "company",
            name,
            names[1:],
            (),
            companies,
            tuple(dict.fromkeys(keys)),
            (),
            _ref("company", name),
        )
    raise ValueError(f"unknown watch kind {kind!r}")


# --- entities -------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Subject:
    """A company an entity is attributed to, and where that came from."""

    label: Literal["developer", "operator", "company", "publisher"]
    company: CompanyName


@dataclass(frozen=True, eq=False)
class EntityView:
    """An entity of a notice, prepared."""

    kind: str
    name: str
    developer: str | None
    app: AppName | None
    subjects: tuple[Subject, ...]
    inferred: bool
    """True when the subjects come from the directory (no developer or operator listed)."""
    owners: tuple[Group, ...]
    """The directory's owner chain of the app, when no developer or operator is listed."""
    keys: tuple[str, ...]
    ref: EntityRef

    @property
    def typo(self) -> str | None:
        return self.app.typo if self.app is not None else None


@lru_cache(maxsize=_CACHE)
def entity_view(kind: str, name: str, developer: str | None) -> EntityView:
    cell = (developer or "").strip()
    app: AppName | None = None
    subjects: list[Subject] = []
    inferred = False
    owners: tuple[Group, ...] = ()
    if kind == "company":
        subjects.append(Subject("company", company_name(name)))
    else:
        if kind in APP_ENTITY_KINDS:
            app = app_name(name)
        if cell:
            subjects.extend(Subject("developer", company_name(p)) for p in split_companies(cell))
        elif app is not None and app.operator:
            subjects.append(Subject("operator", company_name(app.operator)))
        elif app is not None and app.brand is not None and app.brand.how != "typo":
            brand = app.brand.brand
            directory = default_directory()
            if brand.publisher:
                subjects.append(Subject("publisher", company_name(brand.publisher)))
                inferred = True
            if brand.owner:
                owners = directory.chain(directory.group(brand.owner))
    keys: list[str] = list(app.keys) if app is not None else []
    for subject in subjects:
        keys.extend(subject.company.keys)
        keys.extend(_key("cg:", g.id) for g in subject.company.chain)
    keys.extend(_key("cg:", g.id) for g in owners)
    return EntityView(
        kind=kind,
        name=name,
        developer=developer,
        app=app,
        subjects=tuple(subjects),
        inferred=inferred,
        owners=owners,
        keys=tuple(dict.fromkeys(keys)),
        ref=EntityRef(name=name, developer=developer),
    )


def clear_caches() -> None:
    """Forget prepared names, watches and entities (after changing a tunable such as
    :data:`~.fuzzy.THRESHOLD`, or to measure preparation cost)."""
    for cached in (app_name, company_name, watch_spec, entity_view, typo_key):
        cached.cache_clear()
