"""attachment size: the byte size of a file attached to one of our posts (issue #16, files)

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-04 15:20:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('post_attachments') as batch:
        batch.add_column(sa.Column('size', sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('post_attachments') as batch:
        batch.drop_column('size')
