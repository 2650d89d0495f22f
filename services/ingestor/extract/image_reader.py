"""Pictures (.png, .jpg) of app lists -> the apps they show, by OCR.

The picture is decoded with Pillow (its size checked against :data:`formats.MAX_IMAGE_PIXELS`
before any pixel is decoded), turned upright from its EXIF orientation, read by OCR
(``ocr.py``), and its table rebuilt from the text boxes' positions and the picture's ruling
lines (``ocr_grid.py``) into a grid that is read like any other table. A picture that is not a
table gives its lines as text.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from shared.errors import InputError

from .formats import MAX_IMAGE_PIXELS
from .ocr import OcrUnavailable, read_text_boxes
from .ocr_grid import Carried, RuleSpans, table_from_boxes, text_from_boxes
from .tables import Grid

if TYPE_CHECKING:  # numpy is imported when a picture is read, not with this module
    import numpy as np

MIN_WIDTH, MIN_HEIGHT = 120, 40
"""Pictures smaller than this (icons, spacers, buttons) are not read: no list fits in them."""


@dataclass
class ImageRead:
    grids: list[Grid] = field(default_factory=list)
    """The picture's table, header row first (``tables.table_entities`` reads it)."""
    headerless: bool = False
    """The table has no header row: its columns are told apart by what their cells hold."""
    text: str = ""
    """The picture's text outside its table (all of it when there is no table)."""
    all_text: str = ""
    """All of the picture's text, line by line."""
    header: Carried | None = None
    """The header of its table, for the next picture of a list split over several."""


def open_picture(data: bytes, *, name: str) -> Any:
    """A PIL image, upright, RGB. Raises InputError for a picture that cannot be decoded or is
    larger than the limit."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            opened = Image.open(io.BytesIO(data))
            width, height = opened.size
            if width * height > MAX_IMAGE_PIXELS:
                raise InputError(
                    f"{name}: the picture is {width}x{height} pixels, more than the "
                    f"{MAX_IMAGE_PIXELS:,} read"
                )
            opened.load()
    except InputError:
        raise
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as error:
        raise InputError(f"{name}: not a readable picture ({error})") from None
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise InputError(
            f"{name}: the picture is larger than the {MAX_IMAGE_PIXELS:,} pixels read"
        ) from None
    picture: Image.Image = ImageOps.exif_transpose(opened) or opened
    if picture.mode != "RGB":
        if picture.mode in ("RGBA", "LA", "P"):
            picture = picture.convert("RGBA")
            background = Image.new("RGBA", picture.size, (255, 255, 255, 255))
            picture = Image.alpha_composite(background, picture)
        picture = picture.convert("RGB")
    return picture


def ruling_lines(picture: np.ndarray) -> tuple[list[float], list[float]]:
    """y of the picture's horizontal rules and x of its vertical ones (a ruled table's grid)."""
    rows, columns, _spans = ruling(picture)
    return rows, columns


def ruling(picture: np.ndarray) -> tuple[list[float], list[float], RuleSpans]:
    """``ruling_lines``, and whether a horizontal rule crosses a stretch of x (it does not
    cross a cell merged over the rows it separates)."""
    import cv2
    import numpy as np

    gray = cv2.cvtColor(picture, cv2.COLOR_RGB2GRAY)
    ink = (gray < 150).astype(np.uint8)
    _height, width = ink.shape

    def centres(profile: np.ndarray, needed: float) -> list[float]:
        found: list[float] = []
        run: list[int] = []
        for index in np.flatnonzero(profile >= needed):
            if run and index != run[-1] + 1:
                found.append(sum(run) / len(run))
                run = []
            run.append(int(index))
        if run:
            found.append(sum(run) / len(run))
        return found

    across = cv2.morphologyEx(
        ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (max(30, width // 8), 1))
    )
    rows = centres(across.sum(axis=1), width * 0.3)

    def spans(y: float, x0: float, x1: float) -> bool:
        top, bottom = max(0, round(y) - 3), min(across.shape[0], round(y) + 4)
        left, right = max(0, round(x0) + 4), min(across.shape[1], round(x1) - 4)
        if bottom <= top or right <= left:
            return True
        covered = across[top:bottom, left:right].max(axis=0)
        return bool(covered.mean() >= 0.6)

    if len(rows) < 2:
        return rows, [], spans
    span = rows[-1] - rows[0]
    down = cv2.morphologyEx(
        ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, max(15, int(span) // 6)))
    )
    columns = centres(down.sum(axis=0), span * 0.5)
    return rows, columns, spans


def read_picture(picture: Any, *, name: str, carried: Carried | None = None) -> ImageRead:
    """The apps a PIL picture shows (``carried``: the header of the picture before, for a
    list split over pictures). Raises InputError when OCR is not available."""
    if picture.size[0] < MIN_WIDTH or picture.size[1] < MIN_HEIGHT:
        return ImageRead()
    import numpy as np

    try:
        reading = read_text_boxes(np.asarray(picture.convert("RGB")))
    except OcrUnavailable as error:
        raise InputError(f"{name}: {error}") from None
    except Exception as error:  # onnxruntime or opencv failing on an odd picture
        raise InputError(f"{name}: OCR failed ({type(error).__name__}: {error})") from None
    if not reading.boxes:
        return ImageRead()
    row_rules, column_rules, spans = ruling(reading.picture)
    table = table_from_boxes(
        reading.boxes,
        row_rules=row_rules,
        column_rules=column_rules,
        carried=carried,
        width=float(reading.picture.shape[1]),
        rule_spans=spans,
    )
    every = text_from_boxes(reading.boxes)
    if table is None:
        return ImageRead(text=every, all_text=every)
    return ImageRead(
        [table.grid],
        headerless=table.headerless,
        text="\n".join([*table.before, *table.after]),
        all_text=every,
        header=table.header,
    )


def read_image(data: bytes, *, name: str, carried: Carried | None = None) -> ImageRead:
    """The apps a .png/.jpg file shows. Raises InputError (naming the file) for a picture that
    cannot be read."""
    return read_picture(open_picture(data, name=name), name=name, carried=carried)
