"""``<data dir>/runtime.json``: where a running regwatch's embedded parts are, for the CLI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

RUNTIME_FILE = "runtime.json"


def write_runtime_file(data_dir: Path, info: dict[str, Any]) -> None:
    (data_dir / RUNTIME_FILE).write_text(json.dumps(info, indent=2))


def remove_runtime_file(data_dir: Path) -> None:
    (data_dir / RUNTIME_FILE).unlink(missing_ok=True)


def read_runtime_file(data_dir: Path) -> dict[str, Any] | None:
    try:
        data: dict[str, Any] = json.loads((data_dir / RUNTIME_FILE).read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None
    return data
