"""A deferred module runs on its first attribute read, and works as imported then."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run(code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_a_deferred_module_runs_on_first_use() -> None:
    code = (
        "import sys\n"
        "from shared.lazy_module import defer_import\n"
        "defer_import('soupsieve')\n"
        "import bs4\n"  # imports soupsieve
        "print('soupsieve.css_parser' in sys.modules)\n"
        "soup = bs4.BeautifulSoup('<p class=a>x</p><p>y</p>', 'html.parser')\n"
        "print([p.text for p in soup.select('p.a')])\n"
        "print('soupsieve.css_parser' in sys.modules)\n"
        "import soupsieve\n"
        "print(type(sys.modules['soupsieve']).__name__, soupsieve.match('p', soup.p))\n"
    )
    assert run(code).splitlines() == ["False", "['x']", "True", "module True"]


def test_an_imported_or_missing_module_is_left_alone() -> None:
    code = (
        "import sys, json\n"
        "from shared.lazy_module import defer_import\n"
        "before = sys.modules['json']\n"
        "defer_import('json')\n"
        "defer_import('no_such_module_here')\n"
        "print(sys.modules['json'] is before, 'no_such_module_here' in sys.modules)\n"
    )
    assert run(code) == "True False"
