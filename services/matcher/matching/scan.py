"""The reference matcher: every watch item against every entity, no index.

Slow on purpose (the benchmark's baseline) and simple enough to trust: :class:`~.index.WatchIndex`
must give exactly the same results.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from shared.events import Entity, Match, NoticeEvent

from .features import WatchSpec, entity_views, watch_spec
from .results import Suppress, group_by_subscriber, make_match, without_suppressed
from .rules import evaluate
from .watch import WatchItem

__all__ = ["NaiveScan", "match_entities"]


class NaiveScan:
    """Watch items prepared once; every match compares each of them with each entity."""

    def __init__(self, items: Iterable[WatchItem] = ()) -> None:
        unique = list(dict.fromkeys(items))
        first: dict[tuple[str, str, tuple[str, ...]], int] = {}
        for position, item in enumerate(unique):
            first.setdefault((item.kind, item.name, tuple(item.aliases)), position)
        # one distinct watch's items together, distinct watches by their first item
        self.items = sorted(unique, key=lambda i: first[(i.kind, i.name, tuple(i.aliases))])
        specs: dict[tuple[str, str, tuple[str, ...]], WatchSpec] = {}
        for i in self.items:
            key = (i.kind, i.name, tuple(i.aliases))
            if key not in specs:
                specs[key] = watch_spec(*key)
        self.specs = [specs[(i.kind, i.name, tuple(i.aliases))] for i in self.items]

    def match_entities(self, entities: Sequence[Entity]) -> list[tuple[WatchItem, Match]]:
        """Every (watch, entity) pair that matches.

        Ordered by entity position; for one entity, by distinct watch (kind, name, aliases) in
        the order of each one's first item, then by item order. A repeated entity (same kind,
        name and developer, e.g. one row per store) yields its matches once, at its first
        position (read by OCR when any of its rows was).
        """
        out: list[tuple[WatchItem, Match]] = []
        for view in entity_views(entities):
            for item, spec in zip(self.items, self.specs, strict=True):
                verdict = evaluate(spec, view)
                if verdict is not None:
                    out.append((item, make_match(spec, view, verdict)))
        return out

    def match(
        self, notice: NoticeEvent, *, suppress: Suppress | None = None
    ) -> dict[str, list[Match]]:
        """subscriber_id -> matches, as :meth:`~.index.WatchIndex.match`."""
        grouped = group_by_subscriber(self.match_entities(notice.entities))
        return without_suppressed(grouped, suppress)


def match_entities(
    watches: Sequence[WatchItem], entities: Sequence[Entity]
) -> list[tuple[WatchItem, Match]]:
    """Every (watch, entity) pair that matches, comparing all pairs; see :class:`NaiveScan`."""
    return NaiveScan(watches).match_entities(entities)
