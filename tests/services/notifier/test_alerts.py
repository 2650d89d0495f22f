"""Match emails rendered once per distinct content in a batch: each subscriber's copy is the
email rendered for them alone, their own unsubscribe link in it."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from services.notifier import render
from services.notifier.alerts import Context, MatchEmails
from services.notifier.preferences import default_preferences
from shared.accounts import Subscriber
from shared.events import MatchEvent
from shared.settings import Settings
from tests.support.factories import match_event

NOW = datetime(2099, 8, 20, 22, 30, tzinfo=UTC)


def context(settings: Settings, ident: str, timezone: str, token: str) -> Context:
    prefs = default_preferences(ident, NOW)
    prefs.unsubscribe_token = token
    return Context(settings, Subscriber(id=ident, timezone=timezone), prefs, NOW)


def alone(event: MatchEvent, ctx: Context, escalated: bool) -> tuple[str, str, str]:
    return render.render_match_email(
        event.notice,
        event.matches,
        now=ctx.now,
        tz=ctx.tz,
        public_url=ctx.public_url,
        unsubscribe_url=ctx.unsubscribe_url,
        escalated=escalated,
    )


@pytest.mark.parametrize("public_url", [None, "https://rw.example/a?b=1&c=<2>"])
def test_each_copy_is_the_email_rendered_for_that_subscriber_alone(
    public_url: str | None,
) -> None:
    settings = Settings(public_url=public_url)
    emails = MatchEmails()
    removal = match_event("s", date(2099, 8, 31))
    removal = removal.model_copy(
        update={"notice": removal.notice.model_copy(update={"kind": "removal"})}
    )
    cases = [
        (match_event(ident, date(2099, 8, 31)), context(settings, ident, zone, token), False)
        for ident, zone, token in [
            ("s1", "Asia/Shanghai", "Tok_-1" * 5),
            ("s2", "Asia/Shanghai", "other-token_2"),
            ("s3", "Europe/Berlin", "Tok_-1" * 5),
            ("s4", "Asia/Shanghai", "a b&c<d>"),  # not a token of ours: rendered alone
        ]
    ]
    cases.append((removal, context(settings, "s5", "Asia/Shanghai", "tok5"), True))
    for event, ctx, escalated in [*cases, *cases]:
        copy = emails.render(event, ctx, escalated)
        assert copy == alone(event, ctx, escalated)
        assert emails.placeholder not in "".join(copy)
        assert f"/v1/unsubscribe/{ctx.prefs.unsubscribe_token}" in copy[1]
    # one rendering per distinct content: Shanghai, Berlin, the removal
    assert len(emails.rendered) == 3
