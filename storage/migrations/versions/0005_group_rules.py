"""rules of local groups (Markdown, shown on the group page)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 10:00:00

A plain ``ADD COLUMN`` (no batch copy on SQLite), so the search triggers on ``groups`` made by 0003 stay.
"""

from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # What the owner typed (Markdown); rendered and sanitised when shown. '' = no rules.
    op.add_column('groups', sa.Column('rules', sa.Text(), nullable=False, server_default=''))


def downgrade() -> None:
    op.drop_column('groups', 'rules')
