"""Every notice in tests/fixtures/notices through parse_notice, checked against its
``<name>.expected.json`` (regulator, published_on, batch, kind, deadline, entities ...)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from services.ingestor.extract import parse_notice
from shared.events import NoticeEvent

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures" / "notices"
NOTICES = sorted(
    p for p in FIXTURES.iterdir() if p.is_file() and not p.name.endswith(".expected.json")
)


def expected_for(path: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(
        (path.parent / f"{path.stem}.expected.json").read_text("utf-8")
    )
    return loaded


def test_there_are_enough_fixtures() -> None:
    assert len(NOTICES) >= 8
    kinds = {p.suffix for p in NOTICES}
    assert {".txt", ".html"} <= kinds


@pytest.mark.parametrize("path", NOTICES, ids=[p.name for p in NOTICES])
def test_fixture(path: Path) -> None:
    expected = expected_for(path)
    data = path.read_bytes()
    if expected.get("encoding") == "gb18030":
        with pytest.raises(UnicodeDecodeError):
            data.decode("utf-8")

    event = parse_notice(data, name=path.name, source_url=f"https://example.org/{path.name}")

    assert isinstance(event, NoticeEvent)
    assert event.regulator.code == expected["regulator"]
    assert event.published_on == date.fromisoformat(expected["published_on"])
    assert event.kind == expected["kind"]
    assert event.source_url == f"https://example.org/{path.name}"
    assert event.notice_id.startswith(
        f"{expected['regulator'].lower()}-{expected['published_on'].replace('-', '')}-"
    )
    if "batch" in expected:
        assert event.batch == expected["batch"]
    if "title" in expected:
        assert event.title == expected["title"]
    if "language" in expected:
        assert event.language == expected["language"]

    want_deadline = expected["deadline"]
    if want_deadline is None:
        assert event.deadline is None
    else:
        assert event.deadline is not None
        assert event.deadline.due_on == date.fromisoformat(want_deadline["due_on"])
        for key in ("rule", "amount"):
            if key in want_deadline:
                assert getattr(event.deadline, key) == want_deadline[key]
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
