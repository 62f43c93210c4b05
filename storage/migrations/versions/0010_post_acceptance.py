"""post acceptance: whether a remote group took in a post our people sent it (pending | accepted | refused)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 09:00:00

Plain ``ADD COLUMN``s (no batch copy on SQLite), so the search triggers on ``objects`` made by 0003 stay.
Existing rows keep NULL: nothing was waiting for a group's answer before this revision.
"""

from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Only our people's posts in groups of other servers use it (content.acceptance); NULL elsewhere.
    op.add_column('objects', sa.Column('acceptance', sa.String(length=16), nullable=True))
    op.add_column('objects', sa.Column('refusal', sa.Text(), nullable=True))
    # The workers look for pending posts every 10 minutes; nearly every row is NULL here.
    op.create_index('ix_objects_acceptance', 'objects', ['acceptance'])


def downgrade() -> None:
    op.drop_index('ix_objects_acceptance', table_name='objects')
    op.drop_column('objects', 'refusal')
    op.drop_column('objects', 'acceptance')
