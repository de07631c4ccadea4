"""The tables of the staff web UI: who may log in, what they did, recent login tries.

Passwords are stored only as argon2 hashes (bot/admin/auth.py). A staff user's
`session_version` is part of the id their session cookie carries: raising it (logout,
password, role, lead, disable) makes every cookie issued before worthless at once, on
every browser and every web process, although the cookies themselves are stateless.
The audit log is
append-only by convention: nothing in citybot updates or deletes its rows. Login
attempts live in the database (not in a process's memory) so the login limit holds
across gunicorn workers and restarts; rows older than the limit's window are deleted.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask_login import UserMixin
from sqlalchemy import JSON, Index, Integer, String, false
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, UTCDateTime


class StaffUser(UserMixin, Base):
    """A member of city staff who logs in at /admin. `role` is a key of roles.ROLE_PERMISSIONS."""

    __tablename__ = "staff_users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)  # stored lower-case
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    disabled: Mapped[bool] = mapped_column(default=False)
    lead: Mapped[bool] = mapped_column(default=False)  # 責任者: may send a broadcast alone, with a written reason
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    session_version: Mapped[int] = mapped_column(Integer, default=0)  # raised to end every session
    # a temporary password (made by an admin) works for one thing only: setting one's own
    must_change_password: Mapped[bool] = mapped_column(default=False, server_default=false())

    @property
    def is_active(self) -> bool:  # Flask-Login: a disabled account cannot log in
        return not self.disabled

    def get_id(self) -> str:
        """What Flask-Login keeps in the session: "<id>:<session_version>" (see session_id())."""
        return session_id(self.id, self.session_version or 0)

    def end_sessions(self) -> None:
        """End every session of this account (at its next request), in the caller's
        transaction: an UPDATE ... SET session_version = session_version + 1, so two
        changes at once both count."""
        self.session_version = StaffUser.session_version + 1


def session_id(user_id: int, version: int) -> str:
    return f"{user_id}:{version}"


def parse_session_id(value: str) -> tuple[int, int] | None:
    """(id, session_version) from a session's user id; None for anything else (such as
    the bare ids of cookies issued before session versions existed)."""
    from .ids import stored_id

    user_id, sep, version = value.partition(":")
    if not sep or stored_id(user_id) is None or not (version.isascii() and version.isdigit()):
        return None
    return int(user_id), int(version)


class AuditEntry(Base):
    """One thing someone did: a login, a logout, later a broadcast sent or approved.

    `actor` is a staff name, "anonymous" (a failed login) or "system" (the CLI);
    `detail` never holds passwords or tokens (audit.audit() drops such keys).
    """

    __tablename__ = "audit_entries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str | None] = mapped_column(String(200))
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    remote_addr: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (Index("ix_audit_entries_at", "at"), Index("ix_audit_entries_actor", "actor"),
                      Index("ix_audit_entries_action", "action"))


class LoginAttempt(Base):
    """A login try, counted by the login limit while `failed` (a try in progress counts
    as failed until its password checked out, so parallel guesses cannot slip past)."""

    __tablename__ = "admin_login_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    name: Mapped[str] = mapped_column(String(64))
    remote_addr: Mapped[str] = mapped_column(String(64))
    failed: Mapped[bool] = mapped_column(default=True)

    __table_args__ = (Index("ix_admin_login_attempts_name", "name", "at"),
                      Index("ix_admin_login_attempts_addr", "remote_addr", "at"),
                      Index("ix_admin_login_attempts_at", "at"))
