"""Every notice in tests/fixtures/notices through parse_notice, checked against its
``<name>.expected.json``: regulator, published_on, batch, kind, deadline, the exact entity list
(name and developer, plus any other field the expectation names), list completeness, the
notice a removal follows up, and identity across republications (``same_notice_as``).
Files a notice links to (``"attachments": ["attachments/list.png"]``) are passed with it."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from services.ingestor.extract import parse_notice
from shared.events import NoticeEvent
from tests.support.pictures import ocr_available

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures" / "notices"
NOTICES = sorted(
    p
    for p in FIXTURES.iterdir()
    if p.is_file() and not p.name.endswith(".expected.json") and p.suffix != ".py"
)


def expected_for(path: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(
        (path.parent / f"{path.stem}.expected.json").read_text("utf-8")
    )
    return loaded


def parse_fixture(path: Path) -> NoticeEvent:
    expected = expected_for(path)
    override = expected.get("published_on_arg")
    attachments = [
        (name, (path.parent / name).read_bytes()) for name in expected.get("attachments", [])
    ]
    return parse_notice(
        path.read_bytes(),
        name=path.name,
        source_url=f"https://example.org/{path.name}",
        published_on=date.fromisoformat(override) if override else None,
        attachments=attachments,
    )


def test_the_corpus_covers_every_form() -> None:
    assert len(NOTICES) >= 40
    suffixes = {p.suffix for p in NOTICES}
    assert {".txt", ".html", ".docx", ".csv", ".md"} <= suffixes
    regulators = {expected_for(p)["regulator"] for p in NOTICES}
    assert {"CAC", "MIIT", "MPS", "SAMR"} <= regulators
    assert sum(r.startswith("CA-") for r in regulators) >= 8
    kinds = {expected_for(p)["kind"] for p in NOTICES}
    assert kinds == {"rectification", "removal", "other"}
    languages = {expected_for(p).get("language", "zh") for p in NOTICES}
    assert languages == {"zh", "en"}


@pytest.mark.parametrize("path", NOTICES, ids=[p.name for p in NOTICES])
def test_fixture(path: Path) -> None:
    expected = expected_for(path)
    if any(e.get("source") == "image" for e in expected["entities"]) and not ocr_available():
        pytest.skip("OCR cannot load here (rapidocr-onnxruntime, or opencv's libgl1/libglib2.0-0)")
    data = path.read_bytes()
    if expected.get("encoding") == "gb18030":
        with pytest.raises(UnicodeDecodeError):
            data.decode("utf-8")

    event = parse_fixture(path)

    assert isinstance(event, NoticeEvent)
    assert event.regulator.code == expected["regulator"]
    assert event.published_on == date.fromisoformat(expected["published_on"])
    assert event.kind == expected["kind"]
    assert event.source_url == f"https://example.org/{path.name}"
    assert event.notice_id.startswith(f"{expected['regulator'].lower()}-")
    assert event.language == expected.get("language", "zh")
    if "batch" in expected:
        assert event.batch == expected["batch"]
    if "title" in expected:
        assert event.title == expected["title"]
    if "regulator_name" in expected:
        assert event.regulator.name == expected["regulator_name"]
    assert event.regulator.recognised is expected.get("recognised", True)
    assert event.published_on_estimated is expected.get("published_on_estimated", False)
    for words in expected.get("notes_contain", []):
        assert any(words in note for note in event.notes), (words, event.notes)
    if "list_incomplete" in expected:
        assert event.list_incomplete is expected["list_incomplete"]
        assert (event.list_incomplete_reason is not None) is expected["list_incomplete"]
    if "follows_up" in expected:
        assert event.follows_up is not None
        assert (
            event.follows_up.model_dump(mode="json", include=set(expected["follows_up"]))
            == (expected["follows_up"])
        )
    elif event.kind != "removal":
        assert event.follows_up is None

    want_deadline = expected["deadline"]
    if want_deadline is None:
        assert event.deadline is None
    else:
        assert event.deadline is not None
        assert event.deadline.due_on == date.fromisoformat(want_deadline["due_on"])
        for key in ("rule", "amount", "due_hour", "estimated"):
            if key in want_deadline:
                assert getattr(event.deadline, key) == want_deadline[key], key
        assert event.deadline.source_text

    got = [entity.model_dump(mode="json") for entity in event.entities]
    assert [(e["name"], e["developer"]) for e in got] == [
        (e["name"], e["developer"]) for e in expected["entities"]
    ]
    for got_entity, want in zip(got, expected["entities"], strict=True):
        for key, value in want.items():
            assert got_entity[key] == value, (got_entity["name"], key)

    # The event survives a JSON round trip under the public contract.
    assert NoticeEvent.model_validate(json.loads(json.dumps(event.dump()))) == event


REPRINTS = [p for p in NOTICES if "same_notice_as" in expected_for(p)]


@pytest.mark.parametrize("path", REPRINTS, ids=[p.name for p in REPRINTS])
def test_republished_notice_keeps_its_identity(path: Path) -> None:
    original = FIXTURES / expected_for(path)["same_notice_as"]
    assert parse_fixture(path).notice_id == parse_fixture(original).notice_id


def test_different_notices_have_different_ids() -> None:
    ids: dict[str, str] = {}
    for path in NOTICES:
        expected = expected_for(path)
        group = expected.get("same_notice_as", path.name)
        ids.setdefault(group, parse_fixture(path).notice_id)
    assert len(set(ids.values())) == len(ids)
