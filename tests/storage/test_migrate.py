"""storage/migrate.py reads the head revision and the database's revision without Alembic (issue #13: a
server on a current schema never imports it)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from madeopen.app import Services
from storage import migrate
from tests.support.server_imports import server_modules


def test_the_head_read_from_the_files_is_alembics() -> None:
    assert migrate.head_revision() == migrate.alembic_head()


async def test_a_migrated_database_is_current_and_upgrading_it_changes_nothing(services: Services) -> None:
    head = migrate.head_revision()
    assert await migrate.current_revision(services.engine) == head
    assert await migrate.upgrade(services.engine) == (head, head)
    await migrate.require_current(services.engine)


def test_the_server_modules_do_not_import_alembic() -> None:
    checkout = Path(__file__).resolve().parents[2]
    code = ("import sys, madeopen.app, madeopen.cli; "
            "print(sorted(m for m in ('alembic', 'mako', 'rich', 'feedgen') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], cwd=checkout, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_a_sqlite_server_does_not_load_the_postgresql_dialect() -> None:
    # ~2 MB of idle memory (issue #13): the board's partial indexes get their PostgreSQL predicate only
    # once PostgreSQL is used (storage.models.content.board_indexes_for_postgresql), and INSERT … ON
    # CONFLICT imports the dialect in use (storage.upsert).
    assert server_modules("sqlalchemy.dialects.postgresql") == []


def test_the_board_indexes_are_partial_on_both_databases() -> None:
    # As migration 0011 creates them: only thread starts with a kind (the board's rows) are indexed.
    from sqlalchemy.dialects import postgresql, sqlite
    from sqlalchemy.schema import CreateIndex

    from storage.models import Object
    from storage.models.content import board_indexes_for_postgresql

    board_indexes_for_postgresql()
    board = [index for index in Object.__table__.indexes if index.name and index.name.startswith("ix_board_")]
    assert len(board) == 13
    for index in board:
        for dialect in (sqlite.dialect(), postgresql.dialect()):
            assert str(CreateIndex(index).compile(dialect=dialect)).endswith("WHERE kind IS NOT NULL")
