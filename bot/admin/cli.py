"""`citybot users ...`: staff accounts of the web UI, managed on the server.

Passwords are typed at a hidden prompt (twice) or read from stdin with
--password-stdin (one line, for scripts); they never appear as arguments, where `ps`
and shell history would show them. Every change is written to the audit log as
actor "system". A new password, a role or lead change and a disable end every open
session of the account (StaffUser.end_sessions): it logs in again, under the new terms.
"""

from __future__ import annotations

import sys
from datetime import datetime, timezone
from typing import Callable

import click
from sqlalchemy import select
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.orm import Session


def register_user_commands(main_group: click.Group) -> None:
    """Add `citybot users ...` to the command line."""
    from .roles import ROLE_LABELS, ROLES

    role_choice = click.Choice(list(ROLES))
    roles_help = ", ".join(f"{r} ({ROLE_LABELS[r]})" for r in ROLES)

    @main_group.group("users")
    def users_group() -> None:
        """Staff accounts of the web UI at /admin."""

    @users_group.command("add")
    @click.argument("name")
    @click.option("--role", required=True, type=role_choice, help=roles_help)
    @click.option("--password-stdin", is_flag=True, help="read the password from the first line of stdin")
    @click.option("--lead", is_flag=True, help="a lead (責任者): may send a broadcast alone, with a reason "
                                               "(desk or admin only)")
    @click.pass_context
    def add(ctx: click.Context, name: str, role: str, password_stdin: bool, lead: bool) -> None:
        """Add a staff account (the password is asked for, hidden)."""
        from .auth import check_new_name, hash_password
        from .models import StaffUser

        name = _checked(check_new_name, name, "NAME")
        if lead:
            _check_lead_role(role)
        password = _read_password(password_stdin)

        def run(session: Session, at: datetime) -> None:
            if session.scalar(select(StaffUser.id).where(StaffUser.name == name)) is not None:
                raise click.ClickException(f"there is already a staff account {name!r}")
            session.add(StaffUser(name=name, password_hash=hash_password(password), role=role, disabled=False,
                                  lead=lead, created_at=at))
            _audit(session, at, "user.add", name, {"role": role, **({"lead": True} if lead else {})})

        _with_session(ctx, run)
        click.echo(f"added {name} ({role}{', lead' if lead else ''})")

    @users_group.command("list")
    @click.pass_context
    def list_users(ctx: click.Context) -> None:
        """Every staff account: name, role, state, last login (UTC)."""
        from .models import StaffUser

        def run(session: Session, _at: datetime) -> None:
            rows = session.scalars(select(StaffUser).order_by(StaffUser.name)).all()
            if not rows:
                click.echo("no staff accounts yet: citybot users add NAME --role admin")
            for user in rows:
                last = user.last_login_at.strftime("%Y-%m-%d %H:%M") if user.last_login_at else "never"
                click.echo(f"{user.name:24} {user.role:8} {'disabled' if user.disabled else 'active':9} "
                           f"{'lead' if user.lead else '-':5} last login {last}")

        _with_session(ctx, run)

    @users_group.command("set-role")
    @click.argument("name")
    @click.argument("role", type=role_choice)
    @click.pass_context
    def set_role(ctx: click.Context, name: str, role: str) -> None:
        """Change a staff account's role (its open sessions end: it logs in again)."""

        def run(session: Session, at: datetime) -> None:
            user = _user(session, name)
            if user.role != role:
                _audit(session, at, "user.role", user.name, {"from": user.role, "to": role})
                user.role = role
                user.end_sessions()

        _with_session(ctx, run)
        click.echo(f"{name}: {role}")

    @users_group.command("set-lead")
    @click.argument("name")
    @click.argument("state", type=click.Choice(["on", "off"]))
    @click.pass_context
    def set_lead(ctx: click.Context, name: str, state: str) -> None:
        """Make a desk or admin account a lead (責任者: may send a broadcast alone, with a reason), or not."""
        lead = state == "on"

        def run(session: Session, at: datetime) -> None:
            user = _user(session, name)
            if lead:
                _check_lead_role(user.role)
            if user.lead != lead:
                user.lead = lead
                user.end_sessions()
                _audit(session, at, "user.lead", user.name, {"lead": lead})

        _with_session(ctx, run)
        click.echo(f"{name}: lead {state}")

    @users_group.command("disable")
    @click.argument("name")
    @click.pass_context
    def disable(ctx: click.Context, name: str) -> None:
        """Disable a staff account: it can no longer log in, and its open sessions end at once."""
        _set_disabled(ctx, name, True)

    @users_group.command("enable")
    @click.argument("name")
    @click.pass_context
    def enable(ctx: click.Context, name: str) -> None:
        """Enable a disabled staff account again."""
        _set_disabled(ctx, name, False)

    @users_group.command("set-password")
    @click.argument("name")
    @click.option("--password-stdin", is_flag=True, help="read the password from the first line of stdin")
    @click.pass_context
    def set_password(ctx: click.Context, name: str, password_stdin: bool) -> None:
        """Set a new password for a staff account (its open sessions end)."""
        from .auth import hash_password

        password = _read_password(password_stdin)

        def run(session: Session, at: datetime) -> None:
            user = _user(session, name)
            user.password_hash = hash_password(password)
            user.end_sessions()
            _audit(session, at, "user.password", user.name, None)

        _with_session(ctx, run)
        click.echo(f"{name}: password changed")


def _set_disabled(ctx: click.Context, name: str, disabled: bool) -> None:
    def run(session: Session, at: datetime) -> None:
        user = _user(session, name)
        if user.disabled != disabled:
            user.disabled = disabled
            if disabled:  # a session from before stays dead after an enable
                user.end_sessions()
            _audit(session, at, "user.disable" if disabled else "user.enable", user.name, None)

    _with_session(ctx, run)
    click.echo(f"{name}: {'disabled' if disabled else 'enabled'}")


def _check_lead_role(role: str) -> None:
    from .roles import allowed

    if not allowed(role, ("approve",)):
        raise click.ClickException(f"a lead sends broadcasts: only desk or admin accounts can be one, not {role}")


def _checked(check: Callable[[str], str], value: str, hint: str) -> str:
    try:
        return check(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint=hint) from None


def _read_password(from_stdin: bool) -> str:
    from .auth import check_new_password

    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    return _checked(check_new_password, password, "password")


def _user(session: Session, name: str):
    from .auth import normalize_name
    from .models import StaffUser

    user = session.scalar(select(StaffUser).where(StaffUser.name == normalize_name(name)))
    if user is None:
        raise click.ClickException(f"no staff account {name!r} (citybot users list)")
    return user


def _audit(session: Session, at: datetime, action: str, name: str, detail: dict | None) -> None:
    from .audit import audit

    audit(action, f"staff:{name}", {**(detail or {}), "via": "cli"}, actor="system", session=session, at=at)


def _with_session(ctx: click.Context, run: Callable[[Session, datetime], None]) -> None:
    """Run in one transaction against DATABASE_URL; the change and its audit entry commit together."""
    from ..db import make_engine, make_session_factory

    engine = make_engine(ctx.obj["config"].sqlalchemy_url)
    try:
        with make_session_factory(engine)() as session:
            run(session, datetime.now(timezone.utc))
            session.commit()
    except (OperationalError, ProgrammingError) as exc:
        raise click.ClickException(f"database: {exc.orig} (run `citybot db upgrade` first?)") from None
    finally:
        engine.dispose()
