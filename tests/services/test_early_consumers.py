"""``services/early_consumers.py`` declares every consumer group the services register, with
the arguments they register it with (``regwatch run`` starts those groups before it imports
the services)."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from services.early_consumers import declare_early_consumers, early_consumers
from services.runtime import SERVICE_NAMES, build_services
from shared.broker import make_broker
from shared.db import Database
from shared.ops.lag import subscriptions
from shared.settings import Settings

GROUPS = {
    "ingestor": {},
    "matcher": {
        "regwatch-matcher": ["regwatch.notices.v1"],
        "regwatch-matcher-retro": ["regwatch.watchlist.v1"],
    },
    "notifier": {
        "regwatch-notifier": ["regwatch.matches.v1"],
        "regwatch-notifier-watchlist": ["regwatch.watchlist.v1"],
    },
}
"""The groups each service reads in (the retro matcher's only when retro matching is on)."""


@pytest.mark.parametrize("retro", ["open", "off"])
@pytest.mark.parametrize(
    "only", [SERVICE_NAMES, ("matcher",), ("notifier",), ("ingestor",), ("ingestor", "matcher")]
)
async def test_the_declared_groups_are_those_the_services_register(
    only: Sequence[str], retro: str
) -> None:
    settings = Settings(retro_match=retro)  # type: ignore[arg-type]
    broker = make_broker(settings, "127.0.0.1:9")
    declare_early_consumers(broker, settings, only)
    db = Database("sqlite+aiosqlite:///:memory:")
    # a registration whose arguments differ from the declaration raises EarlyConsumerMismatch
    services = build_services(settings, db, broker, ("127.0.0.1", 25), only)
    try:
        assert broker.unclaimed() == []
        declared: dict[str, list[str]] = {}
        for topics, options in early_consumers(settings, only):
            declared.setdefault(options["group_id"], []).extend(topics)
        expected = {
            group: topics
            for name in only
            for group, topics in GROUPS[name].items()
            if retro != "off" or group != "regwatch-matcher-retro"
        }
        assert declared == subscriptions(broker) == expected
    finally:
        for service in services:
            await service.stop()
        await db.dispose()
