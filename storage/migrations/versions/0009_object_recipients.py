"""object recipients: the ids a remote post is addressed to (who may read a non-public one)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 08:45:00

A new table, filled for the remote posts already stored from their documents' ``to``/``cc``/``audience``
and Mention tags (what storage.models.ObjectRecipient keeps for new ones). No existing table is touched.
"""

from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

TABLE = 'object_recipients'
BATCH = 500


def _recipients(document: object) -> list[str]:
    if not isinstance(document, dict):
        return []
    found: list[str] = []
    for key in ('audience', 'to', 'cc'):
        value = document.get(key)
        found += [v for v in (value if isinstance(value, list) else [value]) if isinstance(v, str)]
    tags = document.get('tag')
    for tag in tags if isinstance(tags, list) else []:
        if isinstance(tag, dict) and tag.get('type') == 'Mention' and isinstance(tag.get('href'), str):
            found.append(tag['href'])
    return [uri for uri in dict.fromkeys(found) if len(uri) <= 2048]


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('object_id', sa.Integer(), nullable=False),
        sa.Column('uri', sa.String(length=2048), nullable=False),
        sa.ForeignKeyConstraint(['object_id'], ['objects.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('object_id', 'uri'),
    )
    op.create_index('ix_object_recipients_uri', TABLE, ['uri'])
    objects = sa.table('objects', sa.column('id', sa.Integer), sa.column('local', sa.Boolean),
                       sa.column('deleted', sa.Boolean), sa.column('document', sa.JSON))
    recipients = sa.table(TABLE, sa.column('object_id', sa.Integer), sa.column('uri', sa.String))
    bind = op.get_bind()
    last = 0
    while True:
        rows = bind.execute(
            sa.select(objects.c.id, objects.c.document)
            .where(objects.c.id > last, objects.c.local.is_(False), objects.c.deleted.is_(False))
            .order_by(objects.c.id).limit(BATCH)
        ).all()
        if not rows:
            break
        values = [{'object_id': row_id, 'uri': uri} for row_id, document in rows for uri in _recipients(document)]
        if values:
            bind.execute(sa.insert(recipients), values)
        last = rows[-1][0]


def downgrade() -> None:
    op.drop_index('ix_object_recipients_uri', table_name=TABLE)
    op.drop_table(TABLE)
