"""browser sessions: one row per logged-in browser, so sessions can be ended server-side

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04 09:00:00

A new table only; no existing table is touched. Sessions from before (cookie-only) carry no key and
end at the first request after the upgrade: everyone logs in once more.
"""

from alembic import op
import sqlalchemy as sa


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

TABLE = 'browser_sessions'


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('key_hash', sa.String(length=64), nullable=False),
        sa.Column('actor_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('user_agent', sa.String(length=255), nullable=False),
        sa.Column('address', sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(['actor_id'], ['local_actors.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('key_hash'),
    )
    op.create_index('ix_browser_sessions_actor_id', TABLE, ['actor_id'])
    # The prune deletes sessions idle past their lifetime, oldest first.
    op.create_index('ix_browser_sessions_last_seen_at', TABLE, ['last_seen_at'])


def downgrade() -> None:
    op.drop_index('ix_browser_sessions_last_seen_at', table_name=TABLE)
    op.drop_index('ix_browser_sessions_actor_id', table_name=TABLE)
    op.drop_table(TABLE)
