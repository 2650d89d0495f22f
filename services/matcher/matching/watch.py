"""What a subscriber watches, and the key of a match for false-positive feedback."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Literal

from shared.events import Match

from .names import normalize, strip_qualifiers

__all__ = ["MatchKey", "WatchItem", "match_key"]


@dataclass(frozen=True)
class WatchItem:
    """One entry of a subscriber's watchlist.

    ``aliases`` are the subscriber's own other names for the same app or company (any script
    or language); a match through one says so in its reason.
    """

    subscriber_id: str
    kind: Literal["app", "company"]
    name: str
    id: int | None = None
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class MatchKey:
    """What a match is about, for one subscriber, compared after normalization.

    A subscriber who marks a match wrong suppresses every later match with the same key:
    the same watch (kind and name) on the same entity (name without platform/version notes,
    and developer), however the notice spells them.
    """

    subscriber_id: str
    watch_kind: str
    watch_name_normalized: str
    entity_name_normalized: str
    developer_normalized: str

    def text(self) -> str:
        """A stable one-line form (fields joined by U+001F), for storage."""
        return "\x1f".join(
            (
                self.subscriber_id,
                self.watch_kind,
                self.watch_name_normalized,
                self.entity_name_normalized,
                self.developer_normalized,
            )
        )

    def digest(self) -> str:
        """SHA-256 hex (64 characters) of :meth:`text`."""
        return hashlib.sha256(self.text().encode("utf-8")).hexdigest()


def match_key(subscriber_id: str, match: Match) -> MatchKey:
    """The :class:`MatchKey` of ``match`` for ``subscriber_id``."""
    return MatchKey(
        subscriber_id=subscriber_id,
        watch_kind=match.watch.kind,
        watch_name_normalized=normalize(match.watch.name),
        entity_name_normalized=normalize(strip_qualifiers(match.entity.name).base),
        developer_normalized=normalize(match.entity.developer or ""),
    )
