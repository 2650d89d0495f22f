"""Notice bytes (and the files it links to) -> text in simplified script, plus what the page's
markup, tables, pictures and attachments told us.

The format comes from the registry (``formats.py``): HTML, plain text and CSV are decoded;
.docx is read as HTML (its pictures as the page's images); .xlsx and .pdf give their tables'
rows and their text; pictures (.png/.jpg, ``data:`` images in a page, pictures in a .docx) are
read by OCR. Every entity says where it was read: ``table`` (a table in the page itself),
``attachment`` (an .xlsx/.pdf/.docx attachment, or an .xlsx/.pdf given as the notice),
``image`` (OCR). Entities from the page's text are left to ``parse_notice``.

Attachments (``parse_notice(..., attachments=[(name, bytes), ...])``) are the page's linked
files and images, fetched by the feed follower or named with ``--attachment``; an ``<img
src="list.png">`` is matched to the attachment of that name. An attachment that cannot be read
does not stop the notice: it is named in ``unread`` (and the list stays incomplete).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Literal
from urllib.parse import unquote, urlsplit

from shared.errors import InputError
from shared.events import Entity, EntitySource

from .decode import decode_bytes, detect_format
from .entities_prose import extract_entities_prose
from .entities_text import extract_entities_text
from .formats import MAX_IMAGES, binary_format, check_lines, format_from_name
from .lazy_re import lazy
from .merge import merge_entities
from .noise import strip_noise
from .tables_text import csv_to_text, find_text_tables
from .textutil import Script, fold_width, simplified_script, to_simplified

if TYPE_CHECKING:
    # the readers of other formats (OCR, PDF, workbooks) load when one is read, and
    # BeautifulSoup with the HTML readers when a page or attachment is HTML
    from bs4 import BeautifulSoup

    from .image_reader import ImageRead
    from .ocr_grid import Carried
    from .tables import Grid

Attachment = tuple[str, bytes]


@dataclass
class ReadNotice:
    """A notice as text in simplified script, with what its markup and files told us."""

    plain: str
    title: str | None
    table_entities: list[Entity]
    script: Script
    has_images: bool = False
    """The page shows its list as a picture, and no rows were read from its pictures."""
    elsewhere: list[Entity] = field(default_factory=list)
    """Rows read from the page's pictures and attachments (``source`` image / attachment), in
    the script they were written in."""
    notes: list[str] = field(default_factory=list)
    """What was read where, in words ("read 33 apps from the picture list.png")."""
    unread: list[str] = field(default_factory=list)
    """Pictures and attachments that could not be read, each with the reason."""


@dataclass
class _Found:
    """What one file gave: rows (with their source), its text, and what it could not read."""

    entities: list[Entity] = field(default_factory=list)
    text: str = ""
    notes: list[str] = field(default_factory=list)
    unread: list[str] = field(default_factory=list)
    images_read: int = 0


# --- grids and text -> entities ------------------------------------------------------------


def grid_entities(
    grids: Sequence[Grid], source: EntitySource, *, headerless: bool = False
) -> list[Entity]:
    """Entities of grids whose cells may be in traditional script, in the script they use
    (``headerless``: grids without a header row, read by what their columns hold)."""
    from .tables import Cell, table_entities

    cells = [cell.text for grid in grids for row in grid for cell in row if cell is not None]
    script = simplified_script("\n".join(cells))
    entities: list[Entity] = []
    for grid in grids:
        if script.original is not script.simplified:
            grid = [
                [
                    None
                    if cell is None
                    else Cell(simplified_script(cell.text).simplified, cell.origin, cell.spanned)
                    for cell in row
                ]
                for row in grid
            ]
        entities.extend(table_entities(grid, headerless=headerless))
    return [_with_source(_restored(entity, script), source) for entity in entities]


def text_entities(text: str, source: EntitySource) -> list[Entity]:
    """Apps listed in a file's text: a table written as text, else list lines, else the
    apps its prose names ("包括A、B和C")."""
    if not text.strip():
        return []
    script = simplified_script(text)
    simple = script.simplified
    found: list[Entity] = []
    for table in find_text_tables(simple.split("\n")):
        found.extend(table.entities)
    if not found:
        found = extract_entities_text(simple) or extract_entities_prose(simple)
    return [_with_source(_restored(entity, script), source) for entity in found]


def _restored(entity: Entity, script: Script) -> Entity:
    if script.original is script.simplified:
        return entity
    return entity.model_copy(
        update={
            "name": script.restore(entity.name),
            "developer": None if entity.developer is None else script.restore(entity.developer),
            "store": None if entity.store is None else script.restore(entity.store),
            "issues": [script.restore(issue) for issue in entity.issues],
        }
    )


def _with_source(entity: Entity, source: EntitySource) -> Entity:
    return entity.model_copy(update={"source": source})


# --- files ---------------------------------------------------------------------------------


@dataclass
class _Pictures:
    """The notice's pictures so far: how many more may be read, and the last table header
    read (a list split over several pictures repeats it only on the first)."""

    left: int
    header: Carried | None = None


def _picture(data: bytes, name: str, budget: _Pictures) -> _Found:
    """One picture read by OCR (within the notice's budget of pictures)."""
    if budget.left <= 0:
        return _Found(unread=[f"{name}: not read (more than {MAX_IMAGES} pictures)"])
    budget.left -= 1
    from .image_reader import read_image

    try:
        read = read_image(data, name=name, carried=budget.header)
    except InputError as error:
        return _Found(unread=[str(error)])
    budget.header = read.header or budget.header
    return _from_picture(read, name)


def _from_picture(read: ImageRead, name: str) -> _Found:
    entities = grid_entities(read.grids, "image", headerless=read.headerless)
    if not entities:  # not a table after all: the lines of the picture, as text
        entities = text_entities(read.all_text or read.text, "image")
    found = _Found(entities, read.text, images_read=1)
    if entities:
        found.notes.append(f"read {len(entities)} entries from the picture {name} (OCR)")
    return found


def _pdf(data: bytes, name: str, budget: _Pictures) -> _Found:
    from .image_reader import read_picture
    from .pdf_reader import read_pdf

    content = read_pdf(data, name=name)
    found = _Found(grid_entities(content.grids, "attachment"), content.text)
    if not found.entities:
        found.entities = text_entities(content.text, "attachment")
    for page, scan in enumerate(content.scans, start=1):
        label = f"{name} (picture {page})"
        if budget.left <= 0:
            found.unread.append(f"{label}: not read (more than {MAX_IMAGES} pictures)")
            continue
        budget.left -= 1
        try:
            picture = read_picture(scan, name=label, carried=budget.header)
            budget.header = picture.header or budget.header
            read = _from_picture(picture, label)
        except InputError as error:
            found.unread.append(str(error))
            continue
        found.entities.extend(read.entities)
        found.notes.extend(read.notes)
        found.text += "\n" + read.text
    return found


def _xlsx(data: bytes, name: str, *, old: bool = False) -> _Found:
    """A workbook (.xlsx, or an ``old`` .xls one): its sheets' tables, else its text."""
    from .xls_reader import read_xls
    from .xlsx_reader import grid_text, read_xlsx

    sheets = read_xls(data, name=name) if old else read_xlsx(data, name=name)
    text = "\n".join(grid_text(sheet.grid) for sheet in sheets)
    entities = grid_entities([sheet.grid for sheet in sheets], "attachment")
    if not entities:
        entities = text_entities(text, "attachment")
    return _Found(entities, text)


def _page_pictures(
    soup: BeautifulSoup, resolve: Callable[[str], tuple[str, bytes] | None], budget: _Pictures
) -> tuple[_Found, set[str]]:
    """The page's pictures (``data:`` images and the ones ``resolve`` finds), read by OCR;
    and the names of the files read (so attachments are not read twice)."""
    from bs4 import Tag

    found = _Found()
    used: set[str] = set()
    for index, img in enumerate(soup.find_all("img"), start=1):
        if not isinstance(img, Tag):
            continue
        src = str(img.get("src") or img.get("data-src") or "").strip()
        if not src:
            continue
        label, data = _image_source(src, index, resolve)
        if data is None or label in used:
            continue
        used.add(label)
        one = _picture(data, label, budget)
        found.entities.extend(one.entities)
        found.notes.extend(one.notes)
        found.unread.extend(one.unread)
        found.images_read += one.images_read
    return found, used


_DATA_URI = lazy(r"^data:image/(?:png|jpe?g|pjpeg);base64,", re.I)


def _image_source(
    src: str, index: int, resolve: Callable[[str], tuple[str, bytes] | None]
) -> tuple[str, bytes | None]:
    """A page picture's label and bytes: decoded from a ``data:`` URI, else the file's name
    and bytes as resolved."""
    if src.lower().startswith("data:"):
        label = f"picture {index} of the page (data: URI)"
        m = _DATA_URI.match(src)
        if m is None:
            return label, None
        try:
            return label, base64.b64decode(re.sub(r"\s+", "", src[m.end() :]), validate=True)
        except (binascii.Error, ValueError):
            return label, None
    return resolve(src) or (src, None)


def _resolver(files: dict[str, bytes]) -> Callable[[str], tuple[str, bytes] | None]:
    """Finds a page's ``src`` among named files: the exact name, the URL's path, or the last
    part of the path. Gives the file's name and bytes."""
    by_base: dict[str, str] = {}
    for file_name in files:
        by_base.setdefault(_base(file_name), file_name)

    def resolve(src: str) -> tuple[str, bytes] | None:
        path = unquote(urlsplit(src).path)
        for candidate in (src, path, path.lstrip("/"), by_base.get(_base(src))):
            if candidate is not None and candidate in files:
                return candidate, files[candidate]
        return None

    return resolve


def _base(name: str) -> str:
    return PurePosixPath(unquote(urlsplit(name).path).replace("\\", "/")).name.lower()


def _attachment(name: str, data: bytes, budget: _Pictures) -> _Found:
    """One linked file, read by the registry; its failures become ``unread``."""
    try:
        fmt = binary_format(data, name)
        if fmt is None:
            # A text or HTML attachment: its text lists, its tables are attachment rows.
            page = decode_bytes(data, name=name)
            if detect_format(page, name) == "html":
                from .entities_html import extract_entities_html, html_to_text, parse_html

                soup = parse_html(simplified_script(page).simplified, name=name)
                text = html_to_text(soup)
                check_lines(text, name)
                rows = [
                    _with_source(entity, "attachment") for entity in extract_entities_html(soup)
                ]
                return _Found(rows or text_entities(text, "attachment"), text)
            check_lines(page, name)
            return _Found(text_entities(page, "attachment"), page)
        if fmt.name == "image":
            return _picture(data, name, budget)
        if fmt.name == "pdf":
            return _pdf(data, name, budget)
        if fmt.name in ("xlsx", "xls"):
            return _xlsx(data, name, old=fmt.name == "xls")
        from .docx_reader import docx_media, docx_to_html
        from .entities_html import extract_entities_html, html_to_text, parse_html

        html = docx_to_html(data, name=name)
        script = simplified_script(html)
        soup = parse_html(script.simplified, name=name)
        rows = [
            _with_source(_restored(entity, script), "attachment")
            for entity in extract_entities_html(soup)
        ]
        pictures, _used = _page_pictures(soup, _resolver(docx_media(data, name=name)), budget)
        text = html_to_text(soup)
        found = _Found(rows, text, pictures.notes, pictures.unread, pictures.images_read)
        found.entities.extend(pictures.entities)
        if not found.entities:
            found.entities = text_entities(script.restore(text), "attachment")
        return found
    except InputError as error:
        return _Found(unread=[str(error)])


# --- the notice ----------------------------------------------------------------------------


def read_notice(data: bytes, name: str, *, attachments: Sequence[Attachment] = ()) -> ReadNotice:
    """Read a notice and the files it links to. Raises InputError (naming the file) when the
    notice itself cannot be read; attachments that cannot be read are listed in ``unread``."""
    budget = _Pictures(MAX_IMAGES)
    fmt = binary_format(data, name)
    files = dict(attachments)
    extra = _Found()
    used: set[str] = set()
    if fmt is not None and fmt.name in ("xlsx", "xls", "pdf", "image"):
        read = _read_file(data, name, fmt.name, budget)
    else:
        page_pictures: dict[str, bytes] = {}
        if fmt is not None:  # .docx
            from .docx_reader import docx_media, docx_to_html

            html = docx_to_html(data, name=name)
            page_pictures = docx_media(data, name=name)
            kind: Literal["html", "text", "csv"] = "html"
        else:
            format_from_name(name)  # refuse an unknown extension before decoding
            html = decode_bytes(data, name=name)
            detected = detect_format(html, name)
            kind = "csv" if detected == "csv" else "html" if detected == "html" else "text"
        read, soup = _read_page(html, kind, name)
        if soup is not None:
            resolve = _resolver({**files, **page_pictures})
            pictures, used = _page_pictures(soup, resolve, budget)
            _add(extra, pictures)
    for attachment_name, attachment_data in attachments:
        if attachment_name in used:
            continue
        _add(extra, _attachment(attachment_name, attachment_data, budget))
    read.elsewhere = merge_entities(read.elsewhere + extra.entities)
    read.notes.extend(extra.notes)
    read.unread.extend(extra.unread)
    if read.elsewhere:
        read.has_images = False
    for reason in read.unread:
        read.notes.append(f"could not read {reason}")
    return read


def _add(into: _Found, found: _Found) -> None:
    into.entities.extend(found.entities)
    into.notes.extend(found.notes)
    into.unread.extend(found.unread)
    into.images_read += found.images_read


def _read_page(
    page: str, kind: Literal["html", "text", "csv"], name: str
) -> tuple[ReadNotice, BeautifulSoup | None]:
    """The page read, and its parsed HTML (for its pictures) when it is HTML: parsed once.
    Raises InputError for a page of more than ``MAX_TEXT_LINES`` lines of text."""
    if kind != "html":
        check_lines(page, name)
    if kind == "csv":
        page = csv_to_text(page)
    page = strip_noise(page, markup=kind == "html")  # reprint sites' pinyin, junk, widgets
    script = simplified_script(page)
    page = script.simplified
    if kind == "html":
        from .entities_html import extract_entities_html, html_title, html_to_text, parse_html

        soup = parse_html(page, name=name)
        text = html_to_text(soup)
        check_lines(text, name)
        has_images = _list_image(soup, text)
        entities = [_with_source(e, "table") for e in extract_entities_html(soup)]
        return ReadNotice(text, html_title(soup), entities, script, has_images), soup
    return ReadNotice(page, None, [], script), None


def _read_file(
    data: bytes, name: str, kind: Literal["xlsx", "xls", "pdf", "image"], budget: _Pictures
) -> ReadNotice:
    """An .xlsx, .pdf or picture given as the notice: its rows are the notice's list."""
    if kind in ("xlsx", "xls"):
        found = _xlsx(data, name, old=kind == "xls")
    elif kind == "pdf":
        found = _pdf(data, name, budget)
    else:
        budget.left -= 1
        from .image_reader import read_image

        picture = read_image(data, name=name)
        found = _from_picture(picture, name)
        if not found.text.strip():  # a bare table: its text tells the language
            found.text = picture.all_text
    script = simplified_script(found.text)
    head = "\n".join(script.simplified.split("\n")[:8])
    return ReadNotice(
        script.simplified,
        None if _TITLED.search(head) else _stem(name),
        merge_entities(found.entities),
        script,
        notes=found.notes,
        unread=found.unread,
    )


_TITLED = lazy(r"通报|通知|公告|名单|清单|\bapps?\b", re.I)


def _stem(name: str) -> str:
    """A file's name without folders and extension: the title of a list given on its own."""
    return PurePosixPath(unquote(urlsplit(name).path).replace("\\", "/")).stem or name


_LIST_SHOWN = lazy(r"名单如下|如下图|见下图|名单见图|名单[:：]\s*$|list (?:is )?below", re.I | re.M)


def _list_image(soup: BeautifulSoup, text: str) -> bool:
    """Does the page show its list as an image (not a logo or a photo)?"""
    images = soup.find_all("img")
    if not images:
        return False
    for img in images:
        described = f"{img.get('alt') or ''} {img.get('title') or ''} {img.get('src') or ''}"
        if re.search(r"名单|清单|list|mingdan", described, re.I):
            return True
    return _LIST_SHOWN.search(text) is not None


def with_rows_elsewhere(page: list[Entity], rows: list[Entity]) -> list[Entity]:
    """The rows read from pictures and attachments, then what the page itself names that they
    do not list (a name in the page's text repeats a row: the row, with its developer, is the
    entity; an OCR slip of one character in a longer name is the same name)."""
    if not rows:
        return page
    # here, once: a notice without pictures or attachments never loads rapidfuzz, and an
    # import statement costs four times a comparison (every page name against every row)
    from rapidfuzz.distance import Levenshtein

    def same_name(a: str, b: str) -> bool:
        if a == b:
            return True
        return min(len(a), len(b)) >= 4 and Levenshtein.distance(a, b, score_cutoff=1) <= 1

    keys = [_name_key(entity.name) for entity in rows]
    result = list(rows)
    for entity in page:
        key = _name_key(entity.name)
        if any(same_name(key, other) for other in keys):
            continue
        keys.append(key)
        result.append(entity)
    return result


def _name_key(name: str) -> str:
    return re.sub(r"[\s《》「」“”\"'()（）]+", "", fold_width(to_simplified(name))).lower()
