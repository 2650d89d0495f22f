"""The ``regwatch`` command line: composes the services' commands and runs the runtime.

Commands that return data print JSON on stdout; failures print one line on stderr and exit 1.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from shared.cli import emit, fail, friendly, load_settings, read_file, show_version
from shared.lazy_group import Lazy, LazyGroup

if TYPE_CHECKING:
    from services.matcher.matching import WatchItem
    from shared.events import NoticeEvent

COMMANDS = {
    "status": Lazy(
        "services.ops_cli:status",
        "Broker, database, topics with end offsets, consumer lag, dead letters, reminders (JSON).",
    ),
    "asyncapi": Lazy(
        "services.ops_cli:asyncapi",
        "Print the AsyncAPI 3.0 document of regwatch's topics (FastStream's generator).",
    ),
    "notices": Lazy(
        "services.ingestor.cli:notices_app", "Parse, ingest and list regulators' notices."
    ),
    "sources": Lazy(
        "services.ingestor.cli:sources_app",
        "Feed sources (RSS/Atom, HTML list pages) polled for new notices.",
    ),
    "subscribers": Lazy("services.matcher.cli:subscribers_app", "Manage subscribers."),
    "watch": Lazy("services.matcher.cli:watch_app", "Manage watch items."),
    "reminders": Lazy("services.notifier.cli:reminders_app", "Deadline reminders."),
    "deliveries": Lazy(
        "services.notifier.cli:deliveries_app",
        "The delivery ledger: list deliveries, replay failed ones.",
    ),
    "channels": Lazy(
        "services.notifier.cli:channels_app",
        "Where alerts go (robots, email, webhooks): add, list, remove, test.",
    ),
    "topics": Lazy("services.ops_cli:topics_app", "Read regwatch's Kafka topics."),
    "dlq": Lazy(
        "services.ops_cli:dlq_app",
        "Dead-lettered messages: list them, replay them to their topic.",
    ),
    "secrets": Lazy(
        "services.ops_cli:secrets_app",
        "Keys of the secrets stored encrypted (webhook signing secrets).",
    ),
    "portal": Lazy("shared.portal_cli:portal_app", "The subscriber portal (/portal/)."),
}
"""The services' commands, imported only when one runs: ``--help`` lists them from here (the
line is the command's own short help; tests/test_cli_startup.py checks they agree)."""


class RegwatchGroup(LazyGroup):
    lazy = COMMANDS


app = typer.Typer(
    cls=RegwatchGroup,
    help="regwatch: alerts when regulators name the apps and companies you watch.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def regwatch(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            help="Print regwatch's version and exit.",
            callback=show_version,
            is_eager=True,
        ),
    ] = False,
) -> None:
    pass


@app.command()
def run(
    only: Annotated[
        list[str] | None,
        typer.Option("--only", help="run only these services (repeat or comma-separate)"),
    ] = None,
    log_format: Annotated[
        str | None,
        typer.Option(
            "--log-format",
            help="human (default: warnings and errors on stderr, every line as JSON in"
            " <data dir>/regwatch.log), json or text (all lines on stderr, no log file);"
            " default REGWATCH_LOG_FORMAT if set",
        ),
    ] = None,
) -> None:
    """Run regwatch: all services in one process, on embedded defaults unless settings say."""
    import gc

    # start-up only allocates what lives on (modules, the app): no collections until it has
    # started (services/run_command.py turns the collector on again)
    gc.disable()
    from services.run_command import run_regwatch
    from services.run_output import LOG_FORMATS
    from services.runtime import SERVICE_NAMES
    from shared.exposure import ExposedOperatorRoutes, check_admin_exposure

    if log_format is not None and log_format not in LOG_FORMATS:
        fail(f"--log-format {log_format!r}: choose from {', '.join(LOG_FORMATS)}")
    settings = load_settings(service=True)
    try:
        check_admin_exposure(settings)
    except ExposedOperatorRoutes as exc:
        fail(f"regwatch will not start: {exc}")
    chosen = [n.strip() for item in (only or []) for n in item.split(",") if n.strip()]
    for name in chosen:
        if name not in SERVICE_NAMES:
            fail(f"unknown service {name!r}: choose from {', '.join(SERVICE_NAMES)}")
    run_regwatch(settings, chosen, log_format)


@app.command("match")
@friendly
def match(
    watchlist: Annotated[
        Path, typer.Option(help='JSON list of {"kind": "app"|"company", "name", "aliases"?: [...]}')
    ],
    notice: Annotated[Path, typer.Option(help="a NoticeEvent JSON or a notice file")],
) -> None:
    """Match a watchlist against one notice offline; prints matches with score and reason."""
    from services.matcher.matching import match_notice

    items = load_watchlist(watchlist)
    event = load_notice(notice)
    matches = match_notice(items, event).get("watchlist", [])
    emit([m.model_dump(mode="json") for m in matches])


def load_watchlist(path: Path) -> list[WatchItem]:
    from services.matcher.matching import WatchItem

    try:
        raw = json.loads(read_file(path))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        fail(f"{path}: not valid JSON ({exc})")
    if not isinstance(raw, list):
        fail(f"{path}: expected a JSON list of {{kind, name, aliases?}} objects")
    items: list[WatchItem] = []
    for index, item in enumerate(raw):
        if not isinstance(item, dict) or item.get("kind") not in ("app", "company"):
            fail(f"{path}: item {index}: needs kind 'app' or 'company'")
        name = item.get("name")
        if not isinstance(name, str) or not name.strip():
            fail(f"{path}: item {index}: needs a non-empty name")
        aliases = item.get("aliases", [])
        if not isinstance(aliases, list) or not all(isinstance(a, str) for a in aliases):
            fail(f"{path}: item {index}: aliases must be a list of names")
        items.append(
            WatchItem(
                subscriber_id="watchlist",
                kind=item["kind"],
                name=name.strip(),
                aliases=tuple(a.strip() for a in aliases if a.strip()),
            )
        )
    return items


def load_notice(path: Path) -> NoticeEvent:
    from pydantic import ValidationError

    from services.ingestor.extract import parse_notice
    from shared.events import NoticeEvent

    data = read_file(path)
    if path.suffix.lower() == ".json":
        try:
            return NoticeEvent.model_validate_json(data)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "document"
            fail(f"{path}: invalid NoticeEvent: {where}: {first['msg']}")
    return parse_notice(data, name=str(path))


def main() -> None:
    app()


if __name__ == "__main__":
    main()
