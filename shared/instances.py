"""The running ``regwatch run`` instances of this user, for CLI commands run from elsewhere.

Each instance writes one file, ``<pid>.json`` (data dir, database, HTTP address), into
``$XDG_RUNTIME_DIR/regwatch/instances/`` (or ``~/.local/state/regwatch/instances/`` without
``XDG_RUNTIME_DIR``) when it is ready and removes it when it stops. A file left by a killed
process is ignored (its data dir's lock is no longer held) and removed by the next listing.
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shared.instance_lock import is_locked, read_holder


@dataclass(frozen=True)
class Instance:
    pid: int
    data_dir: Path
    http: str | None
    database: str  # shown to users (no password)
    sqlite: bool  # its database is the SQLite file in its data dir

    def as_dict(self) -> dict[str, Any]:
        return {
            "pid": self.pid,
            "data_dir": str(self.data_dir),
            "http": self.http,
            "database": self.database,
            "sqlite": self.sqlite,
        }


def registry_dir() -> Path:
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime:
        return Path(runtime) / "regwatch" / "instances"
    return Path.home() / ".local" / "state" / "regwatch" / "instances"


def register(instance: Instance) -> Path:
    """Record a running instance (written whole, then renamed: readers never see half)."""
    folder = registry_dir()
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = folder / f"{instance.pid}.json"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(instance.as_dict()))
    tmp.replace(path)
    return path


def unregister(pid: int) -> None:
    (registry_dir() / f"{pid}.json").unlink(missing_ok=True)


def _read(path: Path) -> Instance | None:
    try:
        raw = json.loads(path.read_text())
        return Instance(
            pid=int(raw["pid"]),
            data_dir=Path(raw["data_dir"]),
            http=raw.get("http") or None,
            database=str(raw.get("database") or ""),
            sqlite=bool(raw.get("sqlite")),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _live(instance: Instance) -> bool:
    """Its data dir is locked, by this pid (not by a later instance reusing the folder)."""
    return read_holder(instance.data_dir).pid == instance.pid and is_locked(instance.data_dir)


def running() -> list[Instance]:
    """Instances whose data dir is locked right now, by data dir; stale files are removed."""
    folder = registry_dir()
    if not folder.is_dir():
        return []
    found: list[Instance] = []
    for path in sorted(folder.glob("*.json")):
        instance = _read(path)
        if instance is not None and _live(instance):
            found.append(instance)
        else:
            with contextlib.suppress(OSError):
                path.unlink()
    return sorted(found, key=lambda i: str(i.data_dir))
