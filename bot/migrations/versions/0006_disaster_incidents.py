"""disaster: incidents declared by the desk, and residents flagged as testers (訓練)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25 18:05:00
"""
from alembic import op
import sqlalchemy as sa
import bot.db


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('incidents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('hazard', sa.String(length=32), nullable=False),
    sa.Column('level', sa.Integer(), nullable=False),
    sa.Column('districts', sa.JSON(), nullable=False),
    sa.Column('shelters', sa.JSON(), nullable=False),
    sa.Column('status', sa.JSON(), nullable=False),
    sa.Column('training', sa.Boolean(), nullable=False),
    sa.Column('started_at', bot.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ended_at', bot.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('updated_at', bot.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.create_index('ix_incidents_ended_at', ['ended_at'], unique=False)
    with op.batch_alter_table('residents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('tester', sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table('residents', schema=None) as batch_op:
        batch_op.drop_column('tester')
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.drop_index('ix_incidents_ended_at')
    op.drop_table('incidents')
