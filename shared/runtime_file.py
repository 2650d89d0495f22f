"""``<data dir>/runtime.json``: where a running regwatch's embedded parts are, for the CLI.

A ``regwatch run`` killed with SIGKILL leaves its file behind; it is ignored once the data
dir's lock (``shared/instance_lock.py``) is no longer held, so the CLI does not go looking for
a broker that died with it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from shared.instance_lock import is_locked, lock_path

RUNTIME_FILE = "runtime.json"


def write_runtime_file(data_dir: Path, info: dict[str, Any]) -> None:
    (data_dir / RUNTIME_FILE).write_text(json.dumps(info, indent=2))


def remove_runtime_file(data_dir: Path) -> None:
    (data_dir / RUNTIME_FILE).unlink(missing_ok=True)


def read_runtime_file(data_dir: Path) -> dict[str, Any] | None:
    """The running instance's file; None without one, or when it was left by a ``regwatch
    run`` that is gone (its lock file is there but no longer locked)."""
    try:
        data: dict[str, Any] = json.loads((data_dir / RUNTIME_FILE).read_text())
    except (FileNotFoundError, NotADirectoryError, json.JSONDecodeError):
        return None
    if lock_path(data_dir).exists() and not is_locked(data_dir):
        return None
    return data
