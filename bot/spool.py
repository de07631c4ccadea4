"""Webhook bodies between LINE's 200 and the split into inbox events.

LINE waits two seconds and a slow answer is a failure; the work of an acknowledgement is
therefore one INSERT of the signed body as it came, through the DB-API connection (no ORM
object, no SDK model, no JSON kept in Python), and a commit. Everything else — the SDK's
parse, dropping redeliveries by webhookEventId, answering — happens in the worker
processes (bot/dispatch.py), which take bodies from here.

Where the spool lives: on PostgreSQL, the table `webhook_bodies` of the same database
(rows are locked one by one, so acknowledgements never wait for answers). SQLite has one
writer per file: a resident's answer holds that lock for milliseconds, and an
acknowledgement behind it would wait in SQLite's busy handler, which sleeps in steps of
several milliseconds. So a SQLite database gets a spool file beside it
(`bot.sqlite3` -> `bot.spool.sqlite3`), with this one table, created on first use.

Group commit: in a burst, a web process's threads arrive together; the first writes what
is queued in one INSERT (one commit, one round trip) and the others wait for that commit,
not for a commit each. Alone, a request writes its own body at once.

Exactly once: a body is deleted only after its events are committed to the inbox; a
worker that dies in between leaves the body, and the next split inserts the same events
again, which the inbox's unique webhookEventId turns into nothing.
"""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from sqlalchemy import Connection, Engine, Table, delete, func, select
from sqlalchemy.schema import CreateTable

from .db import make_engine
from .models import WebhookBody

TABLE: Table = WebhookBody.__table__  # type: ignore[assignment]
#: bodies in one INSERT at most (far above a web process's threads; below any driver's limits)
BATCH = 100


@dataclass(frozen=True)
class Body:
    id: int
    received_ms: int
    text: str


def spool_url(database_url: str) -> str | None:
    """The separate file a SQLite database's spool lives in; None: the database's own table."""
    if not database_url.startswith("sqlite"):
        return None
    path = database_url.split("///", 1)[-1]
    if not path or path == ":memory:" or "?" in path:
        return None
    file = Path(path)
    return f"sqlite:///{file.with_name(file.stem + '.spool' + (file.suffix or '.sqlite3'))}"


@dataclass
class _Waiting:
    row: tuple[int, str]
    done: threading.Event = field(default_factory=threading.Event)
    lead: bool = False  # woken to write the next batch, not because its body was written
    error: BaseException | None = None


class Spool:
    def __init__(self, engine: Engine, *, own_file: bool = False, pool_size: int = 10):
        self.engine = engine
        self.own_file = own_file
        if own_file:  # migrations do not reach this file: the table is made here, by whoever comes first
            with engine.begin() as conn:
                conn.execute(CreateTable(TABLE, if_not_exists=True))
        # the acknowledgement's INSERT commits itself: one round trip, no ping before it
        self._writer = make_engine(engine.url.render_as_string(hide_password=False), pool_size, autocommit=True)
        marker = "?" if engine.dialect.paramstyle == "qmark" else "%s"
        self._values = f"({marker}, {marker})"
        self._queue: list[_Waiting] = []
        self._writing = False
        self._lock = threading.Lock()

    @classmethod
    def beside(cls, database_url: str, database: Engine, pool_size: int = 10) -> "Spool":
        url = spool_url(database_url)
        return cls(make_engine(url), own_file=True, pool_size=pool_size) if url else cls(database, pool_size=pool_size)

    def put(self, body: str, received_ms: int | None = None) -> None:
        """Store one body durably: committed when this returns, or an error raised."""
        me = _Waiting((received_ms if received_ms is not None else int(time.time() * 1000), body))
        with self._lock:
            self._queue.append(me)
            lead, self._writing = not self._writing, True
        if not lead:
            me.done.wait()
            if not me.lead:
                self._raise_for(me)
                return
        with self._lock:  # this thread writes what is queued by now, its own body first
            batch, self._queue = self._queue[:BATCH], self._queue[BATCH:]
        try:
            self._insert([waiting.row for waiting in batch])
        except BaseException as exc:  # noqa: BLE001 - each waiting request answers with it
            for waiting in batch:
                waiting.error = exc
        for waiting in batch:
            if waiting is not me:
                waiting.done.set()
        with self._lock:  # whoever queued meanwhile: the first of them writes the next batch
            if self._queue:
                self._queue[0].lead = True
                self._queue[0].done.set()
            else:
                self._writing = False
        self._raise_for(me)

    @staticmethod
    def _raise_for(waiting: _Waiting) -> None:
        if waiting.error is not None:
            raise waiting.error

    def _insert(self, rows: list[tuple[int, str]]) -> None:
        """One INSERT, committing itself. A connection the server dropped (a restart) is
        replaced once; if the INSERT had gone through after all, the bodies are stored
        twice and their events are still taken once (see the module's doc)."""
        statement = "INSERT INTO webhook_bodies (received_ms, body) VALUES " + ", ".join([self._values] * len(rows))
        values = [value for row in rows for value in row]
        for attempt in (1, 2):
            conn = self._writer.raw_connection()
            try:
                cursor = conn.cursor()
                cursor.execute(statement, values)
                cursor.close()
                return
            except self._writer.dialect.loaded_dbapi.OperationalError:
                conn.invalidate()
                if attempt == 2:
                    raise
            finally:
                conn.close()

    @contextmanager
    def take(self, limit: int = 50, connection: Connection | None = None) -> Iterator[list[Body]]:
        """The oldest bodies nobody else holds, deleted when the block ends without an error.

        On PostgreSQL the rows stay locked until then (SKIP LOCKED: workers take different
        bodies). SQLite cannot lock rows: two workers may read the same body, and the
        inbox's unique event ids keep its events single. `connection`: the caller's, used
        when it is to the spool's database and has no transaction open (a worker's round
        takes one connection for everything it does)."""
        mine = connection is None or connection.engine is not self.engine or connection.in_transaction()
        with (self.engine.connect() if mine else nullcontext(connection)) as conn, conn.begin():
            rows = conn.execute(select(TABLE.c.id, TABLE.c.received_ms, TABLE.c.body).order_by(TABLE.c.id)
                                .limit(limit).with_for_update(skip_locked=True)).all()
            bodies = [Body(*row) for row in rows]
            yield bodies
            if bodies:
                conn.execute(delete(TABLE).where(TABLE.c.id.in_([b.id for b in bodies])))

    def backlog(self) -> tuple[int, int | None]:
        """(bodies waiting, the oldest one's receipt in ms since the epoch)."""
        with self.engine.connect() as conn:
            count, oldest = conn.execute(select(func.count(), func.min(TABLE.c.received_ms))).one()
        return int(count), oldest

    def dispose(self) -> None:
        self._writer.dispose()
        if self.own_file:
            self.engine.dispose()
