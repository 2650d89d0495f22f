"""Pictures of app tables rendered here (Pillow and a CJK font) for the OCR tests and the
fixture script: ruled or not, cells that wrap, a title and lines under the table, and a
"scanned" copy (rotated, speckled, soft JPEG)."""

from __future__ import annotations

import io
import random
from collections.abc import Sequence
from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageFilter, ImageFont

FONTS = (
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
)


def cjk_font_path() -> str | None:
    return next((path for path in FONTS if Path(path).exists()), None)


needs_cjk_font = pytest.mark.skipif(
    cjk_font_path() is None,
    reason="no CJK font to render Chinese tables (apt-get install fonts-wqy-zenhei; .ci/run does)",
)


def ocr_available() -> bool:
    try:
        import rapidocr_onnxruntime  # noqa: F401
    except Exception:
        return False
    return True


needs_ocr = pytest.mark.skipif(
    not ocr_available(), reason="rapidocr-onnxruntime is not installed (a project dependency)"
)


def font(size: int) -> ImageFont.FreeTypeFont:
    path = cjk_font_path()
    if path is None:
        raise RuntimeError("no CJK font: apt-get install fonts-wqy-zenhei")
    return ImageFont.truetype(path, size)


def _wrap(text: str, face: ImageFont.FreeTypeFont, width: int) -> list[str]:
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        for ch in paragraph:
            if line and face.getlength(line + ch) > width:
                lines.append(line)
                line = ""
            line += ch
        lines.append(line)
    return lines


def render_table(
    rows: Sequence[Sequence[str]],
    widths: Sequence[int],
    *,
    size: int = 22,
    ruled: bool = True,
    title: str | None = None,
    footer: Sequence[str] = (),
    centred: bool = False,
    merges: Sequence[tuple[int, int, int]] = (),
) -> Image.Image:
    """A table as a picture: cells wrap inside their width, rows grow to fit. ``merges``:
    (first row, last row, column) cells merged down, drawn once with their text centred
    (the text is the first row's; the rows below leave it empty)."""
    face = font(size)
    pad = 8
    line_height = int(size * 1.45)
    heights = [
        max(len(_wrap(cell, face, w - 2 * pad)) for cell, w in zip(row, widths, strict=True))
        * line_height
        + 2 * pad
        for row in rows
    ]
    top = 20 + (line_height * 2 if title else 0)
    width = sum(widths) + 40
    height = top + sum(heights) + 20 + line_height * len(footer) + (20 if footer else 0)
    picture = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(picture)
    if title:
        draw.text((20, 20), title, font=font(size + 2), fill="black")
    tops = [top + sum(heights[:r]) for r in range(len(rows) + 1)]
    merged = {(r, c): (first, last) for first, last, c in merges for r in range(first, last + 1)}
    y = top
    for r, (row, row_height) in enumerate(zip(rows, heights, strict=True)):
        x = 20
        for c, (cell, w) in enumerate(zip(row, widths, strict=True)):
            first, last = merged.get((r, c), (r, r))
            if r != first:
                x += w
                continue
            cell_top, cell_height = tops[first], tops[last + 1] - tops[first]
            if ruled:
                draw.rectangle(
                    [x, cell_top, x + w, cell_top + cell_height], outline="black", width=2
                )
            lines = _wrap(cell, face, w - 2 * pad)
            block = len(lines) * line_height
            middle = first != last or centred
            ty = cell_top + (cell_height - block) // 2 if middle else y + pad
            for line in lines:
                lx = x + (w - face.getlength(line)) / 2 if centred else x + pad
                draw.text((lx, ty + (line_height - size) // 2), line, font=face, fill="black")
                ty += line_height
            x += w
        y += row_height
    y += 20
    for line in footer:
        draw.text((20, y), line, font=face, fill="black")
        y += line_height
    return picture


def render_lines(lines: Sequence[str], *, size: int = 22, width: int = 640) -> Image.Image:
    """Lines of text, no table."""
    face = font(size)
    step = int(size * 1.8)
    picture = Image.new("RGB", (width, 60 + step * len(lines)), "white")
    draw = ImageDraw.Draw(picture)
    for i, line in enumerate(lines):
        draw.text((30, 30 + step * i), line, font=face, fill="black")
    return picture


def png_bytes(picture: Image.Image) -> bytes:
    out = io.BytesIO()
    picture.save(out, format="PNG", optimize=True)
    return out.getvalue()


def scanned(picture: Image.Image, *, degrees: float, seed: int) -> bytes:
    """The picture as a slightly rotated, speckled, soft JPEG (a scan or a photo)."""
    rng = random.Random(seed)
    turned = picture.rotate(
        degrees, resample=Image.Resampling.BICUBIC, expand=True, fillcolor="white"
    )
    draw = ImageDraw.Draw(turned)
    for _ in range(turned.width * turned.height // 900):
        x, y = rng.randrange(turned.width), rng.randrange(turned.height)
        shade = rng.randrange(120, 220)
        draw.point((x, y), fill=(shade, shade, shade))
    soft = turned.filter(ImageFilter.GaussianBlur(0.6))
    out = io.BytesIO()
    soft.save(out, format="JPEG", quality=72)
    return out.getvalue()
