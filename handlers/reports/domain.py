"""Reports as the city handles them: sent, listed, moved on, exported, found near each other.

Everything here runs in the caller's transaction (a chat step, an /admin request, the
clock's job) and never commits: what a step changes and what it tells the resident are
stored together or not at all.
"""

from __future__ import annotations

import json
import math
import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Iterable, Sequence
from zoneinfo import ZoneInfo

from sqlalchemy import Select, delete, func, select, update
from sqlalchemy.orm import Session

from bot import delivery
from bot.content.store import Content
from bot.geo import distance_m
from bot.messages import text as text_message
from bot.models import Resident

from .photos import CleanPhoto
from .tables import FieldKind, Report, ReportPhoto, ReportStatus, ReportUpdate
from .words import STATUSES, ReportsContent

LANGS = ("ja", "en", "easy_ja")
DRAFT_PHOTO_HOURS = 24  # a photo of a report never sent is deleted after this long


# -- writing a report (the chat) ------------------------------------------------------------------
def keep_draft_photo(session: Session, resident_id: int, photo: CleanPhoto, now: datetime) -> int:
    row = ReportPhoto(resident_id=resident_id, data=photo.data, width=photo.width, height=photo.height,
                      created_at=now)
    session.add(row)
    session.flush()
    return row.id


def drop_draft_photos(session: Session, resident_id: int, photo_ids: Sequence[int]) -> None:
    """The photos of a report the resident stopped writing."""
    if photo_ids:
        session.execute(delete(ReportPhoto).where(ReportPhoto.id.in_(list(photo_ids)),
                                                  ReportPhoto.resident_id == resident_id,
                                                  ReportPhoto.report_id.is_(None)))


@dataclass(frozen=True)
class Draft:
    kind: str
    photo_ids: tuple[int, ...]
    latitude: float | None
    longitude: float | None
    place: str | None
    description: str | None


def submit(session: Session, resident_id: int, draft: Draft, request_key: str, now: datetime,
           tz: ZoneInfo) -> tuple[Report, bool]:
    """(report, new): store the report and give it the draft's photos; the same
    `request_key` again (a double tap) gives the first report back."""
    earlier = session.scalars(select(Report).where(Report.request_key == request_key)).first()
    if earlier is not None:
        return earlier, False
    report = Report(number=f"tmp-{uuid.uuid4().hex[:16]}", kind=draft.kind, status=ReportStatus.RECEIVED,
                    resident_id=resident_id, latitude=draft.latitude, longitude=draft.longitude,
                    place=(draft.place or None) and draft.place[:200],
                    description=(draft.description or None) and draft.description[:1000],
                    created_at=now, updated_at=now, request_key=request_key)
    session.add(report)
    session.flush()
    report.number = f"R-{now.astimezone(tz).year}-{report.id:06d}"
    if draft.photo_ids:  # from now on the photos are the report's, no longer the resident's
        session.execute(update(ReportPhoto)
                        .where(ReportPhoto.id.in_(list(draft.photo_ids)), ReportPhoto.resident_id == resident_id,
                               ReportPhoto.report_id.is_(None))
                        .values(report_id=report.id, resident_id=None)
                        .execution_options(synchronize_session=False))
    session.flush()
    return report, True


def prune_draft_photos(session: Session, now: datetime) -> int:
    """Photos of reports never sent (the chat was left, or timed out), after a day."""
    result = session.execute(delete(ReportPhoto).where(
        ReportPhoto.report_id.is_(None), ReportPhoto.created_at < now - timedelta(hours=DRAFT_PHOTO_HOURS)))
    return result.rowcount or 0


# -- staff: the queue, a status change -----------------------------------------------------------
@dataclass(frozen=True)
class Filter:
    kind: str | None = None
    status: ReportStatus | None = None
    since: date | None = None   # city-local dates, inclusive
    until: date | None = None

    def query(self, tz: ZoneInfo) -> Select:
        query = select(Report)
        if self.kind:
            query = query.where(Report.kind == self.kind)
        if self.status:
            query = query.where(Report.status == self.status)
        if self.since:
            query = query.where(Report.created_at >= datetime.combine(self.since, time(), tz))
        if self.until:
            query = query.where(Report.created_at < datetime.combine(self.until + timedelta(days=1), time(), tz))
        return query


def listed(session: Session, flt: Filter, tz: ZoneInfo, limit: int = 500) -> list[Report]:
    return list(session.scalars(flt.query(tz).order_by(Report.created_at.desc(), Report.id.desc()).limit(limit)))


def counts_by_status(session: Session, flt: Filter, tz: ZoneInfo) -> dict[str, int]:
    query = flt.query(tz).with_only_columns(Report.status, func.count()).group_by(Report.status)
    found = dict(session.execute(query).all())
    return {status: int(found.get(status, 0)) for status in STATUSES}


def photo_ids(session: Session, report_ids: Iterable[int]) -> dict[int, list[int]]:
    out: dict[int, list[int]] = {}
    ids = list(report_ids)
    if not ids:
        return out
    for photo_id, report_id in session.execute(select(ReportPhoto.id, ReportPhoto.report_id)
                                               .where(ReportPhoto.report_id.in_(ids)).order_by(ReportPhoto.id)):
        out.setdefault(report_id, []).append(photo_id)
    return out


def history(session: Session, report_id: int) -> list[ReportUpdate]:
    return list(session.scalars(select(ReportUpdate).where(ReportUpdate.report_id == report_id)
                                .order_by(ReportUpdate.at, ReportUpdate.id)))


def field_kinds(session: Session, staff_user_id: int) -> set[str]:
    return set(session.scalars(select(FieldKind.kind).where(FieldKind.staff_user_id == staff_user_id)))


class Stale(Exception):
    """The report moved since the form was shown (another tab, another person, a double submit)."""


def change_status(session: Session, content: Content, report: Report, *, expected: ReportStatus,
                  status: ReportStatus, note: str | None, actor: str, now: datetime) -> ReportUpdate:
    """Move a report on and tell its resident (one push, in this transaction). Only from
    the status the form showed: a form sent twice changes nothing the second time.
    A move ReportStatus's transitions refuse raises IllegalTransition (a ValueError)."""
    ReportStatus(expected).check(ReportStatus(status), f"report {report.number}")
    moved = session.execute(update(Report).where(Report.id == report.id, Report.status == expected)
                            .values(status=status, updated_at=now).execution_options(synchronize_session=False))
    if moved.rowcount != 1:
        raise Stale(report.number)
    session.refresh(report)
    change = ReportUpdate(report_id=report.id, at=now, actor=actor[:64], status_from=expected, status_to=status,
                          note=(note or "").strip()[:500] or None)
    session.add(change)
    session.flush()
    if report.resident_id is not None:
        change.push_id = delivery.create_push(
            session, source_key=f"report-status:{change.id}", kind="report", now=now,
            messages=status_messages(content, report, status, change.note),
            recipients=select(Resident.id).where(Resident.id == report.resident_id))
    return change


def status_messages(content: Content, report: Report, status: ReportStatus, note: str | None) -> dict[str, list[dict]]:
    words: ReportsContent = content["reports"]
    kind = words.kind(report.kind)
    out = {}
    for lang in LANGS:
        said = content.text("reports.status_changed", lang, number=report.number,
                            kind=kind.label.get(lang) if kind else report.kind,
                            status=words.statuses[status].get(lang))
        if note:
            said += "\n" + content.text("reports.status_note", lang, note=note)
        out[lang] = [text_message(said[:5000])]
    return out


# -- possible duplicates ----------------------------------------------------------------------------
def nearby(session: Session, report: Report, metres: float, days: int) -> list[tuple[Report, float]]:
    """Other reports of the same kind within `metres` and `days` of this one, nearest first."""
    if report.latitude is None or report.longitude is None:
        return []
    dlat = metres / 111_000
    dlon = metres / (111_000 * max(math.cos(math.radians(report.latitude)), 0.01))
    candidates = session.scalars(select(Report).where(
        Report.id != report.id, Report.kind == report.kind,
        Report.latitude.between(report.latitude - dlat, report.latitude + dlat),
        Report.longitude.between(report.longitude - dlon, report.longitude + dlon),
        Report.created_at.between(report.created_at - timedelta(days=days), report.created_at + timedelta(days=days))))
    found = [(other, distance_m(report.latitude, report.longitude, other.latitude, other.longitude))
             for other in candidates]
    return sorted([(r, d) for r, d in found if d <= metres], key=lambda pair: pair[1])


def duplicate_counts(session: Session, reports: Sequence[Report], metres: float, days: int) -> dict[int, int]:
    """For a page of the queue: how many possible duplicates each report has — one query
    per kind on the page (the page's time span, widened by `days`), not one per report."""
    placed = [r for r in reports if r.latitude is not None and r.longitude is not None]
    counts: dict[int, int] = {}
    for kind in {r.kind for r in placed}:
        mine = [r for r in placed if r.kind == kind]
        first = min(r.created_at for r in mine) - timedelta(days=days)
        last = max(r.created_at for r in mine) + timedelta(days=days)
        others = session.execute(select(Report.id, Report.latitude, Report.longitude, Report.created_at).where(
            Report.kind == kind, Report.latitude.is_not(None), Report.longitude.is_not(None),
            Report.created_at.between(first, last))).all()
        window, dlat = timedelta(days=days), metres / 111_000
        for report in mine:
            counts[report.id] = sum(
                1 for other_id, lat, lon, at in others
                if other_id != report.id and abs(lat - report.latitude) <= dlat and abs(at - report.created_at) <= window
                and distance_m(report.latitude, report.longitude, lat, lon) <= metres)
    return counts


# -- export ---------------------------------------------------------------------------------------
EXPORT_COLUMNS = ("number", "kind", "department", "status", "received", "updated", "latitude", "longitude", "place",
                  "description", "photos")
EXPORT_HEADERS = {"number": "受付番号", "kind": "種類", "department": "担当課", "status": "状態", "received": "受付日時",
                  "updated": "更新日時", "latitude": "緯度", "longitude": "経度", "place": "場所", "description": "内容",
                  "photos": "写真枚数"}


def export_row(words: ReportsContent, report: Report, photos: int, tz: ZoneInfo) -> dict[str, Any]:
    """One report as staff export it: no resident, only what was reported."""
    kind = words.kind(report.kind)
    return {"number": report.number, "kind": kind.label.ja if kind else report.kind,
            "department": kind.department if kind else "", "status": words.statuses[report.status].ja,
            "received": report.created_at.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
            "updated": report.updated_at.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
            "latitude": report.latitude if report.latitude is not None else "",
            "longitude": report.longitude if report.longitude is not None else "",
            "place": report.place or "", "description": report.description or "", "photos": photos}


def geojson(words: ReportsContent, reports: Sequence[Report], photos: dict[int, list[int]], tz: ZoneInfo,
            link: Any = None) -> dict[str, Any]:
    """A GeoJSON FeatureCollection (RFC 7946: [longitude, latitude]) of the reports with a place on the map."""
    features = []
    for report in reports:
        if report.latitude is None or report.longitude is None:
            continue
        props = export_row(words, report, len(photos.get(report.id, [])), tz)
        props.pop("latitude"), props.pop("longitude")
        props["status_id"], props["kind_id"] = report.status, report.kind
        if link is not None:
            props["url"] = link(report)
        features.append({"type": "Feature", "id": report.number,
                         "geometry": {"type": "Point", "coordinates": [report.longitude, report.latitude]},
                         "properties": props})
    return {"type": "FeatureCollection", "features": features}


def geojson_text(collection: dict[str, Any]) -> str:
    return json.dumps(collection, ensure_ascii=False, separators=(",", ":"))
