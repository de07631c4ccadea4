"""staff_users.must_change_password: a temporary password only opens the password page

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-30 14:00:00
"""
import sqlalchemy as sa
from alembic import op

from bot.schema_checks import tables_copied_safely

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('staff_users') as batch:
        batch.add_column(sa.Column('must_change_password', sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with tables_copied_safely('0015'), op.batch_alter_table('staff_users') as batch:  # SQLite copies the table
        batch.drop_column('must_change_password')
