"""``regwatch portal link SUBSCRIBER_ID``: a one-time sign-in link, for an operator to hand on.

Prints ``{subscriber_id, url, expires_at}``. The URL's base is ``REGWATCH_PUBLIC_URL``, else
the address of the running regwatch (its ``runtime.json``), else
``http://127.0.0.1:<REGWATCH_HTTP_PORT>`` (``shared/portal/links.py``).

Outside the ``shared.portal`` package, whose import loads the web framework: ``regwatch portal
--help`` loads none of it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer

from shared.cli import emit, friendly, load_settings, run_with_db, sub_app
from shared.errors import InputError

if TYPE_CHECKING:
    from shared.db import Database

portal_app = sub_app("The subscriber portal (/portal/).")


@portal_app.command("link")
@friendly
def link(
    subscriber_id: Annotated[str, typer.Argument(help="the subscriber to sign in (sub_...)")],
) -> None:
    """Print a one-time sign-in link to the portal (works once, for 15 minutes)."""
    from shared.portal.links import cli_base, link_path
    from shared.portal.tokens import LINK_LIFETIME, create_link

    settings = load_settings()

    async def work(db: Database) -> dict[str, Any]:
        now = datetime.now(UTC)
        async with db.session() as session:
            try:
                token = await create_link(session, subscriber_id, now=now)
            except LookupError:
                raise InputError(f"no subscriber {subscriber_id}") from None
        return {
            "subscriber_id": subscriber_id,
            "url": cli_base(settings) + link_path(token),
            "expires_at": (now + LINK_LIFETIME).isoformat(),
        }

    emit(run_with_db(settings, work))
