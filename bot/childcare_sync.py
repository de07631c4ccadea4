"""Announcing the places a new vacancy table opened, right after `citybot import vacancies`.

The clock does the same every ten minutes (handlers/childcare.py), so this only saves
parents the wait; both record what they announced in the database, so whichever runs
first tells the followers and the other tells nobody.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Callable

from .bootstrap import bootstrap
from .config import Config


def sync_vacancies_now(config: Config, now: Callable[[], datetime] | None = None) -> str:
    """Record the content's vacancy table and queue the pushes; a one-line summary."""
    from handlers.childcare import announce_openings

    services = bootstrap(config, now=now or (lambda: datetime.now(timezone.utc)))
    try:
        content = services.content.current()
        with services.sessions() as session:
            told = announce_openings(session, content, services.now())
            session.commit()
    finally:
        services.close()
    if not told:
        return "no place opened for anyone following: nobody to tell"
    residents = sum(count for _, count in told)
    return f"{len(told)} opening(s): {residents} resident(s) to be told (the worker sends them)"
