"""account deletion: ``accounts.deleted_at`` marks a deleted account's tombstone

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 08:40:00

One nullable column added with a plain ``ADD COLUMN`` (no SQLite batch copy of ``accounts``, so the
search triggers of 0003 on that table stay in place).
"""

from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # NULL: the account is alive. A time: deleted then; the row stays so the name is never given again
    # and the actor id answers 410 (actors/account_deletion.py).
    op.add_column('accounts', sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column('accounts', 'deleted_at')
