"""projects and tasks (issue #14): projects, project_tasks, task_assignees, task_comments, project_invites

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-04 14:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None

URI = sa.String(length=2048)
WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        'projects',
        sa.Column('group_id', sa.Integer(), sa.ForeignKey('groups.actor_id', ondelete='CASCADE'), nullable=False),
        sa.Column('origin_uri', URI, nullable=True),
        sa.Column('joining', sa.String(length=16), nullable=False),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('outcome', sa.Text(), nullable=False),
        sa.Column('started_by_uri', URI, nullable=False),
        sa.Column('created_at', WHEN, nullable=False),
        sa.Column('closed_at', WHEN, nullable=True),
        sa.PrimaryKeyConstraint('group_id'),
    )
    op.create_index('ix_projects_origin_uri', 'projects', ['origin_uri'])
    op.create_table(
        'project_tasks',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('uri', URI, nullable=False),
        sa.Column('project_uri', URI, nullable=False),
        sa.Column('group_id', sa.Integer(), sa.ForeignKey('groups.actor_id', ondelete='CASCADE'), nullable=True),
        sa.Column('title', sa.String(length=200), nullable=False),
        sa.Column('source', sa.Text(), nullable=False),
        sa.Column('content', sa.Text(), nullable=False),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('due', sa.Date(), nullable=True),
        sa.Column('created_by_uri', URI, nullable=False),
        sa.Column('created_at', WHEN, nullable=False),
        sa.Column('updated_at', WHEN, nullable=True),
        sa.Column('done_at', WHEN, nullable=True),
        sa.Column('done_by_uri', URI, nullable=True),
        sa.Column('document', sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('uri'),
    )
    op.create_index('ix_project_tasks_project', 'project_tasks', ['project_uri', 'state'])
    op.create_table(
        'task_assignees',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('task_id', sa.Integer(), sa.ForeignKey('project_tasks.id', ondelete='CASCADE'), nullable=False),
        sa.Column('actor_uri', URI, nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('task_id', 'actor_uri'),
    )
    op.create_index('ix_task_assignees_actor_uri', 'task_assignees', ['actor_uri'])
    op.create_table(
        'task_comments',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('task_id', sa.Integer(), sa.ForeignKey('project_tasks.id', ondelete='CASCADE'), nullable=False),
        sa.Column('uri', URI, nullable=False),
        sa.Column('author_uri', URI, nullable=False),
        sa.Column('source', sa.Text(), nullable=False),
        sa.Column('content', sa.Text(), nullable=False),
        sa.Column('created_at', WHEN, nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('uri'),
    )
    op.create_index('ix_task_comments_task_id', 'task_comments', ['task_id'])
    op.create_table(
        'project_invites',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('project_uri', URI, nullable=False),
        sa.Column('group_id', sa.Integer(), sa.ForeignKey('groups.actor_id', ondelete='CASCADE'), nullable=True),
        sa.Column('project_name', sa.String(length=500), nullable=False),
        sa.Column('actor_uri', URI, nullable=False),
        sa.Column('invited_by_uri', URI, nullable=False),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('activity_uri', URI, nullable=True),
        sa.Column('created_at', WHEN, nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('project_uri', 'actor_uri'),
    )
    op.create_index('ix_project_invites_actor_uri', 'project_invites', ['actor_uri'])


def downgrade() -> None:
    for table in ('project_invites', 'task_comments', 'task_assignees', 'project_tasks', 'projects'):
        op.drop_table(table)
