"""boosts: who boosted which post we hold, and the count on the post (issue #16, microblogging)

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-04 20:50:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None


# Our people's boosts made before this revision are in their outboxes: the latest ``Announce`` by a person
# (``/users/``; a group's announces are FEP-1b12 distribution) of a post we hold, not followed by an
# ``Undo`` of it. Remote boosts of our posts were never stored: they count from their next Announce on.
_STANDING_LOCAL_BOOSTS = """
INSERT INTO boosts (actor_uri, object_uri, activity_uri, created_at)
SELECT a.actor_uri, a.object_uri, a.uri, a.published FROM activities a
WHERE a.type = 'Announce' AND a.actor_uri LIKE '%/users/%'
  AND a.id = (SELECT max(b.id) FROM activities b
              WHERE b.type = 'Announce' AND b.actor_uri = a.actor_uri AND b.object_uri = a.object_uri)
  AND EXISTS (SELECT 1 FROM objects o WHERE o.uri = a.object_uri)
  AND NOT EXISTS (SELECT 1 FROM activities u WHERE u.type = 'Undo' AND u.actor_uri = a.actor_uri
                  AND u.object_uri = a.uri)
"""
_COUNTS = """
UPDATE objects SET boost_count = (SELECT count(*) FROM boosts WHERE boosts.object_uri = objects.uri)
WHERE uri IN (SELECT object_uri FROM boosts)
"""


def upgrade() -> None:
    op.create_table(
        'boosts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('actor_uri', sa.String(length=2048), nullable=False),
        sa.Column('object_uri', sa.String(length=2048), nullable=False),
        sa.Column('activity_uri', sa.String(length=2048), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('activity_uri'),
        sa.UniqueConstraint('actor_uri', 'object_uri'),
    )
    op.create_index('ix_boosts_object_uri', 'boosts', ['object_uri'], unique=False)
    # A plain ADD COLUMN (no batch copy on SQLite), so the search triggers on ``objects`` stay.
    op.add_column('objects', sa.Column('boost_count', sa.Integer(), server_default=sa.text('0'), nullable=False))
    op.execute(_STANDING_LOCAL_BOOSTS)
    op.execute(_COUNTS)


def downgrade() -> None:
    op.drop_column('objects', 'boost_count')
    op.drop_index('ix_boosts_object_uri', table_name='boosts')
    op.drop_table('boosts')
