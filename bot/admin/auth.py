"""Logging in and out of /admin: argon2 password hashes, the login limit, the audit.

- Passwords: argon2id via argon2-cffi's PasswordHasher (its current defaults). A hash
  made with older parameters is replaced at the next successful login.
- Unknown name, wrong password and disabled account get the same answer (and an
  unknown name is checked against a dummy hash, so timing tells nothing either).
- The login limit: at most ADMIN_LOGIN_LIMIT failed tries per name and
  ADMIN_LOGIN_IP_LIMIT per client address within ADMIN_LOGIN_WINDOW_MINUTES, counted in
  the database (all gunicorn workers share it). Each try is stored as failed *before*
  the password is checked and the limit counted after, so parallel guesses cannot
  slip past; a success marks its own row only, it never clears earlier failures.
  Refused tries get 429 and are not counted themselves.
- The idle timeout and the absolute lifetime are enforced by bot.admin's guard; login
  starts both. Logout ends every session of the account (its session_version is
  raised), not only this browser's: a copied cookie dies with it.
"""

from __future__ import annotations

import math
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user
from flask_wtf import FlaskForm
from sqlalchemy import delete, select
from sqlalchemy.orm import Session
from wtforms import PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired, Length

from . import LOGIN_KEY, SEEN_KEY, bp, db, now, services
from .audit import audit
from .models import LoginAttempt, StaffUser

hasher = PasswordHasher()
NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._@-]{0,63}$")
MIN_PASSWORD_LENGTH = 10
BAD_LOGIN = "名前またはパスワードが違います。"
TOO_MANY = "ログインの失敗が続いたため、しばらくログインできません。{minutes}分後にもう一度お試しください。"


# -- passwords --------------------------------------------------------------------------------
def hash_password(password: str) -> str:
    return hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


_dummy_hash: str | None = None


def _burn_time(password: str) -> None:
    """Verify against a throwaway hash: an unknown name costs as long as a wrong password."""
    global _dummy_hash
    if _dummy_hash is None:
        _dummy_hash = hash_password(secrets.token_hex(16))
    verify_password(_dummy_hash, password)


def normalize_name(name: str) -> str:
    return name.strip().lower()


def check_new_name(name: str) -> str:
    name = normalize_name(name)
    if not NAME_PATTERN.match(name):
        raise ValueError("a name is 1-64 characters: letters, digits and . _ @ - (stored in lower case)")
    return name


def check_new_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > 1024:
        raise ValueError("a password has at most 1024 characters")
    return password


# -- the login limit ----------------------------------------------------------------------------
@dataclass(frozen=True)
class LoginLimit:
    per_name: int
    per_address: int
    window: timedelta

    @classmethod
    def from_config(cls, config) -> "LoginLimit":
        return cls(config.admin_login_limit, config.admin_login_ip_limit,
                   timedelta(minutes=config.admin_login_window_minutes))


@dataclass
class Refusal:
    until: datetime
    reason: str  # "name" or "address"

    def minutes(self, at: datetime) -> int:
        return max(1, math.ceil((self.until - at).total_seconds() / 60))


def start_attempt(db_session: Session, limit: LoginLimit, name: str, address: str,
                  at: datetime) -> tuple[LoginAttempt | None, Refusal | None]:
    """Store a try (as failed until proven otherwise), then count; a refused try is removed.

    Committed here, so other workers see this try while its password is being checked.
    """
    db_session.execute(delete(LoginAttempt).where(LoginAttempt.at < at - limit.window))
    attempt = LoginAttempt(at=at, name=name[:64], remote_addr=address[:64], failed=True)
    db_session.add(attempt)
    db_session.commit()
    since = at - limit.window
    refusal = None
    for reason, column, value, allowed in (("name", LoginAttempt.name, attempt.name, limit.per_name),
                                           ("address", LoginAttempt.remote_addr, attempt.remote_addr,
                                            limit.per_address)):
        earlier = db_session.scalars(
            select(LoginAttempt.at).where(column == value, LoginAttempt.failed.is_(True),
                                          LoginAttempt.at >= since, LoginAttempt.id != attempt.id)
            .order_by(LoginAttempt.at)).all()
        if len(earlier) >= allowed:
            until = earlier[len(earlier) - allowed] + limit.window  # when enough have aged out
            if refusal is None or until > refusal.until:
                refusal = Refusal(until, reason)
    if refusal is not None:
        db_session.delete(attempt)
        db_session.commit()
        return None, refusal
    return attempt, None


# -- views --------------------------------------------------------------------------------------
class LoginForm(FlaskForm):
    name = StringField("名前（ユーザー名）", validators=[DataRequired("名前を入力してください。"), Length(max=64)])
    password = PasswordField("パスワード", validators=[DataRequired("パスワードを入力してください。"),
                                                     Length(max=1024)])
    submit = SubmitField("ログイン")


def _safe_next(target: str | None) -> str:
    """Only a path under /admin on this site (never another host) is followed after login."""
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and parts.path.startswith("/admin/") \
                and not parts.path.startswith("/admin/login") and "\\" not in target:
            return parts.path + (f"?{parts.query}" if parts.query else "")
    return url_for("admin.dashboard")


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(_safe_next(request.args.get("next")))
    form = LoginForm()
    error, status = None, 200
    if form.validate_on_submit():
        error, status = _try_login(form)
        if error is None:
            return redirect(_safe_next(request.args.get("next")))
    elif request.method == "POST":
        status = 400
    return render_template("admin/login.html", form=form, error=error), status


def _try_login(form: LoginForm) -> tuple[str | None, int]:
    svc = services()
    session_db = db()
    at = now()
    name = normalize_name(form.name.data or "")[:64]
    password = form.password.data or ""
    address = request.remote_addr or "-"
    attempt, refusal = start_attempt(session_db, LoginLimit.from_config(svc.config), name, address, at)
    if refusal is not None:
        minutes = refusal.minutes(at)
        audit("login.blocked", f"staff:{name}", {"limit": refusal.reason, "retry_minutes": minutes},
              actor="anonymous")
        session_db.commit()
        return TOO_MANY.format(minutes=minutes), 429
    user = session_db.scalar(select(StaffUser).where(StaffUser.name == name))
    if user is None:
        _burn_time(password)
        ok, reason = False, "unknown_name"
    else:
        ok = verify_password(user.password_hash, password)
        reason = "wrong_password" if not ok else ("disabled" if user.disabled else None)
        ok = ok and not user.disabled
    if not ok:
        audit("login.failed", f"staff:{name}", {"reason": reason}, actor="anonymous")
        session_db.commit()
        return BAD_LOGIN, 401
    assert attempt is not None and user is not None
    attempt.failed = False
    detail = {"role": user.role}
    if hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
        detail["rehashed"] = True
    user.last_login_at = at
    session.clear()  # nothing from before the login survives it (also a new CSRF token)
    login_user(user)
    session.permanent = True
    session[SEEN_KEY] = session[LOGIN_KEY] = at.timestamp()
    audit("login.ok", f"staff:{user.name}", detail, actor=user.name)
    session_db.commit()
    return None, 200


@bp.post("/logout")
def logout():
    name = current_user.name
    audit("logout", f"staff:{name}")
    current_user.end_sessions()  # this cookie and any copy of it, on every browser
    db().commit()
    logout_user()
    session.clear()
    flash("ログアウトしました。", "info")
    return redirect(url_for("admin.login"))
