"""service status checks: the database refuses a large-waste booking or broadcast status no code knows

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05 10:00:00

The same way as 0013 (read its docstring): the values written out as they are at this
revision, a row holding another value stops the upgrade saying where, and SQLite's batch
copy runs with foreign keys off, since copying `large_waste_bookings` with them on would
delete every booking's contact (large_waste_contacts cascades).
"""
from bot.schema_checks import alter_checks

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

BOOKING = ('booked', 'cancelled')
BROADCAST = ('pending', 'sent', 'rejected', 'cancelled')

#: table -> [(column, allowed values)]; each constraint is named ck_<table>_<column>
CHECKS = {
    'large_waste_bookings': [('status', BOOKING)],
    'broadcasts': [('status', BROADCAST)],
}



def upgrade() -> None:
    alter_checks('0014', CHECKS, add=True)


def downgrade() -> None:
    alter_checks('0014', CHECKS, add=False)
