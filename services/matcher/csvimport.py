"""Bulk import of watch items from CSV: ``kind,name[,aliases]``, aliases separated by ``|``.

A first line ``kind,name`` or ``kind,name,aliases`` is a header and skipped; blank lines and
lines starting with ``#`` are skipped. Every bad row is reported with its line number and the
field at fault; the good rows are imported all the same (partial success), in one transaction
with one watchlist event per batch of rows. An import that would take the subscriber past its
watch limit is refused as a whole (:class:`ImportLimitError`).

Example::

    kind,name,aliases
    app,抖音,Douyin|TikTok China
    company,腾讯
"""

from __future__ import annotations

import asyncio
import csv
import io
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from dataclasses import field as dataclass_field
from typing import Any, Final

from services.matcher.store import (
    KeyedInputError,
    NewWatch,
    WatchLimitError,
    clean_aliases,
    clean_kind,
    clean_name,
    plural,
    put_watches,
)
from shared.db import Database
from shared.errors import InputError

HEADERS = (["kind", "name"], ["kind", "name", "aliases"])
MAX_IMPORT_BYTES = 10_000_000


@dataclass(frozen=True)
class Problem:
    line: int
    field: str
    message: str
    """In English (the API's report, the CLI)."""
    key: str | None = None
    """The message's key in the portal's catalogs (``services/matcher/locales``), if it has
    one..."""
    params: Mapping[str, Any] = dataclass_field(default_factory=dict, hash=False)
    """... and the values it takes."""

    def __str__(self) -> str:
        return f"line {self.line}: {self.field}: {self.message}"

    @classmethod
    def of(cls, line: int, field_name: str, exc: InputError) -> Problem:
        """A problem from an error of the store (its key, when it has one)."""
        if isinstance(exc, KeyedInputError):
            return cls(line, field_name, str(exc), exc.key, dict(exc.params))
        return cls(line, field_name, str(exc))


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
        raise KeyedInputError(
            f"CSV is too large ({len(data)} bytes, limit {MAX_IMPORT_BYTES})",
            "import.too_large",
            size=len(data),
            limit=MAX_IMPORT_BYTES,
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise KeyedInputError(
            f"CSV is not UTF-8 text (byte {exc.start} cannot be decoded)",
            "import.not_utf8",
            byte=exc.start,
        ) from exc


def read_watch_csv(data: bytes) -> Parsed:
    """:func:`decode_csv` then :func:`parse_watch_csv`: CPU work of about a second per 100k
    rows, that the API runs in a worker thread."""
    return parse_watch_csv(decode_csv(data))


def _row(line: int, cells: Sequence[str]) -> CsvRow | Problem:
    if len(cells) < 2:
        return Problem(line, "row", "expected kind,name[,aliases]", "import.error.too_few_columns")
    if len(cells) > 3:
        return Problem(
            line,
            "row",
            f"{len(cells)} columns, expected at most 3 (separate aliases with |, not commas)",
            "import.error.too_many_columns",
            {"columns": len(cells)},
        )
    kind_text = cells[0].strip().lower()
    try:
        kind = clean_kind(kind_text)
    except InputError:
        return Problem(
            line,
            "kind",
            f"must be app or company, not {cells[0].strip()!r}",
            "import.error.kind",
            {"kind": cells[0].strip()},
        )
    try:
        name = clean_name(cells[1])
    except InputError as exc:
        return Problem.of(line, "name", exc)
    try:
        aliases = clean_aliases(cells[2].split("|") if len(cells) == 3 else [], name)
    except InputError as exc:
        return Problem.of(line, "aliases", exc)
    return CsvRow(line, NewWatch(kind, name, tuple(aliases)))


CSV_ERRORS: Final = (
    # (what the csv module says, its message key); the first found wins, else "not_csv"
    (re.compile(r"unexpected end of data"), "import.error.csv_unclosed"),
    (re.compile(r"expected after '\"'"), "import.error.csv_after_quote"),
    (re.compile(r"field larger than field limit \((?P<limit>\d+)\)"), "import.error.csv_field"),
    (re.compile(r"new-line character seen in unquoted field"), "import.error.csv_newline"),
)


def csv_problem(line: int, exc: csv.Error) -> Problem:
    """The problem of a line the csv module cannot read (the rest of the file is not read)."""
    detail = str(exc)
    for pattern, key in CSV_ERRORS:
        found = pattern.search(detail)
        if found is not None:
            return Problem(line, "row", f"not valid CSV: {detail}", key, found.groupdict())
    return Problem(
        line, "row", f"not valid CSV: {detail}", "import.error.not_csv", {"detail": detail}
    )


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
            parsed.problems.append(csv_problem(reader.line_num, exc))
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


class ImportLimitError(KeyedInputError):
    """The import would take the subscriber past its watch limit: nothing was imported."""

    def __init__(self, rows: int, exc: WatchLimitError) -> None:
        self.rows, self.current, self.adding, self.limit = rows, exc.current, exc.adding, exc.limit
        super().__init__(
            f"import refused, nothing imported: you watch {plural(exc.current, 'item')} and the "
            f"file has {plural(rows, 'row')} ({exc.adding} new), which would pass the limit of "
            f"{exc.limit} watch items per subscriber",
            "import.limit",
            current=exc.current,
            adding=exc.adding,
            limit=exc.limit,
        )


async def import_watches(
    db: Database,
    subscriber_id: str,
    parsed: Parsed,
    progress: Callable[[int], None] | None = None,
    *,
    limit: int | None = None,
) -> ImportResult:
    """Store the parsed rows in one transaction (multi-row inserts, one watchlist event per
    batch); ``progress(n)`` as batches are written, summing to ``parsed.total``. Raises
    ImportLimitError, importing nothing, when the new items would pass ``limit``."""
    result = ImportResult(rows=parsed.total, problems=list(parsed.problems))
    rows = parsed.rows
    reported = 0

    def advance(count: int) -> None:
        nonlocal reported
        reported += count
        if progress is not None:
            progress(count)

    if rows:
        try:
            async with db.session() as session:
                outcomes = await put_watches(
                    session, subscriber_id, [r.watch for r in rows], limit=limit, progress=advance
                )
        except WatchLimitError as exc:
            raise ImportLimitError(parsed.total, exc) from exc
        for row, outcome in zip(rows, outcomes, strict=True):
            if outcome.error is not None:
                result.problems.append(Problem.of(row.line, "aliases", outcome.error))
            elif outcome.problem is not None:
                result.problems.append(Problem(row.line, "aliases", outcome.problem))
            elif outcome.created:
                result.added += 1
            else:
                result.existing += 1
    if progress is not None and parsed.total > reported:
        progress(parsed.total - reported)
    result.problems.sort(key=lambda p: p.line)
    return result


async def import_csv_bytes(
    db: Database, subscriber_id: str, data: bytes, *, limit: int | None = None
) -> ImportResult:
    """A CSV upload imported: decoded and parsed in a worker thread (about a second per 100k
    rows, off the event loop), then :func:`import_watches`. What the API's
    ``POST /v1/watches/import`` and the portal's import form both do."""
    parsed = await asyncio.to_thread(read_watch_csv, data)
    return await import_watches(db, subscriber_id, parsed, limit=limit)
