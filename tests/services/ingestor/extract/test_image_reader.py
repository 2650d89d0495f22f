"""Pictures: decoding limits, ruling lines, and one real OCR pass over a table rendered here."""

from __future__ import annotations

import io
import time

import numpy as np
import pytest
from PIL import Image, ImageDraw

from services.ingestor.extract import image_reader
from services.ingestor.extract.image_reader import open_picture, read_image, ruling_lines
from services.ingestor.extract.reading import grid_entities
from shared.errors import InputError
from tests.support.pictures import needs_cjk_font, needs_ocr, png_bytes, render_table, scanned


def test_a_picture_over_the_pixel_limit_is_refused_before_decoding(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(image_reader, "MAX_IMAGE_PIXELS", 100 * 100)
    data = png_bytes(Image.new("RGB", (200, 100), "white"))
    with pytest.raises(InputError, match=r"^big\.png: the picture is 200x100 pixels, more than"):
        open_picture(data, name="big.png")


def test_broken_and_transparent_pictures() -> None:
    with pytest.raises(InputError, match=r"^x\.png: not a readable picture"):
        open_picture(b"\x89PNG\r\n\x1a\nbroken", name="x.png")
    clear = Image.new("RGBA", (40, 40), (0, 0, 0, 0))
    picture = open_picture(png_bytes(clear), name="clear.png")
    assert picture.mode == "RGB" and picture.getpixel((5, 5)) == (255, 255, 255)


def test_ruling_lines_of_a_drawn_grid() -> None:
    picture = Image.new("RGB", (600, 300), "white")
    draw = ImageDraw.Draw(picture)
    for y in (20, 120, 220):
        draw.line([(20, y), (580, y)], fill="black", width=2)
    for x in (20, 200, 580):
        draw.line([(x, 20), (x, 220)], fill="black", width=2)
    draw.text((60, 60), "not a rule", fill="black")
    rows, columns = ruling_lines(np.asarray(picture))
    assert [round(y) for y in rows] == [20, 120, 220]
    assert [round(x) for x in columns] == [20, 200, 580]


@pytest.mark.parametrize("size", [(16, 16), (100, 400), (600, 30)])
def test_icons_and_buttons_are_not_read(
    size: tuple[int, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_ocr(_picture: object) -> None:
        raise AssertionError("OCR ran on an icon")

    monkeypatch.setattr(image_reader, "read_text_boxes", no_ocr)
    assert read_image(png_bytes(Image.new("RGB", size, "white")), name="icon.png").grids == []


@needs_cjk_font
@needs_ocr
def test_ocr_reads_a_scanned_developer_first_table() -> None:
    rows = [
        ["序号", "开发运营者", "应用名称", "应用版本"],
        ["1", "杭州星河视频科技有限公司", "星河视频", "3.2.1"],
        ["2", "北京快手科技有限公司", "快手", "V11.4.20"],
        ["3", "厦门晴空影像有限公司", "晴空相机", "—"],
    ]
    data = scanned(render_table(rows, [70, 330, 150, 140]), degrees=-1.2, seed=3)
    started = time.perf_counter()
    read = read_image(data, name="scan.jpg")
    elapsed = time.perf_counter() - started
    entities = grid_entities(read.grids, "image")
    assert [(e.name, e.developer, e.version, e.source) for e in entities] == [
        ("星河视频", "杭州星河视频科技有限公司", "3.2.1", "image"),
        ("快手", "北京快手科技有限公司", "V11.4.20", "image"),
        ("晴空相机", "厦门晴空影像有限公司", None, "image"),
    ]
    assert elapsed < 60, f"OCR of one small table took {elapsed:.1f} s"


def test_ocr_missing_is_an_input_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from services.ingestor.extract.ocr import OcrUnavailable

    def broken(_picture: object) -> None:
        raise OcrUnavailable("OCR engine not available (no module named rapidocr)")

    monkeypatch.setattr(image_reader, "read_text_boxes", broken)
    data = io.BytesIO()
    Image.new("RGB", (200, 100), "white").save(data, format="PNG")
    with pytest.raises(InputError, match=r"^a\.png: OCR engine not available"):
        read_image(data.getvalue(), name="a.png")


def test_the_engine_failing_on_a_picture_is_an_input_error(monkeypatch: pytest.MonkeyPatch) -> None:
    def fails(_picture: object) -> None:
        raise RuntimeError("[ONNXRuntimeError] bad input shape")

    monkeypatch.setattr(image_reader, "read_text_boxes", fails)
    data = png_bytes(Image.new("RGB", (300, 100), "white"))
    with pytest.raises(InputError, match=r"^odd\.png: OCR failed \(RuntimeError: \[ONNX"):
        read_image(data, name="odd.png")
