"""Patterns compiled on first use: the same answers as ``re.compile``, compiled once."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap

import pytest

from services.ingestor.extract.lazy_re import LazyPattern, lazy

DEADLINE = r"(?P<n>\d{1,3})\s*个?工作日内"
TEXT = "请于15个工作日内完成整改，逾期未整改的，依法处置；另限 7 工作日内反馈。"


def test_nothing_is_compiled_until_a_method_is_called(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    real = re.compile

    def counting(pattern: str, flags: int = 0) -> re.Pattern[str]:
        calls.append(pattern)
        return real(pattern, flags)

    monkeypatch.setattr(re, "compile", counting)
    pattern = lazy(DEADLINE)
    assert calls == []
    assert pattern.pattern == DEADLINE and pattern.flags == 0
    assert [m.group("n") for m in pattern.finditer(TEXT)] == ["15", "7"]
    pattern.search(TEXT)
    pattern.sub("", TEXT)
    assert calls == [DEADLINE]  # once, then the compiled pattern's own methods


@pytest.mark.parametrize(
    ("method", "args"),
    [
        ("search", (TEXT,)),
        ("match", (TEXT,)),
        ("fullmatch", ("15个工作日内",)),
        ("findall", (TEXT,)),
        ("sub", ("N", TEXT)),
        ("subn", (lambda m: m.group("n") * 2, TEXT)),
        ("split", (TEXT,)),
        ("search", (TEXT, 5, 30)),
    ],
)
def test_every_method_answers_as_the_compiled_pattern(method: str, args: tuple[object]) -> None:
    compiled = re.compile(DEADLINE, re.I)
    ours = lazy(DEADLINE, re.I)

    def plain(value: object) -> object:
        return value.span() if isinstance(value, re.Match) else value

    assert plain(getattr(ours, method)(*args)) == plain(getattr(compiled, method)(*args))


def test_a_bad_pattern_fails_when_used_with_re_error() -> None:
    broken = lazy(r"(unclosed")
    with pytest.raises(re.error):
        broken.search("x")


def test_other_attributes_are_not_invented() -> None:
    pattern = lazy("a")
    with pytest.raises(AttributeError):
        pattern.groupindex  # noqa: B018 - not one of the methods it stands for
    assert isinstance(pattern, LazyPattern) and repr(pattern) == "lazy('a', 0)"


def test_a_text_notice_is_parsed_without_loading_beautifulsoup(tmp_path: object) -> None:
    """``regwatch notices parse`` of a plain-text notice needs no HTML parser and no event
    loop; an HTML notice loads BeautifulSoup when it is read."""
    script = textwrap.dedent(
        """
        import sys
        from services.ingestor.extract import parse_notice
        event = parse_notice(sys.argv[1].encode(), name=sys.argv[2])
        print(len(event.entities), "bs4" in sys.modules, "asyncio" in sys.modules)
        """
    )
    text = "工业和信息化部通报\n2026年3月2日\n以下App存在侵害用户权益行为：\n1. 抖音\n2. 快手\n"
    paragraphs = "".join(f"<p>{line}</p>" for line in text.splitlines())
    html = f"<html><body>{paragraphs}</body></html>"
    seen = {}
    for name, body in (("notice.txt", text), ("notice.html", html)):
        out = subprocess.run(
            [sys.executable, "-c", script, body, name], capture_output=True, text=True, check=True
        ).stdout.split()
        seen[name] = out
    assert seen["notice.txt"][1:] == ["False", "False"]
    assert seen["notice.html"][1] == "True"
    assert int(seen["notice.txt"][0]) >= 2


def test_every_lazy_pattern_of_extraction_compiles() -> None:
    """A pattern compiled on first use would fail only when a notice first needs it: every
    one that extraction's modules define is compiled here instead."""
    import importlib
    import pkgutil

    import services.ingestor.extract as extract

    found = 0
    for info in pkgutil.iter_modules(extract.__path__):
        module = importlib.import_module(f"{extract.__name__}.{info.name}")
        for value in vars(module).values():
            if isinstance(value, LazyPattern):
                re.compile(value.pattern, value.flags)
                found += 1
    assert found > 150  # about 185 today: the modules were all looked at
