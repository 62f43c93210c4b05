"""person blocks: one of our people blocks someone, local or remote (Mastodon's block)

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-04 23:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0027'
down_revision = '0026'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'person_blocks',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('blocker_id', sa.Integer(), nullable=False),
        sa.Column('blocked_uri', sa.String(length=2048), nullable=False),
        sa.Column('activity_uri', sa.String(length=2048), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['blocker_id'], ['local_actors.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('blocker_id', 'blocked_uri', name='uq_person_blocks'),
    )


def downgrade() -> None:
    op.drop_table('person_blocks')
