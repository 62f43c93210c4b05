"""the board: kinds, statuses, official responses and accepted answers of threads (issue #12)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 09:00:00

Plain ``ADD COLUMN`` s (no SQLite batch copy of ``objects``), two new tables, and partial indexes over the
board's rows (``kind IS NOT NULL``): one per sort key (net votes, published, answered, votes of the last
7 days), alone and after a
kind or status filter, so a board's first page is an index range scan on 20,000 threads (bench/board.py).
"""

from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

ON_BOARD = sa.text('kind IS NOT NULL')
SORT_COLUMNS = {'top': 'net_votes', 'new': 'published', 'answered': 'answered_at', 'trending': 'trend_votes'}
PREFIXES = {'': [], 'kind_': ['kind'], 'status_': ['status']}


def _board_indexes() -> dict[str, list[str]]:
    made = {f'ix_board_{prefix}{sort}': ['group_id', *columns, column, 'id']
            for sort, column in SORT_COLUMNS.items() for prefix, columns in PREFIXES.items()}
    made['ix_board_counts'] = ['group_id', 'kind', 'status', 'deleted']  # counts per status, index only
    return made


def upgrade() -> None:
    op.add_column('objects', sa.Column('kind', sa.String(length=16), nullable=True))
    op.add_column('objects', sa.Column('status', sa.String(length=16), nullable=True))
    op.add_column('objects', sa.Column('net_votes', sa.Integer(), nullable=False, server_default='0'))
    op.add_column('objects', sa.Column('trend_votes', sa.Integer(), nullable=False, server_default='0'))
    op.add_column('objects', sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('objects', sa.Column('accepted_answer_uri', sa.String(length=2048), nullable=True))
    op.add_column('objects', sa.Column('duplicate_of_uri', sa.String(length=2048), nullable=True))
    op.add_column('objects', sa.Column('official', sa.Boolean(), nullable=False, server_default=sa.false()))
    op.execute('UPDATE objects SET net_votes = like_count - dislike_count')
    op.add_column('groups', sa.Column('default_kind', sa.String(length=16), nullable=False,
                                      server_default='discussion'))
    for name, columns in _board_indexes().items():
        op.create_index(name, 'objects', columns, sqlite_where=ON_BOARD, postgresql_where=ON_BOARD)
    op.create_index('ix_reactions_created', 'reactions', ['created_at'])  # ages trend_votes (the pruner)
    op.create_table(
        'status_changes',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('object_id', sa.Integer(), sa.ForeignKey('objects.id', ondelete='CASCADE'), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('previous', sa.String(length=16), nullable=True),
        sa.Column('actor_uri', sa.String(length=2048), nullable=False),
        sa.Column('response_uri', sa.String(length=2048), nullable=True),
        sa.Column('duplicate_of_uri', sa.String(length=2048), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index('ix_status_changes_object_id', 'status_changes', ['object_id'])
    op.create_table(
        'thread_followers',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('object_id', sa.Integer(), sa.ForeignKey('objects.id', ondelete='CASCADE'), nullable=False),
        sa.Column('actor_uri', sa.String(length=2048), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint('object_id', 'actor_uri'),
    )
    op.create_index('ix_thread_followers_actor_uri', 'thread_followers', ['actor_uri'])


def downgrade() -> None:
    op.drop_table('thread_followers')
    op.drop_table('status_changes')
    op.drop_index('ix_reactions_created', table_name='reactions')
    for name in _board_indexes():
        op.drop_index(name, table_name='objects')
    with op.batch_alter_table('groups') as batch_op:
        batch_op.drop_column('default_kind')
    with op.batch_alter_table('objects') as batch_op:
        for column in ('official', 'duplicate_of_uri', 'accepted_answer_uri', 'answered_at', 'trend_votes', 'net_votes',
                       'status', 'kind'):
            batch_op.drop_column(column)
