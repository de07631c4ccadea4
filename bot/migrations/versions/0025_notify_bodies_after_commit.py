"""PostgreSQL: webhook bodies are notified by the web process after their commit, not by a trigger

A transaction that notifies holds PostgreSQL's notify lock through its commit's WAL flush,
so the trigger of 0022 serialized every acknowledgement's commit (bot/spool.py). Push
batches keep their trigger: they are few, and inserted with the handler's other changes.

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-01 03:10:00
"""
from alembic import op

revision = '0025'
down_revision = '0024'
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.execute("DROP TRIGGER IF EXISTS webhook_bodies_notify ON webhook_bodies")


def downgrade() -> None:
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.execute("CREATE TRIGGER webhook_bodies_notify AFTER INSERT ON webhook_bodies "
               "FOR EACH STATEMENT EXECUTE FUNCTION citybot_notify_work()")
