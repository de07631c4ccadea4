"""Prometheus metrics: what an operator graphs and alerts on.

Two kinds, kept apart on purpose:

- **Counters and histograms** that a process adds to as things happen (the webhook's
  acknowledgement latency, every Messaging API call by endpoint and status, 429s,
  deliveries). They live in this process's prometheus_client registry; under gunicorn
  several worker processes answer /metrics in turn, so with `PROMETHEUS_MULTIPROC_DIR`
  set (gunicorn.conf.py does it) each process writes them to files there and a scrape adds
  every process's up (prometheus_client's multiprocess mode).
- **Gauges of the queues** (inbox backlog and its oldest event, push batches waiting and
  the oldest, the worker and clock heartbeats) are not kept by any process: they are
  what the database says at the moment of the scrape (`DatabaseCollector`, a handful of
  indexed aggregate queries), so they agree whichever process answers and whether or
  not the worker that would update them is alive.

The web process serves /metrics (bot/ops.py); `citybot worker` and `citybot scheduler`
serve their own counters on METRICS_PORT when it is set. Labels are bounded sets (an
endpoint name, an HTTP status): never a user, an event or a text.
"""

from __future__ import annotations

import glob
import logging
import os
from datetime import datetime, timezone
from typing import Any, Callable, Iterable

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.orm import sessionmaker

from .models import BatchStatus, InboxStatus

log = logging.getLogger(__name__)

#: LINE waits about two seconds for the webhook's answer; buckets are dense below that.
ACK_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0)

WEBHOOK_ACK = Histogram("citybot_webhook_ack_seconds",
                        "Time from a webhook request's arrival to its answer (LINE waits about 2 s)",
                        ["status"], buckets=ACK_BUCKETS)
LINE_REQUESTS = Counter("citybot_line_api_requests_total",
                        "Messaging API requests by endpoint and HTTP status (0: no answer, a timeout or refused "
                        "connection)", ["endpoint", "status"])
LINE_THROTTLED = Counter("citybot_line_api_throttled_total",
                         "Messaging API requests LINE refused with 429 (rate limit or monthly quota)", ["endpoint"])
LINE_SECONDS = Histogram("citybot_line_api_seconds", "Duration of one Messaging API request", ["endpoint"],
                         buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0))
DELIVERIES = Counter("citybot_deliveries_total",
                     "Messages LINE accepted, counted per recipient (rate() of it is deliveries per second): "
                     "kind reply, push or multicast; a broadcast counts once, LINE does not say its audience",
                     ["kind"])

#: inbox statuses still waiting for work (see bot.models.InboxEvent)
INBOX_WAITING = tuple(s for s in InboxStatus if not s.final)
#: push batch statuses still waiting to go out (see bot.delivery.IN_FLIGHT)
BATCHES_WAITING = tuple(s for s in BatchStatus if not s.final)

DELIVERY_KINDS = {"reply_message": "reply", "push_message": "push", "multicast": "multicast",
                  "broadcast": "broadcast"}


def endpoint_name(fn: Callable[..., Any]) -> str:
    """The SDK method's name, which names the endpoint: `multicast`, `reply_message`, ..."""
    name = getattr(fn, "__name__", "unknown")
    return name.removesuffix("_with_http_info")


def observe_line_call(endpoint: str, status: int, seconds: float, recipients: int = 0) -> None:
    """One Messaging API request finished (bot/messenger.py calls this for every request)."""
    LINE_REQUESTS.labels(endpoint, str(status)).inc()
    LINE_SECONDS.labels(endpoint).observe(seconds)
    if status == 429:
        LINE_THROTTLED.labels(endpoint).inc()
    if 200 <= status < 300 and endpoint in DELIVERY_KINDS:
        DELIVERIES.labels(DELIVERY_KINDS[endpoint]).inc(max(recipients, 1))


class DatabaseCollector(Collector):
    """Gauges read from the database when Prometheus scrapes: cheap aggregate queries on
    indexed columns (inbox status + received_at, batch status + next_attempt_at)."""

    def __init__(self, sessions: sessionmaker, now: Callable[[], datetime], spool: Any = None):
        self.sessions, self.now, self.spool = sessions, now, spool

    def collect(self) -> Iterable[Metric]:
        from .heartbeat import ProcessHeartbeat
        from .models import InboxEvent, PushBatch

        up = GaugeMetricFamily("citybot_database_up", "1 when the scrape could read the database, else 0")
        try:
            moment = self.now()
            with self.sessions() as session:
                inbox = session.execute(select(InboxEvent.status, func.count(), func.min(InboxEvent.received_at))
                                        .where(InboxEvent.status.in_(INBOX_WAITING))
                                        .group_by(InboxEvent.status)).all()
                batches = session.execute(select(PushBatch.urgent, func.count(), func.min(PushBatch.next_attempt_at))
                                          .where(PushBatch.status.in_(BATCHES_WAITING))
                                          .group_by(PushBatch.urgent)).all()
                beats = session.execute(select(ProcessHeartbeat.kind, func.max(ProcessHeartbeat.beat_at))
                                        .group_by(ProcessHeartbeat.kind)).all()
            bodies, first_body = self.spool.backlog() if self.spool is not None else (0, None)
        except Exception as exc:  # noqa: BLE001 - a scrape reports the database down, it does not fail
            log.warning("metrics: the database could not be read (%s)", exc.__class__.__name__)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up

        backlog = GaugeMetricFamily("citybot_inbox_backlog", "Webhook events stored and not finished, by status",
                                    labels=["status"])
        counts = {status: count for status, count, _ in inbox}
        for status in INBOX_WAITING:
            backlog.add_metric([status.value], counts.get(status, 0))
        yield backlog
        yield GaugeMetricFamily("citybot_webhook_bodies_waiting",
                                "Acknowledged webhook bodies no worker has taken apart yet", value=bodies)
        oldest = [first for _, _, first in inbox if first is not None]
        if first_body is not None:
            oldest.append(datetime.fromtimestamp(first_body / 1000, timezone.utc))
        yield _age("citybot_inbox_oldest_event_age_seconds",
                   "Age of the oldest webhook event not finished (0 when none waits)", moment,
                   min(oldest) if oldest else None)

        pending = GaugeMetricFamily("citybot_push_batches_pending",
                                    "Push batches (up to 500 recipients each) waiting to be sent or being sent",
                                    labels=["urgent"])
        by_urgency = {bool(urgent): count for urgent, count, _ in batches}
        for urgent in (False, True):
            pending.add_metric([str(urgent).lower()], by_urgency.get(urgent, 0))
        yield pending
        due = [first for _, _, first in batches if first is not None]
        yield _age("citybot_push_batch_oldest_age_seconds",
                   "How long the longest-waiting push batch has been due (0 when none; a batch held "
                   "for quiet hours or a retry counts from when it was due)", moment, min(due) if due else None)

        age = GaugeMetricFamily("citybot_heartbeat_age_seconds",
                                "Seconds since the freshest heartbeat of each kind of process (worker, clock)",
                                labels=["kind"])
        for kind, beat_at in beats:
            age.add_metric([kind], max((moment - beat_at).total_seconds(), 0.0))
        yield age


def _age(name: str, doc: str, moment: datetime, since: datetime | None) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, doc, value=0.0 if since is None else max((moment - since).total_seconds(), 0.0))


def multiprocess_dir() -> str | None:
    """prometheus_client's own variable (set by gunicorn.conf.py), read per scrape."""
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


class _SizedFilesCollector(MultiProcessCollector):
    """prometheus_client's multiprocess collector, minus the files still being created.

    A process that counts something for the first time creates its file and only then
    sizes it; a scrape that reads it in between fails whole (struct.error, the scrape
    answers 500; prometheus/client_python#1199). A file of zero bytes holds no value yet,
    so it is left for the next scrape. Once sized, a file is always readable.
    """

    def collect(self) -> Iterable[Metric]:
        files = []
        for name in glob.glob(os.path.join(self._path, "*.db")):
            try:
                if os.stat(name).st_size:
                    files.append(name)
            except FileNotFoundError:  # a dead process's live gauge, dropped meanwhile
                continue
        return self.merge(files, accumulate=True)


def exposition(database: DatabaseCollector | None) -> tuple[bytes, str]:
    """(body, content type) of a scrape: this process's counters (or, in multiprocess
    mode, every gunicorn worker's, added up), then the database gauges."""
    if multiprocess_dir():
        counters = CollectorRegistry()
        _SizedFilesCollector(counters)
        body = generate_latest(counters)
    else:
        body = generate_latest(REGISTRY)
    if database is not None:
        gauges = CollectorRegistry(auto_describe=False)
        gauges.register(database)
        body += generate_latest(gauges)
    return body, CONTENT_TYPE_LATEST


def serve(port: int, host: str = "0.0.0.0") -> None:
    """/metrics of this process on `port` (the worker's and the clock's counters)."""
    from prometheus_client import start_http_server

    start_http_server(port, addr=host)
    log.info("metrics on :%d/metrics", port)
