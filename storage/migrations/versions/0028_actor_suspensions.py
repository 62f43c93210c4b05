"""actor suspensions: an admin suspends one remote account (Mastodon's suspend, Lemmy's ban from site)

``actor_suspensions`` names the suspended accounts; ``objects.suspended`` marks the posts hidden because
their author is suspended (hidden as ``deleted``, content kept), so that lifting the suspension restores
exactly those (actors.suspensions).

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-05 02:30:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0028'
down_revision = '0027'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'actor_suspensions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('actor_uri', sa.String(length=2048), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('suspended_by', sa.String(length=2048), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('actor_uri'),
    )
    # A plain ADD COLUMN (no batch copy on SQLite), so the search and board triggers on ``objects`` stay.
    op.add_column('objects', sa.Column('suspended', sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    op.drop_column('objects', 'suspended')
    op.drop_table('actor_suspensions')
