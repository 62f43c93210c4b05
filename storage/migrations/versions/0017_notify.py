"""notifications: muted threads, "new threads" opt-in per group, mail per kind of notification, digests

Our people follow the threads they started (the default from now on: existing threads get the row too).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-04 14:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('thread_followers', sa.Column('muted', sa.Boolean(), nullable=False, server_default=sa.false()))
    op.add_column('notifications', sa.Column('mailed_at', sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        'group_watches',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('actor_id', sa.Integer(), nullable=False),
        sa.Column('group_uri', sa.String(length=2048), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['actor_id'], ['local_actors.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('actor_id', 'group_uri', name='uq_group_watches'),
    )
    op.create_index('ix_group_watches_group_uri', 'group_watches', ['group_uri'])
    op.create_table(
        'mail_preferences',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('actor_id', sa.Integer(), nullable=False),
        sa.Column('category', sa.String(length=32), nullable=False),
        sa.Column('cadence', sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(['actor_id'], ['local_actors.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('actor_id', 'category', name='uq_mail_preferences'),
    )
    op.create_table(
        'mail_digests',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('actor_id', sa.Integer(), nullable=False),
        sa.Column('cadence', sa.String(length=16), nullable=False),
        sa.Column('period', sa.String(length=16), nullable=False),
        sa.Column('since', sa.DateTime(timezone=True), nullable=False),
        sa.Column('mail_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['actor_id'], ['local_actors.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('actor_id', 'cadence', 'period', name='uq_mail_digests'),
    )
    # Existing notifications are not mailed now: they happened before anyone chose.
    op.execute("UPDATE notifications SET mailed_at = created_at")
    # Authors follow the threads they started (local, living threads).
    op.execute(
        "INSERT INTO thread_followers (object_id, actor_uri, created_at, muted) "
        "SELECT o.id, o.author_uri, o.published, false FROM objects o "
        "WHERE o.local = true AND o.in_reply_to_uri IS NULL AND o.deleted = false "
        "AND NOT EXISTS (SELECT 1 FROM thread_followers f WHERE f.object_id = o.id AND f.actor_uri = o.author_uri)"
    )


def downgrade() -> None:
    op.drop_table('mail_digests')
    op.drop_table('mail_preferences')
    op.drop_index('ix_group_watches_group_uri', table_name='group_watches')
    op.drop_table('group_watches')
    op.drop_column('notifications', 'mailed_at')
    op.drop_column('thread_followers', 'muted')
