"""docs: a group's living documents, their revisions, proposed edits and comment marks (issue #18)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-04 14:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'doc_settings',
        sa.Column('group_id', sa.Integer(), sa.ForeignKey('groups.actor_id', ondelete='CASCADE'), primary_key=True),
        sa.Column('editors', sa.String(length=16), nullable=False),
    )
    op.create_table(
        'docs',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('group_id', sa.Integer(), sa.ForeignKey('groups.actor_id', ondelete='CASCADE'), nullable=False),
        sa.Column('object_id', sa.Integer(), sa.ForeignKey('objects.id', ondelete='CASCADE'), nullable=False,
                  unique=True),
        sa.Column('parent_id', sa.Integer(), sa.ForeignKey('docs.id', ondelete='SET NULL'), nullable=True),
        sa.Column('title', sa.String(length=200), nullable=False),
        sa.Column('tags', sa.JSON(), nullable=False),
        sa.Column('head', sa.Integer(), nullable=False),
        sa.Column('deleted', sa.Boolean(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index('ix_docs_group', 'docs', ['group_id', 'deleted', 'title'])
    op.create_table(
        'doc_revisions',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('doc_id', sa.Integer(), sa.ForeignKey('docs.id', ondelete='CASCADE'), nullable=False),
        sa.Column('number', sa.Integer(), nullable=False),
        sa.Column('title', sa.String(length=200), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('summary', sa.String(length=300), nullable=False),
        sa.Column('author_uri', sa.String(length=2048), nullable=False),
        sa.Column('accepted_by_uri', sa.String(length=2048), nullable=True),
        sa.Column('proposal_id', sa.Integer(), nullable=True),
        sa.Column('restored_from', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint('doc_id', 'number'),
    )
    op.create_index('ix_doc_revisions_created_at', 'doc_revisions', ['created_at'])
    op.create_table(
        'doc_proposals',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('doc_id', sa.Integer(), sa.ForeignKey('docs.id', ondelete='CASCADE'), nullable=False),
        sa.Column('base', sa.Integer(), nullable=False),
        sa.Column('title', sa.String(length=200), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('proposer_uri', sa.String(length=2048), nullable=False),
        sa.Column('offer_uri', sa.String(length=2048), nullable=True, unique=True),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('response', sa.Text(), nullable=False),
        sa.Column('decided_by_uri', sa.String(length=2048), nullable=True),
        sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('revision', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index('ix_doc_proposals_doc_state', 'doc_proposals', ['doc_id', 'state'])
    op.create_table(
        'doc_comment_marks',
        sa.Column('object_id', sa.Integer(), sa.ForeignKey('objects.id', ondelete='CASCADE'), primary_key=True),
        sa.Column('doc_id', sa.Integer(), sa.ForeignKey('docs.id', ondelete='CASCADE'), nullable=False),
        sa.Column('anchor', sa.String(length=80), nullable=True),
        sa.Column('resolved_by_uri', sa.String(length=2048), nullable=True),
        sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index('ix_doc_comment_marks_doc_id', 'doc_comment_marks', ['doc_id'])


def downgrade() -> None:
    op.drop_table('doc_comment_marks')
    op.drop_table('doc_proposals')
    op.drop_table('doc_revisions')
    op.drop_table('docs')
    op.drop_table('doc_settings')
