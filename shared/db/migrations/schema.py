"""Every table of the one schema, as the models declare it: each service's models and shared's.

A database with none of regwatch's tables is created from this metadata and stamped at every
head instead of replaying the migrations (``shared/db/engine.py``);
``tests/shared/db/test_migrations.py`` checks that the result is the migrated schema, so a model
module missing here (or a migration the models do not follow) fails that test.
"""

from __future__ import annotations

import importlib

from sqlalchemy import MetaData

MODEL_MODULES = (
    "services.ingestor.models",
    "services.matcher.models",
    "services.notifier.models",
    "shared.accounts",
    "shared.channel_targets",
    "shared.portal.models",
)
"""The modules that declare tables (each registers its own on ``Base.metadata`` when imported)."""


def metadata() -> MetaData:
    """``Base.metadata`` with every model module imported."""
    from shared.db.base import Base

    for name in MODEL_MODULES:
        importlib.import_module(name)
    return Base.metadata
