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

from bot.content.models import LANGUAGES
from bot.content.store import Content
from bot.messages import listing
from bot.models import Resident

from .shelters import HAZARDS, shelters_of
from .tables import Incident

LEVELS = (3, 4, 5)
STATUS_MAX = 1000  # characters of the status text, per language (the desk's form says the same)


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


# -- what the desk does (/admin/incidents, `citybot incidents`; each call is audited by the caller) --
def problems(content: Content, *, hazard: str, level: int, districts: Sequence[str], shelters: Sequence[str],
             status: dict[str, str]) -> list[str]:
    """What is wrong with an incident as declared or changed, in the desk's rules: a known
    hazard and level; districts of settings.yaml, at least one (none, the whole city, only
    in a city without divisions); opened sites that exist and are designated for the
    hazard; a status in every language. The command line checks with this; the desk's
    form says the same per field."""
    found = []
    if hazard not in HAZARDS:
        found.append(f"unknown hazard {hazard!r} (one of {', '.join(HAZARDS)})")
    if level not in LEVELS:
        found.append(f"alert level must be one of {', '.join(map(str, LEVELS))}, not {level!r}")
    settings = content["settings"]
    known = [d.id for d in settings.districts]
    if settings.has_divisions:
        if not districts:
            found.append(f"name at least one district ({', '.join(known)})")
        unknown = [d for d in districts if d not in known]
        if unknown:
            found.append(f"unknown district(s) {', '.join(unknown)} (the districts: {', '.join(known)})")
    elif districts:
        found.append("this city has no divisions: an incident is for the whole city (name no district)")
    sites = shelters_of(content)
    unknown = [i for i in shelters if sites.get(i) is None]
    if unknown:
        found.append(f"unknown site(s) {', '.join(unknown)} (ids of disaster/shelters.yaml)")
    if hazard in HAZARDS:
        wrong = [f"{site.id} {site.name}" for i in shelters if (site := sites.get(i)) and not site.designated_for(hazard)]
        if wrong:
            found.append(f"not designated for {hazard}: {', '.join(wrong)} (only such sites can be opened)")
    for lang in LANGUAGES:
        text = (status.get(lang) or "").strip()
        if not text:
            found.append(f"the status text in {lang} is missing")
        elif len(text) > STATUS_MAX:
            found.append(f"the status text in {lang} is longer than {STATUS_MAX} characters")
    return found


def declared(incident: Incident) -> dict[str, Any]:
    """The audit detail of `incident.declare`."""
    return {"hazard": incident.hazard, "level": incident.level, "districts": incident.districts,
            "shelters": len(incident.shelters), "training": incident.training}


def changes(incident: Incident, changed: dict[str, Any]) -> dict[str, Any]:
    """The audit detail of `incident.change`: from and to, sites as counts, the status as "changed"."""
    detail: dict[str, Any] = {name: {"from": getattr(incident, name), "to": value} for name, value in changed.items()
                              if name != "status"}
    if "shelters" in detail:  # counts, not 100 ids
        detail["shelters"] = {"from": len(incident.shelters), "to": len(changed["shelters"])}
    if "status" in changed:
        detail["status"] = "changed"
    return detail


def ended(incident: Incident) -> dict[str, Any]:
    """The audit detail of `incident.end`."""
    return {"hazard": incident.hazard, "level": incident.level, "districts": incident.districts,
            "training": incident.training}



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
