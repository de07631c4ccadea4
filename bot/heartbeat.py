"""Heartbeats: the worker and the clock say in the database that they are alive.

Nothing else shows that a worker died quietly: pushes simply stop going out. Each
`citybot worker` and `citybot scheduler` (and the demo's threads) keeps one row of
`process_heartbeats`, named by its kind, host and pid, and rewrites `beat_at` every
HEARTBEAT_SECONDS from a thread of its own. The /admin home lists the rows and warns about
one silent for longer than `STALE_BEATS` heartbeats, or a kind with no live process at
all; /metrics gives each kind's freshest age. A row nobody has written for a day (a
process that ended long ago) is deleted by the next beat of any process.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Callable, cast

from sqlalchemy import CursorResult, Integer, String, delete, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from .db import Base, UTCDateTime, insert_for

log = logging.getLogger(__name__)

KINDS = {"worker": "配信ワーカー", "clock": "スケジューラー"}
STALE_BEATS = 4                  # silent for this many heartbeats: shown as a warning
FORGET_AFTER = timedelta(days=1)  # a row of a process gone this long is deleted


class ProcessHeartbeat(Base):
    """One running (or once running) worker or clock process."""

    __tablename__ = "process_heartbeats"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)  # kind@host:pid
    kind: Mapped[str] = mapped_column(String(16))
    host: Mapped[str] = mapped_column(String(128))
    pid: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    beat_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


def beat(session: Session, name: str, kind: str, host: str, pid: int, started_at: datetime, now: datetime) -> None:
    """Write this process's heartbeat (insert or update) and forget long-gone processes."""
    result = session.execute(update(ProcessHeartbeat).where(ProcessHeartbeat.name == name)
                             .values(beat_at=now, started_at=started_at))
    stored = cast(CursorResult, result).rowcount
    if not stored:
        session.execute(insert_for(session, ProcessHeartbeat).values(
            name=name, kind=kind, host=host[:128], pid=pid, started_at=started_at, beat_at=now,
        ).on_conflict_do_nothing(index_elements=["name"]))
    session.execute(delete(ProcessHeartbeat).where(ProcessHeartbeat.beat_at < now - FORGET_AFTER))


@dataclass(frozen=True)
class Seen:
    """A heartbeat as the /admin home shows it."""

    kind: str
    label: str
    host: str
    pid: int
    started_at: datetime
    beat_at: datetime
    age_seconds: int
    stale: bool


def recent(session: Session, now: datetime, interval_seconds: float) -> dict[str, Any]:
    """{"processes": [Seen...] (newest first), "missing": [labels of kinds with no live
    process], "stale_after": seconds}."""
    stale_after = STALE_BEATS * interval_seconds
    rows = session.scalars(select(ProcessHeartbeat).order_by(ProcessHeartbeat.kind,
                                                             ProcessHeartbeat.beat_at.desc())).all()
    seen = []
    for row in rows:
        age = max((now - row.beat_at).total_seconds(), 0.0)
        seen.append(Seen(row.kind, KINDS.get(row.kind, row.kind), row.host, row.pid, row.started_at, row.beat_at,
                         int(age), age > stale_after))
    alive = {s.kind for s in seen if not s.stale}
    return {"processes": seen, "missing": [label for kind, label in KINDS.items() if kind not in alive],
            "stale_after": int(stale_after)}


class Heartbeat:
    """A daemon thread that beats every `interval` seconds until `stop()`."""

    def __init__(self, sessions: sessionmaker, kind: str, interval: float, now: Callable[[], datetime]):
        if kind not in KINDS:
            raise ValueError(f"unknown process kind {kind!r}")
        self.sessions, self.kind, self.interval, self.now = sessions, kind, interval, now
        self.host, self.pid = socket.gethostname(), os.getpid()
        self.name = f"{kind}@{self.host}:{self.pid}"
        self.started_at = now()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def beat_once(self) -> None:
        with self.sessions() as session:
            beat(session, self.name, self.kind, self.host, self.pid, self.started_at, self.now())
            session.commit()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.beat_once()
            except Exception as exc:  # noqa: BLE001 - the database may be back at the next beat
                log.warning("heartbeat of %s not written: %s", self.name, exc.__class__.__name__)
            self._stop.wait(self.interval)

    def start(self) -> "Heartbeat":
        self._thread = threading.Thread(target=self._run, name=f"citybot-heartbeat-{self.kind}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
