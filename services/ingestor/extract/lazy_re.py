"""Regular expressions compiled when first used, not when their module is imported.

Extraction keeps about two hundred patterns at module level, and compiling them all took
about 0.2 s of CPU at every ``regwatch notices parse``, although a small notice uses about
half of them. ``lazy(pattern, flags)`` stands for ``re.compile(pattern, flags)``: the first
method called compiles the pattern, and from then on the compiled pattern's own bound methods
are found on the object, so later calls cost what calls on a compiled pattern cost.

A ``LazyPattern`` is not an ``re.Pattern``: pass it where a pattern's methods are called, not
to ``re.sub(...)`` or ``re.compile(...)`` (mypy tells them apart).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

_METHODS = ("search", "match", "fullmatch", "finditer", "findall", "sub", "subn", "split")


class LazyPattern:
    """``re.compile(pattern, flags)`` on first use; see the module's description."""

    def __init__(self, pattern: str, flags: int | re.RegexFlag = 0) -> None:
        self.pattern = pattern
        self.flags = int(flags)

    def __getattr__(self, name: str) -> Any:
        # only reached for attributes not set yet: the methods, before the first call
        if name not in _METHODS:
            raise AttributeError(name)
        compiled = re.compile(self.pattern, self.flags)
        for method in _METHODS:  # two threads may both get here: both bind the same methods
            setattr(self, method, getattr(compiled, method))
        return getattr(compiled, name)

    def __repr__(self) -> str:
        return f"lazy({self.pattern!r}, {self.flags})"

    if TYPE_CHECKING:

        def search(
            self, string: str, pos: int = 0, endpos: int = sys.maxsize
        ) -> re.Match[str] | None: ...

        def match(
            self, string: str, pos: int = 0, endpos: int = sys.maxsize
        ) -> re.Match[str] | None: ...

        def fullmatch(
            self, string: str, pos: int = 0, endpos: int = sys.maxsize
        ) -> re.Match[str] | None: ...

        def finditer(
            self, string: str, pos: int = 0, endpos: int = sys.maxsize
        ) -> Iterator[re.Match[str]]: ...

        def findall(self, string: str, pos: int = 0, endpos: int = sys.maxsize) -> list[Any]: ...

        def sub(
            self, repl: str | Callable[[re.Match[str]], str], string: str, count: int = 0
        ) -> str: ...

        def subn(
            self, repl: str | Callable[[re.Match[str]], str], string: str, count: int = 0
        ) -> tuple[str, int]: ...

        def split(self, string: str, maxsplit: int = 0) -> list[str | Any]: ...


def lazy(pattern: str, flags: int | re.RegexFlag = 0) -> LazyPattern:
    """A pattern compiled on its first use (``re.compile``'s arguments)."""
    return LazyPattern(pattern, flags)
