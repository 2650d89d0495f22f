"""Modules a library imports at once but regwatch uses rarely or never: run when their first
attribute is read, not when they are imported.

BeautifulSoup imports soupsieve (CSS selectors) when it is imported; regwatch never selects by
CSS, and soupsieve compiles its patterns at import, some with case-insensitive classes up to
U+10FFFF: about 0.1 s of CPU at every ``regwatch notices parse`` and ``regwatch run``.

(``importlib.util.LazyLoader`` does not do here: on Python 3.11 the ``import`` statement reads
the module's ``__spec__``, which runs a lazily loaded module at once.)
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import threading
import types
from typing import Any

_lock = threading.Lock()


class _Deferred(types.ModuleType):
    """Stands in ``sys.modules`` for a module not run yet; the first attribute it lacks runs
    the module (which then replaces it in ``sys.modules``) and every attribute comes from it."""

    def __getattr__(self, attr: str) -> Any:
        module = self.__dict__.get("_deferred_module")
        if module is None:
            module = _load(self.__name__)
            self.__dict__["_deferred_module"] = module
        return getattr(module, attr)


def _load(name: str) -> types.ModuleType:
    with _lock:
        current = sys.modules.get(name)
        if isinstance(current, _Deferred):
            del sys.modules[name]
        return importlib.import_module(name)


def defer_import(name: str) -> None:
    """Put a stand-in for the top-level module ``name`` in ``sys.modules``: ``import name``
    gets it without running the module, which runs on the first attribute read. Nothing
    happens when it is imported already or not installed."""
    if name in sys.modules:
        return
    spec = importlib.util.find_spec(name)
    if spec is None:
        return
    stand_in = _Deferred(name)
    stand_in.__spec__ = spec
    sys.modules[name] = stand_in
