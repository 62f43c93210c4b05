"""Alembic environment: runs migrations on the async engine's connection (see storage/migrate.py)."""

from __future__ import annotations

from alembic import context

from storage.models import Base
from storage.models.content import board_indexes_for_postgresql

target_metadata = Base.metadata
if context.config.attributes["connection"].dialect.name == "postgresql":
    board_indexes_for_postgresql()  # what migration 0011 creates, for autogenerate's comparison


def run_migrations_online() -> None:
    connection = context.config.attributes["connection"]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
