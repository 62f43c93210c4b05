"""storage/migrate.py reads the head revision and the database's revision without Alembic (issue #13: a
server on a current schema never imports it)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from madeopen.app import Services
from storage import migrate


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
