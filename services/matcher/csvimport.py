"""Bulk import of watch items from CSV: ``kind,name[,aliases]``, aliases separated by ``|``.

A first line ``kind,name`` or ``kind,name,aliases`` is a header and skipped; blank lines and
lines starting with ``#`` are skipped. Every bad row is reported with its line number and the
field at fault; the good rows are imported all the same (partial success).

Example::

    kind,name,aliases
    app,抖音,Douyin|TikTok China
    company,腾讯
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from services.matcher.store import NewWatch, clean_aliases, clean_kind, clean_name, put_watches
from shared.db import Database
from shared.errors import InputError

HEADERS = (["kind", "name"], ["kind", "name", "aliases"])
MAX_IMPORT_BYTES = 10_000_000
CHUNK = 500


@dataclass(frozen=True)
class Problem:
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.field}: {self.message}"


@dataclass(frozen=True)
class CsvRow:
    line: int
    watch: NewWatch


@dataclass
class Parsed:
    rows: list[CsvRow] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.rows) + len({p.line for p in self.problems})


def decode_csv(data: bytes) -> str:
    if len(data) > MAX_IMPORT_BYTES:
        raise InputError(f"CSV is too large ({len(data)} bytes, limit {MAX_IMPORT_BYTES})")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"CSV is not UTF-8 text (byte {exc.start} cannot be decoded)") from exc


def _row(line: int, cells: Sequence[str]) -> CsvRow | Problem:
    if len(cells) < 2:
        return Problem(line, "row", "expected kind,name[,aliases]")
    if len(cells) > 3:
        return Problem(
            line,
            "row",
            f"{len(cells)} columns, expected at most 3 (separate aliases with |, not commas)",
        )
    kind_text = cells[0].strip().lower()
    try:
        kind = clean_kind(kind_text)
    except InputError:
        return Problem(line, "kind", f"must be app or company, not {cells[0].strip()!r}")
    try:
        name = clean_name(cells[1])
    except InputError as exc:
        return Problem(line, "name", str(exc))
    try:
        aliases = clean_aliases(cells[2].split("|") if len(cells) == 3 else [], name)
    except InputError as exc:
        return Problem(line, "aliases", str(exc))
    return CsvRow(line, NewWatch(kind, name, tuple(aliases)))


def parse_watch_csv(text: str) -> Parsed:
    """Rows and problems of a watch-item CSV (no database)."""
    parsed = Parsed()
    reader = csv.reader(io.StringIO(text), strict=True)
    first = True
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            parsed.problems.append(Problem(reader.line_num, "row", f"not valid CSV: {exc}"))
            break
        line = reader.line_num
        if not cells or all(not c.strip() for c in cells) or cells[0].lstrip().startswith("#"):
            continue
        if first:
            first = False
            if [c.strip().lower() for c in cells] in HEADERS:
                continue
        outcome = _row(line, cells)
        if isinstance(outcome, Problem):
            parsed.problems.append(outcome)
        else:
            parsed.rows.append(outcome)
    return parsed


@dataclass
class ImportResult:
    rows: int = 0
    added: int = 0
    existing: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def failed(self) -> int:
        return len({p.line for p in self.problems})

    def as_dict(self) -> dict[str, object]:
        return {
            "rows": self.rows,
            "added": self.added,
            "existing": self.existing,
            "failed": self.failed,
            "errors": [
                {"line": p.line, "field": p.field, "message": p.message} for p in self.problems
            ],
        }


async def import_watches(
    db: Database,
    subscriber_id: str,
    parsed: Parsed,
    progress: Callable[[int], None] | None = None,
) -> ImportResult:
    """Store the parsed rows, ``CHUNK`` rows per transaction; ``progress(n)`` after each chunk
    with the number of rows it handled."""
    result = ImportResult(rows=parsed.total, problems=list(parsed.problems))
    rows = parsed.rows
    for start in range(0, len(rows), CHUNK):
        chunk = rows[start : start + CHUNK]
        async with db.session() as session:
            outcomes = await put_watches(session, subscriber_id, [r.watch for r in chunk])
        result.added += sum(1 for o in outcomes if o.created)
        result.existing += sum(1 for o in outcomes if not o.created)
        if progress is not None:
            progress(len(chunk))
    if progress is not None and parsed.problems:
        progress(result.failed)
    result.problems.sort(key=lambda p: p.line)
    return result
