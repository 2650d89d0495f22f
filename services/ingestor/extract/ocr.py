"""Text boxes read from a picture by OCR (RapidOCR: PP-OCR models on onnxruntime, shipped in the
``rapidocr-onnxruntime`` wheel, so nothing is downloaded at run time).

The engine is loaded once, on the first picture read, and shared (a lock keeps one picture at a
time on it: the machine's cores are better spent inside one inference). A tall picture (a list
of a hundred apps) is read in overlapping strips so its text is not shrunk; a slightly rotated
one (a photo or a scan) is straightened from the slope of its text boxes, so the boxes come back
axis-aligned, in the straightened picture's coordinates (``Reading.picture``).
"""

from __future__ import annotations

import hashlib
import math
import threading
from collections import OrderedDict
from dataclasses import dataclass
from statistics import median
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # numpy is imported when a picture is read, not with this module
    import numpy as np

STRIP = 1600
"""Height of the strips a tall picture is read in, and their overlap."""
OVERLAP = 160
MIN_SKEW_DEGREES = 0.3
MAX_SKEW_DEGREES = 10.0
THREADS = 1
"""onnxruntime threads per inference (see ``_load_engine``)."""
CACHE_SIZE = 16
"""Pictures read recently (by content): a notice re-read or re-posted is not OCR'd again."""


@dataclass(frozen=True)
class TextBox:
    text: str
    x0: float
    y0: float
    x1: float
    y1: float
    score: float = 1.0

    @property
    def xc(self) -> float:
        return (self.x0 + self.x1) / 2

    @property
    def yc(self) -> float:
        return (self.y0 + self.y1) / 2

    @property
    def height(self) -> float:
        return self.y1 - self.y0


@dataclass(frozen=True)
class Reading:
    boxes: tuple[TextBox, ...]
    picture: Any
    """The picture (numpy array, RGB) the boxes' coordinates refer to: straightened if it was
    rotated."""
    skew: float = 0.0
    """Degrees the picture was rotated by to straighten it."""


_lock = threading.Lock()
_engine: Any = None
_cache: OrderedDict[str, tuple[tuple[TextBox, ...], float]] = OrderedDict()


class OcrUnavailable(RuntimeError):
    """The OCR engine cannot be loaded (package missing or broken)."""


def _load_engine() -> Any:
    global _engine
    if _engine is None:
        try:
            from rapidocr_onnxruntime import RapidOCR
        except Exception as error:  # ImportError, or a broken onnxruntime/opencv install
            raise OcrUnavailable(f"OCR engine not available ({error})") from None
        # "max": never upscale a picture for detection (its text is already legible), and
        # only shrink it past the largest side given here. One thread per inference: on a
        # busy two-core machine onnxruntime's spinning thread pool doubled the CPU and the
        # wall time of a picture (measured: 1.0 s CPU with one thread, 2.0 s with two).
        _engine = RapidOCR(
            det_limit_type="max",
            max_side_len=4096,
            print_verbose=False,
            use_cls=False,
            intra_op_num_threads=THREADS,
            inter_op_num_threads=1,
        )
    return _engine


def _run(engine: Any, picture: np.ndarray) -> list[tuple[list[list[float]], str, float]]:
    result, _elapsed = engine(picture)
    return [(box, str(text), float(score)) for box, text, score in (result or [])]


def _read_strips(engine: Any, picture: np.ndarray) -> list[tuple[list[list[float]], str, float]]:
    """All boxes of a picture, a tall one read in overlapping strips (each box from the strip
    that holds its centre farthest from an edge)."""
    height = picture.shape[0]
    if height <= STRIP + OVERLAP:
        return _run(engine, picture)
    found: list[tuple[list[list[float]], str, float]] = []
    top = 0
    while top < height:
        bottom = min(height, top + STRIP + OVERLAP)
        keep_from = top + (OVERLAP // 2 if top else 0)
        keep_to = bottom - OVERLAP // 2 if bottom < height else height
        for box, text, score in _run(engine, picture[top:bottom]):
            shifted = [[x, y + top] for x, y in box]
            centre = sum(y for _x, y in shifted) / len(shifted)
            if keep_from <= centre < keep_to:
                found.append((shifted, text, score))
        if bottom >= height:
            break
        top += STRIP
    return found


def skew_of(quads: list[list[list[float]]]) -> float:
    """Degrees the text lines slope by (median over the wide boxes; 0 when there are few)."""
    angles: list[float] = []
    for quad in quads:
        (x0, y0), (x1, y1) = quad[0], quad[1]
        width = math.hypot(x1 - x0, y1 - y0)
        height = math.hypot(quad[3][0] - x0, quad[3][1] - y0)
        if width > 2 * height and width > 20:
            angles.append(math.degrees(math.atan2(y1 - y0, x1 - x0)))
    if len(angles) < 3:
        return 0.0
    angle = median(angles)
    return angle if MIN_SKEW_DEGREES <= abs(angle) <= MAX_SKEW_DEGREES else 0.0


def _rotate(picture: np.ndarray, degrees: float) -> tuple[np.ndarray, np.ndarray]:
    """The picture rotated by ``degrees`` (white where it uncovers), and the 2x3 matrix."""
    import cv2

    height, width = picture.shape[:2]
    matrix = cv2.getRotationMatrix2D((width / 2, height / 2), degrees, 1.0)
    rotated = cv2.warpAffine(
        picture, matrix, (width, height), flags=cv2.INTER_LINEAR, borderValue=(255, 255, 255)
    )
    return rotated, matrix


def boxes_from(
    found: list[tuple[list[list[float]], str, float]], matrix: np.ndarray | None = None
) -> list[TextBox]:
    """Axis-aligned boxes (after ``matrix``, when given) of the engine's quadrilaterals."""
    import numpy as np

    boxes: list[TextBox] = []
    for quad, text, score in found:
        points = np.asarray(quad, dtype=float)
        if matrix is not None:
            points = np.hstack([points, np.ones((len(points), 1))]) @ matrix.T
        text = text.strip()
        if text:
            boxes.append(
                TextBox(
                    text,
                    float(points[:, 0].min()),
                    float(points[:, 1].min()),
                    float(points[:, 0].max()),
                    float(points[:, 1].max()),
                    score,
                )
            )
    return boxes


def read_text_boxes(picture: np.ndarray) -> Reading:
    """The text boxes of an RGB picture (``uint8`` array, height x width x 3).

    Raises OcrUnavailable when the engine cannot be loaded.
    """
    key = hashlib.sha256(picture.tobytes()).hexdigest() + str(picture.shape)
    with _lock:
        cached = _cache.get(key)
        if cached is not None:
            _cache.move_to_end(key)
            boxes, skew = cached
            straight = _rotate(picture, skew)[0] if skew else picture
            return Reading(boxes, straight, skew)
        engine = _load_engine()
        found = _read_strips(engine, picture)
        skew = skew_of([quad for quad, _text, _score in found])
        if skew:
            straight, matrix = _rotate(picture, skew)
            reading = Reading(tuple(boxes_from(found, matrix)), straight, skew)
        else:
            reading = Reading(tuple(boxes_from(found)), picture)
        _cache[key] = (reading.boxes, reading.skew)  # not the picture: memory stays small
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
        return reading
