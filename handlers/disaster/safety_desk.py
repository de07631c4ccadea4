"""安否・避難報告 in /admin: what residents reported, per incident, for the desk.

Everyone with `view` sees, for each incident that is on (or ended less than the city's
retention ago), how many reported and how many people they are, by division (the
resident's registered district; 不明 without one) and status; the page polls
/admin/safety/counts.json (static/safety.js) so the numbers move without a reload.

Who needs help, where (a map link) and what they wrote is personal: only roles with the
`safety_help` permission (desk and admin) see the list or download it as CSV for the
rescue teams (bot/csvsafe.py keeps a typed note from running as a formula), and every
view and download is audited. `send` may push one reminder per incident to the residents
of its divisions who have not reported (the push's source key makes it once only).
"""

from __future__ import annotations

import io
from typing import Any

from flask import Response, flash, jsonify, redirect, url_for
from zoneinfo import ZoneInfo

from bot import csvsafe
from bot.admin import bp, db, now, services
from bot.admin.audit import audit
from bot.admin.roles import add_permission, can, requires

from . import safety_reports as sr
from .desk import ConfirmForm, _found, _render, content, today
from .incidents import Incident
from .tables import SafetyStatus

add_permission("safety_help", "要救助者の一覧（位置・ひとこと）", roles=("desk",))

STATUS_LABELS = {SafetyStatus.HOME: "自宅で無事", SafetyStatus.CAR: "車の中で無事",
                 SafetyStatus.RELATIVES: "親せき・知人宅で無事", SafetyStatus.SHELTER: "避難所にいる",
                 SafetyStatus.HELP: "助けが必要"}
UNKNOWN_LABEL = "不明"
POLL_MS = 5000
CSV_COLUMNS = ["incident", "updated_at", "division", "people", "latitude", "longitude", "map", "note"]
CSV_HEADERS = {"incident": "災害No.", "updated_at": "報告日時", "division": "区", "people": "人数",
               "latitude": "緯度", "longitude": "経度", "map": "地図", "note": "ひとこと"}


def _keep():
    return sr.retention(content())


def _tz() -> ZoneInfo:
    return ZoneInfo(services().config.timezone)


def division_name(district: str | None) -> str:
    found = content()["settings"].district(district) if district else None
    return found.name.get("ja") if found else (district or UNKNOWN_LABEL)


def divisions(incident: Incident, counted: sr.Counts) -> list[tuple[str, str]]:
    """(id, name) rows: the incident's divisions (all for a whole-city one), any other that
    reported, then 不明."""
    ids = list(incident.districts) or [d.id for d in content()["settings"].districts]
    ids += sorted(d for d in counted.cells if d not in ids and d != sr.UNKNOWN_DIVISION)
    return [(d, division_name(d)) for d in ids] + [(sr.UNKNOWN_DIVISION, UNKNOWN_LABEL)]


def _visible(incident_id: int) -> Incident:
    row = _found(Incident, incident_id)
    if not sr.is_visible(row, now(), _keep()):
        flash("この災害の安否報告は、保存期間が過ぎたため表示できません（消去されています）。", "info")
        raise _Gone()
    return row


class _Gone(Exception):
    pass


@bp.errorhandler(_Gone)
def _gone(_error: _Gone):
    return redirect(url_for("admin.safety"))


@bp.get("/safety")
def safety():
    at = now()
    shown = []
    for incident in sr.visible_incidents(db(), at, _keep()):
        counted = sr.counts(db(), incident.id)
        shown.append({"incident": incident, "counts": counted, "divisions": divisions(incident, counted),
                      "active": incident.is_active(at), "reminded": sr.reminded(db(), incident.id),
                      "help": list(sr.needing_help(db(), incident.id)) if can("safety_help") else None})
    if can("safety_help") and shown:
        audit("safety.view_help", "safety", {"incidents": [s["incident"].id for s in shown],
                                              "rows": sum(len(s["help"]) for s in shown)})
        db().commit()
    return _render("admin/safety.html", shown=shown, statuses=list(SafetyStatus), status_labels=STATUS_LABELS,
                   form=ConfirmForm(), poll_ms=POLL_MS, map_url=sr.map_url, division_name=division_name, cell=cell,
                   retention_days=content()["safety"].retention_days)


@bp.get("/safety/counts.json")
def safety_counts():
    """The numbers only (no one's place or words): what the page's script polls."""
    at = now()
    return jsonify({"incidents": [{"id": i.id, **sr.counts(db(), i.id).as_json()}
                                  for i in sr.visible_incidents(db(), at, _keep())]})


@bp.get("/safety/<id:incident_id>/help.csv")
@requires("safety_help")
def safety_help_csv(incident_id: int):
    incident = _visible(incident_id)
    out = io.StringIO()
    writer = csvsafe.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\r\n")
    writer.writerow(CSV_HEADERS)
    found = sr.needing_help(db(), incident.id)
    for report, district in found:
        writer.writerow({"incident": incident.id, "updated_at": report.updated_at.astimezone(_tz()).strftime(
            "%Y-%m-%d %H:%M"), "division": division_name(district), "people": report.people,
            "latitude": report.latitude if report.latitude is not None else "",
            "longitude": report.longitude if report.longitude is not None else "",
            "map": sr.map_url(report.latitude, report.longitude) or "", "note": report.note or ""})
    audit("safety.export_help", f"incident:{incident.id}", {"rows": len(found)})
    db().commit()
    return Response("\ufeff" + out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f"attachment; filename=help-{incident.id}.csv"})


@bp.post("/safety/<id:incident_id>/remind")
@requires("send")
def safety_remind(incident_id: int):
    incident = _visible(incident_id)
    form = ConfirmForm()
    if not form.validate_on_submit():
        flash("画面を開き直してから、もう一度押してください。", "error")
        return redirect(url_for("admin.safety"))
    if not incident.is_active(now()):
        flash("解除された災害には、安否確認を送れません。", "error")
        return redirect(url_for("admin.safety"))
    push_id = sr.remind(db(), content(), incident, now(), today())
    if push_id is None:
        db().rollback()
        flash("この災害の安否確認は、すでに送っています（1つの災害に1回だけ送れます）。", "info")
        return redirect(url_for("admin.safety"))
    audit("safety.remind", f"incident:{incident.id}", {"push": push_id, "districts": incident.districts,
                                                        "training": incident.training})
    db().commit()
    flash("未報告の方に安否確認を送りました（送信は順に行われます）。", "info")
    return redirect(url_for("admin.safety"))


def cell(counted: sr.Counts, division: str, status: str) -> dict[str, Any]:
    """One division's reports and people in one status (zeros where none reported)."""
    return counted.cells.get(division, {}).get(status, {"reports": 0, "people": 0})
