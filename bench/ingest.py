"""Extraction accuracy and speed of the ingestor, against a naive baseline measured in the same
run: ``python -m bench.ingest [--quick]``.

Accuracy: every notice of ``tests/fixtures/notices`` (with its ``.expected.json``) through
``parse_notice`` and through the baseline, field by field:

- regulator, published_on, deadline (due date, or no deadline), kind: share of notices right;
- entity recall / precision: expected entities found (by exact name) / entities returned that
  were expected;
- developer accuracy: share of expected entities found with exactly the expected developer.

A notice the extractor rejects counts as wrong in every field.

The baseline is what a quick script would do: decode UTF-8 else GB18030, strip tags, the first
date in the text, the first regulator keyword, "下架" -> removal, "整改" -> rectification, the
first "M月D日前" or "N个工作日" (weekends only) as the deadline, lines matching
``^\\d+[.、]`` as entities with the bracket content as developer.

Speed: notices per second for a generated MIIT page with a 100-row table, both extractors.
"""

from __future__ import annotations

import argparse
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from pypinyin import lazy_pinyin

from bench import previous
from bench.common import emit, save
from services.ingestor.extract import parse_notice
from shared.errors import InputError

FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "notices"
FIELDS = ("regulator", "published_on", "deadline", "kind")


@dataclass
class Extracted:
    regulator: str | None = None
    published_on: date | None = None
    due_on: date | None = None
    kind: str | None = None
    entities: list[tuple[str, str | None]] = field(default_factory=list)


Extractor = Callable[[bytes, str, date | None], Extracted]


def attachments_of(name: str) -> list[tuple[str, bytes]]:
    """The files a corpus notice links to (its expected.json's ``attachments``)."""
    expected = FIXTURES / f"{Path(name).stem}.expected.json"
    if not expected.exists():
        return []
    listed = json.loads(expected.read_text("utf-8")).get("attachments", [])
    return [(item, (FIXTURES / item).read_bytes()) for item in listed]


def regwatch(data: bytes, name: str, published_on: date | None) -> Extracted:
    event = parse_notice(
        data, name=name, published_on=published_on, attachments=attachments_of(name)
    )
    return Extracted(
        regulator=event.regulator.code,
        published_on=event.published_on,
        due_on=event.deadline.due_on if event.deadline else None,
        kind=event.kind,
        entities=[(entity.name, entity.developer) for entity in event.entities],
    )


# --- the naive baseline -------------------------------------------------------------------

_NAIVE_REGULATORS = [
    ("CAC", re.compile(r"网信|Cyberspace")),
    ("MIIT", re.compile(r"工业和信息化部|工信部|Ministry of Industry")),
    ("MPS", re.compile(r"公安部|网络安全通报中心|病毒应急处理中心")),
    ("SAMR", re.compile(r"市场监督管理|市场监管")),
]
_NAIVE_PROVINCE = re.compile(r"([\u4e00-\u9fff]{2,3}?)(?:省|市)通信管理局")
_NAIVE_DATE = re.compile(r"(\d{4})\s*[年\-/.]\s*(\d{1,2})\s*[月\-/.]\s*(\d{1,2})")
_NAIVE_ENTRY = re.compile(
    r"^\s*\d+[.、]\s*(?P<name>[^（(\n]+?)\s*(?:[（(](?P<dev>[^）)]*)[）)])?\s*$"
)


def naive(data: bytes, name: str, published_on: date | None) -> Extracted:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("gb18030", errors="replace")
    text = re.sub(r"<[^>]+>", "\n", text)
    result = Extracted()
    for code, pattern in _NAIVE_REGULATORS:
        if pattern.search(text):
            result.regulator = code
            break
    province = _NAIVE_PROVINCE.search(text)
    if province:
        result.regulator = "CA-" + "".join(lazy_pinyin(province.group(1))).upper()
    first = _NAIVE_DATE.search(text)
    if first:
        try:
            result.published_on = date(int(first[1]), int(first[2]), int(first[3]))
        except ValueError:
            result.published_on = None
    if published_on is not None:
        result.published_on = published_on
    result.kind = "removal" if "下架" in text else "rectification" if "整改" in text else "other"
    if result.published_on is not None and result.kind != "removal":
        result.due_on = _naive_deadline(text, result.published_on)
    for line in text.splitlines():
        m = _NAIVE_ENTRY.match(line)
        if m:
            result.entities.append((m["name"].strip(), m["dev"]))
    return result


def _naive_deadline(text: str, published: date) -> date | None:
    m = re.search(r"(\d{1,2})月(\d{1,2})日前", text)
    if m:
        try:
            return date(published.year, int(m[1]), int(m[2]))
        except ValueError:
            return None
    n = re.search(r"(\d+)个工作日", text)
    if n:
        day, left = published, int(n[1])
        while left:
            day += timedelta(days=1)
            if day.weekday() < 5:
                left -= 1
        return day
    return None


# --- accuracy -------------------------------------------------------------------------------


def corpus() -> list[tuple[Path, dict[str, Any]]]:
    notices = sorted(
        p
        for p in FIXTURES.iterdir()
        if p.is_file() and not p.name.endswith(".expected.json") and p.suffix != ".py"
    )
    return [
        (p, json.loads((p.parent / f"{p.stem}.expected.json").read_text("utf-8"))) for p in notices
    ]


def shape_of(path: Path, expected: dict[str, Any]) -> str:
    """The form a notice is written in (its ``shape``; the corpus's first notices, written
    before shapes were recorded, are ``table-or-list``)."""
    return str(expected.get("shape", "table-or-list"))


def by_shape(
    extract: Extractor, notices: list[tuple[Path, dict[str, Any]]]
) -> dict[str, dict[str, Any]]:
    """Entity recall, precision and developer accuracy per shape."""
    groups: dict[str, list[tuple[Path, dict[str, Any]]]] = {}
    for path, expected in notices:
        groups.setdefault(shape_of(path, expected), []).append((path, expected))
    keys = ("entity_recall", "entity_precision", "developer_accuracy", "rejected")
    return {
        shape: {
            "notices": len(group),
            **{k: v for k, v in accuracy(extract, group).items() if k in keys},
        }
        for shape, group in sorted(groups.items())
    }


def accuracy(extract: Extractor, notices: list[tuple[Path, dict[str, Any]]]) -> dict[str, Any]:
    right = dict.fromkeys(FIELDS, 0)
    expected_entities = returned = found = developers = rejected = 0
    for path, expected in notices:
        override = expected.get("published_on_arg")
        want = [(e["name"], e["developer"]) for e in expected["entities"]]
        expected_entities += len(want)
        try:
            got = extract(
                path.read_bytes(), path.name, date.fromisoformat(override) if override else None
            )
        except InputError:
            rejected += 1
            continue
        want_due = expected["deadline"]["due_on"] if expected["deadline"] else None
        right["regulator"] += got.regulator == expected["regulator"]
        right["published_on"] += str(got.published_on) == expected["published_on"]
        right["deadline"] += (str(got.due_on) if got.due_on else None) == want_due
        right["kind"] += got.kind == expected["kind"]
        returned += len(got.entities)
        got_by_name: dict[str, list[str | None]] = {}
        for name, developer in got.entities:
            got_by_name.setdefault(name, []).append(developer)
        for name, developer in want:
            candidates = got_by_name.get(name)
            if not candidates:
                continue
            found += 1
            if developer in candidates:
                developers += 1
                candidates.remove(developer)
            else:
                candidates.pop(0)
    total = len(notices)
    return {
        **{field_name: round(right[field_name] / total, 4) for field_name in FIELDS},
        "entity_recall": round(found / expected_entities, 4),
        "entity_precision": round(found / returned, 4) if returned else 0.0,
        "developer_accuracy": round(developers / expected_entities, 4),
        "rejected": rejected,
    }


# --- speed ----------------------------------------------------------------------------------


def miit_table_page(rows: int) -> bytes:
    body = "".join(
        f"<tr><td>{i}</td><td>应用{i}号</td><td>北京第{i}号科技有限公司</td><td>应用宝</td>"
        f"<td>1.{i}.0</td><td>违规收集个人信息</td></tr>"
        for i in range(1, rows + 1)
    )
    page = f"""<html><head><meta charset="utf-8">
<title>关于侵害用户权益行为的APP通报（2021年第8批，总第17批）</title></head><body>
<h1>关于侵害用户权益行为的APP通报（2021年第8批，总第17批）</h1>
<p>发布时间：2021-07-26　来源：信息通信管理局</p>
<p>上述APP应在8月3日前完成整改落实工作。</p>
<table><tr><td>序号</td><td>应用名称</td><td>应用开发者</td><td>应用来源</td><td>应用版本</td>
<td>所涉问题</td></tr>{body}</table>
<p>工业和信息化部信息通信管理局</p><p>2021年7月26日</p></body></html>"""
    return page.encode("utf-8")


def notices_per_second(extract: Extractor, data: bytes, seconds: float) -> float:
    extract(data, "table.html", None)  # warm up (imports, caches)
    count = 0
    started = time.perf_counter()
    while True:
        extract(data, "table.html", None)
        count += 1
        elapsed = time.perf_counter() - started
        if elapsed >= seconds:
            return count / elapsed


def previous_extractor(notices: list[tuple[Path, dict[str, Any]]]) -> Extractor | None:
    """The extractor of ``previous.BASELINE_REV`` over the corpus (None without git)."""
    folder = previous.export()
    if folder is None:
        return None
    items = [
        (path, date.fromisoformat(e["published_on_arg"]) if e.get("published_on_arg") else None)
        for path, e in notices
    ]
    read = previous.extract_all(folder, items)
    by_name = {Path(path).name: fields for path, fields in read.items()}

    def extract(data: bytes, name: str, published_on: date | None) -> Extracted:
        fields = by_name[name]
        if "error" in fields:
            raise InputError(fields["error"])
        return Extracted(
            regulator=fields["regulator"],
            published_on=date.fromisoformat(fields["published_on"]),
            due_on=date.fromisoformat(fields["due_on"]) if fields["due_on"] else None,
            kind=fields["kind"],
            entities=[(n, d) for n, d in fields["entities"]],
        )

    return extract


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="shorter timing (under 30 s)")
    args = parser.parse_args()
    seconds = 2.0 if args.quick else 10.0

    notices = corpus()
    ours = accuracy(regwatch, notices)
    baseline = accuracy(naive, notices)
    keys = [*FIELDS, "entity_recall", "entity_precision", "developer_accuracy"]
    results: list[dict[str, Any]] = [
        {
            "bench": "ingest",
            "name": "extraction_accuracy",
            "notices": len(notices),
            "entities": sum(len(expected["entities"]) for _, expected in notices),
            "regwatch": ours,
            "naive": baseline,
            "ratio_vs_naive": round(
                sum(ours[k] for k in keys) / max(sum(baseline[k] for k in keys), 1e-9), 2
            ),
        }
    ]
    earlier = previous_extractor(notices)
    if earlier is not None:
        before = accuracy(earlier, notices)
        results[0]["previous"] = {"rev": previous.BASELINE_REV, **before}
    ours_shapes = by_shape(regwatch, notices)
    naive_shapes = by_shape(naive, notices)
    earlier_shapes = by_shape(earlier, notices) if earlier is not None else {}
    for shape, ours_shape in ours_shapes.items():
        base = earlier_shapes.get(shape) or naive_shapes[shape]
        results.append(
            {
                "bench": "ingest",
                "name": f"shape_{shape}",
                "notices": ours_shape["notices"],
                "regwatch": {k: v for k, v in ours_shape.items() if k != "notices"},
                "previous": {
                    k: v for k, v in earlier_shapes.get(shape, {}).items() if k != "notices"
                },
                "naive": {k: v for k, v in naive_shapes[shape].items() if k != "notices"},
                "baseline": "previous" if shape in earlier_shapes else "naive",
                "ratio_vs_baseline": round(
                    ours_shape["entity_recall"] / max(base["entity_recall"], 0.01), 2
                ),
            }
        )
    page = miit_table_page(100)
    want_rows = {(f"应用{i}号", f"北京第{i}号科技有限公司") for i in range(1, 101)}
    ours_speed = notices_per_second(regwatch, page, seconds)
    naive_speed = notices_per_second(naive, page, seconds)
    results.append(
        {
            "bench": "ingest",
            "name": "speed_100_row_table",
            "rows": 100,
            "regwatch_rows_right": len(
                want_rows & set(regwatch(page, "table.html", None).entities)
            ),
            "naive_rows_right": len(want_rows & set(naive(page, "table.html", None).entities)),
            "regwatch_notices_per_s": round(ours_speed, 1),
            "naive_notices_per_s": round(naive_speed, 1),
            "ratio_vs_naive": round(ours_speed / naive_speed, 4),
            "quick": args.quick,
        }
    )
    for result in results:
        emit(result)
    save("ingest", results)


if __name__ == "__main__":
    main()
