"""The consumer groups ``regwatch run`` starts on the embedded broker before it imports the
services: each group's join (Tansu holds a JoinGroup about a second) then overlaps the imports
of the services, the database layer and the HTTP side instead of following them.

This module imports no service. Each entry repeats, argument for argument, the
``broker.subscriber(...)`` call of the service that handles the group: the services' own
registration claims the subscriber declared here (``ConcurrentStartBroker.subscriber``), and
the broker refuses to start if an argument differs or a declared group is never registered
(``EarlyConsumerMismatch``), so a change on one side only is found at the first start;
``tests/services/test_early_consumers.py`` finds it before. Groupless readers (the matcher's
live watchlist) join no group and start with the rest.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from shared.broker import ACK_POLICY, ConcurrentStartBroker, raw_bodies
from shared.settings import Settings

RETRO_BATCH = 500
"""``services.matcher.retro.BATCH``."""
MATCH_BATCH = 100
"""``services.notifier.handler.MATCH_BATCH``."""
NOTIFIER_WATCHLIST_GROUP = "notifier-watchlist"
"""``services.notifier.service.WATCHLIST_GROUP``."""


def early_consumers(
    settings: Settings, only: Sequence[str]
) -> list[tuple[tuple[str, ...], dict[str, Any]]]:
    """``(topics, subscriber arguments)`` of every consumer group the services in ``only``
    register, as they register it."""
    topics = settings.topics
    declared: list[tuple[tuple[str, ...], dict[str, Any]]] = []
    if "matcher" in only:
        declared.append(
            (
                (topics.notices,),
                {
                    "group_id": settings.group_id("matcher"),
                    "auto_offset_reset": "earliest",
                    "ack_policy": ACK_POLICY,
                },
            )
        )
        if settings.retro_match != "off":
            declared.append(
                (
                    (topics.watchlist,),
                    {
                        "group_id": settings.group_id("matcher-retro"),
                        "batch": True,
                        "max_records": RETRO_BATCH,
                        "batch_timeout_ms": 100,
                        "auto_offset_reset": "earliest",
                        "ack_policy": ACK_POLICY,
                        "title": "matcher-retro",
                    },
                )
            )
    if "notifier" in only:
        declared.append(
            (
                (topics.matches,),
                {
                    "group_id": settings.group_id("notifier"),
                    "batch": True,
                    "max_records": MATCH_BATCH,
                    "batch_timeout_ms": 100,
                    "decoder": raw_bodies,
                    "auto_offset_reset": "earliest",
                    "ack_policy": ACK_POLICY,
                    "title": "notifier-matches",
                },
            )
        )
        declared.append(
            (
                (topics.watchlist,),
                {
                    "group_id": settings.group_id(NOTIFIER_WATCHLIST_GROUP),
                    "auto_offset_reset": "earliest",
                    "ack_policy": ACK_POLICY,
                },
            )
        )
    return declared


def declare_early_consumers(
    broker: ConcurrentStartBroker, settings: Settings, only: Sequence[str]
) -> None:
    """Declare on ``broker`` the groups of the services in ``only``, to start early."""
    for topics, options in early_consumers(settings, only):
        broker.declare_early(*topics, **options)
