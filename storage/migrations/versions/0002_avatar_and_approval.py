"""avatar of local actors, sign-ups waiting for approval

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 10:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('local_actors', schema=None) as batch_op:
        # File name under data_dir/media (random, never user-chosen); NULL: no avatar.
        batch_op.add_column(sa.Column('avatar', sa.String(length=64), nullable=True))
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        # Registration mode "approval": the account exists but cannot log in until an admin approves it.
        batch_op.add_column(
            sa.Column('approval_pending', sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.drop_column('approval_pending')
    with op.batch_alter_table('local_actors', schema=None) as batch_op:
        batch_op.drop_column('avatar')
