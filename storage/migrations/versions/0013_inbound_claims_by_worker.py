"""inbound claims by worker: queue_workers (heartbeats) and inbound_activities.claimed_by

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04 09:30:00

A new table and one nullable column (ALTER TABLE ADD COLUMN on SQLite: no batch copy, so the search
triggers of 0003 stay). Rows claimed before the upgrade have no worker and wait out their lease as before.
"""

from alembic import op
import sqlalchemy as sa


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'queue_workers',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('host_key', sa.String(length=255), nullable=False),
        sa.Column('pid', sa.Integer(), nullable=False),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('heartbeat_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.add_column('inbound_activities', sa.Column('claimed_by', sa.String(length=36), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('inbound_activities') as batch:
        batch.drop_column('claimed_by')
    op.drop_table('queue_workers')
