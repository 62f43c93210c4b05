"""group settings and reading: who starts threads, banner, description source; per-member read state

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-04 14:20:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMNs (no batch copy on SQLite), so the search triggers on ``groups`` made by 0003 stay.
    op.add_column('groups', sa.Column('members_start_threads', sa.Boolean(), nullable=False, server_default=sa.false()))
    op.add_column('groups', sa.Column('banner', sa.String(length=64), nullable=True))
    op.add_column('groups', sa.Column('description_source', sa.Text(), nullable=True))
    op.create_table(
        'thread_reads',
        sa.Column('actor_id', sa.Integer(), sa.ForeignKey('local_actors.id', ondelete='CASCADE'), nullable=False),
        sa.Column('object_id', sa.Integer(), sa.ForeignKey('objects.id', ondelete='CASCADE'), nullable=False),
        sa.Column('read_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('actor_id', 'object_id'),
    )


def downgrade() -> None:
    op.drop_table('thread_reads')
    op.drop_column('groups', 'description_source')
    op.drop_column('groups', 'banner')
    op.drop_column('groups', 'members_start_threads')
