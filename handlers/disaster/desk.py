"""The disaster desk in /admin: incidents (災害・避難情報) and emergency broadcasts (緊急配信).

Incidents: everyone with `view` sees the active and recently ended ones; `send` declares
one (hazard, alert level, districts, the evacuation sites opened — only sites designated
for that hazard —, a status text per language, training or not), changes it and ends it
after a confirmation. The rich menu is switched right after a declaration or an end
(bot.disaster.mode.sync_menu); a LINE error there is only a warning, the clock retries.

Broadcasts follow bot.disaster.broadcasts, which holds the state machine and the
once-only guarantees; these views only collect forms and call it:

    compose (template + incident -> texts per language, editable; target; training)
    -> preview (the messages exactly as sent, the count, and how many friends a district or
       segment cannot reach, with a one-click switch to all friends) -> submit for approval
    -> another desk user approves (sent) or rejects; the author cancels, or, as a lead,
       sends alone with a written reason
    -> the detail page polls /admin/broadcasts/<id>/progress (static/desk.js)

The compose page gets a `form_key` (a uuid) when it is first rendered; it travels through
the preview, so a form submitted twice stores one broadcast. A hidden digest of what was
previewed makes sure what is submitted is what the desk saw: change a text after the
preview and the page asks to look again. Every step is audited in the transaction that
makes it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from datetime import date, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import (
    BooleanField,
    HiddenField,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from ..content.models import LANGUAGES
from ..content.store import Content
from ..disaster import broadcasts as bc
from ..disaster import incidents as inc
from ..disaster import reach as rc
from ..disaster.mode import MenuNotOnLine, sync_menu
from ..disaster.shelters import HAZARDS, shelters_of
from ..messenger import LineError
from ..segments import segment_label
from . import bp, db, nav_item, now, services
from .audit import audit
from .ids import stored_id
from .roles import can, requires

log = logging.getLogger(__name__)

nav_item("災害・避難情報", "admin.incidents", "view",
         "発令中の災害・避難情報を確認し、発令・変更・解除を行います。")
nav_item("緊急配信", "admin.broadcasts", "view",
         "災害時のお知らせを作成し、別の職員の承認を得て住民に送ります。")

LANGUAGE_LABELS = {"ja": "日本語", "en": "English（英語）", "easy_ja": "やさしい日本語"}
TARGET_LABELS = {"all": "友だち全員（LINEの一斉配信）", "districts": "区を選ぶ", "segment": "登録済みのグループ"}
STATUS_LABELS = {"pending": "承認待ち", "sent": "送信済み", "rejected": "差し戻し", "cancelled": "取り消し"}
RECENT_ENDED = 20
RECENT_BROADCASTS = 20
ENDED_INCIDENTS_FOR_COMPOSE = timedelta(hours=24)  # 解除のお知らせ is composed after the end

ALREADY_DECIDED = ("この配信は、すでに他の職員が判断しています（送信・差し戻し・取り消しのいずれか）。"
                   "今回の操作では何も送信していません。")


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
        self.sites = shelters_of(content_) if "disaster/shelters" in content_.documents else None

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
        menus = content()["richmenu"]
        disaster = menus.disaster_menu
        flash("LINEのリッチメニューを災害用に切り替えました。" if disaster is not None and switched == disaster.alias
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
        """Sites grouped by district (settings order), each with whether it suits the chosen hazard."""
        hazard = self.chosen_hazard()
        chosen = set(self.shelters.data or [])
        districts = set(self.districts.data or [])
        groups = []
        for district in content_["settings"].districts:
            sites = [s for s in self.sites.shelters if s.district == district.id]
            if not sites:
                continue
            groups.append({
                "id": district.id, "name": district.name.get("ja"),
                "open": district.id in districts or any(s.id in chosen for s in sites),
                "sites": [{"id": s.id, "name": s.name, "hazards": " ".join(s.hazards),
                           "hazard_names": "・".join(self.hazard_names[h] for h in s.hazards),
                           "checked": s.id in chosen,
                           "suitable": hazard is None or s.designated_for(hazard)} for s in sites],
            })
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
            audit("incident.declare", f"incident:{incident.id}",
                  {"hazard": incident.hazard, "level": incident.level, "districts": incident.districts,
                   "shelters": len(incident.shelters), "training": incident.training})
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
    detail: dict[str, Any] = {name: {"from": getattr(row, name), "to": value} for name, value in changed.items()
                              if name != "status"}
    if "shelters" in detail:  # counts, not 100 ids
        detail["shelters"] = {"from": len(row.shelters), "to": len(changed["shelters"])}
    if "status" in changed:
        detail["status"] = "changed"
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
    audit("incident.end", f"incident:{row.id}", {"hazard": row.hazard, "level": row.level, "districts": row.districts,
                                                 "training": row.training})
    db().commit()
    flash("解除しました。住民へのお知らせは「解除のお知らせ」のテンプレートで配信できます。", "info")
    _switch_menu()
    return redirect(url_for("admin.incident", incident_id=row.id))


# -- broadcasts: composing -------------------------------------------------------------------------
class ComposeForm(FlaskForm):
    form_key = HiddenField(validators=[DataRequired("画面を開き直してください。"), Length(max=64)])
    template = HiddenField(validators=[DataRequired("テンプレートを選んでください。")])
    incident = HiddenField()
    text_ja = TextAreaField("日本語", validators=[DataRequired("日本語の文面を書いてください。"), Length(max=4900)])
    text_en = TextAreaField("English（英語）",
                            validators=[DataRequired("英語の文面を書いてください。"), Length(max=4900)])
    text_easy_ja = TextAreaField("やさしい日本語", validators=[DataRequired("やさしい日本語の文面を書いてください。"),
                                                               Length(max=4900)])
    target = RadioField("配信先", choices=[SelectChoice(k, v) for k, v in TARGET_LABELS.items()], default="districts",
                        validators=[DataRequired("配信先を選んでください。")])
    districts = MultiCheckboxField("区")      # no Optional(): it would skip validate_districts
    segment = SelectField("グループ（content/segments.yaml）", default="")
    training = BooleanField("訓練（テスト用の住民だけに、文頭に【訓練】をつけて送ります）")
    checked = HiddenField()  # the digest of what the preview showed
    preview = SubmitField("内容を確認する")
    switch_all = SubmitField("友だち全員（LINEの一斉配信）に切り替える")
    submit = SubmitField("承認を依頼する")

    def setup(self, content_: Content) -> "ComposeForm":
        self.districts.choices = [SelectChoice(d.id, d.name.get("ja")) for d in content_["settings"].districts]
        self.segment.choices = [SelectChoice("", "選んでください")] + [
            SelectChoice(name, segment_label(content_, name)) for name in content_["segments"].segments]
        self.template_ids = [t.id for t in content_["disaster"].templates]
        return self

    def validate_template(self, field: HiddenField) -> None:
        if field.data not in self.template_ids:
            raise ValidationError("テンプレートを選び直してください。")

    def validate_districts(self, field: MultiCheckboxField) -> None:
        if self.target.data == "districts" and not field.data:
            raise ValidationError("配信する区を1つ以上選んでください。")

    def validate_segment(self, field: SelectField) -> None:
        if self.target.data == "segment" and not field.data:
            raise ValidationError("配信するグループを選んでください。")

    def texts(self) -> dict[str, str]:
        return {lang: _lines(getattr(self, f"text_{lang}").data) for lang in LANGUAGES}

    def audience(self) -> bc.Audience:
        target = self.target.data
        return bc.Audience(target, tuple(self.districts.data or ()) if target == "districts" else (),
                           self.segment.data if target == "segment" else None, bool(self.training.data))

    def incident_id(self) -> int | None:
        return stored_id(self.incident.data)

    def digest(self) -> str:
        audience = self.audience()
        shown = {"template": self.template.data, "incident": self.incident_id(),
                 "texts": {lang: text.strip() for lang, text in self.texts().items()},
                 "target": audience.target, "districts": sorted(audience.districts), "segment": audience.segment,
                 "training": audience.training}
        return hashlib.sha256(json.dumps(shown, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def _compose_incidents(at) -> list[inc.Incident]:
    """Active incidents (training ones too), then those ended in the last day (for 解除のお知らせ)."""
    active = inc.active(db(), at, include_training=True)
    ended = db().scalars(select(inc.Incident).where(inc.Incident.ended_at.is_not(None), inc.Incident.ended_at <= at,
                                                    inc.Incident.ended_at > at - ENDED_INCIDENTS_FOR_COMPOSE)
                         .order_by(inc.Incident.ended_at.desc())).all()
    return [*active, *ended]


def _compose_page(form: ComposeForm, status: int = 200, shown: dict[str, Any] | None = None):
    content_ = content()
    incident_id = form.incident_id()
    return _render("admin/broadcasts_compose.html", status, form=form, shown=shown,
                   templates=content_["disaster"].templates, incidents=_compose_incidents(now()),
                   chosen_incident=db().get(inc.Incident, incident_id) if incident_id else None)


@bp.route("/broadcasts/new", methods=["GET", "POST"])
@requires("send")
def broadcast_new():
    content_ = content()
    if request.method == "GET":
        templates = content_["disaster"].templates
        template_id = request.args.get("template") or templates[0].id
        if content_["disaster"].template(template_id) is None:
            flash("そのテンプレートはありません。一覧から選んでください。", "error")
            template_id = templates[0].id
        asked = request.args.get("incident")
        incident_id = stored_id(asked)
        incident = db().get(inc.Incident, incident_id) if incident_id else None
        if asked and (incident is None or incident not in _compose_incidents(now())):
            flash("その災害・避難情報は選べません（解除から1日以上たったか、ありません）。", "error")
            incident = None
        texts = bc.fill(content_, template_id, incident)
        form = ComposeForm(formdata=None, form_key=uuid.uuid4().hex, template=template_id,
                           incident=str(incident.id) if incident else "",
                           target="districts" if incident else "all",
                           districts=list(incident.districts) if incident else [],
                           training=bool(incident and incident.training),
                           **{f"text_{lang}": texts[lang] for lang in LANGUAGES}).setup(content_)
        return _compose_page(form)

    form = ComposeForm().setup(content_)
    if form.switch_all.data:  # the preview's one-click answer to "N friends are not reached"
        form.target.data, form.districts.data, form.segment.data = "all", [], ""
        flash("配信先を「友だち全員（LINEの一斉配信）」に切り替えました。下の確認内容を見てから「承認を依頼する」を押してください。",
              "info")
    if not form.validate_on_submit():
        return _compose_page(form, 400)
    if (form.incident.data or "").strip() and (form.incident_id() is None
                                               or db().get(inc.Incident, form.incident_id()) is None):
        flash("その災害・避難情報はありません。テンプレートと災害・避難情報を選び直してください。", "error")
        form.incident.data = ""
        return _compose_page(form, 400)
    audience, texts = form.audience(), form.texts()
    try:
        shown = bc.preview(db(), content_, texts, audience, today(), incident_id=form.incident_id())
    except ValueError as exc:
        flash(f"この内容では配信できません: {exc}", "error")
        return _compose_page(form, 400)
    digest = form.digest()
    if form.submit.data:
        if form.checked.data != digest:
            flash("確認したあとに内容が変わりました。下の確認内容を見直してから、もう一度「承認を依頼する」を押してください。",
                  "warning")
        else:
            row, created = bc.submit(db(), content_, form_key=form.form_key.data, template=form.template.data,
                                     texts=texts, audience=audience, incident_id=form.incident_id(),
                                     by=current_user.name, now=now(), on=today())
            if created:
                audit("broadcast.submit", f"broadcast:{row.id}",
                      {"template": row.template, "incident": row.incident_id, "target": row.target,
                       "districts": row.districts, "segment": row.segment, "training": row.training,
                       "audience": row.audience})
                db().commit()
                flash("承認を依頼しました。別の窓口担当が承認すると送信されます。", "info")
            else:
                db().rollback()
                flash("この配信はすでに承認依頼されています（同じ画面からの二度目の送信なので、新しくは作っていません）。",
                      "info")
            return redirect(url_for("admin.broadcast", broadcast_id=row.id))
    form.checked.data = digest
    return _compose_page(form, shown=shown)


# -- broadcasts: the list, a broadcast, its decisions ----------------------------------------------
class AloneForm(FlaskForm):
    reason = TextAreaField("単独で送信する理由（必須・操作記録に残ります）", validators=[Length(max=2000)])


class RejectForm(FlaskForm):
    reason = TextAreaField("差し戻す理由（任意）", validators=[Length(max=2000)])


def _broadcast(broadcast_id: int) -> bc.Broadcast:
    return _found(bc.Broadcast, broadcast_id)


@bp.get("/broadcasts")
def broadcasts():
    recent = db().scalars(select(bc.Broadcast).where(bc.Broadcast.status != "pending")
                          .order_by(bc.Broadcast.id.desc()).limit(RECENT_BROADCASTS)).all()
    return _render("admin/broadcasts.html", pending=bc.pending(db()), recent=recent)


def _detail(row: bc.Broadcast, status: int = 200, alone_form: AloneForm | None = None):
    mine = row.created_by == current_user.name
    pending = row.status == "pending"
    return _render("admin/broadcasts_detail.html", status, row=row, mine=mine,
                   reach=rc.reach(db(), content(), bc.audience_of(row), today()) if pending else None,
                   messages=bc.messages_for(content(), row.texts, row.training),
                   line_broadcast=bc.audience_of(row).via_line_broadcast(),
                   incident=db().get(inc.Incident, row.incident_id) if row.incident_id else None,
                   progress=bc.progress(db(), row.push_id) if row.status == "sent" else None,
                   confirm_form=ConfirmForm(), reject_form=RejectForm(formdata=None),
                   alone_form=alone_form or AloneForm(formdata=None),
                   can_alone=mine and bool(current_user.lead) and can("approve"))


@bp.get("/broadcasts/<id:broadcast_id>")
def broadcast(broadcast_id: int):
    return _detail(_broadcast(broadcast_id))


@bp.get("/broadcasts/<id:broadcast_id>/progress")
def broadcast_progress(broadcast_id: int):
    row = _broadcast(broadcast_id)
    return jsonify({**bc.progress(db(), row.push_id), "status": row.status})


def _refused(row: bc.Broadcast, message: str, status: int = 409, alone_form: AloneForm | None = None):
    db().rollback()
    flash(message, "error")
    return _detail(row, status, alone_form)


def _decided(row: bc.Broadcast, push_id: int | None, action: str, detail: dict[str, Any], done: str):
    if push_id is None:
        db().rollback()
        flash(ALREADY_DECIDED, "warning")
        return redirect(url_for("admin.broadcast", broadcast_id=row.id))
    audit(action, f"broadcast:{row.id}", {"push": push_id, "author": row.created_by, "target": row.target,
                                          "audience": row.audience, "training": row.training, **detail})
    db().commit()
    flash(done, "info")
    return redirect(url_for("admin.broadcast", broadcast_id=row.id))


@bp.post("/broadcasts/<id:broadcast_id>/approve")
@requires("approve")
def broadcast_approve(broadcast_id: int):
    row = _broadcast(broadcast_id)
    try:
        push_id = bc.approve(db(), content(), row, by=current_user.name, now=now(), on=today())
    except bc.NotAllowed as exc:
        return _refused(row, str(exc))
    return _decided(row, push_id, "broadcast.approve", {}, "承認しました。送信を始めます。")


@bp.post("/broadcasts/<id:broadcast_id>/approve-alone")
@requires("approve")
def broadcast_approve_alone(broadcast_id: int):
    row = _broadcast(broadcast_id)
    form = AloneForm()
    if not form.validate_on_submit():
        return _refused(row, "理由は2000文字までで書いてください。", 400, form)
    if row.created_by != current_user.name:
        return _refused(row, "単独での送信は、配信を作成した責任者だけが行えます。"
                             "承認する場合は「承認して送信」を押してください。")
    reason = (form.reason.data or "").strip()
    try:
        push_id = bc.approve(db(), content(), row, by=current_user.name, now=now(), on=today(),
                             alone_reason=reason, is_lead=bool(current_user.lead))
    except bc.NotAllowed as exc:
        return _refused(row, str(exc), alone_form=form)
    return _decided(row, push_id, "broadcast.approve_alone", {"reason": reason},
                    "責任者として単独で送信しました。理由は操作記録に残ります。")


@bp.post("/broadcasts/<id:broadcast_id>/reject")
@requires("approve")
def broadcast_reject(broadcast_id: int):
    row = _broadcast(broadcast_id)
    form = RejectForm()
    if not form.validate_on_submit():
        return _refused(row, "理由は2000文字までで書いてください。", 400)
    if row.created_by == current_user.name:
        return _refused(row, "自分が作成した配信は「取り消す」で取り消してください。")
    if not bc.reject(db(), row, by=current_user.name, now=now()):
        db().rollback()
        flash(ALREADY_DECIDED, "warning")
        return redirect(url_for("admin.broadcast", broadcast_id=row.id))
    audit("broadcast.reject", f"broadcast:{row.id}", {"author": row.created_by,
                                                      "reason": (form.reason.data or "").strip() or None})
    db().commit()
    flash("差し戻しました。作成者に伝えてください。", "info")
    return redirect(url_for("admin.broadcast", broadcast_id=row.id))


@bp.post("/broadcasts/<id:broadcast_id>/cancel")
@requires("send")
def broadcast_cancel(broadcast_id: int):
    row = _broadcast(broadcast_id)
    if row.created_by != current_user.name:
        return _refused(row, "取り消せるのは作成した職員だけです。送らない場合は「差し戻す」を押してください。")
    if not bc.reject(db(), row, by=current_user.name, now=now(), status="cancelled"):
        db().rollback()
        flash(ALREADY_DECIDED, "warning")
        return redirect(url_for("admin.broadcast", broadcast_id=row.id))
    audit("broadcast.cancel", f"broadcast:{row.id}")
    db().commit()
    flash("取り消しました。この配信は送信されません。", "info")
    return redirect(url_for("admin.broadcast", broadcast_id=row.id))


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
