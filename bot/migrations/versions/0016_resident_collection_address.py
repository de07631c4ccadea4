"""residents.collection_address: the address a resident chose to keep for pickups

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02 10:00:00
"""
import sqlalchemy as sa
from alembic import op

from bot.schema_checks import tables_copied_safely

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('residents') as batch:
        batch.add_column(sa.Column('collection_address', sa.String(length=120), nullable=True))


def downgrade() -> None:
    with tables_copied_safely('0016'), op.batch_alter_table('residents') as batch:  # SQLite copies the table
        batch.drop_column('collection_address')
