"""Incidents: what the disaster desk has declared, for whom, and which sites are open.

An incident is one hazard at one alert level (警戒レベル 3 高齢者等避難, 4 避難指示,
5 緊急安全確保) for some districts, with the evacuation sites the city has opened and a
status text in every language. It lives in the database, not in content: the desk
changes it in minutes from /admin, and every change is audited there.

While any real incident is active the bot is in disaster mode: every reply starts with a
one-line notice (`banner`, added by `banner_middleware`, the 災害情報 intent's middleware)
and the rich menu is the disaster menu (mode.py). A training incident (訓練) is seen by
testers only and never switches the menu for everyone.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Callable, Sequence

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from bot.content.store import Content
from bot.messages import listing
from bot.models import Resident

from .tables import Incident

LEVELS = (3, 4, 5)


def active(session: Session, now: datetime, *, include_training: bool = False) -> list[Incident]:
    """Active incidents, most serious first."""
    query = select(Incident).where(Incident.started_at <= now,
                                   or_(Incident.ended_at.is_(None), Incident.ended_at > now))
    if not include_training:
        query = query.where(Incident.training.is_(False))
    return sorted(session.scalars(query), key=lambda i: (-i.level, i.started_at, i.id))


def seen_by(session: Session, resident: Resident | None, now: datetime) -> list[Incident]:
    """What a resident is told about: real incidents, and training ones for testers."""
    return active(session, now, include_training=bool(resident is not None and resident.tester))


def concerning(incidents: Sequence[Incident], district: str | None) -> list[Incident]:
    """Those for the resident's district (all of them when no district is registered, or
    the place's is unknown); an incident for no district in particular is for everyone
    (a city without divisions)."""
    if not district:
        return list(incidents)
    return [i for i in incidents if not i.districts or district in i.districts]


def open_shelter_ids(incidents: Sequence[Incident]) -> set[str]:
    return {shelter for incident in incidents for shelter in incident.shelters}


# -- words ----------------------------------------------------------------------------------------
def level_name(content: Content, lang: str, level: int) -> str:
    return content.text(f"disaster.level_{level}", lang)


def hazard_name(content: Content, lang: str, hazard: str) -> str:
    names = content["disaster"].hazards
    return names[hazard].get(lang) if hazard in names else hazard


def district_names(content: Content, lang: str, districts: Sequence[str]) -> str:
    """The districts' names in `lang`; the city's name for an incident of the whole city ([])."""
    if not districts:
        return content.city(lang)
    settings = content["settings"]
    return listing((d.name.get(lang) if (d := settings.district(i)) else i for i in districts), lang, names=True)


def banner(content: Content, lang: str, incidents: Sequence[Incident]) -> str:
    """The one line every reply starts with while incidents are active."""
    top = incidents[0]
    key = "disaster.banner_training" if top.training else "disaster.banner"
    return content.text(key, lang, level=top.level, level_name=level_name(content, lang, top.level),
                        hazard=hazard_name(content, lang, top.hazard),
                        districts=district_names(content, lang, top.districts), more=len(incidents) - 1)


def banner_middleware(ctx: Any, call_next: Callable[[], None]) -> None:
    """Disaster mode: a notice line before every answer (except the disaster answers themselves),
    in the resident's language as it is after the answer (they may just have changed it)."""
    before = ctx.resident.language if ctx.resident is not None else None
    call_next()
    if ctx.resident is None or ctx.match is None or ctx.match.intent in ("disaster", "shelters"):
        return
    if "disaster" not in ctx.content.documents or not ctx.reply.messages:
        return
    incidents = seen_by(ctx.session, ctx.resident, ctx.now)
    if incidents:
        changed = ctx.resident.language != before
        ctx.banner = banner(ctx.content, ctx.resident.language if changed else ctx.lang, incidents)


# -- what the desk does (/admin/incidents; each call is audited by the caller) ----------------------
def declare(session: Session, *, hazard: str, level: int, districts: Sequence[str], shelters: Sequence[str],
            status: dict[str, str], by: str, now: datetime, training: bool = False) -> Incident:
    """A new active incident; the caller validates ids against content and commits.
    `districts` [] is the whole city (a city without divisions has no other choice)."""
    if level not in LEVELS:
        raise ValueError(f"alert level must be one of {LEVELS}, not {level!r}")
    incident = Incident(hazard=hazard, level=level, districts=list(districts), shelters=list(shelters),
                        status=dict(status), training=training, started_at=now, created_by=by, updated_at=now)
    session.add(incident)
    session.flush()
    return incident


def change(incident: Incident, now: datetime, **fields: Any) -> None:
    """Raise or lower the level, open or close shelters, reword the status."""
    allowed = {"level", "districts", "shelters", "status"}
    unknown = set(fields) - allowed
    if unknown:
        raise ValueError(f"cannot change {', '.join(sorted(unknown))}")
    if "level" in fields and fields["level"] not in LEVELS:
        raise ValueError(f"alert level must be one of {LEVELS}")
    for name, value in fields.items():
        setattr(incident, name, list(value) if isinstance(value, (list, tuple)) else value)
    incident.updated_at = now


def end(incident: Incident, now: datetime) -> None:
    if incident.ended_at is None:
        incident.ended_at = now
        incident.updated_at = now
