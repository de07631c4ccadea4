"""通報 in /admin: the queue, the map, one report with its photos, a status change.

Every role sees the queue (kind, status and dates as filters), the map (Leaflet, vendored
in bot/admin/static/leaflet; tiles from MAP_TILE_URL when the city has some, else pins on
a plain background — nothing is fetched from elsewhere) and each report: its photos, the
place, what the resident wrote, the history, and reports of the same kind nearby as
possible duplicates. Who reported is never shown: the page knows no resident.

A status change (受付 → 対応中 → 完了 / 対応できません, with a note for the resident) is
made by staff with `update_reports` — desk and admin for every kind, a field account for
its own kinds — and is pushed to the reporter in the same transaction as the change and
its audit entry. The form carries the status it was shown with, so a form sent twice (or
by two people) changes the report once and tells the resident once.
"""

from __future__ import annotations

import io
from datetime import date, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.orm import Session

from bot import csvsafe
from bot.admin import bp, db, nav_item, now, page_files, services
from bot.admin.audit import audit
from bot.admin.ids import stored_id
from bot.admin.roles import add_permission, can, requires
from bot.admin.titles import KIND_LABELS, title
from bot.content.store import Content
from bot.statuses import IllegalTransition

from . import domain
from .tables import Report, ReportPhoto, ReportStatus, ReportUpdate
from .words import STATUSES, ReportsContent

# desk and admin staff update any report; a 現場担当 (field) account updates the reports of
# the kinds given to it (`citybot reports field-kinds`) and sees the rest like a viewer.
add_permission("update_reports", "通報の対応", roles=("desk", "field"))
files = page_files(__name__)
KIND_LABELS["report"] = "通報の対応状況"
nav_item("通報", "admin.reports", "view", "市民からの通報（道路・公園・街灯など）を一覧と地図で確認し、対応状況を更新します。")

DAY_RANGE = timedelta(days=3653)  # a day asked for: at most ten years from today
NOTE_MAX = 500


def _words() -> ReportsContent:
    return services().content.current()["reports"]


def _tz() -> ZoneInfo:
    return ZoneInfo(services().config.timezone)


def _day(name: str) -> tuple[date | None, str | None]:
    value = request.args.get(name) or ""
    if not value:
        return None, None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        return None, f"日付「{value}」を読み取れません。YYYY-MM-DD の形で選んでください。"
    today = now().astimezone(_tz()).date()
    if not today - DAY_RANGE <= day <= today + DAY_RANGE:
        return None, f"日付「{value}」は選べません。"
    return day, None


def _filter() -> tuple[domain.Filter, list[str]]:
    """The queue's filters from the query string; what could not be used, said once each."""
    words, errors = _words(), []
    kind = request.args.get("kind") or None
    if kind and words.kind(kind) is None:
        errors.append("その種類の通報はありません。")
        kind = None
    status = _status(request.args.get("status"))
    if request.args.get("status") and status is None:
        errors.append("その状態はありません。")
    since, error = _day("since")
    errors += [error] if error else []
    until, error = _day("until")
    errors += [error] if error else []
    return domain.Filter(kind, status, since, until), errors


def _status(value: str | None) -> ReportStatus | None:
    """A status a form or a link sent, or None for a value no status has."""
    return ReportStatus(value) if value in STATUSES else None


def _query_args(flt: domain.Filter) -> dict[str, str]:
    return {k: v for k, v in (("kind", flt.kind), ("status", flt.status),
                              ("since", flt.since.isoformat() if flt.since else None),
                              ("until", flt.until.isoformat() if flt.until else None)) if v}


def _labels() -> dict[str, dict[str, str]]:
    words = _words()
    return {"kinds": {k.id: k.label.ja for k in words.kinds}, "departments": {k.id: k.department for k in words.kinds},
            "statuses": {s: words.statuses[s].ja for s in STATUSES}}


def may_update(report: Report) -> bool:
    """desk/admin: any report; field: reports of the kinds given to the account."""
    if not can("update_reports"):
        return False
    if current_user.role != "field":
        return True
    return report.kind in domain.field_kinds(db(), current_user.id)


# -- the queue and the map ------------------------------------------------------------------------
@bp.get("/reports")
@requires("view")
def reports():
    flt, errors = _filter()
    found = domain.listed(db(), flt, _tz())
    words = _words()
    photos = domain.photo_ids(db(), [r.id for r in found])
    duplicates = domain.duplicate_counts(db(), found, words.duplicates.metres, words.duplicates.days)
    own = sorted(domain.field_kinds(db(), current_user.id)) if current_user.role == "field" else None
    return render_template("admin/reports.html", reports=found, flt=flt, args=_query_args(flt), errors=errors,
                           counts=domain.counts_by_status(db(), flt, _tz()), photos=photos, duplicates=duplicates,
                           labels=_labels(), kinds=words.kinds, statuses=STATUSES, own_kinds=own,
                           files="reports_files"), 400 if errors else 200


@bp.get("/reports/map")
@requires("view")
def reports_map():
    flt, errors = _filter()
    words = _words()
    config = services().config
    return _with_tiles(Response(render_template(
        "admin/reports_map.html", flt=flt, args=_query_args(flt), errors=errors, labels=_labels(), kinds=words.kinds,
        statuses=STATUSES, center=words.map.center, zoom=words.map.zoom, tile_url=config.map_tile_url,
        attribution=config.map_tile_attribution, files="reports_files"), status=400 if errors else 200))


def _with_tiles(response: Response) -> Response:
    """The city's tiles are the one thing a map page may fetch from elsewhere (CSP img-src)."""
    origin = _tile_origin(services().config.map_tile_url)
    if origin:
        response.headers["Content-Security-Policy"] = (
            "default-src 'self'; img-src 'self' data: " + origin + "; frame-ancestors 'none'; form-action 'self'; "
            "base-uri 'none'; object-src 'none'")
    return response


def _tile_origin(url: str) -> str | None:
    if not url:
        return None
    parts = urlsplit(url.replace("{s}", "a").replace("{z}", "0").replace("{x}", "0").replace("{y}", "0"))
    host = parts.netloc
    if "{s}" in url:  # subdomains a, b, c of the same host
        host = "*." + host.split(".", 1)[1] if "." in host else host
    return f"{parts.scheme}://{host}" if parts.scheme in ("http", "https") and host else None


@bp.get("/reports.geojson")
@requires("view")
def reports_geojson():
    flt, errors = _filter()
    if errors:
        abort(400)
    found = domain.listed(db(), flt, _tz(), limit=5000)
    collection = domain.geojson(_words(), found, domain.photo_ids(db(), [r.id for r in found]), _tz(),
                                link=lambda r: url_for("admin.report", report_id=r.id))
    if request.args.get("download"):
        audit("reports.export", "reports.geojson", {**_query_args(flt), "rows": len(collection["features"])})
        db().commit()
    return Response(domain.geojson_text(collection), mimetype="application/geo+json",
                    headers={"Content-Disposition": "attachment; filename=reports.geojson"}
                    if request.args.get("download") else {})


@bp.get("/reports.csv")
@requires("view")
def reports_csv():
    flt, errors = _filter()
    if errors:
        abort(400)
    found = domain.listed(db(), flt, _tz(), limit=50_000)
    photos = domain.photo_ids(db(), [r.id for r in found])
    out = io.StringIO()
    writer = csvsafe.DictWriter(out, fieldnames=domain.EXPORT_COLUMNS, lineterminator="\r\n")
    writer.writerow(domain.EXPORT_HEADERS)
    words = _words()
    for report in found:
        writer.writerow(domain.export_row(words, report, len(photos.get(report.id, [])), _tz()))
    audit("reports.export", "reports.csv", {**_query_args(flt), "rows": len(found)})
    db().commit()
    return Response("\ufeff" + out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": "attachment; filename=reports.csv"})


# -- one report -----------------------------------------------------------------------------------
def _report(report_id: int) -> Report:
    report = db().get(Report, report_id)
    if report is None:
        abort(404)
    return report


@bp.get("/reports/<id:report_id>")
@requires("view")
def report(report_id: int):
    found = _report(report_id)
    words = _words()
    config = services().config
    return _with_tiles(Response(render_template(
        "admin/report.html", report=found, labels=_labels(), photos=domain.photo_ids(db(), [found.id]).get(found.id, []),
        history=domain.history(db(), found.id), statuses=STATUSES,
        nearby=domain.nearby(db(), found, words.duplicates.metres, words.duplicates.days),
        duplicates=words.duplicates, may_update=may_update(found), note_max=NOTE_MAX, tile_url=config.map_tile_url,
        attribution=config.map_tile_attribution, files="reports_files")))


@bp.post("/reports/<id:report_id>/status")
@requires("update_reports")
def report_status(report_id: int):
    found = _report(report_id)
    if not may_update(found):
        abort(403)
    expected, status = _status(request.form.get("expected")), _status(request.form.get("status"))
    note = (request.form.get("note") or "").strip()
    if status is None or expected is None:
        flash("状態を選んでください。", "error")
        return redirect(url_for("admin.report", report_id=found.id))
    if len(note) > NOTE_MAX:
        flash(f"お知らせは{NOTE_MAX}文字までにしてください。", "error")
        return redirect(url_for("admin.report", report_id=found.id))
    if status == expected:
        flash("状態が変わっていません。", "warning")
        return redirect(url_for("admin.report", report_id=found.id))
    try:
        change = domain.change_status(db(), services().content.current(), found, expected=expected, status=status,
                                      note=note, actor=current_user.name, now=now())
    except domain.Stale:
        db().rollback()
        flash("この通報は、ほかの操作で状態が変わっていました。いまの状態を確認してください。", "warning")
        return redirect(url_for("admin.report", report_id=report_id))
    except IllegalTransition:
        flash(f"「{_labels()['statuses'][expected]}」から「{_labels()['statuses'][status]}」には変えられません。", "error")
        return redirect(url_for("admin.report", report_id=report_id))
    audit("report.status", f"report:{found.number}", {"from": expected, "to": status, "note": bool(change.note),
                                                      "told_resident": change.push_id is not None})
    db().commit()
    told = "通報者にお知らせしました。" if change.push_id is not None else "通報者の情報は削除されているため、お知らせはしていません。"
    flash(f"{found.number} を「{_labels()['statuses'][status]}」にしました。{told}", "info")
    return redirect(url_for("admin.report", report_id=found.id))


@bp.get("/reports/photos/<id:photo_id>")
@requires("view")
def report_photo(photo_id: int):
    photo = db().get(ReportPhoto, photo_id)
    if photo is None or photo.report_id is None:  # a draft's photo belongs to nobody's queue yet
        abort(404)
    return Response(photo.data, mimetype="image/jpeg", headers={"Cache-Control": "private, max-age=3600"})


__all__ = ["ReportUpdate", "files", "may_update", "report", "reports"]


@title("report-status")
def _status_title(parts: list[str], content: Content, session: Session, tz: ZoneInfo) -> str:
    return f"通報の対応状況のお知らせ（更新 #{parts[0]}）"
