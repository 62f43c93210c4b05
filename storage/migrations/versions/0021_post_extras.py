"""post extras: attachments (images, files) and hashtags of posts (storage/models/post_extras.py)

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-04 14:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'post_attachments',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('object_id', sa.Integer(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('url', sa.String(length=2048), nullable=False),
        sa.Column('media_type', sa.String(length=100), nullable=True),
        sa.Column('name', sa.String(length=1500), nullable=False),
        sa.Column('width', sa.Integer(), nullable=True),
        sa.Column('height', sa.Integer(), nullable=True),
        sa.Column('local', sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(['object_id'], ['objects.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_post_attachments_object_id', 'post_attachments', ['object_id'])
    op.create_table(
        'post_hashtags',
        sa.Column('object_id', sa.Integer(), nullable=False),
        sa.Column('tag', sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(['object_id'], ['objects.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('object_id', 'tag'),
    )
    op.create_index('ix_post_hashtags_tag', 'post_hashtags', ['tag', 'object_id'])


def downgrade() -> None:
    op.drop_index('ix_post_hashtags_tag', table_name='post_hashtags')
    op.drop_table('post_hashtags')
    op.drop_index('ix_post_attachments_object_id', table_name='post_attachments')
    op.drop_table('post_attachments')
