"""避難報告・安否: the reports themselves, apart from the chat (safety.py) and the desk
(safety_desk.py): saving one, counting them, who needs help, the reminder, erasing.

Since the 2025 amendment of the disaster law a city's duty is to people wherever they
shelter (at home, in a car, with relatives), not only in shelters; so a resident tells the
city where they are and how many they are, and the desk counts them by division (the
resident's registered district) and status. A report is personal and only needed while it
helps: the desk sees reports of an incident while it is on and for the city's
`retention_days` after (content/safety.yaml), and the clock erases them then (`erase_expired`);
データ削除 and a block take a resident's reports at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Sequence

from sqlalchemy import and_, delete, func, or_, select
from sqlalchemy.orm import Session

from bot import delivery, segments
from bot.content.models import LANGUAGES
from bot.content.store import Content
from bot.messages import Tap
from bot.messages import text as text_message
from bot.models import Push, Resident

from . import incidents as inc
from .tables import Incident, SafetyReport, SafetyStatus

UNKNOWN_DIVISION = ""  # residents who registered no district: 不明 on the desk
NOTE_MAX = 200


def retention(content: Content) -> timedelta:
    return timedelta(days=content["safety"].retention_days)


# -- what residents report -------------------------------------------------------------------------
def report_of(session: Session, incident_id: int, resident_id: int) -> SafetyReport | None:
    return session.scalars(select(SafetyReport).where(SafetyReport.incident_id == incident_id,
                                                      SafetyReport.resident_id == resident_id)).first()


def save(session: Session, *, incident_id: int, resident_id: int, status: SafetyStatus, people: int,
         shelter_id: str | None, now: datetime) -> SafetyReport:
    """The resident's report for the incident: a new one replaces what they said before
    (status, people and shelter; a location and note said before go with it). One row per
    incident and resident, also when two of their messages arrive together (ON CONFLICT)."""
    from bot.db import insert_for

    session.execute(insert_for(session, SafetyReport).values(
        incident_id=incident_id, resident_id=resident_id, status=status, people=people, shelter_id=shelter_id,
        created_at=now, updated_at=now).on_conflict_do_nothing(index_elements=["incident_id", "resident_id"]))
    row = report_of(session, incident_id, resident_id)
    assert row is not None
    session.refresh(row)
    row.status, row.people, row.shelter_id = status, people, shelter_id
    row.latitude = row.longitude = row.note = None
    row.updated_at = now
    session.flush()
    return row


def add_location(row: SafetyReport, latitude: float, longitude: float, now: datetime) -> None:
    row.latitude, row.longitude, row.updated_at = latitude, longitude, now


def add_note(row: SafetyReport, note: str | None, now: datetime) -> None:
    row.note = " ".join((note or "").split())[:NOTE_MAX] or None
    row.updated_at = now


# -- what the desk sees ----------------------------------------------------------------------------
def visible_incidents(session: Session, now: datetime, keep: timedelta) -> list[Incident]:
    """Incidents whose reports the desk may see: on (training ones too), or ended less than
    the retention ago; most serious and recent first."""
    rows = session.scalars(select(Incident).where(
        Incident.started_at <= now, or_(Incident.ended_at.is_(None), Incident.ended_at > now - keep))).all()
    return sorted(rows, key=lambda i: (i.ended_at is not None and i.ended_at <= now, -i.level, -i.id))


def is_visible(incident: Incident, now: datetime, keep: timedelta) -> bool:
    return incident.started_at <= now and (incident.ended_at is None or incident.ended_at > now - keep)


@dataclass
class Counts:
    """Reports and people per division and status, with totals, for one incident."""

    cells: dict[str, dict[str, dict[str, int]]]   # division -> status -> {"reports", "people"}
    totals: dict[str, dict[str, int]]              # status -> {"reports", "people"}
    reports: int
    people: int

    def as_json(self) -> dict[str, Any]:
        return {"cells": self.cells, "totals": self.totals, "reports": self.reports, "people": self.people}


def counts(session: Session, incident_id: int) -> Counts:
    rows = session.execute(
        select(Resident.district, SafetyReport.status, func.count(), func.coalesce(func.sum(SafetyReport.people), 0))
        .join(Resident, Resident.id == SafetyReport.resident_id)
        .where(SafetyReport.incident_id == incident_id)
        .group_by(Resident.district, SafetyReport.status)).all()
    cells: dict[str, dict[str, dict[str, int]]] = {}
    totals = {s.value: {"reports": 0, "people": 0} for s in SafetyStatus}
    for division, status, reports, people in rows:
        key = SafetyStatus(status).value
        here = cells.setdefault(division or UNKNOWN_DIVISION, {}).setdefault(key, {"reports": 0, "people": 0})
        here["reports"] += int(reports)  # a district of "" and of none are both 不明
        here["people"] += int(people)
        totals[key]["reports"] += int(reports)
        totals[key]["people"] += int(people)
    return Counts(cells, totals, sum(t["reports"] for t in totals.values()), sum(t["people"] for t in totals.values()))


def needing_help(session: Session, incident_id: int) -> Sequence[tuple[SafetyReport, str | None]]:
    """(report, district) of those who need help, the longest waiting first."""
    return session.execute(
        select(SafetyReport, Resident.district).join(Resident, Resident.id == SafetyReport.resident_id)
        .where(SafetyReport.incident_id == incident_id, SafetyReport.status == SafetyStatus.HELP)
        .order_by(SafetyReport.updated_at, SafetyReport.id)).all()


def map_url(latitude: float | None, longitude: float | None) -> str | None:
    if latitude is None or longitude is None:
        return None
    return f"https://www.google.com/maps/search/?api=1&query={latitude:.6f},{longitude:.6f}"


# -- the reminder ----------------------------------------------------------------------------------
def reminder_key(incident_id: int) -> str:
    return f"safety-reminder:{incident_id}"


def reminded(session: Session, incident_id: int) -> Push | None:
    return session.scalars(select(Push).where(Push.source_key == reminder_key(incident_id))).first()


def not_reported(incident: Incident, on: date):
    """SELECT of the residents of the incident's divisions (everyone for a whole-city one;
    testers for a drill) who follow the account and have not reported for it."""
    if incident.training:
        wanted = select(Resident.id).where(Resident.following.is_(True), Resident.tester.is_(True))
    else:
        segment = segments.Segment(districts=list(incident.districts)) if incident.districts else \
            segments.Segment(everyone=True)
        wanted = segments.recipients(segment, on)
    reported = select(SafetyReport.resident_id).where(SafetyReport.incident_id == incident.id)
    return wanted.where(Resident.id.not_in(reported))


def remind(session: Session, content: Content, incident: Incident, now: datetime, on: date) -> int | None:
    """One push to those who have not reported, with the button that starts a report; the
    push's source key is the incident's, so it goes at most once (None after that)."""
    def message(lang: str) -> list[dict[str, Any]]:
        body = content.text("safety.reminder", lang, level=incident.level,
                            hazard=inc.hazard_name(content, lang, incident.hazard),
                            districts=inc.district_names(content, lang, incident.districts))
        if incident.training:
            body = content.text("disaster.training_mark", lang) + " " + body
        return [text_message(body, quick=[report_button(content, lang)])]
    return delivery.create_push(session, source_key=reminder_key(incident.id), kind="safety-reminder",
                                messages={lang: message(lang) for lang in LANGUAGES},
                                recipients=not_reported(incident, on), now=now, urgent=True,
                                segment={"districts": incident.districts, "training": incident.training})


def report_button(content: Content, lang: str) -> Tap:
    """「安否を知らせる」: starts a report (broadcasts and the reminder carry it)."""
    label = content["safety"].labels["report"].get(lang)
    return Tap(label, "action=safety", label)


# -- erasing ---------------------------------------------------------------------------------------
def erase_expired(session: Session, now: datetime, keep: timedelta) -> int:
    """Reports of incidents ended more than the retention ago, and of residents who blocked
    the account (kept for a grace period themselves, their reports are not)."""
    ended = select(Incident.id).where(and_(Incident.ended_at.is_not(None), Incident.ended_at <= now - keep))
    blocked = select(Resident.id).where(Resident.following.is_(False))
    result = session.execute(delete(SafetyReport).where(or_(SafetyReport.incident_id.in_(ended),
                                                            SafetyReport.resident_id.in_(blocked)))
                             .execution_options(synchronize_session=False))
    return result.rowcount or 0


def erase_resident(session: Session, resident_id: int) -> None:
    session.execute(delete(SafetyReport).where(SafetyReport.resident_id == resident_id)
                    .execution_options(synchronize_session=False))
