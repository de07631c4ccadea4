"""よくある質問 in /admin: the questions the bot could not answer, so the city grows its answers.

Every role sees the list (text only — no resident, no LINE id — with how often and when it
was asked, and whether nobody had an answer or the answer given did not help) and how
often each prepared answer helped. Staff who edit content delete questions once they
have answered them in content/faq/questions.yaml (or decided not to); each deletion is
in the audit log.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from sqlalchemy import delete, select

from bot.admin import bp, db, nav_item, page_files, services
from bot.admin.audit import audit
from bot.admin.ids import stored_id
from bot.admin.roles import requires

from . import record
from .entries import QUESTIONS
from .tables import FaqFeedback, UnansweredQuestion

files = page_files(__name__)
nav_item("よくある質問", "admin.faq", "view", "チャットボットが答えられなかった質問を確認し、回答を増やします。")


@bp.get("/faq")
@requires("view")
def faq():
    questions = services().content.current()[QUESTIONS]
    titles = {e.id: e.question.ja for e in questions.questions}
    feedback = db().scalars(select(FaqFeedback).order_by((FaqFeedback.helpful + FaqFeedback.unhelpful).desc())).all()
    return render_template("admin/faq.html", unanswered=record.listed(db()), feedback=feedback, titles=titles,
                           entries=len(questions.questions))


@bp.post("/faq/unanswered/<id:question_id>/delete")
@requires("edit_content")
def faq_delete(question_id: int):
    row = db().get(UnansweredQuestion, question_id)
    if row is None:
        abort(404)
    audit("faq.unanswered.delete", f"faq-question:{row.id}", {"count": row.count})
    db().delete(row)
    db().commit()
    flash("質問を一覧から削除しました。", "info")
    return redirect(url_for("admin.faq"))


@bp.post("/faq/unanswered/delete")
@requires("edit_content")
def faq_delete_many():
    ids = [i for i in (stored_id(v) for v in request.form.getlist("id")) if i is not None]
    if not ids:
        flash("削除する質問を選んでください。", "error")
        return redirect(url_for("admin.faq"))
    done = db().execute(delete(UnansweredQuestion).where(UnansweredQuestion.id.in_(ids)))
    audit("faq.unanswered.delete", "faq-questions", {"rows": done.rowcount or 0})
    db().commit()
    flash(f"{done.rowcount or 0} 件の質問を一覧から削除しました。", "info")
    return redirect(url_for("admin.faq"))
