"""Waking idle worker threads when work arrives, instead of having each of them poll.

A worker process has several threads answering residents and several sending push
batches. Polling the database every 50 ms from each of them cost, on a small server,
more CPU than the work itself (four workers idle were hundreds of queries a second), and
polling less often would make residents wait.

On PostgreSQL the database says when work arrives: triggers (migration 0022) send a
NOTIFY on channel `citybot_work` when webhook bodies or push batches are inserted, at
commit. Each worker process keeps one listening connection (`Listener`) and rings the
matching `Doorbell`, which wakes one waiting thread; a thread that finds work rings
again, so a backlog pulls in more threads one by one, and a single event wakes one. The
threads still look on their own now and then (`fallback`): for retries due later, a
batch that waits out the quiet hours, and in case a notification was missed while the
listening connection was being replaced.

SQLite has no notifications: there the threads wait their poll interval as before.
"""

from __future__ import annotations

import logging
import threading
from typing import Any, Callable

log = logging.getLogger(__name__)

CHANNEL = "citybot_work"
#: payloads the triggers send: the table that received work
INBOX, BATCHES = "webhook_bodies", "push_batches"


class Doorbell:
    """Rings wake waiting threads one at a time; a ring nobody waited for is kept (up to
    `keep`), so work arriving between two looks is not slept through."""

    def __init__(self, keep: int = 64):
        self._cond = threading.Condition()
        self._rings = 0
        self._keep = keep

    def ring(self) -> None:
        with self._cond:
            self._rings = min(self._rings + 1, self._keep)
            self._cond.notify()

    def wake_all(self) -> None:
        """Everyone up (the process is stopping)."""
        with self._cond:
            self._rings = self._keep
            self._cond.notify_all()

    def wait(self, timeout: float) -> bool:
        """True when rung, False when `timeout` passed first."""
        with self._cond:
            if not self._rings:
                self._cond.wait(timeout)
            if self._rings:
                self._rings -= 1
                return True
            return False


class Listener:
    """One LISTEN connection per process, ringing a doorbell per payload. Reconnects after
    an error (the database restarted) and then rings every doorbell once, since whatever
    was notified meanwhile was missed."""

    def __init__(self, connect: Callable[[], Any], bells: dict[str, Doorbell], stop: threading.Event):
        self._connect, self._bells, self._stop = connect, bells, stop
        self.listening = threading.Event()
        self._thread = threading.Thread(target=self._run, name="citybot-listen", daemon=True)

    def start(self) -> "Listener":
        self._thread.start()
        return self

    def join(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                with self._connect() as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    self.listening.set()
                    for bell in self._bells.values():
                        bell.ring()
                    while not self._stop.is_set():
                        for note in conn.notifies(timeout=1.0):
                            bell = self._bells.get(note.payload)
                            if bell is not None:
                                bell.ring()
            except Exception as exc:  # noqa: BLE001 - the database went away: listen again shortly
                self.listening.clear()
                log.warning("listening for new work failed (%s); looking again in 1 s", exc.__class__.__name__)
                self._stop.wait(1.0)


def listener_for(database_url: str, bells: dict[str, Doorbell], stop: threading.Event) -> Listener | None:
    """A started Listener on PostgreSQL; None elsewhere (the threads poll)."""
    if not database_url.startswith("postgresql"):
        return None
    import psycopg
    from sqlalchemy.engine import make_url

    dsn = make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
    return Listener(lambda: psycopg.connect(dsn, autocommit=True), bells, stop).start()
