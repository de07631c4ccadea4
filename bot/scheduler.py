"""The clock process (`citybot scheduler`): notices and recurring jobs, on time, once.

APScheduler fires the jobs: one per notice in content/notices/ (re-synced whenever the
content changes) and the recurring jobs intents register with `@intent.every(...)`.
A firing never sends by itself: it stores a push (bot/delivery.py) whose key names the
job and the occurrence it is for, in one transaction. That key is what makes the clock
safe: a second scheduler started by mistake, a retry, or the catch-up at start-up
(occurrences missed while the process was down, if no older than the grace) all find
the push already there and add nothing.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Callable, Iterator
from zoneinfo import ZoneInfo

from . import delivery, segments
from .notices import Notice, cron_trigger, notices, resolve_segment

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Recurring:
    """A job an intent runs on a schedule (reminders, alerts, clean-ups)."""

    name: str
    cron: str
    job: Callable[..., Any]
    intent: str = ""
    # False: the job keeps something in step with the present (a menu with the current
    # state), so a firing runs it once, for its latest occurrence, and the start does not
    # catch up on missed ones
    catch_up: bool = True


def occurrences(trigger: Any, start: datetime, end: datetime) -> Iterator[datetime]:
    """Fire times of `trigger` in (start, end].

    A date trigger answers its date whatever `now` it is given, hence the check on start.
    """
    fire = trigger.get_next_fire_time(None, start + timedelta(microseconds=1))
    while fire is not None and fire <= end:
        if fire > start:
            yield fire
        fire = trigger.get_next_fire_time(fire, fire + timedelta(microseconds=1))


def latest_occurrence(trigger: Any, now: datetime, grace: timedelta) -> datetime | None:
    """The most recent fire time no older than `grace`: what a (late) run is for."""
    latest = None
    for fire in occurrences(trigger, now - grace, now):
        latest = fire
    return latest


class Clock:
    def __init__(self, services: Any, *, scheduler: Any = None):
        self.services = services
        self.config = services.config
        self.zone = ZoneInfo(self.config.timezone)
        self.grace = timedelta(seconds=self.config.scheduler_grace_seconds)
        if scheduler is None:  # imported here: every intent with a job imports this module, few processes run a clock
            from apscheduler.schedulers.background import BackgroundScheduler

            scheduler = BackgroundScheduler(timezone=self.zone)
        self.scheduler = scheduler
        self._content_version: str | None = None
        self._lock = threading.Lock()

    # -- jobs -------------------------------------------------------------------------------
    def sync(self) -> None:
        """Make the scheduler's jobs match the content and the registered recurring jobs."""
        with self._lock:
            content = self.services.content.current()
            if content.version == self._content_version:
                return
            wanted: dict[str, tuple[Any, Callable[[], None]]] = {}
            for name, notice in notices(content).items():
                wanted[f"notice:{name}"] = (notice.trigger(self.config.timezone), self._notice_runner(name))
            for job in self.services.router.jobs.values():
                trigger = cron_trigger(job.cron, self.zone)
                wanted[f"job:{job.name}"] = (trigger, self._job_runner(job))
            for existing in self.scheduler.get_jobs():
                if existing.id.startswith(("notice:", "job:")) and existing.id not in wanted:
                    existing.remove()
            for job_id, (trigger, runner) in wanted.items():
                self.scheduler.add_job(runner, trigger, id=job_id, name=job_id, replace_existing=True,
                                       misfire_grace_time=int(self.grace.total_seconds()) or 1, coalesce=True,
                                       max_instances=1)
            self._content_version = content.version
            log.info("scheduler synced: %d job(s) for content %s", len(wanted), content.version)

    def _notice_runner(self, name: str) -> Callable[[], Any]:
        return lambda: self.run_notice(name, self.services.now())

    def _job_runner(self, job: Recurring) -> Callable[[], None]:
        return lambda: self.run_job(job, self.services.now())

    # -- running one occurrence ---------------------------------------------------------------
    def run_notice(self, name: str, now: datetime) -> int | None:
        """Store a push for every due occurrence within the grace not stored yet (a
        restart may have missed several); returns the id of the last one stored, if any."""
        content = self.services.content.current()
        notice: Notice | None = notices(content).get(name)
        if notice is None:
            return None
        segment = resolve_segment(content, notice)
        stored = None
        for occurrence in occurrences(notice.trigger(self.config.timezone), now - self.grace, now):
            with self.services.sessions() as session:
                push_id = delivery.create_push(
                    session, source_key=f"notice:{name}@{occurrence.isoformat()}", kind="notice",
                    messages=notice.messages(content),
                    recipients=segments.recipients(segment, occurrence.astimezone(self.zone).date()),
                    now=now, urgent=notice.urgent, segment=segment.model_dump(exclude_none=True))
                session.commit()
            if push_id is not None:
                log.info("notice %s for %s queued as push %s", name, occurrence.isoformat(), push_id)
                stored = push_id
        return stored

    def run_now(self, name: str, now: datetime) -> Any:
        """Run one recurring job once, out of schedule (a command that cannot wait for the
        next occurrence); what the job returns."""
        job = self.services.router.jobs[name]
        dependencies = {"session": None, "now": now, "occurrence": now, "config": self.config,
                        "content": self.services.content.current(), "messenger": self.services.messenger}
        with self.services.sessions() as session:
            dependencies["session"] = session
            result = job.job(**{key: dependencies[key] for key in self.services.router.parameters(job.job)})
            session.commit()
        return result

    def run_job(self, job: Recurring, now: datetime) -> None:
        """Run the job for every occurrence within the grace; jobs make their pushes with
        keys naming the occurrence, so running one twice adds nothing."""
        due = list(occurrences(cron_trigger(job.cron, self.zone), now - self.grace, now))
        for occurrence in due if job.catch_up else due[-1:]:
            dependencies = {"session": None, "now": now, "occurrence": occurrence, "config": self.config,
                            "content": self.services.content.current(), "messenger": self.services.messenger}
            with self.services.sessions() as session:
                dependencies["session"] = session
                job.job(**{name: dependencies[name] for name in self.services.router.parameters(job.job)})
                session.commit()

    def catch_up(self, now: datetime) -> None:
        """Occurrences missed while no scheduler ran, if still useful (within the grace)."""
        content = self.services.content.current()
        for name in notices(content):
            self.run_notice(name, now)
        for job in self.services.router.jobs.values():
            if job.catch_up:
                self.run_job(job, now)

    # -- the process --------------------------------------------------------------------------
    def start(self) -> None:
        self.sync()
        self.catch_up(self.services.now())
        seconds = max(self.config.content_reload_seconds, 5.0)
        self.scheduler.add_job(self.sync, "interval", seconds=seconds, id="content-sync", replace_existing=True)
        self.scheduler.start()

    def shutdown(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
