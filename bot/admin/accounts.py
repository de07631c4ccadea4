"""Staff accounts, managed in /admin by admins (as `citybot users` does on the server).

An admin adds an account (name, role, lead or not), changes a role, makes a desk or admin
account a lead or not, disables and enables it, and resets its password. Nobody types a
password for someone else: adding an account and a reset make a random temporary one,
shown once on the page that answers the form (never in a redirect's flash, which would
carry it in the cookie), for the admin to hand over; it opens only 「パスワード変更」 (the
guard in __init__.py sends every other page there) until its owner sets their own, which
every account can do at any time.

Every change raises the account's session_version where its terms change (role, lead,
password, disable: StaffUser.end_sessions), so its open sessions end on every browser,
and every change is in the audit log in the same transaction — never a password. An
admin cannot change their own account here (another admin does it), so nobody locks the
last door behind them by a slip.
"""

from __future__ import annotations

import secrets

from flask import abort, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, logout_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import BooleanField, PasswordField, SelectChoice, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, EqualTo, Length, ValidationError

from . import bp, db, nav_item, now
from .audit import audit
from .auth import MIN_PASSWORD_LENGTH, check_new_name, hash_password, verify_password
from .models import StaffUser
from .roles import ROLE_LABELS, ROLES, allowed, requires

nav_item("職員アカウント", "admin.users", "manage_users",
         "職員の追加、役割・責任者の変更、アカウントの停止・再開、パスワードの再設定を行います。")

ROLE_CHOICES = [SelectChoice(r, ROLE_LABELS[r]) for r in ROLES]


def temporary_password() -> str:
    """16 characters from 96 random bits: easy to read out, impossible to guess."""
    return secrets.token_urlsafe(12)


class RoleForm(FlaskForm):
    role = SelectField("役割", choices=ROLE_CHOICES)
    submit = SubmitField("変更")


class AddForm(FlaskForm):
    name = StringField("名前（ログインに使う）", validators=[DataRequired("名前を入れてください。"), Length(max=64)])
    role = SelectField("役割", choices=ROLE_CHOICES, default="viewer")
    lead = BooleanField("責任者（緊急配信を理由を書いて単独で送信できる。窓口担当・管理者だけ）")

    def validate_name(self, field: StringField) -> None:
        try:
            field.data = check_new_name(field.data or "")
        except ValueError:
            raise ValidationError("名前は半角の英小文字・数字と . _ @ - で、64文字までです（例: sato.h）。") from None
        if db().scalar(select(StaffUser.id).where(StaffUser.name == field.data)) is not None:
            raise ValidationError(f"{field.data} というアカウントはすでにあります。")

    def validate_lead(self, field: BooleanField) -> None:
        if field.data and not allowed(self.role.data, ("approve",)):
            raise ValidationError("責任者にできるのは窓口担当と管理者だけです。")


class OwnPasswordForm(FlaskForm):
    current = PasswordField("いまのパスワード", validators=[DataRequired("いまのパスワードを入れてください。"),
                                                      Length(max=1024)])
    new = PasswordField(f"新しいパスワード（{MIN_PASSWORD_LENGTH}文字以上）",
                        validators=[DataRequired("新しいパスワードを入れてください。"),
                                    Length(min=MIN_PASSWORD_LENGTH, max=1024,
                                           message=f"{MIN_PASSWORD_LENGTH}文字以上にしてください。")])
    again = PasswordField("新しいパスワード（確認）", validators=[EqualTo("new", "確認のパスワードが一致しません。")])


def _users_page(add_form: AddForm | None = None, status: int = 200):
    rows = db().scalars(select(StaffUser).order_by(StaffUser.name)).all()
    forms = {user.id: RoleForm(formdata=None, role=user.role, prefix=f"u{user.id}") for user in rows}
    return render_template("admin/users.html", users=rows, role_forms=forms,
                           add_form=add_form or AddForm(formdata=None)), status


def _password_page(user: StaffUser, password: str, added: bool):
    return render_template("admin/user_password.html", user=user, password=password, added=added)


@bp.get("/users")
@requires("manage_users")
def users():
    return _users_page()


@bp.post("/users")
@requires("manage_users")
def add_user():
    form = AddForm()
    if not form.validate_on_submit():
        return _users_page(form, 400)
    password = temporary_password()
    user = StaffUser(name=form.name.data, password_hash=hash_password(password), role=form.role.data,
                     disabled=False, lead=bool(form.lead.data), created_at=now(), must_change_password=True)
    db().add(user)
    audit("user.add", f"staff:{user.name}", {"role": user.role, **({"lead": True} if user.lead else {})})
    db().commit()
    return _password_page(user, password, added=True)


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
        detail = {"from": old, "to": new}
        if user.lead and not allowed(new, ("approve",)):  # a lead sends broadcasts: not as an editor or viewer
            user.lead = False
            detail["lead"] = False
        user.end_sessions()
        audit("user.role", f"staff:{user.name}", detail)
        db().commit()
        flash(f"{user.name} の役割を「{ROLE_LABELS[new]}」にしました。", "info")
    return redirect(url_for("admin.users"))


@bp.post("/users/<id:user_id>/lead")
@requires("manage_users")
def set_lead(user_id: int):
    user = _other_user(user_id)
    lead = request.form.get("lead") == "on"
    if lead and not allowed(user.role, ("approve",)):
        flash("責任者にできるのは窓口担当と管理者だけです。", "error")
        return redirect(url_for("admin.users"))
    if user.lead != lead:
        user.lead = lead
        user.end_sessions()
        audit("user.lead", f"staff:{user.name}", {"lead": lead})
        db().commit()
        flash(f"{user.name} を{'責任者にしました' if lead else '責任者から外しました'}。", "info")
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


@bp.post("/users/<id:user_id>/password")
@requires("manage_users")
def reset_password(user_id: int):
    user = _other_user(user_id)
    password = temporary_password()
    user.password_hash = hash_password(password)
    user.must_change_password = True
    user.end_sessions()
    audit("user.password", f"staff:{user.name}")
    db().commit()
    return _password_page(user, password, added=False)


# -- one's own password -------------------------------------------------------------------------------
@bp.route("/account/password", methods=["GET", "POST"])
def own_password():
    """Every account sets its own password (after a temporary one, or whenever): then logs in
    again with it, as every other session of the account ends."""
    form = OwnPasswordForm()
    if not form.validate_on_submit():
        return render_template("admin/own_password.html", form=form), 400 if request.method == "POST" else 200
    user = db().get(StaffUser, current_user.id)
    if not verify_password(user.password_hash, form.current.data or ""):
        form.current.errors = ["いまのパスワードが違います。"]
        return render_template("admin/own_password.html", form=form), 400
    user.password_hash = hash_password(form.new.data)
    user.must_change_password = False
    user.end_sessions()
    audit("user.password", f"staff:{user.name}")
    db().commit()
    logout_user()
    session.clear()
    flash("パスワードを変更しました。新しいパスワードでログインしてください。", "info")
    return redirect(url_for("admin.login"))
