"""How many stored notices a page of ``GET /v1/notices`` and ``regwatch notices list`` shows.

Apart from :mod:`services.ingestor.listing` (which reads the pages) so that the CLI can name
them in its help without importing the database layer.
"""

from __future__ import annotations

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
