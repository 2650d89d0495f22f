"""Feeds: configured sources (RSS/Atom, HTML list pages) polled on a schedule; each new item is
fetched once and ingested like a file."""

from __future__ import annotations

from .fetch import Fetcher
from .listing import KINDS, FeedItem, parse_listing
from .poller import FeedPoller, PollResult
from .scheduler import FeedScheduler
from .sources import (
    add_source,
    all_sources,
    describe,
    get_source,
    item_counts,
    remove_source,
    set_schedule,
)

__all__ = [
    "KINDS",
    "FeedItem",
    "FeedPoller",
    "FeedScheduler",
    "Fetcher",
    "PollResult",
    "add_source",
    "all_sources",
    "describe",
    "get_source",
    "item_counts",
    "parse_listing",
    "remove_source",
    "set_schedule",
]
