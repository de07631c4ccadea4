"""避難所の混雑状況 in /admin: the desk sets each open site's room (空きあり・混雑・満員・閉鎖).

Everyone with `view` sees the sites opened by the active incidents (training ones too,
marked) with their state, who set it and when; `shelter_room` (desk and admin) sets it.
Only a site some active incident has opened can be set: the state belongs to this
emergency (room.py ignores states older than the incidents now active). Each change is
audited (`shelter.room`, words.py). The nearest-shelter answer reads the state at once.

Staff at a site without an account get the site's link instead (site_link.py): the desk
shows it here (audited `shelter.link`, since whoever holds it can set the site) and can
revoke every link of a site at once (`shelter.link_revoke`).
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
from . import room, site_link
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


def _open_site(site_id: str):
    """(the site, the active incidents) for a site some active incident opened; a 404 for a
    site content does not know, a message and None for one that is not open."""
    site = shelters_of(content()).get(site_id)
    if site is None:
        abort(404)
    active = inc.active(db(), now(), include_training=True)
    if site_id not in inc.open_shelter_ids(active):
        flash(f"{site.name} は発令中の災害・避難情報で開設されていません。リンクは開設中の避難所にだけ作れます。", "error")
        return site, None
    return site, active


@bp.get("/shelter-rooms/<site_id>/link")
@requires("shelter_room")
def shelter_link(site_id: str):
    site, active = _open_site(site_id)
    if active is None:
        return redirect(url_for("admin.shelter_rooms"))
    link = site_link.link_values(site_id, active)
    audit("shelter.link", f"shelter:{site_id}",
          {"site": site.name, "incidents": link["incidents"], "version": link["version"]})
    db().commit()
    return _render("admin/shelter_link.html", site=site, link=link)


@bp.post("/shelter-rooms/<site_id>/link/revoke")
@requires("shelter_room")
def shelter_link_revoke(site_id: str):
    site = shelters_of(content()).get(site_id)
    if site is None:
        abort(404)
    version = site_link.revoke(db(), site_id, by=current_user.name, at=now())
    audit("shelter.link_revoke", f"shelter:{site_id}", {"site": site.name, "version": version})
    db().commit()
    flash(f"{site.name} のスタッフ用リンクをすべて無効にしました。必要なら新しいリンクを表示して渡し直してください。", "info")
    return redirect(url_for("admin.shelter_rooms"))
