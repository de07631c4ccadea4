"""webhook_bodies (the acknowledgement's one write) and inbox_events.lane (one chat in order)

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-10 10:00:00
"""
import sqlalchemy as sa
from alembic import op

from bot.schema_checks import tables_copied_safely

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('webhook_bodies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('received_ms', sa.BigInteger(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sqlite_autoincrement=True,  # never reuse an id (see bot.models.WebhookBody)
    )
    with op.batch_alter_table('inbox_events') as batch:
        batch.add_column(sa.Column('lane', sa.String(length=32), nullable=True))
    op.create_index('ix_inbox_lane_status', 'inbox_events', ['lane', 'status', 'id'])


def downgrade() -> None:
    op.drop_index('ix_inbox_lane_status', table_name='inbox_events')
    with tables_copied_safely('0020'), op.batch_alter_table('inbox_events') as batch:  # SQLite copies the table
        batch.drop_column('lane')
    op.drop_table('webhook_bodies')
