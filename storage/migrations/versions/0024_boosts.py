"""boosts: who boosted which post we hold, and the count on the post (issue #16, microblogging)

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-04 20:50:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'boosts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('actor_uri', sa.String(length=2048), nullable=False),
        sa.Column('object_uri', sa.String(length=2048), nullable=False),
        sa.Column('activity_uri', sa.String(length=2048), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('activity_uri'),
        sa.UniqueConstraint('actor_uri', 'object_uri'),
    )
    op.create_index('ix_boosts_object_uri', 'boosts', ['object_uri'], unique=False)
    # A plain ADD COLUMN (no batch copy on SQLite), so the search triggers on ``objects`` stay.
    op.add_column('objects', sa.Column('boost_count', sa.Integer(), server_default=sa.text('0'), nullable=False))


def downgrade() -> None:
    op.drop_column('objects', 'boost_count')
    op.drop_index('ix_boosts_object_uri', table_name='boosts')
    op.drop_table('boosts')
