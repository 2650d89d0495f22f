"""Zip packages (.docx, .xlsx) opened without trusting them: every reader that opens a zip
goes through here.

Before anything is decompressed the central directory is checked: at most
:data:`MAX_MEMBERS` parts, all of them together at most ``max_unzipped_bytes``
(``REGWATCH_MAX_UNZIPPED_BYTES``) as declared, and no part above :data:`RATIO_FLOOR` bytes
compressed more than :data:`MAX_RATIO` times (XML compresses 5-20 times, a zip bomb about a
thousand times). The declared sizes are then not trusted: each part is read in bounded chunks
and reading stops at its declared size and at the total limit (Python's ``zipfile`` asked for a
whole part at once decompresses all of its data before cutting it to the declared size: a part
declared as 1 KB that holds 2 GB of zeros took 2 GB). The readers (python-docx, openpyxl) get
a copy of the package made of what was read, stored uncompressed, so nothing they open can
expand further.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from shared.errors import InputError

MAX_UNZIPPED_BYTES: Final = 50_000_000
"""Default of ``REGWATCH_MAX_UNZIPPED_BYTES``: all parts of one package together."""
MAX_RATIO: Final = 100
"""Largest compression ratio of one part larger than :data:`RATIO_FLOOR`."""
RATIO_FLOOR: Final = 1_000_000
"""Parts smaller than this (uncompressed) may compress any amount (small XML parts do)."""
MAX_MEMBERS: Final = 1000
"""Most parts in one package (a .docx with every picture of a long list has a few hundred)."""
CHUNK: Final = 1 << 20
"""Bytes asked of the decompressor at a time."""


@dataclass(frozen=True)
class ZipLimits:
    max_bytes: int = MAX_UNZIPPED_BYTES
    max_ratio: int = MAX_RATIO
    ratio_floor: int = RATIO_FLOOR
    max_members: int = MAX_MEMBERS


_limits = ZipLimits()


def configure(limits: ZipLimits) -> None:
    """Set the limits for this process (the extraction workers set them from the settings)."""
    global _limits
    _limits = limits


def limits() -> ZipLimits:
    return _limits


def _bytes(size: int) -> str:
    return f"{size:,} bytes"


def inspect(package: zipfile.ZipFile, name: str) -> list[zipfile.ZipInfo]:
    """The package's parts, after checking what its central directory declares (count, total
    size, each part's compression ratio). Raises InputError naming the file and the limit."""
    limit = _limits
    infos = package.infolist()
    if len(infos) > limit.max_members:
        raise InputError(
            f"{name}: the package has {len(infos):,} parts, more than the "
            f"{limit.max_members:,} read"
        )
    total = 0
    for info in infos:
        total += info.file_size
        if total > limit.max_bytes:
            raise InputError(
                f"{name}: the package expands to more than {_bytes(limit.max_bytes)} "
                "(REGWATCH_MAX_UNZIPPED_BYTES); not read"
            )
        if info.file_size > limit.ratio_floor and (
            info.file_size > info.compress_size * limit.max_ratio
        ):
            ratio = info.file_size // max(1, info.compress_size)
            raise InputError(
                f"{name}: part {info.filename} expands {ratio} times (limit {limit.max_ratio}); "
                "a zip bomb? not read"
            )
    return infos


def _open(data: bytes, name: str) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError) as error:
        raise InputError(f"{name}: not a readable zip package ({error})") from None


class OverBudget(Exception):
    """A part expands beyond the bytes left to read."""


def read_bounded(package: zipfile.ZipFile, info: zipfile.ZipInfo, budget: int) -> bytes:
    """One part, read in chunks: never more than its declared size nor ``budget`` bytes
    (raises OverBudget past ``budget``), whatever its data would expand to."""
    chunks: list[bytes] = []
    size = 0
    with package.open(info) as member:
        while True:
            chunk = member.read(CHUNK)
            if not chunk:
                break
            size += len(chunk)
            if size > budget:
                raise OverBudget(info.filename)
            chunks.append(chunk)
    return b"".join(chunks)


def unpack(
    data: bytes, name: str, wanted: Callable[[str], bool] = lambda _part: True
) -> dict[str, bytes]:
    """The parts of a package ``wanted`` picks, by name, each read within the limits. Raises
    InputError (naming the file and the limit) for a package that is not a readable zip or
    that expands too far."""
    with _open(data, name) as package:
        infos = inspect(package, name)
        left = _limits.max_bytes
        parts: dict[str, bytes] = {}
        for info in infos:
            if info.is_dir() or not wanted(info.filename):
                continue
            try:
                content = read_bounded(package, info, left)
            except OverBudget:
                raise InputError(
                    f"{name}: the package expands to more than {_bytes(_limits.max_bytes)} "
                    "(REGWATCH_MAX_UNZIPPED_BYTES); not read"
                ) from None
            except (zipfile.BadZipFile, OSError, EOFError, RuntimeError, NotImplementedError) as e:
                # a broken part, an encrypted one, a compression method zipfile lacks
                raise InputError(f"{name}: part {info.filename} cannot be read ({e})") from None
            left -= len(content)
            parts[info.filename] = content
    return parts


def checked_package(data: bytes, name: str) -> bytes:
    """A copy of the package for a reader to open: the parts as read within the limits,
    stored uncompressed (so the reader decompresses nothing). Raises InputError like
    :func:`unpack`."""
    parts = unpack(data, name)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as package:
        for part, content in parts.items():
            package.writestr(part, content)
    return out.getvalue()
