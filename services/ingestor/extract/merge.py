"""Entity helpers shared by the extractors: kinds, company names, merging duplicates."""

from __future__ import annotations

import re
import unicodedata

from shared.events import Entity, EntityKind

from .lazy_re import lazy

_COMPANY_END = lazy(
    r"(?:有限责任公司|股份有限公司|有限公司|股份公司|分公司|公司|集团|工作室|研究院|研究所|事务所|"
    r"信息中心|服务中心|技术中心|银行|合作社|商行|经营部|门市部|个体工商户|"
    r"Co\.?\s*,?\s*Ltd\.?|Ltd\.?|Limited|Inc\.?|LLC|Corp(?:oration)?\.?|GmbH|Pte\.?\s*Ltd\.?|"
    r"(?<=[a-z] )Co\.|Company|"
    r"Holdings)\s*$",
    re.I,
)


def is_company(text: str) -> bool:
    """Does ``text`` read like a legal entity (公司, Co.,Ltd, Inc. ...)?"""
    text = text.strip()
    return len(text) >= 4 and _COMPANY_END.search(text) is not None


def entity_kind(name: str, *, developer: str | None = None) -> EntityKind:
    """sdk when the name says SDK, mini_program for 小程序, company for a bare company name."""
    folded = unicodedata.normalize("NFKC", name)
    if "SDK" in folded.upper() or "软件开发工具包" in folded:
        return "sdk"
    if "小程序" in folded:
        return "mini_program"
    if developer is None and is_company(folded):
        return "company"
    return "app"


def _key(text: str | None) -> str:
    if not text:
        return ""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text)).lower()


def _join(first: str | None, second: str | None) -> str | None:
    """Join two store or version values with "/", keeping each distinct value once."""
    parts: list[str] = []
    for value in (first, second):
        for part in (value or "").split("/"):
            part = part.strip()
            if part and part not in parts:
                parts.append(part)
    if not parts:
        return None
    return "/".join(parts)


def merge_into(target: Entity, other: Entity) -> None:
    """Fold ``other`` (the same app) into ``target``: stores/versions joined, issues unioned."""
    target.store = _join(target.store, other.store)
    target.version = _join(target.version, other.version)
    for issue in other.issues:
        if issue not in target.issues:
            target.issues.append(issue)


def merge_entities(entities: list[Entity]) -> list[Entity]:
    """Drop duplicates of the same name and developer (compared width-, case- and
    space-insensitively). The first occurrence keeps its place; later ones add their stores,
    versions and issues. A row without a developer is never merged into one with a developer.
    """
    merged: list[Entity] = []
    by_key: dict[tuple[str, str], Entity] = {}
    for entity in entities:
        key = (_key(entity.name), _key(entity.developer))
        existing = by_key.get(key)
        if existing is not None:
            merge_into(existing, entity)
            continue
        copy = entity.model_copy(deep=True)
        by_key[key] = copy
        merged.append(copy)
    return merged


def add_unlisted(listed: list[Entity], named: list[Entity]) -> list[Entity]:
    """``listed`` followed by the entities of ``named`` whose name none of them has (a name in
    the prose repeats a row of the table: the row, with its developer, is the entity)."""
    names = {_key(entity.name) for entity in listed}
    result = list(listed)
    for entity in named:
        key = _key(entity.name)
        if key not in names:
            names.add(key)
            result.append(entity)
    return result
