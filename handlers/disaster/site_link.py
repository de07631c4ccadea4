"""A site's staff link: /shelter/<site_id>?t=<token>, where staff at an open evacuation
site who have no /admin account set its room (空きあり・混雑・満員・閉鎖) from a phone.

The desk shows the link on 避難所の混雑状況 (desk_rooms.py) and hands it over (LINE, a
call read aloud, paper); showing it is audited. The token is an HMAC (itsdangerous,
keyed with the app's secret key, the one that signs staff sessions) over the site id, the
incidents that opened the site and the site's link version, so a link

- works for its own site only (another site's id, a changed character: refused);
- stops working when the incidents it was made for have all ended (or no longer open
  the site): the next emergency gets new links, and a link kept from a drill does nothing;
- can be revoked at once by the desk (the version in shelter_links goes up), for a link
  forwarded to the wrong people.

A refused link is a 403 page saying why, in Japanese. A state set here goes through
room.set_state like the desk's, audited as `shelter.room` by `link:<site_id>`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from itsdangerous import BadData, URLSafeSerializer
from sqlalchemy.orm import Session
from wtforms import RadioField, SelectChoice
from wtforms.validators import DataRequired

from bot.admin import db, now, public_page, services
from bot.admin.audit import audit

from . import incidents as inc
from . import room
from .shelters import shelters_of
from .tables import Room, ShelterLink

SALT = "shelter-link"  # a token for this and nothing else signed with the same key

INVALID = "このリンクは使えません。リンクが途中で切れていないか確かめるか、災害対策本部に新しいリンクをもらってください。"
REVOKED = "このリンクは災害対策本部が無効にしました。新しいリンクを災害対策本部にもらってください。"
ENDED = "この避難所を開設した災害・避難情報は解除されたため、このリンクは使えません。"

page = public_page(Blueprint("shelter_site", __name__, template_folder="templates", static_folder="static/site",
                             static_url_path="/shelter/files"))


class Refused(Exception):
    """A link that sets nothing; the message says why to the person holding it."""


class SiteForm(FlaskForm):
    """The four buttons (and the CSRF token: the page is public, its form is not)."""

    state = RadioField("状態", choices=[SelectChoice(state.value, label) for state, label in room.LABELS.items()],
                       validators=[DataRequired("状態を選んでください。")])


def _signer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.secret_key or "", salt=SALT)


def version(session: Session, site_id: str) -> int:
    row = session.get(ShelterLink, site_id)
    return row.version if row is not None else 0


def revoke(session: Session, site_id: str, *, by: str, at: datetime) -> int:
    """Make every link of the site made so far useless; the new version."""
    row = session.get(ShelterLink, site_id)
    if row is None:
        row = ShelterLink(site_id=site_id, version=0, updated_at=at, updated_by=by)
        session.add(row)
    row.version, row.updated_at, row.updated_by = row.version + 1, at, by[:64]
    return row.version


def token_for(session: Session, site_id: str, incidents: list[inc.Incident]) -> str:
    """The token of a site's link, for the active incidents that opened it."""
    ids = sorted(i.id for i in incidents if site_id in i.shelters)
    return _signer().dumps([site_id, ids, version(session, site_id)])


def check(session: Session, site_id: str, token: str) -> list[inc.Incident]:
    """The active incidents (all of them: room.set_state's `since`) when `token` is a
    working link to `site_id`; else Refused."""
    try:
        payload = _signer().loads(token)
    except BadData:
        raise Refused(INVALID) from None
    if not (isinstance(payload, list) and len(payload) == 3 and payload[0] == site_id
            and isinstance(payload[1], list) and isinstance(payload[2], int)):
        raise Refused(INVALID)
    if payload[2] != version(session, site_id):
        raise Refused(REVOKED)
    active = inc.active(session, now(), include_training=True)
    if not any(i.id in payload[1] and site_id in i.shelters for i in active):
        raise Refused(ENDED)
    return active


def _refused(message: str, status: int = 403):
    return render_template("shelter/refused.html", message=message), status


@page.route("/shelter/<site_id>", methods=["GET", "POST"])
def site(site_id: str):
    token = request.args.get("t", "")
    try:
        active = check(db(), site_id, token)
    except Refused as refused:
        return _refused(str(refused))
    found = shelters_of(services().content.current()).get(site_id)
    if found is None:  # gone from content since the link was made
        return _refused(INVALID)
    form = SiteForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            return _refused("送信を受け付けられませんでした。ページを開き直してから、もう一度押してください。", 400)
        _set(site_id, found.name, Room(form.state.data), active)
        return redirect(url_for("shelter_site.site", site_id=site_id, t=token))
    state = room.states(db(), active).get(site_id)
    training = all(i.training for i in active if site_id in i.shelters)  # a drill's page says so
    return render_template("shelter/site.html", site=found, state=state, labels=room.LABELS, form=form,
                           offered=room.offered(state), token=token, training=training)


def _set(site_id: str, name: str, state: Room, active: list[inc.Incident]) -> None:
    actor = f"link:{site_id}"[:64]
    try:
        before = room.set_state(db(), site_id, state, by=actor, now=now(),
                                since=min(i.started_at for i in active))
    except ValueError:
        flash(f"すでに「{room.LABELS[state]}」です。", "info")
        return
    audit("shelter.room", f"shelter:{site_id}",
          {"site": name, "from": before.value if before else None, "to": state.value, "link": True}, actor=actor)
    db().commit()
    flash(f"「{room.LABELS[state]}」にしました。" + ("住民には案内されなくなります。" if not room.offered(state) else ""),
          "info")


def link_values(site_id: str, active: list[inc.Incident]) -> dict[str, Any]:
    """What the desk's page shows and the audit records for a site's link."""
    token = token_for(db(), site_id, active)
    return {"url": url_for("shelter_site.site", site_id=site_id, t=token, _external=True),
            "incidents": sorted(i.id for i in active if site_id in i.shelters), "version": version(db(), site_id)}
