"""The directory of well-known apps and the companies behind them, shipped as data.

``data/directory.json`` lists apps (:class:`Brand`: every name an app goes by, in Chinese and
English, the group that owns it and the legal entity that publishes it) and companies
(:class:`Group`: the names of a company or group, its legal entities in Chinese and English,
and the group that controls it). Every entry says which kind of public record its facts come
from (``source``); ``press`` alone means widely reported and not checked against a primary
record.

:func:`load_directory` validates the file: unknown references, ownership cycles, and one
alias naming two apps (or one company name two companies) after normalization are errors,
unless every entry using that alias lists it under ``ambiguous``. Ambiguous names resolve to
nothing (they still match by spelling).

Lookups are by exact normalized name, by pinyin for romanized input, and (for long Latin
names) by one typo (:mod:`.fuzzy`). Keys are exact: ``QQ`` is not ``QQ音乐``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from .confusables import has_confusable, ocr_fold
from .fuzzy import TypoIndex, typo_key, typo_similarity
from .names import (
    company_core,
    company_core_tokens,
    has_cjk,
    normalize,
    normalize_pinyin,
    pinyin_key,
)

__all__ = [
    "SOURCE_KINDS",
    "Brand",
    "BrandHit",
    "CompanyHit",
    "Directory",
    "DirectoryError",
    "Group",
    "default_directory",
    "load_directory",
]

SOURCE_KINDS = frozenset({"filings", "registry", "store", "notice", "icp", "press"})


class DirectoryError(ValueError):
    """The directory file is malformed or inconsistent; the message names the entry."""


@dataclass(frozen=True, eq=False)
class Brand:
    """One app (one store listing family), under all the names it is known by."""

    id: str
    display: str
    names: tuple[str, ...]
    owner: str | None
    """Id of the :class:`Group` that owns the app, when known."""
    publisher: str | None = None
    """The legal entity that publishes it (one of the owner chain's entities), when known."""
    source: tuple[str, ...] = ()
    note: str = ""
    ambiguous: tuple[str, ...] = ()


@dataclass(frozen=True, eq=False)
class Group:
    """A company or company group: its names, its legal entities and its parent."""

    id: str
    display: str
    names: tuple[str, ...]
    """Names of the company itself; a company watch with one of these covers all of it."""
    entities: tuple[tuple[str, ...], ...]
    """Legal entities, each as its names (Chinese, English); a developer that is one of these
    belongs to the group."""
    source: tuple[str, ...] = ()
    note: str = ""
    parent: str | None = None
    """Id of the group that controls this one (LinkedIn -> Microsoft)."""
    prefixes: tuple[str, ...] = ()
    """Names distinctive enough that a company name *starting* with them belongs to the
    group (``腾讯`` + ``智慧科技（深圳）有限公司``), unless a longer directory name starts it too
    (``京东方`` is BOE, not ``京东``)."""
    ambiguous: tuple[str, ...] = ()

    @property
    def members(self) -> tuple[str, ...]:
        """Every legal-entity name, flattened."""
        return tuple(name for entity in self.entities for name in entity)


@dataclass(frozen=True, slots=True)
class BrandHit:
    """How a name resolved to a :class:`Brand`."""

    brand: Brand
    how: Literal["name", "pinyin", "typo", "ocr"]
    via: str
    """The directory name that matched (for ``typo``: the one the name is a misspelling of;
    for ``ocr``: the one the name is a likely OCR misreading of)."""
    similarity: float | None = None


@dataclass(frozen=True, slots=True)
class CompanyHit:
    """How a company name resolved to a :class:`Group` (and maybe one of its entities)."""

    group: Group
    how: Literal["name", "entity", "pinyin", "prefix", "typo"]
    via: str
    """The directory name that matched."""
    entity: int | None = None
    """Index into ``group.entities`` when the name is one of the group's legal entities."""
    similarity: float | None = None

    @property
    def names_group(self) -> bool:
        """True when the name denotes the whole company (a name of the group itself)."""
        return self.entity is None and self.how in ("name", "pinyin", "typo")


# --- loading --------------------------------------------------------------------------------


def _strings(raw: Any, where: str, what: str) -> tuple[str, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(isinstance(x, str) and x.strip() for x in raw):
        raise DirectoryError(f"{where}: {what} must be a list of non-empty strings")
    return tuple(x.strip() for x in raw)


def _sources(raw: Any, where: str) -> tuple[str, ...]:
    kinds = _strings(raw, where, "source")
    if not kinds:
        raise DirectoryError(f"{where}: needs a source (one of {sorted(SOURCE_KINDS)})")
    unknown = [k for k in kinds if k not in SOURCE_KINDS]
    if unknown:
        raise DirectoryError(f"{where}: unknown source kind {unknown[0]!r}")
    return kinds


def _display(names: tuple[str, ...]) -> str:
    latin = next((n for n in names if not has_cjk(n)), None)
    chinese = next((n for n in names if has_cjk(n)), None)
    if latin and chinese:
        return f"{latin} ({chinese})"
    return names[0]


def _group(raw: Mapping[str, Any]) -> Group:
    ident = raw.get("id")
    if not isinstance(ident, str) or not ident:
        raise DirectoryError(f"company entry without an id: {raw!r:.80}")
    where = f"company {ident}"
    names = _strings(raw.get("names"), where, "names")
    if not names:
        raise DirectoryError(f"{where}: needs at least one name")
    entities_raw = raw.get("entities", [])
    if not isinstance(entities_raw, list):
        raise DirectoryError(f"{where}: entities must be a list of name lists")
    entities = tuple(_strings(e, where, "each entity") for e in entities_raw)
    if any(not e for e in entities):
        raise DirectoryError(f"{where}: an entity has no name")
    parent = raw.get("parent")
    if parent is not None and not isinstance(parent, str):
        raise DirectoryError(f"{where}: parent must be a company id")
    return Group(
        id=ident,
        display=str(raw.get("display") or names[0]),
        names=names,
        entities=entities,
        source=_sources(raw.get("source"), where),
        note=str(raw.get("note", "")),
        parent=parent,
        prefixes=_strings(raw.get("prefix"), where, "prefix"),
        ambiguous=_strings(raw.get("ambiguous"), where, "ambiguous"),
    )


def _brand(raw: Mapping[str, Any]) -> Brand:
    ident = raw.get("id")
    if not isinstance(ident, str) or not ident:
        raise DirectoryError(f"app entry without an id: {raw!r:.80}")
    where = f"app {ident}"
    names = _strings(raw.get("names"), where, "names")
    if not names:
        raise DirectoryError(f"{where}: needs at least one name")
    for key in ("owner", "publisher"):
        if raw.get(key) is not None and not isinstance(raw.get(key), str):
            raise DirectoryError(f"{where}: {key} must be a string")
    return Brand(
        id=ident,
        display=str(raw.get("display") or _display(names)),
        names=names,
        owner=raw.get("owner"),
        publisher=raw.get("publisher"),
        source=_sources(raw.get("source"), where),
        note=str(raw.get("note", "")),
        ambiguous=_strings(raw.get("ambiguous"), where, "ambiguous"),
    )


def _unique_ids(items: Iterable[Brand | Group], what: str) -> None:
    seen: set[str] = set()
    for item in items:
        if item.id in seen:
            raise DirectoryError(f"duplicate {what} id {item.id!r}")
        seen.add(item.id)


class _Table:
    """key -> id, refusing a key for two ids unless both entries declare it ambiguous."""

    def __init__(self, what: str, strict: bool = True) -> None:
        self.what = what
        self.strict = strict
        self.ids: dict[str, str] = {}
        self.names: dict[str, str] = {}
        self.ambiguous: set[str] = set()

    def put(self, key: str | None, ident: str, name: str, allowed: frozenset[str]) -> None:
        if not key or key in self.ambiguous:
            return
        other = self.ids.get(key)
        if other is None:
            self.ids[key] = ident
            self.names[key] = name
            return
        if other == ident:
            return
        if key in allowed or not self.strict:
            self.ambiguous.add(key)
            del self.ids[key]
            del self.names[key]
            return
        raise DirectoryError(
            f"{self.what} {name!r} (key {key!r}) names both {other} and {ident}; "
            f"list it under 'ambiguous' in both entries if that is intended"
        )

    def get(self, key: str | None) -> tuple[str, str] | None:
        if not key:
            return None
        ident = self.ids.get(key)
        return (ident, self.names[key]) if ident is not None else None


def _normalized(names: Iterable[str]) -> frozenset[str]:
    return frozenset(normalize(n) for n in names) | frozenset(company_core(n) for n in names)


@dataclass
class Directory:
    """Apps and companies with validated lookup tables; build with :func:`load_directory`."""

    brands: tuple[Brand, ...]
    groups: tuple[Group, ...]
    about: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _unique_ids(self.brands, "app")
        _unique_ids(self.groups, "company")
        self._brand_by_id = {b.id: b for b in self.brands}
        self._group_by_id = {g.id: g for g in self.groups}
        for group in self.groups:
            if group.parent is not None and group.parent not in self._group_by_id:
                raise DirectoryError(f"company {group.id}: unknown parent {group.parent!r}")
            self.chain(group)  # raises on cycles
        for brand in self.brands:
            if brand.owner is not None and brand.owner not in self._group_by_id:
                raise DirectoryError(f"app {brand.id}: unknown owner {brand.owner!r}")
        self._build_brand_tables()
        self._build_company_tables()
        self._check_publishers()

    # --- tables -------------------------------------------------------------------------------

    def _build_brand_tables(self) -> None:
        self._brand_names = _Table("app name")
        self._brand_typos = TypoIndex()
        self._typo_targets: list[tuple[str, str]] = []  # (name as compared, brand id)
        # OCR look-alikes folded (:mod:`.confusables`): two apps folding together are ambiguous
        self._brand_folds = _Table("app OCR fold", strict=False)
        for brand in self.brands:
            allowed = _normalized(brand.ambiguous)
            for name in brand.names:
                self._brand_names.put(normalize(name), brand.id, name, allowed)
        for brand in self.brands:
            for name in brand.names:
                norm = normalize(name)
                if has_confusable(norm) and norm not in self._brand_names.ambiguous:
                    self._brand_folds.put(ocr_fold(norm), brand.id, name, frozenset())
        for brand in self.brands:
            for name in brand.names:
                # typos only against Latin names people type (not pinyin of Chinese names:
                # one letter off a pinyin is usually another syllable, another name)
                key = typo_key(name) if not has_cjk(name) else None
                if key is not None:
                    self._brand_typos.add(key, len(self._typo_targets))
                    self._typo_targets.append((name, brand.id))

    def _build_company_tables(self) -> None:
        self._group_names = _Table("company name")
        self._entities = _Table("legal entity")
        self._entity_index: dict[str, int] = {}
        self._group_typos = TypoIndex()
        self._group_typo_targets: list[tuple[str, str]] = []
        for group in self.groups:
            allowed = _normalized(group.ambiguous)
            for name in group.names:
                self._group_names.put(company_core(name), group.id, name, allowed)
        for group in self.groups:
            allowed = _normalized(group.ambiguous)
            for index, entity in enumerate(group.entities):
                for name in entity:
                    core = company_core(name)
                    known = self._group_names.get(core)
                    if known is not None and known[0] != group.id:
                        raise DirectoryError(
                            f"legal entity {name!r} of {group.id} reads as {known[1]!r}, "
                            f"a name of {known[0]}"
                        )
                    if known is None:
                        self._entities.put(core, group.id, name, allowed)
                    self._entity_index.setdefault(f"{group.id}\x1f{core}", index)
        for group in self.groups:
            for name in (*group.names, *group.members):
                core = company_core(name)
                key = typo_key(core) if not has_cjk(core) else None
                if key is not None and name in group.names:
                    self._group_typos.add(key, len(self._group_typo_targets))
                    self._group_typo_targets.append((core, group.id))
        # prefixes: every directory name is a guard; only declared prefixes resolve
        self._prefix_names: dict[str, tuple[str, bool]] = {}
        declared = {normalize(p): g.id for g in self.groups for p in g.prefixes if has_cjk(p)}
        for group in self.groups:
            for name in (*group.names, *group.members):
                core = company_core(name)
                if has_cjk(core) and len(core) >= 2:
                    self._prefix_names.setdefault(core, (group.id, declared.get(core) == group.id))
        for core, gid in declared.items():
            self._prefix_names[core] = (gid, True)
        self._latin_prefixes: dict[tuple[str, ...], str] = {}
        for group in self.groups:
            for prefix in group.prefixes:
                tokens = company_core_tokens(prefix)
                if tokens:
                    self._latin_prefixes[tokens] = group.id

    # romanized lookups: pinyin of every Chinese name, computed on the first romanized name
    # looked up (pypinyin's import and the 885 app names take most of a second): a Chinese
    # name is never resolved by sound, so Chinese input never needs them. Non-strict tables,
    # which never raise: nothing to validate when the directory is loaded.

    @cached_property
    def _brand_roman(self) -> _Table:
        """Pinyin of the apps' Chinese names, romanization of their Latin names -> app."""
        table = _Table("app pinyin", strict=False)
        for brand in self.brands:
            for name in brand.names:
                roman = pinyin_key(name) if has_cjk(name) else normalize_pinyin(name)
                table.put(roman, brand.id, name, frozenset())
        return table

    @cached_property
    def _company_roman(self) -> _Table:
        """Pinyin of the Chinese company cores (of names and legal entities) -> company."""
        table = _Table("company pinyin", strict=False)
        for group in self.groups:
            for name in (*group.names, *group.members):
                core = company_core(name)
                if has_cjk(core):
                    table.put(pinyin_key(core), group.id, name, frozenset())
        return table

    def _check_publishers(self) -> None:
        for brand in self.brands:
            if brand.publisher is None:
                continue
            if brand.owner is None:
                raise DirectoryError(f"app {brand.id}: a publisher needs an owner")
            hit = self.company(brand.publisher)
            if hit is None or (hit.entity is None and hit.how != "name"):
                raise DirectoryError(
                    f"app {brand.id}: publisher {brand.publisher!r} is not a legal entity in "
                    f"the directory"
                )
            owner = self.group(brand.owner)
            chain_of_publisher = self.chain(hit.group)
            if owner not in chain_of_publisher and hit.group not in self.chain(owner):
                raise DirectoryError(
                    f"app {brand.id}: publisher {brand.publisher!r} belongs to {hit.group.id}, "
                    f"which is neither {brand.owner} nor one of its parents or subsidiaries"
                )

    # --- ids and ownership ----------------------------------------------------------------------

    def brand(self, brand_id: str) -> Brand:
        return self._brand_by_id[brand_id]

    def group(self, group_id: str) -> Group:
        return self._group_by_id[group_id]

    def chain(self, group: Group) -> tuple[Group, ...]:
        """``group`` followed by the groups that control it, nearest first."""
        out = [group]
        while out[-1].parent is not None:
            parent = self._group_by_id[out[-1].parent]
            if parent in out:
                raise DirectoryError(f"company ownership cycle at {parent.id}")
            out.append(parent)
        return tuple(out)

    @cached_property
    def ambiguous_names(self) -> frozenset[str]:
        """Normalized app names and company cores that resolve to nothing on purpose."""
        return frozenset(self._brand_names.ambiguous | self._group_names.ambiguous)

    # --- app names ------------------------------------------------------------------------------

    def brand_hit(self, name: str, typos: bool = True) -> BrandHit | None:
        """The app ``name`` denotes: by exact normalized name; romanized input also as pinyin
        of the apps' Chinese names (``Tengxun Shipin``); long Latin input also by one typo of
        a Latin name of exactly one app (``Tencent Vidoe``). Chinese names are never resolved
        by sound or by typo."""
        found = self._brand_names.get(normalize(name))
        if found is not None:
            return BrandHit(self._brand_by_id[found[0]], "name", found[1])
        if has_cjk(name):
            return None
        found = self._brand_roman.get(normalize_pinyin(name))
        if found is not None:
            return BrandHit(self._brand_by_id[found[0]], "pinyin", found[1])
        if not typos:
            return None
        key = typo_key(name)
        if key is None or normalize(name) in self.ambiguous_names:
            return None
        best: dict[str, tuple[float, str]] = {}
        for slot in self._brand_typos.candidates(key):
            target, brand_id = self._typo_targets[slot]
            score = typo_similarity(name, target)
            if score is not None and score > best.get(brand_id, (0.0, ""))[0]:
                best[brand_id] = (score, target)
        if len(best) != 1:
            return None  # nothing close, or close to two different apps: no guess
        ((brand_id, (score, target)),) = best.items()
        return BrandHit(self._brand_by_id[brand_id], "typo", target, score)

    def ocr_brand(self, name: str) -> BrandHit | None:
        """The app ``name`` is a likely OCR misreading of: the one directory app with a name
        equal to it once look-alike characters are folded (:func:`~.confusables.ocr_fold`).
        None when no app's name folds to it, or names of two apps do (``ocr_clash``)."""
        norm = normalize(name)
        if not has_confusable(norm):
            return None
        found = self._brand_folds.get(ocr_fold(norm))
        if found is None:
            return None
        return BrandHit(self._brand_by_id[found[0]], "ocr", found[1])

    def ocr_clash(self, name: str) -> bool:
        """True when names of two different directory apps fold to ``name``'s folded form: a
        misreading of either, so of neither for sure."""
        norm = normalize(name)
        return has_confusable(norm) and ocr_fold(norm) in self._brand_folds.ambiguous

    @cached_property
    def ocr_clashes(self) -> dict[str, list[str]]:
        """Folded form -> the names of different directory apps that share it (for review)."""
        out: dict[str, list[str]] = {}
        for brand in self.brands:
            for name in brand.names:
                norm = normalize(name)
                if has_confusable(norm) and ocr_fold(norm) in self._brand_folds.ambiguous:
                    out.setdefault(ocr_fold(norm), []).append(f"{name} ({brand.id})")
        return out

    # --- company names --------------------------------------------------------------------------

    def company(self, name: str, typos: bool = True) -> CompanyHit | None:
        """The company ``name`` denotes or belongs to.

        By :func:`~.names.company_core`: a name of a group (``Tencent``, ``腾讯控股``), one of
        its legal entities in any language (``北京微播视界科技有限公司``, ``Beijing Microlive
        Vision Technology Co., Ltd.``), the pinyin of either for romanized input
        (``Beijing Kuaishou Keji``), a name that starts with a declared prefix (``腾讯智慧``),
        or one typo away from a long Latin group name.
        """
        core = company_core(name)
        if not core:
            return None
        found = self._group_names.get(core)
        if found is not None:
            return CompanyHit(self._group_by_id[found[0]], "name", found[1])
        found = self._entities.get(core)
        if found is not None:
            index = self._entity_index.get(f"{found[0]}\x1f{core}")
            return CompanyHit(self._group_by_id[found[0]], "entity", found[1], index)
        if not has_cjk(core):
            found = self._company_roman.get(normalize_pinyin(core))
            if found is not None:
                group = self._group_by_id[found[0]]
                is_entity = found[1] not in group.names
                index = (
                    self._entity_index.get(f"{group.id}\x1f{company_core(found[1])}")
                    if is_entity
                    else None
                )
                return CompanyHit(group, "entity" if is_entity else "pinyin", found[1], index)
        hit = self._prefix_hit(name, core)
        if hit is not None or not typos:
            return hit
        key = typo_key(core)
        if key is None or core in self.ambiguous_names:
            return None
        best: dict[str, tuple[float, str]] = {}
        for slot in self._group_typos.candidates(key):
            target, group_id = self._group_typo_targets[slot]
            score = typo_similarity(core, target)
            if score is not None and score > best.get(group_id, (0.0, ""))[0]:
                best[group_id] = (score, target)
        if len(best) != 1:
            return None
        ((group_id, (score, target)),) = best.items()
        return CompanyHit(self._group_by_id[group_id], "typo", target, similarity=score)

    def _prefix_hit(self, name: str, core: str) -> CompanyHit | None:
        if has_cjk(core):
            for size in range(len(core) - 2, 1, -1):  # longest first, 2+ characters left over
                entry = self._prefix_names.get(core[:size])
                if entry is not None:
                    group_id, declared = entry
                    if not declared:
                        return None
                    return CompanyHit(self._group_by_id[group_id], "prefix", core[:size])
            return None
        tokens = company_core_tokens(name)
        for size in range(len(tokens) - 1, 0, -1):
            latin = self._latin_prefixes.get(tokens[:size])
            if latin is not None:
                return CompanyHit(self._group_by_id[latin], "prefix", " ".join(tokens[:size]))
        return None

    def __iter__(self) -> Iterator[Brand]:
        return iter(self.brands)


def _read(path: Path | None) -> Any:
    try:
        if path is None:
            text = resources.files(__package__).joinpath("data/directory.json").read_text("utf-8")
        else:
            text = path.read_text(encoding="utf-8")
        return json.loads(text)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DirectoryError(f"cannot read the directory: {exc}") from exc


def load_directory(path: Path | None = None) -> Directory:
    """Load and validate a directory file (default: the one shipped in ``data/``)."""
    raw = _read(path)
    if not isinstance(raw, dict):
        raise DirectoryError("the directory must be a JSON object with apps and companies")
    apps, companies = raw.get("apps"), raw.get("companies")
    if not isinstance(apps, list) or not isinstance(companies, list):
        raise DirectoryError("the directory needs lists 'apps' and 'companies'")
    for entry in (*apps, *companies):
        if not isinstance(entry, dict):
            raise DirectoryError(f"directory entries must be objects: {entry!r:.80}")
    return Directory(
        brands=tuple(_brand(a) for a in apps),
        groups=tuple(_group(c) for c in companies),
        about=raw.get("about") or {},
    )


@lru_cache(maxsize=1)
def default_directory() -> Directory:
    """The shipped directory, loaded once."""
    return load_directory()
