"""Apply and check Alembic migrations programmatically on an async engine.

Alembic (and Mako, Pygments and Rich, which it brings along) is imported only when the schema must
actually change: a server starting on a current schema reads the ``alembic_version`` row and the head
revision of the files in ``migrations/versions`` itself, and keeps ~25 MB of modules it would never use
again out of its resident memory (issue #13: idle RSS).
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

if TYPE_CHECKING:
    from alembic.config import Config

_MIGRATIONS = Path(__file__).parent / "migrations"
_REVISION = re.compile(r"^revision\s*(?::[^=]*)?=\s*['\"]([^'\"]+)['\"]", re.MULTILINE)
_DOWN_REVISION = re.compile(r"^down_revision\s*(?::[^=]*)?=\s*(.*)$", re.MULTILINE)


class SchemaOutdated(RuntimeError):
    """The database is behind the code; ``madeopen migrate`` fixes it."""


def _config() -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    return config


@functools.cache
def head_revision() -> str | None:
    """The revision no other revision builds on, read from the migration files (Alembic's own answer
    when they do not name exactly one)."""
    revisions: set[str] = set()
    below: set[str] = set()
    for path in (_MIGRATIONS / "versions").glob("*.py"):
        source = path.read_text(encoding="utf-8")
        revision, down = _REVISION.search(source), _DOWN_REVISION.search(source)
        if revision is None or down is None:
            return alembic_head()
        revisions.add(revision.group(1))
        below.update(re.findall(r"['\"]([^'\"]+)['\"]", down.group(1)))
    heads = revisions - below
    return heads.pop() if len(heads) == 1 else alembic_head()


def alembic_head() -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_config()).get_current_head()


def _current(connection: Connection) -> str | None:
    if not inspect(connection).has_table("alembic_version"):
        return None
    return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def upgrade_to(connection: Connection, revision: str = "head") -> None:
    """Upgrade on ``connection`` to ``revision`` (tests of a migration stop just before it)."""
    from alembic import command

    config = _config()
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


async def current_revision(engine: AsyncEngine) -> str | None:
    async with engine.connect() as conn:
        return await conn.run_sync(_current)


async def upgrade(engine: AsyncEngine) -> tuple[str | None, str | None]:
    """Bring the schema to head; returns (before, after) revisions."""
    current = await current_revision(engine)
    if current is not None and current == head_revision():
        return current, current  # nothing to do: no Alembic
    async with engine.begin() as conn:
        before = await conn.run_sync(_current)
        await conn.run_sync(upgrade_to)
        after = await conn.run_sync(_current)
    return before, after


async def require_current(engine: AsyncEngine) -> None:
    current, head = await current_revision(engine), head_revision()
    if current != head:
        raise SchemaOutdated(
            f"database schema is at {current or 'nothing (empty database)'}, code needs {head}: run 'madeopen migrate'"
        )
