"""PostgreSQL: NOTIFY citybot_work when webhook bodies or push batches arrive (bot/wakeup.py)

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-11 11:00:00
"""
from alembic import op

revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None

TABLES = ('webhook_bodies', 'push_batches')


def upgrade() -> None:
    if op.get_bind().dialect.name != 'postgresql':
        return  # SQLite has no notifications: its workers poll
    op.execute("""
        CREATE OR REPLACE FUNCTION citybot_notify_work() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('citybot_work', TG_TABLE_NAME);
            RETURN NULL;
        END $$""")
    for table in TABLES:  # once per statement: a group-committed INSERT of many bodies is one notification
        op.execute(f"CREATE TRIGGER {table}_notify AFTER INSERT ON {table} "
                   f"FOR EACH STATEMENT EXECUTE FUNCTION citybot_notify_work()")


def downgrade() -> None:
    if op.get_bind().dialect.name != 'postgresql':
        return
    for table in TABLES:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_notify ON {table}")
    op.execute("DROP FUNCTION IF EXISTS citybot_notify_work()")
