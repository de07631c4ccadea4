"""Announcing the places a new vacancy table opened, right after `citybot import vacancies`.

The clock runs the childcare intent's `vacancies_changed` job every ten minutes (for
hand edits of vacancies.yaml); the import runs the same job at once, so parents do not
wait. Both record what they announced in the database, so whichever runs first tells
the followers and the other tells nobody.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Callable

from .bootstrap import bootstrap
from .config import Config

JOB = "childcare.vacancies_changed"


def sync_vacancies_now(config: Config, now: Callable[[], datetime] | None = None) -> str:
    """Record the content's vacancy table and queue the pushes; a one-line summary."""
    from .scheduler import Clock

    services = bootstrap(config, now=now or (lambda: datetime.now(timezone.utc)))
    try:
        told = Clock(services).run_now(JOB, services.now()) or []
    finally:
        services.close()
    if not told:
        return "no place opened for anyone following: nobody to tell"
    residents = sum(count for _, count in told)
    return f"{len(told)} opening(s): {residents} resident(s) to be told (the worker sends them)"
