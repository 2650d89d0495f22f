"""What the directory knows about a name a subscriber is about to watch.

``lookup("Douyin")`` is the app Douyin (抖音), published by 北京微播视界科技有限公司, of
ByteDance; ``lookup("Tencnet")`` knows nothing, but ``Tencent`` is close: a watch on a name
the directory does not know still matches by spelling, so the portal warns and suggests.

Resolution is the matcher's own (:meth:`Directory.brand_hit`, :meth:`Directory.company`, with
their typo rules); only when those find nothing is the name compared with every directory name
by similarity (short names included, which the matching rules never guess at).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Final

from services.matcher.matching.directory import Directory, Group, default_directory
from services.matcher.matching.names import has_cjk, normalize

CLOSE_ENOUGH: Final = 0.8
MAX_SUGGESTIONS: Final = 3


@dataclass(frozen=True)
class Known:
    """One directory entry a name denotes."""

    kind: str
    """``app`` or ``company``."""
    name: str
    """The entry's display name (``Douyin (抖音)``)."""
    other_names: tuple[str, ...]
    """Its other names (not the one looked up)."""
    publisher: str | None = None
    """An app's publisher, or the legal entity a company name is."""
    owner: str | None = None
    """The group it belongs to, with the groups controlling that one (``LinkedIn, Microsoft``)."""


@dataclass(frozen=True)
class Lookup:
    query: str
    known: list[Known] = field(default_factory=list)
    did_you_mean: list[str] = field(default_factory=list)

    @property
    def unknown(self) -> bool:
        """The directory knows nothing by this name (the watch matches by spelling only)."""
        return not self.known


def _owner(directory: Directory, group_id: str | None) -> str | None:
    if group_id is None:
        return None
    return ", ".join(g.display for g in directory.chain(directory.group(group_id)))


def _company(directory: Directory, group: Group, entity: int | None, query: str) -> Known:
    chain = directory.chain(group)
    publisher = group.entities[entity][0] if entity is not None else None
    return Known(
        kind="company",
        name=group.display,
        other_names=tuple(n for n in group.names if normalize(n) != normalize(query))[:4],
        publisher=publisher,
        owner=", ".join(g.display for g in chain[1:]) or None,
    )


@lru_cache(maxsize=1)
def _all_names() -> dict[str, str]:
    """Normalized -> spelled name of every app and company name in the directory."""
    directory = default_directory()
    names: dict[str, str] = {}
    for brand in directory.brands:
        for name in brand.names:
            names.setdefault(normalize(name), name)
    for group in directory.groups:
        for name in group.names:
            names.setdefault(normalize(name), name)
    return names


def close_names(name: str) -> list[str]:
    """Directory names spelled like ``name`` (Latin names only: Chinese ones are not guessed)."""
    norm = normalize(name)
    if not norm or has_cjk(norm) or len(norm) < 3:
        return []
    names = _all_names()
    candidates = [n for n in names if not has_cjk(n)]
    close = difflib.get_close_matches(norm, candidates, n=MAX_SUGGESTIONS, cutoff=CLOSE_ENOUGH)
    return [names[n] for n in close if n != norm]


def lookup(name: str, kind: str | None = None) -> Lookup:
    """What the directory knows by ``name`` (an app, a company, or both; only entries of
    ``kind`` when given), else close names."""
    name = name.strip()
    if not name:
        return Lookup(name)
    directory = default_directory()
    known: list[Known] = []
    suggested: list[str] = []
    app = directory.brand_hit(name)
    if app is not None and app.how == "typo":
        suggested.append(app.via)
    elif app is not None:
        brand = app.brand
        known.append(
            Known(
                kind="app",
                name=brand.display,
                other_names=tuple(n for n in brand.names if normalize(n) != normalize(name)),
                publisher=brand.publisher,
                owner=_owner(directory, brand.owner),
            )
        )
    company = directory.company(name)
    if company is not None and company.how == "typo":
        suggested.append(company.via)
    elif company is not None:
        known.append(_company(directory, company.group, company.entity, name))
    if kind is not None:
        known = [entry for entry in known if entry.kind == kind]
    if not known and not suggested:
        suggested = close_names(name)
    return Lookup(name, known, list(dict.fromkeys(suggested)) if not known else [])
