"""HTML parsed by BeautifulSoup on lxml, with its nesting depth bounded while it is parsed.

lxml builds a page nested 100,000 ``<div>`` deep without complaint (2 s, and a tree every
recursive walk over it fails on: ``RecursionError``, a 500). The tree builder here counts the
elements open as lxml reports them and stops the parse at :data:`MAX_DEPTH` with an
``InputError``, before the rest of the page is built: a page that deep is not a notice.
"""

from __future__ import annotations

from typing import Any, Final

from bs4 import BeautifulSoup
from bs4.builder._lxml import LXMLTreeBuilder

from shared.errors import InputError

MAX_DEPTH: Final = 256
"""Most elements open at once (notices and list pages nest 10 to 40 deep)."""


class TooDeep(InputError):
    """The page nests its elements deeper than :data:`MAX_DEPTH`."""


class _BoundedBuilder(LXMLTreeBuilder):
    """lxml's HTML tree builder, counting open elements."""

    def feed(self, markup: Any) -> None:
        self._depth = 0
        super().feed(markup)

    def start(self, tag: Any, attrib: Any, nsmap: Any = None) -> None:
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise TooDeep(f"the page nests its elements more than {MAX_DEPTH} deep; not read")
        super().start(tag, attrib, nsmap or {})

    def end(self, tag: Any) -> None:
        self._depth -= 1
        super().end(tag)


def soup_of(markup: str | bytes, *, name: str | None = None) -> BeautifulSoup:
    """``BeautifulSoup(markup, "lxml")``, refusing a page nested deeper than
    :data:`MAX_DEPTH` (``TooDeep``, an InputError, its message starting with ``name``)."""
    try:
        return BeautifulSoup(markup, builder=_BoundedBuilder())
    except TooDeep as error:
        if name is None:
            raise
        raise TooDeep(f"{name}: {error}") from None
