"""drop ix_inbox_lane_status: claims rank a lane's events inside a window of ix_inbox_open

No query reads it since claims stopped asking each waiting event about earlier ones of its
lane, and every change of an event's status wrote a new entry into it.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-12 12:00:00
"""
from alembic import op

revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index('ix_inbox_lane_status', table_name='inbox_events')


def downgrade() -> None:
    op.create_index('ix_inbox_lane_status', 'inbox_events', ['lane', 'status', 'id'])
