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
import sqlalchemy as sa
from alembic import op

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


def _condition(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _refuse_unknown(bind: sa.engine.Connection) -> None:
    found = []
    for table, checks in CHECKS.items():
        for column, values in checks:
            rows = bind.execute(sa.text(
                f'SELECT {column}, COUNT(*) FROM {table} WHERE {column} IS NULL OR NOT ({_condition(column, values)}) '
                f'GROUP BY {column} ORDER BY {column}')).all()
            found += [f"{table}.{column} = {value!r} ({count} rows)" for value, count in rows]
    if found:
        raise RuntimeError("0013: rows hold statuses no code knows, so the CHECK constraints cannot be added: "
                           + "; ".join(found) + ". Correct or delete those rows, then upgrade again.")


def _foreign_keys(bind: sa.engine.Connection, on: bool) -> bool:
    """SQLite: switch foreign key enforcement, return whether it was on. SQLite ignores
    the switch inside a transaction; with enforcement on, copying `reports` would delete
    every photo and update of every report, so that stops the upgrade instead. Switching
    back on may be ignored the same way: the migration's connection is closed after it
    (bot.migrate), and every new one switches enforcement on (bot.db)."""
    was = bool(bind.exec_driver_sql("PRAGMA foreign_keys").scalar())
    bind.exec_driver_sql(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")
    if not on and bool(bind.exec_driver_sql("PRAGMA foreign_keys").scalar()):
        raise RuntimeError("0013: SQLite did not switch foreign keys off (a transaction is open); "
                           "run this migration on its own connection")
    return was


def _alter(add: bool) -> None:
    bind = op.get_bind()
    sqlite = bind.dialect.name == 'sqlite'
    if add:
        _refuse_unknown(bind)
    was_on = _foreign_keys(bind, False) if sqlite else False
    for table, checks in CHECKS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column, values in checks:
                if add:
                    batch_op.create_check_constraint(f'ck_{table}_{column}', _condition(column, values))
                else:
                    batch_op.drop_constraint(f'ck_{table}_{column}', type_='check')
    if sqlite:
        dangling = bind.exec_driver_sql("PRAGMA foreign_key_check").all()
        if dangling:
            raise RuntimeError(f"0013: rows refer to rows that are gone: {dangling[:10]}")
        if was_on:
            _foreign_keys(bind, True)


def upgrade() -> None:
    _alter(add=True)


def downgrade() -> None:
    _alter(add=False)
