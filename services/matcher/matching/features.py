"""What the rules look at: app and company names prepared once, watches and entities as views.

Preparing a name (normalization, pinyin, directory lookups) costs tens of microseconds; a name
is prepared once per process (cached by its text), and a watch once per distinct (kind, name,
aliases), however many subscribers watch it. Every view also lists its index keys: a watch
and an entity that some rule could match always share a key (or are found through the typo
index), which is what lets :class:`~.index.WatchIndex` look candidates up instead of scanning.
"""

from __future__ import annotations

import hashlib
import sys
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from enum import Enum
from functools import cache, lru_cache
from importlib import metadata, resources
from pathlib import Path
from typing import Literal

from shared.events import Entity, EntityRef, WatchRef

from . import confusables as _confusables
from . import directory as _directory
from . import fuzzy as _fuzzy
from . import names as _names
from .confusables import fold_text, has_confusable, ocr_fold, text_slips
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
    simplified,
    split_companies,
    strip_qualifiers,
)

__all__ = [
    "APP_ENTITY_KINDS",
    "OCR_SOURCES",
    "AppName",
    "CompanyName",
    "EntityView",
    "Subject",
    "WatchSpec",
    "app_name",
    "company_name",
    "entity_view",
    "entity_views",
    "form_keys",
    "form_version",
    "watch_form",
    "watch_spec",
]

APP_ENTITY_KINDS: frozenset[str] = frozenset({"app", "sdk", "mini_program"})

OCR_SOURCES: frozenset[str] = frozenset({"image"})
"""Entity sources read by OCR, whose names may carry look-alike slips (``输人法``): the rule
of :mod:`.confusables` applies to them only. Attachments (.xlsx, .pdf text, .docx) and the
page's text are read as characters, where a look-alike is another name, not a slip; a
scanned .pdf page is OCR'd and its rows are ``image``."""

_CACHE = 1 << 17


# index key tables: a key is (table, text); texts are the prepared strings themselves.
# Romanized names are split by script: APP_ROMAN / CO_ROMAN hold the romanization of Latin
# names (cheap), APP_PINYIN / CO_PINYIN the pinyin of Chinese names (pypinyin). The rules
# compare romanizations only when one side is Latin, so a watch's pinyin is looked up by Latin
# entities only, and a Chinese entity's pinyin is looked up among Latin watches only: neither
# is computed until a name of the other script needs it (see :class:`~.index.WatchIndex`).
(APP_NORM, APP_ROMAN, APP_BRAND, CO_NORM, CO_CORE, CO_ROMAN, CO_ENTITY, CO_GROUP, APP_OCR,
 CO_OCR, APP_PINYIN, CO_PINYIN) = range(12)  # fmt: skip
KEY_TABLES = 12
PINYIN_TABLES = APP_PINYIN
"""Tables from this one on hold the pinyin of Chinese watch names (filed when first needed)."""
Key = tuple[int, str]


class _Later(Enum):
    """A value not computed yet."""

    LATER = 0


_LATER = _Later.LATER


@dataclass(frozen=True, eq=False, slots=True)
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
    _roman: str | _Later | None
    """:attr:`roman`, or :data:`_LATER` until a name with Chinese characters needs it."""
    brand: BrandHit | None
    typo: str | None
    """:func:`~.fuzzy.typo_key` of the base name (None when fuzzy matching never applies)."""
    ocr: str | None
    """:func:`~.confusables.ocr_fold` of the normalized name, when it has a look-alike
    character (else None: no other name folds to it)."""
    ocr_hit: BrandHit | None
    """For a name the directory does not know: the one directory app it is a likely OCR
    misreading of."""
    ocr_clash: bool
    """The folded name is the folded name of two directory apps."""

    @property
    def roman(self) -> str | None:
        """:func:`~.names.roman_key` of the base name: pinyin of a name with Chinese
        characters (computed on first use: it loads pypinyin), else the folded romanization."""
        roman = self._roman
        if roman is _LATER:
            roman = roman_key(self.base) if self.norm else None
            object.__setattr__(self, "_roman", roman)
        return roman

    def index_keys(self) -> list[Key]:
        """Keys of the name as printed, as a watch is filed under them: all but a Chinese
        name's pinyin (:meth:`pinyin_keys`)."""
        keys: list[Key] = []
        if self.norm:
            keys.append((APP_NORM, self.norm))
            roman = self._roman  # a Latin name's is computed already
            if not self.cjk and isinstance(roman, str) and roman:
                keys.append((APP_ROMAN, roman))
            if self.brand is not None:
                keys.append((APP_BRAND, self.brand.brand.id))
        return keys

    def pinyin_keys(self) -> list[Key]:
        """The key of a Chinese name's pinyin (computed now), as a watch is filed under it."""
        if self.norm and self.cjk and self.roman:
            return [(APP_PINYIN, self.roman)]
        return []

    def lookup_keys(self) -> list[Key]:
        """Keys of the name as printed, as an entity's name is looked up: a Latin name's
        romanization among the Latin names' and the Chinese names' pinyin. A Chinese name's
        pinyin is looked up among Latin names only, when there are any (:meth:`later`)."""
        keys = self.index_keys()
        if self.norm and not self.cjk and self.roman:
            keys.append((APP_PINYIN, self.roman))
        return keys

    def later(self) -> list[tuple[int, AppName]]:
        """(table, name) for a Chinese name: its :attr:`roman` is looked up in that table
        when the table is not empty."""
        return [(APP_ROMAN, self)] if self.norm and self.cjk else []

    def ocr_keys(self) -> list[Key]:
        """Keys of an entity's name read by OCR: its folded form, and the directory app it
        likely misreads (the watches of that app, under any of its names)."""
        keys: list[Key] = []
        if self.ocr is not None and self.brand is None and not self.ocr_clash:
            keys.append((APP_OCR, self.ocr))
            if self.ocr_hit is not None:
                keys.append((APP_BRAND, self.ocr_hit.brand.id))
        return keys


@lru_cache(maxsize=_CACHE)
def app_name(name: str) -> AppName:
    q = strip_qualifiers(name)
    norm = normalize(q.base)
    cjk = has_cjk(q.base)
    directory = default_directory()
    brand = directory.brand_hit(q.base) if norm else None
    ocr = ocr_fold(norm) if norm and has_confusable(norm) else None
    return AppName(
        text=name,
        base=q.base,
        qualifiers=q.qualifiers,
        operator=q.operator,
        folded=fold(q.base),
        norm=norm,
        cjk=cjk,
        _roman=_LATER if cjk else (normalize_pinyin(q.base) if norm else None),
        brand=brand,
        typo=typo_key(q.base),
        ocr=ocr,
        ocr_hit=directory.ocr_brand(q.base) if ocr is not None and brand is None else None,
        ocr_clash=ocr is not None and directory.ocr_clash(q.base),
    )


@dataclass(frozen=True, eq=False, slots=True)
class CompanyName:
    """A company name with everything the company rules compare."""

    text: str
    norm: str
    core: str
    cjk: bool
    _roman: str | _Later | None
    """:attr:`roman`, or :data:`_LATER` until a core with Chinese characters needs it."""
    hit: CompanyHit | None
    chain: tuple[Group, ...]
    """The group the company belongs to, then the groups that control it (empty if unknown)."""
    covers: Group | None
    """The group this name denotes as a whole (a company watch on it covers the group)."""
    entity_key: str | None
    """``group#n``: the directory's legal entity this name is, if it is one."""
    ocr_core: str | None
    """:func:`~.names.company_core` of the name with its Chinese look-alikes folded
    (:func:`~.confusables.fold_text`), when it has one."""

    @property
    def roman(self) -> str | None:
        """Pinyin of a core with Chinese characters (computed on first use: it loads
        pypinyin), else the core's folded romanization."""
        roman = self._roman
        if roman is _LATER:
            roman = pinyin_key(self.core) if self.core else None
            object.__setattr__(self, "_roman", roman)
        return roman

    def index_keys(self) -> list[Key]:
        """Keys as a watch is filed under them: all but a Chinese core's pinyin
        (:meth:`pinyin_keys`)."""
        if not self.norm:
            return []
        keys: list[Key] = [(CO_NORM, self.norm), (CO_CORE, self.core)]
        roman = self._roman  # a Latin core's is computed already
        if not self.cjk and isinstance(roman, str) and roman:
            keys.append((CO_ROMAN, roman))
        if self.entity_key:
            keys.append((CO_ENTITY, self.entity_key))
        return keys

    def pinyin_keys(self) -> list[Key]:
        """The key of a Chinese core's pinyin (computed now), as a watch is filed under it."""
        if self.norm and self.cjk and self.roman:
            return [(CO_PINYIN, self.roman)]
        return []

    def lookup_keys(self) -> list[Key]:
        """Keys as an entity's company is looked up (see :meth:`AppName.lookup_keys`)."""
        keys = self.index_keys()
        if self.norm and not self.cjk and self.roman:
            keys.append((CO_PINYIN, self.roman))
        return keys

    def later(self) -> list[tuple[int, CompanyName]]:
        """(table, name) for a Chinese core: its pinyin is looked up there when needed."""
        return [(CO_ROMAN, self)] if self.norm and self.cjk else []


@lru_cache(maxsize=_CACHE)
def company_name(name: str) -> CompanyName:
    text = name.strip()
    norm = normalize(text)
    core = company_core(text) if norm else ""
    cjk = has_cjk(core)
    directory = default_directory()
    hit = directory.company(text) if norm else None
    entity_key = None
    if hit is not None and hit.entity is not None:
        entity_key = sys.intern(f"{hit.group.id}#{hit.entity}")
    ocr_core = None
    if cjk and has_confusable(norm):
        ocr_core = company_core(fold_text(simplified(text)))
    return CompanyName(
        text=text,
        norm=norm,
        core=core,
        cjk=cjk,
        _roman=_LATER if cjk else (normalize_pinyin(core) if core else None),
        hit=hit,
        chain=directory.chain(hit.group) if hit is not None else (),
        covers=hit.group if hit is not None and hit.names_group else None,
        entity_key=entity_key,
        ocr_core=ocr_core,
    )


@dataclass(frozen=True, slots=True)
class CompanyReading:
    """What a company name read by OCR may stand for, when the directory does not know it as
    printed."""

    company: CompanyName | None
    """The directory company that one look-alike changed makes of it, when exactly one does."""
    clash: bool
    """Look-alike changes make it two different directory companies (so neither for sure)."""


@lru_cache(maxsize=_CACHE)
def company_reading(name: str) -> CompanyReading:
    """The reading of a company name printed in a picture: a directory company one look-alike
    slip away (``厂州酷狗计算机科技有限公司`` -> ``广州酷狗计算机科技有限公司``)."""
    printed = company_name(name)
    if printed.hit is not None or printed.ocr_core is None:
        return CompanyReading(None, False)
    directory = default_directory()
    found: dict[tuple[str, int | None], str] = {}
    for variant in text_slips(simplified(printed.text)):
        hit = directory.company(variant, typos=False)
        if hit is not None:
            found.setdefault((hit.group.id, hit.entity), variant)
    if len(found) != 1:
        return CompanyReading(None, len(found) > 1)
    return CompanyReading(company_name(next(iter(found.values()))), False)


# --- watches --------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False, slots=True)
class WatchSpec:
    """A watch without its subscriber: kind, name and aliases, prepared."""

    kind: Literal["app", "company"]
    name: str
    aliases: tuple[str, ...]
    apps: tuple[AppName, ...]
    """For app watches: the name, then each alias."""
    companies: tuple[CompanyName, ...]
    """For company watches: the name, then each alias."""

    @property
    def labels(self) -> tuple[str | None, ...]:
        """None for the watch's own name, the alias text for each alias."""
        return (None, *self.aliases)

    @property
    def cjk(self) -> bool:
        """True when a name or alias has Chinese characters (so :meth:`pinyin_keys` may
        have keys)."""
        return any(a.cjk for a in self.apps) or any(c.cjk for c in self.companies)

    def index_keys(self, pinyin: bool = True) -> list[Key]:
        """Index keys: an entity some rule matches with this watch shares one of them (or
        is one typo away from :meth:`typos`). ``pinyin=False``: without
        :meth:`pinyin_keys`, which only Latin entities look up."""
        keys: list[Key] = []
        for app in self.apps:
            keys.extend(app.index_keys())
            if pinyin and app.cjk:
                keys.extend(app.pinyin_keys())
            if app.ocr is not None:  # an entity read by OCR may misread it
                keys.append((APP_OCR, app.ocr))
        for company in self.companies:
            keys.extend(company.index_keys())
            if pinyin and company.cjk:
                keys.extend(company.pinyin_keys())
            if company.ocr_core is not None:  # a company name read by OCR may misread it
                keys.append((CO_OCR, company.ocr_core))
            if company.covers is not None:
                keys.append((CO_GROUP, company.covers.id))
        return list(dict.fromkeys(keys))

    def pinyin_keys(self) -> list[Key]:
        """The keys of the pinyin of the Chinese names (computed now: it loads pypinyin)."""
        keys: list[Key] = []
        for app in self.apps:
            keys.extend(app.pinyin_keys())
        for company in self.companies:
            keys.extend(company.pinyin_keys())
        return list(dict.fromkeys(keys))

    def typos(self) -> list[str]:
        """Typo keys of the app names (for the typo index)."""
        return list(dict.fromkeys(a.typo for a in self.apps if a.typo))

    def ref(self) -> WatchRef:
        """What matches show of the watch."""
        return WatchRef(kind=self.kind, name=self.name)


def clean_aliases(name: str, aliases: tuple[str, ...]) -> tuple[str, ...]:
    """Stripped, without blanks, repeats or the name itself (compared after normalization)."""
    if not aliases:
        return ()
    seen = {normalize(name)}
    out: list[str] = []
    for alias in aliases:
        text = alias.strip()
        norm = normalize(text)
        if norm and norm not in seen:
            seen.add(norm)
            out.append(text)
    return tuple(out)


def watch_spec(kind: str, name: str, aliases: tuple[str, ...] = ()) -> WatchSpec:
    """The prepared form of a watch; raises ValueError for an unknown kind. Not cached: the
    index keeps one per distinct watch (its names are cached)."""
    names = (name, *clean_aliases(name, aliases))
    if kind == "app":
        return WatchSpec("app", name, names[1:], tuple(app_name(n) for n in names), ())
    if kind == "company":
        return WatchSpec("company", name, names[1:], (), tuple(company_name(n) for n in names))
    raise ValueError(f"unknown watch kind {kind!r}")


# --- stored forms -----------------------------------------------------------------------------

_FORM_FORMAT = b"watch form 1"
_FIELD = "\x1f"
_ENTRY = "\x1e"
_TYPO = "t"
_FORM_PACKAGES = ("pypinyin", "opencc-python-reimplemented")


def watch_form(spec: WatchSpec) -> str | None:
    """What an index needs of a prepared watch to find it as a candidate, as text to store
    with it: its index keys and typo keys (:meth:`WatchSpec.index_keys`,
    :meth:`WatchSpec.typos`). Valid while :func:`form_version` is unchanged. None when a key
    holds a separator character (prepared names never do): such a watch is prepared each time.
    """
    parts = [f"{table}{_FIELD}{text}" for table, text in spec.index_keys()]
    parts.extend(f"{_TYPO}{_FIELD}{typo}" for typo in spec.typos())
    for part in parts:
        if part.count(_FIELD) != 1 or _ENTRY in part:
            return None
    return _ENTRY.join(parts)


def form_keys(form: str) -> tuple[list[Key], list[str]]:
    """The index keys and typo keys a :func:`watch_form` text holds."""
    keys: list[Key] = []
    typos: list[str] = []
    if not form:
        return keys, typos
    for part in form.split(_ENTRY):
        table, _, text = part.partition(_FIELD)
        if table == _TYPO:
            typos.append(text)
        else:
            keys.append((int(table), text))
    return keys, typos


@cache
def form_version() -> str:
    """A digest of everything a watch's form depends on: the code of the modules that prepare
    names, the shipped directory, the pinyin and script-conversion packages and the Unicode
    tables. Stored forms of another version are stale (prepared again)."""
    digest = hashlib.blake2b(_FORM_FORMAT, digest_size=12)
    for module in (_names, _confusables, _fuzzy, _directory, sys.modules[__name__]):
        digest.update(Path(str(module.__file__)).read_bytes())
    digest.update(resources.files(__package__).joinpath("data/directory.json").read_bytes())
    for dist in _FORM_PACKAGES:
        try:
            digest.update(f"{dist} {metadata.version(dist)}".encode())
        except metadata.PackageNotFoundError:
            digest.update(f"{dist} ?".encode())
    digest.update(f"unicode {unicodedata.unidata_version}".encode())
    return digest.hexdigest()


# --- entities -------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False, slots=True)
class Subject:
    """A company an entity is attributed to, and where that came from."""

    label: Literal["developer", "operator", "company", "publisher"]
    company: CompanyName
    reading: CompanyReading | None = None
    """For a company name read by OCR: what it may stand for."""

    def ocr_keys(self) -> list[Key]:
        """Keys of a company name read by OCR: of the directory company it likely misreads,
        else its folded core (watches on names the directory does not know)."""
        reading = self.reading
        if reading is None or reading.clash:
            return []
        if reading.company is not None:
            keys = reading.company.lookup_keys()
            keys.extend((CO_GROUP, g.id) for g in reading.company.chain)
            return keys
        core = self.company.ocr_core  # the watch's folded core, or its core if nothing folds
        return [(CO_OCR, core), (CO_CORE, core)] if core is not None else []


@dataclass(frozen=True, eq=False, slots=True)
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
    ocr: bool
    """Read by OCR (:data:`OCR_SOURCES`): its names may carry look-alike slips."""
    read_as: str | None
    """When the subjects or owners come from the directory (no developer listed) through an
    OCR slip: the name of the app the entity's name likely misreads."""
    keys: tuple[Key, ...]
    later: tuple[tuple[int, AppName | CompanyName], ...]
    """Keys looked up only when their table is not empty: (table, name) for a Chinese name,
    whose key is its :attr:`~AppName.roman` (pinyin, computed then), in the table of Latin
    watch names' romanizations."""
    ref: EntityRef

    @property
    def typo(self) -> str | None:
        return self.app.typo if self.app is not None else None


def _subject(label: Literal["developer", "operator", "company"], name: str, ocr: bool) -> Subject:
    company = company_name(name)
    return Subject(label, company, company_reading(name) if ocr else None)


@lru_cache(maxsize=_CACHE)
def entity_view(kind: str, name: str, developer: str | None, ocr: bool = False) -> EntityView:
    """An entity prepared; ``ocr`` when it was read by OCR (see :func:`entity_views`)."""
    cell = (developer or "").strip()
    app: AppName | None = None
    subjects: list[Subject] = []
    inferred = False
    owners: tuple[Group, ...] = ()
    read_as: str | None = None
    if kind == "company":
        subjects.append(_subject("company", name, ocr))
    else:
        if kind in APP_ENTITY_KINDS:
            app = app_name(name)
        known = app.brand if app is not None else None
        if ocr and app is not None and known is None and not app.ocr_clash:
            known = app.ocr_hit  # the directory app a name read by OCR likely misreads
        if cell:
            subjects.extend(_subject("developer", p, ocr) for p in split_companies(cell))
        elif app is not None and app.operator:
            subjects.append(_subject("operator", app.operator, ocr))
        elif known is not None and known.how != "typo":
            brand = known.brand
            read_as = known.via if known.how == "ocr" else None
            directory = default_directory()
            if brand.publisher:
                subjects.append(Subject("publisher", company_name(brand.publisher)))
                inferred = True
            if brand.owner:
                owners = directory.chain(directory.group(brand.owner))
    keys: list[Key] = app.lookup_keys() if app is not None else []
    later: list[tuple[int, AppName | CompanyName]] = []
    if app is not None:
        later.extend(app.later())
    if ocr and app is not None:
        keys.extend(app.ocr_keys())
    for subject in subjects:
        keys.extend(subject.company.lookup_keys())
        later.extend(subject.company.later())
        keys.extend((CO_GROUP, g.id) for g in subject.company.chain)
        keys.extend(subject.ocr_keys())
        reading = subject.reading
        if reading is not None and not reading.clash and reading.company is not None:
            later.extend(reading.company.later())
    keys.extend((CO_GROUP, g.id) for g in owners)
    return EntityView(
        kind=kind,
        name=name,
        developer=developer,
        app=app,
        subjects=tuple(subjects),
        inferred=inferred,
        owners=owners,
        ocr=ocr,
        read_as=read_as,
        keys=tuple(dict.fromkeys(keys)),
        later=tuple(dict.fromkeys(later)),
        ref=EntityRef(name=name, developer=developer),
    )


def entity_views(entities: Iterable[Entity]) -> Iterator[EntityView]:
    """Each distinct entity (kind, name, developer) once, at its first position, prepared;
    read by OCR when any of its rows came from a source in :data:`OCR_SOURCES`."""
    rows = entities if isinstance(entities, Sequence) else list(entities)
    read_by_ocr = {(e.kind, e.name, e.developer) for e in rows if e.source in OCR_SOURCES}
    seen: set[tuple[str, str, str | None]] = set()
    for entity in rows:
        key = (entity.kind, entity.name, entity.developer)
        if key in seen:
            continue
        seen.add(key)
        yield entity_view(*key, key in read_by_ocr)


def clear_caches() -> None:
    """Forget prepared names, watches and entities (after changing a tunable such as
    :data:`~.fuzzy.THRESHOLD`, or to measure preparation cost)."""
    for cached in (app_name, company_name, company_reading, entity_view, typo_key):
        cached.cache_clear()
