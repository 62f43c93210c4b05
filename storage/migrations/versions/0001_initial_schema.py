"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-25 19:31:43.021760
"""

from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table('activities',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uri', sa.String(length=2048), nullable=False),
    sa.Column('actor_uri', sa.String(length=2048), nullable=False),
    sa.Column('type', sa.String(length=32), nullable=False),
    sa.Column('object_uri', sa.String(length=2048), nullable=True),
    sa.Column('public', sa.Boolean(), nullable=False),
    sa.Column('document', sa.JSON(), nullable=False),
    sa.Column('published', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('uri')
    )
    with op.batch_alter_table('activities', schema=None) as batch_op:
        batch_op.create_index('ix_activities_actor_published', ['actor_uri', 'published'], unique=False)
        batch_op.create_index(batch_op.f('ix_activities_object_uri'), ['object_uri'], unique=False)

    op.create_table('domain_blocks',
    sa.Column('domain', sa.String(length=255), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('domain')
    )
    op.create_table('follows',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('follower_uri', sa.String(length=2048), nullable=False),
    sa.Column('followee_uri', sa.String(length=2048), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('activity_uri', sa.String(length=2048), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('follower_uri', 'followee_uri')
    )
    with op.batch_alter_table('follows', schema=None) as batch_op:
        batch_op.create_index('ix_follows_followee', ['followee_uri'], unique=False)

    op.create_table('hosts',
    sa.Column('host', sa.String(length=255), nullable=False),
    sa.Column('first_failure_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_failure_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_success_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('failure_days', sa.Integer(), nullable=False),
    sa.Column('unavailable', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('host')
    )
    op.create_table('inbound_activities',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('activity_id', sa.String(length=2048), nullable=True),
    sa.Column('actor_uri', sa.String(length=2048), nullable=False),
    sa.Column('key_id', sa.String(length=2048), nullable=False),
    sa.Column('recipient', sa.String(length=2048), nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('lease_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('activity_id')
    )
    with op.batch_alter_table('inbound_activities', schema=None) as batch_op:
        batch_op.create_index('ix_inbound_state_id', ['state', 'id'], unique=False)

    op.create_table('local_actors',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('actor_type', sa.String(length=16), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('display_name', sa.String(length=200), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('rsa_private_pem', sa.Text(), nullable=False),
    sa.Column('rsa_public_pem', sa.Text(), nullable=False),
    sa.Column('ed25519_private_pem', sa.Text(), nullable=False),
    sa.Column('ed25519_public_pem', sa.Text(), nullable=False),
    sa.Column('discoverable', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('username')
    )
    op.create_table('node_settings',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('key')
    )
    op.create_table('reactions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('actor_uri', sa.String(length=2048), nullable=False),
    sa.Column('object_uri', sa.String(length=2048), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('activity_uri', sa.String(length=2048), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('activity_uri'),
    sa.UniqueConstraint('actor_uri', 'object_uri', 'kind')
    )
    with op.batch_alter_table('reactions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reactions_object_uri'), ['object_uri'], unique=False)

    op.create_table('remote_actors',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uri', sa.String(length=2048), nullable=False),
    sa.Column('actor_type', sa.String(length=32), nullable=False),
    sa.Column('username', sa.String(length=255), nullable=False),
    sa.Column('domain', sa.String(length=255), nullable=False),
    sa.Column('display_name', sa.String(length=500), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('url', sa.String(length=2048), nullable=True),
    sa.Column('inbox', sa.String(length=2048), nullable=False),
    sa.Column('shared_inbox', sa.String(length=2048), nullable=True),
    sa.Column('outbox', sa.String(length=2048), nullable=True),
    sa.Column('followers', sa.String(length=2048), nullable=True),
    sa.Column('document', sa.JSON(), nullable=False),
    sa.Column('fetched_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('uri')
    )
    with op.batch_alter_table('remote_actors', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_remote_actors_domain'), ['domain'], unique=False)

    op.create_table('accounts',
    sa.Column('actor_id', sa.Integer(), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=True),
    sa.Column('is_admin', sa.Boolean(), nullable=False),
    sa.Column('suspended', sa.Boolean(), nullable=False),
    sa.Column('last_active_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['actor_id'], ['local_actors.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('actor_id'),
    sa.UniqueConstraint('email')
    )
    op.create_table('deliveries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('activity_id', sa.Integer(), nullable=False),
    sa.Column('signer_id', sa.Integer(), nullable=False),
    sa.Column('inbox', sa.String(length=2048), nullable=False),
    sa.Column('host', sa.String(length=255), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('lease_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('bypass_host_health', sa.Boolean(), nullable=False),
    sa.Column('last_status', sa.Integer(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['activity_id'], ['activities.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['signer_id'], ['local_actors.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('activity_id', 'inbox')
    )
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.create_index('ix_deliveries_due', ['state', 'next_attempt_at'], unique=False)
        batch_op.create_index('ix_deliveries_host_state', ['host', 'state'], unique=False)

    op.create_table('groups',
    sa.Column('actor_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('visibility', sa.String(length=16), nullable=False),
    sa.Column('posting_restricted_to_mods', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['local_actors.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('actor_id')
    )
    op.create_table('remote_keys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key_id', sa.String(length=2048), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=False),
    sa.Column('public_key_pem', sa.Text(), nullable=False),
    sa.Column('fetched_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['remote_actors.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('key_id')
    )
    with op.batch_alter_table('remote_keys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_remote_keys_actor_id'), ['actor_id'], unique=False)

    op.create_table('featured',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('object_uri', sa.String(length=2048), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['group_id'], ['groups.actor_id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('group_id', 'object_uri')
    )
    op.create_table('flags',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=True),
    sa.Column('reporter_uri', sa.String(length=2048), nullable=False),
    sa.Column('object_uris', sa.JSON(), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('activity_uri', sa.String(length=2048), nullable=True),
    sa.Column('resolved', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['group_id'], ['groups.actor_id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('memberships',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('local_actor_id', sa.Integer(), nullable=True),
    sa.Column('remote_actor_id', sa.Integer(), nullable=True),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('follow_activity_uri', sa.String(length=2048), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('(local_actor_id IS NULL) != (remote_actor_id IS NULL)', name='one_member'),
    sa.ForeignKeyConstraint(['group_id'], ['groups.actor_id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['local_actor_id'], ['local_actors.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['remote_actor_id'], ['remote_actors.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('group_id', 'local_actor_id'),
    sa.UniqueConstraint('group_id', 'remote_actor_id')
    )
    with op.batch_alter_table('memberships', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_memberships_group_id'), ['group_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_memberships_local_actor_id'), ['local_actor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_memberships_remote_actor_id'), ['remote_actor_id'], unique=False)

    op.create_table('objects',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uri', sa.String(length=2048), nullable=False),
    sa.Column('local', sa.Boolean(), nullable=False),
    sa.Column('type', sa.String(length=32), nullable=False),
    sa.Column('author_uri', sa.String(length=2048), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=True),
    sa.Column('audience_uri', sa.String(length=2048), nullable=True),
    sa.Column('in_reply_to_uri', sa.String(length=2048), nullable=True),
    sa.Column('context_uri', sa.String(length=2048), nullable=True),
    sa.Column('name', sa.String(length=500), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('source', sa.Text(), nullable=True),
    sa.Column('public', sa.Boolean(), nullable=False),
    sa.Column('document', sa.JSON(), nullable=False),
    sa.Column('published', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated', sa.DateTime(timezone=True), nullable=True),
    sa.Column('deleted', sa.Boolean(), nullable=False),
    sa.Column('locked', sa.Boolean(), nullable=False),
    sa.Column('reply_count', sa.Integer(), nullable=False),
    sa.Column('like_count', sa.Integer(), nullable=False),
    sa.Column('dislike_count', sa.Integer(), nullable=False),
    sa.Column('last_activity_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['group_id'], ['groups.actor_id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('uri')
    )
    with op.batch_alter_table('objects', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_objects_author_uri'), ['author_uri'], unique=False)
        batch_op.create_index('ix_objects_context', ['context_uri'], unique=False)
        batch_op.create_index('ix_objects_group_published', ['group_id', 'published'], unique=False)
        batch_op.create_index('ix_objects_reply', ['in_reply_to_uri'], unique=False)




def downgrade() -> None:

    with op.batch_alter_table('objects', schema=None) as batch_op:
        batch_op.drop_index('ix_objects_reply')
        batch_op.drop_index('ix_objects_group_published')
        batch_op.drop_index('ix_objects_context')
        batch_op.drop_index(batch_op.f('ix_objects_author_uri'))

    op.drop_table('objects')
    with op.batch_alter_table('memberships', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_memberships_remote_actor_id'))
        batch_op.drop_index(batch_op.f('ix_memberships_local_actor_id'))
        batch_op.drop_index(batch_op.f('ix_memberships_group_id'))

    op.drop_table('memberships')
    op.drop_table('flags')
    op.drop_table('featured')
    with op.batch_alter_table('remote_keys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_remote_keys_actor_id'))

    op.drop_table('remote_keys')
    op.drop_table('groups')
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.drop_index('ix_deliveries_host_state')
        batch_op.drop_index('ix_deliveries_due')

    op.drop_table('deliveries')
    op.drop_table('accounts')
    with op.batch_alter_table('remote_actors', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_remote_actors_domain'))

    op.drop_table('remote_actors')
    with op.batch_alter_table('reactions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reactions_object_uri'))

    op.drop_table('reactions')
    op.drop_table('node_settings')
    op.drop_table('local_actors')
    with op.batch_alter_table('inbound_activities', schema=None) as batch_op:
        batch_op.drop_index('ix_inbound_state_id')

    op.drop_table('inbound_activities')
    op.drop_table('hosts')
    with op.batch_alter_table('follows', schema=None) as batch_op:
        batch_op.drop_index('ix_follows_followee')

    op.drop_table('follows')
    op.drop_table('domain_blocks')
    with op.batch_alter_table('activities', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_activities_object_uri'))
        batch_op.drop_index('ix_activities_actor_published')

    op.drop_table('activities')

