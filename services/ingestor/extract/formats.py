"""The one list of file formats the extractor reads: suffixes, media types, magic bytes, and
where the rows read from each come from.

Everything that asks "can regwatch read this?" asks here: the reader (``reading.py`` maps each
format to its reader function), the CLI (which files of a folder to read), the feed poller
(which links are worth fetching) and error messages (what is supported).

Limits on what a file may expand to (image pixels, PDF pages) are here too, so a reader refuses
a decompression bomb with an ``InputError`` naming the file and the limit; zip packages (.docx,
.xlsx) are opened through ``zipguard.py``, which holds their limits.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Final, Literal
from urllib.parse import urlsplit

from shared.errors import InputError
from shared.events import EntitySource

FormatName = Literal["html", "text", "csv", "docx", "xlsx", "xls", "pdf", "image"]


@dataclass(frozen=True)
class Format:
    name: FormatName
    suffixes: tuple[str, ...]
    media_types: tuple[str, ...]
    magic: tuple[bytes, ...] = ()
    table_source: EntitySource = "table"
    """What the rows of this format's tables are when the file is the notice itself."""


ZIP_MAGIC: Final = b"PK\x03\x04"
OLE_MAGIC: Final = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
_XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

FORMATS: Final[tuple[Format, ...]] = (
    Format("html", (".html", ".htm", ".shtml", ".xhtml"), ("text/html", "application/xhtml+xml")),
    Format("text", (".txt", ".text", ".md", ".tsv"), ("text/plain", "text/markdown")),
    Format("csv", (".csv",), ("text/csv",)),
    Format("docx", (".docx",), (_DOCX_TYPE,), (ZIP_MAGIC,)),
    Format("xlsx", (".xlsx",), (_XLSX_TYPE,), (ZIP_MAGIC,), "attachment"),
    # Old Excel: an OLE compound file like .doc, so told by its name, checked by its magic.
    Format("xls", (".xls",), ("application/vnd.ms-excel",), (OLE_MAGIC,), "attachment"),
    Format("pdf", (".pdf",), ("application/pdf",), (b"%PDF-",), "attachment"),
    Format(
        "image",
        (".png", ".jpg", ".jpeg"),
        ("image/png", "image/jpeg", "image/jpg", "image/pjpeg"),
        (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff"),
        "image",
    ),
)
BY_NAME: Final = {f.name: f for f in FORMATS}
BY_SUFFIX: Final = {suffix: f for f in FORMATS for suffix in f.suffixes}
BY_MEDIA_TYPE: Final = {media: f for f in FORMATS for media in f.media_types}
SUPPORTED: Final = ", ".join(s for f in FORMATS for s in f.suffixes) + " (or no extension)"
"""For error messages: every suffix the extractor reads."""

READABLE_SUFFIXES: Final = frozenset(BY_SUFFIX)
ATTACHMENT_FORMATS: Final[frozenset[FormatName]] = frozenset(
    {"docx", "xlsx", "xls", "pdf", "image"}
)
"""Formats a page's linked files (``附件``, ``<img>``) are read in."""

# Signatures of binary formats we do not read but are sometimes handed.
FOREIGN_MAGIC: Final = (
    b"GIF8",
    b"\xd0\xcf\x11\xe0",  # old Office (.doc; .xls is read when named so)
    b"\x1f\x8b",  # gzip
    b"Rar!",
    b"7z\xbc\xaf",
    b"RIFF",  # webp
)

# --- limits ------------------------------------------------------------------------------------

MAX_IMAGE_PIXELS: Final = 40_000_000
"""Largest image read (OCR): about 8000 x 5000."""
MAX_PDF_PAGES: Final = 60
MAX_IMAGES: Final = 24
"""Most images read (OCR) for one notice: the page's, a .docx's and the attached ones."""
MAX_TEXT_LINES: Final = 20_000
"""Most non-blank lines of text read from a notice or a text attachment (the longest lists
published run to a few thousand lines; each line costs the readers about 0.1-1 ms)."""


def check_lines(text: str, name: str) -> None:
    """Refuse a text longer than :data:`MAX_TEXT_LINES` non-blank lines (InputError)."""
    if text.count("\n") < MAX_TEXT_LINES:
        return
    lines = sum(1 for line in text.splitlines() if line.strip())
    if lines > MAX_TEXT_LINES:
        raise InputError(
            f"{name}: the notice has {lines:,} lines of text, more than the "
            f"{MAX_TEXT_LINES:,} read; not read"
        )


def extension(name: str) -> str:
    """Lower-case extension of a file name or URL path (``''`` when there is none)."""
    path = urlsplit(name).path if "://" in name else name
    suffix = PurePosixPath(path.replace("\\", "/")).suffix.lower()
    # "notice.2021" or "v1.2" are not extensions worth judging.
    if suffix and not re.fullmatch(r"\.[a-z][a-z0-9]{0,5}", suffix):
        return ""
    return suffix


def unsupported(name: str, suffix: str) -> InputError:
    return InputError(f"{name}: unsupported file type '{suffix}' (supported: {SUPPORTED})")


def format_from_name(name: str) -> Format | None:
    """The format a file name's extension implies; None for no extension.

    Raises InputError for an extension the extractor cannot read (.zip, .doc, .gif ...).
    """
    suffix = extension(name)
    if not suffix:
        return None
    found = BY_SUFFIX.get(suffix)
    if found is None:
        raise unsupported(name, suffix)
    return found


def format_for_media_type(content_type: str) -> Format | None:
    """The format a ``Content-Type`` names (parameters ignored), or None."""
    return BY_MEDIA_TYPE.get(content_type.split(";")[0].strip().lower())


def zip_members(data: bytes) -> list[str] | None:
    """The part names of a zip package, or None when ``data`` is not one."""
    if not data.startswith(ZIP_MAGIC):
        return None
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as package:
            return package.namelist()
    except (zipfile.BadZipFile, ValueError):
        return None


def sniff(data: bytes) -> Format | None:
    """The binary format ``data`` starts like (PDF, PNG, JPEG, a Word or Excel package), or None
    for anything else (text is judged by decoding it)."""
    for fmt in (BY_NAME["pdf"], BY_NAME["image"]):
        if data.startswith(fmt.magic):
            return fmt
    members = zip_members(data)
    if members is None:
        return None
    if "word/document.xml" in members:
        return BY_NAME["docx"]
    if "xl/workbook.xml" in members:
        return BY_NAME["xlsx"]
    return None


def binary_format(data: bytes, name: str) -> Format | None:
    """The binary format to read ``data`` in (docx, xlsx, pdf, image), or None for text.

    The extension is checked first (an unknown one is refused); a file named ``.txt`` or with
    no extension that holds a PDF or a Word package is read as what it is. Raises InputError for
    a zip that is neither .docx nor .xlsx and for a binary the extension promises but the bytes
    do not hold.
    """
    named = format_from_name(name)
    found = sniff(data)
    if found is not None:
        if named is not None and named.name in ATTACHMENT_FORMATS and named != found:
            raise InputError(
                f"{name}: the file is a {found.suffixes[0]}, not a {named.suffixes[0]}"
            )
        return found
    if named is not None and named.name == "xls" and data.startswith(OLE_MAGIC):
        return named
    if named is not None and named.name in ATTACHMENT_FORMATS:
        raise InputError(f"{name}: not a readable {named.suffixes[0]} file")
    if data.startswith(ZIP_MAGIC):
        raise InputError(f"{name}: a zip archive that is not a .docx or .xlsx document")
    return None
