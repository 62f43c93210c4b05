"""queue notify: PostgreSQL tells listening workers when rows are queued (issue #13, latency)

A statement trigger on each queue table runs ``pg_notify('madeopen_<table>', '')``: PostgreSQL delivers it
to every LISTENing session when the inserting transaction commits (one per transaction and channel,
however many rows or statements) and never for one that rolls back. `madeopen worker` processes wake on
it instead of waiting for their poll (storage/queue_signal.py). SQLite has no NOTIFY: nothing to do.

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-04 20:40:00
"""

from alembic import op


revision = '0025'
down_revision = '0024'
branch_labels = None
depends_on = None

TABLES = ("deliveries", "inbound_activities")


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        "CREATE FUNCTION madeopen_queued() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN PERFORM pg_notify('madeopen_' || TG_TABLE_NAME, ''); RETURN NULL; END $$"
    )
    for table in TABLES:
        op.execute(
            f"CREATE TRIGGER {table}_queued AFTER INSERT ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION madeopen_queued()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in TABLES:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_queued ON {table}")
    op.execute("DROP FUNCTION IF EXISTS madeopen_queued()")
