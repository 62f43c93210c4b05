"""login attempts: failed log-ins per account name and client address (the log-in rate limit)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 10:00:00

A new table only; no existing table is touched (so no SQLite batch copy and the search triggers of 0003 stay).
"""

from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

TABLE = 'login_attempts'
# Both counters read "the latest attempts of this key"; the prune deletes the oldest attempts first.
INDEXES = {
    'ix_login_attempts_account': ['account_key', 'attempted_at'],
    'ix_login_attempts_address': ['address', 'attempted_at'],
    'ix_login_attempts_attempted_at': ['attempted_at'],
}


def upgrade() -> None:
    # Short-lived rows: the worker deletes attempts once they leave the 15-minute window.
    op.create_table(
        TABLE,
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('account_key', sa.String(length=64), nullable=False),
        sa.Column('address', sa.String(length=64), nullable=False),
        sa.Column('attempted_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    for name, columns in INDEXES.items():
        op.create_index(name, TABLE, columns)


def downgrade() -> None:
    for name in INDEXES:
        op.drop_index(name, table_name=TABLE)
    op.drop_table(TABLE)
