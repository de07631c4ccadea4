"""Keeping PostgreSQL's queue tables lean: vacuumed by the workers once they churn.

Every answered event leaves row versions behind on PostgreSQL: a body inserted and
deleted (webhook_bodies), an event inserted and moved pending → processing → delivering
→ done (inbox_events), each move a new version and new index entries, since the status
is indexed. Until a VACUUM, every claim reads past the old ones: measured after a bench
run on a database never vacuumed, 14,200 events left 42,600 dead versions and a claim that
found nothing to do read 1,700 pages (5 ms of the database's CPU; 5 pages after a VACUUM),
growing with every event answered, in the database process the acknowledgements' INSERTs
share. Autovacuum is no help where it is off (this project's CI database) and comes late
where it is on: by default a table is vacuumed once a fifth of it is dead, which an
emergency's burst reaches in minutes on a 48-hour inbox. So a worker's sweep looks at the
dead versions PostgreSQL counts and vacuums the tables past QUEUE_VACUUM_DEAD_ROWS. Over
the 6,000 events of bench/answering.py the database's CPU per event did not move beyond
this machine's noise (the cost grows with the dead versions, so it is a long day without
a VACUUM that it bounds, not a short burst).

How it stays out of the way: SKIP_LOCKED leaves a table another worker (or autovacuum) is
vacuuming to it; TRUNCATE false never asks for the exclusive lock that giving back the
table's empty tail takes (webhook_bodies is drained all the time, and that lock would wait
for, then hold up, the acknowledgements' INSERTs); a process vacuums a table at most once
every MIN_INTERVAL seconds (a long transaction elsewhere, a backup's, keeps dead versions
that no VACUUM can remove yet); and only tables the database user may vacuum (its own) are
counted, so nothing is logged as vacuumed that PostgreSQL skipped with a warning. SQLite
keeps no dead versions to read past; nothing is done there.
"""

from __future__ import annotations

import logging
import time

from sqlalchemy import Engine, bindparam, text

from .models import InboxEvent, WebhookBody

log = logging.getLogger(__name__)

QUEUE_TABLES: tuple[str, ...] = (InboxEvent.__tablename__, WebhookBody.__tablename__)
MIN_INTERVAL = 30.0

DEAD = text("SELECT s.relname, s.n_dead_tup FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid "
            "WHERE s.schemaname = current_schema() AND s.relname IN :names AND pg_has_role(c.relowner, 'USAGE')"
            ).bindparams(bindparam("names", expanding=True))


class QueueVacuum:
    """One per process (the dispatcher's, called from the worker's main loop alone):
    remembers when it last vacuumed each table."""

    def __init__(self, engine: Engine, min_interval: float = MIN_INTERVAL):
        self.engine, self.min_interval = engine, min_interval
        self._last: dict[str, float] = {}

    def __call__(self, dead_rows: int) -> list[str]:
        """VACUUM the queue tables holding at least `dead_rows` dead versions; the names of
        those vacuumed (none on SQLite, or with `dead_rows` 0)."""
        if dead_rows <= 0 or self.engine.dialect.name != "postgresql":
            return []
        now = time.monotonic()
        with self.engine.connect() as conn:
            churned = [name for name, dead in conn.execute(DEAD, {"names": list(QUEUE_TABLES)})
                       if dead >= dead_rows and now - self._last.get(name, -self.min_interval) >= self.min_interval]
            conn.rollback()
        if churned:
            quote = self.engine.dialect.identifier_preparer.quote
            # VACUUM cannot run inside a transaction
            with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text(f"VACUUM (SKIP_LOCKED, TRUNCATE false) {', '.join(quote(n) for n in churned)}"))
            self._last.update((name, now) for name in churned)
            log.info("vacuumed %s", ", ".join(churned))
        return churned
