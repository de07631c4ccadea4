"""避難所の混雑状況 in /admin: the desk sets each open site's room (空きあり・混雑・満員・閉鎖).

Everyone with `view` sees the sites opened by the active incidents (training ones too,
marked) with their state, who set it and when; `shelter_room` (desk and admin) sets it.
Only a site some active incident has opened can be set: the state belongs to this
emergency (room.py ignores states older than the incidents now active). Each change is
audited (`shelter.room`, words.py). The nearest-shelter answer reads the state at once.
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import RadioField, SelectChoice
from wtforms.validators import DataRequired

from bot.admin import bp, db, now
from bot.admin.audit import audit
from bot.admin.roles import add_permission, requires

from . import incidents as inc
from . import room
from .desk import _render, content
from .shelters import shelters_of
from .tables import Room, ShelterRoom

add_permission("shelter_room", "避難所の混雑状況の更新", roles=("desk",))


class RoomForm(FlaskForm):
    """One site's buttons (the CSRF token and the state chosen)."""

    state = RadioField("状態", choices=[SelectChoice(state.value, label) for state, label in room.LABELS.items()],
                       validators=[DataRequired("状態を選んでください。")])


def open_sites(incidents: list[inc.Incident]) -> list[dict[str, Any]]:
    """The sites the active incidents opened, in the content's order (by district), each
    with the incidents that opened it and whether any of them is real."""
    sites = shelters_of(content())
    opened: dict[str, list[inc.Incident]] = {}
    for incident in incidents:
        for site_id in incident.shelters:
            opened.setdefault(site_id, []).append(incident)
    return [{"site": site, "incidents": opened[site.id], "training": all(i.training for i in opened[site.id])}
            for site in sites.shelters if site.id in opened]


@bp.get("/shelter-rooms")
def shelter_rooms():
    active = inc.active(db(), now(), include_training=True)
    rows = open_sites(active)
    states = room.states(db(), active)
    set_by = {r.site_id: r for r in db().scalars(select(ShelterRoom).where(ShelterRoom.site_id.in_(list(states))))}
    for row in rows:
        row["state"] = states.get(row["site"].id)
        row["set"] = set_by.get(row["site"].id)
    return _render("admin/shelter_rooms.html", rows=rows, labels=room.LABELS, form=RoomForm(),
                   left_out=sum(1 for r in rows if not room.offered(r["state"])))


@bp.post("/shelter-rooms/<site_id>")
@requires("shelter_room")
def shelter_room_set(site_id: str):
    active = inc.active(db(), now(), include_training=True)
    site = shelters_of(content()).get(site_id)
    if site is None:
        abort(404)
    if site_id not in inc.open_shelter_ids(active):
        flash(f"{site.name} は発令中の災害・避難情報で開設されていません。状態は開設中の避難所にだけ設定できます。",
              "error")
        return redirect(url_for("admin.shelter_rooms"))
    form = RoomForm()
    if not form.validate_on_submit():
        flash("状態を選べませんでした。もう一度お試しください。", "error")
        return redirect(url_for("admin.shelter_rooms"))
    state = Room(form.state.data)
    try:
        before = room.set_state(db(), site_id, state, by=current_user.name, now=now(),
                                since=min(i.started_at for i in active))
    except ValueError:
        flash(f"{site.name} はすでに「{room.LABELS[state]}」です。", "info")
        return redirect(url_for("admin.shelter_rooms"))
    audit("shelter.room", f"shelter:{site_id}",
          {"site": site.name, "from": before.value if before else None, "to": state.value})
    db().commit()
    flash(f"{site.name} を「{room.LABELS[state]}」にしました。"
          + ("住民には案内されなくなります。" if not room.offered(state) else ""), "info")
    return redirect(url_for("admin.shelter_rooms"))
