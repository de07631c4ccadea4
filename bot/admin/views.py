"""The first pages: the audit log, staff accounts (admins only); the dashboard is in overview.py.

Login is required by bot.admin's guard for all of them; `@requires` adds the role check.
A role change or a disable ends every open session of that account (StaffUser.end_sessions).
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import SelectChoice, SelectField, SubmitField

from . import bp, db, nav_item
from .audit import audit, entries
from .models import StaffUser
from .roles import ROLE_LABELS, ROLES, requires

nav_item("操作記録", "admin.audit_log", "audit", "ログイン・ログアウトや各操作の記録を確認します。")
nav_item("職員アカウント", "admin.users", "manage_users", "職員の役割の変更、アカウントの停止・再開を行います。")


@bp.get("/audit")
@requires("audit")
def audit_log():
    page = entries(db(), page=request.args.get("page", 1, type=int),
                   actor=request.args.get("actor") or None, action=request.args.get("action") or None)
    return render_template("admin/audit.html", page=page, actor=request.args.get("actor", ""),
                           action=request.args.get("action", ""))


class RoleForm(FlaskForm):
    role = SelectField("役割", choices=[SelectChoice(r, ROLE_LABELS[r]) for r in ROLES])
    submit = SubmitField("変更")


@bp.get("/users")
@requires("manage_users")
def users():
    rows = db().scalars(select(StaffUser).order_by(StaffUser.name)).all()
    forms = {user.id: RoleForm(formdata=None, role=user.role, prefix=f"u{user.id}") for user in rows}
    return render_template("admin/users.html", users=rows, role_forms=forms)


def _other_user(user_id: int) -> StaffUser:
    user = db().get(StaffUser, user_id)
    if user is None:
        abort(404)
    if user.id == current_user.id:  # no locking oneself out by mistake: another admin does it
        flash("自分自身のアカウントはここでは変更できません。", "error")
        abort(redirect(url_for("admin.users")))
    return user


@bp.post("/users/<id:user_id>/role")
@requires("manage_users")
def set_role(user_id: int):
    user = _other_user(user_id)
    form = RoleForm(prefix=f"u{user.id}")
    if not form.validate_on_submit():
        flash("役割を選んでください。", "error")
        return redirect(url_for("admin.users"))
    old, new = user.role, form.role.data
    if old != new:
        user.role = new
        user.end_sessions()
        audit("user.role", f"staff:{user.name}", {"from": old, "to": new})
        db().commit()
        flash(f"{user.name} の役割を「{ROLE_LABELS[new]}」にしました。", "info")
    return redirect(url_for("admin.users"))


@bp.post("/users/<id:user_id>/disable")
@requires("manage_users")
def disable_user(user_id: int):
    return _set_disabled(_other_user(user_id), True)


@bp.post("/users/<id:user_id>/enable")
@requires("manage_users")
def enable_user(user_id: int):
    return _set_disabled(_other_user(user_id), False)


def _set_disabled(user: StaffUser, disabled: bool):
    if user.disabled != disabled:  # the CSRF token was checked by the guard
        user.disabled = disabled
        if disabled:  # a session from before stays dead after an enable
            user.end_sessions()
        audit("user.disable" if disabled else "user.enable", f"staff:{user.name}")
        db().commit()
        flash(f"{user.name} のアカウントを{'停止' if disabled else '再開'}しました。", "info")
    return redirect(url_for("admin.users"))

