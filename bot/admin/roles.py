"""Who may do what in the staff web UI: the one table of roles and permissions.

Pages name a permission (preferred) or roles:

    @bp.post("/broadcasts/<id:push_id>/send")
    @requires("send")              # desk and admin, from ROLE_PERMISSIONS
    def send_broadcast(push_id): ...

    @requires("desk", "admin")     # the same, by role names

A name that is neither a role nor a permission fails at import time, so a typo can
never quietly open or close a page. Templates get `can("send")` to show only what the
user may use.
"""

from __future__ import annotations

from functools import wraps
from typing import Any, Callable

from flask import abort, current_app
from flask_login import current_user

PERMISSION_LABELS: dict[str, str] = {
    "view": "閲覧",
    "send": "配信",
    "approve": "承認",
    "edit_content": "コンテンツ編集",
    "audit": "操作記録の閲覧",
    "manage_users": "職員アカウント管理",
}

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    "admin": frozenset({"view", "send", "approve", "edit_content", "audit", "manage_users"}),
    "desk": frozenset({"view", "send", "approve"}),  # 窓口: the staff who answer residents' calls
    "editor": frozenset({"view", "edit_content"}),
    "viewer": frozenset({"view", "audit"}),
}

ROLE_LABELS: dict[str, str] = {
    "admin": "管理者",
    "desk": "窓口担当",
    "editor": "編集担当",
    "viewer": "閲覧のみ",
}

# 現場担当 (field): staff out in the city, who see like a viewer and do what a service's
# permission gives them (handlers/reports: update the reports of their kinds).
ROLE_PERMISSIONS["field"] = frozenset({"view"})
ROLE_LABELS["field"] = "現場担当"

ROLES: tuple[str, ...] = tuple(ROLE_PERMISSIONS)

assert set(ROLE_LABELS) == set(ROLE_PERMISSIONS)
assert set().union(*ROLE_PERMISSIONS.values()) == set(PERMISSION_LABELS)


def add_permission(name: str, label: str, roles: tuple[str, ...] | list[str] = ("admin",)) -> None:
    """A permission a service's pages need (their admin.py, before the pages that name it),
    given to `roles`; admin always has it."""
    unknown = [role for role in roles if role not in ROLE_PERMISSIONS]
    if unknown:
        raise ValueError(f"permission {name!r}: unknown role(s) {', '.join(unknown)} (the roles: {', '.join(ROLES)})")
    PERMISSION_LABELS[name] = label
    for role in {"admin", *roles}:
        ROLE_PERMISSIONS[role] = ROLE_PERMISSIONS[role] | {name}


def permissions_of(role: str | None) -> frozenset[str]:
    return ROLE_PERMISSIONS.get(role or "", frozenset())


def allowed(role: str | None, names: tuple[str, ...] | list[str]) -> bool:
    """True when `role` is one of the role names or has one of the permissions."""
    return bool(role) and any(name == role or name in permissions_of(role) for name in names)


def can(permission: str, user: Any = None) -> bool:
    """Whether the user (default: the logged-in one) has a permission or is in a role."""
    _check_names((permission,))
    user = current_user if user is None else user
    return bool(user and user.is_authenticated and allowed(user.role, (permission,)))


def _check_names(names: tuple[str, ...]) -> None:
    unknown = [n for n in names if n not in ROLE_PERMISSIONS and n not in PERMISSION_LABELS]
    if not names or unknown:
        raise ValueError(f"unknown role or permission {unknown or '(none given)'}: "
                         f"roles {', '.join(ROLES)}; permissions {', '.join(PERMISSION_LABELS)}")


def requires(*names: str) -> Callable:
    """Allow a view only to users with one of the named roles or permissions (else 403).

    Login itself is enforced for every /admin endpoint by bot.admin's guard; this adds the
    role check. The names are kept on the view as `required` for tests and listings.
    """
    _check_names(names)

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return current_app.login_manager.unauthorized()  # type: ignore[attr-defined]
            if not allowed(current_user.role, names):
                abort(403)
            return view(*args, **kwargs)

        wrapped.required = names  # type: ignore[attr-defined]
        return wrapped

    return decorate
