"""the board: kinds, statuses, official responses and accepted answers of threads (issue #12)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 09:00:00

Plain ``ADD COLUMN`` s (no SQLite batch copy of ``objects``), two new tables, and partial indexes over the
board's rows (``kind IS NOT NULL``): one per sort key (net votes, published, answered, votes of the last
7 days), alone and after a
kind or status filter, so a board's first page is an index range scan on 20,000 threads (bench/board.py).
"""

from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

ON_BOARD = sa.text('kind IS NOT NULL')
SORT_COLUMNS = {'top': 'net_votes', 'new': 'published', 'answered': 'answered_at', 'trending': 'trend_votes'}
PREFIXES = {'': [], 'kind_': ['kind'], 'status_': ['status']}


def _board_indexes() -> dict[str, list[str]]:
    made = {f'ix_board_{prefix}{sort}': ['group_id', *columns, column, 'id', 'deleted']
            for sort, column in SORT_COLUMNS.items() for prefix, columns in PREFIXES.items()}
    made['ix_board_counts'] = ['group_id', 'kind', 'status', 'deleted']  # counts per status, index only
    return made


# board_counts: live board threads per group, kind and status, kept by the database itself.
_COUNTED = "{row}.kind IS NOT NULL AND {row}.group_id IS NOT NULL AND NOT {row}.deleted"
_DECREMENT = ("UPDATE board_counts SET count = count - 1 WHERE group_id = {row}.group_id AND kind = {row}.kind "
              "AND status = coalesce({row}.status, '')")
_INCREMENT = ("INSERT INTO board_counts (group_id, kind, status, count) "
              "SELECT {row}.group_id, {row}.kind, coalesce({row}.status, ''), 1 WHERE " + _COUNTED +
              " ON CONFLICT (group_id, kind, status) DO UPDATE SET count = board_counts.count + 1")
SQLITE_TRIGGERS = [
    "CREATE TRIGGER board_counts_insert AFTER INSERT ON objects BEGIN "
    + _INCREMENT.format(row="new") + "; END",
    "CREATE TRIGGER board_counts_delete AFTER DELETE ON objects WHEN " + _COUNTED.format(row="old")
    + " BEGIN " + _DECREMENT.format(row="old") + "; END",
    "CREATE TRIGGER board_counts_update AFTER UPDATE OF kind, status, deleted, group_id ON objects BEGIN "
    + _DECREMENT.format(row="old") + " AND " + _COUNTED.format(row="old") + "; "
    + _INCREMENT.format(row="new") + "; END",
]
POSTGRESQL_TRIGGERS = [
    "CREATE FUNCTION board_counts_track() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "IF TG_OP IN ('UPDATE', 'DELETE') AND " + _COUNTED.format(row="OLD") + " THEN "
    + _DECREMENT.format(row="OLD") + "; END IF; "
    "IF TG_OP IN ('UPDATE', 'INSERT') THEN " + _INCREMENT.format(row="NEW") + "; END IF; "
    "RETURN NULL; END $$",
    "CREATE TRIGGER board_counts_insert_delete AFTER INSERT OR DELETE ON objects "
    "FOR EACH ROW EXECUTE FUNCTION board_counts_track()",
    "CREATE TRIGGER board_counts_update AFTER UPDATE OF kind, status, deleted, group_id ON objects "
    "FOR EACH ROW EXECUTE FUNCTION board_counts_track()",
]


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
        'board_counts',
        sa.Column('group_id', sa.Integer(), sa.ForeignKey('groups.actor_id', ondelete='CASCADE'), primary_key=True),
        sa.Column('kind', sa.String(length=16), primary_key=True),
        sa.Column('status', sa.String(length=16), primary_key=True),
        sa.Column('count', sa.Integer(), nullable=False, server_default='0'),
    )
    dialect = op.get_bind().dialect.name
    for statement in SQLITE_TRIGGERS if dialect == 'sqlite' else POSTGRESQL_TRIGGERS:
        op.execute(statement)
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
    if op.get_bind().dialect.name == 'sqlite':
        for name in ('board_counts_insert', 'board_counts_delete', 'board_counts_update'):
            op.execute(f'DROP TRIGGER {name}')
    else:
        op.execute('DROP TRIGGER board_counts_insert_delete ON objects')
        op.execute('DROP TRIGGER board_counts_update ON objects')
        op.execute('DROP FUNCTION board_counts_track()')
    op.drop_table('board_counts')
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
