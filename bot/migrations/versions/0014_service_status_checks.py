"""service status checks: the database refuses a large-waste booking or broadcast status no code knows

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05 10:00:00

The same way as 0013 (read its docstring): the values written out as they are at this
revision, a row holding another value stops the upgrade saying where, and SQLite's batch
copy runs with foreign keys off, since copying `large_waste_bookings` with them on would
delete every booking's contact (large_waste_contacts cascades).
"""
import sqlalchemy as sa
from alembic import op

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
        raise RuntimeError("0014: rows hold statuses no code knows, so the CHECK constraints cannot be added: "
                           + "; ".join(found) + ". Correct or delete those rows, then upgrade again.")


def _foreign_keys(bind: sa.engine.Connection, on: bool) -> bool:
    """SQLite: switch foreign key enforcement, return whether it was on (see 0013)."""
    was = bool(bind.exec_driver_sql("PRAGMA foreign_keys").scalar())
    bind.exec_driver_sql(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")
    if not on and bool(bind.exec_driver_sql("PRAGMA foreign_keys").scalar()):
        raise RuntimeError("0014: SQLite did not switch foreign keys off (a transaction is open); "
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
            raise RuntimeError(f"0014: rows refer to rows that are gone: {dangling[:10]}")
        if was_on:
            _foreign_keys(bind, True)


def upgrade() -> None:
    _alter(add=True)


def downgrade() -> None:
    _alter(add=False)
