"""moderation: report outcomes, the moderation log, suspension reasons, domain silences and the allowlist

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 09:00:00

New tables and plain ``ADD COLUMN``s only (no SQLite batch copy), so the search triggers of 0003 stay.
"""

from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # What a moderator did with a report, and whether our member's report went to the reported server.
    op.add_column('flags', sa.Column('outcome', sa.String(length=16), nullable=True))
    op.add_column('flags', sa.Column('resolved_by_uri', sa.String(length=2048), nullable=True))
    op.add_column('flags', sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('flags', sa.Column('forwarded', sa.Boolean(), nullable=False, server_default=sa.false()))
    # Shown to the suspended person when they try to log in.
    op.add_column('accounts', sa.Column('suspension_reason', sa.Text(), nullable=False, server_default=''))
    # block (refuse everything) | silence (kept off public listings); existing rows were blocks.
    op.add_column('domain_blocks', sa.Column('severity', sa.String(length=16), nullable=False,
                                             server_default='block'))
    op.create_table(
        'domain_allows',
        sa.Column('domain', sa.String(length=255), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('domain'),
    )
    op.create_table(
        'moderation_log',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('group_id', sa.Integer(), nullable=True),
        sa.Column('actor_uri', sa.String(length=2048), nullable=True),
        sa.Column('action', sa.String(length=32), nullable=False),
        sa.Column('target', sa.String(length=2048), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['group_id'], ['groups.actor_id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_moderation_log_group_id', 'moderation_log', ['group_id', 'id'])


def downgrade() -> None:
    op.drop_index('ix_moderation_log_group_id', table_name='moderation_log')
    op.drop_table('moderation_log')
    op.drop_table('domain_allows')
    with op.batch_alter_table('domain_blocks') as batch_op:
        batch_op.drop_column('severity')
    with op.batch_alter_table('accounts') as batch_op:
        batch_op.drop_column('suspension_reason')
    with op.batch_alter_table('flags') as batch_op:
        for column in ('forwarded', 'resolved_at', 'resolved_by_uri', 'outcome'):
            batch_op.drop_column(column)
