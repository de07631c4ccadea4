"""`citybot reports field-kinds NAME [KIND ...]`: which reports a 現場担当 (field) account updates."""

from __future__ import annotations

from datetime import datetime, timezone

import click


def register(main: click.Group) -> None:
    @main.group("reports")
    def reports_group() -> None:
        """通報 (reports residents send): staff settings."""

    @reports_group.command("field-kinds")
    @click.argument("name")
    @click.argument("kinds", nargs=-1)
    @click.option("--clear", is_flag=True, help="take every kind away from the account")
    @click.pass_context
    def field_kinds(ctx: click.Context, name: str, kinds: tuple[str, ...], clear: bool) -> None:
        """Set the kinds of report (ids of content/reports.yaml: road, park …) a field account
        may update; without KINDS (and without --clear), print them."""
        from sqlalchemy import delete, select

        from bot.admin.audit import audit
        from bot.admin.models import StaffUser
        from bot.bootstrap import bootstrap

        from .tables import FieldKind

        svc = bootstrap(ctx.find_object(dict)["config"].with_(content_reload_seconds=0))
        try:
            known = {k.id: k.label.ja for k in svc.content.current()["reports"].kinds}
            unknown = [k for k in kinds if k not in known]
            if unknown:
                raise click.BadParameter(f"{', '.join(unknown)}: the kinds are {', '.join(known)}", param_hint="KINDS")
            with svc.sessions() as session:
                user = session.scalars(select(StaffUser).where(StaffUser.name == name.lower())).first()
                if user is None:
                    raise click.ClickException(f"no staff account {name!r}")
                if kinds or clear:
                    if user.role != "field":
                        click.echo(f"note: {user.name} is {user.role}, not field; the kinds matter only to field "
                                   f"accounts (citybot users set-role {user.name} field)", err=True)
                    session.execute(delete(FieldKind).where(FieldKind.staff_user_id == user.id))
                    session.add_all(FieldKind(staff_user_id=user.id, kind=k) for k in dict.fromkeys(kinds))
                    audit("user.field_kinds", f"staff:{user.name}", {"kinds": list(dict.fromkeys(kinds))},
                          actor="system", session=session, at=datetime.now(timezone.utc))
                    session.commit()
                current = session.scalars(select(FieldKind.kind).where(FieldKind.staff_user_id == user.id)).all()
                shown = ", ".join(f"{k} ({known.get(k, '?')})" for k in sorted(current)) or "(none)"
                click.echo(f"{user.name}: {shown}")
        finally:
            svc.close()
