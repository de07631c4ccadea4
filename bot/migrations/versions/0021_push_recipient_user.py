"""push_recipients.line_user_id: a batch reads its recipients without a join to residents

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-11 10:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('push_recipients') as batch:
        batch.add_column(sa.Column('line_user_id', sa.String(length=64), nullable=True))
    op.execute("UPDATE push_recipients SET line_user_id = "
               "(SELECT residents.line_user_id FROM residents WHERE residents.id = push_recipients.resident_id)")


def downgrade() -> None:
    with op.batch_alter_table('push_recipients') as batch:
        batch.drop_column('line_user_id')
