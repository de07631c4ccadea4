"""large-waste contacts: the name, address and phone of a booking, erased after the city's retention

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 10:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'large_waste_contacts',
        sa.Column('booking_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=40), nullable=False),
        sa.Column('address', sa.String(length=120), nullable=False),
        sa.Column('phone', sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(['booking_id'], ['large_waste_bookings.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('booking_id'),
    )


def downgrade() -> None:
    op.drop_table('large_waste_contacts')
