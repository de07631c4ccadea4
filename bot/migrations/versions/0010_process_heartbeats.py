"""process heartbeats: the worker and the clock note they are alive (shown on /admin, /metrics)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 10:00:00
"""
import sqlalchemy as sa
from alembic import op

import bot.db

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'process_heartbeats',
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('host', sa.String(length=128), nullable=False),
        sa.Column('pid', sa.Integer(), nullable=False),
        sa.Column('started_at', bot.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('beat_at', bot.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('name'),
    )
    with op.batch_alter_table('process_heartbeats', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_process_heartbeats_beat_at'), ['beat_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('process_heartbeats', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_process_heartbeats_beat_at'))
    op.drop_table('process_heartbeats')
