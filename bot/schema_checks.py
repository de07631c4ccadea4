"""Changing tables that already hold rows: CHECK constraints (migrations 0013, 0014 and any
later one that lists a new status) and SQLite's table copies, written once.

A migration states its values itself (what the schema was at its revision) and calls
`alter_checks` with them; this module holds only the mechanics:

- a row holding a value not listed stops the upgrade before anything changes, naming the
  table, the column and the values (a bug to look at, not something to guess about);
- on SQLite a CHECK comes only with the table, so batch mode copies each table into a new
  one; with foreign key enforcement on, the copy would cascade-delete the rows that refer
  to it (a report's photos, a booking's contact), so enforcement is off while it runs and
  the references are checked afterwards. SQLite ignores the switch inside a transaction:
  that stops the upgrade instead. Switching back on may be ignored the same way; the
  migration's connection is closed after it (bot.migrate) and every new one switches
  enforcement on (bot.db).
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator, Mapping, Sequence

import sqlalchemy as sa
from alembic import op

#: table -> [(column, allowed values)]; each constraint is named ck_<table>_<column>
Checks = Mapping[str, Sequence[tuple[str, Sequence[str]]]]


def condition(column: str, values: Sequence[str]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def alter_checks(revision: str, checks: Checks, add: bool) -> None:
    """Add (upgrade) or drop (downgrade) the constraints of `checks`."""
    bind = op.get_bind()
    if add:
        _refuse_unknown(revision, bind, checks)
    with tables_copied_safely(revision):
        for table, columns in checks.items():
            with op.batch_alter_table(table, schema=None) as batch_op:
                for column, values in columns:
                    if add:
                        batch_op.create_check_constraint(f"ck_{table}_{column}", condition(column, values))
                    else:
                        batch_op.drop_constraint(f"ck_{table}_{column}", type_="check")


@contextmanager
def tables_copied_safely(revision: str) -> Iterator[None]:
    """Around `op.batch_alter_table` that copies a table on SQLite (a dropped column, a new
    constraint): dropping the old copy with foreign keys enforced would cascade-delete every
    row that refers to it (residents -> bookings -> contacts), so enforcement is off while
    the copy runs, and every reference is checked afterwards. Other databases alter in place."""
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        yield
        return
    was_on = _foreign_keys(revision, bind, False)
    yield
    dangling = bind.exec_driver_sql("PRAGMA foreign_key_check").all()
    if dangling:
        raise RuntimeError(f"{revision}: rows refer to rows that are gone: {dangling[:10]}")
    if was_on:
        _foreign_keys(revision, bind, True)


def _refuse_unknown(revision: str, bind: sa.engine.Connection, checks: Checks) -> None:
    found = []
    for table, columns in checks.items():
        for column, values in columns:
            rows = bind.execute(sa.text(
                f"SELECT {column}, COUNT(*) FROM {table} WHERE {column} IS NULL OR NOT ({condition(column, values)}) "
                f"GROUP BY {column} ORDER BY {column}")).all()
            found += [f"{table}.{column} = {value!r} ({count} rows)" for value, count in rows]
    if found:
        raise RuntimeError(f"{revision}: rows hold statuses no code knows, so the CHECK constraints cannot be added: "
                           + "; ".join(found) + ". Correct or delete those rows, then upgrade again.")


def _foreign_keys(revision: str, bind: sa.engine.Connection, on: bool) -> bool:
    """SQLite: switch foreign key enforcement, return whether it was on."""
    was = bool(bind.exec_driver_sql("PRAGMA foreign_keys").scalar())
    bind.exec_driver_sql(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")
    if not on and bool(bind.exec_driver_sql("PRAGMA foreign_keys").scalar()):
        raise RuntimeError(f"{revision}: SQLite did not switch foreign keys off (a transaction is open); "
                           "run this migration on its own connection")
    return was
