"""recognition: weights, kudos, badges (awarded and received), rewards, redemptions, ranking opt-outs (issue #17)

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-04 14:10:00

New tables only; no existing table is touched. Points are not stored: they are derived from the facts
(content/recognition/ledger.py).
"""

from alembic import op
import sqlalchemy as sa


revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'recognition_settings',
        sa.Column('group_id', sa.Integer(), nullable=False),
        sa.Column('weights', sa.JSON(), nullable=False),
        sa.Column('daily_cap', sa.Integer(), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['group_id'], ['groups.actor_id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('group_id'),
    )
    op.create_table(
        'kudos',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('group_id', sa.Integer(), nullable=False),
        sa.Column('object_id', sa.Integer(), nullable=False),
        sa.Column('giver_uri', sa.String(length=2048), nullable=False),
        sa.Column('activity_uri', sa.String(length=2048), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['group_id'], ['groups.actor_id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['object_id'], ['objects.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('object_id', 'giver_uri'),
        sa.UniqueConstraint('activity_uri'),
    )
    op.create_index('ix_kudos_group', 'kudos', ['group_id', 'created_at'])
    op.create_table(
        'badge_awards',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('group_id', sa.Integer(), nullable=False),
        sa.Column('member_uri', sa.String(length=2048), nullable=False),
        sa.Column('badge', sa.String(length=80), nullable=False),
        sa.Column('name', sa.String(length=80), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('granted_by_uri', sa.String(length=2048), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['group_id'], ['groups.actor_id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('group_id', 'member_uri', 'badge'),
    )
    op.create_index('ix_badge_awards_group_id', 'badge_awards', ['group_id'])
    op.create_index('ix_badge_awards_member_uri', 'badge_awards', ['member_uri'])
    op.create_table(
        'received_badges',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('actor_id', sa.Integer(), nullable=False),
        sa.Column('award_uri', sa.String(length=2048), nullable=False),
        sa.Column('group_uri', sa.String(length=2048), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('description', sa.Text(), nullable=False),
        sa.Column('document', sa.JSON(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['actor_id'], ['local_actors.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('award_uri'),
    )
    op.create_index('ix_received_badges_actor_id', 'received_badges', ['actor_id'])
    op.create_table(
        'rewards',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('group_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=120), nullable=False),
        sa.Column('cost', sa.Integer(), nullable=False),
        sa.Column('description', sa.Text(), nullable=False),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint('cost > 0', name='reward_cost_positive'),
        sa.ForeignKeyConstraint(['group_id'], ['groups.actor_id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_rewards_group_id', 'rewards', ['group_id'])
    op.create_table(
        'redemptions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('group_id', sa.Integer(), nullable=False),
        sa.Column('reward_id', sa.Integer(), nullable=False),
        sa.Column('member_uri', sa.String(length=2048), nullable=False),
        sa.Column('cost', sa.Integer(), nullable=False),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('fulfilled_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('fulfilled_by_uri', sa.String(length=2048), nullable=True),
        sa.ForeignKeyConstraint(['group_id'], ['groups.actor_id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['reward_id'], ['rewards.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_redemptions_member', 'redemptions', ['group_id', 'member_uri'])
    op.create_table(
        'recognition_optouts',
        sa.Column('actor_uri', sa.String(length=2048), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('actor_uri'),
    )


def downgrade() -> None:
    for table in ('recognition_optouts', 'redemptions', 'rewards', 'received_badges', 'badge_awards', 'kudos', 'recognition_settings'):
        op.drop_table(table)
