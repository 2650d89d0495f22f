"""The OCR wrapper: strips of a tall picture, straightening, the cache (a fake engine here;
test_image_reader.py runs the real one)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from services.ingestor.extract import ocr
from services.ingestor.extract.ocr import boxes_from, read_text_boxes, skew_of


class FakeEngine:
    """Finds one word every 100 px down the picture, as quadrilaterals sloped by ``degrees``."""

    def __init__(self, degrees: float = 0.0) -> None:
        self.calls: list[tuple[int, int]] = []
        self.slope = math.tan(math.radians(degrees))

    def __call__(self, picture: np.ndarray) -> tuple[list[Any], list[float]]:
        self.calls.append(picture.shape[:2])
        found = []
        for y in range(40, picture.shape[0] - 30, 100):
            x0, x1 = 20, 220
            dy = (x1 - x0) * self.slope
            quad = [[x0, y], [x1, y + dy], [x1, y + dy + 24], [x0, y + 24]]
            found.append((quad, f"w{y}", 0.99))
        return found, [0.0]


@pytest.fixture
def engine(monkeypatch: pytest.MonkeyPatch) -> FakeEngine:
    fake = FakeEngine()
    monkeypatch.setattr(ocr, "_load_engine", lambda: fake)
    monkeypatch.setattr(ocr, "_cache", type(ocr._cache)())
    return fake


def test_a_tall_picture_is_read_in_strips_each_box_once(engine: FakeEngine) -> None:
    picture = np.full((4000, 300, 3), 255, dtype=np.uint8)
    reading = read_text_boxes(picture)
    assert len(engine.calls) >= 3 and all(h <= ocr.STRIP + ocr.OVERLAP for h, _w in engine.calls)
    tops = [round(box.y0) for box in reading.boxes]
    # strips see overlapping words: each is kept once, at its place in the whole picture
    assert len(tops) == len(set(tops))
    assert sorted(tops)[:2] == [40, 140]


def test_the_same_picture_is_not_read_twice(engine: FakeEngine) -> None:
    picture = np.full((300, 300, 3), 255, dtype=np.uint8)
    first = read_text_boxes(picture)
    second = read_text_boxes(picture.copy())
    assert first.boxes == second.boxes and len(engine.calls) == 1


def test_sloped_text_is_straightened(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeEngine(degrees=2.0)
    monkeypatch.setattr(ocr, "_load_engine", lambda: fake)
    monkeypatch.setattr(ocr, "_cache", type(ocr._cache)())
    reading = read_text_boxes(np.full((600, 400, 3), 255, dtype=np.uint8))
    assert reading.skew == pytest.approx(2.0, abs=0.05)
    # straightened: each box is about as tall as its text, not stretched by the slope
    assert all(box.height < 30 for box in reading.boxes)


def test_skew_needs_several_wide_boxes() -> None:
    flat = [[[0, 0], [100, 0], [100, 20], [0, 20]]] * 5
    assert skew_of(flat) == 0.0
    sloped = [[[0, 0], [100, 3], [100, 23], [0, 20]]] * 2
    assert skew_of(sloped) == 0.0  # too few to judge


def test_empty_text_is_dropped() -> None:
    quad = [[0, 0], [10, 0], [10, 10], [0, 10]]
    assert [b.text for b in boxes_from([(quad, " ", 0.9), (quad, "快手", 0.9)])] == ["快手"]
