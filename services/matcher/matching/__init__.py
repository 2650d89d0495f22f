"""Pure matching of watchlist items (apps, companies) against the entities of a notice.

No database, broker or network here: the matcher service feeds watches and notices in and
publishes what comes out.
"""

from .aliases import BRANDS, GROUPS, Brand, Group, brand_of, group_named, group_of_company
from .matching import (
    APP_ENTITY_KINDS,
    SCORE_ALIAS,
    SCORE_BRAND_OWNER,
    SCORE_CORE,
    SCORE_EXACT,
    SCORE_GROUP,
    SCORE_PINYIN,
    SCORE_SCRIPT,
    WatchIndex,
    WatchItem,
    match_entities,
    match_notice,
)
from .names import (
    company_core,
    has_cjk,
    normalize,
    normalize_pinyin,
    pinyin_key,
    strip_qualifiers,
)

__all__ = [
    "APP_ENTITY_KINDS",
    "BRANDS",
    "GROUPS",
    "SCORE_ALIAS",
    "SCORE_BRAND_OWNER",
    "SCORE_CORE",
    "SCORE_EXACT",
    "SCORE_GROUP",
    "SCORE_PINYIN",
    "SCORE_SCRIPT",
    "Brand",
    "Group",
    "WatchIndex",
    "WatchItem",
    "brand_of",
    "company_core",
    "group_named",
    "group_of_company",
    "has_cjk",
    "match_entities",
    "match_notice",
    "normalize",
    "normalize_pinyin",
    "pinyin_key",
    "strip_qualifiers",
]
