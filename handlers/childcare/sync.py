"""Announcing the places a new vacancy table opened, right after `citybot import vacancies`.

The clock runs the childcare intent's `vacancies_changed` job every ten minutes (for
hand edits of vacancies.yaml); the import runs the same job at once, so parents do not
wait. Both record what they announced in the database, so whichever runs first tells
the followers and the other tells nobody.
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Callable

from bot.bootstrap import bootstrap
from bot.config import Config

JOB = "childcare.vacancies_changed"


def sync_vacancies_now(config: Config, now: Callable[[], datetime] | None = None,
                       rewind_to: date | None = None) -> str:
    """Record the content's vacancy table and queue the pushes; a one-line summary.
    `rewind_to`: an older table replaced a newer one on purpose (see tables.forget_newer)."""
    from bot.scheduler import Clock

    from . import tables

    services = bootstrap(config, now=now or (lambda: datetime.now(timezone.utc)))
    try:
        if rewind_to is not None:
            with services.sessions() as session:
                tables.forget_newer(session, rewind_to)
                session.commit()
        told = Clock(services).run_now(JOB, services.now()) or []
    finally:
        services.close()
    if not told:
        return "no place opened for anyone following: nobody to tell"
    residents = sum(count for _, count in told)
    return f"{len(told)} opening(s): {residents} resident(s) to be told (the worker sends them)"
