"""ix_inbox_open: the events still to answer, so a claim does not walk past finished ones

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-11 12:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None

OPEN = sa.text("status IN ('pending', 'processing', 'delivering', 'answered')")


def upgrade() -> None:
    op.create_index('ix_inbox_open', 'inbox_events', ['id'], postgresql_where=OPEN, sqlite_where=OPEN)


def downgrade() -> None:
    op.drop_index('ix_inbox_open', table_name='inbox_events')
