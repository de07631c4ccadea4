"""The disaster desk in /admin: incidents (災害・避難情報) here, emergency broadcasts (緊急配信)
in desk_broadcasts.py, what both use (the words, the forms' pieces) here too.

Incidents: everyone with `view` sees the active and recently ended ones; `send` declares
one (hazard, alert level, districts, the evacuation sites opened — only sites designated
for that hazard —, a status text per language, training or not), changes it and ends it
after a confirmation. The rich menu is switched right after a declaration or an end
(mode.sync_menu); a LINE error there is only a warning, the clock retries.
"""

from __future__ import annotations

import logging
from datetime import date
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import BooleanField, RadioField, SelectChoice, SelectField, SelectMultipleField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from bot.admin import bp, db, now, services
from bot.admin.audit import audit
from bot.admin.ids import stored_id
from bot.admin.roles import can, requires
from bot.content.models import LANGUAGES
from bot.content.store import Content
from bot.messenger import LineError
from bot.segments import segment_label

from . import broadcasts as bc
from . import incidents as inc
from . import reach as rc
from .mode import MODE, MenuNotOnLine, sync_menu
from .shelters import HAZARDS, SHELTERS, shelters_of

log = logging.getLogger(__name__)

LANGUAGE_LABELS = {"ja": "日本語", "en": "English（英語）", "easy_ja": "やさしい日本語"}
TARGET_LABELS = {"all": "友だち全員（LINEの一斉配信）", "districts": "区を選ぶ", "segment": "登録済みのグループ"}
STATUS_LABELS: dict[str, str] = {bc.BroadcastStatus.PENDING: "承認待ち", bc.BroadcastStatus.SENT: "送信済み",
                                 bc.BroadcastStatus.REJECTED: "差し戻し", bc.BroadcastStatus.CANCELLED: "取り消し"}
RECENT_ENDED = 20


# -- small helpers ---------------------------------------------------------------------------------
def content() -> Content:
    return services().content.current()


def today() -> date:
    """The city's date (segments count children's ages on it)."""
    return now().astimezone(ZoneInfo(services().config.timezone)).date()


class Words:
    """Japanese names for ids, for the templates (`desk.hazard("flood")` -> 洪水)."""

    def __init__(self, content_: Content):
        self.content = content_
        self.sites = shelters_of(content_) if SHELTERS in content_.documents else None

    def hazard(self, hazard: str) -> str:
        return inc.hazard_name(self.content, "ja", hazard)

    def level(self, level: int) -> str:
        return f"警戒レベル{level} {inc.level_name(self.content, 'ja', level)}"

    def districts(self, ids: list[str] | tuple[str, ...]) -> str:
        return inc.district_names(self.content, "ja", ids) if ids else "—"

    def shelter(self, shelter_id: str) -> str:
        site = self.sites.get(shelter_id) if self.sites else None
        return site.name if site else shelter_id

    def template(self, template_id: str) -> str:
        template = self.content["disaster"].template(template_id)
        return template.name if template else template_id

    def target(self, row: bc.Broadcast) -> str:
        if row.target == "districts":
            return f"区: {self.districts(row.districts)}"
        if row.target == "segment":
            return f"グループ: {self.segment(row.segment)}"
        return TARGET_LABELS["all"]

    def status(self, status: str) -> str:
        return STATUS_LABELS.get(status, status)

    def segment(self, name: str | None) -> str:
        return segment_label(self.content, name or "")


def _render(template: str, status: int = 200, **values: Any):
    values.setdefault("desk", Words(content()))
    values.setdefault("language_labels", LANGUAGE_LABELS)
    return render_template(template, **values), status


def _switch_menu() -> None:
    """The rich menu follows the incidents; a LINE error is a warning (the clock retries every minute)."""
    try:
        switched = sync_menu(services())
    except LineError as err:
        log.warning("rich menu not switched after an incident change: %s", err)
        flash(f"LINEのリッチメニューを切り替えられませんでした（{err}）。1分ごとの自動処理でもう一度試します。",
              "warning")
        return
    except MenuNotOnLine:
        flash("災害用のリッチメニューがLINEに登録されていません。"
              "運用担当に `citybot richmenu sync` を依頼してください。",
              "warning")
        return
    if switched:
        menu = content()["richmenu"].menu_for(MODE)
        flash("LINEのリッチメニューを災害用に切り替えました。" if menu is not None and switched == menu.alias
              else "LINEのリッチメニューを通常のものに戻しました。", "info")


def _lines(text: str | None) -> str:
    """A browser posts a textarea's line breaks as CRLF; residents get plain newlines."""
    return (text or "").replace("\r\n", "\n").replace("\r", "\n")


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


# -- incidents -------------------------------------------------------------------------------------
class IncidentChangeForm(FlaskForm):
    level = RadioField("警戒レベル", coerce=int, validators=[DataRequired("警戒レベルを選んでください。")])
    districts = MultiCheckboxField("対象の区", validators=[DataRequired("対象の区を1つ以上選んでください。")])
    shelters = MultiCheckboxField("開設する避難所（指定緊急避難場所）", validators=[Optional()])
    status_ja = TextAreaField("状況（日本語）", validators=[DataRequired("状況を日本語で書いてください。"),
                                                          Length(max=1000)])
    status_en = TextAreaField("状況（English）", validators=[DataRequired("状況を英語でも書いてください。"),
                                                           Length(max=1000)])
    status_easy_ja = TextAreaField("状況（やさしい日本語）",
                                   validators=[DataRequired("状況をやさしい日本語でも書いてください。"),
                                               Length(max=1000)])
    hazard_id: str | None = None  # set by the view for a change (the hazard of an incident is fixed)

    def setup(self, content_: Content) -> "IncidentChangeForm":
        self.level.choices = [SelectChoice(level, f"レベル{level} {inc.level_name(content_, 'ja', level)}")
                              for level in inc.LEVELS]
        self.districts.choices = [SelectChoice(d.id, d.name.get("ja")) for d in content_["settings"].districts]
        self.whole_city = not content_["settings"].has_divisions  # no divisions: every incident is city-wide
        if self.whole_city:
            self.districts.validators = [Optional()]
        self.sites = shelters_of(content_)
        self.shelters.choices = [SelectChoice(s.id, s.name) for s in self.sites.shelters]
        self.hazard_names = {h: inc.hazard_name(content_, "ja", h) for h in HAZARDS}
        return self

    def chosen_hazard(self) -> str | None:
        return self.hazard_id

    def validate_shelters(self, field: MultiCheckboxField) -> None:
        hazard = self.chosen_hazard()
        if hazard not in HAZARDS:
            return  # the hazard field reports it
        wrong = [site.name for i in field.data or [] if (site := self.sites.get(i)) and not site.designated_for(hazard)]
        if wrong:
            raise ValidationError(f"{'、'.join(wrong)} は{self.hazard_names[hazard]}の指定緊急避難場所ではありません。"
                                  f"{self.hazard_names[hazard]}に対応する避難所だけを開設できます。")

    def status(self) -> dict[str, str]:
        return {lang: _lines(getattr(self, f"status_{lang}").data).strip() for lang in LANGUAGES}

    def shelter_groups(self, content_: Content) -> list[dict[str, Any]]:
        """Sites grouped by district (settings order; one group in a city without divisions),
        each with whether it suits the chosen hazard."""
        hazard = self.chosen_hazard()
        chosen = set(self.shelters.data or [])
        districts = set(self.districts.data or [])

        def row(site: Any) -> dict[str, Any]:
            return {"id": site.id, "name": site.name, "hazards": " ".join(site.hazards),
                    "hazard_names": "・".join(self.hazard_names[h] for h in site.hazards),
                    "checked": site.id in chosen, "suitable": hazard is None or site.designated_for(hazard)}

        if self.whole_city:
            return [{"id": "all", "name": "市内全域", "open": True, "sites": [row(s) for s in self.sites.shelters]}]
        groups = []
        for district in content_["settings"].districts:
            sites = [s for s in self.sites.shelters if s.district == district.id]
            if sites:
                groups.append({"id": district.id, "name": district.name.get("ja"), "sites": [row(s) for s in sites],
                               "open": district.id in districts or any(s.id in chosen for s in sites)})
        return groups


class IncidentForm(IncidentChangeForm):
    hazard = SelectField("災害の種類", validators=[DataRequired("災害の種類を選んでください。")])
    training = BooleanField("訓練（テスト用の住民にだけ表示され、リッチメニューは切り替わりません）")

    def setup(self, content_: Content) -> "IncidentForm":
        super().setup(content_)
        self.hazard.choices = [SelectChoice(h, self.hazard_names[h]) for h in HAZARDS]
        return self

    def chosen_hazard(self) -> str | None:
        return self.hazard.data


class ConfirmForm(FlaskForm):
    """A button only (the CSRF token is the form)."""


T = TypeVar("T")


def _found(model: type[T], row_id: int) -> T:
    """The row, or 404 (also for an id no row can have: the routes' `id` converter keeps
    those out already; this is the second lock)."""
    row = db().get(model, row_id) if stored_id(row_id) is not None else None
    if row is None:
        abort(404)
    return row


def _incident(incident_id: int) -> inc.Incident:
    return _found(inc.Incident, incident_id)


@bp.get("/incidents")
def incidents():
    at = now()
    active = inc.active(db(), at, include_training=True)
    ended = db().scalars(select(inc.Incident).where(inc.Incident.ended_at.is_not(None), inc.Incident.ended_at <= at)
                         .order_by(inc.Incident.ended_at.desc(), inc.Incident.id.desc()).limit(RECENT_ENDED)).all()
    return _render("admin/incidents.html", active=active, ended=ended)


@bp.route("/incidents/new", methods=["GET", "POST"])
@requires("send")
def incident_new():
    content_ = content()
    form = IncidentForm().setup(content_)
    if request.method == "GET":
        form.level.data, form.hazard.data = 4, next(iter(HAZARDS))
    if form.validate_on_submit():
        try:
            incident = inc.declare(db(), hazard=form.hazard.data, level=form.level.data, districts=form.districts.data,
                                   shelters=form.shelters.data or [], status=form.status(), by=current_user.name,
                                   now=now(), training=form.training.data)
        except ValueError as exc:
            db().rollback()
            flash(f"発令できませんでした: {exc}", "error")
        else:
            audit("incident.declare", f"incident:{incident.id}", inc.declared(incident))
            db().commit()
            flash(f"{'【訓練】' if incident.training else ''}{Words(content_).level(incident.level)}（"
                  f"{Words(content_).hazard(incident.hazard)}）を発令しました。", "info")
            if not incident.shelters:
                flash("開設した避難所が選ばれていません。住民には「開いている避難所はありません」と案内されます。"
                      "避難所を開設したら、この画面の「変更」から追加してください。", "warning")
            _switch_menu()
            return redirect(url_for("admin.incident", incident_id=incident.id))
    status = 400 if request.method == "POST" else 200
    return _render("admin/incidents_form.html", status, form=form, incident=None,
                   groups=form.shelter_groups(content_))


def _change_form(incident: inc.Incident, content_: Content, formdata: bool) -> IncidentChangeForm:
    if formdata:
        form = IncidentChangeForm()
    else:
        form = IncidentChangeForm(formdata=None, level=incident.level, districts=list(incident.districts),
                                  shelters=list(incident.shelters),
                                  **{f"status_{lang}": incident.status.get(lang, "") for lang in LANGUAGES})
    form.hazard_id = incident.hazard
    return form.setup(content_)


@bp.get("/incidents/<id:incident_id>")
def incident(incident_id: int):
    row = _incident(incident_id)
    content_ = content()
    form = _change_form(row, content_, formdata=False) if can("send") and row.ended_at is None else None
    return _render("admin/incidents_detail.html", incident=row, form=form,
                   groups=form.shelter_groups(content_) if form else [])


@bp.post("/incidents/<id:incident_id>")
@requires("send")
def incident_change(incident_id: int):
    row = _incident(incident_id)
    content_ = content()
    if row.ended_at is not None:
        flash("この災害・避難情報はすでに解除されています。変更できません。", "error")
        return _render("admin/incidents_detail.html", 409, incident=row, form=None, groups=[])
    form = _change_form(row, content_, formdata=True)
    if not form.validate_on_submit():
        return _render("admin/incidents_detail.html", 400, incident=row, form=form,
                       groups=form.shelter_groups(content_))
    wanted = {"level": form.level.data, "districts": list(form.districts.data),
              "shelters": list(form.shelters.data or []),
              "status": form.status()}
    changed = {name: value for name, value in wanted.items() if getattr(row, name) != value}
    if not changed:
        flash("変更はありませんでした。", "info")
        return redirect(url_for("admin.incident", incident_id=row.id))
    detail = inc.changes(row, changed)
    try:
        inc.change(row, now(), **changed)
    except ValueError as exc:
        db().rollback()
        flash(f"変更できませんでした: {exc}", "error")
        return redirect(url_for("admin.incident", incident_id=incident_id))
    audit("incident.change", f"incident:{row.id}", detail)
    db().commit()
    flash("災害・避難情報を変更しました。住民への配信が必要なら「緊急配信」から行ってください。", "info")
    return redirect(url_for("admin.incident", incident_id=row.id))


@bp.get("/incidents/<id:incident_id>/end")
@requires("send")
def incident_end_confirm(incident_id: int):
    row = _incident(incident_id)
    if row.ended_at is not None:
        flash("この災害・避難情報はすでに解除されています。", "info")
        return redirect(url_for("admin.incident", incident_id=row.id))
    return _render("admin/incidents_end.html", incident=row, form=ConfirmForm())


@bp.post("/incidents/<id:incident_id>/end")
@requires("send")
def incident_end(incident_id: int):
    row = _incident(incident_id)
    if row.ended_at is not None:
        flash("この災害・避難情報はすでに解除されています。", "info")
        return redirect(url_for("admin.incident", incident_id=row.id))
    inc.end(row, now())
    audit("incident.end", f"incident:{row.id}", inc.ended(row))
    db().commit()
    flash("解除しました。住民へのお知らせは「解除のお知らせ」のテンプレートで配信できます。", "info")
    _switch_menu()
    return redirect(url_for("admin.incident", incident_id=row.id))


# -- the desk's home --------------------------------------------------------------------------------
def home() -> dict[str, Any]:
    """For the /admin home of every staff member: the active incidents; for those who send
    or approve, the broadcasts waiting for a second person (the one who can act sees it
    without opening 緊急配信) and how many friends registered no district."""
    values: dict[str, Any] = {"incidents": inc.active(db(), now(), include_training=True), "pending": [],
                              "words": Words(content())}
    if can("send") or can("approve"):
        values["pending"] = list(bc.pending(db()))
        values["no_district"] = rc.unreached_everywhere(db())
    return values
