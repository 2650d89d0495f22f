"""Which data dir and database a CLI command uses, and refusing to invent an empty one.

``REGWATCH_DATA_DIR`` or ``REGWATCH_DATABASE_URL`` decide when set. Otherwise a command uses
the SQLite database under ``./var`` if there is one, else the one ``regwatch run`` running for
this user (``shared/instances.py``), else it refuses to create a new, empty database and says
where it looked and how to point elsewhere.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from shared.errors import RegwatchError
from shared.instance_lock import is_locked, read_holder
from shared.instances import Instance, running
from shared.settings import Settings

HINT = "run from the folder where you ran `regwatch run`, or set REGWATCH_DATA_DIR"


class NoDataHere(RegwatchError):
    """A command would read a database that does not exist."""


def sqlite_file(settings: Settings) -> Path | None:
    """The SQLite file of the settings' database (the data dir's), or None for a server."""
    if settings.database_url:
        return None
    return (settings.data_dir / "regwatch.db").resolve()


def chosen_explicitly(settings: Settings) -> bool:
    """``REGWATCH_DATA_DIR`` or ``REGWATCH_DATABASE_URL`` is set (or the code set them)."""
    return bool(settings.database_url) or "data_dir" in settings.model_fields_set


def embedded_instances() -> list[Instance]:
    """Running instances whose database is the SQLite file in their data dir."""
    return [i for i in running() if i.sqlite]


def locate(settings: Settings) -> Settings:
    """The settings a CLI command should use: as given when they name the data dir or the
    database, or when ``./var`` holds a database; else those of the one running instance."""
    local = sqlite_file(settings)
    if chosen_explicitly(settings) or local is None or local.exists():
        return settings
    live = embedded_instances()
    if len(live) != 1:
        return settings  # none, or several to choose from: require_database says so
    return settings.model_copy(update={"data_dir": live[0].data_dir})


def require_database(settings: Settings) -> None:
    """Refuse (:class:`NoDataHere`) to create a new SQLite database that nobody asked for:
    the data dir was not set and holds none."""
    path = sqlite_file(settings)
    if path is None or path.exists() or chosen_explicitly(settings):
        return
    message = f"no regwatch data here ({path} does not exist); {HINT}"
    live = embedded_instances()
    if live:
        names = ", ".join(f"{i.data_dir} (pid {i.pid})" for i in live)
        message += f"; running now: {names}"
    raise NoDataHere(message)


def describe_location(settings: Settings) -> dict[str, Any]:
    """What ``regwatch status`` says about where it read: the data dir, why this one, and the
    instance running on it (if any). The database's URL is in its own part of the status."""
    data_dir = settings.data_dir.resolve()
    if settings.database_url:
        source = "REGWATCH_DATABASE_URL"
    elif any(name.upper() == "REGWATCH_DATA_DIR" for name in os.environ):
        source = "REGWATCH_DATA_DIR"
    elif data_dir != Settings.model_fields["data_dir"].get_default().resolve():
        source = "the running regwatch (the only one running for this user)"
    else:
        source = "./var in the current folder (the default)"
    holder = read_holder(data_dir) if is_locked(data_dir) else None
    return {
        "data_dir": str(data_dir),
        "data_dir_source": source,
        "running": {"pid": holder.pid, "http": holder.http} if holder else None,
    }
