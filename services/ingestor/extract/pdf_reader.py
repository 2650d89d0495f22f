"""``.pdf`` files (pdfplumber): the text of every page, its ruled tables as grids, and the pages
that are scans (an image, no text) rendered for OCR.

A page without ruled tables gives its text with the layout kept (columns as runs of spaces), so
a table drawn without lines is still read by the text-table reader. A table that runs on over
pages without repeating its header takes the header of the page before. Cells pdfplumber reports as
covered by a merged cell continue the cell above them (or, in the first row, to their left).
"""

from __future__ import annotations

import io
import math
import re
import zlib
from dataclasses import dataclass, field
from typing import Any

from shared.errors import InputError

from . import zipguard
from .formats import MAX_IMAGE_PIXELS, MAX_PDF_PAGES
from .tables import Cell, Grid, find_header

SCAN_RESOLUTION = 150
"""Dots per inch a scanned page (or a picture in a page) is rendered at for OCR."""
MIN_PICTURE_SHARE = 0.3
"""A picture in a page with text is read when it is at least this share of the page's width
(and its area at least this share squared of the page's): logos and seals are not."""


@dataclass
class PdfContent:
    text: str
    grids: list[Grid] = field(default_factory=list)
    scans: list[Any] = field(default_factory=list)
    """PIL images to read by OCR: pages that are scans, and large pictures in other pages."""


def table_grid(rows: list[list[str | None]], first_origin: int) -> Grid:
    """pdfplumber's table (None for a cell covered by a merged one) as a grid."""
    grid: Grid = []
    origin = first_origin
    for r, row in enumerate(rows):
        line: list[Cell | None] = []
        for c, text in enumerate(row):
            if text is None:
                above = grid[r - 1][c] if r > 0 and c < len(grid[r - 1]) else None
                left = line[c - 1] if c > 0 else None
                if above is not None:
                    line.append(Cell(above.text, above.origin, spanned=True))
                elif left is not None:
                    line.append(Cell(left.text, left.origin, spanned=left.spanned))
                else:
                    line.append(None)
                continue
            origin += 1
            line.append(Cell(text.strip(), origin))
        grid.append(line)
    return grid


def continued(grid: Grid, before: list[Grid]) -> Grid:
    """A table that goes on from the page before without repeating its header gets that
    header (same number of columns), so its rows are read like the first page's."""
    if find_header(grid) is not None or not before:
        return grid
    previous = before[-1]
    header = find_header(previous)
    if header is None or len(previous[header.row]) != len(grid[0]):
        return grid
    return [previous[header.row], *grid]


def render_resolution(width: float, height: float) -> float:
    """Dots per inch to render a page of ``width`` x ``height`` points at for OCR: 150, or
    less for a page that would be larger than ``MAX_IMAGE_PIXELS`` (a page may be 200 inches
    square: 900 million pixels at 150 dpi, 12 GB to render and read, from an 854-byte file)."""
    area = max(width, 1.0) * max(height, 1.0)
    return min(float(SCAN_RESOLUTION), 72 * math.sqrt(MAX_IMAGE_PIXELS / area))


def check_streams(data: bytes, name: str, limit: int) -> None:
    """Refuse a PDF with a compressed (Flate) stream that inflates beyond ``limit`` bytes,
    before pdfminer, which inflates a stream whole, opens it. Each stream is inflated here in
    bounded pieces and counted, not kept; a stream that is not Flate data is left alone."""
    for found in _STREAM.finditer(data):
        inflater = zlib.decompressobj()
        pending = memoryview(data)[found.end() :]
        size = 0
        try:
            while pending and not inflater.eof:
                size += len(inflater.decompress(pending, _PIECE))
                if size > limit:
                    raise InputError(
                        f"{name}: a stream of the PDF inflates to more than {limit:,} bytes "
                        "(REGWATCH_MAX_UNZIPPED_BYTES); not read"
                    )
                pending = memoryview(inflater.unconsumed_tail)
        except zlib.error:
            continue  # not Flate (a JPEG, plain text) or broken: pdfminer's to judge


_STREAM = re.compile(rb"stream\r?\n")
_PIECE = 1 << 20


def _pictures(page: Any) -> list[Any]:
    """What of a page is to be read by OCR: the whole page when it is a scan (pictures, no
    text), else each picture large enough to hold a list (a table pasted as an image)."""
    if not page.images:
        return []
    resolution = render_resolution(float(page.width), float(page.height))
    rendered = page.to_image(resolution=resolution, antialias=True).original
    if not page.chars:
        return [rendered]
    scale = resolution / 72
    crops: list[Any] = []
    for image in page.images:
        x0, top, x1, bottom = (max(0.0, float(image[k])) for k in ("x0", "top", "x1", "bottom"))
        if (x1 - x0) < page.width * MIN_PICTURE_SHARE or (bottom - top) * (x1 - x0) < (
            page.width * page.height * MIN_PICTURE_SHARE**2
        ):
            continue
        box = (round(x0 * scale), round(top * scale), round(x1 * scale), round(bottom * scale))
        crops.append(rendered.crop(box))
    return crops


def _layout_text(page: Any) -> str:
    text = page.extract_text(layout=True) or ""
    lines = [line.rstrip() for line in text.split("\n")]
    return "\n".join(re.sub(r"^\s+", "", line) for line in lines if line.strip())


def read_pdf(data: bytes, *, name: str) -> PdfContent:
    """Text, ruled tables and scanned pages. Raises InputError for a file that is not a readable
    PDF, is encrypted, has more than :data:`MAX_PDF_PAGES` pages, or has a stream that
    inflates beyond ``REGWATCH_MAX_UNZIPPED_BYTES``."""
    try:
        import pdfplumber
        from pdfminer.pdfdocument import PDFPasswordIncorrect
        from pdfminer.pdfparser import PDFSyntaxError
    except ImportError:  # pragma: no cover - a dependency of the project
        raise InputError(f"{name}: reading .pdf files needs pdfplumber (not installed)") from None
    check_streams(data, name, zipguard.limits().max_bytes)
    content = PdfContent("")
    texts: list[str] = []
    origin = 0
    try:
        with pdfplumber.open(io.BytesIO(data)) as pdf:
            if len(pdf.pages) > MAX_PDF_PAGES:
                raise InputError(
                    f"{name}: {len(pdf.pages)} pages, more than the {MAX_PDF_PAGES} read"
                )
            for page in pdf.pages:
                tables = [t for t in page.extract_tables() if len(t) >= 2]
                if tables:
                    texts.append(page.extract_text() or "")
                    for rows in tables:
                        grid = table_grid(rows, origin)
                        origin += sum(len(row) for row in rows)
                        content.grids.append(continued(grid, content.grids))
                else:
                    texts.append(_layout_text(page))
                content.scans.extend(_pictures(page))
    except InputError:
        raise
    except PDFPasswordIncorrect:
        raise InputError(f"{name}: the PDF is encrypted") from None
    except (PDFSyntaxError, ValueError, KeyError, TypeError, OSError) as error:
        raise InputError(f"{name}: not a readable .pdf file ({error})") from None
    except Exception as error:  # pdfminer and pdfium raise their own types for broken files
        raise InputError(
            f"{name}: not a readable .pdf file ({type(error).__name__}: {error})"
        ) from None
    content.text = "\n".join(text for text in texts if text.strip())
    return content
