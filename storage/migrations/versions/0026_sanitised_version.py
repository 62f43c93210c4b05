"""sanitised version: which sanitising policy cleaned a remote post's stored HTML (issue #13, speed)

Pages show a row cleaned by the current policy as stored, without sanitising it on every view. Existing
rows get NULL here and are sanitised again by content.resanitise, which the pruner runs when a process
starts (a migration cannot import the sanitiser: storage does not depend on federation); until then pages
sanitise them per view as before.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-04 21:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0026'
down_revision = '0025'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN (no batch copy on SQLite), so the search and board triggers on ``objects`` stay.
    op.add_column('objects', sa.Column('sanitised_version', sa.Integer(), nullable=True))


def downgrade() -> None:
    op.drop_column('objects', 'sanitised_version')
