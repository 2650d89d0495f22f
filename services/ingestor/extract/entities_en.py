"""Apps named in English news articles, paragraph by paragraph (the headline only when the
body names nobody).

- "... named 43 apps, including WeChat, Tencent Map and Tencent Video", "such as", "among them
  were", "The list also names X and Y", "short-video apps Douyin and Kuaishou", "Douyin,
  Kuaishou and LinkedIn were among the 105 apps" -> the apps named;
- "Tencent-owned Kugou", "Tencent Holdings Ltd.'s WeChat", "Tencent Holdings' QQ Music" -> the
  parent as developer hint; "ride-hailing service Caocao Chuxing" -> Caocao Chuxing;
- "Sogou Inc." and "apps from Tencent, Alibaba and ByteDance" -> companies;
- appositions ("Huya, a game streaming platform"), dates and "those operated by ..." are not.
"""

from __future__ import annotations

import itertools
import re

from shared.events import Entity

from .lazy_re import lazy
from .merge import entity_kind, is_company, merge_entities

_ABBREVIATION = lazy(r"\b(?:Ltd|Inc|Co|Corp|Mr|Ms|Dr|St|No|U\.S|vs)$")
_LIST_START = lazy(
    r"\b(?i:includ(?:ing|ed|es|e)|such as|among them(?: were| are)?|among which(?: were| are)?"
    r"|list(?:ed)?(?: apps)? like"
    r"|(?:others|also)\s+(?:named|listed|included|cited|flagged)(?:\s+(?:were|are|include[sd]?))?"
    r"|also\s+on\s+the\s+list\s+(?:were|are)"
    r"|among the (?:\w+\s+){0,2}(?:named|listed|cited|flagged)(?:\s+\w+){0,3}\s+(?:were|are|was|is)"
    r"|(?:naming|citing|listing|flagging)"
    r"|(?:an?|the)\s+(?:[\w-]+\s+){0,5}?(?:app|application|platform|service)\s+(?:called|named|dubbed)"
    r"|(?:apps|applications|SDKs|entries|items)\s*[-—–:：])\s*[:：]?\s+"
    # "The list also names ByteDance's Toutiao", "named Tencent's WeChat": a name right after
    r"|\b(?:names|named|cites|cited|lists|listed|flags|flagged|singles out|singled out)\s+"
    r"(?=[A-Z][\w.&'’-]*(?:\s|,|$))(?!(?:The|A|An|It|Its|Their|This|These|Those)\b)"
    # "short-video apps Douyin and Kuaishou were ...": names right after a plural noun
    r"|\b(?:apps|applications|platforms)\s+(?=[A-Z])(?!(?:The|A|An|In|On|It|By)\b)"
)
# Where a list stops: end of sentence (not after Ltd./Inc.), or a clause that is not a name.
_LIST_END = lazy(
    r"[.!?](?=\s|$)|[;:(]|\s[-—–]\s"
    r"|,?\s+(?:were|was|are|is|have|has|had|which|that|who|for|to|from|in|on|with"
    r"|among others|and others|and other|were not|will|would|should|must|after|because)\b",
)
_OWNED = lazy(
    r"^(?:the\s+)?(?P<owner>[A-Z][\w&.]*(?:\s[A-Z][\w&.]*)*)"
    r"-(?:owned|backed|run|operated|controlled|affiliated)\s+(?P<name>.+)$"
)
# "Beijing-based food delivery app Eleme": where a company sits, not who owns it.
_BASED = lazy(r"^(?:the\s+)?[A-Z][\w.]*(?:\s[A-Z][\w.]*)*-based\s+")
# "Qiongzhou Ferry, operated by Haikou Ferry Co., Ltd.": the operator after the name.
_RUN_BY = lazy(
    r"^(?P<name>.+?),?\s+(?:\(|,)?\s*(?:developed|operated|run|owned|published|made)\s+by\s+"
    r"(?P<owner>[A-Z].+?)\)?$"
)
_POSSESSIVE = lazy(r"^(?P<owner>.+?)(?:['’]s|(?<=s)['’])\s+(?P<name>.+)$")
_SKIP = lazy(
    r"^(?:apps?|others?|more|many|some|several|those|these|the|an?|its|their|other apps"
    r"|(?:Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day|today|yesterday"
    r"|Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?"
    r"|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?$"
    # "three SDKs", a plural noun: what the list is of, not one of its items
    r"|^(?:\w+\s+)?(?:SDKs|apps|applications|platforms|services|companies|firms|operators)$",
    re.I,
)
# A regulator is never one of the apps it names.
_REGULATOR = lazy(
    r"\b(?:MIIT|CAC|MPS|SAMR|CVERC|Ministry|Administration|Commission|Bureau|Regulator|"
    r"Cyberspace|Watchdog|Government|Council)\b",
    re.I,
)
_COMPANIES_OF = lazy(
    r"^(?:the\s+)?(?:mobile\s+)?(?:apps?|applications|services)\s+"
    r"(?:from|by|of|owned by|operated by|run by|developed by)\s+",
    re.I,
)
# "including those operated by Huawei, Tencent and Xiaomi": not a list of apps.
_NOT_A_LIST = lazy(r"^(?:those|these|ones|the ones|them|stores|app stores)\b", re.I)


_LEGAL_COMMA = lazy(r"\b(Co|Corp|Inc)\.?,\s*(?=Ltd|Limited|Inc)", re.I)


def _items(fragment: str) -> list[str]:
    # "Co., Ltd." is one name: its comma does not separate items
    fragment = _LEGAL_COMMA.sub(lambda m: m.group(0).replace(",", "\x00"), fragment)
    # "Qiongzhou Ferry, operated by X": the operator stays with its app
    fragment = re.sub(
        r",\s+(?=(?:developed|operated|run|owned|published|made)\s+by\b)", " ", fragment
    )
    fragment = re.sub(r",?\s+and\s+", ", ", fragment)
    fragment = re.sub(r",?\s+as well as\s+", ", ", fragment)
    return [
        item.replace("\x00", ",").strip(" \"'“”‘’") for item in fragment.split(",") if item.strip()
    ]


# "ride-hailing service Caocao Chuxing", "recipe app Xiachufang": a lower-case description
# before the name.
_DESCRIPTION = lazy(r"^(?:[a-z][a-z0-9'’-]*\s+){1,5}(?=[\"“‘']?(?:[A-Z0-9]|[a-z]+[A-Z]))")
# "Baidu Inc.'s flagship search app": the company's own app, named after the company.
_OWN_APP = lazy(
    r"^(?:(?:flagship|namesake|eponymous|main|core|popular|own|mobile|main)\s+)+"
    r"(?:[a-z][a-z-]*\s+){0,3}(?:app|application|platform|service)$"
)
# "comics app", "video streaming app": what kind of app, when the app has no name of its own.
_PRODUCT = lazy(r"^(?P<what>[a-z][a-z-]*(?:\s+[a-z][a-z-]*)?)\s+(?:app|application)$")
_LEGAL_FORM = lazy(
    r"(?:,?\s+(?:Inc\.?|Ltd\.?|Co\.?,?\s*Ltd\.?|Co\.?|Corp(?:oration)?\.?|Holdings?|Group|"
    r"Limited|Technology|Technologies))+$"
)


# Lower-case words that may sit inside a name ("Bank of China", "Ele.me", "iQiyi" are fine).
_NAME_JOINERS = frozenset({"of", "for", "and", "de", "la", "the", "&"})


def _cut_at_prose(item: str) -> str:
    """ "LinkedIn illegally collected user data" -> "LinkedIn": a name ends where lower-case
    prose starts (camel-case words such as iQiyi or eLong are names)."""
    words = item.split()
    kept: list[str] = []
    for word in words:
        prose = word[:1].islower() and not re.match(r"[a-z]+[A-Z.]", word)
        if prose and kept and word not in _NAME_JOINERS:
            break
        kept.append(word)
    while kept and kept[-1] in _NAME_JOINERS:
        kept.pop()
    return " ".join(kept)


def _entity(item: str, *, strict: bool = False) -> Entity | None:
    """One list item as an entity; ``strict``: the whole item must read as a name."""
    run_by = _RUN_BY.match(item)
    if run_by and not is_company(run_by["name"]):
        named = _entity(run_by["name"], strict=strict)
        if named is not None and named.kind != "company":
            named.developer = run_by["owner"].strip().rstrip(".") + (
                "." if run_by["owner"].strip().endswith(".") else ""
            )
        return named
    item = _BASED.sub("", item)
    item = _OPENING_DESCRIPTION.sub("", item)
    item = _DESCRIPTION.sub("", item)
    item = re.sub(r"^(?:the|apps?(?: from| by| of)?|popular|app)\s+", "", item, flags=re.I)
    item = item.strip(" \"'“”‘’")  # 'the dating app "Love Meet"'

    developer: str | None = None
    owned = _OWNED.match(item)
    possessive = _POSSESSIVE.match(item)
    if owned:
        developer, item = owned["owner"], _DESCRIPTION.sub("", owned["name"])
    elif possessive:
        owner = possessive["owner"].strip()
        # "The ministry said Tencent's WeChat": the owner is the capitalised run before "'s".
        tail = re.search(r"(?:(?<=\s)|^)(?:[A-Z0-9][\w.&+-]*\s?)+$", owner)
        if tail is None or (strict and tail.start() > 0):
            return None
        developer, item = tail.group(0).strip(), possessive["name"]
        brand = _LEGAL_FORM.sub("", developer).strip()
        if _OWN_APP.match(item):
            return Entity(kind="app", name=brand, developer=developer) if brand else None
        product = _PRODUCT.match(item)
        if product and brand:
            # "Bilibili's comics app" -> "Bilibili Comics"
            words = " ".join(w.capitalize() for w in product["what"].split())
            return Entity(kind="app", name=f"{brand} {words}", developer=developer)
        item = _DESCRIPTION.sub("", item)
    item = re.sub(r"\s+(?:apps?|application|platform)$", "", item, flags=re.I).strip()
    cut = _cut_at_prose(item)
    if strict and cut != item:
        return None
    item = cut
    if not item or _SKIP.match(item) or len(item.split()) > 6 or _REGULATOR.search(item):
        return None
    if not re.match(r"[A-Za-z0-9]", item) or not re.search(r"[A-Za-z]{2}", item):
        return None
    if item[0].islower() and not re.match(r"[a-z]+[A-Z.]", item):
        return None
    if is_company(item) and developer is None:
        return Entity(kind="company", name=item)
    return Entity(kind=entity_kind(item, developer=developer), name=item, developer=developer)


# "Douyin, Kuaishou and LinkedIn were among the 105 apps": names that open a sentence.
_AMONG = lazy(
    r"(?:^|(?<=[.!?:;]\s))(?P<names>[A-Z0-9](?:[^.!?:;]|(?<=Inc)\.|(?<=Ltd)\.|(?<=Co)\.|(?<=Corp)\.){1,200}?)\s+(?:were|are|was|is)\s+"
    r"(?:also\s+)?(?:among|one of|on (?:the|a|its) (?:\w+\s+)?list|named|listed|cited|"
    r"singled out)\b"
)
# "Lifestyle platform Xiaohongshu is one of 21 apps": a description that opens a sentence.
_OPENING_DESCRIPTION = lazy(
    r"^[A-Z][a-z-]+\s+(?:[a-z][\w-]*\s+){0,3}(?:app|application|platform|service|site|"
    r"website|tool|game|browser|player|store|network|marketplace|streamer|provider)\s+"
    r"(?=[\"“]?(?:[A-Z0-9]|[a-z]+[A-Z]))"
)


def _from_paragraph(paragraph: str) -> list[Entity]:
    entities: list[Entity] = []
    flat = re.sub(r"\s+", " ", paragraph)
    for m in _AMONG.finditer(flat):
        names = m["names"]
        reported = re.search(r".*\b(?:said|says|that)\s+(?=[A-Z0-9])", names)
        for candidate in (names, names[reported.end() :] if reported else ""):
            items = [_entity(item, strict=True) for item in _items(candidate)]
            if items and all(item is not None for item in items):
                entities.extend(item for item in items if item is not None)
                break
    for start in _LIST_START.finditer(flat):
        rest = flat[start.end() : start.end() + 400]
        # "apps from Tencent, Alibaba and ByteDance": the names are the companies
        companies = _COMPANIES_OF.match(rest)
        if companies:
            rest = rest[companies.end() :]
        fragment = rest
        for end in _LIST_END.finditer(rest):
            after = rest[end.end() :].lstrip()[:1]
            if (
                end.group(0) == "."
                and _ABBREVIATION.search(rest[: end.start()])
                and (after.islower() or re.match(r"\s*(?:Ltd|Limited|Inc)\b", rest[end.end() :]))
            ):
                continue  # "Sogou Inc. and ..." does not end the sentence
            abbreviated = end.group(0) == "." and _ABBREVIATION.search(rest[: end.start()])
            fragment = rest[: end.end() if abbreviated else end.start()]
            break
        if _NOT_A_LIST.match(fragment):
            continue
        listed: list[Entity] = []
        for item in _items(fragment):
            owner = _appositive_owner(item)
            if owner is not None:
                # "Huya, the Tencent-backed game-streaming platform": about the name before
                if listed and listed[-1].developer is None and listed[-1].kind != "company":
                    listed[-1].developer = owner
                continue
            entity = _entity(item)
            if entity is not None:
                if companies and entity.developer is None:
                    entity.kind = "company"
                listed.append(entity)
        _share_owner(listed)
        entities.extend(listed)
    return entities


_APPOSITIVE = lazy(
    r"^(?:the|an?)\s+(?:(?P<owner>[A-Z][\w&.]*(?:\s[A-Z][\w&.]*)*)-(?:owned|backed|run|operated)\s+)?"
    r"[a-z][a-z'’ -]*?(?:\s+(?:run|owned|operated|developed|made)\s+by\s+(?P<by>[A-Z][\w&., ]+))?$"
)


def _appositive_owner(item: str) -> str | None:
    """The owner an apposition gives ("the Tencent-backed game-streaming platform", "a lending
    service run by Sina"), or None when the item is not an apposition."""
    m = _APPOSITIVE.match(item.strip())
    if m is None:
        return None
    owner = m["owner"] or m["by"]
    return owner.strip().rstrip(",") if owner else None


def _share_owner(listed: list[Entity]) -> None:
    """ "Tencent Holdings' WeChat, Tencent Map and Tencent Video": the owner of the first
    name is the owner of the names after it that carry the owner's brand."""
    for first, entity in itertools.pairwise(listed):
        owner = first.developer
        if owner is None or entity.developer is not None or entity.kind == "company":
            continue
        brand = owner.split()[0]
        if entity.name.split()[0] == brand:
            entity.developer = owner


def _merge_en(entities: list[Entity]) -> list[Entity]:
    """Duplicates merged; a name given once with its parent and once without is one entity
    (with the parent), where it first appeared."""
    merged = merge_entities(entities)
    with_parent = {e.name: e for e in merged if e.developer is not None}
    result: list[Entity] = []
    seen: set[str] = set()
    for entity in merged:
        chosen = with_parent.get(entity.name, entity) if entity.developer is None else entity
        key = f"{chosen.name}|{chosen.developer}"
        if key not in seen:
            seen.add(key)
            result.append(chosen)
    return result


_BULLET = lazy(r"^\s*(?:[-•*·●▪–—]|\d{1,3}[.)])\s+(?P<item>\S.*)$")
_BULLET_ITEM = lazy(r"^(?P<name>[^():–—]+?)\s*(?:\((?P<dev>.+)\)\s*$|\s[-–—:]\s.*$|,\s.*$|$)")
# Photo captions and "read more" boxes name apps that are not the notice's.
_CAPTION = lazy(
    r"^\s*(?:Photo|Image|Picture|Caption|File photo|Read more|Related|See also)\b"
    r"|\((?:AFP|Reuters|AP|Xinhua|Getty Images|VCG|IC)[^)]*\)\s*$",
    re.I,
)


def _bullets(lines: list[str]) -> list[Entity]:
    """ "- Lianjia Home (Beijing Lianjia Real Estate Brokerage Co., Ltd.)": a run of at least
    two bullet lines, each an app with perhaps its operator in brackets."""
    entities: list[Entity] = []
    run: list[str] = []
    for line in [*lines, ""]:
        bullet = _BULLET.match(line)
        if bullet is not None:
            run.append(bullet["item"])
            continue
        if len(run) >= 2:
            for item in run:
                m = _BULLET_ITEM.match(item.strip())
                entity = _entity(m["name"].strip(), strict=True) if m else None
                if entity is None:
                    continue
                if m and m["dev"] and is_company(m["dev"]) and entity.kind != "company":
                    entity.developer = m["dev"].strip()
                entities.append(entity)
        run = []
    return entities


_LEGAL_END = r"(?:Co\.,?\s*Ltd\.?|Ltd\.?|Inc\.?|Limited|Corp\.?|Corporation|Group|Holdings)"
# "Weibo is operated by Beijing Weimeng … Co., Ltd.; Zhihu by Beijing Zhizhe … Co., Ltd.",
# "Xueche Bang, operated by Jinan Xueche … Co., Ltd., was found …"
_OPERATED_BY = lazy(
    r"(?P<name>[A-Z0-9][\w.&'’-]*(?:\s[A-Z0-9][\w.&'’-]*){0,4})(?:,\s+|\s+(?:is|was|are)\s+)"
    r"(?:run|operated|owned|developed|published|made)\s+by\s+"
    rf"(?P<owner>[A-Z][\w&'’ ()-]*?{_LEGAL_END}(?:\s+{_LEGAL_END})*)"
    r"(?P<more>(?:;\s*[A-Z0-9][\w.&'’ -]{0,40}?\s+by\s+[A-Z][\w&'’ ()-]*?"
    rf"{_LEGAL_END})*)"
)
_MORE_BY = lazy(
    rf";\s*(?P<name>[A-Z0-9][\w.&'’ -]{{0,40}}?)\s+by\s+(?P<owner>[A-Z][\w&'’ ()-]*?{_LEGAL_END})"
)


def _operators_said(text: str, entities: list[Entity]) -> None:
    """Operators a story gives in a sentence of their own, for apps it named."""
    by_name = {entity.name: entity for entity in entities}
    for m in _OPERATED_BY.finditer(text):
        pairs = [(m["name"], m["owner"])]
        pairs += [(x["name"], x["owner"]) for x in _MORE_BY.finditer(m["more"] or "")]
        for name, owner in pairs:
            entity = by_name.get(name.strip())
            if entity is not None and entity.developer is None:
                entity.developer = owner.strip()


def extract_entities_en(text: str) -> list[Entity]:
    """Entities from "including A, B and C" style lists in English prose, paragraph by
    paragraph, and from bulleted lists; the headline counts only when the body names nobody.
    Photo captions and "read more" boxes are not read."""
    paragraphs = [p for p in text.splitlines() if p.strip() and not _CAPTION.search(p)]
    if not paragraphs:
        return []
    body = [entity for p in paragraphs[1:] for entity in _from_paragraph(p)]
    body += _bullets(paragraphs[1:])
    _operators_said(" ".join(paragraphs[1:]), body)
    if not body:
        body = _from_paragraph(paragraphs[0])
    return _merge_en(body)
