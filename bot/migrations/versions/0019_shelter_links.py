"""shelter_links: the version of each open site's staff link (revoking one raises it)

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-09 10:00:00
"""
import sqlalchemy as sa
from alembic import op

import bot.db

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('shelter_links',
    sa.Column('site_id', sa.String(length=64), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('updated_at', bot.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('site_id')
    )


def downgrade() -> None:
    op.drop_table('shelter_links')
