"""The extractor of an earlier revision, run on the same notices in the same benchmark run.

``python -m bench.ingest`` compares today's extractor with the one released before it learnt
prose lists, hard tables, more dates and issuers, attachments and images (``BASELINE_REV``):
that revision's ``services`` and ``shared`` packages are exported from git into a temporary
folder and run in a child process (so its modules never mix with today's), one call for the
whole corpus.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import tarfile
import tempfile
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BASELINE_REV = "85de2b9"
"""The last revision before issue 10's reader work."""

_WORKER = r"""
import json, sys
sys.meta_path = [f for f in sys.meta_path if "editable" not in repr(f).lower()]
sys.path.insert(0, sys.argv[1])
from datetime import date
from services.ingestor.extract import parse_notice
out = {}
for item in json.load(sys.stdin):
    try:
        data = open(item["path"], "rb").read()
        given = date.fromisoformat(item["published_on"]) if item["published_on"] else None
        event = parse_notice(data, name=item["name"], published_on=given)
    except Exception as error:  # the old reader refusing a file is a result too
        out[item["path"]] = {"error": f"{type(error).__name__}: {error}"}
        continue
    out[item["path"]] = {
        "regulator": event.regulator.code,
        "published_on": event.published_on.isoformat(),
        "due_on": event.deadline.due_on.isoformat() if event.deadline else None,
        "kind": event.kind,
        "entities": [[e.name, e.developer] for e in event.entities],
    }
json.dump(out, sys.stdout)
"""


def export(rev: str = BASELINE_REV) -> Path | None:
    """``services`` and ``shared`` of ``rev`` in a temporary folder; None without git."""
    try:
        archive = subprocess.run(
            ["git", "-C", str(ROOT), "archive", "--format=tar", rev, "services", "shared"],
            capture_output=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    folder = Path(tempfile.mkdtemp(prefix="regwatch-baseline-"))
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(folder, filter="data")
    return folder


def extract_all(folder: Path, items: list[tuple[Path, date | None]]) -> dict[str, dict[str, Any]]:
    """The earlier extractor's reading of each file: path -> fields, or {"error": ...}."""
    request = [
        {"path": str(path), "name": path.name, "published_on": given.isoformat() if given else None}
        for path, given in items
    ]
    proc = subprocess.run(
        [sys.executable, "-c", _WORKER, str(folder)],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        check=True,
        cwd=folder,
    )
    loaded: dict[str, dict[str, Any]] = json.loads(proc.stdout)
    return loaded
