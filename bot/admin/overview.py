"""What is going on: the dashboard, pushes and their progress (a day's large-waste bookings: bookings.py).

The home page also shows the worker and clock processes by their heartbeats
(bot/heartbeat.py): a process silent for a few heartbeats, or a kind with none alive,
is a warning, since pushes and notices stop without any other sign.

All of it is for every staff role (`view`) and none of it shows personal data: residents
are only counted (GROUP BY in the database, never loaded), pushes are shown by their
counts (large-waste bookings, which hold a name, address and phone, are bookings.py's).

`/admin/pushes/<id>/progress` answers JSON ({total, sent, failed, pending, percent,
done}) for static/progress.js, which any page can use to show a live progress bar:

    <div data-progress-url="{{ url_for('admin.push_progress', push_id=id) }}">
      <progress max="100" value="{{ p.percent }}">{{ p.percent }}%</progress>
      <span data-progress-field="percent">{{ p.percent }}</span>%
    </div>
    {% block scripts %}<script src="{{ url_for('admin.static', filename='progress.js') }}" defer></script>{% endblock %}
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import abort, jsonify, render_template
from flask_login import current_user
from sqlalchemy import func, select

from .. import delivery, heartbeat
from ..models import Push, PushBatch, Resident
from . import bp, db, nav_item, now, services, titles
from .roles import PERMISSION_LABELS, permissions_of, requires

nav_item("配信状況", "admin.pushes", "view", "お知らせやリマインダーの配信の進み具合（送信済み・失敗・未送信）を確認します。")

LANGUAGE_LABELS = {"ja": "日本語", "en": "English", "easy_ja": "やさしい日本語"}
WEEKDAYS_JA = "月火水木金土日"
USER_ID = re.compile(r"U[0-9a-f]{32}")  # a LINE user id: never on a staff page, whatever a key holds


def _masked(value: Any) -> str:
    return USER_ID.sub("U…", "" if value is None else str(value))


bp.add_app_template_filter(_masked, "masked")


def day_label(day: date) -> str:
    """2026-12-15 -> 12月15日(火)"""
    return f"{day.month}月{day.day}日({WEEKDAYS_JA[day.weekday()]})"


bp.add_app_template_filter(day_label, "day_label")


# -- progress of one push ----------------------------------------------------------------------------
def _with_progress(row: dict[str, Any]) -> dict[str, Any]:
    """A row of delivery.status with what pages show: its progress, its kind and title in
    words (titles.py), never its source key alone."""
    zone = ZoneInfo(services().config.timezone)
    return {**row, "created": datetime.fromisoformat(row["created_at"]), "progress": delivery.progress_of(row),
            "kind_label": titles.kind_label(db().get(Push, row["id"]), row["kind"]),
            "title": titles.push_title(row, services().content.current(), db(), zone)}


def _push_or_404(push_id: int) -> dict[str, Any]:
    rows = delivery.status(db(), push_id)
    if not rows:
        abort(404)
    return _with_progress(rows[0])


# -- the dashboard ------------------------------------------------------------------------------------
def residents_by_district(content: Any) -> list[dict[str, Any]]:
    """Following residents per district: every district of settings.yaml (0 too), then
    ids content no longer has, then 未登録."""
    counts = dict(db().execute(select(Resident.district, func.count()).where(Resident.following.is_(True))
                               .group_by(Resident.district)).all())
    rows = [{"name": d.name.ja, "count": counts.pop(d.id, 0)} for d in content["settings"].districts]
    unregistered = counts.pop(None, 0)
    rows += [{"name": f"{district}（設定にない区）", "count": n} for district, n in sorted(counts.items())]
    rows.append({"name": "未登録", "count": unregistered})
    return rows


def residents_by_language() -> list[dict[str, Any]]:
    counts = dict(db().execute(select(Resident.language, func.count()).where(Resident.following.is_(True))
                               .group_by(Resident.language)).all())
    rows = [{"name": label, "count": counts.pop(lang, 0)} for lang, label in LANGUAGE_LABELS.items()]
    rows += [{"name": lang or "（なし）", "count": n} for lang, n in sorted(counts.items(), key=lambda kv: str(kv[0]))]
    return rows


def pushes_in_flight(limit: int = 10) -> list[dict[str, Any]]:
    ids = db().scalars(select(PushBatch.push_id).where(PushBatch.status.in_(delivery.IN_FLIGHT))
                       .group_by(PushBatch.push_id).order_by(PushBatch.push_id.desc()).limit(limit)).all()
    return [_push_or_404(push_id) for push_id in ids]


def content_status() -> dict[str, Any]:
    store = services().content
    store.current()  # looks for changed files when it is time (as /healthz does)
    return {**store.status(), "loaded": store.loaded_at}


def panels() -> list[dict[str, Any]]:
    """The services' panels on the home page (bot.admin.home_panel), each with its values."""
    from . import HOME_PANELS

    return [{"template": panel.template, "values": panel.values()} for panel in HOME_PANELS]


@bp.get("/")
def dashboard():
    mine = permissions_of(current_user.role)
    content = services().content.current()
    by_district = residents_by_district(content)
    return render_template("admin/dashboard.html", permissions=[p for p in PERMISSION_LABELS if p in mine],
                           by_district=by_district, by_language=residents_by_language(),
                           followers=sum(r["count"] for r in by_district),
                           in_flight=pushes_in_flight(), content_status=content_status(), panels=panels(),
                           processes=heartbeat.recent(db(), now(), services().config.heartbeat_seconds))


# -- pushes -------------------------------------------------------------------------------------------
@bp.get("/pushes")
@requires("view")
def pushes():
    rows = [_with_progress(row) for row in delivery.status(db(), limit=50)]
    return render_template("admin/pushes.html", pushes=rows)


@bp.get("/pushes/<id:push_id>")
@requires("view")
def push(push_id: int):
    row = _push_or_404(push_id)
    preview = None
    if row["kind"] != "handler":  # a reply to one resident may hold their booking: not shown
        messages = db().get(Push, push_id).messages or {}
        first = (messages.get("ja") or messages.get("*") or [None])[0]
        if isinstance(first, dict):
            preview = first.get("text") or first.get("altText")
    return render_template("admin/push.html", push=row, preview=preview)


@bp.get("/pushes/<id:push_id>/progress")
@requires("view")
def push_progress(push_id: int):
    rows = delivery.status(db(), push_id)
    if not rows:
        return jsonify(error="not found"), 404
    return jsonify(delivery.progress_of(rows[0]))
