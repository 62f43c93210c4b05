"""``INSERT … ON CONFLICT`` for the database in use, importing only that database's SQLAlchemy dialect.

SQLite and PostgreSQL spell ``ON CONFLICT`` alike, but SQLAlchemy offers it through each dialect's own
``insert()``. Importing ``sqlalchemy.dialects.postgresql`` at module level costs ~2 MB of resident memory
on SQLite nodes, which never use it (issue #13, bench/README.md); this module imports it on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

# The dialects whose ``insert()`` has ``on_conflict_do_nothing``/``on_conflict_do_update``.
UPSERT_DIALECTS = ("postgresql", "sqlite")


def dialect_insert(dialect: str, table: Any) -> Any:
    """``sqlalchemy.dialects.<dialect>.insert(table)``; ``dialect`` is ``session.bind.dialect.name``."""
    if dialect not in UPSERT_DIALECTS:
        raise ValueError(f"no INSERT … ON CONFLICT for the {dialect} dialect")
    return importlib.import_module(f"sqlalchemy.dialects.{dialect}").insert(table)
