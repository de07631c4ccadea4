"""The disaster desk's emergency broadcasts (緊急配信) in /admin.

Broadcasts follow broadcasts.py, which holds the state machine and the
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
import uuid
from datetime import timedelta
from typing import Any

from flask import flash, jsonify, redirect, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import BooleanField, HiddenField, RadioField, SelectChoice, SelectField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, ValidationError

from bot.admin import bp, db, now
from bot.admin.audit import audit
from bot.admin.ids import stored_id
from bot.admin.roles import can, requires
from bot.content.models import LANGUAGES
from bot.content.store import Content
from bot.segments import segment_label

from . import broadcasts as bc
from . import incidents as inc
from . import reach as rc
from .desk import TARGET_LABELS, ConfirmForm, MultiCheckboxField, _found, _lines, _render, content, today

RECENT_BROADCASTS = 20
ENDED_INCIDENTS_FOR_COMPOSE = timedelta(hours=24)  # 解除のお知らせ is composed after the end

ALREADY_DECIDED = ("この配信は、すでに他の職員が判断しています（送信・差し戻し・取り消しのいずれか）。"
                   "今回の操作では何も送信していません。")


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
        shown = bc.preview(db(), content_, texts, audience, today(), incident_id=form.incident_id(),
                           template=form.template.data)
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
    recent = db().scalars(select(bc.Broadcast).where(bc.Broadcast.status != bc.BroadcastStatus.PENDING)
                          .order_by(bc.Broadcast.id.desc()).limit(RECENT_BROADCASTS)).all()
    return _render("admin/broadcasts.html", pending=bc.pending(db()), recent=recent)


def _detail(row: bc.Broadcast, status: int = 200, alone_form: AloneForm | None = None):
    mine = row.created_by == current_user.name
    pending = row.status == bc.BroadcastStatus.PENDING
    return _render("admin/broadcasts_detail.html", status, row=row, mine=mine,
                   reach=rc.reach(db(), content(), bc.audience_of(row), today()) if pending else None,
                   messages=bc.messages_for(content(), row.texts, row.training, row.template),
                   line_broadcast=bc.audience_of(row).via_line_broadcast(),
                   incident=db().get(inc.Incident, row.incident_id) if row.incident_id else None,
                   progress=bc.progress(db(), row.push_id) if row.status == bc.BroadcastStatus.SENT else None,
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
    if not bc.reject(db(), row, by=current_user.name, now=now(), status=bc.BroadcastStatus.CANCELLED):
        db().rollback()
        flash(ALREADY_DECIDED, "warning")
        return redirect(url_for("admin.broadcast", broadcast_id=row.id))
    audit("broadcast.cancel", f"broadcast:{row.id}")
    db().commit()
    flash("取り消しました。この配信は送信されません。", "info")
    return redirect(url_for("admin.broadcast", broadcast_id=row.id))
