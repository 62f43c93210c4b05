"""account mail: pending addresses, confirmation and password-reset links, reset requests (actors/account_mail.py)

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-04 14:00:00

Existing accounts keep their address (``accounts.email``, confirmed by definition) and can log in as before.
"""

from alembic import op
import sqlalchemy as sa


revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('accounts', sa.Column('pending_email', sa.String(length=320), nullable=True))
    op.add_column('accounts', sa.Column('confirmation_pending', sa.Boolean(), nullable=False, server_default=sa.false()))
    # Addresses are looked up without regard to case (actors/addresses.py: a reset request, a new address).
    op.create_index('ix_accounts_email_lower', 'accounts', [sa.text('lower(email)')])
    op.create_table(
        'account_tokens',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('actor_id', sa.Integer(), nullable=False),
        sa.Column('purpose', sa.String(length=16), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('email', sa.String(length=320), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['actor_id'], ['local_actors.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('token_hash'),
    )
    op.create_index('ix_account_tokens_actor_id', 'account_tokens', ['actor_id'])
    op.create_index('ix_account_tokens_expires_at', 'account_tokens', ['expires_at'])
    op.create_table(
        'mail_requests',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('email_key', sa.String(length=64), nullable=False),
        sa.Column('client', sa.String(length=64), nullable=False),
        sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_mail_requests_email', 'mail_requests', ['email_key', 'requested_at'])
    op.create_index('ix_mail_requests_client', 'mail_requests', ['client', 'requested_at'])
    op.create_index('ix_mail_requests_requested_at', 'mail_requests', ['requested_at'])


def downgrade() -> None:
    op.drop_table('mail_requests')
    op.drop_table('account_tokens')
    op.drop_index('ix_accounts_email_lower', table_name='accounts')
    with op.batch_alter_table('accounts') as batch:
        batch.drop_column('confirmation_pending')
        batch.drop_column('pending_email')
