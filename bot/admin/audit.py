"""The audit log: who did what, when, from where.

    audit("broadcast.send", f"push:{push.id}", {"segment": "kita", "residents": 1234})
    db().commit()

`audit()` only adds the entry to the session: it is committed with what it records, or
not at all. In a request it defaults to the request's session (bot.admin.db()), the
logged-in user as actor and the client address; elsewhere (the CLI) pass `session=` and
`actor="system"`. Keys that look like secrets are dropped from `detail`, whatever a page
passes. Action names are dotted, subject first: login.ok, login.failed, login.blocked,
logout, session.expired, user.add, user.role, user.disable, user.enable, user.password.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from flask import has_request_context, request
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .models import AuditEntry

SECRET_WORDS = ("password", "passwd", "secret", "token", "csrf")


def audit(action: str, target: str | None = None, detail: dict[str, Any] | None = None, *,
          actor: str | None = None, session: Session | None = None, at: datetime | None = None) -> AuditEntry:
    """Record an action in the caller's transaction (no commit here)."""
    in_request = has_request_context()
    if session is None or at is None:
        if not in_request:
            raise RuntimeError("outside a request, audit() needs session= and at=")
        from . import db, now

        session = session or db()
        at = at or now()
    if actor is None:
        actor = "system"
        if in_request:
            from flask_login import current_user

            if current_user and current_user.is_authenticated:
                actor = current_user.name
    entry = AuditEntry(at=at, actor=actor[:64], action=action[:64],
                       target=None if target is None else str(target)[:200],
                       detail=_without_secrets(detail) if detail else None,
                       remote_addr=(request.remote_addr or None) if in_request else None)
    session.add(entry)
    return entry


def _without_secrets(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _without_secrets(v) for k, v in value.items()
                if not any(word in str(k).lower() for word in SECRET_WORDS)}
    if isinstance(value, (list, tuple)):
        return [_without_secrets(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).isoformat()
    return str(value)


@dataclass
class Page:
    entries: list[AuditEntry]
    page: int
    pages: int
    total: int
    per_page: int

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def entries(session: Session, *, page: int = 1, per_page: int = 50, actor: str | None = None,
            action: str | None = None, target: str | None = None) -> Page:
    """Newest first; `action` matches exactly or as a prefix ending in "." ("login.")."""
    conditions = []
    if actor:
        conditions.append(AuditEntry.actor == actor)
    if action:
        conditions.append(AuditEntry.action.startswith(action, autoescape=True) if action.endswith(".")
                          else AuditEntry.action == action)
    if target:
        conditions.append(AuditEntry.target == target)
    total = session.scalar(select(func.count()).select_from(AuditEntry).where(*conditions)) or 0
    pages = max(1, math.ceil(total / per_page))
    page = min(max(1, page), pages)
    rows = session.scalars(select(AuditEntry).where(*conditions).order_by(AuditEntry.id.desc())
                           .offset((page - 1) * per_page).limit(per_page)).all()
    return Page(list(rows), page, pages, total, per_page)
