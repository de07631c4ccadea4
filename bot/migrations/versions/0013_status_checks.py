"""status checks: the database refuses a status no code knows (inbox events, push batches, reports)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04 10:00:00

The values are written out here, not read from bot.statuses' enums: a migration states
what the schema was at its revision, and a later one that adds a status replaces the
constraint (drop it by its name, create it again).

A row holding a value not listed stops the upgrade with the table, the column and the
values, before anything changes: such a row is a bug to look at, not something a
migration should guess about. On SQLite a CHECK can only come with the table, so batch
mode copies each table into a new one; the copy of `reports` must not cascade to the
photos and updates that refer to it, so foreign keys are off while it runs and checked
afterwards.
"""
from bot.schema_checks import alter_checks

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

INBOX = ('pending', 'processing', 'delivering', 'answered', 'done', 'failed', 'ignored')
BATCH = ('pending', 'sending', 'sent', 'failed')
REPORT = ('received', 'in_progress', 'done', 'cannot')

#: table -> [(column, allowed values)]; each constraint is named ck_<table>_<column>
CHECKS = {
    'inbox_events': [('status', INBOX)],
    'push_batches': [('status', BATCH)],
    'reports': [('status', REPORT)],
    'report_updates': [('status_from', REPORT), ('status_to', REPORT)],
}



def upgrade() -> None:
    alter_checks('0013', CHECKS, add=True)


def downgrade() -> None:
    alter_checks('0013', CHECKS, add=False)
