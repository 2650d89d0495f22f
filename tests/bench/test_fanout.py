"""bench.fanout's population: the template subscribers' rows copied for each subscriber with
its own ids, webhook URL and email address, and the watch items inserted, on SQLite and
PostgreSQL (``REGWATCH_TEST_DATABASE_URL``)."""

from __future__ import annotations

import argparse

import pytest
from sqlalchemy import select

from bench.fanout import (
    clone_subscribers,
    database_counts,
    insert_watches,
    register_templates,
    smtp_connections,
)
from services.matcher.models import WatchRow
from shared.accounts import Subscriber, webhook_secret_of
from shared.channel_targets import TargetRow
from shared.db import Database

HOOK = "http://127.0.0.1:9/hook"


async def test_each_clone_gets_its_own_rows(database_url: str) -> None:
    hook_template, mail_template = await register_templates(database_url, HOOK)
    templates = {t.id: t for t in (hook_template, mail_template)}
    plan = [
        ("sub_fanout00000000", hook_template.id, None),
        ("sub_fanout00000001", mail_template.id, "sub_fanout00000001@example.com"),
        ("sub_fanout00000002", hook_template.id, None),
        ("sub_fanout00000003", mail_template.id, "sub_fanout00000003@example.com"),
    ]
    items = [(sub, "app", name) for sub, _, _ in plan for name in ("微信", "抖音", "快手")]

    await clone_subscribers(database_url, templates, plan)
    await insert_watches(database_url, items)

    db = Database(database_url)
    try:
        async with db.session() as session:
            subscribers = {s.id: s for s in (await session.scalars(select(Subscriber))).all()}
            targets = (await session.scalars(select(TargetRow))).all()
            watches = (await session.scalars(select(WatchRow))).all()
            assert set(subscribers) == {*templates, *(sub for sub, _, _ in plan)}
            for sub, template_id, email in plan:
                clone = subscribers[sub]
                assert clone.webhook_url == f"{HOOK}/{sub}"
                assert clone.email == email
                assert clone.name == f"bench {sub}"
                assert clone.api_key_hash == f"bench-{sub}"
                assert clone.created_at == subscribers[template_id].created_at
                secret = webhook_secret_of(session, clone)
                assert secret == templates[template_id].webhook_secret
    finally:
        await db.dispose()

    mine = {
        sub: {(t.channel, t.address) for t in targets if t.subscriber_id == sub}
        for sub in subscribers
    }
    for sub, _, email in plan:
        expected = {("webhook", f"{HOOK}/{sub}")} | ({("email", email)} if email else set())
        assert mine[sub] == expected
    assert len({t.id for t in targets}) == len(targets) == 2 * 3 + 3  # templates: 1 + 2
    assert sorted((w.subscriber_id, w.kind, w.name) for w in watches) == sorted(items)
    assert all(w.aliases == "[]" for w in watches)

    counts = await database_counts(database_url, "no-such-notice")
    assert counts["alerts"] == counts["deliveries"] == counts["reminders"] == 0
    # the size of the database the clones were written to, read from the database itself
    assert counts["database_mib"] > 0


def test_by_default_one_notifier_on_sqlite_then_two_sharing_the_load() -> None:
    from bench.fanout import variants

    assert variants(None, None, "") == [(1, "sqlite"), (2, "sqlite")]
    assert variants(None, None, "postgresql://pg/db") == [(1, "sqlite"), (2, "postgresql")]
    assert variants(None, "postgresql", "postgresql://pg/db") == [
        (1, "postgresql"),
        (2, "postgresql"),
    ]
    assert variants(4, None, "postgresql://pg/db") == [(4, "sqlite")]
    assert variants(2, "postgresql", "") == [(2, "postgresql")]


def test_smtp_connections_are_checked_as_the_setting_checks_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("REGWATCH_SMTP_PORT", "not-a-port")  # another setting's error is not ours
    assert smtp_connections("8") == 8
    for bad in ("0", "65", "many"):
        with pytest.raises(argparse.ArgumentTypeError, match="REGWATCH_SMTP_CONNECTIONS"):
            smtp_connections(bad)
