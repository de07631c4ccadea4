"""The tables of the staff web UI: who may log in, what they did, recent login tries.

Passwords are stored only as argon2 hashes (bot/admin/auth.py). The audit log is
append-only by convention: nothing in citybot updates or deletes its rows. Login
attempts live in the database (not in a process's memory) so the login limit holds
across gunicorn workers and restarts; rows older than the limit's window are deleted.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask_login import UserMixin
from sqlalchemy import JSON, Index, Integer, String
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

    @property
    def is_active(self) -> bool:  # Flask-Login: a disabled account cannot log in
        return not self.disabled


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
