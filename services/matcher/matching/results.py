"""Shaping matches into per-subscriber results, and dropping suppressed ones."""

from __future__ import annotations

from collections.abc import Callable, Container, Iterable

from shared.events import Match, WatchRef

from .features import EntityView, WatchSpec
from .rules import Verdict
from .watch import MatchKey, WatchItem, match_key

__all__ = ["Suppress", "group_by_subscriber", "make_match", "without_suppressed"]

Suppress = Container[MatchKey] | Callable[[MatchKey], bool]
"""Matches to leave out: a set of :class:`MatchKey` (``key in suppress``) or a predicate."""


def make_match(
    spec: WatchSpec, view: EntityView, verdict: Verdict, ref: WatchRef | None = None
) -> Match:
    """The Match of a verdict; ``ref`` (the watch as matches show it) may be shared."""
    return Match(
        watch=ref if ref is not None else spec.ref(),
        entity=view.ref,
        score=verdict[0],
        reason=verdict[1],
    )


def content_key(match: Match) -> tuple[str, str, str, str | None]:
    """Matches with equal content keys read the same: one per subscriber is enough."""
    return (match.watch.kind, match.watch.name, match.entity.name, match.entity.developer)


def group_by_subscriber(pairs: Iterable[tuple[WatchItem, Match]]) -> dict[str, list[Match]]:
    """subscriber_id -> matches in order, without repeats of the same content."""
    grouped: dict[str, list[Match]] = {}
    seen: set[tuple[str, tuple[str, str, str, str | None]]] = set()
    for item, match in pairs:
        key = (item.subscriber_id, content_key(match))
        if key in seen:
            continue
        seen.add(key)
        grouped.setdefault(item.subscriber_id, []).append(match)
    return grouped


def is_suppressed(suppress: Suppress, key: MatchKey) -> bool:
    if callable(suppress):
        return bool(suppress(key))
    return key in suppress


def without_suppressed(
    grouped: dict[str, list[Match]], suppress: Suppress | None
) -> dict[str, list[Match]]:
    """``grouped`` without the matches ``suppress`` names; subscribers left with none drop."""
    if suppress is None:
        return grouped
    kept: dict[str, list[Match]] = {}
    for subscriber_id, matches in grouped.items():
        remaining = [m for m in matches if not is_suppressed(suppress, match_key(subscriber_id, m))]
        if remaining:
            kept[subscriber_id] = remaining
    return kept
