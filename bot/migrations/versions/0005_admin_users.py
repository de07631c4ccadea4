"""staff web UI: staff users, the audit log, login attempts for the login limit

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27 10:00:00
"""
from alembic import op
import sqlalchemy as sa
import bot.db


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('staff_users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('disabled', sa.Boolean(), nullable=False),
    sa.Column('created_at', bot.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_login_at', bot.db.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name')
    )
    op.create_table('audit_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', bot.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('target', sa.String(length=200), nullable=True),
    sa.Column('detail', sa.JSON(), nullable=True),
    sa.Column('remote_addr', sa.String(length=64), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.create_index('ix_audit_entries_action', ['action'], unique=False)
        batch_op.create_index('ix_audit_entries_actor', ['actor'], unique=False)
        batch_op.create_index('ix_audit_entries_at', ['at'], unique=False)
    op.create_table('admin_login_attempts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', bot.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('remote_addr', sa.String(length=64), nullable=False),
    sa.Column('failed', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('admin_login_attempts', schema=None) as batch_op:
        batch_op.create_index('ix_admin_login_attempts_addr', ['remote_addr', 'at'], unique=False)
        batch_op.create_index('ix_admin_login_attempts_at', ['at'], unique=False)
        batch_op.create_index('ix_admin_login_attempts_name', ['name', 'at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('admin_login_attempts', schema=None) as batch_op:
        batch_op.drop_index('ix_admin_login_attempts_name')
        batch_op.drop_index('ix_admin_login_attempts_at')
        batch_op.drop_index('ix_admin_login_attempts_addr')
    op.drop_table('admin_login_attempts')
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_entries_at')
        batch_op.drop_index('ix_audit_entries_actor')
        batch_op.drop_index('ix_audit_entries_action')
    op.drop_table('audit_entries')
    op.drop_table('staff_users')
