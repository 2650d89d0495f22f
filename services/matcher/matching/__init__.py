"""Pure matching of watchlist items (apps, companies) against the entities of a notice.

No database, broker or network here: the matcher service feeds watches and notices in and
publishes what comes out.

- :mod:`.names`: normalization (width, case, punctuation, script, pinyin, company cores).
- :mod:`.directory`: the shipped directory of well-known apps and companies
  (``data/directory.json``).
- :mod:`.fuzzy`: typo tolerance for long Latin names, and its index.
- :mod:`.confusables`: the characters OCR confuses (``输人法`` for ``输入法``), in one table.
- :mod:`.features` / :mod:`.rules`: prepared names and the rules, each with score and reason.
- :mod:`.index`: :class:`WatchIndex`, the fast path; :mod:`.scan`: the reference scan.
"""

from collections.abc import Sequence

from shared.events import Match, NoticeEvent

from .directory import (
    Brand,
    BrandHit,
    CompanyHit,
    Directory,
    DirectoryError,
    Group,
    default_directory,
    load_directory,
)
from .features import APP_ENTITY_KINDS
from .fuzzy import THRESHOLD as FUZZY_THRESHOLD
from .fuzzy import typo_similarity
from .index import WatchIndex
from .names import (
    company_core,
    has_cjk,
    normalize,
    normalize_pinyin,
    pinyin_key,
    strip_qualifiers,
)
from .results import Suppress
from .rules import (
    SCORE_ALIAS,
    SCORE_BRAND_OWNER,
    SCORE_CORE,
    SCORE_ENTITY,
    SCORE_EXACT,
    SCORE_GROUP,
    SCORE_OCR,
    SCORE_PINYIN,
    SCORE_PREFIX,
    SCORE_SCRIPT,
    SCORE_TYPO,
)
from .scan import NaiveScan, match_entities
from .watch import MatchKey, WatchItem, match_key


def match_notice(
    watches: Sequence[WatchItem], notice: NoticeEvent, *, suppress: Suppress | None = None
) -> dict[str, list[Match]]:
    """subscriber_id -> matches for ``notice``; see :meth:`WatchIndex.match`."""
    return WatchIndex(watches).match(notice, suppress=suppress)


def brand_of(name: str) -> Brand | None:
    """The directory app ``name`` denotes (exact or pinyin; no typo guesses)."""
    hit = default_directory().brand_hit(name, typos=False)
    return hit.brand if hit is not None else None


def group_named(name: str) -> Group | None:
    """The company a *watch* on ``name`` covers as a whole (a name of the company itself)."""
    hit = default_directory().company(name, typos=False)
    return hit.group if hit is not None and hit.names_group else None


def group_of_company(name: str) -> Group | None:
    """The directory company ``name`` (an app's developer) belongs to, if any."""
    hit = default_directory().company(name)
    return hit.group if hit is not None else None


__all__ = [
    "APP_ENTITY_KINDS",
    "FUZZY_THRESHOLD",
    "SCORE_ALIAS",
    "SCORE_BRAND_OWNER",
    "SCORE_CORE",
    "SCORE_ENTITY",
    "SCORE_EXACT",
    "SCORE_GROUP",
    "SCORE_OCR",
    "SCORE_PINYIN",
    "SCORE_PREFIX",
    "SCORE_SCRIPT",
    "SCORE_TYPO",
    "Brand",
    "BrandHit",
    "CompanyHit",
    "Directory",
    "DirectoryError",
    "Group",
    "MatchKey",
    "NaiveScan",
    "Suppress",
    "WatchIndex",
    "WatchItem",
    "brand_of",
    "company_core",
    "default_directory",
    "group_named",
    "group_of_company",
    "has_cjk",
    "load_directory",
    "match_entities",
    "match_key",
    "match_notice",
    "normalize",
    "normalize_pinyin",
    "pinyin_key",
    "strip_qualifiers",
    "typo_similarity",
]
