"""shelter_rooms: the room left at each open evacuation site (空きあり・混雑・満員・閉鎖)

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-08 10:00:00

The states are written out here, not read from the package's enum: a migration states
what the schema was at its revision.
"""
import sqlalchemy as sa
from alembic import op

import bot.db

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None

ROOM = ('open', 'crowded', 'full', 'closed')


def upgrade() -> None:
    op.create_table('shelter_rooms',
    sa.Column('site_id', sa.String(length=64), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('updated_at', bot.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=64), nullable=False),
    sa.CheckConstraint(f"state IN ({', '.join(repr(v) for v in ROOM)})", name='ck_shelter_rooms_state'),
    sa.PrimaryKeyConstraint('site_id')
    )


def downgrade() -> None:
    op.drop_table('shelter_rooms')
