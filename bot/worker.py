"""The worker process (`citybot worker`): answers residents and sends push batches.

PROCESSING_THREADS threads answer webhook events: each takes stored bodies apart and
answers the oldest event free to answer (bot/dispatch.py `work_once`). The main loop
sends every due batch (under the rate limit, urgent first, routine ones held during quiet
hours) and retries answers LINE deferred. Idle threads wait to be woken: on PostgreSQL
the database notifies new bodies and batches (bot/wakeup.py), and they look on their own
only every WAKEUP_FALLBACK_SECONDS; on SQLite they look every INBOX_POLL_SECONDS and
WORKER_IDLE_SECONDS. SIGTERM finishes the event and the batch in hand and stops; SIGKILL loses
nothing either: an unfinished claim expires and is taken again, a batch goes again with
the same retry key.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

from . import delivery
from .wakeup import BATCHES, INBOX, Doorbell, Listener, listener_for

log = logging.getLogger(__name__)


class Worker:
    def __init__(self, services: Any):
        self.services = services
        config = services.config
        self.quiet_hours = delivery.QuietHours.parse(config.quiet_hours, config.timezone)
        self.lease = timedelta(seconds=config.batch_lease_seconds)
        self.limiter = delivery.RateLimiter(config.delivery_rate)
        self.stop_event = threading.Event()
        self.bells = {INBOX: Doorbell(), BATCHES: Doorbell()}
        self.listener: Listener | None = None
        self._last_sweep = 0.0

    def _idle(self, bell: str, poll: float) -> None:
        """Wait for work: woken by a notification, or after `poll` (no notifications here)
        or the fallback interval (while the listener listens)."""
        listening = self.listener is not None and self.listener.listening.is_set()
        self.bells[bell].wait(max(poll, self.services.config.wakeup_fallback_seconds) if listening else poll)

    def run_once(self) -> int:
        """Send until nothing is due, with WORKER_THREADS batches in flight at a time."""
        threads = max(1, self.services.config.worker_threads)
        with ThreadPoolExecutor(threads, thread_name_prefix="citybot-send") as pool:
            sent = sum(pool.map(lambda _: self._deliver(), range(threads)))
        if time.monotonic() - self._last_sweep >= max(self.services.config.inbox_sweep_seconds, 1.0):
            self._last_sweep = time.monotonic()
            self.services.dispatcher.sweep()
        return sent

    def _deliver(self) -> int:
        return delivery.deliver_due(self.services.sessions, self.services.messenger, self.services.now,
                                    quiet_hours=self.quiet_hours, lease=self.lease, limiter=self.limiter,
                                    stop=self.stop_event)

    def answer_events(self) -> None:
        dispatcher, poll = self.services.dispatcher, self.services.config.inbox_poll_seconds
        while not self.stop_event.is_set():
            try:
                busy = dispatcher.work_once()
            except Exception:  # noqa: BLE001 - a database hiccup must not end the thread
                log.exception("answering events failed")
                busy = False
            if busy:
                self.bells[INBOX].ring()  # there may be more: one more thread looks too
            else:
                self._idle(INBOX, poll)

    def run(self) -> None:
        config = self.services.config
        log.info("worker started (%d threads answering, rate %s/s, quiet hours %s)", config.processing_threads,
                 self.limiter.rate, config.quiet_hours)
        self.listener = listener_for(config.sqlalchemy_url, self.bells, self.stop_event)
        answering = [threading.Thread(target=self.answer_events, name=f"citybot-answer-{n}", daemon=True)
                     for n in range(max(0, config.processing_threads))]
        for thread in answering:
            thread.start()
        while not self.stop_event.is_set():
            try:
                busy = self.run_once()
            except Exception:  # noqa: BLE001 - a database hiccup must not end the worker
                log.exception("worker round failed")
                busy = 0
            if not busy:
                self._idle(BATCHES, config.worker_idle_seconds)
        for thread in answering:
            thread.join(timeout=30)
        if self.listener is not None:
            self.listener.join(timeout=5)
        log.info("worker stopped")

    def stop(self) -> None:
        self.stop_event.set()
        for bell in self.bells.values():
            bell.wake_all()

    def install_signal_handlers(self) -> None:
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: self.stop())
