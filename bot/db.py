"""Database engine and sessions, the same code path for SQLite and PostgreSQL.

SQLite is the embedded default (demo, tests, a small town's single server); it needs a
busy timeout and WAL so the web threads and the CLI can share the file. PostgreSQL is what
production runs. Nothing here knows about tables: see bot/models.py.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import DateTime, Engine, TypeDecorator, create_engine, event
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker


class Base(DeclarativeBase):
    pass


def make_engine(url: str, pool_size: int = 10, *, autocommit: bool = False) -> Engine:
    """`hide_parameters`: a database error must not print residents' data into the log.

    `pool_size` (DB_POOL_SIZE) connections per process, and as many again in a burst: every
    web process, worker and clock has its own pool, and together they must stay under the
    server's max_connections. SQLite has no server to share, so no pool to size.

    `autocommit`: each statement commits itself, in one round trip, and connections are
    neither pinged when taken from the pool (the caller retries on a dropped connection
    instead) nor rolled back when returned (no transaction is ever open on them): for a
    single INSERT on a hot path (bot/spool.py)."""
    extra: dict[str, Any] = {"isolation_level": "AUTOCOMMIT", "pool_reset_on_return": None} if autocommit else {}
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False}, hide_parameters=True,
                               **extra)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=not autocommit, pool_size=pool_size, max_overflow=pool_size,
                         hide_parameters=True, **extra)


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def insert_for(session: Session, model: type) -> Any:
    """INSERT with ON CONFLICT support in the session's dialect (PostgreSQL or SQLite):
    how an id that may already exist is stored once, whoever inserts it first. Only the
    dialect in use is imported (PostgreSQL's alone takes a noticeable part of a start)."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects import postgresql

        return postgresql.insert(model)
    from sqlalchemy.dialects import sqlite

    return sqlite.insert(model)


def make_session_factory(engine: Engine) -> sessionmaker:
    return sessionmaker(engine, expire_on_commit=False)


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes on every backend (SQLite forgets the zone; this puts it back)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(timezone.utc)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)
