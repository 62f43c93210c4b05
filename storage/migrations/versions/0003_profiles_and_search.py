"""profiles (skills, interests, location), profile tags, full-text search

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 10:00:00

Full text, per dialect (see storage/models/profiles.py for how each index is kept in sync):

- SQLite: FTS5 tables ``profiles_fts`` (external content over profiles.search_text, three triggers) and
  ``objects_fts`` (plain text of posts, written by people.index.sync from ids the objects triggers queue).
- PostgreSQL: stored generated ``tsvector`` columns ``profiles.search_vector`` and
  ``objects.search_vector`` with GIN indexes.
- Both: triggers queue local actors whose name, summary, discoverability, group visibility or account
  state changed in ``search_pending``.

Existing actors and posts are queued once here, so the first search after the upgrade indexes them
(remote actors' documents are parsed then too).
"""

from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

TOKENIZER = "porter unicode61 remove_diacritics 2"

SQLITE_UP = [
    f"CREATE VIRTUAL TABLE profiles_fts USING fts5(search_text, content='profiles', content_rowid='id', "
    f"tokenize='{TOKENIZER}')",
    "CREATE TRIGGER profiles_fts_insert AFTER INSERT ON profiles BEGIN "
    "INSERT INTO profiles_fts(rowid, search_text) VALUES (new.id, new.search_text); END",
    "CREATE TRIGGER profiles_fts_delete AFTER DELETE ON profiles BEGIN "
    "INSERT INTO profiles_fts(profiles_fts, rowid, search_text) VALUES ('delete', old.id, old.search_text); END",
    "CREATE TRIGGER profiles_fts_update AFTER UPDATE OF search_text ON profiles BEGIN "
    "INSERT INTO profiles_fts(profiles_fts, rowid, search_text) VALUES ('delete', old.id, old.search_text); "
    "INSERT INTO profiles_fts(rowid, search_text) VALUES (new.id, new.search_text); END",
    f"CREATE VIRTUAL TABLE objects_fts USING fts5(title, body, tokenize='{TOKENIZER}')",
    "CREATE TRIGGER objects_search_insert AFTER INSERT ON objects BEGIN "
    "INSERT OR IGNORE INTO search_pending(kind, ref_id) VALUES ('object', new.id); END",
    "CREATE TRIGGER objects_search_update AFTER UPDATE OF name, content, deleted ON objects BEGIN "
    "INSERT OR IGNORE INTO search_pending(kind, ref_id) VALUES ('object', new.id); END",
    "CREATE TRIGGER objects_search_delete AFTER DELETE ON objects BEGIN "
    "INSERT OR IGNORE INTO search_pending(kind, ref_id) VALUES ('object', old.id); END",
    "CREATE TRIGGER local_actors_search AFTER INSERT ON local_actors BEGIN "
    "INSERT OR IGNORE INTO search_pending(kind, ref_id) VALUES ('local', new.id); END",
    "CREATE TRIGGER local_actors_search_update AFTER UPDATE OF display_name, summary, discoverable "
    "ON local_actors BEGIN "
    "INSERT OR IGNORE INTO search_pending(kind, ref_id) VALUES ('local', new.id); END",
    "CREATE TRIGGER groups_search AFTER INSERT ON groups BEGIN "
    "INSERT OR IGNORE INTO search_pending(kind, ref_id) VALUES ('local', new.actor_id); END",
    "CREATE TRIGGER groups_search_update AFTER UPDATE OF visibility ON groups BEGIN "
    "INSERT OR IGNORE INTO search_pending(kind, ref_id) VALUES ('local', new.actor_id); END",
    "CREATE TRIGGER accounts_search AFTER INSERT ON accounts BEGIN "
    "INSERT OR IGNORE INTO search_pending(kind, ref_id) VALUES ('local', new.actor_id); END",
    "CREATE TRIGGER accounts_search_update AFTER UPDATE OF suspended, approval_pending ON accounts BEGIN "
    "INSERT OR IGNORE INTO search_pending(kind, ref_id) VALUES ('local', new.actor_id); END",
    "INSERT INTO search_pending(kind, ref_id) SELECT 'object', id FROM objects",
]
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS accounts_search_update",
    "DROP TRIGGER IF EXISTS accounts_search",
    "DROP TRIGGER IF EXISTS groups_search_update",
    "DROP TRIGGER IF EXISTS groups_search",
    "DROP TRIGGER IF EXISTS local_actors_search_update",
    "DROP TRIGGER IF EXISTS local_actors_search",
    "DROP TRIGGER IF EXISTS objects_search_delete",
    "DROP TRIGGER IF EXISTS objects_search_update",
    "DROP TRIGGER IF EXISTS objects_search_insert",
    "DROP TABLE IF EXISTS objects_fts",
    "DROP TRIGGER IF EXISTS profiles_fts_update",
    "DROP TRIGGER IF EXISTS profiles_fts_delete",
    "DROP TRIGGER IF EXISTS profiles_fts_insert",
    "DROP TABLE IF EXISTS profiles_fts",
]

# to_tsvector with a constant regconfig is immutable, as a generated column requires. The default text
# search parser reads XML/HTML tags as "tag" tokens, which no configuration indexes: post HTML needs no
# stripping here.
POSTGRESQL_UP = [
    "ALTER TABLE profiles ADD COLUMN search_vector tsvector GENERATED ALWAYS AS "
    "(to_tsvector('english'::regconfig, coalesce(search_text, ''))) STORED",
    "CREATE INDEX ix_profiles_search_vector ON profiles USING gin (search_vector)",
    "ALTER TABLE objects ADD COLUMN search_vector tsvector GENERATED ALWAYS AS "
    "(setweight(to_tsvector('english'::regconfig, coalesce(name, '')), 'A') || "
    "setweight(to_tsvector('english'::regconfig, coalesce(content, '')), 'B')) STORED",
    "CREATE INDEX ix_objects_search_vector ON objects USING gin (search_vector)",
    # One function for the three tables; the trigger names the column holding the local actor's id.
    "CREATE FUNCTION madeopen_search_pending() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "BEGIN "
    "INSERT INTO search_pending (kind, ref_id) "
    "VALUES ('local', (to_jsonb(NEW) ->> TG_ARGV[0])::integer) ON CONFLICT DO NOTHING; "
    "RETURN NULL; "
    "END $$",
    "CREATE TRIGGER local_actors_search AFTER INSERT OR UPDATE OF display_name, summary, discoverable "
    "ON local_actors FOR EACH ROW EXECUTE FUNCTION madeopen_search_pending('id')",
    "CREATE TRIGGER groups_search AFTER INSERT OR UPDATE OF visibility "
    "ON groups FOR EACH ROW EXECUTE FUNCTION madeopen_search_pending('actor_id')",
    "CREATE TRIGGER accounts_search AFTER INSERT OR UPDATE OF suspended, approval_pending "
    "ON accounts FOR EACH ROW EXECUTE FUNCTION madeopen_search_pending('actor_id')",
]
POSTGRESQL_DOWN = [
    "DROP TRIGGER IF EXISTS accounts_search ON accounts",
    "DROP TRIGGER IF EXISTS groups_search ON groups",
    "DROP TRIGGER IF EXISTS local_actors_search ON local_actors",
    "DROP FUNCTION IF EXISTS madeopen_search_pending()",
    "DROP INDEX IF EXISTS ix_objects_search_vector",
    "ALTER TABLE objects DROP COLUMN IF EXISTS search_vector",
]


def upgrade() -> None:
    op.create_table('profiles',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('actor_uri', sa.String(length=2048), nullable=False),
    sa.Column('local_actor_id', sa.Integer(), nullable=True),
    sa.Column('remote_actor_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('username', sa.String(length=255), nullable=False),
    sa.Column('domain', sa.String(length=255), nullable=False),
    sa.Column('url', sa.String(length=2048), nullable=True),
    sa.Column('name', sa.String(length=500), nullable=False),
    sa.Column('about', sa.Text(), nullable=False),
    sa.Column('headline', sa.String(length=200), nullable=False),
    sa.Column('skills', sa.JSON(), nullable=False),
    sa.Column('soft_skills', sa.JSON(), nullable=False),
    sa.Column('interests', sa.JSON(), nullable=False),
    sa.Column('skills_wanted', sa.JSON(), nullable=False),
    sa.Column('links', sa.JSON(), nullable=False),
    sa.Column('location_name', sa.String(length=200), nullable=False),
    sa.Column('latitude', sa.Float(), nullable=True),
    sa.Column('longitude', sa.Float(), nullable=True),
    sa.Column('location_precision', sa.String(length=8), nullable=False),
    sa.Column('search_lat', sa.Float(), nullable=True),
    sa.Column('search_lon', sa.Float(), nullable=True),
    sa.Column('discoverable', sa.Boolean(), nullable=False),
    sa.Column('private', sa.Boolean(), nullable=False),
    sa.Column('search_text', sa.Text(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('(local_actor_id IS NULL) != (remote_actor_id IS NULL)', name='profile_one_actor'),
    sa.ForeignKeyConstraint(['local_actor_id'], ['local_actors.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['remote_actor_id'], ['remote_actors.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('actor_uri'),
    sa.UniqueConstraint('local_actor_id'),
    sa.UniqueConstraint('remote_actor_id')
    )
    with op.batch_alter_table('profiles', schema=None) as batch_op:
        batch_op.create_index('ix_profiles_kind_name', ['kind', 'discoverable', 'name'], unique=False)
        batch_op.create_index('ix_profiles_search_lat', ['search_lat', 'search_lon'], unique=False)

    op.create_table('profile_tags',
    sa.Column('profile_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('label', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['profile_id'], ['profiles.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('profile_id', 'kind', 'key')
    )
    with op.batch_alter_table('profile_tags', schema=None) as batch_op:
        batch_op.create_index('ix_profile_tags_key', ['key', 'kind', 'profile_id'], unique=False)

    op.create_table('search_pending',
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('ref_id', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('kind', 'ref_id')
    )

    dialect = op.get_bind().dialect.name
    for statement in SQLITE_UP if dialect == 'sqlite' else POSTGRESQL_UP if dialect == 'postgresql' else []:
        op.execute(statement)
    op.execute(
        "INSERT INTO search_pending(kind, ref_id) "
        "SELECT 'local', id FROM local_actors WHERE actor_type IN ('person', 'group')"
    )
    op.execute("INSERT INTO search_pending(kind, ref_id) SELECT 'remote', id FROM remote_actors")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for statement in SQLITE_DOWN if dialect == 'sqlite' else POSTGRESQL_DOWN if dialect == 'postgresql' else []:
        op.execute(statement)
    op.drop_table('search_pending')
    with op.batch_alter_table('profile_tags', schema=None) as batch_op:
        batch_op.drop_index('ix_profile_tags_key')
    op.drop_table('profile_tags')
    with op.batch_alter_table('profiles', schema=None) as batch_op:
        batch_op.drop_index('ix_profiles_search_lat')
        batch_op.drop_index('ix_profiles_kind_name')
    op.drop_table('profiles')
