"""OCR speed and accuracy on pictures of app tables rendered here: wall time per picture
(the engine loaded once, before timing), and how many of the rendered rows came back exactly
(name, developer, version); beside it, the baseline measured in the same run: rapidocr's
engine with its defaults on the same picture (text boxes only), as a quick script would call it.

    python -m bench.ocr [--quick]

Pictures: a 5-row ruled table, the same as a rotated, speckled JPEG scan, a developer-first
table without rules, and a 30-row list (a tall picture). Needs a CJK font
(fonts-wqy-zenhei). Saved to bench/results/ocr.json.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from typing import Any

from bench.common import emit, save
from services.ingestor.extract import ocr
from services.ingestor.extract.image_reader import read_image
from services.ingestor.extract.reading import grid_entities
from tests.support.pictures import png_bytes, render_table, scanned

_SYLLABLES = "云朵快看晴空星河青柠喵喵大象晨跑蓝鲸小熊西湖书香燕园长城锦里熊猫米粒小满晚风黄河"
_KINDS = ("阅读", "天气", "相机", "视频", "出行", "记账", "课堂", "地图")
_CITIES = ("杭州", "北京", "深圳市", "成都", "广州")
_FORMS = ("网络科技有限公司", "信息技术有限公司", "科技有限公司")


def apps(count: int, seed: int) -> list[tuple[str, str, str]]:
    rng = random.Random(seed)
    made: list[tuple[str, str, str]] = []
    while len(made) < count:
        name = "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 3)))
        name += rng.choice(_KINDS)
        developer = rng.choice(_CITIES) + "".join(rng.choice(_SYLLABLES) for _ in range(3))
        developer += rng.choice(_FORMS)
        version = f"{rng.randint(1, 12)}.{rng.randint(0, 9)}.{rng.randint(0, 30)}"
        if name not in {m[0] for m in made}:
            made.append((name, developer, version))
    return made


def pictures(quick: bool) -> list[tuple[str, bytes, list[tuple[str, str, str]]]]:
    five = apps(5, 1)
    header = ["序号", "应用名称", "应用开发者", "应用版本"]
    ruled = render_table(
        [header, *([str(i + 1), *a] for i, a in enumerate(five))], [70, 180, 360, 130]
    )
    developer_first = apps(5, 2)
    unruled = render_table(
        [
            ["序号", "开发运营者", "应用名称", "版本号"],
            *([str(i + 1), a[1], a[0], a[2]] for i, a in enumerate(developer_first)),
        ],
        [70, 360, 180, 130],
        ruled=False,
    )
    made = [
        ("ruled-5-rows.png", png_bytes(ruled), five),
        ("scan-5-rows.jpg", scanned(ruled, degrees=1.5, seed=4), five),
        ("developer-first-unruled.png", png_bytes(unruled), developer_first),
    ]
    if not quick:
        long = apps(30, 3)
        tall = render_table(
            [header, *([str(i + 1), *a] for i, a in enumerate(long))], [70, 180, 360, 130]
        )
        made.append(("ruled-30-rows.png", png_bytes(tall), long))
    return made


def raw_engine_ms(data: bytes, runs: int) -> float:
    """The baseline: rapidocr's engine with its defaults called on the decoded picture, as a
    quick script would - text boxes only, no rows, columns or apps."""
    import io

    import numpy as np
    from PIL import Image
    from rapidocr_onnxruntime import RapidOCR

    engine = RapidOCR()
    picture = np.array(Image.open(io.BytesIO(data)).convert("RGB"))
    engine(picture)  # warm up
    times = []
    for _ in range(runs):
        begun = time.perf_counter()
        engine(picture)
        times.append((time.perf_counter() - begun) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="three small pictures, one run")
    args = parser.parse_args()
    runs = 1 if args.quick else 3
    started = time.perf_counter()
    ocr._load_engine()
    load_s = time.perf_counter() - started
    results: list[dict[str, Any]] = []
    for name, data, rows in pictures(args.quick):
        times: list[float] = []
        exact = 0
        for _ in range(runs):
            ocr._cache.clear()
            begun = time.perf_counter()
            read = read_image(data, name=name)
            times.append((time.perf_counter() - begun) * 1000)
            got = {(e.name, e.developer, e.version) for e in grid_entities(read.grids, "image")}
            exact = sum(1 for row in rows if row in got)
        ours = statistics.median(times)
        baseline = raw_engine_ms(data, runs)
        result = {
            "bench": "ocr",
            "picture": name,
            "rows": len(rows),
            "rows_exact": exact,
            "ms_per_picture": round(ours),
            "ms_per_row": round(ours / len(rows), 1),
            "engine_load_ms": round(load_s * 1000),
            "raw_engine_ms": round(baseline),
            "ratio_vs_raw_engine": round(ours / baseline, 2),
        }
        emit(result)
        results.append(result)
    path = save("ocr", results)
    emit({"bench": "ocr", "saved": str(path)})


if __name__ == "__main__":
    main()
