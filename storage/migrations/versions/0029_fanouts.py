"""fanouts: a group's activity to its members, expanded into deliveries by the delivery worker (issue #13)

One row per activity a group announces to its remote members (storage.models.Fanout): inbound processing
writes it instead of one delivery row per member inbox, and the delivery worker writes those rows later
(inbox_outbox.outbox.expand_fanouts). On PostgreSQL the table gets migration 0025's statement trigger, so
a `madeopen worker` in another process is woken when rows are queued (``NOTIFY madeopen_fanouts``).

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-05 08:10:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0029'
down_revision = '0028'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'fanouts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('activity_id', sa.Integer(), nullable=False),
        sa.Column('signer_id', sa.Integer(), nullable=False),
        sa.Column('group_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['activity_id'], ['activities.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['signer_id'], ['local_actors.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['group_id'], ['groups.actor_id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('activity_id'),
    )
    op.create_index('ix_fanouts_group_id', 'fanouts', ['group_id'])
    if op.get_bind().dialect.name == "postgresql":
        # madeopen_queued() is migration 0025's: NOTIFY madeopen_<table> once per inserting statement.
        op.execute("CREATE TRIGGER fanouts_queued AFTER INSERT ON fanouts "
                   "FOR EACH STATEMENT EXECUTE FUNCTION madeopen_queued()")


def downgrade() -> None:
    # Unexpanded rows would be lost: write their deliveries first (the delivery worker does, if it runs).
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS fanouts_queued ON fanouts")
    op.drop_index('ix_fanouts_group_id', table_name='fanouts')
    op.drop_table('fanouts')
