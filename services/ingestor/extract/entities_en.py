"""Apps named in English news articles (simple for now).

"... named 43 apps, including WeChat, Tencent Map and Tencent Video" -> three apps.
"Tencent-owned Kugou" -> Kugou, developer "Tencent"; "Tencent Holdings Ltd.'s WeChat" -> WeChat,
developer "Tencent Holdings Ltd."; "Sogou Inc." -> a company.
"""

from __future__ import annotations

import re

from shared.events import Entity

from .merge import entity_kind, is_company, merge_entities

_ABBREVIATION = re.compile(r"\b(?:Ltd|Inc|Co|Corp|Mr|Ms|Dr|St|No|U\.S|vs)$")
_LIST_START = re.compile(
    r"\b(?:includ(?:ing|ed|es|e)|such as|among them(?: were| are)?|list(?:ed)?(?: apps)? like)\s+",
    re.I,
)
# Where a list stops: end of sentence (not after Ltd./Inc.), or a clause that is not a name.
_LIST_END = re.compile(
    r"[.!?](?=\s|$)|[;:(]|\s[-—–]\s"
    r"|,?\s+(?:were|was|are|is|have|has|had|which|that|who|for|to|from|in|on|with"
    r"|among others|and others|and other|were not|will|would|should|must|after|because)\b",
)
_OWNED = re.compile(r"^(?P<owner>[A-Z][\w&.]*(?:\s[A-Z][\w&.]*)*)-(?:owned|backed)\s+(?P<name>.+)$")
_POSSESSIVE = re.compile(r"^(?P<owner>.+?)['’]s\s+(?P<name>.+)$")
_SKIP = re.compile(
    r"^(?:apps?|others?|more|many|some|several|those|these|the|an?|its|their|other apps)$", re.I
)


def _items(fragment: str) -> list[str]:
    fragment = re.sub(r",?\s+and\s+", ", ", fragment)
    fragment = re.sub(r",?\s+as well as\s+", ", ", fragment)
    return [item.strip(" \"'“”‘’") for item in fragment.split(",") if item.strip()]


def _entity(item: str) -> Entity | None:
    item = re.sub(r"^(?:the|apps?(?: from| by| of)?|popular|app)\s+", "", item, flags=re.I)
    item = re.sub(r"\s+(?:apps?|application|platform)$", "", item, flags=re.I).strip()
    if not item or _SKIP.match(item) or len(item.split()) > 6:
        return None
    if not re.match(r"[A-Z0-9]", item):
        return None
    developer: str | None = None
    owned = _OWNED.match(item)
    possessive = _POSSESSIVE.match(item)
    if owned:
        developer, item = owned["owner"], owned["name"]
    elif possessive:
        developer, item = possessive["owner"], possessive["name"]
        item = re.sub(r"^(?:e-?\w+|video|music|\w+-\w+)\s+(?:apps?|platform)$", "", item)
        if not item or not re.match(r"[A-Z0-9]", item):
            return None
    if is_company(item) and developer is None:
        return Entity(kind="company", name=item)
    return Entity(kind=entity_kind(item, developer=developer), name=item, developer=developer)


def extract_entities_en(text: str) -> list[Entity]:
    """Entities from "including A, B and C" style lists in English prose."""
    entities: list[Entity] = []
    flat = re.sub(r"\s+", " ", text)
    for start in _LIST_START.finditer(flat):
        rest = flat[start.end() : start.end() + 400]
        fragment = rest
        for end in _LIST_END.finditer(rest):
            after = rest[end.end() :].lstrip()[:1]
            if (
                end.group(0) == "."
                and _ABBREVIATION.search(rest[: end.start()])
                and after.islower()
            ):
                continue  # "Sogou Inc. and ..." does not end the sentence
            abbreviated = end.group(0) == "." and _ABBREVIATION.search(rest[: end.start()])
            fragment = rest[: end.end() if abbreviated else end.start()]
            break
        for item in _items(fragment):
            entity = _entity(item)
            if entity is not None:
                entities.append(entity)
    return merge_entities(entities)
