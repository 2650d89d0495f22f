"""Contracts and plumbing shared by regwatch's services: events, topics, settings, broker, db.

Every regwatch process imports this package first, so it also keeps two imports that third-party
packages make at import, and regwatch never uses, off every start (``regwatch run`` and the CLI):

- httpx imports its command-line client (``httpx._main``: click, rich's console, progress,
  syntax and tables, pygments' lexers; about 0.1 s of CPU) to offer ``httpx.main``; marked
  missing here, httpx defines a stub ``main`` instead (the ``httpx`` command, a process of its
  own, is unaffected);
- BeautifulSoup imports soupsieve (CSS selectors, which regwatch never uses), and FastAPI and
  FastStream import email_validator to offer ``EmailStr`` (regwatch validates addresses
  itself); both are deferred to their first use (see :mod:`shared.lazy_module`).
"""

import sys

from shared.lazy_module import defer_import

sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
defer_import("soupsieve")
defer_import("email_validator")
